package io.marketintel.safety.pass;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.marketintel.safety.actuation.Convergence;
import io.marketintel.safety.actuation.ObservedWorkload;
import io.marketintel.safety.actuation.Actuator;
import io.marketintel.safety.api.v1alpha1.Durations;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus;
import io.marketintel.safety.api.v1alpha1.ExecutionSafety;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.Defaults;
import io.marketintel.safety.api.v1alpha1.Timestamps;
import io.marketintel.safety.approval.ApprovalView;
import io.marketintel.safety.killswitch.Breaker;
import io.marketintel.safety.killswitch.Latch;
import io.marketintel.safety.policy.Decision;
import io.marketintel.safety.policy.Decision.Action;
import io.marketintel.safety.policy.GuardVerdict;
import io.marketintel.safety.policy.InFlight;
import io.marketintel.safety.policy.Reason;
import io.marketintel.safety.policy.TransitionInput;
import io.marketintel.safety.policy.TransitionRules;

/**
 * The whole decision of one pass as a pure function of what it observed (DESIGN §7, "a pass"): no client, no clock of
 * its own, no memory between passes. The same {@link Observation} always gives the same {@link PassPlan}, which is what
 * lets a restarted operator resume any step, and what the pass-level tests drive thousands of times.
 * <ol>
 * <li>The latch: a stop in force, or one the kill switch has under way, latches; a re-arm of the current epoch releases.</li>
 * <li>The decision: {@link TransitionRules} from spec, status, approvals and guards; a circuit breaker that trips in this
 * pass turns it into a hold in Backtest.</li>
 * <li>The writes: stop-then-start {@link Convergence} to the decision's target, or every target to zero while stopped.</li>
 * <li>The egress fence: up unless every target runs Live, reached with guards and approvals.</li>
 * </ol>
 * The status is {@link StatusWriter}'s: the planner asks it for the records a decision reads (the re-arm's transition,
 * the stop and breaker records) and leaves the rest to {@link PassPlan#report}.
 */
public final class PassPlanner {
    private final KubernetesSerialization serialization;

    public PassPlanner(KubernetesSerialization serialization) {
        this.serialization = serialization;
    }

    /** The latch as this pass finds it, before anything else is read: a stop is applied first. */
    public static Latch.State latch(ExecutionPolicy policy, List<Latch.Trigger> triggers, Optional<List<Latch.Trigger>> stopUnderWay,
            List<String> admissionMissing) {
        return LatchReading.of(policy, triggers, stopUnderWay, admissionMissing).state();
    }

    /**
     * Whether the latch's reading depends on the admission policies being installed: only a re-arm of the current epoch
     * does (it is trusted only when the API server recorded who wrote it). Otherwise the pass applies a stop before it
     * asks whether they are installed.
     */
    public static boolean rearmPending(ExecutionPolicy policy) {
        Latch.Recorded recorded = LatchReading.recorded(status(policy));
        return recorded.latched()
                && Latch.parseRearm(LatchReading.rearmedBy(policy)).filter(r -> r.epoch() == recorded.epoch()).isPresent();
    }

    /**
     * Whether this pass faces an escalation (the wanted mode riskier than the effective one, no transition in flight), so
     * it must read the cluster settings and whether admission control is installed, and, unless the latch holds, run the
     * guards ({@link Observation#escalation}). Approvals and guards matter only then, never for a de-escalation or a stop,
     * so no other pass pays for those reads.
     */
    public static boolean escalating(Observation o) {
        LatchReading latch = LatchReading.of(o);
        ExecutionPolicyStatus start = StatusWriter.rearmed(status(o.policy()), latch.state(), latch.rearm(), o.now());
        return escalating(o.policy().getSpec(), latch.state(), start);
    }

    private static boolean escalating(ExecutionPolicySpec spec, Latch.State latch, ExecutionPolicyStatus start) {
        ExecutionMode base = start.mode != null ? start.mode : ExecutionMode.BACKTEST;
        ExecutionMode desired = desired(spec, latch);
        return desired.isRiskierThan(base) && start.transition == null;
    }

    public PassPlan plan(Observation o) {
        ExecutionPolicy policy = o.policy();
        ExecutionPolicySpec spec = policy.getSpec();
        Instant now = o.now();
        ExecutionPolicyStatus before = status(policy);
        List<String> problems = new ArrayList<>(o.targets().problems());

        // The latch, and what a re-arm in this pass resumes.
        LatchReading reading = LatchReading.of(o);
        Latch.State latch = reading.state();
        ExecutionPolicyStatus decided = StatusWriter.rearmed(before, latch, reading.rearm(), now);
        OptionalLong release = latch.change() == Latch.Change.REARMED ? OptionalLong.of(latch.epoch()) : OptionalLong.empty();
        decided = StatusWriter.stopRecord(decided, latch, o.stop(), reading.rearm(), now);

        // Approvals and guards of an escalation.
        ExecutionMode desired = desired(spec, latch);
        boolean escalating = escalating(spec, latch, decided);
        ExecutionSafety global = o.escalation().flatMap(Observation.EscalationReads::global).orElse(null);
        ApprovalView approvals = ApprovalView.of(policy, decided, escalating, global,
                escalating && ApprovalView.required(spec, global) > 0 ? o.admissionMissing() : List.of(), serialization, now,
                o.targets().workloads().stream().filter(w -> !w.templateDigest().isEmpty())
                        .map(w -> w.id() + "@" + w.templateDigest()).toList());
        List<String> guardProblems = new ArrayList<>();
        if (escalating && !latch.latched()) {
            var guards = o.escalation().map(Observation.EscalationReads::guards).orElse(List.of());
            decided = StatusWriter.guards(decided, guards);
            guards.stream().filter(r -> !r.passed())
                    .map(r -> r.name() + " (" + r.type() + ", " + r.outcome().result() + "): " + r.outcome().message())
                    .forEach(guardProblems::add);
            // A risk monitor that watches the mode asked for must be readable and not in breach before the system enters it.
            o.escalation().map(Observation.EscalationReads::monitors).orElse(List.of()).forEach(guardProblems::add);
        }
        if (escalating) {
            o.blindSpots().forEach(b -> guardProblems.add("the kill switch cannot watch " + b));
        }

        // The decision, and the circuit breaker that may overrule it.
        List<String> specProblems = new ArrayList<>();
        ExecutionPolicySpec.CircuitBreaker breakerSpec = spec.circuitBreaker;
        int maxFailures = breakerSpec != null && breakerSpec.maxFailures != null ? breakerSpec.maxFailures : Defaults.BREAKER_MAX_FAILURES;
        Duration window = duration(breakerSpec == null ? null : breakerSpec.window, Defaults.BREAKER_WINDOW, "circuitBreaker.window", specProblems);
        List<String> inputProblems = new ArrayList<>();
        Decision decision = TransitionRules.decide(input(spec, global, desired, latch.stopped(), decided, o.targets(), approvals,
                guardProblems, now, inputProblems));
        List<Breaker.Failure> failures = new ArrayList<>(latch.latched() ? List.of() : crashLoops(o.targets(), now));
        if (decision.reason() == Reason.TransitionTimedOut && decision.action() == Action.START && before.transition != null
                && !Reason.TransitionTimedOut.name().equals(before.transition.trigger)) {
            failures.add(new Breaker.Failure("TransitionTimedOut " + before.transition.startedAt, now,
                    Reason.TransitionTimedOut.name(), decision.message()));
        }
        Breaker.Result breaker = Breaker.record(
                latch.change() == Latch.Change.REARMED ? List.of() : breakerFailures(before), failures, now, window, maxFailures);
        if (!latch.latched() && breaker.trips()) {
            // Tripped in this pass: held in Backtest from now on, with no approvals or guards needed to get there.
            latch = Latch.evaluate(reading.triggers(), true, reading.rearm(), reading.recorded());
            decided = StatusWriter.stopRecord(decided, latch, o.stop(), reading.rearm(), now);
            desired = ExecutionMode.BACKTEST;
            inputProblems = new ArrayList<>();
            decision = TransitionRules.decide(input(spec, global, desired, false, decided, o.targets(), approvals, guardProblems,
                    now, inputProblems));
        }
        decided = StatusWriter.breaker(decided, latch, breaker, now);
        decided = StatusWriter.monitorHold(decided, latch, o.monitors(), now);
        decided = StatusWriter.latchHistory(decided, before.mode, latch, now);
        problems.addAll(specProblems);
        problems.addAll(inputProblems);
        problems.addAll(reading.problems());

        // The writes and the fence. The fence goes up before any pod can start in a non-Live mode, and comes down only
        // once every target runs Live, reached with guards and approvals.
        ExecutionMode target = decision.target().orElse(null);
        List<ObservedWorkload> joining = joining(decision, decided, o.targets().workloads());
        joining.forEach(w -> problems.add(w.id() + " came under the spec while the policy runs Live and is held at zero:"
                + " a Live trading system is frozen, and its template was not approved for Live. To add it, set spec.mode"
                + " DryRun, let it soak, and approve Live again (status.approval.templates then shows its digest)"));
        List<ObservedWorkload> approved = o.targets().workloads().stream().filter(w -> !joining.contains(w)).toList();
        Convergence.Plan convergence = decision.action() == Action.STOP
                ? Convergence.toZero(o.targets().workloads(), o.targets().strays())
                : Convergence.toMode(approved, o.targets().retired(), joining, target, w -> replicasFor(spec, target, w));
        boolean live = decision.action() == Action.HOLD && convergence.converged() && decided.mode == ExecutionMode.LIVE;
        boolean arriving = decision.isTransition() && convergence.converged() && problems.isEmpty();
        boolean fenceUp = target != ExecutionMode.LIVE || latch.latched() || !(live || arriving);

        return new PassPlan(o, latch, reading.rearm(), breaker, desired, escalating, approvals, guardProblems, decision, convergence,
                fenceUp, release, problems, decided);
    }

    /** The mode wanted: the spec's, but Backtest while the breaker is open and DryRun at most while a risk monitor holds it. */
    static ExecutionMode desired(ExecutionPolicySpec spec, Latch.State latch) {
        if (latch.breakerOpen()) {
            return ExecutionMode.BACKTEST;
        }
        return latch.held() && spec.mode.isRiskierThan(ExecutionMode.DRY_RUN) ? ExecutionMode.DRY_RUN : spec.mode;
    }

    /**
     * Targets that came under the spec while the policy runs Live, steady (no transition): every target it reached Live
     * with was configured for Live in that transition, under approvals bound to their templates, so one whose template is
     * not Live was not approved (a Deployment that the selector matches since, created or relabelled by someone the
     * admission policies let through). Held at zero, never configured for Live (issue 21, DESIGN §7).
     */
    static List<ObservedWorkload> joining(Decision decision, ExecutionPolicyStatus decided, List<ObservedWorkload> targets) {
        boolean steadyLive = decision.action() == Action.HOLD && decision.target().filter(t -> t == ExecutionMode.LIVE).isPresent()
                && decided.mode == ExecutionMode.LIVE && decided.transition == null;
        return !steadyLive ? List.of()
                : targets.stream().filter(w -> w.templateMode().filter(m -> m == ExecutionMode.LIVE).isEmpty()).toList();
    }

    /**
     * The pure decision input; spec values that cannot be read fail safe and are reported in {@code problems}. With an
     * escalation in flight, the approvals are those it recorded when it started, against what its target mode needs now
     * (the policy's count and the cluster's floor, which may have been raised since).
     */
    private static TransitionInput input(ExecutionPolicySpec spec, ExecutionSafety global, ExecutionMode desired, boolean stopped,
            ExecutionPolicyStatus status, Actuator.Resolution targets, ApprovalView approvals, List<String> failingGuards,
            Instant now, List<String> problems) {
        List<String> blocking = new ArrayList<>(targets.problems());
        blocking.addAll(failingGuards);
        List<String> own = new ArrayList<>();
        Duration timeout = duration(spec.transitionTimeout, Defaults.TRANSITION_TIMEOUT, "transitionTimeout", own);
        Optional<Duration> soak = spec.dryRunSoak == null ? Optional.empty()
                : Optional.of(duration(spec.dryRunSoak, Defaults.DRY_RUN_SOAK, "dryRunSoak", own));
        blocking.addAll(own);
        problems.addAll(own);
        Optional<InFlight> inFlight = Optional.empty();
        if (status.transition != null && status.transition.to != null) {
            inFlight = Optional.of(new InFlight(status.transition.from == null ? ExecutionMode.BACKTEST : status.transition.from,
                    status.transition.to, Timestamps.parse(status.transition.startedAt).orElse(now)));
        }
        int valid = approvals.valid();
        int required = approvals.required();
        if (inFlight.filter(InFlight::isEscalation).isPresent()) {
            valid = recordedApprovers(status.transition);
            required = ApprovalView.required(spec, global, inFlight.get().to());
        }
        return new TransitionInput(desired, Optional.ofNullable(status.mode), inFlight, Timestamps.parse(status.modeSince),
                blocking.isEmpty() ? GuardVerdict.pass() : GuardVerdict.fail(blocking.toArray(String[]::new)),
                valid, required, stopped, soak, timeout, now);
    }

    /**
     * Whether status records an escalation to Live under way: then a pass reads the cluster's floor on Live approvals
     * (the only approval count the cluster sets), which may have been raised since it started. Not for the adoptions
     * and DryRun escalations of every policy: they need no such read.
     */
    public static boolean liveEscalationInFlight(ExecutionPolicy policy) {
        var t = status(policy).transition;
        return t != null && t.to == ExecutionMode.LIVE && t.from != ExecutionMode.LIVE;
    }

    /** Distinct approvers an escalation recorded when it started, the requester never among them. */
    static int recordedApprovers(ExecutionPolicyStatus.Transition t) {
        return t.approvers == null ? 0
                : (int) t.approvers.stream().filter(a -> a != null && !a.equals(t.requester)).distinct().count();
    }

    /** Replicas in {@code mode}: the spec's count for it, else the workload's remembered original count. */
    static int replicasFor(ExecutionPolicySpec spec, ExecutionMode mode, ObservedWorkload w) {
        Integer count = spec.replicas == null ? null : switch (mode) {
            case LIVE -> spec.replicas.live;
            case DRY_RUN -> spec.replicas.dryRun;
            case BACKTEST -> spec.replicas.backtest;
        };
        return count != null ? count : w.originalReplicas().orElse(w.replicas());
    }

    static Duration duration(String text, String fallback, String field, List<String> problems) {
        try {
            return Durations.parseOr(text, fallback);
        } catch (IllegalArgumentException e) {
            problems.add("spec." + field + ": " + e.getMessage());
            return Durations.parse(fallback);
        }
    }

    /** A container in CrashLoopBackOff is a circuit-breaker failure; each new restart is a new one. */
    private static List<Breaker.Failure> crashLoops(Actuator.Resolution targets, Instant now) {
        return targets.workloads().stream().flatMap(w -> w.crashLoops().stream()
                .map(c -> new Breaker.Failure("CrashLoop " + c, now, "CrashLoop", w.id() + ": " + c + " in CrashLoopBackOff")))
                .toList();
    }

    private static List<Breaker.Failure> breakerFailures(ExecutionPolicyStatus status) {
        if (status.circuitBreaker == null || status.circuitBreaker.failures == null) {
            return List.of();
        }
        return status.circuitBreaker.failures.stream().filter(f -> f.key != null)
                .map(f -> new Breaker.Failure(f.key, Timestamps.parse(f.at).orElse(Instant.EPOCH), f.reason, f.message))
                .toList();
    }

    private static ExecutionPolicyStatus status(ExecutionPolicy policy) {
        return policy.getStatus() == null ? new ExecutionPolicyStatus() : policy.getStatus();
    }

    /**
     * The latch's inputs and its state without the circuit breaker of this pass.
     *
     * @param triggers the stop annotations that count: those in force, else those of a stop the kill switch has under way
     *                 (set and removed before the pass looked: it still latches)
     * @param problems a re-arm that cannot be read or trusted
     */
    record LatchReading(Latch.Recorded recorded, List<Latch.Trigger> triggers, Optional<Latch.Rearm> rearm, List<String> problems,
            Latch.State state) {

        static LatchReading of(Observation o) {
            return of(o.policy(), o.triggers(), o.stopUnderWay(), o.admissionMissing(),
                    o.monitors().flatMap(Observation.MonitorReads::deEscalation).map(Observation.DeEscalation::reason));
        }

        static LatchReading of(ExecutionPolicy policy, List<Latch.Trigger> inForce, Optional<List<Latch.Trigger>> underWay,
                List<String> admissionMissing) {
            return of(policy, inForce, underWay, admissionMissing, Optional.empty());
        }

        static LatchReading of(ExecutionPolicy policy, List<Latch.Trigger> inForce, Optional<List<Latch.Trigger>> underWay,
                List<String> admissionMissing, Optional<String> deEscalation) {
            Latch.Recorded recorded = recorded(status(policy));
            // A stop under way keeps its own triggers when the annotations are gone; a stop the API server counted but
            // whose annotation this operator never saw is one only when nothing better names it (its reason is gone).
            boolean onlyMissed = inForce.stream().allMatch(Latch.Trigger::missed);
            List<Latch.Trigger> triggers = onlyMissed && !recorded.stopped() && underWay.isPresent() && !underWay.get().isEmpty()
                    ? underWay.get() : inForce;
            List<String> problems = new ArrayList<>();
            Optional<Latch.Rearm> rearm = rearm(policy, recorded, admissionMissing, problems);
            // A re-arm that cannot be trusted yet releases nothing, but one that meets a stop in force is spent all the
            // same: trusted in a later pass, once that stop's annotation is gone, it would release a stop made after it
            // (insider tier: the admission check unreadable for a while after a restart, a Namespace stop set and removed
            // meanwhile, then the old re-arm released it).
            Optional<Latch.Rearm> spendable = rearm.isPresent() || triggers.isEmpty() || !recorded.latched()
                    ? rearm : Latch.parseRearm(rearmedBy(policy)).filter(r -> r.epoch() == recorded.epoch());
            return new LatchReading(recorded, triggers, rearm, problems, Latch.evaluate(triggers, false, deEscalation, spendable, recorded));
        }

        static Latch.Recorded recorded(ExecutionPolicyStatus status) {
            var es = status.emergencyStop;
            return new Latch.Recorded(es != null && Boolean.TRUE.equals(es.active),
                    ExecutionPolicyStatus.CircuitBreakerState.open(status), ExecutionPolicyStatus.MonitorHold.active(status),
                    es != null && es.epoch != null ? es.epoch : 0);
        }

        /** The {@code rearmed-by} annotation as the API server recorded it, if any. */
        static String rearmedBy(ExecutionPolicy policy) {
            Map<String, String> annotations = policy.getMetadata().getAnnotations();
            return annotations == null ? null : annotations.get(MetadataNames.REARMED_BY_ANNOTATION);
        }

        /**
         * The re-arm recorded by the API server ({@code rearmed-by: "<user> <epoch>"}). Only read while latched, and
         * trusted only with the admission policies installed: without them anyone could have typed the name.
         */
        private static Optional<Latch.Rearm> rearm(ExecutionPolicy policy, Latch.Recorded recorded, List<String> admissionMissing,
                List<String> problems) {
            if (!recorded.latched()) {
                return Optional.empty();
            }
            String line = rearmedBy(policy);
            Optional<Latch.Rearm> rearm = Latch.parseRearm(line);
            if (line != null && rearm.isEmpty()) {
                problems.add(MetadataNames.REARMED_BY_ANNOTATION + " is not \"<user> <epoch>\": " + line);
            }
            if (rearm.isPresent() && rearm.get().epoch() == recorded.epoch() && !admissionMissing.isEmpty()) {
                problems.add("re-arm by " + rearm.get().user() + " not accepted: the admission policies that record who re-armed are missing: "
                        + String.join(", ", admissionMissing));
                return Optional.empty();
            }
            return rearm;
        }
    }
}
