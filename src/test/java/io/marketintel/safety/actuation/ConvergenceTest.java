package io.marketintel.safety.actuation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Collections;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import io.marketintel.safety.actuation.Convergence.Step;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.WorkloadKind;

class ConvergenceTest {
    static ObservedWorkload workload(Optional<ExecutionMode> template, int replicas, List<Optional<ExecutionMode>> pods, int counted) {
        return new ObservedWorkload(WorkloadKind.DEPLOYMENT, "d1", template, replicas, 0, Optional.empty(), pods,
                List.of("strategy"), List.of("registry.example/d1:1.0"), List.of(), counted, "42");
    }

    @Test
    void stopThenStartOneStepAtATime() {
        Optional<ExecutionMode> backtest = Optional.of(ExecutionMode.BACKTEST);
        Optional<ExecutionMode> dryRun = Optional.of(ExecutionMode.DRY_RUN);
        assertThat(Convergence.toMode(List.of(workload(backtest, 2, List.of(backtest, backtest), 2)), ExecutionMode.DRY_RUN, w -> 2)
                .step()).isEqualTo(Step.ScalingDown);
        assertThat(Convergence.toMode(List.of(workload(backtest, 0, List.of(backtest), 0)), ExecutionMode.DRY_RUN, w -> 2)
                .step()).isEqualTo(Step.Draining);
        assertThat(Convergence.toMode(List.of(workload(backtest, 0, List.of(), 0)), ExecutionMode.DRY_RUN, w -> 2)
                .step()).isEqualTo(Step.Reconfiguring);
        assertThat(Convergence.toMode(List.of(workload(dryRun, 0, List.of(), 0)), ExecutionMode.DRY_RUN, w -> 2)
                .step()).isEqualTo(Step.ScalingUp);
    }

    /**
     * Caught by the fault suite (seed 1795743408282, run 44): a writer scaled the Deployment up a moment before,
     * its controller counted the new old-mode pods but the pod listing did not show them yet, and the new
     * template went out beside them.
     */
    @Test
    void aPodItsControllerCountsButNoListingShowsYetHoldsTheNewTemplateBack() {
        Optional<ExecutionMode> backtest = Optional.of(ExecutionMode.BACKTEST);
        Convergence.Plan plan = Convergence.toMode(List.of(workload(backtest, 0, List.of(), 2)), ExecutionMode.DRY_RUN, w -> 2);
        assertThat(plan.step()).isEqualTo(Step.Draining);
        assertThat(plan.writes()).isEmpty();
        // Its own template already in the target mode: the count is the new mode's, nothing to wait for.
        assertThat(Convergence.toMode(List.of(workload(Optional.of(ExecutionMode.DRY_RUN), 2, Collections.nCopies(2,
                Optional.of(ExecutionMode.DRY_RUN)), 2)), ExecutionMode.DRY_RUN, w -> 2).step()).isNotEqualTo(Step.Draining);
    }

    @Test
    void onlyWritesThatCouldStartPodsWaitOnTheVersionTheyWereDecidedFrom() {
        Optional<ExecutionMode> backtest = Optional.of(ExecutionMode.BACKTEST);
        ObservedWorkload running = workload(backtest, 2, List.of(backtest, backtest), 2);
        Convergence.Write scaleDown = Convergence.toMode(List.of(running), ExecutionMode.DRY_RUN, w -> 2).writes().get(0);
        assertThat(scaleDown.onlyIfUnchanged()).as("a scale-down lands whatever changed").isFalse();
        assertThat(Convergence.toZero(List.of(running)).writes().get(0).onlyIfUnchanged()).as("an emergency stop too").isFalse();
        Convergence.Write reconfigure = Convergence.toMode(List.of(workload(backtest, 0, List.of(), 0)), ExecutionMode.DRY_RUN,
                w -> 2).writes().get(0);
        assertThat(reconfigure.onlyIfUnchanged()).isTrue();
        Convergence.Write scaleUp = Convergence.toMode(List.of(workload(Optional.of(ExecutionMode.DRY_RUN), 0, List.of(), 0)),
                ExecutionMode.DRY_RUN, w -> 2).writes().get(0);
        assertThat(scaleUp.replicas()).isEqualTo(2);
        assertThat(scaleUp.onlyIfUnchanged()).isTrue();
    }

    /**
     * Caught by the safety-invariant checker in KillSwitchIT (a .ci/run): a Deployment created a moment before
     * its policy was zeroed and reconfigured before its controller had acted on it; the controller then created
     * the pod of the original template beside the first pod of the new mode.
     */
    @Test
    void aWorkloadWhoseControllerHasNotSeenItsZeroHoldsTheNewTemplateBack() {
        Convergence.Plan plan = Convergence.toMode(List.of(workload(Optional.empty(), 0, List.of(), -1)), ExecutionMode.DRY_RUN, w -> 1);
        assertThat(plan.step()).isEqualTo(Step.Draining);
        assertThat(plan.message()).contains("Deployment/d1");
        assertThat(Convergence.toMode(List.of(workload(Optional.empty(), 0, List.of(), 0)), ExecutionMode.DRY_RUN, w -> 1).step())
                .isEqualTo(Step.Reconfiguring);
    }
}
