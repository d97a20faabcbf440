package io.marketintel.safety.pass;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import io.marketintel.safety.api.v1alpha1.ExecutionMode;

/** kubectl get xp: a stopped system reads as stopped, never as the mode it resumes from (issue 17). */
class EffectiveTest {
    @Test
    void whileStoppedTheEffectiveColumnSaysStoppedWhateverTheModeItResumesFrom() {
        for (ExecutionMode m : ExecutionMode.values()) {
            assertThat(StatusWriter.effective(m, true)).isEqualTo("Stopped");
        }
        assertThat(StatusWriter.effective(null, true)).isEqualTo("Stopped");
    }

    @Test
    void otherwiseItIsTheEffectiveMode() {
        assertThat(StatusWriter.effective(ExecutionMode.LIVE, false)).isEqualTo("Live");
        assertThat(StatusWriter.effective(ExecutionMode.DRY_RUN, false)).isEqualTo("DryRun");
        assertThat(StatusWriter.effective(null, false)).isNull();
    }
}
