package io.marketintel.safety.killswitch;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.marketintel.safety.api.v1alpha1.ExecutionSafetyStatus;
import io.marketintel.safety.killswitch.ClusterStopStatus.Annotation;
import io.marketintel.safety.killswitch.ClusterStopStatus.PolicyStop;
import io.marketintel.safety.status.Conditions;

/** kubectl get xsafety tells the truth about a cluster-wide stop (issue 17). */
class ClusterStopStatusTest {
    static final Instant T0 = Instant.parse("2026-12-05T09:00:00Z");
    static final Instant T1 = T0.plusSeconds(60);
    static final Instant T2 = T0.plusSeconds(120);
    static final Instant T3 = T0.plusSeconds(180);
    static final Optional<Annotation> HALT = Optional.of(new Annotation("market-wide halt", Optional.of("risk-officer")));

    static PolicyStop held(String id) {
        return new PolicyStop(id, "Cluster", true, "market-wide halt", "risk-officer", T0, null, null);
    }

    static PolicyStop rearmed(String id, String by, Instant at) {
        return new PolicyStop(id, "Cluster", false, "market-wide halt", "risk-officer", T0, by, at);
    }

    @Test
    void withoutAStopItIsReadyAndSaysHowToStop() {
        ExecutionSafetyStatus s = ClusterStopStatus.status(null, 1, Optional.empty(), List.of(), T0);
        assertThat(s.emergencyStop).isNull();
        assertThat(s.observedGeneration).isEqualTo(1L);
        assertThat(Conditions.isTrue(s.conditions, Conditions.READY)).isTrue();
        assertThat(Conditions.find(s.conditions, Conditions.EMERGENCY_STOPPED).orElseThrow().getStatus()).isEqualTo("False");
        assertThat(Conditions.find(s.conditions, Conditions.READY).orElseThrow().getMessage())
                .contains("kubectl annotate executionsafety global safety.marketintel.io/emergency-stop=");
    }

    @Test
    void aStopShowsWhoWhyWhenItsEpochAndThePoliciesItHolds() {
        ExecutionSafetyStatus s = ClusterStopStatus.status(null, 1, HALT, List.of(held("t/a"), held("t/b"),
                new PolicyStop("t/c", "Policy", true, "fat finger", "bob", T0, null, null)), T1);
        var es = s.emergencyStop;
        assertThat(es.active).isTrue();
        assertThat(es.inForce).isTrue();
        assertThat(es.reason).isEqualTo("market-wide halt");
        assertThat(es.stoppedBy).isEqualTo("risk-officer");
        assertThat(es.stoppedAt).isEqualTo(T1.toString());
        assertThat(es.epoch).isEqualTo(1L);
        assertThat(es.policiesLatched).as("only the policies the cluster stop holds").isEqualTo(2);
        assertThat(es.latched).containsExactly("t/a", "t/b");
        assertThat(es.rearmedAt).isNull();
        assertThat(es.message).startsWith("cluster-wide emergency stop 1 by risk-officer: market-wide halt; 2 policies held at zero replicas;"
                + " to resume, remove the stop (kubectl annotate executionsafety global safety.marketintel.io/emergency-stop-)");
        assertThat(Conditions.isTrue(s.conditions, Conditions.EMERGENCY_STOPPED)).isTrue();
        assertThat(Conditions.find(s.conditions, Conditions.READY).orElseThrow().getStatus()).isEqualTo("False");
    }

    @Test
    void nothingChangesWhileNothingHappens() throws Exception {
        ObjectMapper json = new ObjectMapper();
        ExecutionSafetyStatus first = ClusterStopStatus.status(null, 1, HALT, List.of(held("t/a")), T1);
        ExecutionSafetyStatus again = ClusterStopStatus.status(first, 1, HALT, List.of(held("t/a")), T2);
        assertThat(json.writeValueAsString(again)).as("same inputs, later clock: the same status, so no write")
                .isEqualTo(json.writeValueAsString(first));
    }

    @Test
    void removingTheAnnotationKeepsItStoppedUntilEveryPolicyIsRearmedThenSaysWhoRearmed() {
        ExecutionSafetyStatus stopped = ClusterStopStatus.status(null, 1, HALT, List.of(held("t/a"), held("t/b")), T1);
        ExecutionSafetyStatus removed = ClusterStopStatus.status(stopped, 1, Optional.empty(), List.of(held("t/a"),
                rearmed("t/b", "alice", T2)), T2);
        assertThat(removed.emergencyStop.active).isTrue();
        assertThat(removed.emergencyStop.inForce).isFalse();
        assertThat(removed.emergencyStop.policiesLatched).isEqualTo(1);
        assertThat(removed.emergencyStop.rearmedBy).containsExactly("alice");
        assertThat(removed.emergencyStop.message).contains("the stop annotation is removed, 1 policy held at zero replicas until re-armed (t/a)")
                .contains("re-armed so far by alice");
        assertThat(Conditions.find(removed.conditions, Conditions.EMERGENCY_STOPPED).orElseThrow().getReason()).isEqualTo("Latched");

        ExecutionSafetyStatus over = ClusterStopStatus.status(removed, 1, Optional.empty(), List.of(rearmed("t/a", "carol", T3),
                rearmed("t/b", "alice", T2)), T3);
        assertThat(over.emergencyStop.active).isFalse();
        assertThat(over.emergencyStop.epoch).isEqualTo(1L);
        assertThat(over.emergencyStop.stoppedBy).as("the record stays").isEqualTo("risk-officer");
        assertThat(over.emergencyStop.rearmedBy).containsExactly("alice", "carol");
        assertThat(over.emergencyStop.rearmedAt).isEqualTo(T3.toString());
        assertThat(over.emergencyStop.policiesLatched).isZero();
        assertThat(over.emergencyStop.message).isEqualTo(
                "cluster-wide emergency stop 1 by risk-officer: market-wide halt; over: every policy it stopped is re-armed by alice, carol");
        assertThat(Conditions.isTrue(over.conditions, Conditions.READY)).isTrue();

        ExecutionSafetyStatus later = ClusterStopStatus.status(over, 1, Optional.empty(), List.of(), T3.plusSeconds(600));
        assertThat(later.emergencyStop.rearmedAt).as("the record of the last stop does not move").isEqualTo(T3.toString());
        assertThat(later.emergencyStop.rearmedBy).containsExactly("alice", "carol");
    }

    @Test
    void theNextStopHasTheNextEpochAndNothingOfTheLastOnesReArm() {
        ExecutionSafetyStatus stopped = ClusterStopStatus.status(null, 1, HALT, List.of(held("t/a")), T0);
        ExecutionSafetyStatus over = ClusterStopStatus.status(stopped, 1, Optional.empty(), List.of(rearmed("t/a", "alice", T1)), T1);
        ExecutionSafetyStatus again = ClusterStopStatus.status(over, 2, Optional.of(new Annotation("venue outage", Optional.empty())),
                List.of(rearmed("t/a", "alice", T1)), T2);
        assertThat(again.emergencyStop.epoch).isEqualTo(2L);
        assertThat(again.emergencyStop.reason).isEqualTo("venue outage");
        assertThat(again.emergencyStop.stoppedBy).isNull();
        assertThat(again.emergencyStop.rearmedBy).as("alice re-armed the previous stop, not this one").isNull();
        assertThat(again.emergencyStop.rearmedAt).isNull();
        assertThat(again.emergencyStop.message).doesNotContain("alice");
        assertThat(again.observedGeneration).isEqualTo(2L);
    }

    @Test
    void aStopSetAndRemovedWhileNothingWasWrittenIsStillShownFromWhatThePoliciesRecorded() {
        ExecutionSafetyStatus s = ClusterStopStatus.status(null, 1, Optional.empty(), List.of(held("t/a")), T2);
        assertThat(s.emergencyStop.active).isTrue();
        assertThat(s.emergencyStop.inForce).isFalse();
        assertThat(s.emergencyStop.reason).isEqualTo("market-wide halt");
        assertThat(s.emergencyStop.stoppedBy).isEqualTo("risk-officer");
        assertThat(s.emergencyStop.stoppedAt).isEqualTo(T0.toString());
    }
}
