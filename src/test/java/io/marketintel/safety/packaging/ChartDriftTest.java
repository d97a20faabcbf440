package io.marketintel.safety.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import io.marketintel.safety.testing.Helm;

/**
 * What exists twice stays the same (fix any failure with {@code hack/render-manifests.sh} and commit):
 * <ul>
 * <li>the chart's crds/ is k8s/crds (k8s/crds itself is checked against the API types by CrdDriftIT);</li>
 * <li>the chart's admission policies and user roles are k8s/admission and k8s/rbac/user-roles.yaml, as files and
 * as rendered objects;</li>
 * <li>k8s/operator/operator.yaml and monitoring.yaml are a fresh render of the chart, and together exactly its
 * default render.</li>
 * </ul>
 */
class ChartDriftTest {
    static final String FIX = "run hack/render-manifests.sh and commit";
    static final Path CRDS = Path.of("k8s", "crds");
    static final Path ADMISSION = Path.of("k8s", "admission", "execution-safety-admission.yaml");
    static final Path USER_ROLES = Path.of("k8s", "rbac", "user-roles.yaml");
    static final Path OPERATOR = Path.of("k8s", "operator");

    @Test
    void theChartCrdsAreK8sCrds() throws IOException {
        Path chartCrds = Helm.CHART.resolve("crds");
        assertThat(fileNames(chartCrds)).as("files in %s (%s)", chartCrds, FIX).isEqualTo(fileNames(CRDS));
        for (String name : fileNames(CRDS)) {
            assertThat(Files.readString(chartCrds.resolve(name))).as("%s/%s (%s)", chartCrds, name, FIX)
                    .isEqualTo(Files.readString(CRDS.resolve(name)));
        }
    }

    @Test
    void theChartAdmissionPoliciesAndUserRolesAreK8sOnes() throws IOException {
        Map<Path, Path> copies = Map.of(ADMISSION, Helm.CHART.resolve("files/admission/execution-safety-admission.yaml"),
                USER_ROLES, Helm.CHART.resolve("files/rbac/user-roles.yaml"));
        copies.forEach((original, copy) -> assertThat(read(copy)).as("%s is %s (%s)", copy, original, FIX).isEqualTo(read(original)));

        List<JsonNode> rendered = Helm.objects();
        List<JsonNode> admission = Helm.parse(Files.readString(ADMISSION));
        assertThat(admission).as("objects in %s", ADMISSION).hasSize(43);
        assertThat(rendered).filteredOn(o -> o.path("kind").asText().endsWith("AdmissionPolicy")
                || o.path("kind").asText().endsWith("AdmissionPolicyBinding"))
                .as("rendered admission policies = %s", ADMISSION).containsExactlyInAnyOrderElementsOf(admission);
        List<JsonNode> roles = Helm.parse(Files.readString(USER_ROLES));
        Set<String> roleNames = Set.of("execution-policy-editor", "execution-policy-viewer", "execution-approver");
        assertThat(roles).extracting(ChartTest::name).containsExactlyInAnyOrderElementsOf(roleNames);
        assertThat(rendered).filteredOn(o -> roleNames.contains(ChartTest.name(o)))
                .as("rendered user roles = %s", USER_ROLES).containsExactlyInAnyOrderElementsOf(roles);
    }

    @Test
    void thePlainManifestsAreAFreshRenderOfTheDefaults(@TempDir Path dir) throws Exception {
        ProcessBuilder render = new ProcessBuilder("bash", "hack/render-manifests.sh", "--out", dir.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("render.log").toFile());
        render.environment().put("HELM", Helm.binary().toString());
        Process p = render.start();
        assertThat(p.waitFor(2, TimeUnit.MINUTES)).as("hack/render-manifests.sh finished").isTrue();
        assertThat(p.exitValue()).as("hack/render-manifests.sh --out: %s", Files.readString(dir.resolve("render.log"))).isZero();
        for (String file : List.of("operator.yaml", "monitoring.yaml")) {
            assertThat(Files.readString(OPERATOR.resolve(file))).as("k8s/operator/%s (%s)", file, FIX)
                    .isEqualTo(Files.readString(dir.resolve(file)));
        }

        List<JsonNode> both = new ArrayList<>(Helm.parse(Files.readString(OPERATOR.resolve("operator.yaml"))));
        both.addAll(Helm.parse(Files.readString(OPERATOR.resolve("monitoring.yaml"))));
        assertThat(both).as("operator.yaml + monitoring.yaml = helm template with default values")
                .containsExactlyInAnyOrderElementsOf(Helm.objects());
        assertThat(Helm.parse(Files.readString(OPERATOR.resolve("monitoring.yaml")))).extracting(o -> o.path("kind").asText())
                .containsExactlyInAnyOrder("PrometheusRule", "ConfigMap");
    }

    @Test
    void theNamespaceOfThePlainManifestsEnforcesTheRestrictedProfile() throws IOException {
        JsonNode namespace = Helm.parse(Files.readString(OPERATOR.resolve("namespace.yaml"))).get(0);
        assertThat(namespace.path("kind").asText()).isEqualTo("Namespace");
        assertThat(ChartTest.name(namespace)).isEqualTo(Helm.NAMESPACE);
        assertThat(namespace.path("metadata").path("labels").path("pod-security.kubernetes.io/enforce").asText())
                .isEqualTo("restricted");
    }

    static List<String> fileNames(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".yaml")).sorted().toList();
        }
    }

    static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
