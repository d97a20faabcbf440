package io.marketintel.safety.actuation;

import java.util.List;
import java.util.Optional;

import io.fabric8.kubernetes.api.model.Pod;

/**
 * One pod as a pass saw it: enough for an emergency stop to say what still runs and to remove it.
 *
 * @param name        the pod's name
 * @param terminating when its deletion began (it runs until its grace period ends), empty while nobody deleted it
 * @param ready       its Ready condition is True
 * @param deletable   a stop may delete it: a pod of the workload (by owner, not only by its selector: a broad selector
 *                    can match another workload's pods) or one labelled for the policy itself
 */
public record ObservedPod(String name, Optional<String> terminating, boolean ready, boolean deletable) {

    /** A pod labelled for the policy. */
    public static ObservedPod of(Pod pod) {
        return of(pod, true);
    }

    /** A pod a workload's selector matches; {@code workload} is {@code Kind/name}. */
    public static ObservedPod of(Pod pod, String workload) {
        return of(pod, ownedBy(pod, workload));
    }

    private static ObservedPod of(Pod pod, boolean deletable) {
        boolean ready = pod.getStatus() != null && pod.getStatus().getConditions() != null && pod.getStatus().getConditions()
                .stream().anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
        return new ObservedPod(pod.getMetadata().getName(), Optional.ofNullable(pod.getMetadata().getDeletionTimestamp()), ready,
                deletable);
    }

    /**
     * Whether the workload's controller made the pod: a StatefulSet owns its pods, a Deployment owns them through a
     * ReplicaSet named after it.
     */
    static boolean ownedBy(Pod pod, String workload) {
        int slash = workload.indexOf('/');
        String kind = workload.substring(0, slash);
        String name = workload.substring(slash + 1);
        return pod.getMetadata().getOwnerReferences() != null && pod.getMetadata().getOwnerReferences().stream()
                .anyMatch(o -> "StatefulSet".equals(kind) ? "StatefulSet".equals(o.getKind()) && name.equals(o.getName())
                        : "ReplicaSet".equals(o.getKind()) && o.getName() != null
                                // <deployment>-<pod-template-hash>: "d1-extra-5c9" is Deployment d1-extra's, not d1's
                                && o.getName().startsWith(name + "-") && o.getName().substring(name.length() + 1).matches("[a-z0-9]+"));
    }

    /**
     * Its containers in CrashLoopBackOff, {@code pod/container restart N} each: what the circuit breaker counts, and so
     * all a pod's container statuses tell a policy ({@link Relevance#pod} wakes it for nothing else in them).
     */
    static List<String> crashLoops(Pod pod) {
        if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
            return List.of();
        }
        return pod.getStatus().getContainerStatuses().stream()
                .filter(c -> c.getState() != null && c.getState().getWaiting() != null
                        && "CrashLoopBackOff".equals(c.getState().getWaiting().getReason()))
                .map(c -> pod.getMetadata().getName() + "/" + c.getName() + " restart " + c.getRestartCount())
                .toList();
    }

    /** Nobody has deleted it yet: a stop deletes it directly. */
    public boolean running() {
        return terminating.isEmpty();
    }
}
