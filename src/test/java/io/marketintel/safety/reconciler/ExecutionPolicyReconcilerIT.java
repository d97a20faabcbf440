package io.marketintel.safety.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.Condition;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.status.Conditions;
import io.marketintel.safety.testing.NamespacedTest;
import io.marketintel.safety.testing.ControlPlaneResource;
import io.marketintel.safety.testing.Kubectl;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

/** The operator, in-process, against the real control plane: status follows every generation. */
@QuarkusTest
@WithTestResource(value = ControlPlaneResource.class, scope = TestResourceScope.GLOBAL)
class ExecutionPolicyReconcilerIT extends NamespacedTest {
    static final Duration DEADLINE = Duration.ofSeconds(90);

    /** In Quarkus' class loader too, an await polls again after a transient read (it ended MetricsIT on a loaded CI). */
    @Test
    void awaitsOutlastTransientReadsHereToo() {
        java.util.concurrent.atomic.AtomicInteger reads = new java.util.concurrent.atomic.AtomicInteger();
        org.awaitility.Awaitility.await("transient reads").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10))
                .until(() -> {
                    if (reads.incrementAndGet() < 3) {
                        throw new io.fabric8.kubernetes.client.KubernetesClientException("timeout period exceeded");
                    }
                    return true;
                });
        assertThat(reads).hasValue(3);
    }

    @Test
    void reportsReadyForEachGenerationAndKubectlWaitReturns() {
        io.marketintel.safety.testing.TradingSystem.deployment(client, ns, "momentum-trader", "momentum", 1);
        apply("""
                apiVersion: safety.marketintel.io/v1alpha1
                kind: ExecutionPolicy
                metadata:
                  name: momentum
                spec:
                  mode: Backtest
                  workloads:
                    selector:
                      matchLabels: {app.kubernetes.io/part-of: momentum}
                """);

        Kubectl.Result wait = kubectl.run("wait", "-n", ns, "--for=condition=Ready", "xp/momentum", "--timeout=60s");
        assertThat(wait.exitCode()).as(wait.output()).isZero();
        assertThat(wait.stdout()).contains("condition met");

        ExecutionPolicy first = awaitObserved(1);
        assertThat(first.getStatus().conditions).extracting(Condition::getType)
                .contains(Conditions.READY, Conditions.RECONCILING, Conditions.STALLED);
        assertThat(condition(first, Conditions.RECONCILING).getStatus()).isEqualTo("False");
        assertThat(condition(first, Conditions.STALLED).getStatus()).isEqualTo("False");
        assertThat(first.getStatus().conditions).allSatisfy(c -> {
            assertThat(c.getObservedGeneration()).isEqualTo(1L);
            assertThat(c.getLastTransitionTime()).isNotBlank();
            assertThat(c.getReason()).isNotBlank();
        });
        String readySince = condition(first, Conditions.READY).getLastTransitionTime();

        // A new generation that keeps the mode (a merge patch: no conflict with the operator's status writes).
        client.resources(ExecutionPolicy.class).inNamespace(ns).withName("momentum").patch(
                io.fabric8.kubernetes.client.dsl.base.PatchContext.of(io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
                "{\"spec\":{\"transitionTimeout\":\"10m\"}}");
        ExecutionPolicy second = awaitObserved(2);
        assertThat(condition(second, Conditions.READY).getObservedGeneration()).isEqualTo(2L);
        assertThat(condition(second, Conditions.READY).getLastTransitionTime())
                .as("Ready stayed True, so its lastTransitionTime must not move").isEqualTo(readySince);

        Kubectl.Result get = kubectl.run("get", "xp", "-n", ns, "momentum", "--no-headers");
        assertThat(get.stdout()).containsPattern("momentum\\s+Backtest\\s+Backtest\\s+Active\\s+True");
    }

    private ExecutionPolicy awaitObserved(long generation) {
        return await("status.observedGeneration=" + generation).atMost(DEADLINE).until(
                () -> client.resources(ExecutionPolicy.class).inNamespace(ns).withName("momentum").get(),
                p -> p.getStatus() != null && p.getStatus().observedGeneration != null
                        && p.getStatus().observedGeneration == generation
                        && Conditions.isTrue(p.getStatus().conditions, Conditions.READY));
    }

    private static Condition condition(ExecutionPolicy p, String type) {
        return Conditions.find(p.getStatus().conditions, type).orElseThrow();
    }
}
