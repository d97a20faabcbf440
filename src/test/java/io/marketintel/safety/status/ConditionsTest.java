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

    @Test
    void aShortMessageIsKeptAsItIs() {
        String m = "emergency stop latched (epoch 2); to resume, re-arm: kubectl annotate xp fx -n t safety.marketintel.io/rearm=2";
        assertThat(Conditions.set(List.of(), "Stalled", true, "EmergencyStopped", m, 1, T0).get(0).getMessage()).isEqualTo(m);
    }

    @Test
    void aLongMessageKeepsItsFirstClausesWholeAndSaysHowManyMoreThereAre() {
        String head = "Live refused, staying in DryRun: guards not passing: ready (WorkloadReady, Fail): 1 of 2 ready";
        StringBuilder m = new StringBuilder(head);
        for (int i = 0; i < 300; i++) {
            m.append("; Deployment/worker-").append(i).append(": 0 of 1 ready");
        }
        String readable = Conditions.set(List.of(), "Stalled", true, "GuardsNotPassing", m.toString(), 1, T0).get(0).getMessage();
        assertThat(readable.length()).isLessThanOrEqualTo(Conditions.MESSAGE_MAX);
        assertThat(readable).startsWith(head + "; Deployment/worker-0: 0 of 1 ready; Deployment/worker-1: 0 of 1 ready")
                .containsPattern("; … and [0-9]+ more$");
        int shown = readable.split("; ").length - 1; // the last clause is the "… and N more"
        int more = Integer.parseInt(readable.replaceAll(".*… and ([0-9]+) more$", "$1"));
        assertThat(shown + more).as("every clause is either shown or counted").isEqualTo(301);
    }

    @Test
    void oneHugeClauseIsCutAtAWordWithAnEllipsisAndTheNextClausesStay() {
        String body = "the risk gateway answered " + "no ".repeat(2000);
        String m = "guards not passing: http (Http, Fail): " + body + "; approve with: kubectl annotate xp fx -n t x=y";
        String readable = Conditions.readable(m);
        assertThat(readable).endsWith("no…; approve with: kubectl annotate xp fx -n t x=y");
        assertThat(readable.split("; ")[0].length()).isLessThanOrEqualTo(Conditions.CLAUSE_MAX);
    }
}
