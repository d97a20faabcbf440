package io.marketintel.safety.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.marketintel.safety.testing.CrdSync;

/** Fails when k8s/crds no longer matches what the build generates from the Java API types. */
class CrdDriftIT {
    @Test
    void committedCrdsMatchTheBuild() throws Exception {
        Map<String, String> expected = CrdSync.render(CrdSync.GENERATED);
        try (var committed = Files.list(CrdSync.COMMITTED)) {
            assertThat(committed.map(p -> p.getFileName().toString()).sorted().toList())
                    .as("files in k8s/crds (refresh with hack/update-crds.sh)")
                    .containsExactlyElementsOf(expected.keySet().stream().sorted().toList());
        }
        for (var e : expected.entrySet()) {
            assertThat(Files.readString(CrdSync.COMMITTED.resolve(e.getKey())))
                    .as("k8s/crds/%s drifted from the API types: run hack/update-crds.sh and commit", e.getKey())
                    .isEqualTo(e.getValue());
        }
    }
}
