package io.marketintel.safety.pass;

import static io.marketintel.safety.api.v1alpha1.ExecutionMode.BACKTEST;
import static io.marketintel.safety.api.v1alpha1.ExecutionMode.DRY_RUN;
import static io.marketintel.safety.api.v1alpha1.ExecutionMode.LIVE;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Events read as sentences about this change (issue 17). */
class SentencesTest {

    @Test
    void anAdoptionIsNotATransitionFromNone() {
        assertThat(Sentences.completed(null, DRY_RUN, "Adopting", "bob"))
                .isEqualTo("adopted the targets in DryRun; every target runs in DryRun").doesNotContain("none");
    }

    @Test
    void bringingTheTargetsBackAfterAReArmIsNotATransitionFromAModeToItself() {
        assertThat(Sentences.completed(DRY_RUN, DRY_RUN, "Rearmed", "alice"))
                .isEqualTo("resumed in DryRun after the re-arm by alice; every target runs in DryRun")
                .doesNotContain("from DryRun to DryRun");
        assertThat(Sentences.completed(LIVE, DRY_RUN, "Rearmed", "alice"))
                .isEqualTo("resumed in DryRun after the re-arm by alice (stopped in Live; Live needs its approvals again);"
                        + " every target runs in DryRun");
        assertThat(Sentences.completed(DRY_RUN, DRY_RUN, "Rearmed", null)).startsWith("resumed in DryRun after the re-arm;");
    }

    @Test
    void aRollBackSaysItRolledBack() {
        assertThat(Sentences.completed(LIVE, DRY_RUN, "TransitionTimedOut", null))
                .isEqualTo("rolled back to DryRun: the escalation to Live did not complete in time; every target runs in DryRun");
    }

    @Test
    void anOrdinaryTransitionNamesBothModes() {
        assertThat(Sentences.completed(DRY_RUN, LIVE, "EscalationAllowed", "bob"))
                .isEqualTo("transition from DryRun to Live completed; every target runs in Live");
        assertThat(Sentences.completed(DRY_RUN, BACKTEST, "DeEscalation", null))
                .isEqualTo("transition from DryRun to Backtest completed; every target runs in Backtest");
    }

    @Test
    void aReArmSaysWhereItResumesAndNeverSaysNull() {
        String released = "emergency stop of epoch 2 re-armed by alice";
        assertThat(Sentences.rearmed(released, DRY_RUN, DRY_RUN)).isEqualTo(released + "; resuming in DryRun");
        assertThat(Sentences.rearmed(released, LIVE, DRY_RUN))
                .isEqualTo(released + "; resuming in DryRun (stopped in Live; Live needs its approvals again)");
        assertThat(Sentences.rearmed(released, null, null)).doesNotContain("null")
                .isEqualTo(released + "; it was stopped before its targets were adopted, so they are adopted afresh");
    }
}
