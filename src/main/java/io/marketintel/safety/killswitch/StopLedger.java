package io.marketintel.safety.killswitch;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

import jakarta.enterprise.context.ApplicationScoped;

import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;

/**
 * The stops in force, as this operator has seen them, one per policy, and the epochs re-armed since. A stop
 * enters when first seen and leaves only when the reconciler records its re-arm ({@link #released}) or the
 * policy is deleted: a stop annotation removed a moment after it was set still latches. The {@link WriteGate}
 * reads it on every write, {@link StopExecutor} fills it.
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

    /** Every stop in force. */
    public Collection<Stop> all() {
        return List.copyOf(inForce.values());
    }

    /** The reconciler recorded a re-arm of {@code epoch}: writes may scale up again. */
    public void released(ResourceID policy, long epoch) {
        releasedEpochs.merge(policy, epoch, Math::max);
        inForce.remove(policy);
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
