package io.marketintel.safety.reconciler;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.marketintel.safety.observability.PolicyMetrics;

/**
 * When each policy's pass last read its workloads and pods from the API server rather than from the informers. Most
 * passes only wait (for pods to go, to start, to become ready) and read the caches; a pass reads from the API server
 * when it would start pods, when it holds a stop, the first time after the operator starts, and at least once every
 * {@link #EVERY} (a watch that missed an event is then caught by the next idle resync).
 */
@ApplicationScoped
public class FreshReads {
    static final Duration EVERY = Duration.ofMinutes(5);

    private final Map<ResourceID, Instant> last = new ConcurrentHashMap<>();

    /** Whether this pass should read from the API server: none did since the operator started, or not for {@link #EVERY}. */
    boolean due(ResourceID policy, Instant now) {
        Instant at = last.get(policy);
        return at == null || !at.plus(EVERY).isAfter(now);
    }

    void done(ResourceID policy, Instant now) {
        last.put(policy, now);
    }

    void deleted(@Observes PolicyMetrics.PolicyDeleted deleted) {
        last.remove(new ResourceID(deleted.name(), deleted.namespace()));
    }
}
