package io.marketintel.safety.killswitch;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import io.marketintel.safety.killswitch.Latch.Change;
import io.marketintel.safety.killswitch.Latch.Rearm;
import io.marketintel.safety.killswitch.Latch.Recorded;
import io.marketintel.safety.killswitch.Latch.Scope;
import io.marketintel.safety.killswitch.Latch.State;
import io.marketintel.safety.killswitch.Latch.Trigger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** The latch of DESIGN §6: stops latch, only a re-arm of the current epoch with nothing in force releases. */
class LatchTest {
    static final Trigger POLICY = new Trigger(Scope.Policy, "ExecutionPolicy/momentum", "xp momentum -n t", "fat finger", Optional.of("bob"));
    static final Trigger NAMESPACE = new Trigger(Scope.Namespace, "Namespace/t", "namespace t", "venue outage", Optional.of("ops"));
    static final Trigger CLUSTER = new Trigger(Scope.Cluster, "ExecutionSafety/global", "executionsafety global", "market halt", Optional.empty());

    @Test
    void aStopAnnotationLatchesANewEpochAndNamesTheWidestScope() {
        State s = Latch.evaluate(List.of(POLICY, CLUSTER, NAMESPACE), false, Optional.empty(), new Recorded(false, false, 4));
        assertThat(s.stopped()).isTrue();
        assertThat(s.epoch()).isEqualTo(5);
        assertThat(s.change()).isEqualTo(Change.STOPPED);
        assertThat(s.cause()).contains(CLUSTER);
        assertThat(s.message()).isEqualTo("emergency stop on ExecutionSafety/global: market halt");
    }

    @Test
    void removingTheAnnotationDoesNotResume() {
        State s = Latch.evaluate(List.of(), false, Optional.empty(), new Recorded(true, false, 5));
        assertThat(s.stopped()).isTrue();
        assertThat(s.epoch()).isEqualTo(5);
        assertThat(s.change()).isEqualTo(Change.NONE);
        assertThat(s.message()).contains("removing the stop annotation does not resume, a re-arm does");
    }

    @Test
    void aRearmOfTheCurrentEpochReleasesOnceNothingIsInForce() {
        State s = Latch.evaluate(List.of(), false, Optional.of(new Rearm("alice", 5)), new Recorded(true, false, 5));
        assertThat(s.stopped()).isFalse();
        assertThat(s.change()).isEqualTo(Change.REARMED);
        assertThat(s.epoch()).isEqualTo(5);
        assertThat(s.message()).isEqualTo("emergency stop of epoch 5 re-armed by alice");
    }

    /**
     * A re-arm that meets a stop in force is spent and the latch moves to a new epoch (issue 19, found by the insider
     * tier: a stop set after a re-arm was written but before the operator acted on it was released by that re-arm
     * once its annotation was removed). The message says what to remove and which epoch to re-arm then.
     */
    @Test
    void aRearmThatMeetsAStopInForceIsSpentAndTheLatchMovesToANewEpoch() {
        State s = Latch.evaluate(List.of(NAMESPACE), false, Optional.of(new Rearm("alice", 5)), new Recorded(true, false, 5));
        assertThat(s.stopped()).isTrue();
        assertThat(s.epoch()).isEqualTo(6);
        assertThat(s.change()).isEqualTo(Change.REARM_SPENT);
        assertThat(s.message()).isEqualTo("the re-arm of epoch 5 by alice met the emergency stop in force on Namespace/t and is spent: "
                + "the latch holds as epoch 6; remove the stop first (kubectl annotate namespace t safety.marketintel.io/emergency-stop-), "
                + "then re-arm epoch 6");
        // The spent re-arm releases nothing once the stop is removed; a re-arm of the new epoch does.
        State after = Latch.evaluate(List.of(), false, Optional.of(new Rearm("alice", 5)), new Recorded(true, false, 6));
        assertThat(after.stopped()).isTrue();
        assertThat(after.change()).isEqualTo(Change.NONE);
        assertThat(Latch.evaluate(List.of(), false, Optional.of(new Rearm("alice", 6)), new Recorded(true, false, 6)).change())
                .isEqualTo(Change.REARMED);
    }

    @Test
    void aRearmLeftOverFromAnEarlierEpochReleasesNothingAndIsNotPartOfTheNewStopsMessage() {
        // alice re-armed stop 4; then stop 5 came. Her old re-arm is history, not something to tell about stop 5.
        State s = Latch.evaluate(List.of(), false, Optional.of(new Rearm("alice", 4)), new Recorded(true, false, 5));
        assertThat(s.stopped()).isTrue();
        assertThat(s.change()).isEqualTo(Change.NONE);
        assertThat(s.message()).isEqualTo("emergency stop latched (epoch 5); removing the stop annotation does not resume, a re-arm does")
                .doesNotContain("alice").doesNotContain("epoch 4");
        State inForce = Latch.evaluate(List.of(POLICY), false, Optional.of(new Rearm("alice", 4)), new Recorded(true, false, 5));
        assertThat(inForce.message()).isEqualTo("emergency stop latched (epoch 5); in force on ExecutionPolicy/momentum");
    }

    @Test
    void aRearmNamingAnEpochNotReachedYetIsExplained() {
        State s = Latch.evaluate(List.of(), false, Optional.of(new Rearm("alice", 7)), new Recorded(true, false, 5));
        assertThat(s.stopped()).isTrue();
        assertThat(s.message()).endsWith("; the re-arm by alice names epoch 7, which does not exist yet: the current epoch is 5");
    }

    @Test
    void theBreakerTripsIntoItsOwnEpochAndIsReleasedLikeAStop() {
        State tripped = Latch.evaluate(List.of(), true, Optional.empty(), new Recorded(false, false, 2));
        assertThat(tripped.breakerOpen()).isTrue();
        assertThat(tripped.stopped()).isFalse();
        assertThat(tripped.epoch()).isEqualTo(3);
        assertThat(tripped.change()).isEqualTo(Change.BREAKER_TRIPPED);
        State held = Latch.evaluate(List.of(), false, Optional.empty(), new Recorded(false, true, 3));
        assertThat(held.breakerOpen()).isTrue();
        State released = Latch.evaluate(List.of(), false, Optional.of(new Rearm("carol", 3)), new Recorded(false, true, 3));
        assertThat(released.latched()).isFalse();
        assertThat(released.change()).isEqualTo(Change.REARMED);
    }

    @Test
    void aStopOnTopOfAnOpenBreakerOpensANewEpochThatTheOldRearmCannotRelease() {
        State s = Latch.evaluate(List.of(POLICY), false, Optional.of(new Rearm("carol", 3)), new Recorded(false, true, 3));
        assertThat(s.stopped()).isTrue();
        assertThat(s.breakerOpen()).isTrue();
        assertThat(s.epoch()).isEqualTo(4);
        assertThat(s.change()).isEqualTo(Change.STOPPED);
    }

    @Test
    void reArmLinesAreParsedStrictly() {
        assertThat(Latch.parseRearm("alice 7")).contains(new Rearm("alice", 7));
        assertThat(Latch.parseRearm(null)).isEmpty();
        assertThat(Latch.parseRearm("alice")).isEmpty();
        assertThat(Latch.parseRearm("alice seven")).isEmpty();
        assertThat(Latch.parseRearm("alice 7 extra")).isEmpty();
        // User names as authenticators give them (issue 19): the user is everything before the last space.
        assertThat(Latch.parseRearm("CN=Risk Officer 7")).contains(new Rearm("CN=Risk Officer", 7));
        assertThat(Latch.parseRearm("https://idp.example#a b 3")).contains(new Rearm("https://idp.example#a b", 3));
        assertThat(Latch.parseRearm("carol@desk.example 3")).contains(new Rearm("carol@desk.example", 3));
        assertThat(Latch.parseRearm(" 3")).as("no user").isEmpty();
        assertThat(Latch.parseRearm("alice 3 ")).as("nothing trimmed").isEmpty();
        assertThat(Latch.parseRearm("mallory\nalice 3")).isEmpty();
        assertThat(Latch.parseRearm("alice -7")).isEmpty();
        assertThat(Latch.parseRearm("alice 99999999999999999999")).isEmpty();
    }

    @Test
    void aMonitorsDeEscalationHoldsOnANewEpochUntilARearmOfIt() {
        State held = Latch.evaluate(List.of(), false, Optional.of("monitor order-rate: 900 > 500 for 10 s"), Optional.empty(),
                new Recorded(false, false, 2));
        assertThat(held.held()).isTrue();
        assertThat(held.stopped()).isFalse();
        assertThat(held.latched()).isTrue();
        assertThat(held.epoch()).isEqualTo(3);
        assertThat(held.change()).isEqualTo(Change.HELD);
        assertThat(held.message()).isEqualTo("monitor order-rate: 900 > 500 for 10 s: held in DryRun at most until re-armed");

        Recorded recorded = new Recorded(false, false, true, 3);
        State stillHeld = Latch.evaluate(List.of(), false, Optional.empty(), Optional.of(new Rearm("alice", 2)), recorded);
        assertThat(stillHeld.held()).isTrue();
        assertThat(stillHeld.change()).isEqualTo(Change.NONE);

        State stopped = Latch.evaluate(List.of(POLICY), false, Optional.empty(), recorded);
        assertThat(stopped.stopped()).as("a stop on top of a hold").isTrue();
        assertThat(stopped.held()).isTrue();
        assertThat(stopped.epoch()).isEqualTo(4);

        State released = Latch.evaluate(List.of(), false, Optional.empty(), Optional.of(new Rearm("alice", 3)), recorded);
        assertThat(released.latched()).isFalse();
        assertThat(released.change()).isEqualTo(Change.REARMED);
        assertThat(released.message()).isEqualTo("risk monitor's hold of epoch 3 re-armed by alice");
    }

    @Test
    void aStopOrATrippedBreakerComesBeforeADeEscalation() {
        State s = Latch.evaluate(List.of(POLICY), true, Optional.of("monitor x: 1 > 0 for 0 s"), Optional.empty(), Recorded.NONE);
        assertThat(s.stopped()).isTrue();
        assertThat(s.held()).isFalse();
        State b = Latch.evaluate(List.of(), true, Optional.of("monitor x: 1 > 0 for 0 s"), Optional.empty(), Recorded.NONE);
        assertThat(b.breakerOpen()).isTrue();
        assertThat(b.held()).isFalse();
    }

    // ---------------------------------------------------------------- properties over random histories

    /** One step of a history: annotations in force, a breaker failure, a re-arm (of some epoch offset). */
    record Step(List<Trigger> inForce, boolean breakerTrips, Optional<Integer> rearmOffset, boolean deEscalates) {
    }

    @Provide
    Arbitrary<List<Step>> histories() {
        Arbitrary<List<Trigger>> triggers = Arbitraries.of(POLICY, NAMESPACE, CLUSTER).list().uniqueElements().ofMaxSize(3);
        Arbitrary<Optional<Integer>> rearm = Arbitraries.integers().between(-1, 1).optional(0.4);
        return Combinators.combine(triggers, Arbitraries.of(true, false), rearm, Arbitraries.of(true, false)).as(Step::new).list()
                .ofMinSize(1).ofMaxSize(30);
    }

    @Property(tries = 2000)
    void latchInvariants(@ForAll("histories") List<Step> history) {
        Recorded recorded = Recorded.NONE;
        List<State> states = new ArrayList<>();
        for (Step step : history) {
            long epoch = recorded.epoch();
            Optional<Rearm> rearm = step.rearmOffset().map(o -> new Rearm("alice", epoch + o));
            State s = Latch.evaluate(step.inForce(), step.breakerTrips(),
                    step.deEscalates() ? Optional.of("monitor loss: 2 > 1 for 0 s") : Optional.empty(), rearm, recorded);
            // Any stop annotation in force means stopped, whatever else happens.
            if (!step.inForce().isEmpty()) {
                assertThat(s.stopped()).as("stop in force").isTrue();
            }
            // Epochs never go back, and move only by one, only on a new latch or a spent re-arm.
            assertThat(s.epoch()).isGreaterThanOrEqualTo(recorded.epoch());
            assertThat(s.epoch() - recorded.epoch()).isEqualTo(
                    s.change() == Change.STOPPED || s.change() == Change.BREAKER_TRIPPED || s.change() == Change.HELD
                            || s.change() == Change.REARM_SPENT ? 1 : 0);
            // A monitor's hold only ever comes on a new epoch, and is never lost without a re-arm.
            if (s.held() && !recorded.held()) {
                assertThat(s.change()).isEqualTo(Change.HELD);
            }
            if (recorded.held() && s.change() != Change.REARMED) {
                assertThat(s.held()).as("a hold is released only by a re-arm").isTrue();
            }
            // A re-arm of the latched epoch never survives a stop it meets: the epoch it names is gone.
            if (recorded.latched() && !step.inForce().isEmpty() && rearm.isPresent()
                    && rearm.get().epoch() == recorded.epoch()) {
                assertThat(s.epoch()).as("a re-arm that met a stop is spent").isGreaterThan(recorded.epoch());
            }
            // Latched stays latched unless a re-arm of exactly this epoch came with nothing in force.
            boolean wasLatched = recorded.latched();
            if (wasLatched && !s.latched()) {
                assertThat(rearm).as("released without a re-arm").isPresent();
                assertThat(rearm.get().epoch()).isEqualTo(recorded.epoch());
                assertThat(step.inForce()).isEmpty();
                assertThat(s.change()).isEqualTo(Change.REARMED);
            }
            if (s.change() == Change.REARMED) {
                assertThat(s.latched()).isFalse();
            }
            // A stop never clears while latched, even with the breaker tripping on top.
            if (recorded.stopped() && s.change() != Change.REARMED) {
                assertThat(s.stopped()).isTrue();
            }
            states.add(s);
            recorded = new Recorded(s.stopped(), s.breakerOpen(), s.held(), s.epoch());
        }
        assertThat(states).hasSameSizeAs(history);
    }
}
