package io.marketintel.safety.actuation;

import java.util.List;
import java.util.Objects;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;

/**
 * Whether a change to a workload or pod could change what {@link Actuator} observes, and so whether it is
 * worth waking the policy that governs it. A rollout writes a Deployment's status five or more times and a
 * pod's three or more (scheduled, started, ready); most of those touch nothing the policy reads, and with
 * a thousand policies every needless wake is a reconcile with its reads. Creation and deletion always
 * wake; the periodic resync is the safety net for anything missed.
 */
public final class Relevance {
    private Relevance() {
    }

    /**
     * Spec (generation), labels, annotations, deletion, and the replica counts the policy reads: ready
     * replicas (scaling up) and replicas (scaling down: a pod of another mode went away).
     */
    public static boolean deployment(Deployment now, Deployment before) {
        return metadata(now, before) || !WorkloadStatus.of(now).equals(WorkloadStatus.of(before));
    }

    /** As for a Deployment. */
    public static boolean statefulSet(StatefulSet now, StatefulSet before) {
        return metadata(now, before) || !WorkloadStatus.of(now).equals(WorkloadStatus.of(before));
    }

    /**
     * The pod's mode (labels, annotations, container env), its deletion, and its containers' waiting
     * reasons and restart counts (the circuit breaker counts crash loops). Scheduling and readiness are
     * not: a pod's readiness reaches the policy through its workload's ready replicas.
     */
    public static boolean pod(Pod now, Pod before) {
        return metadata(now, before)
                || !Objects.equals(now.getSpec() == null ? null : now.getSpec().getContainers(),
                        before.getSpec() == null ? null : before.getSpec().getContainers())
                || !crashSignature(now).equals(crashSignature(before));
    }

    private static boolean metadata(HasMetadata now, HasMetadata before) {
        return !Objects.equals(now.getMetadata().getGeneration(), before.getMetadata().getGeneration())
                || !Objects.equals(now.getMetadata().getLabels(), before.getMetadata().getLabels())
                || !Objects.equals(now.getMetadata().getAnnotations(), before.getMetadata().getAnnotations())
                || !Objects.equals(now.getMetadata().getDeletionTimestamp(), before.getMetadata().getDeletionTimestamp());
    }

    private static List<String> crashSignature(Pod pod) {
        if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
            return List.of();
        }
        return pod.getStatus().getContainerStatuses().stream().map(Relevance::crashSignature).toList();
    }

    private static String crashSignature(ContainerStatus c) {
        String waiting = c.getState() == null || c.getState().getWaiting() == null ? "" : c.getState().getWaiting().getReason();
        return c.getName() + "/" + waiting + "/" + c.getRestartCount();
    }
}
