package io.marketintel.safety.pass;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus;
import io.marketintel.safety.killswitch.Latch;

/**
 * What a pass reports ({@link StatusWriter#report}): the status to write, one Event and one log line per change, the
 * metrics, and when to look again.
 *
 * @param status           the status to write (printable: every text YAML refuses is escaped)
 * @param announcements    the Events, in order
 * @param transitions      transition counts for {@code execution_safety_transitions_total}
 * @param stopCounted      a stop recorded in this pass, by the scope it came from (counted once)
 * @param approvalsAwaited approvals an escalation still waits for (0 while latched: it waits on a re-arm)
 * @param resync           when to look again if no event comes first
 */
public record Report(ExecutionPolicyStatus status, List<Announcement> announcements, List<TransitionCount> transitions,
        Optional<Latch.Scope> stopCounted, int approvalsAwaited, Duration resync) {

    public Report {
        announcements = List.copyOf(announcements);
        transitions = List.copyOf(transitions);
    }

    /** One Event (and its decision log line). */
    public record Announcement(boolean warning, String reason, String message) {
    }

    /** One count of a transition that started, ended or was refused. */
    public record TransitionCount(ExecutionMode from, ExecutionMode to, String outcome) {
    }
}
