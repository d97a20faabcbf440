package io.marketintel.safety.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.client.KubernetesClientException;

class WritesTest {
    /** A read-modify-write that sends the resourceVersion it read: Fabric8's edit/editStatus/update/replace. */
    private static final Pattern CONFLICTING_WRITE = Pattern.compile(
            "\\.(edit|editStatus)\\(\\s*\\w+\\s*->|\\.(update|replace|createOrReplace)\\(\\s*\\)|\\.updateStatus\\(");

    @Test
    void aConflictIsWrittenAgainUntilItLands() {
        AtomicInteger attempts = new AtomicInteger();
        String result = Writes.retryOnConflict(() -> {
            if (attempts.incrementAndGet() < 4) {
                throw new KubernetesClientException("the object has been modified", 409, null);
            }
            return "written";
        });
        assertThat(result).isEqualTo("written");
        assertThat(attempts).hasValue(4);
    }

    @Test
    void anyOtherFailureIsNotRetried() {
        AtomicInteger attempts = new AtomicInteger();
        assertThatThrownBy(() -> Writes.retryOnConflict(() -> {
            attempts.incrementAndGet();
            throw new KubernetesClientException("forbidden", 403, null);
        })).isInstanceOf(KubernetesClientException.class).hasMessageContaining("forbidden");
        assertThat(attempts).hasValue(1);
    }

    /**
     * Every write of the test harness and the benchmarks to an object a controller also writes goes through
     * {@link Writes} or cannot conflict: a plain Fabric8 edit loses the race with kwok, the controller-manager or
     * the operator on a loaded machine (issue 17: a 409 on the fake node failed CI).
     */
    @Test
    void noTestOrBenchmarkSendsAReadResourceVersionOutsideWrites() throws IOException {
        List<String> offenders = new ArrayList<>();
        List<Path> scanned = new ArrayList<>();
        for (Path root : List.of(Path.of("src", "test", "java"), Path.of("bench"))) {
            try (Stream<Path> files = Files.walk(root)) {
                for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                    scanned.add(file);
                    if (file.getFileName().toString().equals("Writes.java") || file.getFileName().toString().equals("WritesTest.java")) {
                        continue;
                    }
                    List<String> lines = Files.readAllLines(file);
                    for (int i = 0; i < lines.size(); i++) {
                        if (CONFLICTING_WRITE.matcher(lines.get(i)).find()) {
                            offenders.add(file + ":" + (i + 1) + ": " + lines.get(i).trim());
                        }
                    }
                }
            }
        }
        // The benchmarks that write to a cluster (bench/src/test/java) are among what was scanned.
        assertThat(scanned).contains(Path.of("bench", "src", "test", "java", "io", "marketintel", "safety", "bench", "StopLatencyBench.java"),
                Path.of("bench", "src", "test", "java", "io", "marketintel", "safety", "bench", "ScaleBench.java"));
        assertThat(offenders).as("use Writes.edit/editStatus, a merge patch without resourceVersion, or server-side apply")
                .isEmpty();
    }
}
