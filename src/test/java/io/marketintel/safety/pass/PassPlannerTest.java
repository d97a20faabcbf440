package io.marketintel.safety.pass;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.marketintel.safety.actuation.ObservedWorkload;
import io.marketintel.safety.actuation.Actuator;
import io.marketintel.safety.admission.ReplicaCeilings;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.killswitch.Latch;
import io.marketintel.safety.policy.Decision.Action;
import io.marketintel.safety.policy.Reason;
import io.marketintel.safety.status.Conditions;

/** Single passes worth reading as examples; {@link PassSimulationTest} runs thousands of generated ones. */
class PassPlannerTest {
    private static final PassPlanner PLANNER = new PassPlanner(new KubernetesSerialization());
    private static final Instant NOW = Instant.parse("2026-03-02T14:00:00Z");
    private static final Latch.Trigger NAMESPACE_STOP = new Latch.Trigger(Latch.Scope.Namespace, "Namespace/trading",
            "namespace trading", "venue outage", Optional.of("risk-officer"));

    @Test
    void aStopSetAndRemovedBeforeThePassLookedStillLatchesAndWritesOnlyZeros() {
        ExecutionPolicy policy = policy(ExecutionMode.LIVE, status(ExecutionMode.LIVE));
        Observation o = observe(policy, List.of(), Optional.of(List.of(NAMESPACE_STOP)), List.of(), running(ExecutionMode.LIVE, 2));

        PassPlan plan = PLANNER.plan(o);

        assertThat(plan.latch().change()).isEqualTo(Latch.Change.STOPPED);
        assertThat(plan.decision().action()).isEqualTo(Action.STOP);
        assertThat(plan.writes()).singleElement().satisfies(w -> assertThat(w.replicas()).isZero());
        assertThat(plan.fenceUp()).isTrue();
        Report report = plan.report(PassPlan.Outcome.CLEAN);
        assertThat(report.status().emergencyStop.epoch).isEqualTo(1L);
        assertThat(report.status().effective).as("pods still run: not stopped yet").isEqualTo(ExecutionPolicyStatus.STOPPING);
        assertThat(report.status().phase).isEqualTo(ExecutionPolicyStatus.Phase.Stopping);
        assertThat(report.stopCounted()).contains(Latch.Scope.Namespace);
        assertThat(report.status().history.get(0).trigger).isEqualTo("EmergencyStop");
    }

    /**
     * Issue 20: a Namespace stop the API server counted but whose annotation is gone latches as a missed stop; when this
     * operator saw the annotation after all (the stop under way), that stop's own reason and author are recorded.
     */
    @Test
    void aMissedStopLatchesAndYieldsToTheStopUnderWayThatKnowsItsReason() {
        ExecutionPolicy policy = policy(ExecutionMode.LIVE, status(ExecutionMode.LIVE));
        Latch.Trigger missed = new Latch.Trigger(Latch.Scope.Namespace, "Namespace/trading", "namespace trading",
                "stop #4 of Namespace/trading was removed before this policy recorded it (the API server counted it)",
                Optional.of("risk-officer"), true);

        PassPlan alone = PLANNER.plan(observe(policy, List.of(missed), Optional.empty(), List.of(), running(ExecutionMode.LIVE, 2)));
        assertThat(alone.latch().change()).isEqualTo(Latch.Change.STOPPED);
        assertThat(alone.writes()).singleElement().satisfies(w -> assertThat(w.replicas()).isZero());
        assertThat(alone.report(PassPlan.Outcome.CLEAN).status().emergencyStop.reason).startsWith("stop #4 of Namespace/trading");

        PassPlan seen = PLANNER.plan(observe(policy, List.of(missed), Optional.of(List.of(NAMESPACE_STOP)), List.of(),
                running(ExecutionMode.LIVE, 2)));
        assertThat(seen.latch().change()).isEqualTo(Latch.Change.STOPPED);
        assertThat(seen.report(PassPlan.Outcome.CLEAN).status().emergencyStop.reason).isEqualTo("venue outage");
    }

    @Test
    void aReArmIsNotAcceptedWithoutTheAdmissionPoliciesThatRecordWhoReArmed() {
        ExecutionPolicy policy = policy(ExecutionMode.DRY_RUN, stopped(ExecutionMode.DRY_RUN, 3));
        policy.getMetadata().getAnnotations().put(MetadataNames.REARMED_BY_ANNOTATION, "mallory 3");

        PassPlan plan = PLANNER.plan(observe(policy, List.of(), Optional.empty(), List.of("MutatingAdmissionPolicy execution-safety-rearm"),
                stoppedAtZero()));

        assertThat(plan.latch().stopped()).isTrue();
        assertThat(plan.release()).isEmpty();
        assertThat(plan.problems()).anySatisfy(p -> assertThat(p).contains("re-arm by mallory not accepted"));
    }

    @Test
    void onlyAReArmOfTheCurrentEpochMakesTheLatchDependOnAdmissionControl() {
        ExecutionPolicy policy = policy(ExecutionMode.DRY_RUN, stopped(ExecutionMode.DRY_RUN, 3));
        assertThat(PassPlanner.rearmPending(policy)).isFalse();
        policy.getMetadata().getAnnotations().put(MetadataNames.REARMED_BY_ANNOTATION, "risk-officer 2");
        assertThat(PassPlanner.rearmPending(policy)).as("an earlier epoch's re-arm").isFalse();
        policy.getMetadata().getAnnotations().put(MetadataNames.REARMED_BY_ANNOTATION, "risk-officer 3");
        assertThat(PassPlanner.rearmPending(policy)).isTrue();
        assertThat(PassPlanner.rearmPending(policy(ExecutionMode.DRY_RUN, status(ExecutionMode.DRY_RUN)))).as("not latched").isFalse();
    }

    @Test
    void aReArmOfTheCurrentEpochResumesInDryRunNotLive() {
        ExecutionPolicy policy = policy(ExecutionMode.LIVE, stopped(ExecutionMode.LIVE, 2));
        policy.getMetadata().getAnnotations().put(MetadataNames.REARMED_BY_ANNOTATION, "risk-officer 2");

        PassPlan plan = PLANNER.plan(observe(policy, List.of(), Optional.empty(), List.of(), stoppedAtZero()));

        assertThat(plan.latch().change()).isEqualTo(Latch.Change.REARMED);
        assertThat(plan.release()).hasValue(2L);
        assertThat(plan.decided().transition.to).isEqualTo(ExecutionMode.DRY_RUN);
        assertThat(plan.decision().target()).contains(ExecutionMode.DRY_RUN);
        assertThat(plan.writes()).allSatisfy(w -> assertThat(w.templateMode()).isNotEqualTo(Optional.of(ExecutionMode.LIVE)));
    }

    @Test
    void aCircuitBreakerThatTripsInThisPassOverrulesTheDecisionAtOnce() {
        ExecutionPolicy policy = policy(ExecutionMode.DRY_RUN, status(ExecutionMode.DRY_RUN));
        List<String> crashes = List.of("w0-a/app restart 4", "w0-b/app restart 2", "w0-c/app restart 7");
        ObservedWorkload crashing = new ObservedWorkload(ExecutionPolicySpec.WorkloadKind.DEPLOYMENT, "w0", Optional.of(ExecutionMode.DRY_RUN),
                3, 0, Optional.of(3), List.of(Optional.of(ExecutionMode.DRY_RUN), Optional.of(ExecutionMode.DRY_RUN),
                        Optional.of(ExecutionMode.DRY_RUN)), List.of("app"), List.of("app:1"), crashes, 3, "7");

        PassPlan plan = PLANNER.plan(observe(policy, List.of(), Optional.empty(), List.of(), List.of(crashing)));

        assertThat(plan.latch().change()).isEqualTo(Latch.Change.BREAKER_TRIPPED);
        assertThat(plan.desired()).isEqualTo(ExecutionMode.BACKTEST);
        assertThat(plan.decision().target()).contains(ExecutionMode.BACKTEST);
        assertThat(plan.writes()).singleElement().satisfies(w -> assertThat(w.replicas()).isZero());
        Report report = plan.report(PassPlan.Outcome.CLEAN);
        assertThat(report.status().circuitBreaker.state).isEqualTo("Open");
        assertThat(report.announcements()).anySatisfy(a -> assertThat(a.reason()).isEqualTo("CircuitBreakerTripped"));
    }

    @Test
    void theFenceComesDownOnlyOnceEveryTargetRunsLive() {
        ExecutionPolicy arriving = arrivingLive();

        PassPlan scalingUp = PLANNER.plan(observe(arriving, List.of(), Optional.empty(), List.of(), running(ExecutionMode.LIVE, 1)));
        assertThat(scalingUp.convergence().converged()).isFalse();
        assertThat(scalingUp.fenceUp()).isTrue();
        // Waiting for a ready replica, which the workload's watch reports: only the safety net of a policy at rest, the
        // transition's deadline (5 minutes, 20 s of them gone) being further away (issue 22).
        assertThat(scalingUp.report(PassPlan.Outcome.CLEAN).resync()).isEqualTo(Resync.IDLE);
        ExecutionPolicy late = arrivingLive();
        late.getStatus().transition.startedAt = NOW.minusSeconds(290).toString();
        assertThat(PLANNER.plan(observe(late, List.of(), Optional.empty(), List.of(), running(ExecutionMode.LIVE, 1)))
                .report(PassPlan.Outcome.CLEAN).resync()).as("just past the deadline").isEqualTo(Duration.ofSeconds(11));

        PassPlan arrived = PLANNER.plan(observe(arriving, List.of(), Optional.empty(), List.of(), running(ExecutionMode.LIVE, 2)));
        assertThat(arrived.convergence().converged()).isTrue();
        assertThat(arrived.fenceUp()).isFalse();
        Report report = arrived.report(PassPlan.Outcome.CLEAN);
        assertThat(report.status().mode).isEqualTo(ExecutionMode.LIVE);
        assertThat(Conditions.isTrue(report.status().conditions, Conditions.READY)).isTrue();
        // Arrived where the spec wants it: nothing to decide at once (issue 22: that pass found nothing to do).
        assertThat(report.resync()).isEqualTo(Resync.IDLE);
    }

    /** A completed transition is decided again at once only when the mode wanted is further on: after a rollback. */
    @Test
    void aCompletedRollbackIsDecidedAgainAtOnce() {
        ExecutionPolicy rolledBack = inFlight(policy(ExecutionMode.LIVE, status(ExecutionMode.LIVE)), ExecutionMode.DRY_RUN,
                "TransitionTimedOut");
        Report report = PLANNER.plan(observe(rolledBack, List.of(), Optional.empty(), List.of(), running(ExecutionMode.DRY_RUN, 2)))
                .report(PassPlan.Outcome.CLEAN);
        assertThat(report.status().mode).isEqualTo(ExecutionMode.DRY_RUN);
        assertThat(report.status().history.get(0).outcome).isEqualTo("RolledBack");
        assertThat(report.resync()).isEqualTo(Resync.NEXT_DECISION);
    }

    /**
     * A re-arm of the current epoch that cannot be trusted yet (the admission check unreadable) releases nothing; when it
     * meets a stop in force it is spent all the same, so that trusted later, once that stop is removed, it cannot release
     * a stop made after it (insider tier, seed 1796567115094:329 and :346, around a restart of every replica).
     */
    @Test
    void anUntrustedReArmThatMeetsAStopInForceIsSpent() {
        ExecutionPolicy policy = policy(ExecutionMode.DRY_RUN, stopped(ExecutionMode.DRY_RUN, 1));
        policy.getMetadata().getAnnotations().put(MetadataNames.REARMED_BY_ANNOTATION, "alice 1");
        List<String> unreadable = List.of("ValidatingAdmissionPolicy execution-safety-identity (unreadable: 503)");

        PassPlan held = PLANNER.plan(observe(policy, List.of(), Optional.empty(), unreadable, running(ExecutionMode.DRY_RUN, 0)));
        assertThat(held.latch().change()).as("nothing in force: held, the re-arm kept for later").isEqualTo(Latch.Change.NONE);
        assertThat(held.latch().epoch()).isEqualTo(1L);

        PassPlan spent = PLANNER.plan(observe(policy, List.of(NAMESPACE_STOP), Optional.empty(), unreadable, running(ExecutionMode.DRY_RUN, 0)));
        assertThat(spent.latch().change()).isEqualTo(Latch.Change.REARM_SPENT);
        assertThat(spent.latch().epoch()).isEqualTo(2L);
        ExecutionPolicyStatus after = spent.report(PassPlan.Outcome.CLEAN).status();
        assertThat(after.emergencyStop.epoch).isEqualTo(2L);
        assertThat(after.emergencyStop.active).isTrue();

        // The stop removed and the admission policies readable again: the re-arm names epoch 1, which is over.
        ExecutionPolicy later = policy(ExecutionMode.DRY_RUN, after);
        later.getMetadata().getAnnotations().put(MetadataNames.REARMED_BY_ANNOTATION, "alice 1");
        PassPlan after2 = PLANNER.plan(observe(later, List.of(), Optional.empty(), List.of(), running(ExecutionMode.DRY_RUN, 0)));
        assertThat(after2.latch().stopped()).isTrue();
        assertThat(after2.latch().change()).isEqualTo(Latch.Change.NONE);
    }

    /**
     * An escalation started with the two approvals Live needed; the count was raised while it scaled up (the policy's
     * {@code requiredForLive}, then the cluster's floor): it goes back to DryRun at once, as a rollback, so no Live pod
     * runs on fewer approvals than required (insider tier, CI at b6eb367: GitOps raised the count mid-escalation).
     */
    @Test
    void anEscalationWhoseApprovalCountIsRaisedUnderWayRollsBack() {
        ExecutionPolicy raised = arrivingLive();
        raised.getSpec().approval = new ExecutionPolicySpec.Approval();
        raised.getSpec().approval.requiredForLive = 3;
        PassPlan plan = PLANNER.plan(observe(raised, List.of(), Optional.empty(), List.of(), running(ExecutionMode.LIVE, 1)));
        assertThat(plan.decision().action()).isEqualTo(Action.START);
        assertThat(plan.decision().reason()).isEqualTo(Reason.ApprovalsRaised);
        assertThat(plan.decision().target()).contains(ExecutionMode.DRY_RUN);
        assertThat(plan.writes()).singleElement().satisfies(w -> assertThat(w.replicas()).as("Live pods go first").isZero());
        assertThat(plan.fenceUp()).isTrue();
        Report report = plan.report(PassPlan.Outcome.CLEAN);
        assertThat(report.status().transition.trigger).isEqualTo("ApprovalsRaised");
        assertThat(report.status().transition.approvers).isNull();
        assertThat(report.announcements()).anySatisfy(a -> {
            assertThat(a.reason()).isEqualTo("ApprovalsRaised");
            assertThat(a.warning()).isTrue();
        });

        var global = new io.marketintel.safety.api.v1alpha1.ExecutionSafety();
        global.setSpec(new io.marketintel.safety.api.v1alpha1.ExecutionSafetySpec());
        global.getSpec().minLiveApprovals = 3;
        Observation floor = observe(arrivingLive(), List.of(), Optional.empty(), List.of(), running(ExecutionMode.LIVE, 1))
                .withEscalation(new Observation.EscalationReads(Optional.of(global), List.of()), List.of());
        assertThat(PLANNER.plan(floor).decision().reason()).as("the cluster's floor raised").isEqualTo(Reason.ApprovalsRaised);

        ExecutionPolicy selfApproved = arrivingLive();
        selfApproved.getStatus().transition.approvers = List.of("alice", "tom");
        assertThat(PLANNER.plan(observe(selfApproved, List.of(), Optional.empty(), List.of(), running(ExecutionMode.LIVE, 1)))
                .decision().reason()).as("the requester recorded as an approver counts for nothing").isEqualTo(Reason.ApprovalsRaised);

        assertThat(PLANNER.plan(observe(arrivingLive(), List.of(), Optional.empty(), List.of(), running(ExecutionMode.LIVE, 1)))
                .decision().reason()).as("unchanged: it goes on").isEqualTo(Reason.TransitionInProgress);
    }

    /**
     * Issue 21: a Deployment that comes under the spec of a policy running Live (its selector matches a new one) is held at
     * zero and named, never configured for Live: its template was not among those approved. During the escalation itself
     * every target is configured (the approvals bound their templates).
     */
    @Test
    void aWorkloadThatComesUnderALivePolicyIsHeldAtZeroNotConfiguredForLive() {
        ExecutionPolicy live = policy(ExecutionMode.LIVE, status(ExecutionMode.LIVE));
        ObservedWorkload joiner = new ObservedWorkload(ExecutionPolicySpec.WorkloadKind.DEPLOYMENT, "newcomer",
                Optional.of(ExecutionMode.DRY_RUN), 1, 1, Optional.empty(), List.of(Optional.of(ExecutionMode.DRY_RUN)), List.of("app"),
                List.of("app:untested"), List.of(), 1, "7");
        List<ObservedWorkload> targets = new ArrayList<>(running(ExecutionMode.LIVE, 2));
        targets.add(joiner);

        PassPlan plan = PLANNER.plan(observe(live, List.of(), Optional.empty(), List.of(), targets));
        assertThat(plan.writes()).singleElement().satisfies(w -> {
            assertThat(w.workload().name()).isEqualTo("newcomer");
            assertThat(w.replicas()).isZero();
            assertThat(w.templateMode()).contains(ExecutionMode.DRY_RUN);
            assertThat(w.startsLive()).isFalse();
        });
        Report report = plan.report(PassPlan.Outcome.CLEAN);
        assertThat(report.status().mode).isEqualTo(ExecutionMode.LIVE);
        assertThat(Conditions.find(report.status().conditions, Conditions.STALLED).orElseThrow().getMessage())
                .contains("Deployment/newcomer came under the spec while the policy runs Live and is held at zero");
        assertThat(Conditions.isTrue(report.status().conditions, Conditions.READY)).isFalse();

        // At zero and drained: nothing more is written for it, ever, while the policy stays Live.
        ObservedWorkload held = new ObservedWorkload(ExecutionPolicySpec.WorkloadKind.DEPLOYMENT, "newcomer",
                Optional.of(ExecutionMode.DRY_RUN), 0, 0, Optional.empty(), List.of(), List.of("app"), List.of("app:untested"), List.of(),
                0, "8");
        PassPlan later = PLANNER.plan(observe(live, List.of(), Optional.empty(), List.of(),
                List.of(running(ExecutionMode.LIVE, 2).get(0), held)));
        assertThat(later.writes()).isEmpty();
        assertThat(later.convergence().converged()).isTrue();
        assertThat(later.fenceUp()).isFalse();

        // On the approved way to Live, the same workload is configured with the others.
        ExecutionPolicy arriving = arrivingLive();
        PassPlan configuring = PLANNER.plan(observe(arriving, List.of(), Optional.empty(), List.of(), List.of(held)));
        assertThat(configuring.writes()).singleElement().satisfies(w -> assertThat(w.templateMode()).contains(ExecutionMode.LIVE));
    }

    /**
     * Issue 22: the Namespace's register of replica ceilings gets each target's count in the mode the decision converges to
     * (the spec's count for it, else the remembered original), zero for a workload held at zero, and nothing at all while
     * stopped (the register keeps the count the system resumes with).
     */
    @Test
    void theReplicaCeilingsAreTheTargetModesCountsAndAStopLeavesThemAlone() {
        ExecutionPolicy dryRun = policy(ExecutionMode.DRY_RUN, status(ExecutionMode.DRY_RUN));
        dryRun.getSpec().replicas = new ExecutionPolicySpec.ModeReplicas();
        dryRun.getSpec().replicas.dryRun = 3;
        assertThat(PLANNER.plan(observe(dryRun, List.of(), Optional.empty(), List.of(), running(ExecutionMode.DRY_RUN, 2))).ceilings())
                .contains(List.of(new ReplicaCeilings.Ceiling("Deployment", "w0", 3, "momentum", ExecutionMode.DRY_RUN)));
        // No count of its own for Live: the original count (2), and the mode it is heading to, not the one it is in.
        PassPlan arriving = PLANNER.plan(observe(arrivingLive(), List.of(), Optional.empty(), List.of(), running(ExecutionMode.DRY_RUN, 0)));
        assertThat(arriving.ceilings()).contains(List.of(new ReplicaCeilings.Ceiling("Deployment", "w0", 2, "momentum", ExecutionMode.LIVE)));
        // A workload that came under a Live policy unapproved is held at zero: its ceiling is zero.
        ObservedWorkload joiner = new ObservedWorkload(ExecutionPolicySpec.WorkloadKind.DEPLOYMENT, "newcomer",
                Optional.of(ExecutionMode.DRY_RUN), 1, 1, Optional.empty(), List.of(Optional.of(ExecutionMode.DRY_RUN)), List.of("app"),
                List.of("app:untested"), List.of(), 1, "7");
        List<ObservedWorkload> targets = new ArrayList<>(running(ExecutionMode.LIVE, 2));
        targets.add(joiner);
        assertThat(PLANNER.plan(observe(policy(ExecutionMode.LIVE, status(ExecutionMode.LIVE)), List.of(), Optional.empty(), List.of(),
                targets)).ceilings()).contains(List.of(new ReplicaCeilings.Ceiling("Deployment", "w0", 2, "momentum", ExecutionMode.LIVE),
                        new ReplicaCeilings.Ceiling("Deployment", "newcomer", 0, "momentum", ExecutionMode.LIVE)));
        // A retired workload (the policy's mark, not its spec) likewise.
        ObservedWorkload retired = new ObservedWorkload(ExecutionPolicySpec.WorkloadKind.STATEFUL_SET, "old-book",
                Optional.of(ExecutionMode.DRY_RUN), 0, 0, Optional.of(4), List.of(), List.of("app"), List.of("app:1"), List.of(), 0, "3");
        Observation withRetired = new Observation(dryRun, List.of(), Optional.empty(), Optional.empty(), List.of(), List.of(),
                new Actuator.Resolution(running(ExecutionMode.DRY_RUN, 2), List.of(), List.of(), List.of(retired)), Optional.empty(), NOW);
        assertThat(PLANNER.plan(withRetired).ceilings().orElseThrow())
                .contains(new ReplicaCeilings.Ceiling("StatefulSet", "old-book", 0, "momentum", ExecutionMode.DRY_RUN));
        // Stopped: nothing to write.
        PassPlan stop = PLANNER.plan(observe(policy(ExecutionMode.LIVE, status(ExecutionMode.LIVE)), List.of(), Optional.of(List.of(NAMESPACE_STOP)),
                List.of(), running(ExecutionMode.LIVE, 2)));
        assertThat(stop.decision().action()).isEqualTo(Action.STOP);
        assertThat(stop.ceilings()).isEmpty();
    }

    @Test
    void aWriteHeldBackOrRefusedIsDecidedAgainAtOnce() {
        ExecutionPolicy policy = policy(ExecutionMode.DRY_RUN, status(ExecutionMode.DRY_RUN));
        // Scaled to zero by hand: the pass scales it back to its count in DryRun.
        PassPlan plan = PLANNER.plan(observe(policy, List.of(), Optional.empty(), List.of(), List.of(new ObservedWorkload(
                ExecutionPolicySpec.WorkloadKind.DEPLOYMENT, "w0", Optional.of(ExecutionMode.DRY_RUN), 0, 0, Optional.of(2), List.of(),
                List.of("app"), List.of("app:1"), List.of(), 0, "5"))));
        assertThat(plan.writes()).singleElement().satisfies(w -> assertThat(w.replicas()).isEqualTo(2));

        assertThat(plan.report(new PassPlan.Outcome(List.of(), 1, Optional.empty())).resync()).isEqualTo(Resync.NEXT_DECISION);
        Report failed = plan.report(new PassPlan.Outcome(List.of("could not write Deployment/w0: forbidden"), 0, Optional.empty()));
        assertThat(failed.resync()).isEqualTo(Resync.BUSY);
        assertThat(Conditions.find(failed.status().conditions, Conditions.STALLED).orElseThrow().getReason()).isEqualTo("ActuationFailed");
    }

    /**
     * A policy at rest reports the same status on the next pass, so nothing is written and no watch event wakes it
     * again: every status patch costs the API server a write and every watcher an event.
     */
    @Test
    void aPassAtRestReportsTheStatusItRead() {
        KubernetesSerialization json = new KubernetesSerialization();
        ExecutionPolicy policy = policy(ExecutionMode.DRY_RUN, status(ExecutionMode.DRY_RUN));
        ExecutionPolicyStatus first = PLANNER.plan(observe(policy, List.of(), Optional.empty(), List.of(), running(ExecutionMode.DRY_RUN, 2)))
                .report(PassPlan.Outcome.CLEAN).status();
        // As the API server gives it back.
        policy.setStatus(json.unmarshal(json.asJson(first), ExecutionPolicyStatus.class));
        Observation later = new Observation(policy, List.of(), Optional.empty(), Optional.empty(), List.of(), List.of(),
                new Actuator.Resolution(running(ExecutionMode.DRY_RUN, 2), List.of()), Optional.empty(), NOW.plusSeconds(60));

        ExecutionPolicyStatus second = PLANNER.plan(later).report(PassPlan.Outcome.CLEAN).status();

        assertThat(json.asJson(second)).isEqualTo(json.asJson(policy.getStatus()));
    }

    /**
     * Issue 23: a risk monitor's DeEscalate breach holds a Live system in DryRun on a new epoch (its Live approvals are
     * spent), recorded in status and history; Stalled names the hold and the re-arm command; it is not an emergency stop.
     */
    @Test
    void aMonitorsDeEscalationTakesALiveSystemToDryRunAndHoldsIt() {
        ExecutionPolicy policy = policy(ExecutionMode.LIVE, status(ExecutionMode.LIVE));
        policy.getSpec().monitors = List.of(monitor("order-rate"));
        Observation o = observe(policy, List.of(), Optional.empty(), List.of(), running(ExecutionMode.LIVE, 2))
                .withMonitors(new Observation.MonitorReads(List.of(monitorStatus("order-rate", "Breached")),
                        Optional.of(new Observation.DeEscalation("order-rate", "monitor order-rate: 900 > 500 for 10 s"))));

        PassPlan plan = PLANNER.plan(o);

        assertThat(plan.latch().change()).isEqualTo(Latch.Change.HELD);
        assertThat(plan.desired()).isEqualTo(ExecutionMode.DRY_RUN);
        assertThat(plan.decision().action()).isEqualTo(Action.START);
        assertThat(plan.decision().target()).contains(ExecutionMode.DRY_RUN);
        assertThat(plan.fenceUp()).isTrue();
        assertThat(plan.writes()).allSatisfy(w -> assertThat(w.startsLive()).isFalse());
        Report report = plan.report(PassPlan.Outcome.CLEAN);
        ExecutionPolicyStatus after = report.status();
        assertThat(after.monitorHold.active).isTrue();
        assertThat(after.monitorHold.monitor).isEqualTo("order-rate");
        assertThat(after.emergencyStop.epoch).isEqualTo(1L);
        assertThat(after.emergencyStop.active).isFalse();
        assertThat(after.history.get(0).trigger).isEqualTo("MonitorBreached");
        assertThat(Conditions.find(after.conditions, Conditions.STALLED)).hasValueSatisfying(c -> {
            assertThat(c.getReason()).isEqualTo("MonitorHold");
            assertThat(c.getMessage()).contains("monitor order-rate: 900 > 500 for 10 s").contains("rearm=1");
        });
        assertThat(Conditions.isTrue(after.conditions, Conditions.EMERGENCY_STOPPED)).isFalse();
        assertThat(report.announcements()).anySatisfy(a -> assertThat(a.reason()).isEqualTo("MonitorBreached"));

        // The next pass: still held, whatever the spec asks; a re-arm of epoch 1 releases it (to DryRun, as any re-arm).
        ExecutionPolicy held = policy(ExecutionMode.LIVE, after);
        held.getSpec().monitors = policy.getSpec().monitors;
        PassPlan next = PLANNER.plan(observe(held, List.of(), Optional.empty(), List.of(), running(ExecutionMode.DRY_RUN, 2)));
        assertThat(next.latch().held()).isTrue();
        assertThat(next.desired()).isEqualTo(ExecutionMode.DRY_RUN);
        held.getMetadata().getAnnotations().put(MetadataNames.REARMED_BY_ANNOTATION, "alice 1");
        PassPlan rearmed = PLANNER.plan(observe(held, List.of(), Optional.empty(), List.of(), running(ExecutionMode.DRY_RUN, 2)));
        assertThat(rearmed.latch().change()).isEqualTo(Latch.Change.REARMED);
        assertThat(rearmed.report(PassPlan.Outcome.CLEAN).status().monitorHold).isNull();
    }

    @Test
    void monitorsReportingNamesTheMonitorsWithoutAReading() {
        ExecutionPolicy policy = policy(ExecutionMode.DRY_RUN, status(ExecutionMode.DRY_RUN));
        policy.getSpec().monitors = List.of(monitor("loss"), monitor("rate"));
        ExecutionPolicyStatus.MonitorStatus noData = monitorStatus("rate", "NoData");
        noData.message = "query failed: bad_data: 1:5: parse error";
        Observation o = observe(policy, List.of(), Optional.empty(), List.of(), running(ExecutionMode.DRY_RUN, 2))
                .withMonitors(new Observation.MonitorReads(List.of(monitorStatus("loss", "Ok"), noData), Optional.empty()));

        ExecutionPolicyStatus after = PLANNER.plan(o).report(PassPlan.Outcome.CLEAN).status();

        assertThat(after.monitors).extracting(m -> m.name + "=" + m.phase).containsExactly("loss=Ok", "rate=NoData");
        assertThat(Conditions.find(after.conditions, Conditions.MONITORS_REPORTING)).hasValueSatisfying(c -> {
            assertThat(c.getStatus()).isEqualTo("False");
            assertThat(c.getReason()).isEqualTo("MonitorNoData");
            assertThat(c.getMessage()).isEqualTo("no reading from rate: query failed: bad_data: 1:5: parse error");
        });

        policy.getSpec().monitors = null;
        policy.setStatus(after);
        ExecutionPolicyStatus without = PLANNER.plan(observe(policy, List.of(), Optional.empty(), List.of(), running(ExecutionMode.DRY_RUN, 2)))
                .report(PassPlan.Outcome.CLEAN).status();
        assertThat(without.monitors).isNull();
        assertThat(Conditions.find(without.conditions, Conditions.MONITORS_REPORTING)).isEmpty();
    }

    /**
     * Issue 23, DESIGN §6: an escalation waits while a risk monitor of the mode asked for cannot be queried or breaches
     * now, named in Ready as a failing guard is; once the read is clean it starts. A de-escalation never reads monitors.
     */
    @Test
    void anEscalationWaitsForAMonitorOfTheTargetModeThatCannotBeRead() {
        ExecutionPolicy policy = policy(ExecutionMode.DRY_RUN, status(ExecutionMode.BACKTEST));
        policy.getSpec().monitors = List.of(monitor("loss"));
        String problem = "monitor loss cannot be queried: no Prometheus is set";
        Observation blocked = observe(policy, List.of(), Optional.empty(), List.of(), running(ExecutionMode.BACKTEST, 2))
                .withEscalation(new Observation.EscalationReads(Optional.empty(), List.of(), List.of(problem)), List.of());

        PassPlan plan = PLANNER.plan(blocked);
        assertThat(plan.escalating()).isTrue();
        assertThat(plan.decision().action()).isNotEqualTo(Action.START);
        assertThat(plan.decision().reason()).isEqualTo(Reason.GuardsNotPassing);
        assertThat(plan.writes()).isEmpty();
        var conditions = plan.report(PassPlan.Outcome.CLEAN).status().conditions;
        assertThat(Conditions.find(conditions, Conditions.READY)).hasValueSatisfying(c -> assertThat(c.getMessage()).contains(problem));
        assertThat(Conditions.find(conditions, Conditions.GUARDS_PASSED)).hasValueSatisfying(c -> {
            assertThat(c.getStatus()).isEqualTo("False");
            assertThat(c.getReason()).isEqualTo("GuardsFailing");
            assertThat(c.getMessage()).contains(problem);
        });

        Observation clean = observe(policy, List.of(), Optional.empty(), List.of(), running(ExecutionMode.BACKTEST, 2))
                .withEscalation(new Observation.EscalationReads(Optional.empty(), List.of(), List.of()), List.of());
        PassPlan starts = PLANNER.plan(clean);
        assertThat(starts.decision().action()).isEqualTo(Action.START);
        assertThat(starts.decision().target()).contains(ExecutionMode.DRY_RUN);
    }

    private static ExecutionPolicySpec.Monitor monitor(String name) {
        var m = new ExecutionPolicySpec.Monitor();
        m.name = name;
        m.query = "x";
        m.comparison = ExecutionPolicySpec.MonitorComparison.GreaterThan;
        m.threshold = 1.0;
        return m;
    }

    private static ExecutionPolicyStatus.MonitorStatus monitorStatus(String name, String phase) {
        var m = new ExecutionPolicyStatus.MonitorStatus();
        m.name = name;
        m.phase = phase;
        m.since = NOW.toString();
        m.message = "value 0";
        return m;
    }

    // ---------------------------------------------------------------- builders

    private static ExecutionPolicy policy(ExecutionMode mode, ExecutionPolicyStatus status) {
        ExecutionPolicy p = new ExecutionPolicy();
        p.setMetadata(new ObjectMetaBuilder().withName("momentum").withNamespace("trading").withUid("uid-1").withGeneration(4L)
                .withAnnotations(new HashMap<>(Map.of())).build());
        ExecutionPolicySpec spec = new ExecutionPolicySpec();
        spec.mode = mode;
        spec.workloads = new ExecutionPolicySpec.Workloads();
        p.setSpec(spec);
        p.setStatus(status);
        return p;
    }

    /** Wants Live, in DryRun, on its approved way to Live for 20 s. */
    private static ExecutionPolicy arrivingLive() {
        ExecutionPolicy arriving = inFlight(policy(ExecutionMode.LIVE, status(ExecutionMode.DRY_RUN)), ExecutionMode.LIVE,
                "EscalationAllowed");
        arriving.getStatus().transition.requester = "tom";
        arriving.getStatus().transition.approvers = List.of("alice", "rita");
        return arriving;
    }

    /** {@code p} on its way from its status's mode to {@code to} for 20 s, by {@code trigger}. */
    private static ExecutionPolicy inFlight(ExecutionPolicy p, ExecutionMode to, String trigger) {
        p.getStatus().transition = new ExecutionPolicyStatus.Transition();
        p.getStatus().transition.from = p.getStatus().mode;
        p.getStatus().transition.to = to;
        p.getStatus().transition.startedAt = NOW.minusSeconds(20).toString();
        p.getStatus().transition.trigger = trigger;
        return p;
    }

    private static ExecutionPolicyStatus status(ExecutionMode mode) {
        ExecutionPolicyStatus s = new ExecutionPolicyStatus();
        s.mode = mode;
        s.modeSince = NOW.minus(Duration.ofHours(30)).toString();
        return s;
    }

    /** Stopped in {@code mode}, latched in {@code epoch}. */
    private static ExecutionPolicyStatus stopped(ExecutionMode mode, long epoch) {
        ExecutionPolicyStatus s = status(mode);
        s.emergencyStop = new ExecutionPolicyStatus.EmergencyStop();
        s.emergencyStop.active = true;
        s.emergencyStop.epoch = epoch;
        return s;
    }

    private static Observation observe(ExecutionPolicy policy, List<Latch.Trigger> triggers, Optional<List<Latch.Trigger>> underWay,
            List<String> admissionMissing, List<ObservedWorkload> targets) {
        return new Observation(policy, triggers, underWay, Optional.empty(), List.of(), admissionMissing,
                new Actuator.Resolution(targets, List.of()), Optional.empty(), NOW);
    }

    /** One Deployment of two replicas in {@code mode}, {@code pods} of them running. */
    private static List<ObservedWorkload> running(ExecutionMode mode, int pods) {
        List<Optional<ExecutionMode>> modes = new ArrayList<>();
        for (int i = 0; i < pods; i++) {
            modes.add(Optional.of(mode));
        }
        return List.of(new ObservedWorkload(ExecutionPolicySpec.WorkloadKind.DEPLOYMENT, "w0", Optional.of(mode), 2, pods, Optional.of(2),
                modes, List.of("app"), List.of("app:1"), List.of(), pods, "5"));
    }

    private static List<ObservedWorkload> stoppedAtZero() {
        return List.of(new ObservedWorkload(ExecutionPolicySpec.WorkloadKind.DEPLOYMENT, "w0", Optional.of(ExecutionMode.DRY_RUN), 0, 0,
                Optional.of(2), List.of(), List.of("app"), List.of("app:1"), List.of(), 0, "9"));
    }
}
