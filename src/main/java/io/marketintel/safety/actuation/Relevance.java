package io.marketintel.safety.actuation;

import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.UnaryOperator;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.marketintel.safety.api.v1alpha1.MetadataNames;

/**
 * Whether a change to a workload or pod could change what {@link Actuator} observes, and so whether it is
 * worth waking the policy that governs it. A rollout writes a Deployment's status five or more times and a
 * pod's three or more (scheduled, started, ready); most of those touch nothing the policy reads, and with
 * a thousand policies every needless wake is a reconcile with its reads. Creation and deletion always
 * wake; the periodic resync is the safety net for anything missed.
 */
public final class Relevance {
    /** The prefix of every label and annotation the operator defines. */
    private static final String DOMAIN = MetadataNames.POLICY_LABEL.substring(0, MetadataNames.POLICY_LABEL.indexOf('/') + 1);

    private Relevance() {
    }

    /**
     * Spec (generation), labels, the operator's annotations, deletion, and the replica counts the policy reads: ready
     * replicas (scaling up), replicas (scaling down: a pod of another mode went away), and the generation the controller
     * has seen once it counts no pod ({@link #counts}). Not the controller's own annotations (a rollout's revision
     * number): a policy reads no other annotation of a workload.
     */
    public static boolean deployment(Deployment now, Deployment before) {
        return workloadMetadata(now, before) || counts(WorkloadStatus.of(now), WorkloadStatus.of(before));
    }

    /** As for a Deployment. */
    public static boolean statefulSet(StatefulSet now, StatefulSet before) {
        return workloadMetadata(now, before) || counts(WorkloadStatus.of(now), WorkloadStatus.of(before));
    }

    /**
     * Whether the status changed in a way a pass can act on. The controller having seen a new generation matters to a pass
     * only once it counts no pod: until then the pass waits for the pods it counts, seen or not (Convergence: a found
     * template's pods are waited for by their count either way), and the count's fall is an event of its own.
     */
    static boolean counts(WorkloadStatus now, WorkloadStatus before) {
        if (now.equals(before)) {
            return false;
        }
        boolean onlySeen = Objects.equals(now.replicas(), before.replicas()) && Objects.equals(now.readyReplicas(), before.readyReplicas());
        return !(onlySeen && now.replicas() != null && now.replicas() > 0);
    }

    /**
     * The pod's mode (labels, annotations, container env), its deletion, and its containers in CrashLoopBackOff with
     * their restart counts (what the circuit breaker counts, {@link ObservedPod#crashLoops}). Scheduling, start and
     * readiness are not: a pod's readiness reaches the policy through its workload's ready replicas.
     */
    public static boolean pod(Pod now, Pod before) {
        return metadata(now, before)
                || !Objects.equals(now.getSpec() == null ? null : now.getSpec().getContainers(),
                        before.getSpec() == null ? null : before.getSpec().getContainers())
                || !ObservedPod.crashLoops(now).equals(ObservedPod.crashLoops(before));
    }

    /** For a workload: its metadata with only the operator's annotations. */
    private static boolean workloadMetadata(HasMetadata now, HasMetadata before) {
        return metadata(now, before, Relevance::operators);
    }

    /** For a pod: its metadata with every annotation (the mode may be one). */
    private static boolean metadata(HasMetadata now, HasMetadata before) {
        return metadata(now, before, annotations -> annotations);
    }

    /** Generation, labels, the annotations {@code read} keeps, deletion. */
    private static boolean metadata(HasMetadata now, HasMetadata before, UnaryOperator<Map<String, String>> read) {
        return !Objects.equals(now.getMetadata().getGeneration(), before.getMetadata().getGeneration())
                || !Objects.equals(now.getMetadata().getLabels(), before.getMetadata().getLabels())
                || !Objects.equals(read.apply(now.getMetadata().getAnnotations()), read.apply(before.getMetadata().getAnnotations()))
                || !Objects.equals(now.getMetadata().getDeletionTimestamp(), before.getMetadata().getDeletionTimestamp());
    }

    /** The annotations in the operator's domain ({@code safety.marketintel.io/}). */
    private static Map<String, String> operators(Map<String, String> annotations) {
        if (annotations == null) {
            return Map.of();
        }
        Map<String, String> ours = new TreeMap<>();
        annotations.forEach((k, v) -> {
            if (k.startsWith(DOMAIN)) {
                ours.put(k, v);
            }
        });
        return ours;
    }
}
