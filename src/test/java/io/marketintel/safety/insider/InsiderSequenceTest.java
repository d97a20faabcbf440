package io.marketintel.safety.insider;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** The insider tier's generator: deterministic, within each actor's roles (probes aside), and covering every move. */
class InsiderSequenceTest {
    static final int SAMPLE = 2000;

    @Test
    void theSameSeedAndIndexGiveTheSameSteps() {
        assertThat(InsiderSequence.of(42, 7)).isEqualTo(InsiderSequence.of(42, 7));
        assertThat(InsiderSequence.of(42, 7).steps()).isNotEqualTo(InsiderSequence.of(42, 8).steps());
    }

    @Test
    void everyStepIsAWriteTheActorsRolesAllowOrAProbeOfOneTheyDoNot() {
        for (int i = 0; i < SAMPLE; i++) {
            InsiderSequence s = InsiderSequence.of(1, i);
            assertThat(s.steps()).hasSizeBetween(InsiderSequence.MIN_STEPS, InsiderSequence.MAX_STEPS);
            for (Move.Step step : s.steps()) {
                assertThat(step.actor().rights().containsAll(step.move().needs)).as("%s in %s", step, s).isEqualTo(!step.probe());
                assertThat(step.move().variants).contains(step.variant());
            }
        }
    }

    @Test
    void theRolesGiveWhatTheShippedRbacGives() {
        assertThat(Actor.APPROVER.rights()).doesNotContain(Actor.Right.POLICY_CONFIGURE, Actor.Right.POLICY_DELETE,
                Actor.Right.WORKLOAD_WRITE);
        assertThat(Actor.TRADER.rights()).doesNotContain(Actor.Right.POLICY_APPROVE, Actor.Right.POLICY_REARM,
                Actor.Right.NAMESPACE_PATCH);
        assertThat(Actor.REQUESTER_APPROVER.rights()).contains(Actor.Right.POLICY_CONFIGURE, Actor.Right.POLICY_APPROVE);
        assertThat(Actor.values()).allSatisfy(a -> assertThat(a.rights()).doesNotContain(Actor.Right.EXECUTIONSAFETY_PATCH));
    }

    @Test
    void everyMoveAndVariantIsReachedAsAnAllowedWriteOrAsAProbe() {
        Map<Move, Set<String>> variants = new EnumMap<>(Move.class);
        Set<Move> allowed = EnumSet.noneOf(Move.class);
        Set<Move> probed = EnumSet.noneOf(Move.class);
        Set<Actor> acting = new HashSet<>();
        for (int i = 0; i < SAMPLE; i++) {
            for (Move.Step step : InsiderSequence.of(99, i).steps()) {
                variants.computeIfAbsent(step.move(), m -> new HashSet<>()).add(step.variant());
                (step.probe() ? probed : allowed).add(step.move());
                acting.add(step.actor());
            }
        }
        for (Move m : Move.values()) {
            assertThat(variants.get(m)).as("variants of %s reached", m).containsExactlyInAnyOrderElementsOf(new HashSet<>(m.variants));
            boolean someoneMay = java.util.Arrays.stream(Actor.values()).anyMatch(a -> a.holds(m.needs));
            assertThat(someoneMay ? allowed : probed).as("%s reached", m).contains(m);
        }
        assertThat(acting).containsExactlyInAnyOrder(Actor.values());
        // each actor probes what it may not do (a trader approving, an approver changing the spec, anyone stopping the cluster)
        assertThat(probed).contains(Move.APPROVE, Move.SET_MODE, Move.STOP_CLUSTER, Move.STOP_NAMESPACE, Move.REARM);
    }

    @Test
    void aMoveLeftOutIsNeverPlayed() {
        for (int i = 0; i < 200; i++) {
            assertThat(InsiderSequence.of(5, i, Set.of("BARE_POD", "EDIT_FENCE", "REARM:next")).steps())
                    .noneMatch(s -> s.move() == Move.BARE_POD || s.move() == Move.EDIT_FENCE || s.toString().contains("REARM next"));
        }
    }
}
