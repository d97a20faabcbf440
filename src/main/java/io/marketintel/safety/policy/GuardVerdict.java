package io.marketintel.safety.policy;

import java.util.List;

/**
 * The aggregate of a policy's guards for one escalation. Anything that is not an explicit pass (fail,
 * error, timeout, not evaluated) blocks an escalation (fail-safe, DESIGN §3.6) and is ignored by
 * de-escalations and stops.
 */
public record GuardVerdict(boolean passed, List<String> problems) {
    public GuardVerdict {
        problems = List.copyOf(problems);
        if (passed && !problems.isEmpty()) {
            throw new IllegalArgumentException("a passing verdict has no problems");
        }
        if (!passed && problems.isEmpty()) {
            throw new IllegalArgumentException("a failing verdict names its problems");
        }
    }

    public static GuardVerdict pass() {
        return new GuardVerdict(true, List.of());
    }

    public static GuardVerdict fail(String... problems) {
        return new GuardVerdict(false, List.of(problems));
    }

    /** Guards that were never run count as failing for an escalation. */
    public static GuardVerdict notEvaluated() {
        return fail("guards not evaluated");
    }
}
