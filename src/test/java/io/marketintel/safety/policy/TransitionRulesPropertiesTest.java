package io.marketintel.safety.policy;

import static io.marketintel.safety.api.v1alpha1.ExecutionMode.BACKTEST;
import static io.marketintel.safety.api.v1alpha1.ExecutionMode.DRY_RUN;
import static io.marketintel.safety.api.v1alpha1.ExecutionMode.LIVE;
import static io.marketintel.safety.policy.RulesOracle.riskier;
import static io.marketintel.safety.policy.RulesOracle.safer;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.policy.Decision.Action;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Assume;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.constraints.IntRange;

/**
 * The invariants of the transition contract over arbitrary inputs: any instant from 1970 to 2200 (with
 * nanoseconds), durations from zero up to the largest a spec can hold ({@code Long.MAX_VALUE} ms, what
 * {@code Durations.parse} saturates to), ages and soak times clustered around their deadlines, approval
 * counts 0..5, guard verdicts with 0..3 arbitrary problem texts.
 */
class TransitionRulesPropertiesTest {

    // ---------------------------------------------------------------- the whole contract

    @Property
    void decisionFollowsTheRules(@ForAll("inputs") TransitionInput in) {
        RulesOracle.Expected expected = RulesOracle.expect(in);
        Decision actual = TransitionRules.decide(in);
        assertThat(expected.actual(actual)).as("%s", in).isEqualTo(expected);
    }

    /** Guards the generators: the rarest reason (DryRunSoakIncomplete) comes up in about 1% of inputs. */
    @Property(tries = 3000)
    void generatedInputsReachEveryReason(@ForAll("inputs") TransitionInput in) {
        Statistics.label("reason").collect(TransitionRules.decide(in).reason());
        Statistics.label("reason").coverage(c -> {
            for (Reason r : Reason.values()) {
                c.check(r).count(n -> n > 0);
            }
        });
    }

    // ---------------------------------------------------------------- invariants

    @Property
    void stopWinsOverEverything(@ForAll("inputs") TransitionInput any) {
        TransitionInput in = InputBuilder.from(any).stopped(true).build();
        Decision d = TransitionRules.decide(in);

        assertThat(d.action()).isEqualTo(Action.STOP);
        assertThat(d.target()).isEmpty();
        assertThat(d.reason()).isEqualTo(Reason.EmergencyStopped);
        assertThat(d.blockers()).isEmpty();
    }

    @Property
    void targetIsNeverRiskierThanDesired(@ForAll("inputs") TransitionInput in) {
        Decision d = TransitionRules.decide(in);

        d.target().ifPresent(t -> assertThat(riskier(t, in.desired())).as("target %s, desired %s", t, in.desired())
                .isFalse());
    }

    @Property
    void neverEscalatesWithoutGuardsPassing(@ForAll("reachableInputs") TransitionInput in) {
        if (escalates(in, TransitionRules.decide(in))) {
            assertThat(in.guards().passed()).isTrue();
        }
    }

    @Property
    void neverEscalatesWithoutEnoughApprovals(@ForAll("reachableInputs") TransitionInput in) {
        if (escalates(in, TransitionRules.decide(in))) {
            assertThat(in.validApprovals()).isGreaterThanOrEqualTo(in.requiredApprovals());
        }
    }

    @Property
    void neverEscalatesWhileStopped(@ForAll("reachableInputs") TransitionInput in) {
        if (escalates(in, TransitionRules.decide(in))) {
            assertThat(in.emergencyStopped()).isFalse();
        }
    }

    @Property
    void liveIsReachedOnlyFromDryRun(@ForAll("inputs") TransitionInput in) {
        Decision d = TransitionRules.decide(in);

        if (d.action() == Action.START && d.target().equals(Optional.of(LIVE))) {
            assertThat(d.from()).contains(DRY_RUN);
            assertThat(in.effective()).contains(DRY_RUN);
            assertThat(in.inFlight()).isEmpty();
        }
    }

    @Property
    void liveIsNeverStartedFromBacktestOrFromUnknown(@ForAll("inputs") TransitionInput any,
            @ForAll("backtestOrUnknown") Optional<ExecutionMode> effective) {
        TransitionInput in = InputBuilder.from(any).effective(effective.orElse(null)).noInFlight().desired(LIVE)
                .build();
        Decision d = TransitionRules.decide(in);

        assertThat(d.target()).isNotEqualTo(Optional.of(LIVE));
        assertThat(d.reason()).isIn(Reason.BacktestToLiveRefused, Reason.Adopting, Reason.EmergencyStopped);
    }

    @Property
    void deEscalationIsNeverBlocked(@ForAll("inputs") TransitionInput any, @ForAll("saferPairs") ExecutionMode[] pair) {
        ExecutionMode effective = pair[0];
        ExecutionMode desired = pair[1];
        TransitionInput in = InputBuilder.from(any).noInFlight().stopped(false).effective(effective).desired(desired)
                .build();
        Decision d = TransitionRules.decide(in);

        assertThat(d.action()).isEqualTo(Action.START);
        assertThat(d.target()).contains(desired);
        assertThat(d.from()).contains(effective);
        assertThat(d.reason()).isEqualTo(Reason.DeEscalation);
        assertThat(d.blockers()).isEmpty();
    }

    @Property
    void wantingSomethingSaferDuringATransitionGoesThereAtOnce(@ForAll("inputs") TransitionInput any,
            @ForAll("flightAndSaferDesired") ExecutionMode[] fromToDesired) {
        ExecutionMode desired = fromToDesired[2];
        TransitionInput in = InputBuilder.from(any).stopped(false).desired(desired)
                .inFlight(fromToDesired[0], fromToDesired[1], any.now().minus(any.transitionTimeout())).build();
        Decision d = TransitionRules.decide(in);

        assertThat(d.action()).isEqualTo(Action.START);
        assertThat(d.target()).contains(desired);
        assertThat(d.from()).contains(fromToDesired[1]);
        assertThat(d.reason()).isEqualTo(Reason.DeEscalation);
        assertThat(d.blockers()).isEmpty();
    }

    @Property
    void timedOutEscalationRollsBackToWhereItCameFrom(@ForAll("inputs") TransitionInput any,
            @ForAll("escalationPairs") ExecutionMode[] flight, @ForAll ExecutionMode desired,
            @ForAll("durations") Duration overdue) {
        ExecutionMode wanted = safer(desired, flight[1]) ? flight[1] : desired; // not safer than the target
        Instant startedAt = any.now().minus(any.transitionTimeout()).minus(overdue);
        TransitionInput in = InputBuilder.from(any).stopped(false).desired(wanted)
                .inFlight(flight[0], flight[1], startedAt).build();
        Decision d = TransitionRules.decide(in);

        assertThat(d.action()).isEqualTo(Action.START);
        assertThat(d.target()).contains(flight[0]);
        assertThat(d.from()).contains(flight[1]);
        assertThat(d.reason()).isEqualTo(Reason.TransitionTimedOut);
    }

    @Property
    void anEscalationInFlightWhoseApprovalsNoLongerSufficeRollsBack(@ForAll("inputs") TransitionInput any,
            @ForAll("escalationPairs") ExecutionMode[] flight, @ForAll ExecutionMode desired,
            @ForAll @IntRange(min = 1, max = 10) int required, @ForAll @IntRange(min = 0, max = 9) int recorded) {
        Assume.that(recorded < required);
        ExecutionMode wanted = safer(desired, flight[1]) ? flight[1] : desired; // not safer than the target
        TransitionInput in = InputBuilder.from(any).stopped(false).desired(wanted).approvals(recorded, required)
                .inFlight(flight[0], flight[1], any.now().minus(any.transitionTimeout()).plusNanos(1)).build();
        Decision d = TransitionRules.decide(in);

        assertThat(d.action()).isEqualTo(Action.START);
        assertThat(d.target()).contains(flight[0]);
        assertThat(d.from()).contains(flight[1]);
        assertThat(d.reason()).isEqualTo(Reason.ApprovalsRaised);
        assertThat(d.blockers()).isEmpty();
    }

    @Property
    void deEscalationInFlightNeverTimesOut(@ForAll("inputs") TransitionInput any,
            @ForAll("saferPairs") ExecutionMode[] flight, @ForAll ExecutionMode desired,
            @ForAll("durations") Duration age) {
        ExecutionMode wanted = safer(desired, flight[1]) ? flight[1] : desired;
        TransitionInput in = InputBuilder.from(any).stopped(false).desired(wanted)
                .inFlight(flight[0], flight[1], any.now().minus(age)).build();
        Decision d = TransitionRules.decide(in);

        assertThat(d.action()).isEqualTo(Action.CONTINUE);
        assertThat(d.target()).contains(flight[1]);
        assertThat(d.from()).contains(flight[0]);
        assertThat(d.reason()).isEqualTo(Reason.TransitionInProgress);
    }

    @Property
    void inFlightTransitionsIgnoreGuardsSoakEffectiveModeAndApprovalsThatStillSuffice(@ForAll("inputs") TransitionInput any,
            @ForAll("pairs") ExecutionMode[] flight, @ForAll("inputs") TransitionInput other) {
        InputBuilder base = InputBuilder.from(any).stopped(false).inFlight(flight[0], flight[1],
                any.now().minus(other.transitionTimeout()))
                .approvals(Math.max(any.validApprovals(), any.requiredApprovals()), any.requiredApprovals());
        TransitionInput in = base.build();
        TransitionInput otherwise = base.guards(other.guards()).approvals(Math.max(other.validApprovals(),
                other.requiredApprovals()), other.requiredApprovals()).dryRunSoak(other.dryRunSoak().orElse(null))
                .modeSince(other.modeSince().orElse(null)).effective(other.effective().orElse(null)).build();

        assertThat(TransitionRules.decide(otherwise)).isEqualTo(TransitionRules.decide(in));
    }

    @Property
    void refusalStaysInTheEffectiveModeAndListsItsBlockers(@ForAll("inputs") TransitionInput in) {
        Decision d = TransitionRules.decide(in);

        if (d.action() == Action.REFUSE) {
            assertThat(d.target()).isEqualTo(in.effective()).isPresent();
            assertThat(d.blockers()).isNotEmpty().allSatisfy(b -> assertThat(b).isNotBlank());
            if (d.reason() == Reason.BacktestToLiveRefused) {
                assertThat(d.blockers()).hasSize(1);
            }
        } else {
            assertThat(d.blockers().isEmpty() || d.reason() == Reason.Adopting).isTrue();
        }
    }

    @Property
    void adoptionNeverGoesBeyondWhatAnEscalationFromBacktestWouldAllow(@ForAll("inputs") TransitionInput any) {
        TransitionInput in = InputBuilder.from(any).effective(null).noInFlight().stopped(false).build();
        Decision d = TransitionRules.decide(in);

        assertThat(d.action()).isEqualTo(Action.START);
        assertThat(d.from()).isEmpty();
        assertThat(d.reason()).isEqualTo(Reason.Adopting);
        assertThat(d.target()).get().isIn(BACKTEST, in.desired());
        if (d.target().get() != BACKTEST) {
            assertThat(in.guards().passed()).isTrue();
            assertThat(in.validApprovals()).isGreaterThanOrEqualTo(in.requiredApprovals());
        }
    }

    @Property
    void decideIsDeterministic(@ForAll("inputs") TransitionInput in) {
        TransitionInput copy = InputBuilder.from(in).build();

        assertThat(TransitionRules.decide(in)).isEqualTo(TransitionRules.decide(in))
                .isEqualTo(TransitionRules.decide(copy));
    }

    @Property
    void neverThrowsAndAlwaysExplains(@ForAll("inputs") TransitionInput in) {
        Decision d = TransitionRules.decide(in);

        assertThat(d).isNotNull();
        assertThat(d.action()).isNotNull();
        assertThat(d.reason()).isNotNull();
        assertThat(d.message()).isNotBlank();
    }

    /**
     * The invariant's "riskier than the effective mode (or Backtest when unknown), outside an in-flight
     * CONTINUE" for a START/CONTINUE.
     */
    private static boolean escalates(TransitionInput in, Decision d) {
        if (!d.isTransition() || d.target().isEmpty()) {
            return false;
        }
        if (in.inFlight().isPresent() && d.action() == Action.CONTINUE) {
            return false;
        }
        return riskier(d.target().get(), in.effective().orElse(BACKTEST));
    }

    // ---------------------------------------------------------------- generators

    private static final List<ExecutionMode[]> PAIRS = new ArrayList<>();
    static {
        for (ExecutionMode from : ExecutionMode.values()) {
            for (ExecutionMode to : ExecutionMode.values()) {
                if (from != to) {
                    PAIRS.add(new ExecutionMode[] { from, to });
                }
            }
        }
    }

    record Shape(ExecutionMode desired, Optional<ExecutionMode> effective, Optional<ExecutionMode[]> flight,
            boolean stopped) {

        /**
         * A state the rules can lead to: nothing in flight, or a transition they could have started
         * (never Backtest→Live) whose effective mode is still the one it leaves (unknown only when it leaves
         * Backtest, after an adoption). The neverEscalatesWithout* invariants are checked on these only:
         * for other in-flight states rules 2a/2b themselves prescribe a START riskier than the (stale)
         * effective mode without looking at guards, e.g. effective Backtest + DryRun→Live timed out →
         * rollback START to DryRun, or Backtest→Live in flight + desired DryRun → START DryRun.
         */
        boolean reachable() {
            if (flight.isEmpty()) {
                return true;
            }
            ExecutionMode from = flight.get()[0];
            ExecutionMode to = flight.get()[1];
            if (from == BACKTEST && to == LIVE) {
                return false;
            }
            return effective.equals(Optional.of(from)) || (effective.isEmpty() && from == BACKTEST);
        }
    }

    record Timing(Instant now, Duration timeout, Optional<Duration> soak, Instant startedAt,
            Optional<Instant> modeSince) {
    }

    @Provide
    Arbitrary<TransitionInput> inputs() {
        return inputs(shapes());
    }

    @Provide
    Arbitrary<TransitionInput> reachableInputs() {
        return inputs(shapes().filter(Shape::reachable));
    }

    @Provide
    Arbitrary<ExecutionMode[]> pairs() {
        return Arbitraries.of(PAIRS);
    }

    @Provide
    Arbitrary<ExecutionMode[]> escalationPairs() {
        return Arbitraries.of(PAIRS.stream().filter(p -> riskier(p[1], p[0])).toList());
    }

    /** {@code [riskier, safer]}: an effective mode and a safer desired one, or a de-escalation in flight. */
    @Provide
    Arbitrary<ExecutionMode[]> saferPairs() {
        return Arbitraries.of(PAIRS.stream().filter(p -> safer(p[1], p[0])).toList());
    }

    /** {@code [from, to, desired]}: a transition in flight and a wanted mode safer than its target. */
    @Provide
    Arbitrary<ExecutionMode[]> flightAndSaferDesired() {
        List<ExecutionMode[]> triples = new ArrayList<>();
        for (ExecutionMode[] p : PAIRS) {
            for (ExecutionMode desired : ExecutionMode.values()) {
                if (safer(desired, p[1])) {
                    triples.add(new ExecutionMode[] { p[0], p[1], desired });
                }
            }
        }
        return Arbitraries.of(triples);
    }

    @Provide
    Arbitrary<Optional<ExecutionMode>> backtestOrUnknown() {
        return Arbitraries.of(Optional.of(BACKTEST), Optional.empty());
    }

    @Provide
    Arbitrary<Duration> durations() {
        return Arbitraries.frequencyOf(
                Tuple.of(2, Arbitraries.of(Duration.ZERO, Duration.ofNanos(1), Duration.ofMillis(1),
                        Duration.ofSeconds(90), Duration.ofMinutes(5), Duration.ofHours(24),
                        Duration.ofMillis(Long.MAX_VALUE))),
                Tuple.of(6, Arbitraries.longs().between(0, Duration.ofDays(30).toMillis()).map(Duration::ofMillis)),
                Tuple.of(1, Arbitraries.longs().between(0, Long.MAX_VALUE).map(Duration::ofMillis)));
    }

    Arbitrary<Shape> shapes() {
        Arbitrary<ExecutionMode> mode = Arbitraries.of(ExecutionMode.class);
        return Combinators.combine(mode, mode.optional(0.8), pairs().optional(0.4),
                Arbitraries.frequency(Tuple.of(1, true), Tuple.of(4, false))).as(Shape::new);
    }

    /** An elapsed time: within 2s of a reference (to hit the deadline), or anything from a day ahead to 60 days. */
    record Elapsed(boolean nearReference, Duration offset) {
        Duration from(Duration reference) {
            return nearReference ? reference.plus(offset) : offset;
        }
    }

    private static Arbitrary<Elapsed> elapsed() {
        return Arbitraries.oneOf(
                Arbitraries.longs().between(-2_000_000_000L, 2_000_000_000L)
                        .map(n -> new Elapsed(true, Duration.ofNanos(n))),
                Arbitraries.longs().between(-Duration.ofDays(1).toMillis(), Duration.ofDays(60).toMillis())
                        .map(ms -> new Elapsed(false, Duration.ofMillis(ms))));
    }

    Arbitrary<Timing> timings() {
        Arbitrary<Instant> instants = Arbitraries.longs()
                .between(0, Instant.parse("2200-01-01T00:00:00Z").getEpochSecond() * 1_000_000_000L)
                .map(Instant.EPOCH::plusNanos);
        return Combinators.combine(instants, durations(), durations().optional(0.7), elapsed(),
                elapsed().optional(0.85)).as((now, timeout, soak, age, soaked) -> new Timing(now, timeout, soak,
                        now.minus(age.from(timeout)),
                        soaked.map(e -> now.minus(e.from(soak.orElse(Duration.ofHours(24)))))));
    }

    Arbitrary<GuardVerdict> guards() {
        Arbitrary<List<String>> problems = Arbitraries.strings().ofMaxLength(40).list().ofMinSize(1).ofMaxSize(3);
        return Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just(GuardVerdict.pass())),
                Tuple.of(2, problems.map(p -> new GuardVerdict(false, p))));
    }

    private Arbitrary<TransitionInput> inputs(Arbitrary<Shape> shapes) {
        Arbitrary<Integer> approvals = Arbitraries.integers().between(0, 5);
        return Combinators.combine(shapes, timings(), guards(), approvals, approvals)
                .as((s, t, g, valid, required) -> new TransitionInput(s.desired(), s.effective(),
                        s.flight().map(f -> new InFlight(f[0], f[1], t.startedAt())), t.modeSince(), g, valid,
                        required, s.stopped(), t.soak(), t.timeout(), t.now()));
    }
}
