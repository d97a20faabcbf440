package io.marketintel.safety.guard;

import java.util.Objects;

/** What a guard answered: only {@link Result#Pass} lets an escalation through. */
public record GuardOutcome(Result result, String message) {
    public enum Result {
        Pass, Fail, Error
    }

    public GuardOutcome {
        Objects.requireNonNull(result, "result");
        if (message == null || message.isBlank()) {
            throw new IllegalArgumentException("a guard always explains its answer");
        }
    }

    public static GuardOutcome pass(String message) {
        return new GuardOutcome(Result.Pass, message);
    }

    public static GuardOutcome fail(String message) {
        return new GuardOutcome(Result.Fail, message);
    }

    /** The guard could not decide (bad configuration, unreachable dependency): counts as a failure. */
    public static GuardOutcome error(String message) {
        return new GuardOutcome(Result.Error, message);
    }
}
