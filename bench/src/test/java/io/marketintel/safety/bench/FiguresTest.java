package io.marketintel.safety.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

/** A benchmark's JSON document: what it holds, that it reads back as written, and what a failed run leaves. */
class FiguresTest {
    @TempDir
    Path dir;

    @Test
    void aDocumentReadsBackAsItWasWritten() throws Exception {
        Figures f = new Figures("scale", Instant.parse("2026-01-02T03:04:05Z"));
        f.add("all-ready", Figures.params("policies", 1000, "namespaces", 1), 61234.5, "ms")
                .add("rss", Figures.params("policies", 1000, "idle", 60), 212.25, "MiB")
                .none("pods-gone", Figures.params("size", 500, "method", "operator", "stat", "p99"), "ms", "timeout")
                .setting("POLICIES", "1000").context("kubeApiserver", "v1.36.3");

        Figures.Document written = f.document(null);
        assertThat(Figures.JSON.readValue(Figures.JSON.writeValueAsString(written), Figures.Document.class)).isEqualTo(written);

        Path file = f.write(dir, null);

        assertThat(file).isEqualTo(dir.resolve("scale.json"));
        Figures.Document read = Figures.read(file);
        assertThat(read.figures()).isEqualTo(written.figures());
        assertThat(read.benchmark()).isEqualTo("scale");
        assertThat(read.startedAt()).isEqualTo("2026-01-02T03:04:05Z");
        assertThat(read.error()).isNull();
        assertThat(read.settings()).containsEntry("POLICIES", "1000");
        assertThat(read.context()).containsEntry("kubeApiserver", "v1.36.3");
        assertThat(read.figures()).hasSize(3);
        Figures.Figure allReady = read.figures().get(0);
        assertThat(allReady.benchmark()).isEqualTo("scale");
        assertThat(allReady.name()).isEqualTo("all-ready");
        assertThat(allReady.params()).containsExactly(Map.entry("policies", 1000), Map.entry("namespaces", 1));
        assertThat(allReady.value()).isEqualTo(61234.5);
        assertThat(allReady.unit()).isEqualTo("ms");
        assertThat(read.figures().get(2).value()).isNull();
        assertThat(read.figures().get(2).note()).isEqualTo("timeout");
        assertThat(read.machine().cores()).isEqualTo(Runtime.getRuntime().availableProcessors());
    }

    @Test
    void theJsonHasTheDocumentedFields() throws Exception {
        Figures f = new Figures("admission-cost");
        f.add("client-p50", Figures.params("policies", 50, "write", "pod-template"), 3.5, "ms");

        JsonNode json = Figures.JSON.readTree(f.write(dir, null).toFile());

        assertThat(json.fieldNames()).toIterable().contains("benchmark", "commit", "startedAt", "finishedAt", "machine",
                "settings", "context", "figures").doesNotContain("error");
        assertThat(json.get("commit").asText()).isNotBlank();
        assertThat(json.get("machine").fieldNames()).toIterable().contains("cores", "cpu", "memGiB", "loadAverage");
        JsonNode figure = json.get("figures").get(0);
        assertThat(figure.get("benchmark").asText()).isEqualTo("admission-cost");
        assertThat(figure.get("name").asText()).isEqualTo("client-p50");
        assertThat(figure.get("params").get("policies").asInt()).isEqualTo(50);
        assertThat(figure.get("params").get("write").asText()).isEqualTo("pod-template");
        assertThat(figure.get("value").asDouble()).isEqualTo(3.5);
        assertThat(figure.get("unit").asText()).isEqualTo("ms");
        assertThat(figure.has("note")).isFalse();
    }

    @Test
    void aRunThatFailedPartWayKeepsWhatItMeasuredWithTheError() throws Exception {
        Figures f = new Figures("failover");
        f.add("standby-leads", Figures.params("signal", "SIGKILL", "run", 1), 15234, "ms");

        Path file = f.write(dir, new IllegalStateException("a leader", new java.util.concurrent.TimeoutException("2 minutes")));

        Figures.Document read = Figures.read(file);
        assertThat(read.error()).isEqualTo("java.lang.IllegalStateException: a leader; caused by java.util.concurrent.TimeoutException: 2 minutes");
        assertThat(read.figures()).extracting(Figures.Figure::value).containsExactly(15234.0);
    }

    @Test
    void itIsWrittenOnceSoAShutdownHookDoesNotOverwriteTheRunsOwnWrite() throws Exception {
        Figures f = new Figures("stop-latency");
        f.add("pods-gone", Map.of(), 1, "ms");
        assertThat(f.write(dir, null)).isNotNull();
        f.add("pods-gone", Map.of(), 2, "ms");

        assertThat(f.write(dir, new InterruptedException("interrupted"))).isNull();

        Figures.Document read = Figures.read(dir.resolve("stop-latency.json"));
        assertThat(read.error()).isNull();
        assertThat(read.figures()).hasSize(1);
        assertThat(Files.list(dir).map(p -> p.getFileName().toString())).containsExactly("stop-latency.json");
    }

    @Test
    void aValueThatIsNotFiniteIsNullWithANote() throws Exception {
        Figures f = new Figures("scale");
        f.add("idle-reconciles-per-second", Map.of(), 0.0 / 0, "/s").add("idle-cpu-percent", Map.of(), 1.0 / 0, "%");

        Figures.Document read = Figures.read(f.write(dir, null));

        assertThat(read.figures()).extracting(Figures.Figure::value).containsOnlyNulls();
        assertThat(read.figures()).extracting(Figures.Figure::note).containsExactly("not finite: NaN", "not finite: Infinity");
    }

    @Test
    void addAllRecordsOneFigurePerEntryUnderTheGivenParameter() {
        Figures f = new Figures("scale");
        f.addAll("apiserver-requests", Figures.params("phase", "ramp"), "request",
                new java.util.LinkedHashMap<>(Map.of("LIST pods", 12.0)), "count");

        assertThat(f.figures()).singleElement().satisfies(fig -> {
            assertThat(fig.params()).containsExactly(Map.entry("phase", "ramp"), Map.entry("request", "LIST pods"));
            assertThat(fig.value()).isEqualTo(12.0);
        });
    }

    @Test
    void aValueKeepsSixSignificantDigits() {
        assertThat(Figures.round(4.041119333333325)).isEqualTo(4.04112);
        assertThat(Figures.round(61234.56789)).isEqualTo(61234.6);
        assertThat(Figures.round(0.000123456789)).isEqualTo(0.000123457);
        assertThat(Figures.round(15234)).isEqualTo(15234.0);
        assertThat(Figures.round(6090784)).isEqualTo(6090784.0); // bytes: a whole number stays exact
    }

    @Test
    void paramsComeInPairs() {
        assertThat(Figures.params("size", 1, "method", "scale")).containsExactly(Map.entry("size", 1), Map.entry("method", "scale"));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Figures.params("size"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void benchRecordsEverySettingItReadWithTheValueUsed() {
        String name = "BENCH_FIGURES_TEST_UNSET_" + System.nanoTime();
        assertThat(Bench.env(name, "42")).isEqualTo("42");
        assertThat(Bench.settings()).containsEntry(name, "42");
    }

    @Test
    void theMixesPrintedAreTheFiguresRecorded() {
        Map<String, Double> before = Map.of("GET pods", 10.0, "LIST pods", 1.0, "PATCH deployments/scale", 0.0);
        Map<String, Double> after = Map.of("GET pods", 15.0, "LIST pods", 1.0, "PATCH deployments/scale", 40.0, "WATCH pods", 2.0);
        Figures f = new Figures("stop-latency");

        Bench.recordMix(f, Figures.params("run", 1), before, after, 2, Map.of("etcd", 1.0), Map.of("etcd", 3.5, "kwok", 0.5), 1);

        assertThat(Bench.top(before, after, 2)).containsExactly(Map.entry("PATCH deployments/scale", 40.0), Map.entry("GET pods", 5.0));
        assertThat(Bench.mix("t", before, after, 2)).contains("       40  PATCH deployments/scale").contains("        5  GET pods")
                .doesNotContain("WATCH");
        assertThat(f.figures()).extracting(fig -> fig.name() + " " + fig.params() + " " + fig.value()).containsExactly(
                "apiserver-requests {run=1, request=PATCH deployments/scale} 40.0",
                "apiserver-requests {run=1, request=GET pods} 5.0",
                "cpu-seconds {run=1, process=etcd} 2.5",
                "cpu-seconds {run=1, process=all processes} 3.0");
        assertThat(Bench.cpuMix("t", Map.of("etcd", 1.0), Map.of("etcd", 3.5, "kwok", 0.5), 1000, 1))
                .contains("     2.50  etcd").contains("     3.00  all processes").doesNotContain("kwok");
    }

    @Test
    void jmhResultsBecomeFiguresInJmhsUnit() throws Exception {
        JsonNode jmh = Figures.JSON.readTree("""
                [{"jmhVersion": "1.37", "benchmark": "io.marketintel.safety.bench.GuardBenchmarks.riskLimits", "mode": "avgt",
                  "threads": 1, "forks": 1, "jdkVersion": "17.0.12", "jvmArgs": ["-Xmx1g"],
                  "primaryMetric": {"score": 41.25, "scoreError": 1.5, "scoreUnit": "ns/op"},
                  "secondaryMetrics": {"gc.alloc.rate": {"score": 120.0, "scoreError": "NaN", "scoreUnit": "MB/sec"}}},
                 {"jmhVersion": "1.37", "benchmark": "io.marketintel.safety.bench.GuardBenchmarks.decision", "mode": "avgt",
                  "params": {"workloads": "3"},
                  "primaryMetric": {"score": 900.5, "scoreError": "NaN", "scoreUnit": "ns/op"}, "secondaryMetrics": {}}]
                """);
        Figures f = new Figures("jmh");

        JmhResults.record(f, jmh);

        assertThat(f.figures()).extracting(fig -> fig.name() + " " + fig.params() + " " + fig.value() + " " + fig.unit())
                .containsExactly(
                        "GuardBenchmarks.riskLimits {mode=avgt, stat=score} 41.25 ns/op",
                        "GuardBenchmarks.riskLimits {mode=avgt, stat=error} 1.5 ns/op",
                        "GuardBenchmarks.riskLimits:gc.alloc.rate {mode=avgt, stat=score} 120.0 MB/sec",
                        "GuardBenchmarks.riskLimits:gc.alloc.rate {mode=avgt, stat=error} null MB/sec",
                        "GuardBenchmarks.decision {mode=avgt, workloads=3, stat=score} 900.5 ns/op",
                        "GuardBenchmarks.decision {mode=avgt, workloads=3, stat=error} null ns/op");
        assertThat(f.figures().get(3).note()).isEqualTo("JMH gave NaN");
        assertThat(f.document(null).context()).containsEntry("jmhVersion", "1.37").containsEntry("jdkVersion", "17.0.12")
                .containsEntry("jvmArgs", List.of("-Xmx1g"));
    }
}
