package io.marketintel.safety.reconciler;

import static io.marketintel.safety.testing.PolicyTestSupport.awaitPolicy;
import static io.marketintel.safety.testing.PolicyTestSupport.condition;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.status.Conditions;
import io.marketintel.safety.testing.ControlPlane;
import io.marketintel.safety.testing.NamespacedTest;
import io.marketintel.safety.testing.PolicyTestSupport;
import io.marketintel.safety.testing.OperatorProcess;
import io.marketintel.safety.testing.TradingSystem;
import io.marketintel.safety.testing.Users;
import io.marketintel.safety.testing.Writes;

/**
 * Least privilege, proven: the packaged operator runs as a user holding only the ClusterRole the build
 * generates (target/kubernetes/kubernetes.yml) and takes a policy through adoption, guards, an approval
 * and an escalation. With a rule taken away, the policy says what was refused instead of going quiet.
 */
class GeneratedRbacIT extends NamespacedTest {
    OperatorProcess operator;
    final java.util.List<String> cleanup = new ArrayList<>();

    @AfterEach
    void stop() {
        if (operator != null) {
            operator.close();
        }
        cleanup.forEach(name -> {
            client.rbac().clusterRoleBindings().withName(name).delete();
            client.rbac().clusterRoles().withName(name).delete();
        });
    }

    static ClusterRole generatedRole() throws Exception {
        String yaml = Files.readString(Path.of("target", "kubernetes", "kubernetes.yml"));
        for (String doc : yaml.split("(?m)^---\\s*$")) {
            if (doc.contains("kind: ClusterRole\n") && doc.contains("name: executionpolicy-cluster-role")) {
                return ControlPlane.shared().client().getKubernetesSerialization().unmarshal(doc, ClusterRole.class);
            }
        }
        throw new AssertionError("no generated ClusterRole executionpolicy-cluster-role in target/kubernetes/kubernetes.yml");
    }

    /** Grants {@code role}'s rules, under a test-owned name, to {@code user}. */
    void grant(ClusterRole role, String user) {
        String name = "rbac-it-" + ns;
        role.getMetadata().setName(name);
        role.getMetadata().setResourceVersion(null);
        client.rbac().clusterRoles().resource(role).create();
        client.rbac().clusterRoleBindings().resource(new ClusterRoleBindingBuilder().withNewMetadata().withName(name).endMetadata()
                .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("ClusterRole").withName(name).endRoleRef()
                .addNewSubject().withApiGroup("rbac.authorization.k8s.io").withKind("User").withName(user).endSubject()
                .build()).create();
        cleanup.add(name);
    }

    static String policy(String extra) {
        return processPolicy("fx", "DryRun", "{refs: [{kind: Deployment, name: alpha}]}", extra);
    }

    @Test
    void theGeneratedClusterRoleIsEnoughForAFullEscalation() throws Exception {
        String user = "operator-" + ns;
        grant(generatedRole(), user);
        Users users = new Users(client, kubectl, ns).bind("alice", "execution-approver");
        TradingSystem.deployment(client, ns, "alpha", "fx", 1);
        client.configMaps().inNamespace(ns).resource(new ConfigMapBuilder().withNewMetadata().withName("risk-params")
                .endMetadata().withData(Map.of("limits", "1")).build()).create();
        apply(policy("""
                approval: {requiredForLive: 1}
                guards:
                - {name: ready, type: WorkloadReady}
                - {name: cfg, type: Configuration, configuration: {configMaps: [{name: risk-params, keys: [limits]}]}}
                - {name: env, type: EnvironmentRule}
                """));
        operator = OperatorProcess.start(ControlPlane.shared(), ns, user);
        awaitPolicy(client, ns, "fx", "DryRun as the restricted operator", p -> p.getStatus().mode == ExecutionMode.DRY_RUN
                && Conditions.isTrue(p.getStatus().conditions, Conditions.READY));

        PolicyTestSupport.setMode(client, ns, "fx", ExecutionMode.LIVE);
        ExecutionPolicy waiting = awaitPolicy(client, ns, "fx", "awaiting approval", p -> p.getStatus().approval != null
                && "AwaitingApproval".equals(condition(p, Conditions.APPROVED).getReason()));
        assertThat(users.approve("alice", "fx", waiting.getStatus().approval.token).exitCode()).isZero();
        ExecutionPolicy live = awaitPolicy(client, ns, "fx", "Live", p -> p.getStatus().mode == ExecutionMode.LIVE
                && Conditions.isTrue(p.getStatus().conditions, Conditions.READY));
        assertThat(live.getStatus().guards).extracting(g -> g.result).containsOnly("Pass");
        assertThat(client.v1().events().inNamespace(ns).list().getItems())
                .anySatisfy(e -> assertThat(e.getReason()).isEqualTo("TransitionCompleted"));
        assertThat(Files.readString(operator.log())).doesNotContainIgnoringCase("forbidden");
    }

    @Test
    void aRefusedReadIsReportedOnThePolicy() throws Exception {
        String user = "operator-restricted-" + ns;
        ClusterRole role = generatedRole();
        role.getRules().removeIf(r -> r.getResources().contains("executionsafeties"));
        grant(role, user);
        TradingSystem.deployment(client, ns, "alpha", "fx", 1);
        apply(policy(""));
        operator = OperatorProcess.start(ControlPlane.shared(), ns, user);
        ExecutionPolicy p = awaitPolicy(client, ns, "fx", "the refusal on the policy",
                x -> x.getStatus().conditions != null && Conditions.find(x.getStatus().conditions, Conditions.READY)
                        .map(c -> "OperatorError".equals(c.getReason())).orElse(false));
        assertThat(condition(p, Conditions.READY).getMessage()).contains("could not reconcile").contains("forbidden")
                .contains("executionsafeties");
    }

    /**
     * Caught by the fault suite (.ci/run seed 1795744353357): an operator started while the kube-apiserver was
     * restarting could not start its kill switch's watches, and they stopped for good: blind until restarted,
     * every escalation refused. A watch that cannot start now keeps trying, and sees stops once it can.
     */
    @Test
    void aKillSwitchWatchThatCannotStartKeepsTryingAndSeesOnceItCan() throws Exception {
        String user = "operator-blind-" + ns;
        ClusterRole role = generatedRole();
        java.util.List<io.fabric8.kubernetes.api.model.rbac.PolicyRule> namespaceWatch = role.getRules().stream()
                .filter(r -> r.getResources().equals(java.util.List.of("namespaces")) && r.getVerbs().contains("watch")).toList();
        assertThat(namespaceWatch).as("the generated rule to watch Namespaces").hasSize(1);
        role.getRules().removeAll(namespaceWatch);
        grant(role, user);
        operator = OperatorProcess.start(ControlPlane.shared(), ns, user);
        int port = operator.httpPort();
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        java.net.http.HttpRequest ready = java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + port + "/q/health/ready")).build();
        org.awaitility.Awaitility.await("not ready, naming the blind spot").atMost(java.time.Duration.ofSeconds(90))
                .ignoreExceptions().until(() -> http.send(ready, java.net.http.HttpResponse.BodyHandlers.ofString()),
                        r -> r.statusCode() == 503 && r.body().contains("Namespaces (namespace-wide stops)"));

        Writes.edit(client.rbac().clusterRoles().withName("rbac-it-" + ns), r -> {
            r.getRules().addAll(namespaceWatch);
            return r;
        });
        org.awaitility.Awaitility.await("ready once the watch is allowed").atMost(java.time.Duration.ofSeconds(90))
                .ignoreExceptions().until(() -> http.send(ready, java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode(),
                        code -> code == 200);
        assertThat(operator.alive()).isTrue();
    }
}
