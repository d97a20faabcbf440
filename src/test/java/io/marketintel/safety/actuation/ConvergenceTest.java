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
        return workload("d1", template, replicas, pods, counted);
    }

    static ObservedWorkload workload(String name, Optional<ExecutionMode> template, int replicas, List<Optional<ExecutionMode>> pods,
            int counted) {
        return new ObservedWorkload(WorkloadKind.DEPLOYMENT, name, template, replicas, 0, Optional.empty(), pods,
                List.of("strategy"), List.of("registry.example/" + name + ":1.0"), List.of(), counted, "42");
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

    static ObservedWorkload statefulSet(int replicas, List<ObservedPod> pods) {
        Optional<ExecutionMode> live = Optional.of(ExecutionMode.LIVE);
        return new ObservedWorkload(WorkloadKind.STATEFUL_SET, "book", live, replicas, 0, Optional.empty(),
                Collections.nCopies(pods.size(), live), List.of("strategy"), List.of("registry.example/book:1.0"), List.of(),
                replicas, "42", pods);
    }

    /** Issue 20: a stop is done when the pods are gone; pods nobody deleted are deleted directly, terminating ones awaited. */
    @Test
    void aStopDeletesEveryPodNobodyDeletedAndIsDoneOnlyWhenNoneIsLeft() {
        ObservedPod unready = new ObservedPod("book-1", Optional.empty(), false, true);
        ObservedPod terminating = new ObservedPod("book-0", Optional.of("2026-12-05T10:00:00Z"), true, true);
        ObservedPod stray = new ObservedPod("stray", Optional.empty(), true, true);

        Convergence.Plan first = Convergence.toZero(List.of(statefulSet(2, List.of(terminating, unready))), List.of(stray));
        assertThat(first.step()).isEqualTo(Step.ScalingDown);
        assertThat(first.writes()).singleElement().satisfies(w -> assertThat(w.replicas()).isZero());
        assertThat(first.deletions()).as("in the same pass as the zero write").containsExactly("book-1", "stray");

        // At zero, a StatefulSet with OrderedReady may delete nothing: the pods are still deleted, and named.
        Convergence.Plan waiting = Convergence.toZero(List.of(statefulSet(0, List.of(terminating, unready))), List.of(stray));
        assertThat(waiting.step()).isEqualTo(Step.Draining);
        assertThat(waiting.converged()).isFalse();
        assertThat(waiting.deletions()).containsExactly("book-1", "stray");
        assertThat(waiting.running()).containsExactly(
                "Pod/book-0 (StatefulSet/book): terminating since 2026-12-05T10:00:00Z, within its grace period",
                "Pod/book-1 (StatefulSet/book): not Ready, not deleted by its controller: the operator deletes it",
                "Pod/stray (no workload): Ready, not deleted by its controller: the operator deletes it");
        assertThat(waiting.message()).startsWith("emergency stop: 3 pod(s) still running: Pod/book-0");

        Convergence.Plan done = Convergence.toZero(List.of(statefulSet(0, List.of())), List.of());
        assertThat(done.converged()).isTrue();
        assertThat(done.deletions()).isEmpty();
    }

    /** A broad selector can match another workload's pod: the stop names it but does not delete what is not its own. */
    @Test
    void aStopDeletesOnlyPodsOfItsOwnWorkloads() {
        ObservedPod foreign = new ObservedPod("other-7f9-abc", Optional.empty(), true, false);
        Convergence.Plan plan = Convergence.toZero(List.of(statefulSet(0, List.of(foreign))), List.of());
        assertThat(plan.deletions()).isEmpty();
        assertThat(plan.converged()).isFalse();
        assertThat(plan.running()).singleElement().asString().contains("is not its pod");
    }

    @Test
    void podsBelongToTheWorkloadThatMadeThem() {
        var ownedBySet = new io.fabric8.kubernetes.api.model.PodBuilder().withNewMetadata().withName("book-0")
                .addNewOwnerReference().withKind("StatefulSet").withName("book").endOwnerReference().endMetadata().build();
        var ownedByReplicaSet = new io.fabric8.kubernetes.api.model.PodBuilder().withNewMetadata().withName("d1-5c9-x")
                .addNewOwnerReference().withKind("ReplicaSet").withName("d1-5c9").endOwnerReference().endMetadata().build();
        assertThat(ObservedPod.ownedBy(ownedBySet, "StatefulSet/book")).isTrue();
        assertThat(ObservedPod.ownedBy(ownedBySet, "StatefulSet/books")).isFalse();
        assertThat(ObservedPod.ownedBy(ownedByReplicaSet, "Deployment/d1")).isTrue();
        assertThat(ObservedPod.ownedBy(ownedByReplicaSet, "StatefulSet/d1")).isFalse();
        assertThat(ObservedPod.ownedBy(ownedByReplicaSet, "Deployment/d")).as("d1-5c9 is d1's, not d's").isFalse();
        assertThat(ObservedPod.ownedBy(new io.fabric8.kubernetes.api.model.PodBuilder().withNewMetadata().withName("bare")
                .endMetadata().build(), "Deployment/d1")).isFalse();
    }

    static ObservedWorkload retired(Optional<ExecutionMode> template, int replicas, List<Optional<ExecutionMode>> pods, int counted) {
        return workload("d0", template, replicas, pods, counted);
    }

    /**
     * The insider tier's ModesOverlap (seed 1796502573265:3): a re-created policy retargeted from d0 to d1 started d1 in
     * Backtest while d0, still carrying the policy's mark, ran DryRun. A retired workload is part of the trading
     * system: zeroed first, waited for, and never reconfigured or started.
     */
    @Test
    void aRetiredWorkloadOfAnotherModeIsZeroedAndDrainedBeforeTheTargetsStartAndNeverStarted() {
        Optional<ExecutionMode> dryRun = Optional.of(ExecutionMode.DRY_RUN);
        Optional<ExecutionMode> backtest = Optional.of(ExecutionMode.BACKTEST);
        ObservedWorkload d1 = workload(Optional.empty(), 0, List.of(), 0);

        Convergence.Plan down = Convergence.toMode(List.of(d1), List.of(retired(dryRun, 1, List.of(dryRun), 1)), ExecutionMode.BACKTEST,
                w -> 1);
        assertThat(down.step()).isEqualTo(Step.ScalingDown);
        assertThat(down.writes()).singleElement().satisfies(w -> {
            assertThat(w.workload().name()).isEqualTo("d0");
            assertThat(w.replicas()).isZero();
            assertThat(w.templateMode()).isEqualTo(dryRun);
            assertThat(w.why()).contains("the spec no longer names it");
        });
        assertThat(Convergence.toMode(List.of(d1), List.of(retired(dryRun, 0, List.of(dryRun), 1)), ExecutionMode.BACKTEST, w -> 1)
                .step()).isEqualTo(Step.Draining);
        assertThat(Convergence.toMode(List.of(d1), List.of(retired(dryRun, 0, List.of(), -1)), ExecutionMode.BACKTEST, w -> 1)
                .step()).as("its controller has not seen the zero").isEqualTo(Step.Draining);

        Convergence.Plan configure = Convergence.toMode(List.of(d1), List.of(retired(dryRun, 0, List.of(), 0)), ExecutionMode.BACKTEST,
                w -> 1);
        assertThat(configure.step()).isEqualTo(Step.Reconfiguring);
        assertThat(configure.writes()).extracting(w -> w.workload().name()).containsExactly("d1");
        Convergence.Plan up = Convergence.toMode(List.of(workload(backtest, 0, List.of(), 0)), List.of(retired(dryRun, 0, List.of(), 0)),
                ExecutionMode.BACKTEST, w -> 1);
        assertThat(up.writes()).extracting(w -> w.workload().name() + "=" + w.replicas()).containsExactly("d1=1");
    }

    @Test
    void aRetiredWorkloadAlreadyInTheTargetModeKeepsRunning() {
        Optional<ExecutionMode> dryRun = Optional.of(ExecutionMode.DRY_RUN);
        Convergence.Plan plan = Convergence.toMode(List.of(workload(dryRun, 1, List.of(dryRun), 1)),
                List.of(retired(dryRun, 2, List.of(dryRun, dryRun), 2)), ExecutionMode.DRY_RUN, w -> 1);
        assertThat(plan.writes()).isEmpty();
        assertThat(plan.step()).isEqualTo(Step.ScalingUp); // waiting for d1 to be ready (readyReplicas 0 here), not for d0
        assertThat(plan.message()).doesNotContain("d0");
    }

    /** Issue 21: the writes the API server admits only once status allows Live, and what status allows it. */
    @Test
    void writesThatStartLiveWaitForAStatusThatAllowsLive() {
        Optional<ExecutionMode> live = Optional.of(ExecutionMode.LIVE);
        Optional<ExecutionMode> dryRun = Optional.of(ExecutionMode.DRY_RUN);
        var zeroDryRun = workload(dryRun, 0, List.of(), 0);
        Convergence.Plan configure = Convergence.toMode(List.of(zeroDryRun), ExecutionMode.LIVE, w -> 2);
        assertThat(configure.step()).isEqualTo(Step.Reconfiguring);
        assertThat(configure.writes()).allMatch(Convergence.Write::startsLive);
        var zeroLive = workload(live, 0, List.of(), 0);
        assertThat(Convergence.toMode(List.of(zeroLive), ExecutionMode.LIVE, w -> 2).writes()).allMatch(Convergence.Write::startsLive);
        // scaling a Live workload down, or anything in another mode, does not
        assertThat(new Convergence.Write(workload(live, 2, List.of(live, live), 2), 0, live, "stop").startsLive()).isFalse();
        assertThat(Convergence.toMode(List.of(workload(dryRun, 0, List.of(), 0)), ExecutionMode.DRY_RUN, w -> 2).writes())
                .noneMatch(Convergence.Write::startsLive);

        assertThat(Convergence.Write.liveAllowedBy(dryRun, live)).as("an escalation to Live under way").isTrue();
        assertThat(Convergence.Write.liveAllowedBy(live, Optional.empty())).as("Live and staying").isTrue();
        assertThat(Convergence.Write.liveAllowedBy(live, dryRun)).as("on its way out of Live").isFalse();
        assertThat(Convergence.Write.liveAllowedBy(dryRun, Optional.empty())).isFalse();
        assertThat(Convergence.Write.liveAllowedBy(Optional.empty(), Optional.empty())).isFalse();
        var status = new io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus();
        status.mode = ExecutionMode.LIVE;
        assertThat(Convergence.Write.liveAllowedBy(status)).as("a status: Live and staying").isTrue();
        status.transition = new io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus.Transition();
        status.transition.to = ExecutionMode.DRY_RUN;
        assertThat(Convergence.Write.liveAllowedBy(status)).as("a status on its way out of Live").isFalse();
        assertThat(Convergence.Write.liveAllowedBy((io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus) null)).isFalse();
    }

    /**
     * A wait is left to the watches (a slow safety-net poll only) exactly when what it waits for sends a watch event: the
     * controller's count and observed generation, the policy's own labelled pods, ready replicas. The pods of a template the
     * policy found carry no label of its, no watch of the operator holds them, and they are polled for (issue 22).
     */
    @Test
    void aWaitIsLeftToTheWatchesOnlyWhenAWatchReportsItsEnd() {
        Optional<ExecutionMode> none = Optional.empty();
        Optional<ExecutionMode> dryRun = Optional.of(ExecutionMode.DRY_RUN);
        Optional<ExecutionMode> live = Optional.of(ExecutionMode.LIVE);
        // Found template, zeroed: the controller behind (with the pod it last counted, or none); still counting; counting
        // none while one pod terminates.
        Convergence.Plan behind = Convergence.toMode(List.of(workload(none, 0, List.of(), -1)), ExecutionMode.DRY_RUN, w -> 1);
        Convergence.Plan counting = Convergence.toMode(List.of(workload(none, 0, List.of(none), 1)), ExecutionMode.DRY_RUN, w -> 1);
        Convergence.Plan terminating = Convergence.toMode(List.of(workload(none, 0, List.of(none), 0)), ExecutionMode.DRY_RUN, w -> 1);
        assertThat(List.of(behind.step(), counting.step(), terminating.step())).containsOnly(Step.Draining);
        assertThat(behind.watched()).isTrue();
        assertThat(Convergence.toMode(List.of(workload(none, 0, List.of(none), -1)), ExecutionMode.DRY_RUN, w -> 1).watched()).isTrue();
        assertThat(counting.watched()).isTrue();
        assertThat(terminating.watched()).as("unlabelled pods: no event when they go").isFalse();
        // The policy's own template in another mode: its pods are labelled, and watched.
        assertThat(Convergence.toMode(List.of(workload(dryRun, 0, List.of(dryRun), 0)), ExecutionMode.LIVE, w -> 1).watched()).isTrue();
        // Waiting for ready replicas.
        ObservedWorkload starting = new ObservedWorkload(WorkloadKind.DEPLOYMENT, "d1", live, 1, 0, Optional.empty(), List.of(live),
                List.of("strategy"), List.of("registry.example/d1:1.0"), List.of(), 1, "42");
        Convergence.Plan scalingUp = Convergence.toMode(List.of(starting), ExecutionMode.LIVE, w -> 1);
        assertThat(scalingUp.step()).isEqualTo(Step.ScalingUp);
        assertThat(scalingUp.writes()).isEmpty();
        assertThat(scalingUp.watched()).isTrue();
        // Writes, stops and convergence are not waits.
        assertThat(Convergence.toMode(List.of(workload(none, 1, List.of(none), 1)), ExecutionMode.DRY_RUN, w -> 1).watched()).isFalse();
        assertThat(Convergence.toZero(List.of(starting), List.of()).watched()).isFalse();
    }
}
