package io.marketintel.safety.pass;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.marketintel.safety.actuation.Convergence;
import io.marketintel.safety.actuation.ObservedWorkload;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus.Phase;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.api.v1alpha1.Timestamps;
import io.marketintel.safety.approval.ApprovalView;
import io.marketintel.safety.guard.GuardRunner;
import io.marketintel.safety.killswitch.Breaker;
import io.marketintel.safety.killswitch.Latch;
import io.marketintel.safety.killswitch.StopWatcher;
import io.marketintel.safety.pass.Vocabulary.Outcome;
import io.marketintel.safety.pass.Vocabulary.Trigger;
import io.marketintel.safety.pass.Vocabulary.Why;
import io.marketintel.safety.policy.Decision;
import io.marketintel.safety.policy.Decision.Action;
import io.marketintel.safety.policy.Reason;
import io.marketintel.safety.status.Conditions;
import io.marketintel.safety.status.PrintableText;

/**
 * The one writer of {@code ExecutionPolicy.status}: conditions and their transition times, the transition in flight,
 * history, the stop and breaker records, phase, the sentences of Events and messages. Pure: every method takes a status
 * and returns a new one (the one it was given is never changed), so what a pass read stays what it read.
 */
public final class StatusWriter {
    static final int HISTORY_LIMIT = 20;
    /** Copies and escapes status values only (plain Jackson beans): the mapper's settings do not matter here. */
    private static final KubernetesSerialization COPIER = new KubernetesSerialization();

    private StatusWriter() {
    }

    // ---------------------------------------------------------------- the records a decision reads

    /**
     * A re-arm in this pass resumes at most DryRun, so Live needs guards and approvals of the new epoch again. Bringing
     * the targets back from zero is a transition of its own (trigger Rearmed), recorded in history when done.
     */
    static ExecutionPolicyStatus rearmed(ExecutionPolicyStatus before, Latch.State latch, Optional<Latch.Rearm> rearm, Instant now) {
        if (latch.change() != Latch.Change.REARMED) {
            return before;
        }
        ExecutionPolicyStatus after = copy(before);
        ExecutionMode resumed = before.mode == ExecutionMode.LIVE ? ExecutionMode.DRY_RUN : before.mode;
        if (resumed == null) {
            after.transition = null; // stopped before it was ever adopted: adoption starts afresh
            return after;
        }
        var t = new ExecutionPolicyStatus.Transition();
        t.from = before.mode;
        t.to = resumed;
        t.startedAt = now.toString();
        t.trigger = Trigger.Rearmed.name();
        t.requester = rearm.map(Latch.Rearm::user).orElse(null);
        after.transition = t;
        after.mode = resumed;
        after.modeSince = now.toString(); // a DryRun soak restarts: time stopped is not time spent healthy
        return after;
    }

    /** status.emergencyStop: who, why, when, the epoch, the latency and the cancel-orders outcomes. */
    static ExecutionPolicyStatus stopRecord(ExecutionPolicyStatus status, Latch.State latch, Optional<Observation.StopProgress> stop,
            Optional<Latch.Rearm> rearm, Instant now) {
        if (status.emergencyStop == null && latch.epoch() == 0 && !latch.stopped()) {
            return status;
        }
        ExecutionPolicyStatus after = copy(status);
        var es = after.emergencyStop == null ? new ExecutionPolicyStatus.EmergencyStop() : after.emergencyStop;
        after.emergencyStop = es;
        es.epoch = latch.epoch();
        es.active = latch.stopped();
        es.message = latch.message();
        if (latch.change() == Latch.Change.STOPPED) {
            Latch.Trigger cause = latch.cause().orElseThrow();
            es.scope = cause.scope().name();
            es.source = cause.object();
            es.reason = cause.reason();
            es.stoppedBy = cause.by().orElse(null);
            es.stoppedAt = stop.map(Observation.StopProgress::seenAt).orElse(now).toString();
            es.latencyMillis = null;
            es.cancelOrders = null;
            es.rearmedBy = null;
            es.rearmedAt = null;
        }
        if (latch.stopped() && stop.isPresent()) {
            if (es.latencyMillis == null) {
                stop.get().latency().ifPresent(l -> es.latencyMillis = l.toMillis());
            }
            stop.get().cancels().filter(o -> !o.isEmpty()).ifPresent(outcomes -> es.cancelOrders = outcomes.stream().map(o -> {
                var c = new ExecutionPolicyStatus.CancelOrdersOutcome();
                c.pod = o.pod();
                c.result = o.result().name();
                c.message = o.message();
                c.durationMillis = o.durationMillis();
                return c;
            }).toList());
        }
        if (latch.change() == Latch.Change.REARMED) {
            es.rearmedBy = rearm.map(Latch.Rearm::user).orElse(null);
            es.rearmedAt = now.toString();
        }
        return after;
    }

    /**
     * status.stopsSeen: the Namespace's and the cluster's stop counts this policy has taken into account. Taken as found
     * whenever it is stopped (that stop covers any it missed). The Namespace's count otherwise stays at what the policy
     * has seen ({@code seenInNamespace}, {@link StopWatcher#namespaceStopsSeen}: from its creation stamp before status
     * records one), so a stop between its creation and its first recorded pass is missed, not adopted; a count that
     * went down (the Namespace re-created) is taken as found. The cluster's count is taken as found by a policy that
     * has seen none yet. A higher count is a stop it missed, which latches it ({@code StopWatcher#missed}) and so is
     * recorded in that pass.
     */
    static ExecutionPolicyStatus.StopsSeen stopsSeen(ExecutionPolicyStatus.StopsSeen seen, boolean stopped, StopWatcher.StopCounts counts,
            long seenInNamespace) {
        ExecutionPolicyStatus.StopsSeen next = new ExecutionPolicyStatus.StopsSeen();
        next.policy = seen == null ? null : seen.policy;
        next.namespace = stopped || seenInNamespace > counts.namespace() ? counts.namespace() : seenInNamespace;
        next.cluster = seen == null || seen.cluster == null || stopped || seen.cluster > counts.cluster() ? counts.cluster() : seen.cluster;
        return next;
    }

    /**
     * The id the API server stamped on the policy's own stop annotation in force (this pass has seen that stop: its
     * latch counts it), recorded in status.stopsSeen.policy; only then does admission let the annotation be removed.
     */
    static Optional<String> policyStopSeen(ExecutionPolicy policy) {
        var anns = policy.getMetadata().getAnnotations();
        if (anns == null || !anns.containsKey(MetadataNames.EMERGENCY_STOP_ANNOTATION)) {
            return Optional.empty();
        }
        return Optional.ofNullable(anns.get(MetadataNames.EMERGENCY_STOP_ID_ANNOTATION));
    }

    /** At most this many pods are listed in status.emergencyStop.running (all are counted in podsRunning). */
    static final int RUNNING_SHOWN = 20;

    /**
     * status.emergencyStop.podsRunning, running and completedMillis: what of the stopped system still runs, and when
     * the last pod was gone (measured from the stop being seen). Cleared when no stop holds.
     */
    private static void stopProgress(ExecutionPolicyStatus after, Latch.State latch, boolean stopping, Convergence.Plan convergence,
            Instant now) {
        var es = after.emergencyStop;
        if (es == null) {
            return;
        }
        if (latch.change() == Latch.Change.STOPPED) {
            es.completedMillis = null;
        }
        if (!latch.stopped() || !stopping) {
            es.podsRunning = null;
            es.running = null;
            return;
        }
        List<String> running = convergence.running();
        es.podsRunning = convergence.converged() ? 0 : running.size();
        es.running = running.isEmpty() ? null : List.copyOf(running.subList(0, Math.min(RUNNING_SHOWN, running.size())));
        if (convergence.converged() && es.completedMillis == null && es.stoppedAt != null) {
            es.completedMillis = Timestamps.parse(es.stoppedAt).map(at -> Math.max(0, Duration.between(at, now).toMillis())).orElse(null);
        }
    }

    /** The guards' latest results (kept until guards run again). */
    static ExecutionPolicyStatus guards(ExecutionPolicyStatus status, List<GuardRunner.Evaluated> results) {
        if (results.isEmpty()) {
            return status;
        }
        ExecutionPolicyStatus after = copy(status);
        after.guards = results.stream().map(r -> {
            var g = new ExecutionPolicyStatus.GuardResult();
            g.name = r.name();
            g.type = r.type() == null ? null : r.type().name();
            g.result = r.outcome().result().name();
            g.message = r.outcome().message();
            g.durationMillis = r.took().toMillis();
            g.evaluatedAt = r.at().toString();
            return g;
        }).toList();
        return after;
    }

    /** status.circuitBreaker: open or closed, since when, and the failures in the window. */
    static ExecutionPolicyStatus breaker(ExecutionPolicyStatus status, Latch.State latch, Breaker.Result breaker, Instant now) {
        var current = status.circuitBreaker;
        if (current == null && breaker.recent().isEmpty() && !latch.breakerOpen()) {
            return status;
        }
        ExecutionPolicyStatus after = copy(status);
        var b = new ExecutionPolicyStatus.CircuitBreakerState();
        b.state = (latch.breakerOpen() ? ExecutionPolicyStatus.CircuitBreakerState.Position.Open
                : ExecutionPolicyStatus.CircuitBreakerState.Position.Closed).name();
        b.openedAt = latch.change() == Latch.Change.BREAKER_TRIPPED ? now.toString()
                : latch.breakerOpen() && current != null ? current.openedAt : null;
        b.failures = breaker.recent().stream().map(f -> {
            var r = new ExecutionPolicyStatus.BreakerFailure();
            r.at = f.at().toString();
            r.reason = f.reason();
            r.message = f.message();
            r.key = f.key();
            return r;
        }).toList();
        after.circuitBreaker = b;
        return after;
    }

    /**
     * status.monitorHold: set when a risk monitor's breach holds the policy in DryRun (this pass), kept while the latch
     * holds, gone once re-armed.
     */
    static ExecutionPolicyStatus monitorHold(ExecutionPolicyStatus status, Latch.State latch, Optional<Observation.MonitorReads> monitors,
            Instant now) {
        if (latch.change() == Latch.Change.HELD) {
            ExecutionPolicyStatus after = copy(status);
            var h = new ExecutionPolicyStatus.MonitorHold();
            h.active = true;
            var asked = monitors.flatMap(Observation.MonitorReads::deEscalation);
            h.reason = asked.map(Observation.DeEscalation::reason).orElse(latch.message());
            h.monitor = asked.map(Observation.DeEscalation::monitor).orElse(null);
            h.since = now.toString();
            after.monitorHold = h;
            return after;
        }
        if (status.monitorHold != null && !latch.held()) {
            ExecutionPolicyStatus after = copy(status);
            after.monitorHold = null;
            return after;
        }
        return status;
    }

    /** A stop or a breaker trip latched in this pass goes into history at once (it ends any transition). */
    static ExecutionPolicyStatus latchHistory(ExecutionPolicyStatus status, ExecutionMode stoppedIn, Latch.State latch, Instant now) {
        boolean stopped = latch.change() == Latch.Change.STOPPED;
        boolean held = latch.change() == Latch.Change.HELD;
        if (!stopped && !held && latch.change() != Latch.Change.BREAKER_TRIPPED) {
            return status;
        }
        ExecutionPolicyStatus after = copy(status);
        var h = new ExecutionPolicyStatus.TransitionRecord();
        h.from = stoppedIn;
        h.to = stopped ? null : held ? ExecutionMode.DRY_RUN : ExecutionMode.BACKTEST;
        h.at = now.toString();
        h.trigger = (stopped ? Trigger.EmergencyStop : held ? Trigger.MonitorBreached : Trigger.CircuitBreakerTripped).name();
        h.outcome = (stopped ? Outcome.Stopped : held ? Outcome.Held : Outcome.Tripped).name();
        h.requester = latch.cause().flatMap(Latch.Trigger::by).orElse(null);
        after.history = prepend(after.history, h);
        return after;
    }

    // ---------------------------------------------------------------- the report

    /** The status after the plan was carried out, its Events and metrics, and when to look again. */
    static Report report(PassPlan plan, PassPlan.Outcome outcome) {
        Observation o = plan.observed();
        ExecutionPolicy policy = o.policy();
        ExecutionPolicyStatus before = policy.getStatus() == null ? new ExecutionPolicyStatus() : policy.getStatus();
        ExecutionPolicyStatus after = copy(plan.decided());
        Instant now = o.now();
        long generation = Optional.ofNullable(policy.getMetadata().getGeneration()).orElse(0L);
        Decision decision = plan.decision();
        Convergence.Plan convergence = plan.convergence();
        Latch.State latch = plan.latch();
        ApprovalView approvals = plan.approvals();
        List<String> targetProblems = new ArrayList<>(plan.problems());
        outcome.fenceProblem().ifPresent(targetProblems::add);
        List<String> writeFailures = outcome.writeFailures();
        List<String> problems = new ArrayList<>(targetProblems);
        problems.addAll(writeFailures);

        int guardCount = policy.getSpec().guards == null ? 0 : policy.getSpec().guards.size();
        boolean guardsRun = plan.guardsRun();
        List<String> guardProblems = plan.guardProblems();
        after.conditions = Conditions.set(after.conditions, Conditions.GUARDS_PASSED, !guardsRun || guardProblems.isEmpty(),
                (!guardsRun ? Why.NotEvaluated : guardProblems.isEmpty() ? Why.GuardsPassing : Why.GuardsFailing).name(),
                !guardsRun ? "guards run only before an escalation, and none is waiting"
                        : guardProblems.isEmpty() ? guardCount + " guard(s) pass for " + plan.desired()
                        : String.join("; ", guardProblems),
                generation, now);

        after.observedGeneration = generation;
        after.workloads = o.targets().workloads().stream().map(w -> {
            var s = new ExecutionPolicyStatus.WorkloadState();
            s.kind = ObservedWorkload.kindName(w.kind());
            s.name = w.name();
            s.mode = w.templateMode().orElse(null);
            s.replicas = w.replicas();
            s.readyReplicas = w.readyReplicas();
            s.originalReplicas = w.originalReplicas().orElse(null);
            return s;
        }).toList();

        // The transition: started, continued, or ended by a decision that is not one.
        boolean started = false;
        if (decision.action() == Action.START) {
            started = before.transition == null || before.transition.to != decision.target().orElse(null);
            var t = new ExecutionPolicyStatus.Transition();
            t.from = decision.from().orElse(null);
            t.to = decision.target().orElseThrow();
            t.startedAt = started || before.transition == null ? now.toString() : before.transition.startedAt;
            t.trigger = decision.reason().name();
            if (started) {
                t.requester = annotation(policy, MetadataNames.REQUESTED_BY_ANNOTATION);
                t.approvers = approvals.counted().isEmpty() ? null : approvals.counted();
            } else if (before.transition != null) {
                t.requester = before.transition.requester;
                t.approvers = before.transition.approvers;
            }
            after.transition = t;
        } else if (decision.action() != Action.CONTINUE) {
            after.transition = null;
        }
        if (after.transition != null) {
            after.transition.step = convergence.step().name();
        }
        boolean completed = false;
        if (decision.isTransition() && convergence.converged() && problems.isEmpty()) {
            completed = true;
            var h = new ExecutionPolicyStatus.TransitionRecord();
            h.from = after.transition.from;
            h.to = after.transition.to;
            h.at = now.toString();
            h.trigger = after.transition.trigger;
            h.requester = after.transition.requester;
            h.approvers = after.transition.approvers;
            h.outcome = (rollback(after.transition.trigger) ? Outcome.RolledBack : Outcome.Succeeded).name();
            after.history = prepend(after.history, h);
            after.mode = after.transition.to;
            after.modeSince = now.toString();
            after.transition = null;
        }

        // Conditions.
        after.approval = approvals.state().orElse(null);
        after.conditions = Conditions.set(after.conditions, Conditions.APPROVED,
                !approvals.pending() || approvals.valid() >= approvals.required(),
                (!approvals.pending() ? Why.NotRequired : approvals.admissionMissing() ? Why.AdmissionControlMissing
                        : approvals.valid() >= approvals.required() ? Why.ApprovalsComplete : Why.AwaitingApproval).name(),
                approvals.summary(), generation, now);

        boolean stalled = decision.action() == Action.REFUSE || !problems.isEmpty() || latch.latched();
        boolean reconciling = after.transition != null || !convergence.converged();
        boolean ready = !stalled && !reconciling && after.mode == policy.getSpec().mode;
        String stalledReason = latch.stopped() ? Why.EmergencyStopped.name() : latch.breakerOpen() ? Why.CircuitBreakerOpen.name()
                : latch.held() ? Why.MonitorHold.name() : !targetProblems.isEmpty() ? Why.TargetsNotUsable.name()
                : !writeFailures.isEmpty() ? Why.ActuationFailed.name() : decision.reason().name();
        String stalledMessage = latch.latched() ? latchMessage(latch, after, policy)
                + (problems.isEmpty() ? "" : "; also: " + String.join("; ", problems))
                : !problems.isEmpty() ? String.join("; ", problems)
                : decision.action() == Action.REFUSE ? refusal(decision, approvals) : decision.message();
        String reconcilingReason = after.transition != null ? after.transition.trigger
                : (!convergence.converged() ? Why.CorrectingDrift : Why.Converged).name();

        after.conditions = Conditions.set(after.conditions, Conditions.STALLED, stalled,
                stalled ? stalledReason : Why.NotStalled.name(), stalled ? stalledMessage : "nothing needs a person", generation, now);
        after.conditions = Conditions.set(after.conditions, Conditions.RECONCILING, reconciling, reconcilingReason,
                reconciling ? (after.transition != null ? decision.message() + "; " : "") + convergence.message()
                        : "no transition in progress",
                generation, now);
        after.conditions = Conditions.set(after.conditions, Conditions.READY, ready,
                ready ? Why.InDesiredMode.name() : stalled ? stalledReason : reconcilingReason,
                ready ? "every target runs in " + plan.desired() : stalled ? stalledMessage : convergence.message(), generation, now);
        after.conditions = Conditions.set(after.conditions, Conditions.EMERGENCY_STOPPED, latch.stopped() || latch.breakerOpen(),
                latch.stopped() ? latch.cause().map(c -> Why.stopReason(c.scope())).orElse(Why.Latched.name())
                        : (latch.breakerOpen() ? Why.CircuitBreakerOpen : Why.NotStopped).name(),
                latchMessage(latch, after, policy) + (o.blindSpots().isEmpty() ? ""
                        : "; the kill switch cannot watch " + String.join("; ", o.blindSpots())),
                generation, now);

        monitors(after, policy, o.monitors(), generation, now);

        boolean held = decision.action() == Action.STOP || latch.stopped();
        // A stop is done when the pods are gone, not when replicas are zero: until then the phase says Stopping.
        boolean stopping = decision.action() == Action.STOP && !convergence.converged();
        after.effective = stopping ? ExecutionPolicyStatus.STOPPING : effective(after.mode, held);
        stopProgress(after, latch, decision.action() == Action.STOP, convergence, now);
        o.stopCounts().ifPresent(counts -> after.stopsSeen = stopsSeen(after.stopsSeen, latch.stopped(), counts,
                StopWatcher.namespaceStopsSeen(after.stopsSeen, policy)));
        policyStopSeen(policy).ifPresent(id -> {
            after.stopsSeen = after.stopsSeen == null ? new ExecutionPolicyStatus.StopsSeen() : after.stopsSeen;
            after.stopsSeen.policy = id;
        });
        if (stopping) {
            after.phase = Phase.Stopping;
        } else if (held) {
            after.phase = Phase.EmergencyStopped;
        } else if (stalled && decision.action() == Action.REFUSE && decision.reason() == Reason.AwaitingApproval) {
            after.phase = Phase.AwaitingApproval;
        } else if (stalled) {
            after.phase = o.targets().workloads().isEmpty() ? Phase.Failed : Phase.Blocked;
        } else if (reconciling) {
            after.phase = Phase.Transitioning;
        } else {
            after.phase = ready ? Phase.Active : Phase.Pending;
        }

        List<Report.TransitionCount> counts = new ArrayList<>();
        List<Report.Announcement> said = announcements(plan, before, after, started, completed, counts);
        Duration resync = nextLook(plan, outcome, after, completed, now);
        int awaited = approvals.pending() && !latch.latched() ? approvals.required() - approvals.valid() : 0;
        Optional<Latch.Scope> stopCounted = latch.change() == Latch.Change.STOPPED
                ? Optional.of(latch.cause().map(Latch.Trigger::scope).orElse(Latch.Scope.Policy))
                : Optional.empty();
        return new Report(printable(after), said, counts, stopCounted, awaited, resync);
    }

    /** When to look again if no event comes first (design §7, "When the next pass runs"). */
    private static Duration nextLook(PassPlan plan, PassPlan.Outcome outcome, ExecutionPolicyStatus after, boolean completed,
            Instant now) {
        Convergence.Plan convergence = plan.convergence();
        // A completed transition is decided again at once only if the mode wanted is further on (a rollback ended): a pass
        // that would find nothing to do is not worth one per adoption (issue 22).
        if (completed && plan.desired() != after.mode || outcome.decideAgain() > 0) {
            return Resync.NEXT_DECISION;
        }
        if (!outcome.writeFailures().isEmpty()) {
            return Resync.BUSY;
        }
        if (after.transition == null && convergence.converged()) {
            return Conditions.isTrue(after.conditions, Conditions.STALLED) ? Resync.STALLED : Resync.IDLE;
        }
        Duration elapsed = after.transition == null ? Duration.ZERO
                : Duration.between(Timestamps.parse(after.transition.startedAt).orElse(now), now);
        if (plan.decision().action() == Action.STOP) {
            return Resync.busy(elapsed);
        }
        if (convergence.watched()) {
            ExecutionPolicySpec spec = plan.observed().policy().getSpec();
            return Resync.watched(after.transition == null ? Optional.empty()
                    : Optional.of(PassPlanner.duration(spec == null ? null : spec.transitionTimeout,
                            ExecutionPolicySpec.Defaults.TRANSITION_TIMEOUT, "transitionTimeout", new ArrayList<>()).minus(elapsed)));
        }
        return convergence.writes().isEmpty() ? Resync.busy(elapsed) : Resync.BUSY_MAX;
    }

    /** One Event per change: a stop, a trip, a re-arm, a new transition, a completion, a refusal, a drift fix. */
    private static List<Report.Announcement> announcements(PassPlan plan, ExecutionPolicyStatus before, ExecutionPolicyStatus after,
            boolean started, boolean completed, List<Report.TransitionCount> counts) {
        Decision decision = plan.decision();
        Latch.State latch = plan.latch();
        Optional<Observation.StopProgress> stop = plan.observed().stop();
        List<Report.Announcement> said = new ArrayList<>();
        switch (latch.change()) {
            case STOPPED -> said.add(new Report.Announcement(true, Why.EmergencyStopped.name(), latch.message()
                    + "; every target written to zero replicas"
                    + stop.flatMap(Observation.StopProgress::latency).map(l -> " in " + l.toMillis() + " ms").orElse("")
                    + stop.filter(s -> !s.failures().isEmpty()).map(s -> "; not yet written: " + String.join("; ", s.failures())).orElse("")));
            case HELD -> said.add(new Report.Announcement(true, Why.MonitorBreached.name(), latchMessage(latch, after,
                    plan.observed().policy())));
            case BREAKER_TRIPPED -> said.add(new Report.Announcement(true, Why.CircuitBreakerTripped.name(), latch.message() + ": "
                    + String.join("; ", after.circuitBreaker.failures.stream().map(f -> f.message).toList())));
            case REARMED -> said.add(new Report.Announcement(false, Why.Rearmed.name(),
                    Sentences.rearmed(latch.message(), before.mode, after.mode)));
            case NONE -> {
            }
        }
        if (started) {
            counts.add(new Report.TransitionCount(decision.from().orElse(null), decision.target().orElse(null), "Started"));
            said.add(new Report.Announcement(rollback(decision.reason().name()), decision.reason().name(), decision.message()));
        }
        if (!decision.isTransition() && !plan.writes().isEmpty()) {
            said.add(new Report.Announcement(true, Why.DriftCorrected.name(),
                    "targets drifted from " + decision.target().map(ExecutionMode::wireName).orElse("zero replicas") + ": "
                            + String.join("; ", plan.writes().stream().map(Convergence.Write::why).toList())));
        }
        if (completed) {
            var done = after.history.get(0);
            counts.add(new Report.TransitionCount(done.from, done.to, done.outcome));
            said.add(new Report.Announcement(false, Why.TransitionCompleted.name(),
                    Sentences.completed(done.from, done.to, done.trigger, done.requester)));
        }
        var stalledBefore = Conditions.find(before.conditions, Conditions.STALLED);
        var stalledAfter = Conditions.find(after.conditions, Conditions.STALLED).orElseThrow();
        if (Conditions.TRUE.equals(stalledAfter.getStatus()) && !latch.latched() && (stalledBefore.isEmpty()
                || !Objects.equals(stalledBefore.get().getStatus(), stalledAfter.getStatus())
                || !Objects.equals(stalledBefore.get().getMessage(), stalledAfter.getMessage()))) {
            said.add(new Report.Announcement(true, stalledAfter.getReason(), stalledAfter.getMessage()));
            if (decision.action() == Action.REFUSE) {
                counts.add(new Report.TransitionCount(decision.target().orElse(null), plan.observed().policy().getSpec().mode, "Refused"));
            }
        }
        return said;
    }

    /**
     * status.monitors and the MonitorsReporting condition, from the monitors' evaluation: present only while the policy
     * declares monitors. True while every monitor evaluated now has a reading; False naming those without one; Unknown
     * while none is evaluated (not in one of their modes, or latched).
     */
    private static void monitors(ExecutionPolicyStatus after, ExecutionPolicy policy, Optional<Observation.MonitorReads> reads,
            long generation, Instant now) {
        boolean declared = policy.getSpec().monitors != null && !policy.getSpec().monitors.isEmpty();
        if (!declared) {
            after.monitors = null;
            after.conditions = Conditions.remove(after.conditions, Conditions.MONITORS_REPORTING);
            return;
        }
        if (reads.isEmpty()) {
            return; // nothing new from the evaluation: status keeps what it has
        }
        after.monitors = reads.get().monitors().isEmpty() ? null : reads.get().monitors();
        List<ExecutionPolicyStatus.MonitorStatus> evaluated = reads.get().monitors().stream()
                .filter(m -> !MONITOR_NOT_EVALUATED.equals(m.phase) && !"Unknown".equals(m.phase)).toList();
        List<String> noData = evaluated.stream().filter(m -> "NoData".equals(m.phase)).map(m -> m.name + ": " + m.message).toList();
        if (evaluated.isEmpty()) {
            after.conditions = Conditions.setUnknown(after.conditions, Conditions.MONITORS_REPORTING, Why.NotEvaluated.name(),
                    "no monitor is evaluated now: each runs only in its modes, and not while the policy is stopped or held",
                    generation, now);
        } else {
            after.conditions = Conditions.set(after.conditions, Conditions.MONITORS_REPORTING, noData.isEmpty(),
                    (noData.isEmpty() ? Why.Reporting : Why.MonitorNoData).name(),
                    noData.isEmpty() ? evaluated.size() + " monitor(s) have a reading"
                            : "no reading from " + String.join("; ", noData),
                    generation, now);
        }
    }

    /** status.monitors[].phase of a monitor not evaluated in the current mode. */
    public static final String MONITOR_NOT_EVALUATED = "NotEvaluated";

    /**
     * What runs, for people ({@code status.effective}, the EFFECTIVE column): {@code Stopped} while an emergency stop
     * holds every target at zero, else the effective mode ({@code status.mode}, which keeps the mode the targets resume
     * from); nothing before the first mode is reached.
     */
    static String effective(ExecutionMode mode, boolean stopped) {
        return stopped ? ExecutionPolicyStatus.STOPPED : mode == null ? null : mode.wireName();
    }

    /**
     * Status after a pass that failed (the API server refused a read, say): Ready=False with reason OperatorError and
     * the message; everything else as it was.
     */
    public static ExecutionPolicyStatus failed(ExecutionPolicyStatus status, long generation, String message, Instant now) {
        ExecutionPolicyStatus after = status == null ? new ExecutionPolicyStatus() : copy(status);
        String shown = message.length() > 1000 ? message.substring(0, 997) + "..." : message;
        after.conditions = Conditions.set(after.conditions, Conditions.READY, false, Why.OperatorError.name(),
                "the operator could not reconcile this policy and will retry: " + shown, generation, now);
        return printable(after);
    }

    /** Why the latch holds and the exact commands that end it. */
    private static String latchMessage(Latch.State latch, ExecutionPolicyStatus after, ExecutionPolicy policy) {
        var es = after.emergencyStop;
        // Who and why stay in front on every pass, not only on the pass that latched the stop.
        String head = latch.stopped() && latch.change() != Latch.Change.STOPPED && es != null && es.source != null
                ? "emergency stop on " + es.source + (es.stoppedBy == null ? "" : " by " + es.stoppedBy) + ": " + es.reason + "; "
                : "";
        if (!latch.latched()) {
            return latch.message();
        }
        String rearm = "kubectl annotate xp " + policy.getMetadata().getName() + " -n " + policy.getMetadata().getNamespace()
                + " " + MetadataNames.REARM_ANNOTATION + "=" + latch.epoch();
        String resume = latch.cause().map(c -> "; to resume, remove the stop (kubectl annotate " + c.target() + " "
                + MetadataNames.EMERGENCY_STOP_ANNOTATION + "-), then re-arm: " + rearm).orElse("; to resume, re-arm: " + rearm);
        return head + latch.message() + resume + (after.mode == ExecutionMode.LIVE ? " (it resumes in DryRun; Live needs approvals of epoch "
                + latch.epoch() + ")" : "");
    }

    /** Every unmet requirement of a refused escalation, the approval one spelled out with its command. */
    private static String refusal(Decision decision, ApprovalView approvals) {
        String message = decision.message();
        String head = message.substring(0, message.indexOf(": ") + 2);
        return head + String.join("; also: ", decision.blockers().stream()
                .map(b -> b.matches("[0-9]+ of [0-9]+ approvals for \\w+") ? approvals.summary() : b).toList());
    }

    private static String annotation(ExecutionPolicy p, String key) {
        return p.getMetadata().getAnnotations() == null ? null : p.getMetadata().getAnnotations().get(key);
    }

    /** An escalation given up (timed out, or its approvals no longer enough): rolled back, announced as a warning. */
    static boolean rollback(String trigger) {
        return Reason.TransitionTimedOut.name().equals(trigger) || Reason.ApprovalsRaised.name().equals(trigger);
    }

    private static List<ExecutionPolicyStatus.TransitionRecord> prepend(List<ExecutionPolicyStatus.TransitionRecord> history,
            ExecutionPolicyStatus.TransitionRecord record) {
        List<ExecutionPolicyStatus.TransitionRecord> next = new ArrayList<>();
        next.add(record);
        if (history != null) {
            next.addAll(history.subList(0, Math.min(history.size(), HISTORY_LIMIT - 1)));
        }
        return next;
    }

    private static ExecutionPolicyStatus copy(ExecutionPolicyStatus status) {
        return COPIER.clone(status);
    }

    /** The status with every text YAML refuses escaped ({@link PrintableText}): status is written with server-side apply. */
    private static ExecutionPolicyStatus printable(ExecutionPolicyStatus status) {
        JsonNode tree = COPIER.convertValue(status, JsonNode.class);
        return COPIER.convertValue(PrintableText.everywhere(tree), ExecutionPolicyStatus.class);
    }
}
