package io.marketintel.safety.policy;

/** Why a decision was taken; used verbatim as the condition reason and the Event reason. */
public enum Reason {
    /** Every target runs in the desired mode. */
    InDesiredMode,
    /** First sight of the policy: targets are brought to a known mode. */
    Adopting,
    /** Going to a safer mode: always allowed, no guards, no approvals. */
    DeEscalation,
    /** Going to a riskier mode with every requirement met. */
    EscalationAllowed,
    /** A transition is under way. */
    TransitionInProgress,
    /** An escalation did not finish within transitionTimeout: back to the previous safer mode. */
    TransitionTimedOut,
    /** An escalation in flight has fewer recorded approvals than its target mode now requires: back to the mode it left. */
    ApprovalsRaised,
    /** Live is reachable only from DryRun. */
    BacktestToLiveRefused,
    /** Live needs dryRunSoak spent healthy in DryRun first. */
    DryRunSoakIncomplete,
    /** At least one guard failed, errored, timed out or was not evaluated. */
    GuardsNotPassing,
    /** Fewer valid approvals than required. */
    AwaitingApproval,
    /** Latched emergency stop: every target at zero replicas until re-armed. */
    EmergencyStopped
}
