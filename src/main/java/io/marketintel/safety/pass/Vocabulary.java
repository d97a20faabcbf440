package io.marketintel.safety.pass;

/**
 * Every word a pass writes for machines besides the decision's own {@link io.marketintel.safety.policy.Reason}: condition
 * reasons, Event reasons, transition triggers and history outcomes. Enums inside the code; their names are the wire
 * values ({@code kubectl wait}, alerts and GitOps health checks match on them, so a rename is an API change).
 */
public final class Vocabulary {
    private Vocabulary() {
    }

    /** Condition and Event reasons. */
    public enum Why {
        // Approved
        NotRequired, AdmissionControlMissing, ApprovalsComplete, AwaitingApproval,
        // GuardsPassed
        NotEvaluated, GuardsPassing, GuardsFailing,
        // Stalled, Ready, Reconciling
        NotStalled, EmergencyStopped, CircuitBreakerOpen, TargetsNotUsable, ActuationFailed, CorrectingDrift, Converged,
        InDesiredMode, OperatorError,
        // EmergencyStopped (besides PolicyStop, NamespaceStop, ClusterStop: see stopReason)
        NotStopped, Latched,
        // Stalled while a risk monitor holds the policy in DryRun; MonitorsReporting
        MonitorHold, Reporting, MonitorNoData,
        // Events only
        CircuitBreakerTripped, Rearmed, DriftCorrected, TransitionCompleted, MonitorBreached;

        /** {@code PolicyStop}, {@code NamespaceStop}, {@code ClusterStop}: the EmergencyStopped reason of a stop of that scope. */
        public static String stopReason(io.marketintel.safety.killswitch.Latch.Scope scope) {
            return scope.name() + "Stop";
        }
    }

    /** {@code status.transition.trigger} and {@code status.history[].trigger} besides the decision reasons. */
    public enum Trigger {
        EmergencyStop, CircuitBreakerTripped, Rearmed, MonitorBreached
    }

    /** {@code status.history[].outcome}. */
    public enum Outcome {
        Succeeded, RolledBack, Stopped, Tripped, Held
    }
}
