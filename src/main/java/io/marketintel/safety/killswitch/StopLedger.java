package io.marketintel.safety.killswitch;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

import jakarta.enterprise.context.ApplicationScoped;

import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus;

/**
 * The stops in force, as this operator has seen them, one per policy, and the epochs re-armed since. A stop
 * enters when first seen and leaves only when its re-arm is recorded or the policy is deleted: a stop annotation
 * removed a moment after it was set still latches. Its re-arm is recorded either by this replica's reconciler
 * ({@link #released}) or, seen from any replica, in the policy's status ({@link #settle}): every replica watches
 * stops, only the leader reconciles, so a standby learns of a re-arm from status alone. Without settling, a standby
 * kept a stop the leader had released and, on taking over, applied it again under a new epoch that nobody
 * stopped (issue 19). The {@link WriteGate} reads it on every write, {@link StopExecutor} fills it.
 */
@ApplicationScoped
public class StopLedger {
    private final Map<ResourceID, Stop> inForce = new ConcurrentHashMap<>();
    private final Map<ResourceID, Long> releasedEpochs = new ConcurrentHashMap<>();

    /** The stop of this policy, if one is in force as far as this operator has seen. */
    public Optional<Stop> get(ResourceID policy) {
        return Optional.ofNullable(inForce.get(policy));
    }

    /** Whether this operator has a stop of the policy in force (its own view, possibly ahead of status). */
    public boolean inForce(ResourceID policy) {
        return inForce.containsKey(policy);
    }

    /** Enters a stop made by {@code stop}; empty when one was already in force. */
    public Optional<Stop> enter(ResourceID policy, Supplier<Stop> stop) {
        boolean[] created = { false };
        Stop s = inForce.computeIfAbsent(policy, k -> {
            created[0] = true;
            return stop.get();
        });
        return created[0] ? Optional.of(s) : Optional.empty();
    }

    /** The reconciler recorded a re-arm of {@code epoch}: writes may scale up again. */
    public void released(ResourceID policy, long epoch) {
        releasedEpochs.merge(policy, epoch, Math::max);
        inForce.remove(policy);
    }

    /**
     * Drops the stop of {@code p} if {@code p}'s status (the leader's record, as fresh as the caller's copy) shows it
     * re-armed: no stop and no open breaker, at the stop's epoch or a later one, with a re-arm recorded. Returns
     * whether it did.
     */
    public boolean settle(ExecutionPolicy p) {
        ResourceID id = ResourceID.fromResource(p);
        Stop stop = inForce.get(id);
        if (stop == null || !rearmedSince(p, stop.epoch())) {
            return false;
        }
        var es = p.getStatus().emergencyStop;
        released(id, es.epoch);
        return true;
    }

    /** Whether status records epoch {@code epoch}, or a later one, as re-armed and nothing latched since. */
    static boolean rearmedSince(ExecutionPolicy p, long epoch) {
        var status = p.getStatus();
        var es = status == null ? null : status.emergencyStop;
        return es != null && !Boolean.TRUE.equals(es.active) && !ExecutionPolicyStatus.CircuitBreakerState.open(status)
                && es.epoch != null && es.epoch >= epoch && es.rearmedAt != null;
    }

    /**
     * The epoch a stop entered now for {@code p} is, or will be recorded as: the one status shows when it already
     * records a stop, else the next one (a new stop opens a new epoch, as {@link Latch} decides).
     */
    static long epochOf(ExecutionPolicy p) {
        var es = p.getStatus() == null ? null : p.getStatus().emergencyStop;
        long recorded = es == null || es.epoch == null ? 0 : es.epoch;
        return es != null && Boolean.TRUE.equals(es.active) ? recorded : recorded + 1;
    }

    /** The policy is gone. */
    public void forget(ResourceID policy) {
        inForce.remove(policy);
        releasedEpochs.remove(policy);
    }

    /** A stop latched in status and not released since (a cached copy may predate the release). */
    public boolean latched(ExecutionPolicy p) {
        var stop = p.getStatus() == null ? null : p.getStatus().emergencyStop;
        if (stop == null || !Boolean.TRUE.equals(stop.active)) {
            return false;
        }
        Long released = releasedEpochs.get(ResourceID.fromResource(p));
        return released == null || stop.epoch == null || stop.epoch > released;
    }
}
