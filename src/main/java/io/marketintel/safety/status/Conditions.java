package io.marketintel.safety.status;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;

/**
 * kstatus-style conditions. {@code Ready} is normal-true; {@code Reconciling} and {@code Stalled} are
 * abnormal-true and are kept present with status False when nothing is wrong, so that
 * {@code kubectl wait --for=condition=...} and GitOps tools always find them. lastTransitionTime moves
 * only when the status value changes.
 */
public final class Conditions {
    public static final String READY = "Ready";
    public static final String RECONCILING = "Reconciling";
    public static final String STALLED = "Stalled";
    public static final String APPROVED = "Approved";
    public static final String GUARDS_PASSED = "GuardsPassed";
    public static final String EMERGENCY_STOPPED = "EmergencyStopped";
    /** Present only while a policy declares risk monitors. */
    public static final String MONITORS_REPORTING = "MonitorsReporting";

    public static final String TRUE = "True";
    public static final String FALSE = "False";
    public static final String UNKNOWN = "Unknown";

    private Conditions() {
    }

    /** Returns a new list with {@code type} set; other conditions are kept in their order. */
    public static List<Condition> set(List<Condition> current, String type, boolean status, String reason,
            String message, long observedGeneration, Instant now) {
        return set(current, type, status ? TRUE : FALSE, reason, message, observedGeneration, now);
    }

    /** As {@link #set}, with status Unknown. */
    public static List<Condition> setUnknown(List<Condition> current, String type, String reason, String message,
            long observedGeneration, Instant now) {
        return set(current, type, UNKNOWN, reason, message, observedGeneration, now);
    }

    /** Returns a new list without {@code type}. */
    public static List<Condition> remove(List<Condition> current, String type) {
        return current == null ? new ArrayList<>() : new ArrayList<>(current.stream().filter(c -> !type.equals(c.getType())).toList());
    }

    private static List<Condition> set(List<Condition> current, String type, String value, String reason,
            String message, long observedGeneration, Instant now) {
        List<Condition> next = new ArrayList<>();
        boolean replaced = false;
        for (Condition c : current == null ? List.<Condition> of() : current) {
            if (type.equals(c.getType())) {
                String since = value.equals(c.getStatus()) && c.getLastTransitionTime() != null
                        ? c.getLastTransitionTime()
                        : now.toString();
                next.add(build(type, value, reason, message, observedGeneration, since));
                replaced = true;
            } else {
                next.add(c);
            }
        }
        if (!replaced) {
            next.add(build(type, value, reason, message, observedGeneration, now.toString()));
        }
        return next;
    }

    public static Optional<Condition> find(List<Condition> conditions, String type) {
        return conditions == null ? Optional.empty()
                : conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
    }

    public static boolean isTrue(List<Condition> conditions, String type) {
        return find(conditions, type).map(c -> TRUE.equals(c.getStatus())).orElse(false);
    }

    /** The longest clause of a condition message (one guard's answer, one workload's problem) kept whole. */
    static final int CLAUSE_MAX = 512;
    /** The longest condition message: what fits a screen of {@code kubectl describe}; the details stay in status. */
    static final int MESSAGE_MAX = 2048;
    private static final String CLAUSES = "; ";

    /**
     * A condition message a person can read: each clause ({@code "; "}-separated) at most {@link #CLAUSE_MAX}
     * characters, cut at a word where it can be and marked with an ellipsis; whole clauses up to
     * {@link #MESSAGE_MAX} characters, then how many more there are. The first clauses say what matters (why it
     * stalls and the command that ends it); the rest are details, each kept in its own status field
     * (workloads, guards, approval). Short messages are returned unchanged.
     */
    public static String readable(String message) {
        if (message == null || message.length() <= CLAUSE_MAX) {
            return message;
        }
        String[] clauses = message.split(CLAUSES, -1);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < clauses.length; i++) {
            String clause = shortened(clauses[i]);
            int more = clauses.length - i - 1;
            String tail = more == 0 ? "" : CLAUSES + "… and " + more + " more";
            if (i > 0 && out.length() + CLAUSES.length() + clause.length() + tail.length() > MESSAGE_MAX) {
                return out.append(CLAUSES).append("… and ").append(clauses.length - i).append(" more").toString();
            }
            if (i > 0) {
                out.append(CLAUSES);
            }
            out.append(clause);
        }
        return out.toString();
    }

    private static String shortened(String clause) {
        if (clause.length() <= CLAUSE_MAX) {
            return clause;
        }
        int cut = clause.lastIndexOf(' ', CLAUSE_MAX - 1);
        if (cut < CLAUSE_MAX / 2) {
            cut = CLAUSE_MAX - 1;
        }
        return clause.substring(0, cut) + "…";
    }

    private static Condition build(String type, String status, String reason, String message, long generation,
            String since) {
        return new ConditionBuilder()
                .withType(type)
                .withStatus(status)
                .withReason(reason)
                .withMessage(readable(message))
                .withObservedGeneration(generation)
                .withLastTransitionTime(since)
                .build();
    }
}
