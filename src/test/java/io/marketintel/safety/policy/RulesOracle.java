package io.marketintel.safety.policy;

import static io.marketintel.safety.api.v1alpha1.ExecutionMode.BACKTEST;
import static io.marketintel.safety.api.v1alpha1.ExecutionMode.DRY_RUN;
import static io.marketintel.safety.api.v1alpha1.ExecutionMode.LIVE;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.policy.Decision.Action;

/**
 * The transition contract written down a second time, straight from the rules (not from
 * {@link TransitionRules}): numbered comments refer to the rules of the contract. Deliberately naive: no
 * shared code with the implementation, its own notion of risk order, no message texts.
 */
final class RulesOracle {
    private RulesOracle() {
    }

    /**
     * The part of a {@link Decision} the rules pin down. {@code from == null} means "the rules say nothing
     * about from here" (only for STOP: rule 1 names action, target and reason only).
     */
    record Expected(Action action, Optional<ExecutionMode> target, Optional<ExecutionMode> from, Reason reason,
            int blockers) {

        /** The actual decision, reduced to what this expectation speaks about. */
        Expected actual(Decision d) {
            return new Expected(d.action(), d.target(), from == null ? null : d.from(), d.reason(),
                    d.blockers().size());
        }
    }

    /** Risk order as the contract states it: BACKTEST &lt; DRY_RUN &lt; LIVE. */
    private static final List<ExecutionMode> RISK = List.of(BACKTEST, DRY_RUN, LIVE);

    static int risk(ExecutionMode m) {
        return RISK.indexOf(m);
    }

    static boolean safer(ExecutionMode a, ExecutionMode than) {
        return risk(a) < risk(than);
    }

    static boolean riskier(ExecutionMode a, ExecutionMode than) {
        return risk(a) > risk(than);
    }

    static Expected expect(TransitionInput in) {
        ExecutionMode desired = in.desired();
        // 1. Emergency stop wins over everything.
        if (in.emergencyStopped()) {
            return new Expected(Action.STOP, Optional.empty(), null, Reason.EmergencyStopped, 0);
        }
        // 2. A transition in flight; guards and soak are not consulted, approvals only as recorded against those now required.
        if (in.inFlight().isPresent()) {
            InFlight f = in.inFlight().get();
            if (safer(desired, f.to())) { // 2a
                return new Expected(Action.START, Optional.of(desired), Optional.of(f.to()), Reason.DeEscalation, 0);
            }
            boolean escalation = riskier(f.to(), f.from());
            Instant deadline = f.startedAt().plus(in.transitionTimeout());
            if (escalation && (in.now().equals(deadline) || in.now().isAfter(deadline))) { // 2b
                return new Expected(Action.START, Optional.of(f.from()), Optional.of(f.to()),
                        Reason.TransitionTimedOut, 0);
            }
            if (escalation && in.validApprovals() < in.requiredApprovals()) { // 2c: the count was raised under way
                return new Expected(Action.START, Optional.of(f.from()), Optional.of(f.to()), Reason.ApprovalsRaised, 0);
            }
            return new Expected(Action.CONTINUE, Optional.of(f.to()), Optional.of(f.from()), // 2d
                    Reason.TransitionInProgress, 0);
        }
        // 3. Effective known.
        if (in.effective().isPresent()) {
            ExecutionMode effective = in.effective().get();
            if (desired == effective) { // 3a
                return new Expected(Action.HOLD, Optional.of(effective), Optional.empty(), Reason.InDesiredMode, 0);
            }
            if (safer(desired, effective)) { // 3b
                return new Expected(Action.START, Optional.of(desired), Optional.of(effective), Reason.DeEscalation,
                        0);
            }
            List<Reason> blockers = blockers(in, effective); // 3c
            if (blockers.isEmpty()) {
                return new Expected(Action.START, Optional.of(desired), Optional.of(effective),
                        Reason.EscalationAllowed, 0);
            }
            // REFUSE is no transition: Decision documents from as set only for START/CONTINUE.
            return new Expected(Action.REFUSE, Optional.of(effective), Optional.empty(), blockers.get(0),
                    blockers.size());
        }
        // 4. First adoption, treated as coming from BACKTEST; from is empty.
        if (desired == BACKTEST) {
            return new Expected(Action.START, Optional.of(BACKTEST), Optional.empty(), Reason.Adopting, 0);
        }
        List<Reason> blockers = blockers(in, BACKTEST);
        if (blockers.isEmpty()) {
            return new Expected(Action.START, Optional.of(desired), Optional.empty(), Reason.Adopting, 0);
        }
        return new Expected(Action.START, Optional.of(BACKTEST), Optional.empty(), Reason.Adopting, blockers.size());
    }

    /** Rule 3c: the unmet requirements of an escalation from {@code from} to the desired mode, in order. */
    static List<Reason> blockers(TransitionInput in, ExecutionMode from) {
        if (from == BACKTEST && in.desired() == LIVE) {
            return List.of(Reason.BacktestToLiveRefused);
        }
        List<Reason> blockers = new ArrayList<>();
        Optional<Duration> soak = in.dryRunSoak();
        if (in.desired() == LIVE && soak.isPresent() && !soak.get().isZero()) {
            Duration soaked = in.modeSince().map(since -> Duration.between(since, in.now())).orElse(Duration.ZERO);
            if (soaked.compareTo(soak.get()) < 0) {
                blockers.add(Reason.DryRunSoakIncomplete);
            }
        }
        // TransitionRules also folds a guard problem that repeats the soak blocker word for word (a DryRunSoak guard)
        // into that blocker. Not modelled here: the generated problems (at most 40 characters) are shorter than any
        // soak blocker, so none repeats one; TransitionRulesTest covers the fold.
        if (!in.guards().passed()) {
            blockers.add(Reason.GuardsNotPassing);
        }
        if (in.validApprovals() < in.requiredApprovals()) {
            blockers.add(Reason.AwaitingApproval);
        }
        return blockers;
    }
}
