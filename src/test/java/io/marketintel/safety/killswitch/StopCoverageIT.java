package io.marketintel.safety.killswitch;

import static io.marketintel.safety.testing.PolicyTestSupport.ready;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.function.Predicate;

import org.junit.jupiter.api.Test;

import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus.Phase;
import io.marketintel.safety.status.Conditions;
import io.marketintel.safety.testing.ControlPlaneResource;
import io.marketintel.safety.testing.Kubectl;
import io.marketintel.safety.testing.NamespacedTest;
import io.marketintel.safety.testing.PolicyTestSupport;
import io.marketintel.safety.testing.TradingSystem;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * Which workloads a stop covers when policies overlap (issue 18, docs/design.md "Which workloads a stop covers"),
 * on the real API server: the stop of one policy covers what that policy's passes cover, so a workload another
 * existing policy governs stops with that policy, not with a neighbour whose selector also matches it; a
 * namespace-wide stop stops every policy in the namespace, hence both.
 */
@QuarkusTest
@WithTestResource(value = ControlPlaneResource.class, scope = TestResourceScope.GLOBAL)
class StopCoverageIT extends NamespacedTest {
    static final String STOP = MetadataNames.EMERGENCY_STOP_ANNOTATION;
    static final Duration DEADLINE = Duration.ofSeconds(120);

    @Override
    protected boolean checkSafetyInvariants() {
        return true;
    }

    @Test
    void aPolicyStopLeavesAWorkloadAnotherPolicyGovernsAndANamespaceStopStopsBoth() {
        TradingSystem.deployment(client, ns, "fx-spot", "fx", 2);
        TradingSystem.deployment(client, ns, "fx-options", "fx", 2);
        // "options" governs fx-options first: the operator labels it for "options".
        apply(policy("options", "DryRun", "{refs: [{kind: Deployment, name: fx-options}]}", ""));
        awaitPolicy("options", "DryRun and Ready", p -> p.getStatus().mode == ExecutionMode.DRY_RUN && ready(p));
        assertThat(client.apps().deployments().inNamespace(ns).withName("fx-options").get().getMetadata().getLabels())
                .containsEntry(MetadataNames.POLICY_LABEL, "options");
        // "spot" selects every fx workload, fx-options included: that one is left to "options".
        apply(policy("spot", "DryRun", "{selector: {matchLabels: {app.kubernetes.io/part-of: fx}}}", ""));
        awaitPolicy("spot", "told fx-options is governed by options", p -> p.getStatus() != null
                && Conditions.find(p.getStatus().conditions, Conditions.STALLED)
                        .filter(c -> c.getMessage() != null
                                && c.getMessage().contains("Deployment/fx-options is governed by ExecutionPolicy/options"))
                        .isPresent());

        // A stop of "spot" zeroes its own workload, not the one "options" governs. Its generation shows any spec
        // write, even one "options" reverted at once (drift correction would put a zeroed count back).
        long generation = client.apps().deployments().inNamespace(ns).withName("fx-options").get().getMetadata().getGeneration();
        Kubectl.Result stop = kubectl.run("annotate", "xp", "spot", "-n", ns, STOP + "=spot desk only");
        assertThat(stop.exitCode()).as(stop.output()).isZero();
        await("fx-spot at zero").atMost(DEADLINE).pollInterval(Duration.ofMillis(100)).until(() -> replicas("fx-spot") == 0);
        awaitPolicy("spot", "stop recorded", p -> p.getStatus().phase == Phase.EmergencyStopped
                && p.getStatus().emergencyStop != null && p.getStatus().emergencyStop.latencyMillis != null);
        // Recorded means the kill switch's zero writes and the stopped pass's writes are done; held a while longer.
        await("fx-options untouched").during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(30))
                .until(() -> replicas("fx-options") == 2);
        assertThat(client.apps().deployments().inNamespace(ns).withName("fx-options").get().getMetadata().getGeneration())
                .as("fx-options spec never written").isEqualTo(generation);
        assertThat(PolicyTestSupport.get(client, ns, "options").getStatus().phase).isNotEqualTo(Phase.EmergencyStopped);

        // A namespace stop stops every policy in it, so both workloads.
        Kubectl.Result all = kubectl.run("annotate", "namespace", ns, STOP + "=whole desk");
        assertThat(all.exitCode()).as(all.output()).isZero();
        await("fx-options at zero").atMost(DEADLINE).pollInterval(Duration.ofMillis(100)).until(() -> replicas("fx-options") == 0);
        ExecutionPolicy options = awaitPolicy("options", "stopped by the namespace", p -> p.getStatus().phase == Phase.EmergencyStopped);
        assertThat(options.getStatus().emergencyStop.scope).isEqualTo("Namespace");
        assertThat(replicas("fx-spot")).isZero();
    }

    /**
     * Issue 19/20, a trader with {@code edit}: relabelling a workload for another policy that exists but neither
     * names nor selects it must not take it out of its own policy's stop (a label alone governs nothing).
     */
    @Test
    void relabellingAWorkloadForAnIdlePolicyDoesNotTakeItOutOfTheStop() {
        TradingSystem.deployment(client, ns, "fx-spot", "fx", 2);
        TradingSystem.deployment(client, ns, "idle-book", "idle", 1);
        apply(policy("idle", "DryRun", "{refs: [{kind: Deployment, name: idle-book}]}", ""));
        apply(policy("spot", "DryRun", "{refs: [{kind: Deployment, name: fx-spot}]}", ""));
        awaitPolicy("idle", "DryRun and Ready", p -> p.getStatus().mode == ExecutionMode.DRY_RUN && ready(p));
        awaitPolicy("spot", "DryRun and Ready", p -> p.getStatus().mode == ExecutionMode.DRY_RUN && ready(p));

        Kubectl.Result relabel = kubectl.run("label", "--overwrite", "deployment", "fx-spot", "-n", ns,
                MetadataNames.POLICY_LABEL + "=idle");
        assertThat(relabel.exitCode()).as(relabel.output()).isZero();
        Kubectl.Result stop = kubectl.run("annotate", "xp", "spot", "-n", ns, STOP + "=relabelled or not");
        assertThat(stop.exitCode()).as(stop.output()).isZero();
        await("fx-spot at zero").atMost(DEADLINE).pollInterval(Duration.ofMillis(100)).until(() -> replicas("fx-spot") == 0);
        awaitPolicy("spot", "stop recorded", p -> p.getStatus().phase == Phase.EmergencyStopped);
        assertThat(replicas("idle-book")).as("the idle policy's own workload is not this stop's").isEqualTo(1);
    }

    /**
     * Issue 19 (found by the insider tier) and DESIGN §11 P3, "wherever the spec points now": a workload taken out of
     * the spec keeps the policy's mark and runs as the operator left it; a stop reaches it and holds it at zero.
     */
    @Test
    void aStopReachesAWorkloadTakenOutOfTheSpec() {
        TradingSystem.deployment(client, ns, "d0", "fx", 2);
        TradingSystem.deployment(client, ns, "d1", "fx", 1);
        apply(policy("fx", "DryRun", "{refs: [{kind: Deployment, name: d0}, {kind: Deployment, name: d1}]}", ""));
        awaitPolicy("fx", "DryRun and Ready", p -> p.getStatus().mode == ExecutionMode.DRY_RUN && ready(p));
        apply(policy("fx", "DryRun", "{refs: [{kind: Deployment, name: d1}]}", ""));
        awaitPolicy("fx", "d1 only", p -> p.getStatus().observedGeneration != null && p.getStatus().observedGeneration == 2L && ready(p));
        assertThat(replicas("d0")).as("left as it was").isEqualTo(2);

        Kubectl.Result stop = kubectl.run("annotate", "namespace", ns, STOP + "=desk closed");
        assertThat(stop.exitCode()).as(stop.output()).isZero();
        try {
            await("d0 and d1 at zero").atMost(DEADLINE).pollInterval(Duration.ofMillis(100)).until(() -> replicas("d0") == 0 && replicas("d1") == 0);
            awaitPolicy("fx", "stop recorded", p -> p.getStatus().phase == Phase.EmergencyStopped);
            // Held: a hand scale-up of d0 is reverted by the stopped passes too.
            assertThat(kubectl.run("scale", "deployment", "d0", "-n", ns, "--replicas=2").exitCode()).isZero();
            await("d0 back at zero").atMost(DEADLINE).pollInterval(Duration.ofMillis(100)).until(() -> replicas("d0") == 0);
        } finally {
            kubectl.run("annotate", "namespace", ns, STOP + "-");
        }
    }

    private ExecutionPolicy awaitPolicy(String name, String what, Predicate<ExecutionPolicy> condition) {
        return PolicyTestSupport.awaitPolicy(client, ns, name, what, condition);
    }

    private int replicas(String deployment) {
        return client.apps().deployments().inNamespace(ns).withName(deployment).get().getSpec().getReplicas();
    }
}
