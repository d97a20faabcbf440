package io.marketintel.safety.actuation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.marketintel.safety.api.v1alpha1.MetadataNames;

/** What a namespace- or cluster-wide stop counts as a pod that carries a mode (issue 20). */
class ModeMarksTest {
    static final Set<String> ENV = Set.of("EXECUTION_MODE", "TRADING_MODE");

    @Test
    void aPodCarriesAModeByTheLabelTheAnnotationOrAnEnvEntryInAnyContainer() {
        var plain = new PodSpecBuilder().addNewContainer().withName("c").endContainer().build();
        assertThat(ModeMarks.carriesMode(new ObjectMetaBuilder().build(), plain, ENV)).isFalse();
        assertThat(ModeMarks.carriesMode(new ObjectMetaBuilder().withLabels(Map.of("app", "x")).build(), plain, ENV)).isFalse();
        assertThat(ModeMarks.carriesMode(new ObjectMetaBuilder().withLabels(Map.of(MetadataNames.POLICY_LABEL, "fx")).build(), plain, ENV))
                .isTrue();
        assertThat(ModeMarks.carriesMode(new ObjectMetaBuilder().withAnnotations(Map.of(MetadataNames.MODE_ANNOTATION, "Live")).build(),
                plain, ENV)).isTrue();
        // The value does not matter (Live, a typo, from a ConfigMap): the name does, in any container.
        var sidecar = new PodSpecBuilder().addNewContainer().withName("c").endContainer()
                .addNewInitContainer().withName("native-sidecar").withRestartPolicy("Always")
                .addNewEnv().withName("TRADING_MODE").withNewValueFrom().withNewConfigMapKeyRef("mode", "cfg", false)
                .endValueFrom().endEnv().endInitContainer().build();
        assertThat(ModeMarks.carriesMode(new ObjectMetaBuilder().build(), sidecar, ENV)).isTrue();
        assertThat(ModeMarks.carriesMode(new ObjectMetaBuilder().build(), sidecar, Set.of("EXECUTION_MODE"))).isFalse();
        assertThat(ModeMarks.carriesMode(null, null, ENV)).isFalse();
    }
}
