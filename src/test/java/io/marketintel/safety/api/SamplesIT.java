package io.marketintel.safety.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import io.marketintel.safety.testing.ControlPlane;
import io.marketintel.safety.testing.Kubectl;
import io.marketintel.safety.testing.Namespaces;

/** Every manifest in k8s/samples is accepted by the real API server, so the docs never lie. */
class SamplesIT {
    static Stream<Path> samples() throws Exception {
        return Files.list(Path.of("k8s", "samples")).filter(p -> p.toString().endsWith(".yaml")).sorted();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("samples")
    void sampleIsAccepted(Path sample) {
        ControlPlane plane = ControlPlane.shared();
        String ns;
        try (var client = plane.client()) {
            ns = Namespaces.create(client, "samples");
        }
        Kubectl.Result result = new Kubectl(plane).run("apply", "--dry-run=server", "-n", ns, "-f", sample.toString());
        assertThat(result.exitCode()).as(result.output()).isZero();
    }
}
