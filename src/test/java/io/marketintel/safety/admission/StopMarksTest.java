package io.marketintel.safety.admission;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** The pure part of the stop marks admission reads: when a policy is labelled, when the label goes, how far the count rises. */
class StopMarksTest {

    @Test
    void aLatchedStopIsLabelledBeforeStatusRecordsItAndTheLabelGoesOnlyOnceReleasedAndUnannotated() {
        ExecutionPolicy plain = policy(Map.of(), Map.of(), null, null);
        assertThat(StopMarks.labelDue(plain, latched(true))).isTrue();
        assertThat(StopMarks.labelDue(plain, latched(false))).isFalse();
        assertThat(StopMarks.labelDue(plain, new ExecutionPolicyStatus())).isFalse();
        assertThat(StopMarks.labelDue(plain, null)).isFalse();

        ExecutionPolicy labelled = policy(Map.of(MetadataNames.STOPPED_LABEL, "true"), Map.of(), null, null);
        assertThat(StopMarks.labelDue(labelled, latched(true))).as("already labelled: no write").isFalse();
        assertThat(StopMarks.labelSpare(labelled, latched(true))).isFalse();
        assertThat(StopMarks.labelSpare(labelled, latched(false))).isTrue();
        assertThat(StopMarks.labelSpare(labelled, null)).isTrue();
        assertThat(StopMarks.labelSpare(plain, latched(false))).as("nothing to remove").isFalse();

        // While the stop annotation is there the label stays (admission would put it back), latched or not yet.
        ExecutionPolicy annotated = policy(Map.of(MetadataNames.STOPPED_LABEL, "true"),
                Map.of(MetadataNames.EMERGENCY_STOP_ANNOTATION, "venue halted"), null, null);
        assertThat(StopMarks.labelSpare(annotated, latched(false))).isFalse();
        // Another value is not the label: due again.
        assertThat(StopMarks.labelDue(policy(Map.of(MetadataNames.STOPPED_LABEL, "yes"), Map.of(), null, null), latched(true))).isTrue();
    }

    @Test
    void theRecordedCountRisesToWhatEveryPolicyHasSeenAndNeverPastTheNamespaceCount() {
        ExecutionPolicy sawTwo = policy(Map.of(), Map.of(), 2L, null);
        ExecutionPolicy sawOne = policy(Map.of(), Map.of(), 1L, null);
        ExecutionPolicy createdAtTwo = policy(Map.of(), Map.of(), null, "2");
        ExecutionPolicy neverSeen = policy(Map.of(), Map.of(), null, null);

        assertThat(StopMarks.raise(2, 0, List.of(sawTwo, createdAtTwo).stream())).isEqualTo(OptionalLong.of(2));
        assertThat(StopMarks.raise(2, 0, List.of(sawTwo, sawOne).stream())).as("one policy is behind").isEqualTo(OptionalLong.of(1));
        assertThat(StopMarks.raise(2, 1, List.of(sawTwo, sawOne).stream())).as("already there").isEmpty();
        assertThat(StopMarks.raise(2, 0, List.of(sawTwo, neverSeen).stream())).as("no stamp, no status: nothing seen").isEmpty();
        assertThat(StopMarks.raise(2, 2, List.of(sawOne).stream())).as("never lowered").isEmpty();
        assertThat(StopMarks.raise(1, 0, List.of(sawTwo).stream())).as("at most the count").isEqualTo(OptionalLong.of(1));
        assertThat(StopMarks.raise(3, 0, List.<ExecutionPolicy> of().stream())).as("no policy: every stop recorded")
                .isEqualTo(OptionalLong.of(3));
        assertThat(StopMarks.raise(0, 0, List.of(sawTwo).stream())).isEmpty();
    }

    @Test
    void aRecordedCountThatIsNotACountIsNone() {
        assertThat(StopMarks.recorded(new NamespaceBuilder().withNewMetadata().withName("n").endMetadata().build())).isZero();
        assertThat(StopMarks.recorded(new NamespaceBuilder().withNewMetadata().withName("n")
                .addToAnnotations(MetadataNames.EMERGENCY_STOPS_RECORDED_ANNOTATION, "-1").endMetadata().build())).isZero();
        assertThat(StopMarks.recorded(new NamespaceBuilder().withNewMetadata().withName("n")
                .addToAnnotations(MetadataNames.EMERGENCY_STOPS_RECORDED_ANNOTATION, "7").endMetadata().build())).isEqualTo(7);
    }

    /**
     * The count admission compares with never says "recorded" for a stop some policy has not seen: whatever the policies
     * have seen and whatever was recorded before, a raise goes to at most the lowest seen and at most the Namespace's
     * count, and only upwards.
     */
    @Property
    void aRaiseNeverPassesAPolicyThatHasNotSeenTheStop(@ForAll @IntRange(max = 20) int count, @ForAll @IntRange(max = 20) int recorded,
            @ForAll("seen") @Size(max = 6) List<Integer> seen) {
        List<ExecutionPolicy> policies = seen.stream().map(s -> policy(Map.of(), Map.of(), s.longValue(), null)).toList();
        OptionalLong to = StopMarks.raise(count, recorded, policies.stream());
        long lowest = seen.stream().mapToLong(Integer::longValue).min().orElse(Long.MAX_VALUE);
        if (to.isPresent()) {
            assertThat(to.getAsLong()).isGreaterThan(recorded).isLessThanOrEqualTo(count).isLessThanOrEqualTo(lowest);
        } else {
            assertThat(Math.min(count, lowest)).isLessThanOrEqualTo(recorded);
        }
    }

    @Provide
    Arbitrary<List<Integer>> seen() {
        return Arbitraries.integers().between(0, 20).list();
    }

    private static ExecutionPolicyStatus latched(boolean active) {
        var status = new ExecutionPolicyStatus();
        status.emergencyStop = new ExecutionPolicyStatus.EmergencyStop();
        status.emergencyStop.active = active;
        return status;
    }

    private static ExecutionPolicy policy(Map<String, String> labels, Map<String, String> annotations, Long seenInNamespace,
            String stampAtCreation) {
        var p = new ExecutionPolicy();
        var meta = new ObjectMetaBuilder().withName("momentum").withNamespace("desk").withLabels(labels).withAnnotations(annotations);
        if (stampAtCreation != null) {
            meta.addToAnnotations(MetadataNames.NAMESPACE_STOPS_AT_CREATION_ANNOTATION, stampAtCreation);
        }
        p.setMetadata(meta.build());
        if (seenInNamespace != null) {
            var status = new ExecutionPolicyStatus();
            status.stopsSeen = new ExecutionPolicyStatus.StopsSeen();
            status.stopsSeen.namespace = seenInNamespace;
            p.setStatus(status);
        }
        return p;
    }
}
