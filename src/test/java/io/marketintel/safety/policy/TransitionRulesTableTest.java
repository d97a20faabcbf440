package io.marketintel.safety.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import io.marketintel.safety.api.v1alpha1.ExecutionMode;

/**
 * Every combination of desired × effective × in-flight × in-flight age × guards × approvals × stop × soak,
 * checked against {@link RulesOracle}, an independent rendering of the contract.
 * <p>
 * Nothing is skipped: every combination is a constructible {@link TransitionInput} and the rules define a
 * decision for each. Combinations where the effective mode does not match the transition in flight (e.g.
 * effective Backtest while DryRun→Live is in flight) cannot be produced by the rules themselves but can be
 * read from a stale or hand-edited status, so they are kept: rule 2 does not look at the effective mode.
 * The in-flight age also varies when nothing is in flight: it moves the clock, so those cases check that
 * the decision does not depend on it.
 */
class TransitionRulesTableTest {
    static final int EXPECTED_CASES = 3 * 4 * 7 * 2 * 2 * 3 * 2 * 3; // = 6048

    static final Instant STARTED = Instant.parse("2026-03-02T09:00:00Z");
    static final Duration TIMEOUT = Duration.ofMinutes(5);
    static final Duration SOAK = Duration.ofHours(24);

    enum Age {
        /** One minute into a five-minute timeout. */
        FRESH(Duration.ofMinutes(1)),
        /** Exactly at the deadline: rule 2b says now >= startedAt + timeout counts as timed out. */
        TIMED_OUT(TIMEOUT);

        final Duration sinceStart;

        Age(Duration sinceStart) {
            this.sinceStart = sinceStart;
        }
    }

    enum Approvals {
        NONE_REQUIRED(0, 0), ONE_OF_TWO(1, 2), TWO_OF_TWO(2, 2);

        final int valid;
        final int required;

        Approvals(int valid, int required) {
            this.valid = valid;
            this.required = required;
        }
    }

    enum Soak {
        /** No dryRunSoak configured; the mode was reached 3h ago. */
        NONE(Optional.empty(), Duration.ofHours(3)),
        /** 24h soak, 3h done. */
        INCOMPLETE(Optional.of(SOAK), Duration.ofHours(3)),
        /** 24h soak, exactly 24h done ("less than the soak" blocks; equal does not). */
        COMPLETE(Optional.of(SOAK), SOAK);

        final Optional<Duration> soak;
        final Duration soaked;

        Soak(Optional<Duration> soak, Duration soaked) {
            this.soak = soak;
            this.soaked = soaked;
        }
    }

    record Flight(ExecutionMode from, ExecutionMode to) {
    }

    record Case(ExecutionMode desired, Optional<ExecutionMode> effective, Optional<Flight> flight, Age age,
            boolean guardsPass, Approvals approvals, boolean stopped, Soak soak) {

        TransitionInput input() {
            Instant now = STARTED.plus(age.sinceStart);
            return new TransitionInput(desired, effective,
                    flight.map(f -> new InFlight(f.from(), f.to(), STARTED)),
                    Optional.of(now.minus(soak.soaked)),
                    guardsPass ? GuardVerdict.pass() : GuardVerdict.fail("WorkloadReady: 1 of 3 pods ready"),
                    approvals.valid, approvals.required, stopped, soak.soak, TIMEOUT, now);
        }

        String name() {
            return "desired=" + desired + " effective=" + effective.map(String::valueOf).orElse("unknown")
                    + " inFlight=" + flight.map(f -> f.from() + "->" + f.to()).orElse("none") + " age=" + age
                    + " guards=" + (guardsPass ? "pass" : "fail") + " approvals=" + approvals.valid + "/"
                    + approvals.required + " stopped=" + stopped + " soak=" + soak;
        }
    }

    static List<Case> cases() {
        List<Optional<ExecutionMode>> effectives = new ArrayList<>();
        effectives.add(Optional.empty());
        for (ExecutionMode m : ExecutionMode.values()) {
            effectives.add(Optional.of(m));
        }
        List<Optional<Flight>> flights = new ArrayList<>();
        flights.add(Optional.empty());
        for (ExecutionMode from : ExecutionMode.values()) {
            for (ExecutionMode to : ExecutionMode.values()) {
                if (from != to) {
                    flights.add(Optional.of(new Flight(from, to)));
                }
            }
        }
        List<Case> cases = new ArrayList<>();
        for (ExecutionMode desired : ExecutionMode.values()) {
            for (Optional<ExecutionMode> effective : effectives) {
                for (Optional<Flight> flight : flights) {
                    for (Age age : Age.values()) {
                        for (boolean guardsPass : new boolean[] { true, false }) {
                            for (Approvals approvals : Approvals.values()) {
                                for (boolean stopped : new boolean[] { false, true }) {
                                    for (Soak soak : Soak.values()) {
                                        cases.add(new Case(desired, effective, flight, age, guardsPass, approvals,
                                                stopped, soak));
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return cases;
    }

    @TestFactory
    Stream<DynamicTest> everyCombinationFollowsTheRules() {
        List<Case> cases = cases();
        assertThat(cases).hasSize(EXPECTED_CASES).hasSize(6048);
        assertThat(new HashSet<>(cases.stream().map(Case::input).toList()))
                .as("every case is a distinct input").hasSize(EXPECTED_CASES);
        return cases.stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> check(c)));
    }

    private static void check(Case c) {
        TransitionInput input = c.input();
        RulesOracle.Expected expected = RulesOracle.expect(input);
        Decision actual = TransitionRules.decide(input);

        assertThat(expected.actual(actual)).as(c::name).isEqualTo(expected);
        assertThat(actual.message()).as("message").isNotBlank();
        assertThat(actual.blockers()).as("blockers").allSatisfy(b -> assertThat(b).isNotBlank());
        assertThat(TransitionRules.decide(c.input())).as("deterministic: same input, equal decision").isEqualTo(actual);
    }
}
