package io.marketintel.safety.killswitch;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus;

/**
 * A replica settles the stops it holds against the policy's status (issue 19, "fail-over tells the truth"): a stop is
 * dropped only once status records it, or a later epoch, re-armed with nothing latched since; never before the
 * leader recorded it, never on an earlier epoch's re-arm, never while a breaker is open.
 */
class StopLedgerTest {
    static final ResourceID FX = new ResourceID("fx", "desk");

    static ExecutionPolicy policy(Boolean active, Long epoch, boolean rearmed, boolean breakerOpen) {
        ExecutionPolicy p = new ExecutionPolicy();
        p.getMetadata().setName("fx");
        p.getMetadata().setNamespace("desk");
        if (active == null && epoch == null && !breakerOpen) {
            return p;
        }
        var status = new ExecutionPolicyStatus();
        status.emergencyStop = new ExecutionPolicyStatus.EmergencyStop();
        status.emergencyStop.active = active;
        status.emergencyStop.epoch = epoch;
        status.emergencyStop.rearmedAt = rearmed ? "2026-12-05T13:00:00Z" : null;
        if (breakerOpen) {
            status.circuitBreaker = new ExecutionPolicyStatus.CircuitBreakerState();
            status.circuitBreaker.state = ExecutionPolicyStatus.CircuitBreakerState.Position.Open.name();
        }
        p.setStatus(status);
        return p;
    }

    static StopLedger holding(ExecutionPolicy seenFrom) {
        StopLedger ledger = new StopLedger();
        ledger.enter(FX, () -> new Stop(Instant.EPOCH, List.of(), StopLedger.epochOf(seenFrom)));
        return ledger;
    }

    @Test
    void aStopSeenOnAnUnstoppedPolicyIsTheNextEpochAndEndsOnlyWithItsReArm() {
        ExecutionPolicy fresh = policy(null, null, false, false);
        assertThat(StopLedger.epochOf(fresh)).isEqualTo(1);
        StopLedger ledger = holding(fresh);
        assertThat(ledger.settle(fresh)).as("not recorded yet").isFalse();
        assertThat(ledger.settle(policy(true, 1L, false, false))).as("recorded, latched").isFalse();
        assertThat(ledger.inForce(FX)).isTrue();
        assertThat(ledger.settle(policy(false, 1L, true, false))).as("re-armed by the leader").isTrue();
        assertThat(ledger.inForce(FX)).isFalse();
        assertThat(ledger.latched(policy(true, 1L, false, false))).as("an older cached copy no longer latches").isFalse();
    }

    @Test
    void anEarlierEpochsReArmDoesNotEndANewStop() {
        ExecutionPolicy rearmedBefore = policy(false, 2L, true, false);
        assertThat(StopLedger.epochOf(rearmedBefore)).isEqualTo(3);
        StopLedger ledger = holding(rearmedBefore);
        assertThat(ledger.settle(rearmedBefore)).isFalse();
        assertThat(ledger.inForce(FX)).isTrue();
    }

    @Test
    void aStopHeldWhileStatusRecordsItIsThatEpoch() {
        ExecutionPolicy latched = policy(true, 4L, false, false);
        assertThat(StopLedger.epochOf(latched)).isEqualTo(4);
        StopLedger ledger = holding(latched);
        assertThat(ledger.settle(policy(false, 4L, true, false))).isTrue();
    }

    @Test
    void anOpenBreakerKeepsTheStop() {
        ExecutionPolicy breaker = policy(false, 2L, true, true);
        assertThat(StopLedger.epochOf(breaker)).as("a stop on top of an open breaker is a new epoch").isEqualTo(3);
        StopLedger ledger = holding(breaker);
        assertThat(ledger.settle(policy(false, 3L, true, true))).as("a later trip is no re-arm of this stop").isFalse();
        assertThat(ledger.settle(policy(false, 3L, true, false))).isTrue();
    }
}
