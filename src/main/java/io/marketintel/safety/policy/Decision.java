package io.marketintel.safety.policy;

import java.util.List;
import java.util.Optional;

import io.marketintel.safety.api.v1alpha1.ExecutionMode;

/**
 * What to do next. {@link #target} is the mode the targets must converge to now (empty only while
 * stopped: everything goes to zero replicas); {@link #from} is the mode a started transition leaves.
 *
 * @param action   the kind of step
 * @param target   the mode to converge the targets to
 * @param from     the mode being left, for a started or continuing transition
 * @param reason   machine-readable reason (condition and Event reason)
 * @param message  for people: what happens, or what they must do
 * @param blockers every unmet requirement of a refused escalation (empty otherwise)
 */
public record Decision(Action action, Optional<ExecutionMode> target, Optional<ExecutionMode> from, Reason reason,
        String message, List<String> blockers) {

    public enum Action {
        /** Targets are in the desired mode; keep them there (drift is still corrected). */
        HOLD,
        /** Begin a transition from {@code from} to {@code target}. */
        START,
        /** Keep converging the transition in flight. */
        CONTINUE,
        /** The escalation is refused: stay in (or fall back to) {@code target} and wait for a person. */
        REFUSE,
        /** Emergency stop: every target to zero replicas, before anything else. */
        STOP
    }

    public Decision {
        blockers = List.copyOf(blockers);
    }

    public boolean isTransition() {
        return action == Action.START || action == Action.CONTINUE;
    }
}
