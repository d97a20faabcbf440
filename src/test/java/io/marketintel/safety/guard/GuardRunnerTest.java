package io.marketintel.safety.guard;

import static io.marketintel.safety.guard.GuardContexts.context;
import static io.marketintel.safety.guard.GuardContexts.guard;
import static io.marketintel.safety.guard.GuardContexts.policy;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.GuardType;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

class GuardRunnerTest {
    /** A guard whose behaviour the test sets: answer, sleep, or throw. */
    static SafetyGuard scripted(GuardType type, long sleepMillis, GuardOutcome answer, RuntimeException failure) {
        return new SafetyGuard() {
            @Override
            public GuardType type() {
                return type;
            }

            @Override
            public GuardOutcome evaluate(GuardContext ctx) throws Exception {
                Thread.sleep(sleepMillis); // the guard's own (simulated) work, not a wait for a condition
                if (failure != null) {
                    throw failure;
                }
                return answer;
            }
        };
    }

    static GuardRunner runner(SimpleMeterRegistry metrics, SafetyGuard... guards) {
        jakarta.enterprise.inject.Instance<SafetyGuard> all = new FakeInstance(List.of(guards));
        return new GuardRunner(all, Clock.systemUTC(), metrics);
    }

    @Test
    void runsGuardsInParallelEachWithinItsOwnTimeout() {
        var metrics = new SimpleMeterRegistry();
        GuardRunner runner = runner(metrics,
                scripted(GuardType.WorkloadReady, 300, GuardOutcome.pass("ready"), null),
                scripted(GuardType.RiskLimits, 300, GuardOutcome.fail("over the cap"), null),
                scripted(GuardType.Http, 5_000, GuardOutcome.pass("too late"), null),
                scripted(GuardType.DryRunSoak, 0, null, new IllegalStateException("status unreadable")));
        var p = policy(ExecutionMode.LIVE);
        long start = System.nanoTime();
        var results = runner.evaluate(List.of(
                context(p, guard("ready", GuardType.WorkloadReady, "2s"), ExecutionMode.DRY_RUN, ExecutionMode.LIVE, List.of(), Map.of(), null),
                context(p, guard("limits", GuardType.RiskLimits, "2s"), ExecutionMode.DRY_RUN, ExecutionMode.LIVE, List.of(), Map.of(), null),
                context(p, guard("desk", GuardType.Http, "500ms"), ExecutionMode.DRY_RUN, ExecutionMode.LIVE, List.of(), Map.of(), null),
                context(p, guard("soak", GuardType.DryRunSoak, "2s"), ExecutionMode.DRY_RUN, ExecutionMode.LIVE, List.of(), Map.of(), null),
                context(p, guard("hours", GuardType.TradingWindow, "2s"), ExecutionMode.DRY_RUN, ExecutionMode.LIVE, List.of(), Map.of(), null),
                context(p, guard("bad", GuardType.WorkloadReady, "soon"), ExecutionMode.DRY_RUN, ExecutionMode.LIVE, List.of(), Map.of(), null)));
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        assertThat(results).extracting(r -> r.name() + "=" + r.outcome().result()).containsExactly(
                "ready=Pass", "limits=Fail", "desk=Error", "soak=Error", "hours=Error", "bad=Error");
        assertThat(results.get(2).outcome().message()).isEqualTo("no answer within 500ms");
        assertThat(results.get(3).outcome().message()).contains("status unreadable");
        assertThat(results.get(4).outcome().message()).isEqualTo("no guard implements type TradingWindow");
        assertThat(results.get(5).outcome().message()).contains("timeout").contains("soon");
        assertThat(took).as("parallel, and the slow guard abandoned at its timeout").isLessThan(Duration.ofMillis(2_500));
        assertThat(results.get(2).took()).isBetween(Duration.ofMillis(450), Duration.ofMillis(2_000));
        assertThat(metrics.get("execution.safety.guard.evaluations").tags("type", "RiskLimits", "result", "Fail").counter().count())
                .isEqualTo(1.0);
        assertThat(metrics.get("execution.safety.guard.duration").tags("type", "Http", "result", "Error").timer().count()).isEqualTo(1);
    }

    @Test
    void twoGuardsForOneTypeAreAConfigurationError() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> runner(new SimpleMeterRegistry(),
                scripted(GuardType.Http, 0, GuardOutcome.pass("a"), null),
                scripted(GuardType.Http, 0, GuardOutcome.pass("b"), null)))
                .hasMessageContaining("two guards implement Http");
    }

    /** Just enough of CDI's Instance for the runner's constructor. */
    static final class FakeInstance implements jakarta.enterprise.inject.Instance<SafetyGuard> {
        private final List<SafetyGuard> guards;

        FakeInstance(List<SafetyGuard> guards) {
            this.guards = guards;
        }

        @Override
        public Iterator<SafetyGuard> iterator() {
            return guards.iterator();
        }

        @Override
        public jakarta.enterprise.inject.Instance<SafetyGuard> select(java.lang.annotation.Annotation... q) {
            throw new UnsupportedOperationException();
        }

        @Override
        public <U extends SafetyGuard> jakarta.enterprise.inject.Instance<U> select(Class<U> t, java.lang.annotation.Annotation... q) {
            throw new UnsupportedOperationException();
        }

        @Override
        public <U extends SafetyGuard> jakarta.enterprise.inject.Instance<U> select(jakarta.enterprise.util.TypeLiteral<U> t,
                java.lang.annotation.Annotation... q) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean isUnsatisfied() {
            return guards.isEmpty();
        }

        @Override
        public boolean isAmbiguous() {
            return guards.size() > 1;
        }

        @Override
        public void destroy(SafetyGuard instance) {
        }

        @Override
        public Handle<SafetyGuard> getHandle() {
            throw new UnsupportedOperationException();
        }

        @Override
        public Iterable<? extends Handle<SafetyGuard>> handles() {
            throw new UnsupportedOperationException();
        }

        @Override
        public SafetyGuard get() {
            return guards.get(0);
        }
    }
}
