package io.marketintel.safety.admission;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.testing.Kubectl;
import io.marketintel.safety.testing.OperatorStatus;
import io.marketintel.safety.testing.NamespacedTest;
import io.marketintel.safety.testing.PolicyTestSupport;
import io.marketintel.safety.testing.Users;

/**
 * Issue 20 (DESIGN §6, §11), prevention by the API server: while an emergency stop is in force no pod of the stopped
 * system is created, whoever asks (a trader with the namespace's {@code edit} role, a GitOps tool, the cluster admin);
 * a workload is not detached from a Live or stopped policy; a Live policy is not deleted. No operator acts on these
 * policies (the test label): status is written here as the operator would, with {@code --subresource=status}.
 * Users: tom holds {@code edit} in the namespace (a trader), bob edits policies.
 */
class StopAdmissionIT extends NamespacedTest {
    static final String STOP = "safety.marketintel.io/emergency-stop";
    static final String STOP_BY = "safety.marketintel.io/emergency-stop-by";
    static final String POLICY = "safety.marketintel.io/policy";
    static final String MODE = "safety.marketintel.io/mode";
    static final Duration ENFORCED = Duration.ofSeconds(60);

    Users users;

    @BeforeEach
    void setUp() {
        users = new Users(client, kubectl, ns).bind("tom", "edit").bind("bob", "execution-policy-editor");
        policy("momentum", "DryRun");
    }

    @Test
    void aPodOfAStoppedPolicyIsRefusedToEveryoneUntilReArmed() {
        annotate("xp", "momentum", STOP + "=fat finger");
        String refused = "pods of ExecutionPolicy momentum cannot start: it is emergency-stopped (\"fat finger\")";
        awaitRefused("tom", pod("p1", "{" + POLICY + ": momentum}", "", ""), refused);

        Kubectl.Result trader = as("tom", pod("p1", "{" + POLICY + ": momentum}", "", ""), "create", "-f", "-");
        assertThat(trader.exitCode()).as(trader.output()).isNotZero();
        assertThat(trader.stderr()).contains(refused).contains("execution-safety-stopped-pods")
                .contains("kubectl annotate xp momentum -n " + ns + " " + STOP + "-")
                .contains("safety.marketintel.io/rearm=<status.emergencyStop.epoch>");
        Kubectl.Result admin = kubectl.runWithInput(pod("p1", "{" + POLICY + ": momentum}", "", ""), "create", "-n", ns, "-f", "-");
        assertThat(admin.exitCode()).as("the cluster admin too: " + admin.output()).isNotZero();
        assertThat(admin.stderr()).contains(refused);

        // The latch outlives the annotation: once status records the stop, the annotation can go and pods stay refused.
        status("momentum", "{\"emergencyStop\":{\"active\":true,\"epoch\":3,\"reason\":\"fat finger\"},\"stopsSeen\":{\"policy\":\""
                + client.resources(ExecutionPolicy.class).inNamespace(ns).withName("momentum").get().getMetadata().getAnnotations()
                        .get(MetadataNames.EMERGENCY_STOP_ID_ANNOTATION) + "\"}}");
        Kubectl.Result removed = kubectl.run("annotate", "xp", "momentum", "-n", ns, STOP + "-", STOP_BY + "-");
        assertThat(removed.exitCode()).as(removed.output()).isZero();
        awaitRefused("tom", pod("p1", "{" + POLICY + ": momentum}", "", ""),
                refused + "; re-arm it first (kubectl annotate xp momentum -n " + ns + " safety.marketintel.io/rearm=3)");
        Kubectl.Result latched = as("tom", pod("p1", "{" + POLICY + ": momentum}", "", ""), "create", "-f", "-");
        assertThat(latched.exitCode()).as(latched.output()).isNotZero();

        // A pod of another policy, or of none, is not this stop's.
        policy("carry", "DryRun");
        awaitAdmitted("tom", pod("other", "{" + POLICY + ": carry}", "", ""));
        Kubectl.Result unrelated = as("tom", pod("other", "{" + POLICY + ": carry}", "", ""), "create", "-f", "-");
        assertThat(unrelated.exitCode()).as(unrelated.output()).isZero();

        // Re-armed (status shows the stop released): the same pod starts.
        status("momentum", "{\"emergencyStop\":{\"active\":false}}");
        awaitAdmitted("tom", pod("p1", "{" + POLICY + ": momentum}", "", ""));
        Kubectl.Result resumed = as("tom", pod("p1", "{" + POLICY + ": momentum}", "", ""), "create", "-f", "-");
        assertThat(resumed.exitCode()).as(resumed.output()).isZero();
    }

    /**
     * Issue 20, item 4: a Namespace stop set and removed before the operator recorded it on the policy (the API server
     * counted it; status.stopsSeen shows fewer) still refuses the policy's pods, until the operator records it.
     */
    @Test
    void aPodOfAPolicyThatMissedANamespaceStopIsRefused() {
        status("momentum", "{\"stopsSeen\":{\"namespace\":0,\"cluster\":0}}");
        awaitAdmitted("tom", pod("p1", "{" + POLICY + ": momentum}", "", ""));
        Kubectl.Result stop = kubectl.run("annotate", "namespace", ns, STOP + "=desk halt");
        assertThat(stop.exitCode()).as(stop.output()).isZero();
        Kubectl.Result unstop = kubectl.run("annotate", "namespace", ns, STOP + "-");
        assertThat(unstop.exitCode()).as(unstop.output()).isZero();
        String refused = "pods of ExecutionPolicy momentum cannot start: Namespace " + ns + " was emergency-stopped (stop #1)";
        awaitRefused("tom", pod("p1", "{" + POLICY + ": momentum}", "", ""), refused);
        // Recorded (the operator's stopped pass writes the count it has seen, and latches: its own check takes over).
        status("momentum", "{\"stopsSeen\":{\"namespace\":1,\"cluster\":0}}");
        awaitAdmitted("tom", pod("p1", "{" + POLICY + ": momentum}", "", ""));
    }

    /**
     * Issue 22: the stop admission reads only stopped policies, marked by the label safety.marketintel.io/stopped. The
     * moves an insider has against that mark: the trader removes the label (kubectl label, a GitOps replace that leaves it
     * out) from a policy whose stop the annotation or the latch holds; a person who may write the Namespace raises the
     * count of stops the operator has recorded on every policy. None of them lets a pod of the stopped system start.
     */
    @Test
    void theStopMarksAdmissionReadsCannotBeTakenAwayByAnInsider() throws Exception {
        annotate("xp", "momentum", STOP + "=desk halt");
        assertThat(stoppedLabel("momentum")).as("set with the stop annotation").isEqualTo("true");
        String refused = "pods of ExecutionPolicy momentum cannot start: it is emergency-stopped";
        awaitRefused("tom", pod("p1", "{" + POLICY + ": momentum}", "", ""), refused);

        Kubectl.Result unlabel = as("tom", null, "label", "xp", "momentum", MetadataNames.STOPPED_LABEL + "-");
        assertThat(unlabel.exitCode()).as(unlabel.output()).isZero();
        assertThat(stoppedLabel("momentum")).as("put back at once").isEqualTo("true");

        // Latched in status, the annotation gone (by the admin, as a risk officer would): a replace without the label by the
        // trader (a GitOps tool's PUT) keeps it, and the pods stay refused.
        status("momentum", "{\"emergencyStop\":{\"active\":true,\"epoch\":1,\"reason\":\"desk halt\"},\"stopsSeen\":{\"policy\":\""
                + client.resources(ExecutionPolicy.class).inNamespace(ns).withName("momentum").get().getMetadata().getAnnotations()
                        .get(MetadataNames.EMERGENCY_STOP_ID_ANNOTATION) + "\"}}");
        Kubectl.Result removed = kubectl.run("annotate", "xp", "momentum", "-n", ns, STOP + "-", STOP_BY + "-");
        assertThat(removed.exitCode()).as(removed.output()).isZero();
        ExecutionPolicy replaced = client.resources(ExecutionPolicy.class).inNamespace(ns).withName("momentum").get();
        replaced.getMetadata().getLabels().remove(MetadataNames.STOPPED_LABEL);
        replaced.getMetadata().setManagedFields(null);
        replaced.setStatus(null);
        Kubectl.Result put = as("tom", client.getKubernetesSerialization().asYaml(replaced), "replace", "-f", "-");
        assertThat(put.exitCode()).as(put.output()).isZero();
        assertThat(stoppedLabel("momentum")).as("kept on the trader's replace").isEqualTo("true");
        Kubectl.Result latched = as("tom", pod("p1", "{" + POLICY + ": momentum}", "", ""), "create", "-f", "-");
        assertThat(latched.exitCode()).as(latched.output()).isNotZero();
        assertThat(latched.stderr()).contains(refused);

        // The Namespace's count of recorded stops: a stop set and removed is not recorded on the policy yet, and rita, who
        // may write the Namespace, cannot say it is.
        status("momentum", "{\"emergencyStop\":{\"active\":false},\"stopsSeen\":{\"namespace\":0}}");
        assertThat(stoppedLabel("momentum")).as("released: the operator takes the label off").isNull();
        awaitAdmitted("tom", pod("p1", "{" + POLICY + ": momentum}", "", ""));
        annotate("namespace", ns, STOP + "=drill");
        Kubectl.Result unstop = kubectl.run("annotate", "namespace", ns, STOP + "-");
        assertThat(unstop.exitCode()).as(unstop.output()).isZero();
        String missed = "pods of ExecutionPolicy momentum cannot start: Namespace " + ns + " was emergency-stopped (stop #1)";
        awaitRefused("tom", pod("p1", "{" + POLICY + ": momentum}", "", ""), missed);
        try (AutoCloseable rita = Users.namespaceWriter(client, "rita", "ns-annotator-" + ns)) {
            String raised = "only the execution-safety operator raises safety.marketintel.io/emergency-stops-recorded";
            await("rita's rights in force").atMost(ENFORCED).pollInterval(Duration.ofMillis(250)).until(() -> {
                Kubectl.Result r = as("rita", null, "annotate", "namespace", ns, "--overwrite", "--dry-run=server",
                        MetadataNames.EMERGENCY_STOPS_RECORDED_ANNOTATION + "=1");
                return r.exitCode() != 0 && r.stderr().contains(raised);
            });
            Kubectl.Result forged = as("rita", null, "annotate", "namespace", ns, "--overwrite",
                    MetadataNames.EMERGENCY_STOPS_RECORDED_ANNOTATION + "=1");
            assertThat(forged.exitCode()).as(forged.output()).isNotZero();
            assertThat(forged.stderr()).contains(raised).contains("execution-safety-live-register");
            Kubectl.Result stillRefused = as("tom", pod("p1", "{" + POLICY + ": momentum}", "", ""), "create", "-f", "-");
            assertThat(stillRefused.exitCode()).as(stillRefused.output()).isNotZero();
            assertThat(stillRefused.stderr()).contains(missed).contains("execution-safety-stopped-namespace-pods");
        }
        // Recorded on the policy (which the operator latches), the count rises and the pods start once re-armed.
        status("momentum", "{\"stopsSeen\":{\"namespace\":1}}");
        assertThat(client.namespaces().withName(ns).get().getMetadata().getAnnotations())
                .containsEntry(MetadataNames.EMERGENCY_STOPS_RECORDED_ANNOTATION, "1");
        awaitAdmitted("tom", pod("p1", "{" + POLICY + ": momentum}", "", ""));
    }

    private String stoppedLabel(String policy) {
        var labels = client.resources(ExecutionPolicy.class).inNamespace(ns).withName(policy).get().getMetadata().getLabels();
        return labels == null ? null : labels.get(MetadataNames.STOPPED_LABEL);
    }

    /**
     * A trader scales a stopped workload (kubectl scale), a GitOps tool forces {@code replicas: 3} back with a
     * server-side apply, the trader scales the old ReplicaSet directly: every write is accepted, and no pod is ever
     * created (the ReplicaSet reports FailedCreate). Without an operator here nothing writes the replicas back to 0.
     */
    @Test
    void scalingAStoppedWorkloadInAnyWayStartsNoPod() {
        Kubectl.Result created = kubectl.runWithInput(deployment("momentum", 0), "apply", "-n", ns, "-f", "-");
        assertThat(created.exitCode()).as(created.output()).isZero();
        annotate("xp", "momentum", STOP + "=venue halted");
        status("momentum", "{\"emergencyStop\":{\"active\":true,\"epoch\":1,\"reason\":\"venue halted\"}}");
        awaitRefused("tom", pod("probe", "{" + POLICY + ": momentum}", "", ""), "it is emergency-stopped");

        Kubectl.Result scaled = as("tom", null, "scale", "deployment", "momentum", "--replicas=2");
        assertThat(scaled.exitCode()).as("the write itself is accepted: " + scaled.output()).isZero();
        awaitFailedCreate();
        assertNoPodFor(Duration.ofSeconds(3));

        Kubectl.Result forced = as("tom", deployment("momentum", 3), "apply", "--server-side", "--force-conflicts",
                "--field-manager=flux", "-f", "-");
        assertThat(forced.exitCode()).as(forced.output()).isZero();
        assertThat(client.apps().deployments().inNamespace(ns).withName("momentum").get().getSpec().getReplicas()).isEqualTo(3);
        assertNoPodFor(Duration.ofSeconds(3));

        String rs = client.apps().replicaSets().inNamespace(ns).list().getItems().get(0).getMetadata().getName();
        Kubectl.Result old = as("tom", null, "scale", "replicaset", rs, "--replicas=4");
        assertThat(old.exitCode()).as(old.output()).isZero();
        assertNoPodFor(Duration.ofSeconds(3));
    }

    @Test
    void aNamespaceStopRefusesEveryPodThatCarriesAMode() {
        annotate("namespace", ns, STOP + "=desk halt");
        String refused = "a pod that carries an execution mode cannot start in Namespace " + ns
                + ": the Namespace is emergency-stopped (\"desk halt\")";
        String env = "env: [{name: EXECUTION_MODE, value: DryRun}]";
        awaitRefused("tom", pod("by-env", "{}", "", env), refused);
        Kubectl.Result byEnv = as("tom", pod("by-env", "{}", "", env), "create", "-f", "-");
        assertThat(byEnv.exitCode()).as(byEnv.output()).isNotZero();
        assertThat(byEnv.stderr()).contains(refused).contains("execution-safety-stopped-namespace-pods")
                .contains("kubectl annotate namespace " + ns + " " + STOP + "-");
        // (DryRun, not Live: an unlabelled Live pod is refused in any governed namespace, stopped or not.)
        Kubectl.Result byAnnotation = as("tom", pod("by-annotation", "{}", "{" + MODE + ": DryRun}", ""), "create", "-f", "-");
        assertThat(byAnnotation.exitCode()).as(byAnnotation.output()).isNotZero();
        assertThat(byAnnotation.stderr()).contains(refused);
        Kubectl.Result byLabel = as("tom", pod("by-label", "{" + POLICY + ": nosuch}", "", ""), "create", "-f", "-");
        assertThat(byLabel.exitCode()).as(byLabel.output()).isNotZero();
        assertThat(byLabel.stderr()).contains(refused);
        String init = """
                apiVersion: v1
                kind: Pod
                metadata: {name: by-init}
                spec:
                  initContainers: [{name: init, image: registry.example/init:1, env: [{name: EXECUTION_MODE, value: DryRun}]}]
                  containers: [{name: app, image: registry.example/app:1}]
                """;
        Kubectl.Result byInit = as("tom", init, "create", "-f", "-");
        assertThat(byInit.exitCode()).as(byInit.output()).isNotZero();
        assertThat(byInit.stderr()).contains(refused);

        Kubectl.Result noMode = as("tom", pod("database", "{app: db}", "", "env: [{name: OTHER, value: x}]"), "create", "-f", "-");
        assertThat(noMode.exitCode()).as("a pod that carries no mode is not trading: " + noMode.output()).isZero();
    }

    /**
     * The singleton is shared by every test on this control plane (tests run one after another): the stop is removed
     * in a finally block and its effect awaited, so no later test meets it.
     */
    @Test
    void aClusterStopRefusesEveryPodThatCarriesAMode() {
        boolean existed = PolicyTestSupport.ensureGlobal(client, kubectl);
        String env = "env: [{name: EXECUTION_MODE, value: DryRun}]";
        try {
            Kubectl.Result stopped = kubectl.run("annotate", "executionsafety", "global", "--overwrite", STOP + "=market-wide halt");
            assertThat(stopped.exitCode()).as(stopped.output()).isZero();
            String refused = "a pod that carries an execution mode cannot start: the cluster is emergency-stopped"
                    + " (ExecutionSafety/global, \"market-wide halt\")";
            awaitRefused("tom", pod("by-env", "{}", "", env), refused);
            Kubectl.Result byEnv = as("tom", pod("by-env", "{}", "", env), "create", "-f", "-");
            assertThat(byEnv.exitCode()).as(byEnv.output()).isNotZero();
            assertThat(byEnv.stderr()).contains(refused).contains("execution-safety-stopped-cluster-pods")
                    .contains("kubectl annotate executionsafety global " + STOP + "-");
            Kubectl.Result noMode = as("tom", pod("database", "{app: db}", "", ""), "create", "-f", "-");
            assertThat(noMode.exitCode()).as(noMode.output()).isZero();
        } finally {
            Kubectl.Result restored = existed
                    ? kubectl.run("annotate", "executionsafety", "global", STOP + "-", STOP_BY + "-")
                    : kubectl.run("delete", "executionsafety", "global", "--ignore-not-found");
            assertThat(restored.exitCode()).as(restored.output()).isZero();
        }
        awaitAdmitted("tom", pod("by-env", "{}", "", env));
    }

    @Test
    void aWorkloadIsNotDetachedFromALivePolicy() {
        policy("live", "DryRun");
        status("live", "{\"mode\":\"Live\"}");
        Kubectl.Result created = kubectl.runWithInput(deployment("live", "live", "Live", 0), "apply", "-n", ns, "-f", "-");
        assertThat(created.exitCode()).as(created.output()).isZero();
        String refused = "Deployment live cannot be detached from ExecutionPolicy live";

        await("detach refused").atMost(ENFORCED).pollInterval(Duration.ofMillis(250)).until(() -> {
            Kubectl.Result r = as("tom", null, "label", "deployment", "live", POLICY + "-", "--dry-run=server");
            return r.exitCode() != 0 && r.stderr().contains(refused);
        });
        Kubectl.Result unlabelled = as("tom", null, "label", "deployment", "live", POLICY + "-");
        assertThat(unlabelled.exitCode()).as(unlabelled.output()).isNotZero();
        assertThat(unlabelled.stderr()).contains(refused).contains("it runs Live").contains("execution-safety-detach")
                .contains("\"spec\":{\"mode\":\"DryRun\"}").contains("status.mode is DryRun");
        Kubectl.Result relabelled = as("tom", null, "label", "--overwrite", "deployment", "live", POLICY + "=carry");
        assertThat(relabelled.exitCode()).as(relabelled.output()).isNotZero();
        assertThat(relabelled.stderr()).contains(refused);
        Kubectl.Result template = as("tom", null, "patch", "deployment", "live", "--type=json", "-p",
                "[{\"op\":\"remove\",\"path\":\"/spec/template/metadata/labels/safety.marketintel.io~1policy\"}]");
        // A change of the pod template's label is also a template change of a Live workload, which
        // execution-safety-live-freeze refuses too (issue 21); the API server names either refusal.
        String frozen = "Deployment live's pod template cannot change under ExecutionPolicy live";
        assertThat(template.exitCode()).as(template.output()).isNotZero();
        assertThat(template.stderr()).containsAnyOf(refused, frozen);
        Kubectl.Result templateChanged = as("tom", null, "patch", "deployment", "live", "--type=merge", "-p",
                "{\"spec\":{\"template\":{\"metadata\":{\"labels\":{\"" + POLICY + "\":\"carry\"}}}}}");
        assertThat(templateChanged.exitCode()).as(templateChanged.output()).isNotZero();
        // ... and a pod template labelled for a policy its workload is not (execution-safety-mode-integrity).
        assertThat(templateChanged.stderr()).containsAnyOf(refused, frozen,
                "Deployment live's pod template is labelled safety.marketintel.io/policy=carry but the Deployment itself is labelled for live");
        assertThat(labels("live")).containsEntry(POLICY, "live");

        // A StatefulSet alike.
        Kubectl.Result book = kubectl.runWithInput(deployment("live-book", "live", "Live", 0)
                .replace("kind: Deployment", "kind: StatefulSet").replace("  replicas: 0", "  replicas: 0\n  serviceName: live-book"),
                "apply", "-n", ns, "-f", "-");
        assertThat(book.exitCode()).as(book.output()).isZero();
        Kubectl.Result statefulSet = as("tom", null, "label", "statefulset", "live-book", POLICY + "-");
        assertThat(statefulSet.exitCode()).as(statefulSet.output()).isNotZero();
        assertThat(statefulSet.stderr()).contains("StatefulSet live-book cannot be detached from ExecutionPolicy live")
                .contains("it runs Live");

        // Other edits of the Live workload are this policy's business, not detaching.
        Kubectl.Result other = as("tom", null, "label", "deployment", "live", "desk=rates");
        assertThat(other.exitCode()).as(other.output()).isZero();
    }

    @Test
    void aWorkloadIsNotDetachedFromAStoppedPolicyButFromAnIdleOneItIs() {
        policy("idle", "DryRun");
        for (String name : List.of("idle", "momentum")) {
            Kubectl.Result created = kubectl.runWithInput(deployment(name, name, "DryRun", 0), "apply", "-n", ns, "-f", "-");
            assertThat(created.exitCode()).as(created.output()).isZero();
        }
        status("momentum", "{\"emergencyStop\":{\"active\":true,\"epoch\":2}}");
        String refused = "Deployment momentum cannot be detached from ExecutionPolicy momentum";
        await("detach refused").atMost(ENFORCED).pollInterval(Duration.ofMillis(250)).until(() -> {
            Kubectl.Result r = as("tom", null, "label", "deployment", "momentum", POLICY + "-", "--dry-run=server");
            return r.exitCode() != 0 && r.stderr().contains(refused);
        });
        Kubectl.Result stopped = as("tom", null, "label", "deployment", "momentum", POLICY + "-");
        assertThat(stopped.exitCode()).as(stopped.output()).isNotZero();
        assertThat(stopped.stderr()).contains(refused).contains("the policy is emergency-stopped")
                .contains("safety.marketintel.io/rearm=");

        Kubectl.Result idle = as("tom", null, "label", "deployment", "idle", POLICY + "-");
        assertThat(idle.exitCode()).as("neither Live nor stopped: " + idle.output()).isZero();

        // The operator is exempt, known by what it may do (patch policy status), not by its name: here a ServiceAccount
        // given exactly that and the workload rights, then the cluster admin.
        client.rbac().roles().inNamespace(ns).resource(new RoleBuilder().withNewMetadata().withName("like-the-operator").endMetadata()
                .addToRules(new PolicyRuleBuilder().withApiGroups("safety.marketintel.io").withResources("executionpolicies/status")
                        .withVerbs("patch").build())
                .addToRules(new PolicyRuleBuilder().withApiGroups("apps").withResources("deployments").withVerbs("get", "patch").build())
                .build()).create();
        client.rbac().roleBindings().inNamespace(ns).resource(new RoleBindingBuilder().withNewMetadata().withName("like-the-operator").endMetadata()
                .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("Role").withName("like-the-operator").endRoleRef()
                .addNewSubject().withKind("ServiceAccount").withName("reconciler").withNamespace(ns).endSubject()
                .build()).create();
        await("RBAC in force").atMost(ENFORCED).pollInterval(Duration.ofMillis(250)).until(() -> as("system:serviceaccount:" + ns + ":reconciler",
                null, "label", "deployment", "momentum", "--overwrite", POLICY + "=idle", "--dry-run=server").exitCode() == 0);
        Kubectl.Result byOperator = as("system:serviceaccount:" + ns + ":reconciler", null, "label", "deployment", "momentum",
                "--overwrite", POLICY + "=idle");
        assertThat(byOperator.exitCode()).as(byOperator.output()).isZero();
        Kubectl.Result byAdmin = kubectl.run("label", "deployment", "momentum", "-n", ns, POLICY + "-");
        assertThat(byAdmin.exitCode()).as(byAdmin.output()).isZero();
    }

    @Test
    void aLivePolicyIsNotDeletedUntilStatusShowsDryRun() {
        policy("live", "DryRun");
        status("live", "{\"mode\":\"Live\"}");
        String refused = "ExecutionPolicy live runs Live (status.mode Live) and cannot be deleted";
        await("delete refused").atMost(ENFORCED).pollInterval(Duration.ofMillis(250)).until(() -> {
            Kubectl.Result r = as("tom", null, "delete", "xp", "live", "--dry-run=server");
            return r.exitCode() != 0 && r.stderr().contains(refused);
        });
        Kubectl.Result trader = as("tom", null, "delete", "xp", "live", "--wait=false");
        assertThat(trader.exitCode()).as(trader.output()).isNotZero();
        assertThat(trader.stderr()).contains(refused).contains("execution-safety-latch")
                .contains("\"spec\":{\"mode\":\"DryRun\"}").contains("wait until status.mode is DryRun with no transition in flight, then delete");
        Kubectl.Result admin = kubectl.run("delete", "xp", "live", "-n", ns, "--wait=false");
        assertThat(admin.exitCode()).as("nor by the cluster admin: " + admin.output()).isNotZero();

        // Escalating: spec asks for Live while status still shows DryRun.
        status("live", "{\"mode\":\"DryRun\"}");
        Kubectl.Result escalating = as("bob", null, "patch", "xp", "live", "--type=merge", "-p",
                "{\"spec\":{\"mode\":\"Live\",\"riskLimits\":{\"maxOrderNotional\":1000,\"maxPosition\":1000,"
                        + "\"maxDailyLoss\":100,\"maxOrdersPerSecond\":5}}}");
        assertThat(escalating.exitCode()).as(escalating.output()).isZero();
        Kubectl.Result whileEscalating = as("tom", null, "delete", "xp", "live", "--wait=false");
        assertThat(whileEscalating.exitCode()).as(whileEscalating.output()).isNotZero();
        assertThat(whileEscalating.stderr()).contains("ExecutionPolicy live is on its way to Live (spec.mode Live, status.mode DryRun) and cannot be deleted");

        // An approved escalation turned back: spec says DryRun again and so does status.mode, but the transition to Live
        // is still in flight and may have written Live templates (insider tier, seed 1796645398426:359).
        status("live", "{\"mode\":\"DryRun\",\"transition\":{\"from\":\"DryRun\",\"to\":\"Live\",\"step\":\"ScalingDown\"}}");
        Kubectl.Result back = as("bob", null, "patch", "xp", "live", "--type=merge", "-p", "{\"spec\":{\"mode\":\"DryRun\"}}");
        assertThat(back.exitCode()).as(back.output()).isZero();
        Kubectl.Result turnedBack = as("tom", null, "delete", "xp", "live", "--wait=false");
        assertThat(turnedBack.exitCode()).as(turnedBack.output()).isNotZero();
        assertThat(turnedBack.stderr()).contains("ExecutionPolicy live has a transition from DryRun to Live in flight"
                + " (status.transition) and cannot be deleted");
        // Rolling back from Live: not done until the Live pods are gone.
        status("live", "{\"transition\":{\"from\":\"Live\",\"to\":\"DryRun\",\"step\":\"ScalingDown\"}}");
        Kubectl.Result rollingBack = as("tom", null, "delete", "xp", "live", "--wait=false");
        assertThat(rollingBack.exitCode()).as(rollingBack.output()).isNotZero();
        assertThat(rollingBack.stderr()).contains("has a transition from Live to DryRun in flight");
        // No transition, but a target the last pass found configured for Live.
        status("live", "{\"transition\":null,\"workloads\":[{\"kind\":\"Deployment\",\"name\":\"live\",\"mode\":\"Live\"},"
                + "{\"kind\":\"StatefulSet\",\"name\":\"book\",\"mode\":\"DryRun\"}]}");
        Kubectl.Result template = as("tom", null, "delete", "xp", "live", "--wait=false");
        assertThat(template.exitCode()).as(template.output()).isNotZero();
        assertThat(template.stderr()).contains("has targets configured for Live (status.workloads: Deployment/live)");
        status("live", "{\"workloads\":[{\"kind\":\"Deployment\",\"name\":\"live\",\"mode\":\"DryRun\"}]}");
        Kubectl.Result deleted = as("tom", null, "delete", "xp", "live", "--wait=false");
        assertThat(deleted.exitCode()).as(deleted.output()).isZero();

        // Asking for Live from Backtest runs nothing Live (Live is reachable only from DryRun): such a policy, the
        // shipped Live sample applied as it is, may be deleted.
        Kubectl.Result sample = as("bob", """
                apiVersion: safety.marketintel.io/v1alpha1
                kind: ExecutionPolicy
                metadata: {name: arbitrage, labels: {test.marketintel.io/operator: none}}
                spec:
                  mode: Live
                  workloads: {refs: [{kind: Deployment, name: arbitrage}]}
                  riskLimits: {maxOrderNotional: 1000, maxPosition: 1000, maxDailyLoss: 100, maxOrdersPerSecond: 5}
                """, "apply", "-f", "-");
        assertThat(sample.exitCode()).as(sample.output()).isZero();
        status("arbitrage", "{\"mode\":\"Backtest\"}");
        Kubectl.Result stalled = as("tom", null, "delete", "xp", "arbitrage", "--wait=false");
        assertThat(stalled.exitCode()).as(stalled.output()).isZero();
    }

    /** Issue 23: a policy a risk monitor holds in DryRun is latched like a stopped one: not deleted until re-armed. */
    @Test
    void aPolicyHeldInDryRunByAMonitorIsNotDeletedUntilReleased() {
        policy("held", "DryRun");
        status("held", "{\"mode\":\"DryRun\",\"emergencyStop\":{\"active\":false,\"epoch\":4},"
                + "\"monitorHold\":{\"active\":true,\"monitor\":\"order-rate\"}}");
        String refused = "ExecutionPolicy held is latched (held in DryRun by a risk monitor, epoch 4) and cannot be deleted";
        await("delete refused").atMost(ENFORCED).pollInterval(Duration.ofMillis(250)).until(() -> {
            Kubectl.Result r = as("tom", null, "delete", "xp", "held", "--dry-run=server");
            return r.exitCode() != 0 && r.stderr().contains(refused);
        });
        Kubectl.Result trader = as("tom", null, "delete", "xp", "held", "--wait=false");
        assertThat(trader.exitCode()).as(trader.output()).isNotZero();
        assertThat(trader.stderr()).contains(refused).contains("safety.marketintel.io/rearm=4");

        status("held", "{\"monitorHold\":null}");
        Kubectl.Result released = as("tom", null, "delete", "xp", "held", "--wait=false");
        assertThat(released.exitCode()).as(released.output()).isZero();
    }

    // --- helpers

    private void policy(String name, String mode) {
        Kubectl.Result r = kubectl.runWithInput("""
                apiVersion: safety.marketintel.io/v1alpha1
                kind: ExecutionPolicy
                metadata: {name: %s, labels: {test.marketintel.io/operator: none}}
                spec: {mode: %s, workloads: {refs: [{kind: Deployment, name: %s}]}}
                """.formatted(name, mode, name), "apply", "-n", ns, "-f", "-");
        assertThat(r.exitCode()).as(r.output()).isZero();
    }

    /** Writes status as the operator would (only it may: the status subresource). */
    /** Status as the operator writes it, with the Namespace's register of Live policies kept to it. */
    private void status(String policy, String json) {
        OperatorStatus.write(client, kubectl, ns, policy, json);
    }

    private void annotate(String kind, String name, String annotation) {
        Kubectl.Result r = kind.equals("namespace")
                ? kubectl.run("annotate", "namespace", name, "--overwrite", annotation)
                : kubectl.run("annotate", kind, name, "-n", ns, "--overwrite", annotation);
        assertThat(r.exitCode()).as(r.output()).isZero();
    }

    private static String pod(String name, String labels, String annotations, String env) {
        return """
                apiVersion: v1
                kind: Pod
                metadata: {name: %s, labels: %s%s}
                spec:
                  containers: [{name: app, image: registry.example/trader:1%s}]
                """.formatted(name, labels, annotations.isEmpty() ? "" : ", annotations: " + annotations,
                env.isEmpty() ? "" : ", " + env);
    }

    private static String deployment(String policy, int replicas) {
        return deployment(policy, policy, "DryRun", replicas);
    }

    /** A workload as the operator leaves it: its policy's label on it and its pod template, the mode on the template. */
    private static String deployment(String name, String policy, String mode, int replicas) {
        return """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: %s, labels: {%s: %s}}
                spec:
                  replicas: %d
                  selector: {matchLabels: {app: %s}}
                  template:
                    metadata:
                      labels: {app: %s, %s: %s}
                      annotations: {%s: %s}
                    spec:
                      containers: [{name: app, image: registry.example/trader:1, env: [{name: EXECUTION_MODE, value: %s}]}]
                """.formatted(name, POLICY, policy, replicas, name, name, POLICY, policy, MODE, mode, mode);
    }

    /** Admission policies (and their parameters) take a moment to be enforced after a change: poll a dry run. */
    private void awaitRefused(String user, String manifest, String message) {
        await("refused: " + message).atMost(ENFORCED).pollInterval(Duration.ofMillis(250)).until(() -> {
            Kubectl.Result r = as(user, manifest, "create", "--dry-run=server", "-f", "-");
            return r.exitCode() != 0 && r.stderr().contains(message);
        });
    }

    private void awaitAdmitted(String user, String manifest) {
        await("admitted").atMost(ENFORCED).pollInterval(Duration.ofMillis(250))
                .until(() -> as(user, manifest, "create", "--dry-run=server", "-f", "-").exitCode() == 0);
    }

    /** The ReplicaSet tried to create a pod and the API server refused it. */
    private void awaitFailedCreate() {
        await("FailedCreate").atMost(ENFORCED).pollInterval(Duration.ofMillis(250)).until(() -> {
            Kubectl.Result events = kubectl.run("get", "events", "-n", ns, "--field-selector", "reason=FailedCreate",
                    "-o", "jsonpath={.items[*].message}");
            return events.stdout().contains("execution-safety-stopped-pods");
        });
    }

    /** Observed for a while, not once: the controllers retry, and none of their attempts may start a pod. */
    private void assertNoPodFor(Duration observed) {
        await("no pod of the stopped system").during(observed).atMost(observed.plusSeconds(5)).pollInterval(Duration.ofMillis(250))
                .until(() -> client.pods().inNamespace(ns).list().getItems().isEmpty());
    }

    private java.util.Map<String, String> labels(String deployment) {
        HasMetadata d = client.apps().deployments().inNamespace(ns).withName(deployment).get();
        return d.getMetadata().getLabels();
    }

    private Kubectl.Result as(String user, String stdin, String... args) {
        return users.as(user, stdin, args);
    }
}
