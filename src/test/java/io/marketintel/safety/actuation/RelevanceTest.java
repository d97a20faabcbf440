package io.marketintel.safety.actuation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import io.marketintel.safety.api.v1alpha1.MetadataNames;

class RelevanceTest {
    static final String ENV = "TRADING_MODE";

    static Pod pod(String mode, String phase, String waiting, int restarts) {
        return new PodBuilder()
                .withNewMetadata().withName("p").withNamespace("ns").withLabels(Map.of(MetadataNames.POLICY_LABEL, "x"))
                .withAnnotations(Map.of(MetadataNames.MODE_ANNOTATION, mode)).endMetadata()
                .withNewSpec().addNewContainer().withName("c").addNewEnv().withName(ENV).withValue(mode).endEnv().endContainer()
                .endSpec()
                .withNewStatus().withPhase(phase).addNewContainerStatus().withName("c").withRestartCount(restarts)
                .withNewState().withNewWaiting().withReason(waiting).endWaiting().endState().endContainerStatus().endStatus()
                .build();
    }

    static Deployment deployment(long generation, Integer replicas, Integer ready, Integer updated, Integer available) {
        return new DeploymentBuilder()
                .withNewMetadata().withName("d").withNamespace("ns").withGeneration(generation)
                .withLabels(Map.of(MetadataNames.POLICY_LABEL, "x")).endMetadata()
                .withNewStatus().withReplicas(replicas).withReadyReplicas(ready).withUpdatedReplicas(updated)
                .withAvailableReplicas(available).withObservedGeneration(generation).endStatus()
                .build();
    }

    @Test
    void aRolloutsBookkeepingDoesNotWakeThePolicy() {
        // The Deployment controller's writes of updated/available replicas and observed generation change
        // nothing the policy reads.
        assertThat(Relevance.deployment(deployment(2, 1, 0, 1, 1), deployment(2, 1, 0, 0, 0))).isFalse();
        Pod scheduled = new PodBuilder(pod("DryRun", "Pending", null, 0)).editSpec().withNodeName("kwok-node").endSpec().build();
        assertThat(Relevance.pod(scheduled, pod("DryRun", "Pending", null, 0))).isFalse();
        assertThat(Relevance.pod(pod("DryRun", "Running", null, 0), scheduled)).isFalse();
        // Neither the controller's annotations (a rollout's revision) nor a pod's first container statuses.
        Deployment d = deployment(2, 1, 1, 1, 1);
        Deployment revised = new DeploymentBuilder(d).editMetadata()
                .addToAnnotations("deployment.kubernetes.io/revision", "2").endMetadata().build();
        assertThat(Relevance.deployment(revised, d)).isFalse();
        Pod pending = new PodBuilder(scheduled).editStatus().withContainerStatuses().endStatus().build();
        assertThat(Relevance.pod(pod("DryRun", "Running", null, 0), pending)).isFalse();
        assertThat(Relevance.pod(pod("DryRun", "Running", "ContainerCreating", 0), pending)).isFalse();
    }

    @Test
    void whatThePolicyReadsWakesIt() {
        Deployment d = deployment(2, 1, 1, 1, 1);
        assertThat(Relevance.deployment(deployment(3, 1, 1, 1, 1), d)).as("spec changed").isTrue();
        assertThat(Relevance.deployment(deployment(2, 0, 1, 1, 1), d)).as("a pod went away").isTrue();
        assertThat(Relevance.deployment(deployment(2, 1, 0, 1, 1), d)).as("readiness").isTrue();
        Deployment relabelled = new DeploymentBuilder(d).editMetadata().addToLabels("team", "fx").endMetadata().build();
        assertThat(Relevance.deployment(relabelled, d)).as("labels").isTrue();
        Deployment annotated = new DeploymentBuilder(d).editMetadata()
                .addToAnnotations(MetadataNames.ORIGINAL_REPLICAS_ANNOTATION, "3").endMetadata().build();
        assertThat(Relevance.deployment(annotated, d)).as("annotations").isTrue();
        Deployment deleting = new DeploymentBuilder(d).editMetadata().withDeletionTimestamp("2026-11-26T00:00:00Z").endMetadata()
                .build();
        assertThat(Relevance.deployment(deleting, d)).as("deletion").isTrue();

        Pod p = pod("DryRun", "Running", null, 0);
        assertThat(Relevance.pod(pod("Live", "Running", null, 0), p)).as("mode").isTrue();
        assertThat(Relevance.pod(pod("DryRun", "Running", "CrashLoopBackOff", 1), p)).as("crash loop").isTrue();
        Pod deletingPod = new PodBuilder(p).editMetadata().withDeletionTimestamp("2026-11-26T00:00:00Z").endMetadata().build();
        assertThat(Relevance.pod(deletingPod, p)).as("terminating").isTrue();
    }

    /**
     * The controller having seen a new generation wakes the policy only once it counts no pod: while it counts some the
     * pass waits for them either way, and their going is an event of its own (Convergence: a count of pods of another
     * mode holds the new mode back whether or not the controller has seen the zero).
     */
    @Test
    void theControllerSeeingTheZeroWakesOnlyWhenItCountsNoPod() {
        Deployment zeroed = new DeploymentBuilder(deployment(2, 1, 1, 1, 1)).editStatus().withObservedGeneration(1L).endStatus().build();
        assertThat(Relevance.deployment(deployment(2, 1, 1, 1, 1), zeroed)).as("still counts 1").isFalse();
        Deployment gone = new DeploymentBuilder(zeroed).editStatus().withReplicas((Integer) null).withReadyReplicas((Integer) null)
                .endStatus().build();
        Deployment goneSeen = new DeploymentBuilder(gone).editStatus().withObservedGeneration(2L).endStatus().build();
        assertThat(Relevance.deployment(goneSeen, gone)).as("counts none: the new mode may start").isTrue();
        assertThat(Relevance.deployment(deployment(2, 0, 0, 0, 0), new DeploymentBuilder(deployment(2, 0, 0, 0, 0)).editStatus()
                .withObservedGeneration(1L).endStatus().build())).isTrue();
    }

    /**
     * Whatever the counts, a change the policy would observe differently in its decision wakes it: the counts and ready
     * replicas always; the observed generation when the count is none.
     */
    @Property
    void aCountOrReadinessChangeAlwaysWakes(@ForAll("counts") Integer replicas, @ForAll("counts") Integer ready,
            @ForAll("counts") Integer replicasBefore, @ForAll("counts") Integer readyBefore, @ForAll boolean seen) {
        WorkloadStatus now = new WorkloadStatus(replicas, ready, seen ? 3L : 2L);
        WorkloadStatus before = new WorkloadStatus(replicasBefore, readyBefore, 2L);
        boolean countsChanged = !java.util.Objects.equals(replicas, replicasBefore) || !java.util.Objects.equals(ready, readyBefore);
        boolean countsNone = replicas == null || replicas == 0;
        assertThat(Relevance.counts(now, before)).isEqualTo(countsChanged || seen && countsNone);
    }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<Integer> counts() {
        return net.jqwik.api.Arbitraries.integers().between(0, 3).injectNull(0.2);
    }

    @Test
    void statefulSetsLikeDeployments() {
        StatefulSet s = new StatefulSetBuilder().withNewMetadata().withName("s").withGeneration(1L).endMetadata()
                .withNewStatus().withReplicas(1).withReadyReplicas(1).withCurrentReplicas(1).endStatus().build();
        StatefulSet bookkeeping = new StatefulSetBuilder(s).editStatus().withCurrentReplicas(0).withUpdatedReplicas(1).endStatus()
                .build();
        assertThat(Relevance.statefulSet(bookkeeping, s)).isFalse();
        assertThat(Relevance.statefulSet(new StatefulSetBuilder(s).editStatus().withReadyReplicas(0).endStatus().build(), s))
                .isTrue();
    }

    /**
     * Every restart of a crash-looping container is a failure the circuit breaker counts, so each one wakes; entering or
     * leaving CrashLoopBackOff wakes; a container status the breaker does not count does not.
     */
    @Property
    void aContainerStatusWakesExactlyWhenTheBreakerWouldCountIt(@ForAll @IntRange(max = 1000) int restarts,
            @ForAll("reasons") String before, @ForAll("reasons") String now, @ForAll boolean restarted) {
        Pod a = pod("DryRun", "Running", before, restarts);
        Pod b = pod("DryRun", "Running", now, restarted ? restarts + 1 : restarts);
        boolean counted = "CrashLoopBackOff".equals(before) || "CrashLoopBackOff".equals(now);
        assertThat(Relevance.pod(b, a)).isEqualTo(counted && (restarted || !before.equals(now)));
        assertThat(Relevance.pod(b, a)).isEqualTo(!ObservedPod.crashLoops(a).equals(ObservedPod.crashLoops(b)));
    }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<String> reasons() {
        return net.jqwik.api.Arbitraries.of("", "ContainerCreating", "CrashLoopBackOff", "ImagePullBackOff");
    }

    /** An update the policy would observe differently always wakes it: its mode as the Actuator reads it. */
    @Property
    void aChangedObservedModeAlwaysWakes(@ForAll("modes") String before, @ForAll("modes") String now) {
        Pod a = pod(before, "Running", null, 0);
        Pod b = pod(now, "Running", null, 0);
        boolean observedDiffers = !ModeMarks.modeOf(a.getMetadata(), a.getSpec(), ENV)
                .equals(ModeMarks.modeOf(b.getMetadata(), b.getSpec(), ENV));
        if (observedDiffers) {
            assertThat(Relevance.pod(b, a)).isTrue();
        }
        assertThat(Relevance.pod(b, a)).isEqualTo(!before.equals(now));
    }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<String> modes() {
        return net.jqwik.api.Arbitraries.of("Backtest", "DryRun", "Live", "live", "", "Paper");
    }
}
