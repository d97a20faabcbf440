package io.marketintel.safety.pass;

import io.marketintel.safety.api.v1alpha1.ExecutionMode;

/**
 * What the Events and condition messages say about one change, as sentences about that change (issue 17): an
 * adoption is not a "transition from none", bringing the targets back after a re-arm is not a "transition from
 * DryRun to DryRun", a roll-back says it rolled back. Pure: unit-tested in {@code SentencesTest}.
 */
final class Sentences {
    private Sentences() {
    }

    /**
     * The {@code TransitionCompleted} Event of a transition that reached {@code to}.
     *
     * @param from      the mode it left; null when the policy was adopted (no mode known before)
     * @param trigger   the transition's trigger (a decision reason, or {@code Rearmed})
     * @param requester who asked for it (for a re-arm: who re-armed), if known
     */
    static String completed(ExecutionMode from, ExecutionMode to, String trigger, String requester) {
        String runs = "; every target runs in " + to;
        if ("Rearmed".equals(trigger)) {
            return "resumed in " + to + " after the re-arm" + (requester == null ? "" : " by " + requester)
                    + (from != null && from != to ? " (stopped in " + from + "; " + from + " needs its approvals again)" : "")
                    + runs;
        }
        if ("TransitionTimedOut".equals(trigger)) {
            return "rolled back to " + to + (from == null ? "" : ": the escalation to " + from + " did not complete in time") + runs;
        }
        if ("ApprovalsRaised".equals(trigger)) {
            return "rolled back to " + to + (from == null ? "" : ": the escalation to " + from + " had fewer approvals than "
                    + from + " now requires") + runs;
        }
        if (from == null || "Adopting".equals(trigger)) {
            return "adopted the targets in " + to + runs;
        }
        if (from == to) {
            return "every target runs in " + to + " again";
        }
        return "transition from " + from + " to " + to + " completed" + runs;
    }

    /**
     * The {@code Rearmed} Event: what released the latch, then what happens next.
     *
     * @param released what the latch says (who re-armed which epoch)
     * @param stoppedIn the effective mode when the stop latched; null if the policy was stopped before adoption
     * @param resumesIn the mode it resumes in; null if nothing was ever adopted
     */
    static String rearmed(String released, ExecutionMode stoppedIn, ExecutionMode resumesIn) {
        if (resumesIn == null) {
            return released + "; it was stopped before its targets were adopted, so they are adopted afresh";
        }
        if (stoppedIn != null && stoppedIn != resumesIn) {
            return released + "; resuming in " + resumesIn + " (stopped in " + stoppedIn + "; " + stoppedIn
                    + " needs its approvals again)";
        }
        return released + "; resuming in " + resumesIn;
    }
}
