package io.marketintel.safety.actuation;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;

/**
 * What a policy reads from a Deployment's or StatefulSet's status: the pods its controller counts, those
 * ready, and the generation it has observed (each null while there is no status yet). One reading, shared by
 * {@link Actuator} (what a pass observes) and {@link Relevance} (whether a change is worth a pass).
 */
record WorkloadStatus(Integer replicas, Integer readyReplicas, Long observedGeneration) {
    static final WorkloadStatus NONE = new WorkloadStatus(null, null, null);

    static WorkloadStatus of(HasMetadata workload) {
        if (workload instanceof Deployment d && d.getStatus() != null) {
            return new WorkloadStatus(d.getStatus().getReplicas(), d.getStatus().getReadyReplicas(), d.getStatus().getObservedGeneration());
        }
        if (workload instanceof StatefulSet s && s.getStatus() != null) {
            return new WorkloadStatus(s.getStatus().getReplicas(), s.getStatus().getReadyReplicas(), s.getStatus().getObservedGeneration());
        }
        return NONE;
    }

    /** Whether the controller has acted on the workload's current spec (until then it may act on an older one). */
    boolean caughtUpWith(HasMetadata workload) {
        Long generation = workload.getMetadata().getGeneration();
        return observedGeneration != null && generation != null && observedGeneration >= generation;
    }
}
