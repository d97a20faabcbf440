package io.marketintel.safety.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.status.Conditions;
import io.marketintel.safety.testing.NamespacedTest;
import io.marketintel.safety.testing.PolicyTestSupport;
import io.marketintel.safety.testing.ControlPlane;
import io.marketintel.safety.testing.OperatorProcess;
import io.marketintel.safety.testing.PodHolds;
import io.marketintel.safety.testing.TradingSystem;

/**
 * The operator process is SIGKILLed between each actuation step and started again; each transition
 * completes correctly and nothing is done twice. The test holds the world at a step so the kill lands
 * exactly there: a finalizer keeps old pods terminating (after "scale-down written"); a
 * ValidatingAdmissionPolicy refuses scale-ups (after "template patched").
 */
class OperatorRestartIT extends NamespacedTest {
    static final Duration DEADLINE = Duration.ofSeconds(90);

    OperatorProcess operator;

    @Override
    protected boolean checkSafetyInvariants() {
        return true;
    }

    @AfterEach
    void tearDown() {
        if (operator != null) {
            operator.close();
        }
        kubectl.run("delete", "validatingadmissionpolicybinding", "hold-scale-up-" + ns, "--ignore-not-found");
        kubectl.run("delete", "validatingadmissionpolicy", "hold-scale-up-" + ns, "--ignore-not-found");
    }

    @Test
    void killedBetweenEveryActuationStepTheTransitionStillCompletesOnce() {
        TradingSystem.deployment(client, ns, "alpha", "restart", 2);
        apply(processPolicy("restart", "DryRun", "{refs: [{kind: Deployment, name: alpha}]}", """
                replicas: {backtest: 1, dryRun: 2, live: 3}
                approval: {requiredForLive: 0}
                """));
        operator = OperatorProcess.start(ControlPlane.shared(), ns);
        awaitReadyIn(ExecutionMode.DRY_RUN, 2);

        // 1. Killed with the scale-down written and old pods still terminating; restarted before they go.
        holdPods();
        setMode(ExecutionMode.LIVE);
        killWhen("scale-down written", () -> replicas() == 0 && !pods().isEmpty());
        // The ReplicaSet controller marks the old pods for deletion one after the other (the operator is down by now); the
        // finalizer holds each. Awaited, not asserted at once: CI saw the kill land between the two deletions (at bfad22b).
        await("old pods held, every one terminating, while the operator is down").atMost(DEADLINE).pollInterval(Duration.ofMillis(100))
                .until(() -> {
                    List<Pod> held = pods();
                    return !held.isEmpty() && held.stream().allMatch(p -> p.getMetadata().getDeletionTimestamp() != null);
                });
        restart();
        releasePods();
        awaitReadyIn(ExecutionMode.LIVE, 3);

        // 2. Killed while draining; the old pods go while it is down; restarted with "pods gone".
        holdPods();
        setMode(ExecutionMode.DRY_RUN);
        killWhen("scale-down written", () -> replicas() == 0 && !pods().isEmpty());
        releasePods();
        await("pods gone while the operator is down").atMost(DEADLINE).until(() -> pods().isEmpty());
        assertThat(template()).as("template untouched while down").isEqualTo("Live");
        restart();
        awaitReadyIn(ExecutionMode.DRY_RUN, 2);

        // 3. Killed with nothing running and the start refused by the API server. A trading system of one workload is
        // configured and scaled in one write (design §7), so the refusal leaves the template as it was: never patched
        // without its count.
        holdScaleUps();
        setMode(ExecutionMode.BACKTEST);
        killWhen("start refused", () -> replicas() == 0 && pods().isEmpty()
                && "ActuationFailed".equals(PolicyTestSupport.condition(policy(), Conditions.STALLED).getReason()));
        assertThat(template()).as("the template is not patched without its count").isEqualTo("DryRun");
        assertThat(PolicyTestSupport.condition(policy(), Conditions.STALLED).getMessage())
                .contains("could not write Deployment/alpha").contains("test hold: scale-up refused");
        releaseScaleUps();
        restart();
        awaitReadyIn(ExecutionMode.BACKTEST, 1);

        // 4. Killed right after the scale-up was written.
        setMode(ExecutionMode.DRY_RUN);
        killWhen("scale-up written", () -> "DryRun".equals(template()) && replicas() == 2);
        restart();
        awaitReadyIn(ExecutionMode.DRY_RUN, 2);

        ExecutionPolicy p = policy();
        assertThat(p.getStatus().history).as("one record per transition, none twice")
                .extracting(h -> h.from + "->" + h.to)
                .containsExactly("Backtest->DryRun", "DryRun->Backtest", "Live->DryRun", "DryRun->Live", "null->DryRun");
        invariants.assertNone();
        assertThat(invariants.maxAlive()).as("no pod started twice: %s", invariants.trail())
                .containsEntry("Live", 3).containsEntry("DryRun", 2).containsEntry("Backtest", 1);
    }

    private void killWhen(String step, BooleanSupplier reached) {
        await(step).atMost(DEADLINE).pollInterval(Duration.ofMillis(20)).until(reached::getAsBoolean);
        operator.kill();
        assertThat(operator.alive()).isFalse();
    }

    private void restart() {
        operator = OperatorProcess.start(ControlPlane.shared(), ns);
    }

    private void awaitReadyIn(ExecutionMode mode, int count) {
        await("Ready in " + mode).atMost(DEADLINE).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            ExecutionPolicy p = policy();
            assertThat(p.getStatus()).isNotNull();
            assertThat(p.getStatus().mode).isEqualTo(mode);
            assertThat(Conditions.isTrue(p.getStatus().conditions, Conditions.READY)).as("Ready").isTrue();
        });
        assertThat(replicas()).isEqualTo(count);
        assertThat(pods()).hasSize(count).allSatisfy(
                pod -> assertThat(pod.getMetadata().getAnnotations()).containsEntry(MetadataNames.MODE_ANNOTATION, mode.wireName()));
    }

    private void holdPods() {
        PodHolds.hold(client, ns, null);
    }

    private void releasePods() {
        PodHolds.release(client, ns);
    }

    /** An admission policy refusing any Deployment write with replicas above zero in this namespace. */
    private void holdScaleUps() {
        apply("""
                apiVersion: admissionregistration.k8s.io/v1
                kind: ValidatingAdmissionPolicy
                metadata: {name: hold-scale-up-%1$s}
                spec:
                  failurePolicy: Fail
                  matchConstraints:
                    resourceRules:
                    - {apiGroups: [apps], apiVersions: [v1], operations: [UPDATE], resources: [deployments]}
                  validations:
                  - expression: "object.spec.replicas == 0"
                    message: "test hold: scale-up refused"
                ---
                apiVersion: admissionregistration.k8s.io/v1
                kind: ValidatingAdmissionPolicyBinding
                metadata: {name: hold-scale-up-%1$s}
                spec:
                  policyName: hold-scale-up-%1$s
                  validationActions: [Deny]
                  matchResources:
                    namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: %1$s}}
                """.formatted(ns));
        await("admission hold active").atMost(DEADLINE).until(() -> !scaleUpAdmitted());
    }

    private void releaseScaleUps() {
        kubectl.run("delete", "validatingadmissionpolicybinding", "hold-scale-up-" + ns);
        kubectl.run("delete", "validatingadmissionpolicy", "hold-scale-up-" + ns);
        await("admission hold gone").atMost(DEADLINE).until(this::scaleUpAdmitted);
    }

    /** A server-side dry run of a write to the Deployment itself (not the scale subresource). */
    private boolean scaleUpAdmitted() {
        return kubectl.run("patch", "-n", ns, "deployment/alpha", "--type=merge", "-p", "{\"spec\":{\"replicas\":5}}",
                "--dry-run=server").exitCode() == 0;
    }

    private void setMode(ExecutionMode mode) {
        PolicyTestSupport.setMode(client, ns, "restart", mode);
    }

    private ExecutionPolicy policy() {
        return PolicyTestSupport.get(client, ns, "restart");
    }

    private List<Pod> pods() {
        return client.pods().inNamespace(ns).list().getItems();
    }

    private Deployment deployment() {
        return client.apps().deployments().inNamespace(ns).withName("alpha").get();
    }

    private int replicas() {
        return deployment().getSpec().getReplicas();
    }

    private String template() {
        var a = deployment().getSpec().getTemplate().getMetadata().getAnnotations();
        return a == null ? null : a.get(MetadataNames.MODE_ANNOTATION);
    }
}
