package io.marketintel.safety.killswitch;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

import io.marketintel.safety.api.v1alpha1.ExecutionSafety;
import io.marketintel.safety.api.v1alpha1.ExecutionSafetyStatus;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.api.v1alpha1.Timestamps;
import io.marketintel.safety.status.Conditions;

/**
 * The status of {@code ExecutionSafety/global}: the cluster-wide emergency stop as a person reads it with
 * {@code kubectl get xsafety}. Pure: a function of the previous status, the stop annotation on the object, what
 * each policy's status records and the clock. The same inputs give the same status, so nothing is written while
 * nothing changes; times move only when something happens.
 * <ul>
 * <li>A stop <em>holds</em> while its annotation is on the object, or while a policy it stopped is not re-armed
 * (the latch outlives the annotation, DESIGN §6).</li>
 * <li>Each new cluster-wide stop (one that begins while none holds) gets the next cluster epoch.</li>
 * <li>It is over when the annotation is gone and every policy it stopped is re-armed: then who re-armed and
 * when the last one was.</li>
 * </ul>
 */
public final class ClusterStopStatus {
    static final int LATCHED_SHOWN = 20;
    static final String RESUME = "kubectl annotate executionsafety " + ExecutionSafety.SINGLETON_NAME + " "
            + MetadataNames.EMERGENCY_STOP_ANNOTATION + "-";

    private ClusterStopStatus() {
    }

    /** The stop annotation on ExecutionSafety/global: its reason and who set it (if recorded). */
    public record Annotation(String reason, Optional<String> by) {
    }

    /**
     * What one policy's status.emergencyStop records.
     *
     * @param id        namespace/name
     * @param scope     Policy, Namespace or Cluster: the widest stop that latched it
     * @param active    still latched
     * @param reason    the stop's reason, as recorded
     * @param stoppedBy who set it
     * @param rearmedBy who re-armed it, once re-armed
     * @param rearmedAt when
     */
    public record PolicyStop(String id, String scope, boolean active, String reason, String stoppedBy, Instant stoppedAt,
            String rearmedBy, Instant rearmedAt) {
        boolean heldByCluster() {
            return active && Latch.Scope.Cluster.name().equals(scope);
        }
    }

    public static ExecutionSafetyStatus status(ExecutionSafetyStatus previous, long generation, Optional<Annotation> annotation,
            List<PolicyStop> policies, Instant now) {
        var prev = previous == null ? null : previous.emergencyStop;
        boolean wasActive = prev != null && Boolean.TRUE.equals(prev.active);
        List<PolicyStop> held = policies.stream().filter(PolicyStop::heldByCluster).sorted(Comparator.comparing(PolicyStop::id)).toList();
        boolean active = annotation.isPresent() || !held.isEmpty();

        var next = new ExecutionSafetyStatus();
        next.observedGeneration = generation;
        next.conditions = previous == null || previous.conditions == null ? new ArrayList<>() : new ArrayList<>(previous.conditions);
        if (prev == null && !active) {
            next.conditions = conditions(next.conditions, false, "NoClusterStop",
                    "no cluster-wide emergency stop; to stop every policy: kubectl annotate executionsafety "
                            + ExecutionSafety.SINGLETON_NAME + " " + MetadataNames.EMERGENCY_STOP_ANNOTATION + "=\"<reason>\"",
                    generation, now);
            return next;
        }

        if (!active && !wasActive) {
            // Over and recorded: the record of the last stop stays as it was written.
            next.emergencyStop = prev;
            next.conditions = conditions(next.conditions, false, "Rearmed", prev.message, generation, now);
            return next;
        }
        var es = new ExecutionSafetyStatus.ClusterStop();
        if (active && !wasActive) {
            // A new stop. Normally its annotation is here; if it was set and removed while nobody wrote this status,
            // what the policies recorded says who and why.
            Optional<PolicyStop> first = held.stream().filter(p -> p.stoppedAt() != null).min(Comparator.comparing(PolicyStop::stoppedAt));
            es.epoch = (prev == null || prev.epoch == null ? 0 : prev.epoch) + 1;
            es.reason = annotation.map(Annotation::reason).orElse(first.map(PolicyStop::reason).orElse(null));
            es.stoppedBy = annotation.isPresent() ? annotation.get().by().orElse(null) : first.map(PolicyStop::stoppedBy).orElse(null);
            es.stoppedAt = (annotation.isPresent() ? now : first.map(PolicyStop::stoppedAt).orElse(now)).toString();
        } else {
            es.epoch = prev.epoch;
            es.reason = prev.reason;
            es.stoppedBy = prev.stoppedBy;
            es.stoppedAt = prev.stoppedAt;
            if (active && es.reason == null && annotation.isPresent()) {
                es.reason = annotation.get().reason();
                es.stoppedBy = annotation.get().by().orElse(null);
            }
        }
        Instant since = Timestamps.parse(es.stoppedAt).orElse(Instant.EPOCH);
        TreeSet<String> rearmers = new TreeSet<>();
        policies.stream().filter(p -> !p.active() && Latch.Scope.Cluster.name().equals(p.scope()) && p.rearmedBy() != null
                && p.rearmedAt() != null && !p.rearmedAt().isBefore(since)).forEach(p -> rearmers.add(p.rearmedBy()));
        es.active = active;
        es.inForce = annotation.isPresent();
        es.policiesLatched = held.size();
        es.latched = held.isEmpty() ? null : held.stream().limit(LATCHED_SHOWN).map(PolicyStop::id).toList();
        es.rearmedBy = rearmers.isEmpty() ? null : List.copyOf(rearmers);
        es.rearmedAt = active ? null : now.toString(); // !active here means it ended in this pass
        es.message = message(es, held);
        next.emergencyStop = es;
        next.conditions = conditions(next.conditions, active, active ? (es.inForce ? "ClusterStopStatus" : "Latched") : "Rearmed",
                es.message, generation, now);
        return next;
    }

    private static String message(ExecutionSafetyStatus.ClusterStop es, List<PolicyStop> held) {
        String who = "cluster-wide emergency stop " + es.epoch + (es.stoppedBy == null ? "" : " by " + es.stoppedBy)
                + (es.reason == null ? "" : ": " + es.reason);
        String rearmed = es.rearmedBy == null ? "" : " by " + String.join(", ", es.rearmedBy);
        if (!es.active) {
            return who + "; over: every policy it stopped is re-armed" + rearmed;
        }
        String holds = held.size() == 1 ? "1 policy held at zero replicas" : held.size() + " policies held at zero replicas";
        String reArm = "then re-arm each policy (kubectl annotate xp NAME -n NAMESPACE " + MetadataNames.REARM_ANNOTATION + "=EPOCH,"
                + " the epoch in its status.emergencyStop)";
        if (es.inForce) {
            return who + "; " + holds + "; to resume, remove the stop (" + RESUME + "), " + reArm;
        }
        String some = held.stream().limit(5).map(PolicyStop::id).reduce((a, b) -> a + ", " + b).orElse("");
        return who + "; the stop annotation is removed, " + holds + " until re-armed (" + some
                + (held.size() > 5 ? ", …" : "") + ")" + (es.rearmedBy == null ? "" : "; re-armed so far" + rearmed)
                + "; " + reArm.substring("then ".length());
    }

    private static List<io.fabric8.kubernetes.api.model.Condition> conditions(List<io.fabric8.kubernetes.api.model.Condition> current,
            boolean stopped, String reason, String message, long generation, Instant now) {
        var c = Conditions.set(current, Conditions.EMERGENCY_STOPPED, stopped, stopped ? reason : "NotStopped", message, generation, now);
        return Conditions.set(c, Conditions.READY, !stopped, stopped ? "EmergencyStopped" : reason, message, generation, now);
    }

    /** The record of one policy's stop, from its status (null when it records none). */
    public static PolicyStop of(String id, io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus status) {
        var es = status == null ? null : status.emergencyStop;
        if (es == null || es.scope == null) {
            return null;
        }
        return new PolicyStop(id, es.scope, Boolean.TRUE.equals(es.active), es.reason, es.stoppedBy,
                Timestamps.parse(es.stoppedAt).orElse(null), es.rearmedBy, Timestamps.parse(es.rearmedAt).orElse(null));
    }
}
