package io.marketintel.safety.pass;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

import io.marketintel.safety.actuation.Convergence;
import io.marketintel.safety.actuation.ObservedWorkload;
import io.marketintel.safety.admission.ReplicaCeilings.Ceiling;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus;
import io.marketintel.safety.approval.ApprovalView;
import io.marketintel.safety.killswitch.Breaker;
import io.marketintel.safety.killswitch.Latch;
import io.marketintel.safety.policy.Decision;

/**
 * What one pass will do, decided from an {@link Observation} alone ({@link PassPlanner#plan}). The reconciler carries it
 * out in this order: {@link #release} the kill switch's hold, put the egress fence up or down ({@link #fenceUp}), send
 * {@link #writes} through the kill switch's gate, then {@link #report} what happened.
 *
 * @param observed      what the pass read
 * @param latch         the emergency stop and circuit breaker after this pass
 * @param rearm         the re-arm recorded by the API server, while latched
 * @param breaker       the circuit breaker's failures after this pass
 * @param desired       the mode the targets should end in: spec.mode, or Backtest while the breaker is open
 * @param escalating    the desired mode is riskier than the effective one and no transition is in flight
 * @param approvals     what the escalation needs and what counts
 * @param guardProblems failing guards (and kill-switch blind spots) of the escalation; empty when none ran
 * @param decision      the decision of {@link io.marketintel.safety.policy.TransitionRules}
 * @param convergence   the writes that bring the targets one step closer to the decision's target (stop-then-start)
 * @param fenceUp       the egress fence of non-Live modes is wanted (it comes down only once every target runs Live)
 * @param release       the epoch whose stop the kill switch releases before any write (a re-arm in this pass)
 * @param problems      what stops the policy from being acted on as declared: targets, spec values, the re-arm
 * @param decided       the status the decision was taken from: {@code status} plus this pass's re-arm, stop and breaker
 *                      records (history included) and guard results; {@link #report} completes it
 */
public record PassPlan(Observation observed, Latch.State latch, Optional<Latch.Rearm> rearm, Breaker.Result breaker,
        ExecutionMode desired, boolean escalating, ApprovalView approvals, List<String> guardProblems, Decision decision,
        Convergence.Plan convergence, boolean fenceUp, OptionalLong release, List<String> problems,
        ExecutionPolicyStatus decided) {

    public PassPlan {
        guardProblems = List.copyOf(guardProblems);
        problems = List.copyOf(problems);
    }

    /** The workload writes, in order. */
    public List<Convergence.Write> writes() {
        return convergence.writes();
    }

    /** Pods of a stopped system to delete directly, after the writes. */
    public List<String> deletions() {
        return convergence.deletions();
    }

    /**
     * The replica ceiling of each workload of the trading system for the Namespace's register (issue 22): its count in the
     * mode the decision converges to (the policy's count for that mode, else the workload's remembered original count),
     * and zero for those held at zero (retired: the policy's mark, not its spec; joining a Live system unapproved).
     * Empty while stopped: a stop leaves the register as it is (the count the system will resume with, so that a GitOps
     * re-apply of it is admitted while no pod may start) and costs no Namespace write.
     */
    public Optional<List<Ceiling>> ceilings() {
        if (decision.target().isEmpty()) {
            return Optional.empty();
        }
        ExecutionMode mode = decision.target().get();
        String policy = observed.policy().getMetadata().getName();
        List<ObservedWorkload> joining = PassPlanner.joining(decision, decided, observed.targets().workloads());
        List<Ceiling> ceilings = new ArrayList<>();
        for (ObservedWorkload w : observed.targets().workloads()) {
            ceilings.add(new Ceiling(ObservedWorkload.kindName(w.kind()), w.name(),
                    joining.contains(w) ? 0 : PassPlanner.replicasFor(observed.policy().getSpec(), mode, w), policy, mode));
        }
        for (ObservedWorkload w : observed.targets().retired()) {
            ceilings.add(new Ceiling(ObservedWorkload.kindName(w.kind()), w.name(), 0, policy, mode));
        }
        return Optional.of(List.copyOf(ceilings));
    }

    /** Whether guards ran for this pass (an escalation, not held by the latch). */
    public boolean guardsRun() {
        return escalating && !latch.latched();
    }

    /**
     * What happened when the plan was carried out.
     *
     * @param writeFailures workload writes the API server refused, with its reason
     * @param decideAgain   writes the kill switch held back or that were refused because the workload changed since the
     *                      pass read it: decide again at once from what is there
     * @param fenceProblem  why the egress fence could not be put up or down, if it could not
     */
    public record Outcome(List<String> writeFailures, int decideAgain, Optional<String> fenceProblem) {
        public static final Outcome CLEAN = new Outcome(List.of(), 0, Optional.empty());

        public Outcome {
            writeFailures = List.copyOf(writeFailures);
        }
    }

    /** The status to write, the Events and metrics to emit, and when to look again. */
    public Report report(Outcome outcome) {
        return StatusWriter.report(this, outcome);
    }
}
