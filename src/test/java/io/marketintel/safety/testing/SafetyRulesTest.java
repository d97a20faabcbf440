package io.marketintel.safety.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The checker's decisions on synthetic event sequences: each invariant fires when it must and only then. */
class SafetyRulesTest {
    static final Instant T0 = Instant.parse("2026-11-27T10:00:00Z");

    final SafetyRules rules = new SafetyRules(SafetyRules.Settings.DEFAULT);

    static Instant at(double seconds) {
        return T0.plusMillis((long) (seconds * 1000));
    }

    static SafetyRules.PodView pod(String name, String workload, String mode, boolean running, double created) {
        return new SafetyRules.PodView("ns", name, workload, "p", mode, running, at(created));
    }

    static SafetyRules.PolicyView policy(String specMode, boolean stopped, boolean liveApproved) {
        return new SafetyRules.PolicyView("ns", "p", specMode, stopped, liveApproved, specMode + (stopped ? " stopped" : ""));
    }

    void tickUntil(double seconds) {
        for (double s = 0; s <= seconds; s += 0.2) {
            rules.tick(at(s));
        }
    }

    @Test
    void aCleanStopThenStartNeverFires() {
        rules.policySeen("ADDED", policy("DryRun", false, false), at(0));
        rules.podSeen("ADDED", pod("a-1", "Deployment/a", "DryRun", true, 0), at(0.1));
        rules.podSeen("ADDED", pod("a-2", "Deployment/a", "DryRun", true, 0), at(0.1));
        rules.policySeen("MODIFIED", policy("Live", false, true), at(1));
        rules.podSeen("MODIFIED", pod("a-1", "Deployment/a", "DryRun", false, 0), at(1.5));
        rules.podSeen("MODIFIED", pod("a-2", "Deployment/a", "DryRun", false, 0), at(1.5));
        rules.podSeen("DELETED", pod("a-1", "Deployment/a", "DryRun", false, 0), at(2));
        rules.podSeen("DELETED", pod("a-2", "Deployment/a", "DryRun", false, 0), at(2));
        rules.podSeen("ADDED", pod("a-3", "Deployment/a", "Live", true, 3), at(3));
        tickUntil(60);
        assertThat(rules.first()).isEmpty();
        assertThat(rules.maxAlive()).containsEntry("DryRun", 2).containsEntry("Live", 1);
    }

    @Test
    void twoModesInOneWorkloadFireAtOnce() {
        rules.podSeen("ADDED", pod("a-1", "Deployment/a", "DryRun", true, 0), at(0));
        rules.podSeen("ADDED", pod("a-2", "Deployment/a", "Live", true, 0), at(0.5));
        assertThat(rules.first()).hasValueSatisfying(v -> {
            assertThat(v.invariant()).isEqualTo("ModesOverlap");
            assertThat(v.message()).contains("[DryRun, Live]").contains("ns/Deployment/a");
            assertThat(v.trail()).contains("ADDED pod ns/a-1").contains("ADDED pod ns/a-2");
        });
    }

    /**
     * Stop-then-start is promised for governed workloads: two modes in a workload none of whose pods carries a policy
     * label (no policy ever adopted it) are not an overlap; an unlabelled pod beside a labelled one (an adoption) is.
     */
    @Test
    void aWorkloadNoPolicyGovernsIsNotJudgedButAnAdoptionIs() {
        rules.podSeen("ADDED", new SafetyRules.PodView("ns", "a-1", "Deployment/a", null, "none", true, at(0)), at(0));
        rules.podSeen("ADDED", new SafetyRules.PodView("ns", "a-2", "Deployment/a", null, "Live", true, at(0.5)), at(0.5));
        assertThat(rules.first()).isEmpty();

        rules.podSeen("ADDED", pod("a-3", "Deployment/a", "DryRun", true, 1), at(1));
        assertThat(rules.first()).hasValueSatisfying(v -> {
            assertThat(v.invariant()).isEqualTo("ModesOverlap");
            assertThat(v.message()).contains("ns/Deployment/a");
        });
    }

    @Test
    void aTerminatingOldPodStillCountsAsAlive() {
        rules.podSeen("ADDED", pod("a-1", "Deployment/a", "DryRun", false, 0), at(0));
        rules.podSeen("ADDED", pod("a-2", "Deployment/a", "Live", true, 0), at(0.5));
        assertThat(rules.first()).map(SafetyRules.Violation::invariant).hasValue("ModesOverlap");
    }

    @Test
    void twoModesAcrossWorkloadsOfOneTradingSystemFire() {
        rules.podSeen("ADDED", pod("a-1", "Deployment/a", "DryRun", true, 0), at(0));
        rules.podSeen("ADDED", pod("b-0", "StatefulSet/b", "Backtest", true, 0), at(0.5));
        assertThat(rules.first()).hasValueSatisfying(v -> assertThat(v.message()).contains("ns/policy p"));
    }

    @Test
    void unconfiguredPodsOfAWorkloadOverlappingItsFirstModeFire() {
        var unlabelled = new SafetyRules.PodView("ns", "a-0", "Deployment/a", null, null, true, at(0));
        rules.podSeen("ADDED", unlabelled, at(0));
        rules.podSeen("ADDED", pod("a-1", "Deployment/a", "DryRun", true, 1), at(1));
        assertThat(rules.first()).hasValueSatisfying(v -> assertThat(v.message()).contains("[DryRun, none]"));
    }

    @Test
    void differentWorkloadsOfDifferentPoliciesMayRunDifferentModes() {
        rules.podSeen("ADDED", pod("a-1", "Deployment/a", "DryRun", true, 0), at(0));
        rules.podSeen("ADDED", new SafetyRules.PodView("ns", "b-1", "Deployment/b", "q", "Live", true, at(0)), at(0));
        rules.podSeen("ADDED", new SafetyRules.PodView("other", "a-1", "Deployment/a", "p", "Live", true, at(0)), at(0));
        assertThat(rules.first()).isEmpty();
    }

    @Test
    void aLivePodStartedAfterTheDeEscalationWasSeenFiresAfterTheSettle() {
        rules.policySeen("ADDED", policy("Live", false, true), at(0));
        rules.podSeen("ADDED", pod("a-1", "Deployment/a", "Live", true, 0), at(0));
        rules.policySeen("MODIFIED", policy("DryRun", false, false), at(10));
        rules.podSeen("ADDED", pod("a-2", "Deployment/a", "Live", true, 14), at(14));
        assertThat(rules.first()).as("not before the settle").isEmpty();
        rules.tick(at(16.1));
        assertThat(rules.first()).hasValueSatisfying(v -> {
            assertThat(v.invariant()).isEqualTo("LiveWithoutApproval");
            assertThat(v.message()).contains("ns/a-2").contains("created at");
        });
    }

    @Test
    void aLivePodSeenBeforeItsApprovalArrivesOnTheOtherWatchDoesNotFire() {
        rules.policySeen("ADDED", policy("Live", false, false), at(0));
        // The operator recorded the approved transition, then scaled up; the pod watch delivered first.
        rules.podSeen("ADDED", pod("a-1", "Deployment/a", "Live", true, 10), at(10.1));
        rules.tick(at(11));
        rules.policySeen("MODIFIED", policy("Live", false, true), at(11.5));
        tickUntil(60);
        assertThat(rules.first()).isEmpty();
    }

    @Test
    void aLivePodLeftRunningBeyondTheGraceAfterADeEscalationFires() {
        rules.policySeen("ADDED", policy("Live", false, true), at(0));
        rules.podSeen("ADDED", pod("a-1", "Deployment/a", "Live", true, 0), at(0));
        rules.policySeen("MODIFIED", policy("DryRun", false, false), at(5));
        rules.tick(at(34.9));
        assertThat(rules.first()).as("within the grace").isEmpty();
        rules.tick(at(35));
        assertThat(rules.first()).hasValueSatisfying(v -> {
            assertThat(v.invariant()).isEqualTo("LiveWithoutApproval");
            assertThat(v.message()).contains("beyond the grace");
        });
    }

    @Test
    void aLivePodTakenDownWithinTheGraceDoesNotFire() {
        rules.policySeen("ADDED", policy("Live", false, true), at(0));
        rules.podSeen("ADDED", pod("a-1", "Deployment/a", "Live", true, 0), at(0));
        rules.policySeen("MODIFIED", policy("DryRun", false, false), at(5));
        rules.podSeen("MODIFIED", pod("a-1", "Deployment/a", "Live", false, 0), at(20));
        tickUntil(60);
        assertThat(rules.first()).isEmpty();
    }

    @Test
    void aLivePodOfAnUnapprovedEscalationFires() {
        rules.policySeen("ADDED", policy("Live", false, false), at(0));
        rules.podSeen("ADDED", pod("a-1", "Deployment/a", "Live", true, 5), at(5));
        tickUntil(8);
        assertThat(rules.first()).map(SafetyRules.Violation::invariant).hasValue("LiveWithoutApproval");
    }

    @Test
    void aPodStartedAfterTheStopFires() {
        rules.policySeen("ADDED", policy("DryRun", false, false), at(0));
        rules.podSeen("ADDED", pod("a-1", "Deployment/a", "DryRun", true, 0), at(0));
        rules.policySeen("MODIFIED", policy("DryRun", true, false), at(1));
        rules.podSeen("MODIFIED", pod("a-1", "Deployment/a", "DryRun", false, 0), at(1.2));
        rules.podSeen("DELETED", pod("a-1", "Deployment/a", "DryRun", false, 0), at(1.5));
        rules.podSeen("ADDED", pod("a-2", "Deployment/a", "DryRun", true, 6), at(6));
        tickUntil(9);
        assertThat(rules.first()).hasValueSatisfying(v -> {
            assertThat(v.invariant()).isEqualTo("RunningWhileStopped");
            assertThat(v.message()).contains("ns/a-2");
        });
    }

    @Test
    void aPodStillRunningBeyondTheGraceOfAStopFires() {
        rules.policySeen("ADDED", policy("DryRun", false, false), at(0));
        rules.podSeen("ADDED", pod("a-1", "Deployment/a", "DryRun", true, 0), at(0));
        rules.policySeen("MODIFIED", policy("DryRun", true, false), at(1));
        tickUntil(30.9);
        assertThat(rules.first()).isEmpty();
        rules.tick(at(31));
        assertThat(rules.first()).map(SafetyRules.Violation::invariant).hasValue("RunningWhileStopped");
    }

    @Test
    void aStopThatTakesPodsDownAndIsReArmedNeverFires() {
        rules.policySeen("ADDED", policy("DryRun", false, false), at(0));
        rules.podSeen("ADDED", pod("a-1", "Deployment/a", "DryRun", true, 0), at(0));
        rules.policySeen("MODIFIED", policy("DryRun", true, false), at(1));
        rules.podSeen("MODIFIED", pod("a-1", "Deployment/a", "DryRun", false, 0), at(1.3));
        rules.podSeen("DELETED", pod("a-1", "Deployment/a", "DryRun", false, 0), at(1.6));
        rules.policySeen("MODIFIED", policy("DryRun", false, false), at(20));
        rules.podSeen("ADDED", pod("a-2", "Deployment/a", "DryRun", true, 21), at(21));
        tickUntil(80);
        assertThat(rules.first()).isEmpty();
    }

    @Test
    void aPodCreatedLongAfterTheStopFiresOnlyAfterTheSettleSoALateReArmOnTheOtherWatchIsNotAViolation() {
        rules.policySeen("ADDED", policy("DryRun", true, false), at(0));
        rules.podSeen("ADDED", pod("a-1", "Deployment/a", "DryRun", true, 50), at(50));
        rules.tick(at(51));
        rules.policySeen("MODIFIED", policy("DryRun", false, false), at(51.5)); // the re-arm, delivered late
        tickUntil(90);
        assertThat(rules.first()).isEmpty();
    }

    @Test
    void aPodALaterListFindsGoneLeavesTheViewBeforeTheGraceEnds() {
        rules.policySeen("ADDED", policy("Live", false, true), at(0));
        rules.podSeen("ADDED", pod("a-1", "Deployment/a", "Live", true, 0), at(0));
        rules.policySeen("MODIFIED", policy("Live", true, true), at(5)); // stopped; the pod watch stalls
        rules.podSeen("DELETED(relist)", pod("a-1", "Deployment/a", "Live", true, 0), at(10));
        tickUntil(90);
        assertThat(rules.first()).isEmpty();
        assertThat(rules.alive()).isEmpty();
    }

    @Test
    void onlyTheFirstViolationIsKeptButAllAreCounted() {
        rules.podSeen("ADDED", pod("a-1", "Deployment/a", "DryRun", true, 0), at(0));
        rules.podSeen("ADDED", pod("a-2", "Deployment/a", "Live", true, 0), at(1));
        rules.podSeen("ADDED", pod("a-3", "Deployment/a", "Backtest", true, 0), at(2));
        assertThat(rules.first()).hasValueSatisfying(v -> assertThat(v.message()).doesNotContain("Backtest"));
        assertThat(rules.violations()).isGreaterThan(1);
    }

    @Test
    void aPodsWorkloadIsItsDeploymentThroughTheReplicaSet() {
        assertThat(SafetyRules.workload("ReplicaSet", "alpha-7d9f8c6b5", "7d9f8c6b5", "alpha-7d9f8c6b5-x2x")).isEqualTo("Deployment/alpha");
        assertThat(SafetyRules.workload("StatefulSet", "beta", null, "beta-0")).isEqualTo("StatefulSet/beta");
        assertThat(SafetyRules.workload(null, null, null, "lonely")).isEqualTo("Pod/lonely");
    }

    @Test
    void approvalsCountDistinctPeopleOtherThanTheRequester() {
        assertThat(SafetyRules.approvedEnough(List.of("alice", "carol"), "bob", 2)).isTrue();
        assertThat(SafetyRules.approvedEnough(List.of("alice"), "bob", 2)).isFalse();
        assertThat(SafetyRules.approvedEnough(List.of("alice", "alice"), "bob", 2)).isFalse();
        assertThat(SafetyRules.approvedEnough(List.of("alice", "bob"), "bob", 2)).isFalse();
        assertThat(SafetyRules.approvedEnough(null, "bob", 0)).isTrue();
    }

    @Test
    void settingsDefaultsAreTheDocumentedOnes() {
        assertThat(SafetyRules.Settings.DEFAULT.grace()).isEqualTo(Duration.ofSeconds(30));
    }

    // ---------------------------------------------------------------- CountedApprovers

    static SafetyRules.PolicyView counting(SafetyRules.CountedApprovals... counted) {
        return new SafetyRules.PolicyView("ns", "p", "Live", false, true, "Live", List.of(counted));
    }

    @Test
    void countedApproversWhoReallyApprovedThatTokenNeverFire() {
        rules.witnessApprovals("ns");
        rules.approvalAttempted("ns", "p", "alice", "t1");
        rules.approvalAttempted("ns", "p", "rita", "t1");
        rules.policySeen("MODIFIED", counting(new SafetyRules.CountedApprovals("status.approval", "t1", "tom", List.of("alice", "rita")),
                new SafetyRules.CountedApprovals("status.history[0]", null, "tom", List.of("rita", "alice")),
                new SafetyRules.CountedApprovals("status.history[1]", null, "rob", null)), at(1));
        assertThat(rules.first()).isEmpty();
    }

    @Test
    void aCountedRequesterFires() {
        rules.witnessApprovals("ns");
        rules.approvalAttempted("ns", "p", "alice", "t1");
        rules.approvalAttempted("ns", "p", "rita", "t1");
        rules.policySeen("MODIFIED", counting(new SafetyRules.CountedApprovals("status.approval", "t1", "rita", List.of("alice", "rita"))), at(1));
        assertThat(rules.first()).hasValueSatisfying(v -> {
            assertThat(v.invariant()).isEqualTo("CountedApprovers");
            assertThat(v.message()).contains("status.approval").contains("include the requester rita");
        });
    }

    @Test
    void aPersonCountedTwiceFires() {
        rules.witnessApprovals("ns");
        rules.approvalAttempted("ns", "p", "alice", "t1");
        rules.policySeen("MODIFIED", counting(new SafetyRules.CountedApprovals("status.transition", null, "tom", List.of("alice", "alice"))), at(1));
        assertThat(rules.first()).hasValueSatisfying(v -> assertThat(v.message()).contains("not distinct"));
    }

    @Test
    void anApproverWhoApprovedAnotherTokenOrWhoseWriteWasRefusedFires() {
        rules.witnessApprovals("ns");
        rules.approvalAttempted("ns", "p", "alice", "t1");
        rules.approvalAttempted("ns", "p", "rita", "t0");
        boolean fresh = rules.approvalAttempted("ns", "p", "bob", "t1");
        rules.approvalRefused("ns", "p", "bob", "t1"); // forged or refused: approved nothing
        assertThat(fresh).isTrue();
        rules.policySeen("MODIFIED", counting(new SafetyRules.CountedApprovals("status.approval", "t1", "tom", List.of("alice", "rita"))), at(1));
        assertThat(rules.first()).hasValueSatisfying(v -> assertThat(v.message()).contains("include [rita], who never approved token t1"));
        assertThat(SafetyRules.countedApproversProblem(new SafetyRules.CountedApprovals("h", null, "tom", List.of("bob")),
                java.util.Map.of("t1", java.util.Set.of("alice")))).hasValueSatisfying(m -> assertThat(m).contains("[bob]"));
    }

    @Test
    void aRefusedRepeatDoesNotForgetAnEarlierApproval() {
        rules.witnessApprovals("ns");
        assertThat(rules.approvalAttempted("ns", "p", "alice", "t1")).isTrue();
        assertThat(rules.approvalAttempted("ns", "p", "alice", "t1")).isFalse(); // a second write, refused: nothing withdrawn
        rules.policySeen("MODIFIED", counting(new SafetyRules.CountedApprovals("status.approval", "t1", "tom", List.of("alice"))), at(1));
        assertThat(rules.first()).isEmpty();
    }

    @Test
    void countedApproversAreNotCheckedWhereNoApprovalIsWitnessed() {
        rules.policySeen("MODIFIED", counting(new SafetyRules.CountedApprovals("status.approval", "t1", "tom", List.of("alice", "carol"))), at(1));
        assertThat(rules.first()).isEmpty();
    }

    static SafetyRules.PolicyView policyAt(boolean livePodsAllowed, long version) {
        return new SafetyRules.PolicyView("ns", "p", "Live", false, livePodsAllowed, "rv " + version, List.of(), livePodsAllowed, version);
    }

    static SafetyRules.PodView livePod(String name, long version, double created) {
        return new SafetyRules.PodView("ns", name, "Deployment/a", "p", "DryRun", true, at(created), true, version);
    }

    /** Issue 21: a pod carrying Live (here hidden in an env entry of a DryRun-annotated pod) counts by resource version. */
    @Test
    void aLivePodCreatedBeforeItsPolicyAllowedItFiresHoweverBriefly() {
        var live = new SafetyRules(SafetyRules.Settings.DEFAULT, T0);
        live.policySeen("ADDED", policyAt(false, 10), at(0));
        live.podSeen("ADDED", livePod("a-1", 20, 1), at(1));
        live.podSeen("DELETED", livePod("a-1", 21, 1), at(1.5)); // corrected a moment later: still a violation
        live.policySeen("MODIFIED", policyAt(true, 30), at(2));
        live.podSeen("ADDED", livePod("a-2", 31, 2), at(2.1));
        live.policySeen("MODIFIED", policyAt(false, 40), at(3));
        live.tick(at(3));
        assertThat(live.first()).as("judged only once the policy watch had time to catch up").isEmpty();
        live.judgeLiveCreations(at(4), true);
        assertThat(live.first()).hasValueSatisfying(v -> {
            assertThat(v.invariant()).isEqualTo("LiveCreatedWithoutApproval");
            assertThat(v.message()).contains("pod ns/a-1").contains("resource version 20").contains("[30,40)");
        });
        assertThat(live.violations()).isOne();
    }

    @Test
    void aLivePodCreatedWhileAllowedEvenIfThePolicyWatchLagsDoesNotFire() {
        var live = new SafetyRules(SafetyRules.Settings.DEFAULT, T0);
        live.policySeen("ADDED", policyAt(false, 10), at(0));
        live.podSeen("ADDED", new SafetyRules.PodView("ns", "a-1", "Deployment/a", "p", "Live", true, at(1), true, 31), at(1)); // before the policy event that allowed it
        live.policySeen("MODIFIED", policyAt(true, 30), at(1.2));
        // a policy already allowing Live when the watcher started, and a pod from before it started: not judged
        live.policySeen("ADDED", new SafetyRules.PolicyView("ns", "q", "Live", false, true, "q", List.of(), true, 50), at(0));
        live.podSeen("ADDED", new SafetyRules.PodView("ns", "b-1", "Deployment/b", "q", "Live", true, at(2), true, 5), at(2));
        live.podSeen("ADDED", new SafetyRules.PodView("ns", "c-1", "Deployment/c", "p", "Live", true, T0.minusSeconds(60), true, 2), at(2));
        live.tick(at(30));
        live.judgeLiveCreations(at(30), true);
        assertThat(live.first()).isEmpty();
    }
}
