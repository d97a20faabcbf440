package io.marketintel.safety.packaging;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.reconciler.ExecutionPolicyReconciler;
import io.quarkiverse.operatorsdk.annotations.RBACRule;
import io.quarkiverse.operatorsdk.annotations.RBACVerbs;

/**
 * The operator's permissions as (API group, resource, verb) triples: what it needs, read from the same source
 * QOSDK generates its ClusterRole from, and what a set of rendered RBAC objects grants a ServiceAccount.
 */
final class OperatorRbac {
    private OperatorRbac() {
    }

    /** One verb on one resource of one API group ("" is the core group). */
    record Permission(String group, String resource, String verb) implements Comparable<Permission> {
        @Override
        public int compareTo(Permission o) {
            return toString().compareTo(o.toString());
        }

        @Override
        public String toString() {
            return (group.isEmpty() ? "core" : group) + "/" + resource + ":" + verb;
        }
    }

    /**
     * A permission granted in a scope: {@code namespace} null for cluster-wide (a ClusterRoleBinding), else the
     * namespace of the RoleBinding; {@code names} empty for any object, else only those (resourceNames).
     */
    record Grant(Permission permission, String namespace, Set<String> names, String via) {
        boolean clusterWide() {
            return namespace == null;
        }
    }

    /**
     * What the operator uses on its primary resource. QOSDK's generated rule grants every common verb on the
     * resource, its /status and /finalizers; the operator only reads policies (informer, and a fresh read before
     * each decision) and writes their status by server-side apply (a PATCH of /status). It never creates, updates
     * or deletes a policy (they are people's objects) and sets no finalizer. e2e/rbac-mutations.sh shows each of
     * these is needed.
     */
    static final Set<Permission> PRIMARY_RESOURCE_USED = Set.of(
            new Permission(ExecutionPolicy.GROUP, "executionpolicies", RBACVerbs.GET),
            new Permission(ExecutionPolicy.GROUP, "executionpolicies", RBACVerbs.LIST),
            new Permission(ExecutionPolicy.GROUP, "executionpolicies", RBACVerbs.WATCH),
            new Permission(ExecutionPolicy.GROUP, "executionpolicies/status", RBACVerbs.PATCH));

    /**
     * What the operator needs: every {@code @RBACRule} on {@link ExecutionPolicyReconciler} plus
     * {@link #PRIMARY_RESOURCE_USED}. The chart grants exactly this.
     */
    static Set<Permission> required() {
        Set<Permission> out = new TreeSet<>(PRIMARY_RESOURCE_USED);
        out.addAll(declared());
        return out;
    }

    /**
     * What QOSDK generates into target/kubernetes/kubernetes.yml: the {@code @RBACRule}s plus its rule for a
     * controller's primary resource (the resource, its /status and /finalizers, all common verbs).
     * ChartServerDryRunIT, which runs after the build, checks that this is what was generated.
     */
    static Set<Permission> generated() {
        Set<Permission> out = new TreeSet<>(declared());
        String plural = HasMetadata.getPlural(ExecutionPolicy.class);
        for (String resource : List.of(plural, plural + "/status", plural + "/finalizers")) {
            for (String verb : RBACVerbs.ALL_COMMON_VERBS) {
                out.add(new Permission(HasMetadata.getGroup(ExecutionPolicy.class), resource, verb));
            }
        }
        return out;
    }

    /** The {@code @RBACRule}s on {@link ExecutionPolicyReconciler}. */
    static Set<Permission> declared() {
        Set<Permission> out = new TreeSet<>();
        for (RBACRule rule : ExecutionPolicyReconciler.class.getAnnotationsByType(RBACRule.class)) {
            if (rule.resourceNames().length > 0 || rule.nonResourceURLs().length > 0) {
                throw new AssertionError("@RBACRule with resourceNames or nonResourceURLs: teach this test about it");
            }
            for (String group : rule.apiGroups()) {
                for (String resource : rule.resources()) {
                    for (String verb : rule.verbs()) {
                        out.add(new Permission(group, resource, verb));
                    }
                }
            }
        }
        return out;
    }

    /** The triples of a ClusterRole's rules (rendered YAML or a generated one). */
    static Set<Permission> permissions(JsonNode role) {
        Set<Permission> out = new TreeSet<>();
        for (JsonNode rule : role.path("rules")) {
            for (String group : strings(rule.path("apiGroups"))) {
                for (String resource : strings(rule.path("resources"))) {
                    for (String verb : strings(rule.path("verbs"))) {
                        out.add(new Permission(group, resource, verb));
                    }
                }
            }
        }
        return out;
    }

    /** Everything the rendered Roles and ClusterRoles grant, through the rendered bindings, to one ServiceAccount. */
    static List<Grant> grantedTo(List<JsonNode> objects, String namespace, String serviceAccount) {
        Map<String, JsonNode> clusterRoles = new HashMap<>();
        Map<String, JsonNode> roles = new HashMap<>();
        for (JsonNode o : objects) {
            String name = o.path("metadata").path("name").asText();
            switch (o.path("kind").asText()) {
                case "ClusterRole" -> clusterRoles.put(name, o);
                case "Role" -> roles.put(o.path("metadata").path("namespace").asText() + "/" + name, o);
                default -> {
                }
            }
        }
        List<Grant> grants = new ArrayList<>();
        for (JsonNode binding : objects) {
            String kind = binding.path("kind").asText();
            if (!kind.equals("ClusterRoleBinding") && !kind.equals("RoleBinding")) {
                continue;
            }
            boolean toOperator = false;
            for (JsonNode s : binding.path("subjects")) {
                toOperator |= s.path("kind").asText().equals("ServiceAccount") && s.path("name").asText().equals(serviceAccount)
                        && s.path("namespace").asText().equals(namespace);
            }
            if (!toOperator) {
                continue;
            }
            String bindingNs = kind.equals("RoleBinding") ? binding.path("metadata").path("namespace").asText() : null;
            JsonNode ref = binding.path("roleRef");
            JsonNode role = ref.path("kind").asText().equals("ClusterRole") ? clusterRoles.get(ref.path("name").asText())
                    : roles.get(bindingNs + "/" + ref.path("name").asText());
            String via = kind + " " + (bindingNs == null ? "" : bindingNs + "/") + binding.path("metadata").path("name").asText()
                    + " -> " + ref.path("kind").asText() + " " + ref.path("name").asText();
            if (role == null) {
                throw new AssertionError(via + ": the role is not rendered");
            }
            for (JsonNode rule : role.path("rules")) {
                if (rule.has("nonResourceURLs")) {
                    throw new AssertionError(via + " grants nonResourceURLs " + rule.path("nonResourceURLs"));
                }
                Set<String> names = new TreeSet<>(strings(rule.path("resourceNames")));
                for (String group : strings(rule.path("apiGroups"))) {
                    for (String resource : strings(rule.path("resources"))) {
                        for (String verb : strings(rule.path("verbs"))) {
                            grants.add(new Grant(new Permission(group, resource, verb), bindingNs, names, via));
                        }
                    }
                }
            }
        }
        return grants;
    }

    static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    static Set<Permission> parse(String... lines) {
        Set<Permission> out = new TreeSet<>();
        for (String line : lines) {
            String[] groupAndRest = line.split("/", 2);
            String[] resourceAndVerbs = groupAndRest[1].split(":", 2);
            String group = groupAndRest[0].equals("core") ? "" : groupAndRest[0];
            for (String verb : resourceAndVerbs[1].trim().split("\\s+")) {
                for (String resource : resourceAndVerbs[0].split(",")) {
                    out.add(new Permission(group, resource.trim(), verb));
                }
            }
        }
        return out;
    }

    static Set<String> set(String... values) {
        return new TreeSet<>(Arrays.asList(values));
    }
}
