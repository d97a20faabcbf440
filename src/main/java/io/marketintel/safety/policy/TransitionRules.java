package io.marketintel.safety.policy;

import static io.marketintel.safety.api.v1alpha1.ExecutionMode.BACKTEST;
import static io.marketintel.safety.api.v1alpha1.ExecutionMode.LIVE;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.policy.Decision.Action;

/**
 * DESIGN §3 as one pure function. Order of precedence:
 * <ol>
 * <li>An emergency stop wins over everything.</li>
 * <li>A transition in flight is finished, unless the wanted mode became safer than its target (then we go
 * there at once), or it is an escalation past its timeout, or an escalation whose recorded approvals are now fewer
 * than its target mode requires (then it is rolled back to the safer mode it left).</li>
 * <li>Otherwise: same mode → hold; safer → go now; riskier → only from DryRun for Live, after the soak,
 * with every guard passing and enough approvals.</li>
 * </ol>
 * A policy seen for the first time has no known effective mode; it is treated as coming from Backtest,
 * the safest assumption, and brought to Backtest when the wanted mode is not allowed yet.
 */
public final class TransitionRules {
    private TransitionRules() {
    }

    public static Decision decide(TransitionInput in) {
        if (in.emergencyStopped()) {
            return new Decision(Action.STOP, Optional.empty(), in.effective(), Reason.EmergencyStopped,
                    "emergency stop latched: every target is held at zero replicas until re-armed", List.of());
        }
        if (in.inFlight().isPresent()) {
            return decideInFlight(in, in.inFlight().get());
        }
        if (in.effective().isEmpty()) {
            return adopt(in);
        }
        ExecutionMode effective = in.effective().get();
        ExecutionMode desired = in.desired();
        if (desired == effective) {
            return new Decision(Action.HOLD, Optional.of(effective), Optional.empty(), Reason.InDesiredMode,
                    "every target runs in " + effective, List.of());
        }
        if (effective.isRiskierThan(desired)) {
            return start(effective, desired, Reason.DeEscalation,
                    "de-escalating from " + effective + " to " + desired + " (always allowed)");
        }
        List<Blocker> blockers = escalationBlockers(in, effective);
        if (blockers.isEmpty()) {
            return start(effective, desired, Reason.EscalationAllowed,
                    "escalating from " + effective + " to " + desired + ": guards pass and approvals are complete");
        }
        return refuse(effective, desired, blockers);
    }

    private static Decision decideInFlight(TransitionInput in, InFlight f) {
        if (in.desired().compareTo(f.to()) < 0) {
            // The wanted mode is now safer than where we are heading: go there at once.
            return start(f.to(), in.desired(), Reason.DeEscalation,
                    "wanted mode changed to " + in.desired() + " during the transition to " + f.to()
                            + "; de-escalating now (always allowed)");
        }
        if (f.isEscalation() && !in.now().isBefore(f.startedAt().plus(in.transitionTimeout()))) {
            return start(f.to(), f.from(), Reason.TransitionTimedOut,
                    "escalation to " + f.to() + " did not complete within " + human(in.transitionTimeout())
                            + "; rolling back to " + f.from());
        }
        if (f.isEscalation() && in.validApprovals() < in.requiredApprovals()) {
            // Raised while under way (the policy's count or the cluster's floor): what was approved is no longer enough,
            // and nothing of the target mode may run on it. Back to safety; the next escalation asks for the new count.
            return start(f.to(), f.from(), Reason.ApprovalsRaised,
                    f.to() + " now requires " + in.requiredApprovals() + " approvals and this escalation was approved by "
                            + in.validApprovals() + "; rolling back to " + f.from() + " (approve again for " + f.to() + ")");
        }
        String then = in.desired() == f.to() ? ""
                : "; " + in.desired() + " is evaluated once " + f.to() + " is reached";
        // from == to: bringing the targets back from zero in the mode they had (a re-arm), not a change of mode.
        String what = f.from() == f.to() ? "bringing the targets back in " + f.to()
                : "transition from " + f.from() + " to " + f.to();
        return new Decision(Action.CONTINUE, Optional.of(f.to()), Optional.of(f.from()), Reason.TransitionInProgress,
                what + " in progress" + then, List.of());
    }

    /** First sight: no known mode. Go to the wanted mode if it could be reached from Backtest, else Backtest. */
    private static Decision adopt(TransitionInput in) {
        if (in.desired() == BACKTEST) {
            return new Decision(Action.START, Optional.of(BACKTEST), Optional.empty(), Reason.Adopting,
                    "adopting the targets in Backtest", List.of());
        }
        List<Blocker> blockers = escalationBlockers(in, BACKTEST);
        if (blockers.isEmpty()) {
            return new Decision(Action.START, Optional.of(in.desired()), Optional.empty(), Reason.Adopting,
                    "adopting the targets in " + in.desired() + ": guards pass and approvals are complete", List.of());
        }
        return new Decision(Action.START, Optional.of(BACKTEST), Optional.empty(), Reason.Adopting,
                "adopting the targets in Backtest, the safest mode; " + in.desired() + " is not allowed yet: "
                        + blockers.get(0).message(),
                blockers.stream().map(Blocker::message).toList());
    }

    private record Blocker(Reason reason, String message) {
    }

    private static List<Blocker> escalationBlockers(TransitionInput in, ExecutionMode from) {
        ExecutionMode to = in.desired();
        List<Blocker> blockers = new ArrayList<>();
        if (from == BACKTEST && to == LIVE) {
            blockers.add(new Blocker(Reason.BacktestToLiveRefused,
                    "Live is reachable only from DryRun: set mode: DryRun, let it run"
                            + in.dryRunSoak().map(s -> " for " + human(s)).orElse("") + ", then set mode: Live"));
            return blockers; // structural: nothing else can make this allowed
        }
        Optional<String> soak = dryRunSoakBlocker(from, to, in.dryRunSoak(), in.modeSince(), in.now());
        soak.ifPresent(message -> blockers.add(new Blocker(Reason.DryRunSoakIncomplete, message)));
        // A DryRunSoak guard reports this very blocker in its own words, which are these (it calls
        // dryRunSoakBlocker): said once, under its own reason. Dropping it cannot allow anything, the soak blocks.
        List<String> guardProblems = in.guards().problems().stream()
                .filter(problem -> soak.isEmpty() || !problem.endsWith(soak.get()))
                .toList();
        if (!in.guards().passed() && !guardProblems.isEmpty()) {
            blockers.add(new Blocker(Reason.GuardsNotPassing, "guards not passing: " + String.join("; ", guardProblems)));
        }
        if (in.validApprovals() < in.requiredApprovals()) {
            blockers.add(new Blocker(Reason.AwaitingApproval,
                    in.validApprovals() + " of " + in.requiredApprovals() + " approvals for " + to));
        }
        return blockers;
    }

    /**
     * The DryRun soak rule (DESIGN §3.3, RTS 6 Art. 7), decided here only: Live needs the system to have run in
     * DryRun for at least {@code soak}. Empty when the rule does not apply (not to Live, no soak or a zero one) or
     * is met; else what is left, in people's words. The transition rules and the DryRunSoak guard both call it.
     */
    public static Optional<String> dryRunSoakBlocker(ExecutionMode from, ExecutionMode to, Optional<Duration> soak,
            Optional<Instant> modeSince, Instant now) {
        if (to != LIVE || soak.isEmpty() || soak.get().isZero()) {
            return Optional.empty();
        }
        Duration required = soak.get();
        Duration soaked = Soak.soaked(from, modeSince, now);
        if (Soak.complete(required, soaked)) {
            return Optional.empty();
        }
        return Optional.of("DryRun soak incomplete: " + human(soaked) + " of " + human(required) + " done, "
                + human(required.minus(soaked)) + " left");
    }

    private static Decision start(ExecutionMode from, ExecutionMode to, Reason reason, String message) {
        return new Decision(Action.START, Optional.of(to), Optional.of(from), reason, message, List.of());
    }

    private static Decision refuse(ExecutionMode effective, ExecutionMode desired, List<Blocker> blockers) {
        return new Decision(Action.REFUSE, Optional.of(effective), Optional.empty(), blockers.get(0).reason(),
                desired + " refused, staying in " + effective + ": " + blockers.get(0).message(),
                blockers.stream().map(Blocker::message).toList());
    }

    /** 90s → "1m30s": durations as people write them in the spec. */
    public static String human(Duration d) {
        long s = d.getSeconds();
        if (s == 0 && d.toMillis() > 0) {
            return d.toMillis() + "ms";
        }
        StringBuilder b = new StringBuilder();
        if (s >= 3600) {
            b.append(s / 3600).append('h');
        }
        if (s % 3600 >= 60) {
            b.append(s % 3600 / 60).append('m');
        }
        if (s % 60 > 0 || b.length() == 0) {
            b.append(s % 60).append('s');
        }
        return b.toString();
    }
}
