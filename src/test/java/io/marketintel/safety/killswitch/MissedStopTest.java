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
    void statusTakesTheCountsAsFoundFirstAndWhenStoppedAndKeepsThemOtherwise() {
        var counts = new StopWatcher.StopCounts(4, 1);
        ExecutionPolicyStatus.StopsSeen first = StatusWriterAccess.stopsSeen(null, false, counts, null);
        assertThat(first.namespace).isEqualTo(4);
        assertThat(first.cluster).isEqualTo(1);

        ExecutionPolicyStatus.StopsSeen seen = new ExecutionPolicyStatus.StopsSeen();
        seen.namespace = 3L;
        seen.cluster = 1L;
        ExecutionPolicyStatus.StopsSeen kept = StatusWriterAccess.stopsSeen(seen, false, counts, null);
        assertThat(kept.namespace).as("a missed stop stays missed until a stopped pass records it").isEqualTo(3);
        ExecutionPolicyStatus.StopsSeen recorded = StatusWriterAccess.stopsSeen(seen, true, counts, null);
        assertThat(recorded.namespace).isEqualTo(4);

        // A policy that has recorded nothing yet starts from the count stamped at its creation: a stop between its
        // creation and its first recorded pass (an operator restart in between) stays missed.
        assertThat(StatusWriterAccess.stopsSeen(null, false, counts, 3L).namespace).isEqualTo(3);
        assertThat(StatusWriterAccess.stopsSeen(null, true, counts, 3L).namespace).as("recorded once it latches").isEqualTo(4);

        seen.namespace = 9L;
        assertThat(StatusWriterAccess.stopsSeen(seen, false, counts, null).namespace).as("re-created Namespace").isEqualTo(4);
    }
}
