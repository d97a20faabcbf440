package io.marketintel.safety.e2e;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.marketintel.safety.testing.Writes;

/**
 * Proof that the chart's operator RBAC is least privilege, by mutation: take one grant away from the installed
 * chart's roles, restart the operator (as the chart's ServiceAccount), run every chainsaw suite, and require at
 * least one suite to fail; then put the grant back. A mutation that no suite notices is a grant the suites do not
 * need: the run fails and names it.
 * <p>
 * {@code rules} mode removes one whole rule at a time (the acceptance); {@code permissions} mode removes
 * one verb on one resource at a time (finer: every single verb must be needed). Run with
 * {@code e2e/rbac-mutations.sh [rules|permissions]}; the table goes to stdout and target/e2e-mutations/.
 */
public final class RbacMutations {
    static final Pattern RBAC_DENIAL = ChainsawSuitesIT.RBAC_DENIAL;

    /** One role of the chart, as installed: kind, name, namespace (null for a ClusterRole) and its rules. */
    record Role(String kind, String name, String namespace, List<PolicyRule> rules) {
        String id() {
            return kind + "/" + name;
        }
    }

    /** One grant taken away: a label, the role, and its rules without that grant. */
    record Mutation(String label, Role role, List<PolicyRule> rules) {
    }

    record Outcome(Mutation mutation, List<String> failed, long denials, long seconds) {
    }

    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : "rules";
        Path workDir = Path.of("target", "e2e-mutations").toAbsolutePath();
        // Every step of a passing run takes seconds; the baseline run below proves these timeouts are enough.
        List<String> chainsawArgs = List.of("--assert-timeout", "20s", "--error-timeout", "20s");
        int exit;
        try (E2eCluster cluster = E2eCluster.install(workDir)) {
            List<Role> roles = roles(cluster);
            List<Mutation> all = mode.equals("permissions") ? permissionMutations(roles) : ruleMutations(roles);
            // A second argument keeps only the grants whose label contains it (e.g. "delete pods"), for one change.
            List<Mutation> mutations = args.length > 1 ? all.stream().filter(m -> m.label().contains(args[1])).toList() : all;
            System.out.printf("%d %s mutations of %s%n", mutations.size(), mode, roles.stream().map(Role::id).toList());

            cluster.startOperator(true);
            E2eCluster.ChainsawRun baseline = cluster.chainsaw("baseline", chainsawArgs.toArray(String[]::new));
            List<String> baselineFailed = ChainsawReport.read(baseline.report()).failed();
            System.out.printf("baseline (the chart's RBAC as installed): %s%n", baselineFailed.isEmpty() ? "every suite passed" : "FAILED " + baselineFailed);
            if (!baselineFailed.isEmpty() || baseline.exitCode() != 0) {
                System.out.println(baseline.output());
                System.exit(2);
            }

            List<Outcome> outcomes = new ArrayList<>();
            int n = 0;
            for (Mutation m : mutations) {
                long started = System.nanoTime();
                replaceRules(cluster, m.role(), m.rules());
                try {
                    cluster.startOperator(false);
                    E2eCluster.ChainsawRun run = cluster.chainsaw("mutation-" + (++n), chainsawArgs.toArray(String[]::new));
                    List<String> failed = ChainsawReport.read(run.report()).failed().stream().distinct().toList();
                    long denials = Files.readAllLines(cluster.operator().log()).stream().filter(l -> RBAC_DENIAL.matcher(l).find()).count();
                    cluster.stopOperator();
                    Outcome o = new Outcome(m, failed, denials, (System.nanoTime() - started) / 1_000_000_000);
                    outcomes.add(o);
                    System.out.printf("[%d/%d] without %s: %s (%d RBAC denials logged, %d s)%n", n, mutations.size(), m.label(),
                            failed.isEmpty() ? "NO SUITE FAILED" : "failed " + failed, denials, o.seconds());
                } finally {
                    replaceRules(cluster, m.role(), m.role().rules());
                }
            }
            String table = table(mode, outcomes);
            System.out.println(table);
            Files.writeString(workDir.resolve("rbac-mutations-" + mode + ".md"), table);
            List<String> unneeded = outcomes.stream().filter(o -> o.failed().isEmpty()).map(o -> o.mutation().label()).toList();
            System.out.println(unneeded.isEmpty() ? "every grant is needed: removing any one fails at least one suite"
                    : "grants no suite needs: " + unneeded);
            exit = unneeded.isEmpty() ? 0 : 1;
        }
        System.exit(exit);
    }

    static List<Role> roles(E2eCluster cluster) {
        List<Role> roles = new ArrayList<>();
        try (KubernetesClient admin = cluster.plane().client()) {
            for (JsonNode o : cluster.releaseObjects()) {
                String kind = o.path("kind").asText();
                String name = o.path("metadata").path("name").asText();
                if (kind.equals("ClusterRole") && name.startsWith(E2eCluster.RELEASE)) {
                    roles.add(new Role(kind, name, null, admin.rbac().clusterRoles().withName(name).get().getRules()));
                } else if (kind.equals("Role") && name.startsWith(E2eCluster.RELEASE)) {
                    roles.add(new Role(kind, name, E2eCluster.NAMESPACE,
                            admin.rbac().roles().inNamespace(E2eCluster.NAMESPACE).withName(name).get().getRules()));
                }
            }
        }
        if (roles.isEmpty()) {
            throw new IllegalStateException("the release has no operator ClusterRole or Role");
        }
        return roles;
    }

    static List<Mutation> ruleMutations(List<Role> roles) {
        List<Mutation> out = new ArrayList<>();
        for (Role role : roles) {
            for (int i = 0; i < role.rules().size(); i++) {
                List<PolicyRule> rules = new ArrayList<>(role.rules());
                PolicyRule removed = rules.remove(i);
                out.add(new Mutation(role.id() + " rule " + i + " " + describe(removed), role, rules));
            }
        }
        return out;
    }

    /** One verb on one resource of one rule at a time (the rule split per resource so the others keep theirs). */
    static List<Mutation> permissionMutations(List<Role> roles) {
        List<Mutation> out = new ArrayList<>();
        for (Role role : roles) {
            for (int i = 0; i < role.rules().size(); i++) {
                PolicyRule rule = role.rules().get(i);
                for (String resource : rule.getResources()) {
                    for (String verb : rule.getVerbs()) {
                        int index = i;
                        List<PolicyRule> rules = new ArrayList<>(role.rules());
                        rules.remove(index);
                        List<PolicyRule> split = new ArrayList<>();
                        for (String r : rule.getResources()) {
                            List<String> verbs = rule.getVerbs().stream().filter(v -> !(r.equals(resource) && v.equals(verb))).toList();
                            if (!verbs.isEmpty()) {
                                split.add(new PolicyRuleBuilder(rule).withResources(r).withVerbs(verbs).build());
                            }
                        }
                        rules.addAll(index, split);
                        String group = rule.getApiGroups().get(0).isEmpty() ? "core" : rule.getApiGroups().get(0);
                        out.add(new Mutation(role.id() + " " + verb + " " + group + "/" + resource, role, rules));
                    }
                }
            }
        }
        return out;
    }

    static String describe(PolicyRule r) {
        return r.getApiGroups().stream().map(g -> g.isEmpty() ? "core" : g).toList() + " " + r.getResources() + " " + r.getVerbs()
                + (r.getResourceNames() == null || r.getResourceNames().isEmpty() ? "" : " names " + r.getResourceNames());
    }

    static void replaceRules(E2eCluster cluster, Role role, List<PolicyRule> rules) {
        try (KubernetesClient admin = cluster.plane().client()) {
            if (role.kind().equals("ClusterRole")) {
                Writes.edit(admin.rbac().clusterRoles().withName(role.name()), edit(rules));
            } else {
                Writes.edit(admin.rbac().roles().inNamespace(role.namespace()).withName(role.name()), edit(rules));
            }
        }
    }

    static <T extends io.fabric8.kubernetes.api.model.HasMetadata> UnaryOperator<T> edit(List<PolicyRule> rules) {
        return r -> {
            if (r instanceof io.fabric8.kubernetes.api.model.rbac.ClusterRole c) {
                c.setRules(rules);
            } else if (r instanceof io.fabric8.kubernetes.api.model.rbac.Role c) {
                c.setRules(rules);
            }
            return r;
        };
    }

    static String table(String mode, List<Outcome> outcomes) {
        StringBuilder sb = new StringBuilder("| grant removed (" + mode + ") | suites that failed | RBAC denials logged | seconds |\n|---|---|---|---|\n");
        for (Outcome o : outcomes) {
            sb.append("| ").append(o.mutation().label()).append(" | ")
                    .append(o.failed().isEmpty() ? "**none**" : String.join(", ", o.failed())).append(" | ")
                    .append(o.denials()).append(" | ").append(o.seconds()).append(" |\n");
        }
        return sb.toString();
    }
}
