package io.marketintel.safety.killswitch;

import static io.marketintel.safety.testing.PolicyTestSupport.ready;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.status.Conditions;
import io.marketintel.safety.testing.ControlPlaneResource;
import io.marketintel.safety.testing.NamespacedTest;
import io.marketintel.safety.testing.PodHolds;
import io.marketintel.safety.testing.PolicyTestSupport;
import io.marketintel.safety.testing.TradingSystem;
import io.marketintel.safety.testing.Users;
import io.marketintel.safety.testing.Writes;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * DESIGN §3.5: repeated failures within the window trip the breaker into the safest mode, latched like a
 * stop. kwok plays the kubelet, so a crash loop is written into the pods' status the way a kubelet would
 * report it (CrashLoopBackOff with a restart count).
 */
@QuarkusTest
@WithTestResource(value = ControlPlaneResource.class, scope = TestResourceScope.GLOBAL)
class CircuitBreakerIT extends NamespacedTest {
    static final Duration DEADLINE = Duration.ofSeconds(90);

    @Test
    void crashLoopingPodsTripTheBreakerIntoBacktestLatchedUntilReArmed() {
        Users users = new Users(client, kubectl, ns).bind("alice", "execution-approver");
        TradingSystem.deployment(client, ns, "alpha", "fx", 3);
        apply(policy("fx", "DryRun", "{refs: [{kind: Deployment, name: alpha}]}", "circuitBreaker: {maxFailures: 3, window: 10m}"));
        awaitPolicy("DryRun", p -> p.getStatus().mode == ExecutionMode.DRY_RUN && ready(p));

        List<Pod> pods = client.pods().inNamespace(ns).withLabel("app", "alpha").list().getItems();
        assertThat(pods).hasSize(3);
        crashLoop(pods.get(0), 1);
        ExecutionPolicy one = awaitPolicy("one failure counted", p -> p.getStatus().circuitBreaker != null
                && p.getStatus().circuitBreaker.failures.size() == 1);
        assertThat(one.getStatus().circuitBreaker.state).isEqualTo("Closed");
        assertThat(one.getStatus().mode).isEqualTo(ExecutionMode.DRY_RUN);
        crashLoop(pods.get(1), 1);
        crashLoop(pods.get(2), 2);

        ExecutionPolicy p = awaitPolicy("tripped into Backtest", x -> x.getStatus().circuitBreaker != null
                && "Open".equals(x.getStatus().circuitBreaker.state) && x.getStatus().mode == ExecutionMode.BACKTEST
                && x.getStatus().transition == null);
        assertThat(p.getStatus().circuitBreaker.failures).hasSize(3).allSatisfy(f -> assertThat(f.reason).isEqualTo("CrashLoop"));
        assertThat(p.getStatus().circuitBreaker.openedAt).isNotNull();
        var stalled = Conditions.find(p.getStatus().conditions, Conditions.STALLED).orElseThrow();
        assertThat(stalled.getReason()).isEqualTo("CircuitBreakerOpen");
        assertThat(stalled.getMessage()).contains("circuit breaker").contains("safety.marketintel.io/rearm=" + p.getStatus().emergencyStop.epoch);
        assertThat(Conditions.find(p.getStatus().conditions, Conditions.EMERGENCY_STOPPED).orElseThrow().getReason())
                .isEqualTo("CircuitBreakerOpen");
        assertThat(p.getStatus().history).extracting(h -> h.trigger).contains("CircuitBreakerTripped");
        assertThat(kubectl.run("events", "-n", ns, "--for", "xp/fx").output()).contains("CircuitBreakerTripped");

        // Latched: the new Backtest pods are healthy, yet it stays in Backtest until re-armed.
        long epoch = p.getStatus().emergencyStop.epoch;
        assertThat(users.as("alice", null, "annotate", "xp", "fx", "safety.marketintel.io/rearm=" + epoch).exitCode()).isZero();
        ExecutionPolicy resumed = awaitPolicy("re-armed, back in DryRun", x -> x.getStatus().mode == ExecutionMode.DRY_RUN && ready(x));
        assertThat(resumed.getStatus().circuitBreaker.state).isEqualTo("Closed");
        assertThat(resumed.getStatus().circuitBreaker.failures).isEmpty();
        assertThat(resumed.getStatus().emergencyStop.rearmedBy).isEqualTo("alice");
    }

    @Test
    void anEscalationRolledBackAfterItsTimeoutCountsAsAFailure() {
        TradingSystem.deployment(client, ns, "alpha", "fx", 1);
        String extra = "approval: {requiredForLive: 0}\ntransitionTimeout: 2s\ncircuitBreaker: {maxFailures: 3, window: 10m}";
        apply(policy("fx", "DryRun", "{refs: [{kind: Deployment, name: alpha}]}", extra));
        awaitPolicy("DryRun", p -> p.getStatus().mode == ExecutionMode.DRY_RUN && ready(p));
        // The DryRun pod cannot finish terminating, so the escalation cannot get past draining.
        String hold = "test.marketintel.io/hold";
        PodHolds.hold(client, ns, "alpha");
        try {
            apply(policy("fx", "Live", "{refs: [{kind: Deployment, name: alpha}]}", extra));
            ExecutionPolicy p = awaitPolicy("rolled back and counted", x -> x.getStatus().circuitBreaker != null
                    && x.getStatus().circuitBreaker.failures.size() == 1);
            var failure = p.getStatus().circuitBreaker.failures.get(0);
            assertThat(failure.reason).isEqualTo("TransitionTimedOut");
            assertThat(failure.message).contains("did not complete within 2s").contains("rolling back to DryRun");
            assertThat(p.getStatus().circuitBreaker.state).isEqualTo("Closed");
            apply(policy("fx", "DryRun", "{refs: [{kind: Deployment, name: alpha}]}", extra));
        } finally {
            PodHolds.release(client, ns);
        }
        awaitPolicy("settled in DryRun", p -> p.getStatus().mode == ExecutionMode.DRY_RUN && ready(p));
    }

    /** What a kubelet reports for a container that keeps crashing. */
    private void crashLoop(Pod pod, int restarts) {
        Writes.editStatus(client.pods().inNamespace(ns).withName(pod.getMetadata().getName()), p -> {
            p.getStatus().setContainerStatuses(List.of(new ContainerStatusBuilder()
                    .withName("strategy").withImage(p.getSpec().getContainers().get(0).getImage()).withImageID("")
                    .withReady(false).withStarted(false).withRestartCount(restarts)
                    .withNewState().withNewWaiting().withReason("CrashLoopBackOff")
                    .withMessage("back-off 10s restarting failed container").endWaiting().endState()
                    .build()));
            return p;
        });
    }


    private ExecutionPolicy awaitPolicy(String what, Predicate<ExecutionPolicy> condition) {
        return PolicyTestSupport.awaitPolicy(client, ns, "fx", what, condition);
    }
}
