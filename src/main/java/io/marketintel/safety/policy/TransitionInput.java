package io.marketintel.safety.policy;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

import io.marketintel.safety.api.v1alpha1.ExecutionMode;

/**
 * Everything {@link TransitionRules} may look at. Built by the reconciler from spec, status, annotations,
 * guard results and the clock.
 *
 * @param desired            spec.mode
 * @param effective          status.mode; empty before the operator has brought the targets to any mode
 * @param inFlight           status.transition
 * @param modeSince          when the effective mode was reached (the DryRun soak runs from here)
 * @param guards             verdict of the policy's guards for this escalation
 * @param validApprovals     approvals that count for this exact change; with an escalation in flight, the approvers it
 *                           recorded when it started
 * @param requiredApprovals  approvals the escalation to {@code desired} needs; with an escalation in flight, what its
 *                           target mode needs now
 * @param emergencyStopped   a latched stop (policy, namespace or cluster) is in force
 * @param dryRunSoak         spec.dryRunSoak, empty when no soak is required
 * @param transitionTimeout  spec.transitionTimeout
 * @param now                the clock
 */
public record TransitionInput(
        ExecutionMode desired,
        Optional<ExecutionMode> effective,
        Optional<InFlight> inFlight,
        Optional<Instant> modeSince,
        GuardVerdict guards,
        int validApprovals,
        int requiredApprovals,
        boolean emergencyStopped,
        Optional<Duration> dryRunSoak,
        Duration transitionTimeout,
        Instant now) {

    public TransitionInput {
        Objects.requireNonNull(desired, "desired");
        Objects.requireNonNull(effective, "effective");
        Objects.requireNonNull(inFlight, "inFlight");
        Objects.requireNonNull(modeSince, "modeSince");
        Objects.requireNonNull(guards, "guards");
        Objects.requireNonNull(dryRunSoak, "dryRunSoak");
        Objects.requireNonNull(transitionTimeout, "transitionTimeout");
        Objects.requireNonNull(now, "now");
        if (validApprovals < 0 || requiredApprovals < 0) {
            throw new IllegalArgumentException("approval counts are never negative");
        }
    }
}
