package io.marketintel.safety.pass;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.marketintel.safety.actuation.Actuator;
import io.marketintel.safety.actuation.Convergence;
import io.marketintel.safety.actuation.ObservedWorkload;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Issue 22: a pass reads the informers, which may lag the API server; a write that could start pods is never decided from
 * them alone. The examples are the lag that matters (an old-mode pod the informer does not show yet); the property holds
 * for any pair of answers.
 */
class CacheFirstTest {
    private static final PassPlanner PLANNER = new PassPlanner(new KubernetesSerialization());
    private static final Instant NOW = Instant.parse("2026-03-02T14:00:00Z");

    @Test
    void aStartIsDecidedFromTheApiServerWhenTheInformerHasNotSeenAnOldModePodYet() {
        // Switching to DryRun: the template is still Backtest at zero; the informer shows no pod, the API server one
        // Backtest pod that its controller created a moment before it saw its zero.
        ObservedWorkload cached = workload(Optional.of(ExecutionMode.BACKTEST), 0, List.of(), 0, "7");
        ObservedWorkload asked = workload(Optional.of(ExecutionMode.BACKTEST), 0, List.of(Optional.of(ExecutionMode.BACKTEST)), 1, "7");
        AtomicInteger apiServerReads = new AtomicInteger();

        CacheFirst.Decided d = CacheFirst.decide(false, fromApiServer -> {
            if (fromApiServer) {
                apiServerReads.incrementAndGet();
            }
            return resolution(fromApiServer ? asked : cached);
        }, CacheFirstTest::observe, PLANNER);

        assertThat(PLANNER.plan(observe(resolution(cached))).writes()).as("from the informer alone it would configure DryRun")
                .anyMatch(Convergence.Write::onlyIfUnchanged);
        assertThat(apiServerReads).hasValue(1);
        assertThat(d.readTwice()).isTrue();
        assertThat(d.plan().writes()).as("decided from the API server: wait for the Backtest pod").isEmpty();
        assertThat(d.plan().convergence().step()).isEqualTo(Convergence.Step.Draining);
    }

    @Test
    void aPassThatOnlyWaitsDoesNotAskTheApiServer() {
        ObservedWorkload draining = workload(Optional.of(ExecutionMode.BACKTEST), 0, List.of(Optional.of(ExecutionMode.BACKTEST)), 1, "7");
        AtomicInteger apiServerReads = new AtomicInteger();

        CacheFirst.Decided d = CacheFirst.decide(false, fromApiServer -> {
            if (fromApiServer) {
                apiServerReads.incrementAndGet();
            }
            return resolution(draining);
        }, CacheFirstTest::observe, PLANNER);

        assertThat(apiServerReads).hasValue(0);
        assertThat(d.readTwice()).isFalse();
        assertThat(d.plan().convergence().step()).isEqualTo(Convergence.Step.Draining);
    }

    @Test
    void aPassThatReadTheApiServerFirstDoesNotReadItAgain() {
        ObservedWorkload idle = workload(Optional.of(ExecutionMode.BACKTEST), 0, List.of(), 0, "7");
        AtomicInteger reads = new AtomicInteger();

        CacheFirst.Decided d = CacheFirst.decide(true, fromApiServer -> {
            assertThat(fromApiServer).isTrue();
            reads.incrementAndGet();
            return resolution(idle);
        }, CacheFirstTest::observe, PLANNER);

        assertThat(reads).hasValue(1);
        assertThat(d.plan().writes()).anyMatch(Convergence.Write::onlyIfUnchanged);
    }

    /**
     * Whatever the informers and the API server answer: a plan with a write that could start pods is the plan of the API
     * server's answer, and the API server is asked at most once.
     */
    @Property(tries = 2000)
    void aWriteThatCouldStartPodsIsAlwaysThePlanOfTheApiServersAnswer(@ForAll("workloads") List<ObservedWorkload> cached,
            @ForAll("workloads") List<ObservedWorkload> asked, @ForAll("modes") ExecutionMode wanted) {
        AtomicInteger apiServerReads = new AtomicInteger();
        java.util.function.Function<Actuator.Resolution, Observation> observe = r -> observe(r, wanted);

        CacheFirst.Decided d = CacheFirst.decide(false, fromApiServer -> {
            if (fromApiServer) {
                apiServerReads.incrementAndGet();
            }
            return new Actuator.Resolution(fromApiServer ? asked : cached, List.of());
        }, observe, PLANNER);

        assertThat(apiServerReads.get()).isLessThanOrEqualTo(1);
        if (d.plan().writes().stream().anyMatch(Convergence.Write::onlyIfUnchanged)) {
            assertThat(d.readTwice()).isTrue();
            assertThat(d.plan().writes()).isEqualTo(PLANNER.plan(observe.apply(new Actuator.Resolution(asked, List.of()))).writes());
        }
    }

    @Provide
    Arbitrary<ExecutionMode> modes() {
        return Arbitraries.of(ExecutionMode.BACKTEST, ExecutionMode.DRY_RUN);
    }

    @Provide
    Arbitrary<List<ObservedWorkload>> workloads() {
        Arbitrary<Optional<ExecutionMode>> mode = Arbitraries.of(Optional.empty(), Optional.of(ExecutionMode.BACKTEST),
                Optional.of(ExecutionMode.DRY_RUN));
        Arbitrary<ObservedWorkload> one = Combinators.combine(mode, Arbitraries.integers().between(0, 2), mode.list().ofMaxSize(3),
                Arbitraries.integers().between(-1, 3)).as((template, replicas, pods, counted) -> workload(template, replicas, pods, counted,
                        "rv" + replicas + pods.size()));
        return one.list().ofMinSize(1).ofMaxSize(1);
    }

    private static ObservedWorkload workload(Optional<ExecutionMode> template, int replicas, List<Optional<ExecutionMode>> pods,
            int counted, String version) {
        return new ObservedWorkload(ExecutionPolicySpec.WorkloadKind.DEPLOYMENT, "w0", template, replicas, 0, Optional.of(2),
                new ArrayList<>(pods), List.of("app"), List.of("app:1"), List.of(), counted, version);
    }

    private static Actuator.Resolution resolution(ObservedWorkload w) {
        return new Actuator.Resolution(List.of(w), List.of());
    }

    private static Observation observe(Actuator.Resolution targets) {
        return observe(targets, ExecutionMode.DRY_RUN);
    }

    /** A policy in Backtest that wants {@code wanted} (no approvals needed below Live). */
    private static Observation observe(Actuator.Resolution targets, ExecutionMode wanted) {
        ExecutionPolicy p = new ExecutionPolicy();
        p.setMetadata(new ObjectMetaBuilder().withName("momentum").withNamespace("trading").withUid("uid-1").withGeneration(4L).build());
        ExecutionPolicySpec spec = new ExecutionPolicySpec();
        spec.mode = wanted;
        spec.workloads = new ExecutionPolicySpec.Workloads();
        p.setSpec(spec);
        ExecutionPolicyStatus s = new ExecutionPolicyStatus();
        s.mode = ExecutionMode.BACKTEST;
        s.modeSince = NOW.minus(Duration.ofHours(30)).toString();
        p.setStatus(s);
        return new Observation(p, List.of(), Optional.empty(), Optional.empty(), List.of(), List.of(), targets, Optional.empty(), NOW);
    }
}
