package io.marketintel.safety.killswitch;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.killswitch.Latch.Scope;
import io.marketintel.safety.pass.StatusWriterAccess;

/**
 * Issue 20, item 4: a Namespace or cluster stop set and removed before a policy recorded it (the operator down) is
 * still a stop. The API server counts stops ({@code emergency-stop-count}); a policy whose status has seen fewer missed
 * one and latches, with the stamp {@code emergency-stop-by} as who.
 */
class MissedStopTest {
    static Namespace namespace(String count, String by, String stop) {
        Map<String, String> a = new HashMap<>();
        if (count != null) {
            a.put(MetadataNames.EMERGENCY_STOP_COUNT_ANNOTATION, count);
        }
        if (by != null) {
            a.put(MetadataNames.EMERGENCY_STOP_BY_ANNOTATION, by);
        }
        if (stop != null) {
            a.put(MetadataNames.EMERGENCY_STOP_ANNOTATION, stop);
        }
        return new NamespaceBuilder().withNewMetadata().withName("desk").withAnnotations(a).endMetadata().build();
    }

    @Test
    void aStopCountedAboveWhatThePolicySawIsAStop() {
        var missed = StopWatcher.missed(namespace("3", "rob", null), Scope.Namespace, "Namespace/desk", "namespace desk", 2L);
        assertThat(missed).hasValueSatisfying(t -> {
            assertThat(t.scope()).isEqualTo(Scope.Namespace);
            assertThat(t.by()).contains("rob");
            assertThat(t.reason()).contains("stop #3 of Namespace/desk was removed before this policy recorded it");
        });
    }

    @Test
    void nothingMissedWhenTheCountIsSeenUnknownOrNotACount() {
        assertThat(StopWatcher.missed(namespace("3", "rob", null), Scope.Namespace, "Namespace/desk", "namespace desk", 3L)).isEmpty();
        assertThat(StopWatcher.missed(namespace("3", "rob", null), Scope.Namespace, "Namespace/desk", "namespace desk", 7L))
                .as("a count that went down: the Namespace was re-created").isEmpty();
        assertThat(StopWatcher.missed(namespace("3", "rob", null), Scope.Namespace, "Namespace/desk", "namespace desk", null))
                .as("a policy that has seen nothing yet takes the count as it finds it").isEmpty();
        assertThat(StopWatcher.missed(namespace(null, null, null), Scope.Namespace, "Namespace/desk", "namespace desk", 0L)).isEmpty();
        assertThat(StopWatcher.count(namespace("-1", null, null))).isZero();
        assertThat(StopWatcher.count(namespace("x", null, null))).isZero();
        assertThat(StopWatcher.count(namespace("12", null, null))).isEqualTo(12);
    }

    @Test
    void statusStartsFromWhatThePolicyHasSeenTakesTheCountsWhenStoppedAndKeepsThemOtherwise() {
        var counts = new StopWatcher.StopCounts(4, 1);
        // Seen from the creation stamp (the Namespace's count when the policy was created): a stop between its creation
        // and its first recorded pass (an operator restart in between) stays missed.
        ExecutionPolicyStatus.StopsSeen first = StatusWriterAccess.stopsSeen(null, false, counts, 3L);
        assertThat(first.namespace).isEqualTo(3);
        assertThat(first.cluster).as("the cluster's count is taken as found").isEqualTo(1);
        assertThat(StatusWriterAccess.stopsSeen(null, true, counts, 3L).namespace).as("recorded once it latches").isEqualTo(4);
        assertThat(StatusWriterAccess.stopsSeen(null, false, counts, 4L).namespace).isEqualTo(4);

        ExecutionPolicyStatus.StopsSeen seen = new ExecutionPolicyStatus.StopsSeen();
        seen.namespace = 3L;
        seen.cluster = 1L;
        assertThat(StatusWriterAccess.stopsSeen(seen, false, counts, 3L).namespace)
                .as("a missed stop stays missed until a stopped pass records it").isEqualTo(3);
        assertThat(StatusWriterAccess.stopsSeen(seen, true, counts, 3L).namespace).isEqualTo(4);
        assertThat(StatusWriterAccess.stopsSeen(seen, false, counts, 9L).namespace).as("re-created Namespace").isEqualTo(4);
    }

    /** Status first, then the creation stamp, then nothing seen (the stamp dropped before any status: latch, the safe side). */
    @Test
    void whatAPolicyHasSeenComesFromStatusThenItsCreationStampThenNothing() {
        var policy = new io.marketintel.safety.api.v1alpha1.ExecutionPolicy();
        policy.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName("p")
                .withAnnotations(Map.of(MetadataNames.NAMESPACE_STOPS_AT_CREATION_ANNOTATION, "2")).build());
        ExecutionPolicyStatus.StopsSeen seen = new ExecutionPolicyStatus.StopsSeen();
        seen.namespace = 5L;
        assertThat(StopWatcher.namespaceStopsSeen(seen, policy)).isEqualTo(5);
        assertThat(StopWatcher.namespaceStopsSeen(null, policy)).isEqualTo(2);
        policy.getMetadata().setAnnotations(Map.of());
        assertThat(StopWatcher.namespaceStopsSeen(null, policy)).isZero();
    }
}
