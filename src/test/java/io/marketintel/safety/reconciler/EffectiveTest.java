package io.marketintel.safety.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import io.marketintel.safety.api.v1alpha1.ExecutionMode;

/** kubectl get xp: a stopped system reads as stopped, never as the mode it resumes from (issue 17). */
class EffectiveTest {
    @Test
    void whileStoppedTheEffectiveColumnSaysStoppedWhateverTheModeItResumesFrom() {
        for (ExecutionMode m : ExecutionMode.values()) {
            assertThat(ExecutionPolicyReconciler.effective(m, true)).isEqualTo("Stopped");
        }
        assertThat(ExecutionPolicyReconciler.effective(null, true)).isEqualTo("Stopped");
    }

    @Test
    void otherwiseItIsTheEffectiveMode() {
        assertThat(ExecutionPolicyReconciler.effective(ExecutionMode.LIVE, false)).isEqualTo("Live");
        assertThat(ExecutionPolicyReconciler.effective(ExecutionMode.DRY_RUN, false)).isEqualTo("DryRun");
        assertThat(ExecutionPolicyReconciler.effective(null, false)).isNull();
    }
}
