package io.marketintel.safety.killswitch;

import static io.marketintel.safety.testing.PolicyTestSupport.ready;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Map;
import java.util.function.Predicate;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus.Phase;
import io.marketintel.safety.status.Conditions;
import io.marketintel.safety.testing.ControlPlaneResource;
import io.marketintel.safety.testing.Kubectl;
import io.marketintel.safety.testing.NamespacedTest;
import io.marketintel.safety.testing.PodHolds;
import io.marketintel.safety.testing.PolicyTestSupport;
import io.marketintel.safety.testing.TradingSystem;
import io.marketintel.safety.testing.Writes;
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

    /**
     * Issue 20: a stop is done only when the pods are gone. A StatefulSet with the default OrderedReady pod management
     * deletes none of its pods at {@code replicas: 0} while two or more are unavailable (here: a long minReadySeconds),
     * and a bare pod labelled for the policy has no controller at all: the stop deletes them directly. Until the last
     * pod is gone the phase says Stopping and status names what still runs; then EmergencyStopped, with the time it took.
     */
    @Test
    void aStopIsDoneOnlyWhenEveryPodIsGoneEvenWhereItsControllerWouldWait() {
        client.apps().statefulSets().inNamespace(ns).resource(new StatefulSetBuilder()
                .withNewMetadata().withName("book").withLabels(Map.of(TradingSystem.PART_OF, "fx")).endMetadata()
                .withNewSpec().withReplicas(2).withServiceName("book").withPodManagementPolicy("OrderedReady")
                .withNewSelector().withMatchLabels(Map.of("app", "book")).endSelector()
                .withNewTemplate().withNewMetadata().withLabels(Map.of("app", "book")).endMetadata()
                .withNewSpec().addNewContainer().withName("strategy").withImage("registry.example/book:1.0").endContainer()
                .endSpec().endTemplate().endSpec().build()).create();
        apply(policy("fx", "DryRun", "{refs: [{kind: StatefulSet, name: book}]}", ""));
        awaitPolicy("fx", "DryRun and Ready", p -> p.getStatus().mode == ExecutionMode.DRY_RUN && ready(p));
        // Both pods now unavailable for an hour: at replicas 0 the StatefulSet controller waits and deletes neither.
        client.apps().statefulSets().inNamespace(ns).withName("book")
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"minReadySeconds\":3600}}");
        // A bare pod carrying the policy's mark, and a test finalizer on book-0 so the stop is seen in progress.
        // (In DryRun like the rest, so that the checker sees no two modes at once.)
        client.pods().inNamespace(ns).resource(new PodBuilder().withNewMetadata().withName("stray")
                .withLabels(Map.of(MetadataNames.POLICY_LABEL, "fx"))
                .withAnnotations(Map.of(MetadataNames.MODE_ANNOTATION, "DryRun")).endMetadata()
                .withNewSpec().addNewContainer().withName("strategy").withImage("registry.example/book:1.0")
                .addNewEnv().withName("EXECUTION_MODE").withValue("DryRun").endEnv().endContainer()
                .endSpec().build()).create();
        await("the stray pod runs").atMost(DEADLINE).until(() -> "Running".equals(phaseOf("stray")));
        Writes.edit(client.pods().inNamespace(ns).withName("book-0"), p -> {
            p.getMetadata().getFinalizers().add(PodHolds.HOLD);
            return p;
        });

        Kubectl.Result stop = kubectl.run("annotate", "xp", "fx", "-n", ns, STOP + "=venue halted");
        assertThat(stop.exitCode()).as(stop.output()).isZero();
        try {
            ExecutionPolicy stopping = awaitPolicy("fx", "Stopping, naming the pod still there", p -> p.getStatus().phase == Phase.Stopping
                    && p.getStatus().emergencyStop != null && p.getStatus().emergencyStop.running != null
                    && p.getStatus().emergencyStop.running.stream().anyMatch(r -> r.startsWith("Pod/book-0 (StatefulSet/book): terminating")));
            assertThat(stopping.getStatus().effective).isEqualTo("Stopping");
            assertThat(stopping.getStatus().emergencyStop.podsRunning).isPositive();
            await("book-1 and the stray pod gone").atMost(DEADLINE).pollInterval(Duration.ofMillis(100))
                    .until(() -> client.pods().inNamespace(ns).withName("book-1").get() == null
                            && client.pods().inNamespace(ns).withName("stray").get() == null);
        } finally {
            PodHolds.release(client, ns);
        }
        await("no pod left").atMost(DEADLINE).pollInterval(Duration.ofMillis(100))
                .until(() -> client.pods().inNamespace(ns).list().getItems().isEmpty());
        ExecutionPolicy stopped = awaitPolicy("fx", "EmergencyStopped once no pod is left",
                p -> p.getStatus().phase == Phase.EmergencyStopped);
        assertThat(stopped.getStatus().effective).isEqualTo("Stopped");
        assertThat(stopped.getStatus().emergencyStop.podsRunning).isZero();
        assertThat(stopped.getStatus().emergencyStop.running).isNull();
        assertThat(stopped.getStatus().emergencyStop.completedMillis).isNotNull()
                .isGreaterThanOrEqualTo(stopped.getStatus().emergencyStop.latencyMillis);
        assertThat(client.apps().statefulSets().inNamespace(ns).withName("book").get().getSpec().getReplicas()).isZero();
    }

    /**
     * Issue 20: a namespace-wide stop covers every pod that carries a mode, not only what a policy governs (here the
     * namespace has no policy at all): a Deployment whose pods read EXECUTION_MODE goes to zero and its pods go, a bare
     * pod with the mode annotation goes; a workload without a mode is left alone.
     */
    @Test
    void aNamespaceStopRemovesEveryPodThatCarriesAModeGovernedOrNot() {
        client.apps().deployments().inNamespace(ns).resource(new DeploymentBuilder()
                .withNewMetadata().withName("rogue").endMetadata()
                .withNewSpec().withReplicas(2).withNewSelector().withMatchLabels(Map.of("app", "rogue")).endSelector()
                .withNewTemplate().withNewMetadata().withLabels(Map.of("app", "rogue")).endMetadata()
                .withNewSpec().addNewContainer().withName("strategy").withImage("registry.example/rogue:1.0")
                .addNewEnv().withName("EXECUTION_MODE").withValue("DryRun").endEnv().endContainer()
                .endSpec().endTemplate().endSpec().build()).create();
        TradingSystem.deployment(client, ns, "web", "portal", 1);
        client.pods().inNamespace(ns).resource(new PodBuilder().withNewMetadata().withName("manual")
                .withAnnotations(Map.of(MetadataNames.MODE_ANNOTATION, "DryRun")).endMetadata()
                .withNewSpec().addNewContainer().withName("strategy").withImage("registry.example/manual:1.0").endContainer()
                .endSpec().build()).create();
        await("3 pods with a mode and 1 without run").atMost(DEADLINE).until(() -> client.pods().inNamespace(ns).list().getItems()
                .stream().filter(p -> "Running".equals(p.getStatus().getPhase())).count() == 4);

        Kubectl.Result stop = kubectl.run("annotate", "namespace", ns, STOP + "=desk closed");
        assertThat(stop.exitCode()).as(stop.output()).isZero();
        try {
            await("rogue at zero and every pod with a mode gone").atMost(DEADLINE).pollInterval(Duration.ofMillis(100))
                    .until(() -> replicas("rogue") == 0 && client.pods().inNamespace(ns).list().getItems().stream()
                            .allMatch(p -> p.getMetadata().getName().startsWith("web-")));
            await("web untouched").during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(30))
                    .until(() -> replicas("web") == 1 && client.pods().inNamespace(ns).withLabel("app", "web").list().getItems().size() == 1);
        } finally {
            kubectl.run("annotate", "namespace", ns, STOP + "-");
        }
    }

    private String phaseOf(String pod) {
        var p = client.pods().inNamespace(ns).withName(pod).get();
        return p == null || p.getStatus() == null ? null : p.getStatus().getPhase();
    }

    private ExecutionPolicy awaitPolicy(String name, String what, Predicate<ExecutionPolicy> condition) {
        return PolicyTestSupport.awaitPolicy(client, ns, name, what, condition);
    }

    private int replicas(String deployment) {
        return client.apps().deployments().inNamespace(ns).withName(deployment).get().getSpec().getReplicas();
    }
}
