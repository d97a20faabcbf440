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

    public static final String TRUE = "True";
    public static final String FALSE = "False";
    public static final String UNKNOWN = "Unknown";

    private Conditions() {
    }

    /** Returns a new list with {@code type} set; other conditions are kept in their order. */
    public static List<Condition> set(List<Condition> current, String type, boolean status, String reason,
            String message, long observedGeneration, Instant now) {
        String value = status ? TRUE : FALSE;
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

    private static Condition build(String type, String status, String reason, String message, long generation,
            String since) {
        return new ConditionBuilder()
                .withType(type)
                .withStatus(status)
                .withReason(reason)
                .withMessage(message)
                .withObservedGeneration(generation)
                .withLastTransitionTime(since)
                .build();
    }
}
