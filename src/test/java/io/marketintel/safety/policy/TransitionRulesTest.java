package io.marketintel.safety.policy;

import static io.marketintel.safety.api.v1alpha1.ExecutionMode.BACKTEST;
import static io.marketintel.safety.api.v1alpha1.ExecutionMode.DRY_RUN;
import static io.marketintel.safety.api.v1alpha1.ExecutionMode.LIVE;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.policy.Decision.Action;

/** The stories a risk officer tells, one decision each. */
class TransitionRulesTest {
    static final Instant NOW = Instant.parse("2026-03-02T14:00:00Z");
    static final Duration TIMEOUT = Duration.ofMinutes(5);

    /** Everything in order for an escalation to {@code desired}; each story changes what it is about. */
    static InputBuilder healthy(ExecutionMode effective, ExecutionMode desired) {
        return new InputBuilder().desired(desired).effective(effective).modeSince(NOW.minus(Duration.ofDays(3)))
                .guards(GuardVerdict.pass()).approvals(2, 2).dryRunSoak(Duration.ofHours(24)).timeout(TIMEOUT)
                .now(NOW);
    }

    @Test
    void dryRunToLiveWithOnlyThreeOfTwentyFourSoakHoursIsRefusedSayingHowLongIsLeft() {
        Decision d = TransitionRules.decide(healthy(DRY_RUN, LIVE).modeSince(NOW.minus(Duration.ofHours(3))).build());

        assertThat(d.action()).isEqualTo(Action.REFUSE);
        assertThat(d.target()).contains(DRY_RUN);
        assertThat(d.reason()).isEqualTo(Reason.DryRunSoakIncomplete);
        assertThat(d.message()).contains("21h left");
        assertThat(d.blockers()).singleElement().asString().contains("3h of 24h done", "21h left");
    }

    @Test
    void aDryRunSoakGuardReportingTheSoakIsNotCountedASecondBlocker() {
        String soak = TransitionRules.dryRunSoakBlocker(DRY_RUN, LIVE, Optional.of(Duration.ofHours(24)),
                Optional.of(NOW.minus(Duration.ofHours(3))), NOW).orElseThrow();
        // What the reconciler makes of a DryRunSoak guard's failure: "name (type, result): message".
        String guardSaysSo = "soak (DryRunSoak, Fail): " + soak;

        Decision once = TransitionRules.decide(healthy(DRY_RUN, LIVE).modeSince(NOW.minus(Duration.ofHours(3)))
                .guards(GuardVerdict.fail(guardSaysSo)).build());
        assertThat(once.action()).isEqualTo(Action.REFUSE);
        assertThat(once.reason()).isEqualTo(Reason.DryRunSoakIncomplete);
        assertThat(once.blockers()).containsExactly("DryRun soak incomplete: 3h of 24h done, 21h left");

        Decision withAnother = TransitionRules.decide(healthy(DRY_RUN, LIVE).modeSince(NOW.minus(Duration.ofHours(3)))
                .guards(GuardVerdict.fail(guardSaysSo, "ready (WorkloadReady, Fail): 1 of 2 ready")).build());
        assertThat(withAnother.blockers()).containsExactly(soak, "guards not passing: ready (WorkloadReady, Fail): 1 of 2 ready");

        // Only the soak blocker of this very decision is folded: with the soak done, a guard still saying it blocks.
        Decision soaked = TransitionRules.decide(healthy(DRY_RUN, LIVE).modeSince(NOW.minus(Duration.ofHours(25)))
                .guards(GuardVerdict.fail(guardSaysSo)).build());
        assertThat(soaked.action()).isEqualTo(Action.REFUSE);
        assertThat(soaked.reason()).isEqualTo(Reason.GuardsNotPassing);
    }

    @Test
    void theSoakRuleAppliesToLiveOnlyAndNotToAZeroSoak() {
        Optional<Instant> anHourAgo = Optional.of(NOW.minus(Duration.ofHours(1)));
        Optional<Duration> day = Optional.of(Duration.ofDays(1));
        assertThat(TransitionRules.dryRunSoakBlocker(BACKTEST, DRY_RUN, day, anHourAgo, NOW)).isEmpty();
        assertThat(TransitionRules.dryRunSoakBlocker(DRY_RUN, LIVE, Optional.empty(), anHourAgo, NOW)).isEmpty();
        assertThat(TransitionRules.dryRunSoakBlocker(DRY_RUN, LIVE, Optional.of(Duration.ZERO), Optional.empty(), NOW)).isEmpty();
        assertThat(TransitionRules.dryRunSoakBlocker(DRY_RUN, LIVE, day, Optional.of(NOW.minus(Duration.ofDays(1))), NOW)).isEmpty();
        assertThat(TransitionRules.dryRunSoakBlocker(DRY_RUN, LIVE, day, anHourAgo, NOW)).contains(
                "DryRun soak incomplete: 1h of 24h done, 23h left");
        // Time in another mode does not count; a start in the future counts as none.
        assertThat(TransitionRules.dryRunSoakBlocker(BACKTEST, LIVE, day, Optional.of(NOW.minus(Duration.ofDays(9))), NOW))
                .contains("DryRun soak incomplete: 0s of 24h done, 24h left");
        assertThat(TransitionRules.dryRunSoakBlocker(DRY_RUN, LIVE, day, Optional.of(NOW.plusSeconds(60)), NOW))
                .contains("DryRun soak incomplete: 0s of 24h done, 24h left");
    }

    @Test
    void dryRunToLiveAfterTheFullSoakWithGuardsAndApprovalsIsAllowed() {
        Decision d = TransitionRules.decide(healthy(DRY_RUN, LIVE).modeSince(NOW.minus(Duration.ofHours(24))).build());

        assertThat(d.action()).isEqualTo(Action.START);
        assertThat(d.target()).contains(LIVE);
        assertThat(d.from()).contains(DRY_RUN);
        assertThat(d.reason()).isEqualTo(Reason.EscalationAllowed);
    }

    @Test
    void bringingTheTargetsBackAfterAReArmIsNotCalledATransitionFromAModeToItself() {
        Decision d = TransitionRules.decide(healthy(DRY_RUN, DRY_RUN).inFlight(DRY_RUN, DRY_RUN, NOW.minusSeconds(5)).build());

        assertThat(d.action()).isEqualTo(Action.CONTINUE);
        assertThat(d.message()).isEqualTo("bringing the targets back in DryRun in progress").doesNotContain("from DryRun to DryRun");
        Decision change = TransitionRules.decide(healthy(DRY_RUN, BACKTEST).inFlight(DRY_RUN, BACKTEST, NOW.minusSeconds(5))
                .desired(BACKTEST).build());
        assertThat(change.message()).isEqualTo("transition from DryRun to Backtest in progress");
    }

    @Test
    void unknownModeSinceCountsAsNothingSoaked() {
        Decision d = TransitionRules.decide(healthy(DRY_RUN, LIVE).modeSince(null).build());

        assertThat(d.reason()).isEqualTo(Reason.DryRunSoakIncomplete);
        assertThat(d.message()).contains("24h left");
    }

    @Test
    void backtestToLiveIsRefusedTellingToGoViaDryRun() {
        Decision d = TransitionRules.decide(healthy(BACKTEST, LIVE).guards(GuardVerdict.fail("RiskLimits: missing"))
                .approvals(0, 2).build());

        assertThat(d.action()).isEqualTo(Action.REFUSE);
        assertThat(d.target()).contains(BACKTEST);
        assertThat(d.reason()).isEqualTo(Reason.BacktestToLiveRefused);
        assertThat(d.message()).contains("set mode: DryRun").contains("24h").contains("then set mode: Live");
        assertThat(d.blockers()).as("structural: the only blocker, whatever else is wrong").hasSize(1);
    }

    @Test
    void guardFailureMessageCarriesTheGuardsProblemText() {
        String problem = "RiskLimits: maxNotional 5000000 exceeds the cluster cap 1000000";
        Decision d = TransitionRules.decide(healthy(BACKTEST, DRY_RUN).guards(GuardVerdict.fail(problem)).build());

        assertThat(d.action()).isEqualTo(Action.REFUSE);
        assertThat(d.target()).contains(BACKTEST);
        assertThat(d.reason()).isEqualTo(Reason.GuardsNotPassing);
        assertThat(d.message()).contains(problem);
        assertThat(d.blockers()).singleElement().asString().contains(problem);
    }

    @Test
    void everyBlockerOfARefusedEscalationIsListedInRuleOrder() {
        Decision d = TransitionRules.decide(healthy(DRY_RUN, LIVE).modeSince(NOW.minus(Duration.ofHours(1)))
                .guards(GuardVerdict.fail("TradingWindow: market closed")).approvals(1, 2).build());

        assertThat(d.reason()).isEqualTo(Reason.DryRunSoakIncomplete);
        assertThat(d.blockers()).hasSize(3);
        assertThat(d.blockers().get(0)).contains("23h left");
        assertThat(d.blockers().get(1)).contains("TradingWindow: market closed");
        assertThat(d.blockers().get(2)).contains("1 of 2");
    }

    @Test
    void liveToDryRunProceedsWhileEveryGuardFailsAndNobodyApproved() {
        Decision d = TransitionRules.decide(healthy(LIVE, DRY_RUN)
                .guards(GuardVerdict.fail("WorkloadReady: error", "RiskLimits: timeout", "Http: connection refused"))
                .approvals(0, 3).modeSince(NOW.minusSeconds(5)).build());

        assertThat(d.action()).isEqualTo(Action.START);
        assertThat(d.target()).contains(DRY_RUN);
        assertThat(d.from()).contains(LIVE);
        assertThat(d.reason()).isEqualTo(Reason.DeEscalation);
        assertThat(d.blockers()).isEmpty();
    }

    @Test
    void anEscalationThatTimedOutRollsBackToWhereItCameFrom() {
        Decision d = TransitionRules.decide(healthy(DRY_RUN, LIVE)
                .inFlight(DRY_RUN, LIVE, NOW.minus(TIMEOUT).minusSeconds(1)).build());

        assertThat(d.action()).isEqualTo(Action.START);
        assertThat(d.target()).contains(DRY_RUN);
        assertThat(d.from()).contains(LIVE);
        assertThat(d.reason()).isEqualTo(Reason.TransitionTimedOut);
        assertThat(d.message()).contains("5m").contains("rolling back to DryRun");
    }

    @Test
    void anEscalationWhoseApprovalCountWasRaisedUnderWayRollsBack() {
        // DryRun -> Live started with two approvals; requiredForLive (or the cluster's floor) is 3 now.
        Decision d = TransitionRules.decide(healthy(DRY_RUN, LIVE).approvals(2, 3)
                .inFlight(DRY_RUN, LIVE, NOW.minusSeconds(10)).build());

        assertThat(d.action()).isEqualTo(Action.START);
        assertThat(d.target()).contains(DRY_RUN);
        assertThat(d.from()).contains(LIVE);
        assertThat(d.reason()).isEqualTo(Reason.ApprovalsRaised);
        assertThat(d.message()).isEqualTo("Live now requires 3 approvals and this escalation was approved by 2; rolling back"
                + " to DryRun (approve again for Live)");
    }

    @Test
    void aDeEscalationInFlightIgnoresApprovals() {
        Decision d = TransitionRules.decide(healthy(LIVE, DRY_RUN).approvals(0, 3)
                .inFlight(LIVE, DRY_RUN, NOW.minusSeconds(10)).build());

        assertThat(d.action()).isEqualTo(Action.CONTINUE);
        assertThat(d.reason()).isEqualTo(Reason.TransitionInProgress);
    }

    @Test
    void anEscalationOneNanosecondBeforeItsDeadlineContinues() {
        Decision d = TransitionRules.decide(healthy(DRY_RUN, LIVE)
                .inFlight(DRY_RUN, LIVE, NOW.minus(TIMEOUT).plusNanos(1)).build());

        assertThat(d.action()).isEqualTo(Action.CONTINUE);
        assertThat(d.target()).contains(LIVE);
        assertThat(d.reason()).isEqualTo(Reason.TransitionInProgress);
    }

    @Test
    void aDeEscalationInFlightNeverTimesOut() {
        Decision d = TransitionRules.decide(healthy(LIVE, BACKTEST)
                .inFlight(LIVE, BACKTEST, NOW.minus(Duration.ofDays(2))).build());

        assertThat(d.action()).isEqualTo(Action.CONTINUE);
        assertThat(d.target()).contains(BACKTEST);
        assertThat(d.from()).contains(LIVE);
    }

    @Test
    void wantingBacktestDuringDryRunToLiveDeEscalatesAtOnce() {
        Decision d = TransitionRules.decide(healthy(DRY_RUN, BACKTEST)
                .inFlight(DRY_RUN, LIVE, NOW.minusSeconds(10)).guards(GuardVerdict.notEvaluated()).build());

        assertThat(d.action()).isEqualTo(Action.START);
        assertThat(d.target()).contains(BACKTEST);
        assertThat(d.from()).contains(LIVE);
        assertThat(d.reason()).isEqualTo(Reason.DeEscalation);
    }

    @Test
    void emergencyStopWinsEvenOverAnAllowedEscalation() {
        Decision d = TransitionRules.decide(healthy(DRY_RUN, LIVE).stopped(true).build());

        assertThat(d.action()).isEqualTo(Action.STOP);
        assertThat(d.target()).isEmpty();
        assertThat(d.reason()).isEqualTo(Reason.EmergencyStopped);
    }

    @Test
    void firstSightOfALivePolicyAdoptsItInBacktestAndSaysWhy() {
        Decision d = TransitionRules.decide(healthy(DRY_RUN, LIVE).effective(null).build());

        assertThat(d.action()).isEqualTo(Action.START);
        assertThat(d.target()).contains(BACKTEST);
        assertThat(d.from()).isEmpty();
        assertThat(d.reason()).isEqualTo(Reason.Adopting);
        assertThat(d.message()).contains("DryRun");
        assertThat(d.blockers()).hasSize(1);
    }

    @Test
    void firstSightOfAnApprovedDryRunPolicyAdoptsItInDryRun() {
        Decision d = TransitionRules.decide(healthy(DRY_RUN, DRY_RUN).effective(null).build());

        assertThat(d.action()).isEqualTo(Action.START);
        assertThat(d.target()).contains(DRY_RUN);
        assertThat(d.from()).isEmpty();
        assertThat(d.reason()).isEqualTo(Reason.Adopting);
        assertThat(d.blockers()).isEmpty();
    }

    @Test
    void inDesiredModeHolds() {
        Decision d = TransitionRules.decide(healthy(LIVE, LIVE).guards(GuardVerdict.notEvaluated()).build());

        assertThat(d.action()).isEqualTo(Action.HOLD);
        assertThat(d.target()).isEqualTo(Optional.of(LIVE));
        assertThat(d.reason()).isEqualTo(Reason.InDesiredMode);
    }
}
