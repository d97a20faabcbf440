package io.marketintel.safety.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus;
import io.marketintel.safety.api.v1alpha1.MetadataNames;

/** How the checker reads pods and policies: mode, workload, approvals recorded by the operator, stop and re-arm. */
class SafetyInvariantsTest {

    static ExecutionPolicy policy(ExecutionMode spec, Integer requiredForLive, Map<String, String> annotations) {
        ExecutionPolicy p = new ExecutionPolicy();
        p.setMetadata(new ObjectMetaBuilder().withNamespace("ns").withName("p").withAnnotations(annotations).build());
        p.setSpec(new ExecutionPolicySpec());
        p.getSpec().mode = spec;
        if (requiredForLive != null) {
            p.getSpec().approval = new ExecutionPolicySpec.Approval();
            p.getSpec().approval.requiredForLive = requiredForLive;
        }
        p.setStatus(new ExecutionPolicyStatus());
        return p;
    }

    static ExecutionPolicyStatus.TransitionRecord arrival(ExecutionMode to, String requester, String... approvers) {
        var h = new ExecutionPolicyStatus.TransitionRecord();
        h.to = to;
        h.requester = requester;
        h.approvers = approvers.length == 0 ? null : List.of(approvers);
        return h;
    }

    @Test
    void liveIsAllowedOnlyWithTheOperatorsRecordOfEnoughApprovals() {
        ExecutionPolicy p = policy(ExecutionMode.LIVE, null, Map.of());
        assertThat(SafetyInvariants.policyView(p).liveApproved()).as("nothing recorded").isFalse();

        p.getStatus().transition = new ExecutionPolicyStatus.Transition();
        p.getStatus().transition.to = ExecutionMode.LIVE;
        p.getStatus().transition.requester = "bob";
        p.getStatus().transition.approvers = List.of("alice");
        assertThat(SafetyInvariants.policyView(p).liveApproved()).as("one of two").isFalse();
        p.getStatus().transition.approvers = List.of("alice", "carol");
        assertThat(SafetyInvariants.policyView(p).mayRunLive()).isTrue();

        p.getStatus().transition = null;
        p.getStatus().mode = ExecutionMode.LIVE;
        p.getStatus().history = List.of(arrival(ExecutionMode.LIVE, "bob", "alice", "carol"));
        assertThat(SafetyInvariants.policyView(p).mayRunLive()).as("arrived in Live with two approvals").isTrue();
        p.getStatus().history = List.of(arrival(ExecutionMode.LIVE, "bob", "alice", "bob"));
        assertThat(SafetyInvariants.policyView(p).mayRunLive()).as("the requester approving counts for nothing").isFalse();

        p.getSpec().mode = ExecutionMode.DRY_RUN;
        p.getStatus().history = List.of(arrival(ExecutionMode.LIVE, "bob", "alice", "carol"));
        assertThat(SafetyInvariants.policyView(p).mayRunLive()).as("spec no longer Live").isFalse();

        ExecutionPolicy none = policy(ExecutionMode.LIVE, 0, Map.of());
        none.getStatus().mode = ExecutionMode.LIVE;
        none.getStatus().history = List.of(arrival(ExecutionMode.LIVE, "bob"));
        assertThat(SafetyInvariants.policyView(none).mayRunLive()).as("requiredForLive: 0").isTrue();
    }

    /**
     * A count raised during an escalation forbids the Live pods that run from then on (the operator rolls back), not the
     * creations made under the record while it was enough; once Live, the count in force on the way there applies.
     */
    @Test
    void aCountRaisedUnderWayForbidsLivePodsRunningNotThoseCreatedBefore() {
        Map<String, SafetyInvariants.LiveEscalation> seen = new HashMap<>();
        ExecutionPolicy p = policy(ExecutionMode.LIVE, 2, Map.of());
        p.getMetadata().setUid("u1");
        p.getStatus().mode = ExecutionMode.DRY_RUN;
        p.getStatus().transition = new ExecutionPolicyStatus.Transition();
        p.getStatus().transition.to = ExecutionMode.LIVE;
        p.getStatus().transition.startedAt = "2026-12-06T14:02:20Z";
        p.getStatus().transition.requester = "tom";
        p.getStatus().transition.approvers = List.of("alice", "rita");
        assertThat(SafetyInvariants.policyView(p, 0, seen).mayRunLive()).isTrue();

        p.getSpec().approval.requiredForLive = 3;
        var raised = SafetyInvariants.policyView(p, 0, seen);
        assertThat(raised.mayRunLive()).as("2 of 3 now: its Live pods must go").isFalse();
        assertThat(raised.livePodsAllowed()).as("approved as recorded: creations then were allowed").isTrue();
        assertThat(SafetyInvariants.policyView(p, 0, new HashMap<>()).livePodsAllowed())
                .as("an escalation first seen needing 3").isFalse();

        p.getSpec().approval.requiredForLive = 2;
        SafetyInvariants.policyView(p, 0, seen);
        p.getStatus().transition = null;
        p.getStatus().mode = ExecutionMode.LIVE;
        p.getStatus().history = List.of(arrival(ExecutionMode.LIVE, "tom", "alice", "rita"));
        p.getSpec().approval.requiredForLive = 3;
        var live = SafetyInvariants.policyView(p, 0, seen);
        assertThat(live.mayRunLive()).as("raised once Live: applies to the next escalation").isTrue();
        assertThat(live.livePodsAllowed()).isTrue();
        assertThat(SafetyInvariants.policyView(p, 0, new HashMap<>()).mayRunLive()).as("never seen on its way: the count now")
                .isFalse();
    }

    @Test
    void aStopHoldsUntilAReArmOfTheRecordedEpoch() {
        ExecutionPolicy p = policy(ExecutionMode.DRY_RUN, null, Map.of(MetadataNames.EMERGENCY_STOP_ANNOTATION, "fat finger"));
        assertThat(SafetyInvariants.policyView(p).stopped()).as("annotated").isTrue();

        p.getMetadata().setAnnotations(Map.of());
        p.getStatus().emergencyStop = new ExecutionPolicyStatus.EmergencyStop();
        p.getStatus().emergencyStop.active = true;
        p.getStatus().emergencyStop.epoch = 3L;
        assertThat(SafetyInvariants.policyView(p).stopped()).as("latched: the annotation's removal resumes nothing").isTrue();

        p.getMetadata().setAnnotations(Map.of(MetadataNames.REARMED_BY_ANNOTATION, "risk 2"));
        assertThat(SafetyInvariants.policyView(p).stopped()).as("a re-arm of an earlier epoch").isTrue();
        p.getMetadata().setAnnotations(Map.of(MetadataNames.REARMED_BY_ANNOTATION, "risk 3"));
        assertThat(SafetyInvariants.policyView(p).stopped()).as("re-armed; the operator acts before it reports").isFalse();
        p.getMetadata().setAnnotations(Map.of(MetadataNames.REARMED_BY_ANNOTATION, "risk 3", MetadataNames.EMERGENCY_STOP_ANNOTATION, "again"));
        assertThat(SafetyInvariants.policyView(p).stopped()).as("annotated again").isTrue();
    }

    @Test
    void aPodIsReadForItsModePolicyWorkloadAndWhetherItRuns() {
        Pod pod = new PodBuilder().withNewMetadata().withNamespace("ns").withName("alpha-5d8f-x1")
                .withAnnotations(Map.of("safety.marketintel.io/mode", "Live"))
                .withLabels(Map.of("safety.marketintel.io/policy", "p", "pod-template-hash", "5d8f"))
                .withOwnerReferences(new OwnerReference("apps/v1", true, true, "ReplicaSet", "alpha-5d8f", "uid"))
                .withCreationTimestamp("2026-11-27T10:00:00Z").endMetadata()
                .withNewStatus().withPhase("Running").endStatus().build();
        var view = SafetyInvariants.podView(pod);
        assertThat(view.mode()).isEqualTo("Live");
        assertThat(view.policy()).isEqualTo("p");
        assertThat(view.workload()).isEqualTo("Deployment/alpha");
        assertThat(view.running()).isTrue();
        pod.getMetadata().setDeletionTimestamp("2026-11-27T10:00:05Z");
        assertThat(SafetyInvariants.podView(pod).running()).as("terminating").isFalse();
    }
}
