package io.marketintel.safety.status;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.Condition;

class ConditionsTest {
    static final Instant T0 = Instant.parse("2026-11-26T09:00:00Z");
    static final Instant T1 = Instant.parse("2026-11-26T09:05:00Z");

    @Test
    void addsAMissingCondition() {
        List<Condition> c = Conditions.set(List.of(), "Ready", true, "Observed", "ok", 3, T0);
        assertThat(c).singleElement().satisfies(x -> {
            assertThat(x.getType()).isEqualTo("Ready");
            assertThat(x.getStatus()).isEqualTo("True");
            assertThat(x.getReason()).isEqualTo("Observed");
            assertThat(x.getObservedGeneration()).isEqualTo(3L);
            assertThat(x.getLastTransitionTime()).isEqualTo(T0.toString());
        });
    }

    @Test
    void lastTransitionTimeMovesOnlyWhenTheStatusChanges() {
        List<Condition> c = Conditions.set(List.of(), "Ready", true, "A", "a", 1, T0);
        c = Conditions.set(c, "Ready", true, "B", "b", 2, T1);
        assertThat(c.get(0).getLastTransitionTime()).isEqualTo(T0.toString());
        assertThat(c.get(0).getReason()).isEqualTo("B");
        assertThat(c.get(0).getObservedGeneration()).isEqualTo(2L);

        c = Conditions.set(c, "Ready", false, "C", "c", 2, T1);
        assertThat(c.get(0).getLastTransitionTime()).isEqualTo(T1.toString());
        assertThat(c.get(0).getStatus()).isEqualTo("False");
    }

    @Test
    void keepsOtherConditionsAndTheirOrder() {
        List<Condition> c = Conditions.set(null, "Reconciling", false, "R", "r", 1, T0);
        c = Conditions.set(c, "Ready", true, "Y", "y", 1, T0);
        c = Conditions.set(c, "Reconciling", true, "R2", "r2", 2, T1);
        assertThat(c).extracting(Condition::getType).containsExactly("Reconciling", "Ready");
        assertThat(Conditions.isTrue(c, "Reconciling")).isTrue();
        assertThat(Conditions.isTrue(c, "Stalled")).isFalse();
    }
}
