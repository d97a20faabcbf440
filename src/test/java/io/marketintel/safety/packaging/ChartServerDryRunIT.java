package io.marketintel.safety.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.marketintel.safety.testing.ControlPlane;
import io.marketintel.safety.testing.Helm;
import io.marketintel.safety.testing.Kubectl;
import io.marketintel.safety.testing.MonitoringCrds;
import io.marketintel.safety.testing.NamespacedTest;
import io.marketintel.safety.testing.Namespaces;
import io.marketintel.safety.testing.Writes;

/**
 * {@code helm template … | kubectl apply --dry-run=server -f -} on the real API server, with default values and
 * with watched namespaces: every object of the chart passes the server's schema validation (the CRDs' CEL rules
 * for ExecutionSafety/global included), admission and, for the operator's pod template, the PodSecurity admission
 * of a namespace that enforces the restricted profile. The CRDs, admission policies and user roles already exist
 * on the test control plane (ControlPlane installs them), so their dry-run is an update, as on an upgrade.
 * <p>
 * The Prometheus Operator is not installed, so this test registers {@link MonitoringCrds} stand-ins for the
 * duration of the class and removes them afterwards.
 * <p>
 * Also: the narrowed RBAC of watchNamespaces applied for real and asked of the authorizer; {@code helm install
 * --dry-run=server} and its NOTES; and, because it needs the build, that the ClusterRole QOSDK generates
 * (target/kubernetes/kubernetes.yml) is exactly the permission set {@link ChartRbacTest} checks the chart against.
 */
class ChartServerDryRunIT extends NamespacedTest {
    static final List<String> standIns = new ArrayList<>();

    @BeforeAll
    static void monitoringCrdStandIns() {
        try (KubernetesClient admin = ControlPlane.shared().client()) {
            standIns.addAll(MonitoringCrds.install(admin));
        }
    }

    @AfterAll
    static void removeStandIns() {
        try (KubernetesClient admin = ControlPlane.shared().client()) {
            standIns.forEach(name -> admin.apiextensions().v1().customResourceDefinitions().withName(name).delete());
        }
    }

    @Test
    void defaultValuesPassServerSideDryRun() {
        restricted(ns);
        String rendered = Helm.template("execution-safety-operator", ns);
        Kubectl.Result applied = dryRun(rendered);
        assertThat(applied.stdout()).contains("deployment.apps/execution-safety-operator created (server dry run)")
                .contains("clusterrole.rbac.authorization.k8s.io/execution-safety-operator created (server dry run)")
                .contains("role.rbac.authorization.k8s.io/execution-safety-operator-leader-election created (server dry run)")
                .contains("prometheusrule.monitoring.coreos.com/execution-safety-operator created (server dry run)")
                .contains("validatingadmissionpolicy.admissionregistration.k8s.io/execution-safety-identity");
        assertThat(applied.stdout().lines().filter(l -> l.endsWith("(server dry run)")).count())
                .as("one line per rendered object").isEqualTo(Helm.parse(rendered).size());
    }

    @Test
    void watchedNamespacesPassServerSideDryRun() {
        restricted(ns);
        String trading = Namespaces.create(client, "trading");
        String research = Namespaces.create(client, "research");
        String rendered = Helm.template("eso", ns, "--set", "watchNamespaces={" + trading + "," + research + "}",
                "--set", "monitoring.serviceMonitor.enabled=true", "--set", "monitoring.operatorJob=execution-safety-operator",
                "--set", "executionSafety.create=true", "--set", "executionSafety.spec.minLiveApprovals=2");
        Kubectl.Result applied = dryRun(rendered);
        assertThat(applied.stdout()).contains("rolebinding.rbac.authorization.k8s.io/eso-execution-safety-operator")
                .contains("servicemonitor.monitoring.coreos.com/eso-execution-safety-operator")
                .contains("executionsafety.safety.marketintel.io/global");
        List<JsonNode> roleBindings = Helm.parse(rendered).stream().filter(o -> o.path("kind").asText().equals("RoleBinding")).toList();
        assertThat(roleBindings).extracting(o -> o.path("metadata").path("namespace").asText()).contains(trading, research);
    }

    /** Issue 22, item 6: a sharded install (one Deployment, Lease and budget per shard) passes as the default one does. */
    @Test
    void shardsPassServerSideDryRun() {
        restricted(ns);
        String deskA = Namespaces.create(client, "desk-a");
        String deskB = Namespaces.create(client, "desk-b");
        String rendered = Helm.template("eso", ns, "--set", "shards[0].name=a", "--set", "shards[0].namespaces={" + deskA + "}",
                "--set", "shards[1].name=b", "--set", "shards[1].namespaces={" + deskB + "}",
                "--set", "monitoring.serviceMonitor.enabled=true", "--set", "monitoring.operatorJob=execution-safety-operator");
        Kubectl.Result applied = dryRun(rendered);
        assertThat(applied.stdout()).contains("deployment.apps/eso-execution-safety-operator-a created (server dry run)")
                .contains("deployment.apps/eso-execution-safety-operator-b created (server dry run)")
                .contains("poddisruptionbudget.policy/eso-execution-safety-operator-a created (server dry run)")
                .contains("poddisruptionbudget.policy/eso-execution-safety-operator-b created (server dry run)")
                .contains("servicemonitor.monitoring.coreos.com/eso-execution-safety-operator");
        assertThat(Helm.parse(rendered).stream().filter(o -> o.path("kind").asText().equals("RoleBinding")))
                .extracting(o -> o.path("metadata").path("namespace").asText()).contains(deskA, deskB);
    }

    /**
     * The narrowed RBAC of watchNamespaces, applied for real and asked of the API server's authorizer as the
     * chart's ServiceAccount: the watched namespaces' objects yes, the others no; the Namespace objects only by
     * name, the way the kill switch watches them (a metadata.name field selector); the Lease only at home.
     */
    @Test
    void watchedNamespacesRbacIsWhatTheApiServerEnforces() {
        String trading = Namespaces.create(client, "trading");
        String release = "rbac-" + ns.substring(ns.lastIndexOf('-') + 1);
        String rbac = Helm.template(release, ns, "--set", "watchNamespaces={" + trading + "}", "--show-only",
                "templates/serviceaccount.yaml", "--show-only", "templates/rbac.yaml");
        Kubectl.Result applied = kubectl.runWithInput(rbac, "apply", "-f", "-");
        assertThat(applied.exitCode()).as(applied.output()).isZero();
        try {
            String as = "--as=system:serviceaccount:" + ns + ":" + release + "-execution-safety-operator";
            await("the new bindings are in the authorizer's cache").atMost(Duration.ofSeconds(30))
                    .until(() -> kubectl.run(as, "get", "pods", "-n", trading).exitCode() == 0);
            assertAllowed(as, "get", "namespaces", "--field-selector", "metadata.name=" + trading);
            assertAllowed(as, "get", "namespace", trading);
            assertAllowed(as, "get", "executionpolicies,deployments,statefulsets,pods", "-n", trading);
            assertAllowed(as, "get", "executionsafeties");
            assertForbidden(as, "get", "namespaces");
            assertForbidden(as, "get", "namespace", ns);
            assertForbidden(as, "get", "executionpolicies", "-n", ns);
            assertForbidden(as, "get", "pods", "-A");
            for (String[] can : new String[][] { { "watch", "namespaces/" + trading }, { "get", "secrets", "-n", trading },
                    { "patch", "deployments", "-n", trading }, { "create", "networkpolicies", "-n", trading },
                    { "update", "leases", "-n", ns } }) {
                assertThat(kubectl.run(concat(as, "auth", "can-i", can)).stdout().strip()).as("can-i %s", List.of(can)).isEqualTo("yes");
            }
            for (String[] cannot : new String[][] { { "watch", "namespaces" }, { "get", "secrets", "-n", ns },
                    { "update", "leases", "-n", trading }, { "create", "deployments", "-n", trading }, { "list", "secrets", "-n", trading } }) {
                assertThat(kubectl.run(concat(as, "auth", "can-i", cannot)).stdout().strip()).as("can-i %s", List.of(cannot)).isEqualTo("no");
            }
        } finally {
            kubectl.runWithInput(rbac, "delete", "--ignore-not-found", "-f", "-");
        }
    }

    void assertAllowed(String... args) {
        Kubectl.Result r = kubectl.run(args);
        assertThat(r.exitCode()).as("kubectl %s:%n%s", String.join(" ", args), r.output()).isZero();
    }

    void assertForbidden(String... args) {
        Kubectl.Result r = kubectl.run(args);
        assertThat(r.exitCode()).as("kubectl %s must be refused", String.join(" ", args)).isNotZero();
        assertThat(r.stderr()).contains("forbidden");
    }

    static String[] concat(String first, String second, String third, String... rest) {
        List<String> all = new ArrayList<>(List.of(first, second, third));
        all.addAll(List.of(rest));
        return all.toArray(String[]::new);
    }

    @Test
    void thePodSecurityCheckIsLive() {
        restricted(ns);
        Kubectl.Result bad = kubectl.runWithInput(Helm.template("loose", ns, "--show-only", "templates/deployment.yaml",
                "--set", "securityContext.allowPrivilegeEscalation=true"), "apply", "--dry-run=server", "-f", "-");
        assertThat(bad.exitCode()).as(bad.output()).isZero();
        assertThat(bad.stderr()).as("a Deployment that breaks the profile is warned about").contains("would violate PodSecurity")
                .contains("allowPrivilegeEscalation");
    }

    /**
     * {@code helm install --dry-run=server}: Helm's own checks against the server (schema, existing objects) and
     * the NOTES. The admission policies and user roles are off: ControlPlane installed them with kubectl, and Helm
     * refuses to take over objects another tool created (README.md says how to adopt them).
     */
    @Test
    void helmInstallDryRunPrintsTheFirstCommands() {
        Helm.Result install = Helm.run("install", "eso", Helm.CHART.toString(), "--namespace", ns, "--dry-run=server",
                "--kubeconfig", ControlPlane.shared().kubeconfig().toString(), "--set", "admissionPolicies.enabled=false",
                "--set", "userRoles.enabled=false");
        assertThat(install.exitCode()).as(install.output()).isZero();
        String notes = install.stdout().substring(install.stdout().indexOf("NOTES:"));
        assertThat(notes).contains("kubectl get xp -A", "kubectl rollout status deployment/eso-execution-safety-operator -n " + ns,
                "safety.marketintel.io/emergency-stop=", "docs/kill-switch.md", "every namespace",
                "counts no approval");
    }

    @Test
    void theGeneratedClusterRoleIsWhatTheChartIsCheckedAgainst() throws Exception {
        String yaml = Files.readString(Path.of("target", "kubernetes", "kubernetes.yml"));
        List<JsonNode> generated = Helm.parse(yaml).stream().filter(o -> o.path("kind").asText().equals("ClusterRole")).toList();
        assertThat(generated).as("ClusterRoles in target/kubernetes/kubernetes.yml").hasSize(1);
        assertThat(OperatorRbac.permissions(generated.get(0))).as("QOSDK's generated ClusterRole vs OperatorRbac.generated()")
                .containsExactlyInAnyOrderElementsOf(OperatorRbac.generated())
                .as("what the chart grants is within what QOSDK generates").containsAll(OperatorRbac.required());
    }

    /** Pods in {@code namespace} must meet the restricted profile; workloads that would not are warned about. */
    void restricted(String namespace) {
        Writes.edit(client.namespaces().withName(namespace), n -> {
            n.getMetadata().getLabels().put("pod-security.kubernetes.io/enforce", "restricted");
            n.getMetadata().getLabels().put("pod-security.kubernetes.io/warn", "restricted");
            return n;
        });
    }

    /** kubectl apply --dry-run=server of {@code rendered}; it must pass without a PodSecurity warning. */
    Kubectl.Result dryRun(String rendered) {
        Kubectl.Result applied = kubectl.runWithInput(rendered, "apply", "--dry-run=server", "-f", "-");
        System.out.println("kubectl apply --dry-run=server in " + ns + ":\n" + applied.output()); // failsafe-reports
        assertThat(applied.exitCode()).as("kubectl apply --dry-run=server:%n%s", applied.output()).isZero();
        assertThat(applied.stderr()).as("warnings").doesNotContain("PodSecurity");
        return applied;
    }
}
