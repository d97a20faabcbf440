package io.marketintel.safety.packaging;

import static io.marketintel.safety.packaging.OperatorRbac.parse;
import static io.marketintel.safety.packaging.OperatorRbac.set;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.marketintel.safety.packaging.OperatorRbac.Grant;
import io.marketintel.safety.packaging.OperatorRbac.Permission;
import io.marketintel.safety.testing.Helm;

/**
 * Least privilege of the chart's operator RBAC, both ways:
 * <ul>
 * <li>no fewer: every permission the operator declares (the {@code @RBACRule}s QOSDK turns into
 * target/kubernetes/kubernetes.yml, plus what it uses of its primary resource) is granted to the chart's
 * ServiceAccount, in the scope the operator uses it in;</li>
 * <li>no more: nothing outside {@link #ALLOWED} is granted, and nothing in a wider scope than needed (the Lease
 * only in the release namespace; with watchNamespaces, namespaced resources only in those namespaces and only
 * those Namespace objects).</li>
 * </ul>
 * A new {@code @RBACRule} fails the first check until the chart grants it, and the second until it is added
 * to {@link #ALLOWED} here: both are deliberate edits.
 */
class ChartRbacTest {
    static final String SA = "execution-safety-operator";

    /**
     * Everything the operator may be granted. Keep equal to the @RBACRules of ExecutionPolicyReconciler plus
     * OperatorRbac.PRIMARY_RESOURCE_USED (narrower than QOSDK's generated primary-resource rule, on purpose).
     */
    static final Set<Permission> ALLOWED = parse(
            // The primary resource: read, and status written by server-side apply (OperatorRbac.PRIMARY_RESOURCE_USED);
            // patched in its stop label only (StopMarks).
            "safety.marketintel.io/executionpolicies: get list watch patch",
            "safety.marketintel.io/executionpolicies/status: patch",
            "apps/deployments, statefulsets: get list watch patch",
            "apps/deployments/scale, statefulsets/scale: patch",
            "core/pods: list watch delete",
            "core/events: create",
            "core/configmaps, secrets: get",
            "networking.k8s.io/networkpolicies: list watch create patch delete",
            "core/namespaces: get list watch patch",
            "safety.marketintel.io/executionsafeties: get list watch",
            "safety.marketintel.io/executionsafeties/status: patch",
            "admissionregistration.k8s.io/validatingadmissionpolicies, validatingadmissionpolicybindings,"
                    + " mutatingadmissionpolicies, mutatingadmissionpolicybindings: get",
            "coordination.k8s.io/leases: get create update patch");

    /** Cluster-scoped resources: granted cluster-wide in every mode. */
    static final Set<String> CLUSTER_SCOPED = set("namespaces", "executionsafeties", "executionsafeties/status", "validatingadmissionpolicies",
            "validatingadmissionpolicybindings", "mutatingadmissionpolicies", "mutatingadmissionpolicybindings");
    /** Granted only in the release namespace (leader election). */
    static final Set<String> RELEASE_NAMESPACE_ONLY = set("leases");

    @Test
    void theAllowListIsWhatTheOperatorDeclares() {
        assertThat(OperatorRbac.required()).as("@RBACRules of ExecutionPolicyReconciler + primary resource vs ALLOWED")
                .containsExactlyInAnyOrderElementsOf(ALLOWED);
    }

    @Test
    void clusterWideByDefaultEveryDeclaredPermissionAndNothingMore() {
        List<Grant> grants = OperatorRbac.grantedTo(Helm.objects(), Helm.NAMESPACE, SA);
        List<String> missing = new ArrayList<>();
        for (Permission p : OperatorRbac.required()) {
            if (RELEASE_NAMESPACE_ONLY.contains(p.resource())) {
                expect(grants, p, Helm.NAMESPACE, Set.of(), missing);
            } else {
                expect(grants, p, null, Set.of(), missing);
            }
        }
        assertThat(missing).as("declared permissions the chart does not grant").isEmpty();
        assertNothingMore(grants, Set.of());
    }

    @Test
    void watchedNamespacesNarrowTheNamespacedRulesToThoseNamespaces() {
        Set<String> watched = set("trading", "research");
        List<Grant> grants = OperatorRbac.grantedTo(Helm.objects("--set", "watchNamespaces={trading,research}"),
                Helm.NAMESPACE, SA);
        List<String> missing = new ArrayList<>();
        for (Permission p : OperatorRbac.required()) {
            if (RELEASE_NAMESPACE_ONLY.contains(p.resource())) {
                expect(grants, p, Helm.NAMESPACE, Set.of(), missing);
            } else if (CLUSTER_SCOPED.contains(p.resource())) {
                // The kill switch watches each watched Namespace by name (a metadata.name field selector).
                expect(grants, p, null, p.resource().equals("namespaces") ? watched : Set.of(), missing);
            } else {
                watched.forEach(ns -> expect(grants, p, ns, Set.of(), missing));
            }
        }
        assertThat(missing).as("declared permissions the chart does not grant").isEmpty();
        assertNothingMore(grants, watched);
        assertThat(grants).filteredOn(Grant::clusterWide).as("cluster-wide grants are of cluster-scoped resources only")
                .allSatisfy(g -> assertThat(CLUSTER_SCOPED).as("%s (%s)", g.permission(), g.via()).contains(g.permission().resource()));
    }

    @Test
    void withoutReadSecretsNoRuleNamesSecrets() {
        List<JsonNode> objects = Helm.objects("--set", "rbac.readSecrets=false");
        List<Grant> grants = OperatorRbac.grantedTo(objects, Helm.NAMESPACE, SA);
        assertThat(grants).extracting(g -> g.permission().resource()).doesNotContain("secrets").contains("configmaps");
        Set<Permission> all = new TreeSet<>();
        grants.forEach(g -> all.add(g.permission()));
        Set<Permission> expected = new TreeSet<>(OperatorRbac.required());
        expected.removeIf(p -> p.resource().equals("secrets"));
        assertThat(all).as("everything else is still granted").containsAll(expected);
    }

    @Test
    void aServiceAccountOfYourOwnGetsTheSameRules() {
        List<JsonNode> objects = Helm.objects("--set", "serviceAccount.create=false", "--set", "serviceAccount.name=trading-operator");
        List<Grant> own = OperatorRbac.grantedTo(objects, Helm.NAMESPACE, "trading-operator");
        Set<Permission> granted = own.stream().map(Grant::permission).collect(Collectors.toCollection(TreeSet::new));
        assertThat(granted).containsExactlyInAnyOrderElementsOf(OperatorRbac.required());
        assertThat(objects).extracting(o -> o.path("kind").asText()).doesNotContain("ServiceAccount");
    }

    @Test
    void rbacCreateFalseRendersNoOperatorRbac() {
        List<JsonNode> objects = Helm.objects("--set", "rbac.create=false", "--set", "userRoles.enabled=false");
        assertThat(objects).extracting(o -> o.path("kind").asText())
                .doesNotContain("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding");
    }

    /** Records {@code p} as missing unless granted in {@code namespace} (null: cluster-wide) on exactly {@code names}. */
    static void expect(List<Grant> grants, Permission p, String namespace, Set<String> names, List<String> missing) {
        boolean found = grants.stream().anyMatch(g -> g.permission().equals(p) && g.names().equals(names)
                && (namespace == null ? g.clusterWide() : namespace.equals(g.namespace())));
        if (!found) {
            missing.add(p + (namespace == null ? " cluster-wide" : " in " + namespace) + (names.isEmpty() ? "" : " on " + names));
        }
    }

    /** Only ALLOWED permissions; no wildcard; names only on the watched Namespaces; the Lease only at home. */
    static void assertNothingMore(List<Grant> grants, Set<String> watched) {
        List<String> outside = new ArrayList<>();
        for (Grant g : grants) {
            Permission p = g.permission();
            if (!ALLOWED.contains(p) || p.group().equals("*") || p.resource().equals("*") || p.verb().equals("*")) {
                outside.add(p + " (" + g.via() + ")");
            }
            if (RELEASE_NAMESPACE_ONLY.contains(p.resource()) && !Helm.NAMESPACE.equals(g.namespace())) {
                outside.add(p + " outside the release namespace (" + g.via() + ")");
            }
            if (!watched.isEmpty() && !g.clusterWide() && !watched.contains(g.namespace())
                    && !Helm.NAMESPACE.equals(g.namespace())) {
                outside.add(p + " in unwatched namespace " + g.namespace());
            }
            if (!watched.isEmpty() && !g.clusterWide() && Helm.NAMESPACE.equals(g.namespace()) && !watched.contains(Helm.NAMESPACE)
                    && !RELEASE_NAMESPACE_ONLY.contains(p.resource())) {
                outside.add(p + " in the release namespace, which is not watched (" + g.via() + ")");
            }
            if (!g.names().isEmpty() && !(p.resource().equals("namespaces") && g.names().equals(watched))) {
                outside.add(p + " limited to unexpected names " + g.names());
            }
        }
        assertThat(outside).as("grants outside the allow-list or wider than needed").isEmpty();
    }
}
