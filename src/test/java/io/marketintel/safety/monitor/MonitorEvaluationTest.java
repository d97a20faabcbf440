package io.marketintel.safety.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import io.marketintel.safety.monitor.MonitorEvaluation.Step;
import io.marketintel.safety.monitor.MonitorRule.Action;
import io.marketintel.safety.monitor.MonitorRule.OnNoData;
import io.marketintel.safety.monitor.MonitorState.Phase;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/** The pure evaluation of risk monitors (issue 23): condition, duration, flapping, missing series, NaN, stale, failures. */
class MonitorEvaluationTest {
    static final Instant T0 = Instant.parse("2026-12-06T09:00:00Z");
    static final Duration EVERY = Duration.ofSeconds(15);

    /** Daily loss below -50,000 for 60 s: the emergency stop. */
    static MonitorRule dailyLoss(OnNoData onNoData, int failures) {
        return new MonitorRule("daily-loss", Comparison.LessThan, -50_000, Duration.ofSeconds(60), Action.EmergencyStop, onNoData,
                failures, Duration.ofSeconds(60));
    }

    @Test
    void aConditionThatHoldsForItsDurationBreachesOnceNamingTheValueAndTheThreshold() {
        MonitorRule rule = dailyLoss(OnNoData.Hold, 0);
        MonitorState s = MonitorState.initial();
        List<Optional<MonitorEvaluation.Breach>> breaches = new ArrayList<>();
        double[] values = { -10_000, -60_000, -61_000, -62_000, -63_000, -64_000, -65_000, -66_000 };
        for (int i = 0; i < values.length; i++) {
            Instant now = T0.plus(EVERY.multipliedBy(i));
            Step step = MonitorEvaluation.next(rule, s, sample(values[i], now), now);
            s = step.state();
            breaches.add(step.breach());
        }
        // Holding from 15 s; 60 s later (75 s, the 6th evaluation) it breaches, once.
        assertThat(breaches.subList(0, 5)).allMatch(Optional::isEmpty);
        assertThat(breaches.get(5)).hasValueSatisfying(b -> {
            assertThat(b.action()).isEqualTo(Action.EmergencyStop);
            assertThat(b.reason()).isEqualTo("monitor daily-loss: -64000 < -50000 for 60 s");
        });
        assertThat(breaches.subList(6, 8)).allMatch(Optional::isEmpty);
        assertThat(s.phase()).isEqualTo(Phase.Breached);
    }

    @Test
    void oneEvaluationThatDoesNotHoldStartsOverSoAFlappingValueNeverBreaches() {
        MonitorRule rule = dailyLoss(OnNoData.Hold, 0);
        MonitorState s = MonitorState.initial();
        for (int i = 0; i < 40; i++) {
            Instant now = T0.plus(EVERY.multipliedBy(i));
            Step step = MonitorEvaluation.next(rule, s, sample(i % 4 == 3 ? -40_000 : -90_000, now), now);
            assertThat(step.breach()).as("evaluation %d", i).isEmpty();
            s = step.state();
        }
    }

    @Test
    void noSeriesNanAndStaleSamplesAreNoReadingAndNeitherBreachNorResetAPendingRun() {
        MonitorRule rule = dailyLoss(OnNoData.Hold, 0);
        Step pending = MonitorEvaluation.next(rule, MonitorState.initial(), sample(-70_000, T0), T0);
        assertThat(pending.state().phase()).isEqualTo(Phase.Pending);
        Instant later = T0.plusSeconds(90);
        for (Reading none : List.of(new Reading.Samples(List.of()), sample(Double.NaN, later), sample(-99_000, later.minusSeconds(61)),
                new Reading.Failed("connection refused"))) {
            Step step = MonitorEvaluation.next(rule, pending.state(), none, later);
            assertThat(step.breach()).as("%s", none).isEmpty();
            assertThat(step.state().phase()).isEqualTo(Phase.NoData);
            assertThat(step.state().holdingSince()).contains(T0);
        }
        assertThat(MonitorEvaluation.next(rule, pending.state(), sample(Double.NaN, later), later).state().detail()).contains("NaN");
        assertThat(MonitorEvaluation.next(rule, pending.state(), new Reading.Samples(List.of()), later).state().detail()).contains("no series");
        assertThat(MonitorEvaluation.next(rule, pending.state(), sample(-99_000, later.minusSeconds(61)), later).state().detail().orElseThrow())
                .startsWith("stale");
        assertThat(MonitorEvaluation.next(rule, pending.state(), new Reading.Failed("timeout after 2 s"), later).state().detail())
                .contains("query failed: timeout after 2 s");
        // The series back, still holding: the run went on through the gap, so it breaches now.
        Step gap = MonitorEvaluation.next(rule, pending.state(), new Reading.Samples(List.of()), T0.plusSeconds(30));
        assertThat(MonitorEvaluation.next(rule, gap.state(), sample(-70_000, later), later).breach()).isPresent();
    }

    @Test
    void theWorstSeriesDecides() {
        MonitorRule rule = new MonitorRule("order-rate", Comparison.GreaterThan, 500, Duration.ZERO, Action.DeEscalate, OnNoData.Hold, 0,
                Duration.ofSeconds(60));
        Reading two = new Reading.Samples(List.of(new Reading.Sample(120, T0), new Reading.Sample(800, T0), new Reading.Sample(Double.NaN, T0)));
        Step step = MonitorEvaluation.next(rule, MonitorState.initial(), two, T0);
        assertThat(step.breach()).hasValueSatisfying(b -> {
            assertThat(b.action()).isEqualTo(Action.DeEscalate);
            assertThat(b.reason()).isEqualTo("monitor order-rate: 800 > 500 for 0 s");
        });
        assertThat(step.state().lastValue()).contains(800.0);
    }

    @Test
    void withoutReadingsTheStopComesAtTheNthEvaluationInARowOnlyWhenThePolicyAsksForIt() {
        for (OnNoData quiet : List.of(OnNoData.Hold, OnNoData.Alert)) {
            MonitorState s = MonitorState.initial();
            for (int i = 0; i < 10; i++) {
                Step step = MonitorEvaluation.next(dailyLoss(quiet, 3), s, new Reading.Failed("503"), T0.plus(EVERY.multipliedBy(i)));
                assertThat(step.breach()).isEmpty();
                s = step.state();
            }
            assertThat(s.withoutData()).isEqualTo(10);
        }
        MonitorRule rule = dailyLoss(OnNoData.Stop, 3);
        MonitorState s = MonitorState.initial();
        List<Boolean> stops = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            Step step = MonitorEvaluation.next(rule, s, i == 3 ? sample(0, T0.plus(EVERY.multipliedBy(i))) : new Reading.Failed("503"),
                    T0.plus(EVERY.multipliedBy(i)));
            stops.add(step.breach().isPresent());
            step.breach().ifPresent(b -> assertThat(b.reason()).contains("no reading in 3 evaluation(s) in a row (query failed: 503)"));
            s = step.state();
        }
        // Failed, failed, failed (stop), a reading (the count starts over), failed, failed.
        assertThat(stops).containsExactly(false, false, true, false, false, false);
    }

    @Test
    void aRuleThatCannotBeEvaluatedIsRefusedWithItsName() {
        assertThatThrownBy(() -> new MonitorRule("m", Comparison.GreaterThan, Double.NaN, Duration.ZERO, Action.EmergencyStop, OnNoData.Hold, 0,
                Duration.ofSeconds(1))).hasMessageContaining("monitor m: the threshold must be a finite number");
        assertThatThrownBy(() -> new MonitorRule("m", Comparison.GreaterThan, 1, Duration.ofSeconds(-1), Action.EmergencyStop, OnNoData.Hold,
                0, Duration.ofSeconds(1))).hasMessageContaining("holdFor must not be negative");
        assertThatThrownBy(() -> new MonitorRule("m", Comparison.GreaterThan, 1, Duration.ZERO, Action.EmergencyStop, OnNoData.Stop, 0,
                Duration.ofSeconds(1))).hasMessageContaining("failuresBeforeStop must be at least 1");
    }

    // ---------------------------------------------------------------- properties

    /** One evaluation of a generated run: a value (NaN sometimes), or no series, or a failed query; and its sample's age. */
    record Tick(Double value, boolean failed, int ageSeconds) {
        Reading reading(Instant now) {
            if (failed) {
                return new Reading.Failed("down");
            }
            return value == null ? new Reading.Samples(List.of()) : new Reading.Samples(List.of(new Reading.Sample(value, now.minusSeconds(ageSeconds))));
        }
    }

    @Provide
    Arbitrary<List<Tick>> runs() {
        Arbitrary<Double> values = Arbitraries.oneOf(Arbitraries.doubles().between(-100, 100), Arbitraries.doubles().between(-100, 100),
                Arbitraries.doubles().between(-100, 100), Arbitraries.just(Double.NaN)).injectNull(0.1);
        Arbitrary<Tick> tick = Combinators.combine(values, Arbitraries.of(true, false, false, false, false, false),
                Arbitraries.integers().between(0, 40)).as(Tick::new);
        return tick.list().ofMinSize(1).ofMaxSize(60);
    }

    /**
     * Safety of the breach: it is declared only on an evaluation whose reading holds, after readings that all held (or had
     * no reading) since the run began at least holdFor earlier; and at most once per run.
     */
    @Property
    void aBreachByValueComesOnlyAfterTheConditionHeldAtEveryReadingForTheWholeDuration(@ForAll("runs") List<Tick> run,
            @ForAll @IntRange(min = 0, max = 90) int holdSeconds, @ForAll("comparisons") Comparison comparison) {
        MonitorRule rule = new MonitorRule("m", comparison, 10, Duration.ofSeconds(holdSeconds), Action.EmergencyStop, OnNoData.Hold, 0,
                Duration.ofSeconds(30));
        MonitorState s = MonitorState.initial();
        Instant runStart = null;
        boolean declaredInRun = false;
        for (int i = 0; i < run.size(); i++) {
            Instant now = T0.plus(EVERY.multipliedBy(i));
            Tick t = run.get(i);
            boolean reading = !t.failed() && t.value() != null && !Double.isNaN(t.value()) && t.ageSeconds() <= 30;
            boolean holds = reading && comparison.holds(t.value(), 10);
            Step step = MonitorEvaluation.next(rule, s, t.reading(now), now);
            if (reading && !holds) {
                runStart = null;
                declaredInRun = false;
            } else if (holds && runStart == null) {
                runStart = now;
            }
            if (step.breach().isPresent()) {
                assertThat(holds).as("declared on a reading that holds, at %d", i).isTrue();
                assertThat(Duration.between(runStart, now)).isGreaterThanOrEqualTo(rule.holdFor());
                assertThat(declaredInRun).as("once per run").isFalse();
                declaredInRun = true;
            } else if (holds && !declaredInRun) {
                // Liveness: a reading that holds after the whole duration is declared.
                assertThat(Duration.between(runStart, now)).as("not declared at %d", i).isLessThan(rule.holdFor());
            }
            s = step.state();
        }
    }

    /** Without a reading the state never says Ok or Breached by value, and a stop on failures comes exactly at N in a row. */
    @Property
    void noReadingNeverBreachesByValueAndTheFailureStopCountsOnlyConsecutiveEvaluations(@ForAll("runs") List<Tick> run,
            @ForAll @IntRange(min = 1, max = 5) int failures) {
        MonitorRule rule = new MonitorRule("m", Comparison.GreaterThan, 1e9, Duration.ZERO, Action.DeEscalate, OnNoData.Stop, failures,
                Duration.ofSeconds(30));
        MonitorState s = MonitorState.initial();
        int inARow = 0;
        for (int i = 0; i < run.size(); i++) {
            Instant now = T0.plus(EVERY.multipliedBy(i));
            Tick t = run.get(i);
            boolean reading = !t.failed() && t.value() != null && !Double.isNaN(t.value()) && t.ageSeconds() <= 30;
            inARow = reading ? 0 : inARow + 1;
            Step step = MonitorEvaluation.next(rule, s, t.reading(now), now);
            // The threshold is out of reach: every breach is the failure stop, exactly at the N-th in a row.
            assertThat(step.breach().isPresent()).as("at %d, %d without a reading", i, inARow).isEqualTo(inARow == failures);
            step.breach().ifPresent(b -> assertThat(b.action()).isEqualTo(Action.EmergencyStop));
            assertThat(step.state().withoutData()).isEqualTo(inARow);
            assertThat(step.state().phase()).isEqualTo(reading ? Phase.Ok : Phase.NoData);
            s = step.state();
        }
    }

    /**
     * Before an escalation (DESIGN §6): a monitor holds it back exactly when its query fails or a fresh reading breaches
     * now, whatever its for and onNoData; no series, NaN or a stale sample holds nothing back.
     */
    @Property
    void anEscalationWaitsExactlyForAMonitorThatCannotBeQueriedOrBreachesNow(@ForAll("runs") List<Tick> ticks,
            @ForAll("comparisons") Comparison comparison, @ForAll("onNoData") OnNoData onNoData) {
        MonitorRule rule = new MonitorRule("m", comparison, 10, Duration.ofSeconds(60), Action.EmergencyStop, onNoData, 3,
                Duration.ofSeconds(30));
        Tick t = ticks.get(0);
        Optional<String> held = MonitorEvaluation.preflight(rule, t.reading(T0), T0);
        boolean reading = !t.failed() && t.value() != null && !Double.isNaN(t.value()) && t.ageSeconds() <= 30;
        assertThat(held.isPresent()).as("%s", t).isEqualTo(t.failed() || reading && comparison.holds(t.value(), 10));
        held.ifPresent(h -> assertThat(h).startsWith("monitor m "));
    }

    /**
     * A replica that takes over resumes a run status recorded as Pending from when it began: a reading that holds breaches
     * exactly when for has passed since then, one that does not hold starts over, none keeps the run. Any other recorded
     * phase starts from scratch.
     */
    @Property
    void aTakeOverResumesAPendingRunFromWhenItBegan(@ForAll("runs") List<Tick> ticks, @ForAll @IntRange(min = 0, max = 120) int ageSeconds,
            @ForAll @IntRange(min = 0, max = 90) int holdSeconds, @ForAll("comparisons") Comparison comparison) {
        MonitorRule rule = new MonitorRule("m", comparison, 10, Duration.ofSeconds(holdSeconds), Action.EmergencyStop, OnNoData.Hold, 0,
                Duration.ofSeconds(30));
        Instant began = T0.minusSeconds(ageSeconds);
        MonitorState resumed = MonitorState.resumed("Pending", Optional.of(began), Optional.of(250.0));
        Tick t = ticks.get(0);
        Step step = MonitorEvaluation.next(rule, resumed, t.reading(T0), T0);
        boolean reading = !t.failed() && t.value() != null && !Double.isNaN(t.value()) && t.ageSeconds() <= 30;
        boolean holds = reading && comparison.holds(t.value(), 10);
        assertThat(step.breach().isPresent()).as("%s after %d s of %d", t, ageSeconds, holdSeconds).isEqualTo(holds && ageSeconds >= holdSeconds);
        if (!reading) {
            assertThat(step.state().holdingSince()).as("no reading keeps the run").contains(began);
        } else if (!holds) {
            assertThat(step.state().phase()).isEqualTo(Phase.Ok);
        }
        for (String other : List.of("Ok", "Breached", "NoData", "Unknown", "NotEvaluated")) {
            assertThat(MonitorState.resumed(other, Optional.of(began), Optional.empty())).isEqualTo(MonitorState.initial());
            MonitorState kept = MonitorState.resumed(other, Optional.of(began), Optional.of(5.0));
            assertThat(kept.lastValue()).as("the value status recorded, shown until the next reading").contains(5.0);
            assertThat(kept.holdingSince()).isEmpty();
            assertThat(kept.declared()).isFalse();
        }
        assertThat(MonitorState.resumed("Pending", Optional.empty(), Optional.empty())).isEqualTo(MonitorState.initial());
    }

    @Test
    void thePreflightNamesTheMonitorAndWhy() {
        MonitorRule rule = dailyLoss(OnNoData.Hold, 0);
        assertThat(MonitorEvaluation.preflight(rule, new Reading.Failed("bad_data: 1:5: parse error: unclosed left parenthesis"), T0))
                .contains("monitor daily-loss cannot be queried: bad_data: 1:5: parse error: unclosed left parenthesis");
        assertThat(MonitorEvaluation.preflight(rule, sample(-64_000, T0), T0)).contains("monitor daily-loss is in breach now: -64000 < -50000");
        assertThat(MonitorEvaluation.preflight(rule, sample(-10_000, T0), T0)).isEmpty();
        assertThat(MonitorEvaluation.preflight(rule, new Reading.Samples(List.of()), T0)).as("no series yet").isEmpty();
        assertThat(MonitorEvaluation.preflight(rule, sample(-64_000, T0.minusSeconds(61)), T0)).as("stale").isEmpty();
    }

    @Provide
    Arbitrary<OnNoData> onNoData() {
        return Arbitraries.of(OnNoData.class);
    }

    @Provide
    Arbitrary<Comparison> comparisons() {
        return Arbitraries.of(Comparison.class);
    }

    private static Reading sample(double value, Instant at) {
        return new Reading.Samples(List.of(new Reading.Sample(value, at)));
    }
}
