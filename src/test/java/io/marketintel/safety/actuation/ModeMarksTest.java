package io.marketintel.safety.actuation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.MetadataNames;

/**
 * What a namespace- or cluster-wide stop counts as a pod that carries a mode (issue 20), and the mode a pod runs in as
 * the kubelet starts it (issue 21): no second entry, sidecar, ephemeral container, valueFrom or envFrom hides another.
 */
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

    static final String VAR = "EXECUTION_MODE";

    private static ObjectMeta annotated(String mode) {
        return new ObjectMetaBuilder().withAnnotations(Map.of(MetadataNames.MODE_ANNOTATION, mode)).build();
    }

    private static PodSpecBuilder app(String... values) {
        var b = new PodSpecBuilder().addNewContainer().withName("app").endContainer();
        var c = b.editFirstContainer();
        for (String v : values) {
            c = c.addNewEnv().withName(VAR).withValue(v).endEnv();
        }
        return c.endContainer();
    }

    @Test
    void aPodRunsTheAnnotatedModeWhenEveryContainerReadsExactlyIt() {
        assertThat(ModeMarks.modeOf(annotated("DryRun"), app("DryRun").build(), VAR)).contains(ExecutionMode.DRY_RUN);
        // an init container told the same, or told nothing and with no envFrom, does not change it
        assertThat(ModeMarks.modeOf(annotated("DryRun"), app("DryRun").addNewInitContainer().withName("migrate").endInitContainer().build(), VAR))
                .contains(ExecutionMode.DRY_RUN);
        assertThat(ModeMarks.modeOf(annotated("DryRun"), app("DryRun").addNewInitContainer().withName("migrate")
                .addNewEnv().withName(VAR).withValue("DryRun").endEnv().endInitContainer().build(), VAR)).contains(ExecutionMode.DRY_RUN);
        // an app container may take other env from envFrom: its explicit entry wins over it
        assertThat(ModeMarks.modeOf(annotated("Live"), app("Live").editFirstContainer().addNewEnvFrom().withNewConfigMapRef("cfg", false)
                .endEnvFrom().endContainer().build(), VAR)).contains(ExecutionMode.LIVE);
    }

    @Test
    void aSecondEntryASidecarAnEphemeralContainerValueFromOrEnvFromMakeTheModeUnknown() {
        // the kubelet uses the last of duplicate entries: Live behind a first DryRun
        assertThat(ModeMarks.modeOf(annotated("DryRun"), app("DryRun", "Live").build(), VAR)).isEmpty();
        assertThat(ModeMarks.modeOf(annotated("DryRun"), app("DryRun", "DryRun").build(), VAR)).isEmpty();
        // a native sidecar (an init container with restartPolicy Always) told Live
        assertThat(ModeMarks.modeOf(annotated("DryRun"), app("DryRun").addNewInitContainer().withName("sidecar").withRestartPolicy("Always")
                .addNewEnv().withName(VAR).withValue("Live").endEnv().endInitContainer().build(), VAR)).isEmpty();
        // an init container that may read the mode from a ConfigMap
        assertThat(ModeMarks.modeOf(annotated("DryRun"), app("DryRun").addNewInitContainer().withName("sidecar")
                .addNewEnvFrom().withNewConfigMapRef("cfg", false).endEnvFrom().endInitContainer().build(), VAR)).isEmpty();
        // an ephemeral container told Live, or reading env from a Secret
        assertThat(ModeMarks.modeOf(annotated("DryRun"), app("DryRun").addNewEphemeralContainer().withName("debug")
                .addNewEnv().withName(VAR).withValue("Live").endEnv().endEphemeralContainer().build(), VAR)).isEmpty();
        assertThat(ModeMarks.modeOf(annotated("DryRun"), app("DryRun").addNewEphemeralContainer().withName("debug")
                .addNewEnvFrom().withNewSecretRef("keys", false).endEnvFrom().endEphemeralContainer().build(), VAR)).isEmpty();
        assertThat(ModeMarks.modeOf(annotated("DryRun"), app("DryRun").addNewEphemeralContainer().withName("debug").endEphemeralContainer()
                .build(), VAR)).contains(ExecutionMode.DRY_RUN);
        // valueFrom, even beside a literal; a $(VAR) reference; an app container told nothing
        assertThat(ModeMarks.modeOf(annotated("DryRun"), app("DryRun").editFirstContainer().addNewEnv().withName(VAR).withNewValueFrom()
                .withNewConfigMapKeyRef("mode", "cfg", false).endValueFrom().endEnv().endContainer().build(), VAR)).isEmpty();
        assertThat(ModeMarks.modeOf(annotated("DryRun"), app("$(REAL_MODE)").build(), VAR)).isEmpty();
        assertThat(ModeMarks.modeOf(annotated("DryRun"), app().build(), VAR)).isEmpty();
        assertThat(ModeMarks.modeOf(annotated("DryRun"), app("Live").build(), VAR)).isEmpty();
    }

    @Test
    void anEphemeralContainerCarriesAMode() {
        var debug = new PodSpecBuilder().addNewContainer().withName("c").endContainer().addNewEphemeralContainer().withName("debug")
                .addNewEnv().withName(VAR).withValue("Live").endEnv().endEphemeralContainer().build();
        assertThat(ModeMarks.carriesMode(new ObjectMetaBuilder().build(), debug, ENV)).isTrue();
    }
}
