package io.marketintel.safety.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bench/compare.sh on two small reports, and bench/all.sh's merge. */
class CompareTest {
    @TempDir
    Path dir;

    static final String OLD = """
            {"commit": "1111111111111111", "dirty": false, "date": "2026-01-01T00:00:00Z",
             "machine": {"cores": 2, "cpu": "Old CPU", "memGiB": 7.7},
             "benchmarks": [
               {"benchmark": "stop-latency", "commit": "1111111111111111", "startedAt": "2026-01-01T00:00:00Z",
                "settings": {"RUNS": "30", "SIZES": "1 100 500"},
                "figures": [
                  {"benchmark": "stop-latency", "name": "pods-gone", "params": {"size": 500, "workloads": "mixed", "method": "operator", "stat": "p50"}, "value": 5500.0, "unit": "ms"},
                  {"benchmark": "stop-latency", "name": "pods-gone", "params": {"size": 500, "workloads": "mixed", "method": "operator", "stat": "p99"}, "value": 8000.0, "unit": "ms"},
                  {"benchmark": "stop-latency", "name": "pods-gone", "params": {"size": 500, "workloads": "unready", "method": "scale", "stat": "p50"}, "value": null, "unit": "ms", "note": "timeout"},
                  {"benchmark": "stop-latency", "name": "replicas-0", "params": {"size": 1, "workloads": "mixed", "method": "loop", "stat": "p50"}, "value": 120.0, "unit": "ms"}
                ]},
               {"benchmark": "scale", "commit": "1111111111111111", "startedAt": "2026-01-01T01:00:00Z", "settings": {"POLICIES": "1000"},
                "figures": [
                  {"benchmark": "scale", "name": "rss", "params": {"policies": 1000, "namespaces": 1, "idle": 60}, "value": 200.0, "unit": "MiB"},
                  {"benchmark": "scale", "name": "startup-ready", "params": {}, "value": 0.0, "unit": "ms"}
                ]}
             ]}
            """;

    static final String NEW = """
            {"commit": "2222222222222222", "dirty": true, "date": "2026-02-01T00:00:00Z",
             "machine": {"cores": 2, "cpu": "New CPU", "memGiB": 7.7},
             "benchmarks": [
               {"benchmark": "scale", "commit": "2222222222222222", "startedAt": "2026-02-01T01:00:00Z", "settings": {"POLICIES": "1000"},
                "figures": [
                  {"benchmark": "scale", "name": "rss", "params": {"idle": 60, "namespaces": 1, "policies": 1000}, "value": 150.0, "unit": "MiB"},
                  {"benchmark": "scale", "name": "startup-ready", "params": {}, "value": 900.0, "unit": "ms"}
                ]},
               {"benchmark": "stop-latency", "commit": "2222222222222222", "startedAt": "2026-02-01T00:00:00Z",
                "settings": {"RUNS": "3", "SIZES": "1 100 500"},
                "error": "java.lang.IllegalStateException: kubectl failed",
                "figures": [
                  {"benchmark": "stop-latency", "name": "pods-gone", "params": {"size": 500, "workloads": "mixed", "method": "operator", "stat": "p50"}, "value": 4400.0, "unit": "ms"},
                  {"benchmark": "stop-latency", "name": "pods-gone", "params": {"size": 500, "workloads": "unready", "method": "scale", "stat": "p50"}, "value": 61000.0, "unit": "ms"},
                  {"benchmark": "stop-latency", "name": "replicas-0", "params": {"size": 1, "workloads": "mixed", "method": "direct", "stat": "p50"}, "value": 80.0, "unit": "ms"}
                ]}
             ]}
            """;

    private PerformanceReport.Report fixture(String name, String json) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, json);
        return PerformanceReport.read(file);
    }

    @Test
    void everyFigureInBothIsPrintedWithOldNewAndTheRatio() throws Exception {
        String out = Compare.compare("old.json", fixture("old.json", OLD), "new.json", fixture("new.json", NEW));
        List<String> lines = out.lines().toList();

        assertThat(lines.get(0)).startsWith("old: old.json (commit 111111111111, 2026-01-01T00:00:00Z, 2 cores, Old CPU; stop-latency scale)");
        assertThat(lines.get(1)).startsWith("new: new.json (commit 222222222222 with local changes");
        assertThat(lines.get(2)).matches("benchmark +figure +params +old +new +new/old +unit");
        // The new report's order; parameters matched in any order.
        assertThat(lines.get(3)).matches("scale +rss +idle=60 namespaces=1 policies=1000 +200 +150 +0\\.75 +MiB");
        assertThat(lines.get(4)).matches("scale +startup-ready +0 +900 +- +ms");
        assertThat(lines.get(5)).matches("stop-latency +pods-gone +size=500 workloads=mixed method=operator stat=p50 +5500 +4400 +0\\.80 +ms");
        assertThat(lines.get(6)).matches("stop-latency +pods-gone +size=500 workloads=unready method=scale stat=p50 +timeout +61000 +- +ms");
        assertThat(lines.get(7)).isEqualTo("4 figures in both, 2 only in old, 1 only in new");
        assertThat(out).contains("settings of stop-latency differ: RUNS 30 -> 3\n")
                .doesNotContain("settings of scale")
                .contains("new stop-latency failed part-way: java.lang.IllegalStateException: kubectl failed")
                // figures in one report only are counted, not printed
                .doesNotContain("method=loop").doesNotContain("method=direct").doesNotContain("stat=p99");
    }

    @Test
    void aSingleBenchmarkDocumentComparesAsAReportOfOne() throws Exception {
        Figures before = new Figures("admission-cost");
        before.add("vap-mean", Figures.params("policies", 300, "write", "pod-template"), 2.0, "ms");
        Figures after = new Figures("admission-cost");
        after.add("vap-mean", Figures.params("policies", 300, "write", "pod-template"), 0.5, "ms");
        Path a = before.write(dir.resolve("a"), null), b = after.write(dir.resolve("b"), null);

        String out = Compare.compare("a", PerformanceReport.read(a), "b", PerformanceReport.read(b));

        assertThat(out).containsPattern("admission-cost +vap-mean +policies=300 write=pod-template +2 +0\\.500 +0\\.25 +ms")
                .contains("1 figures in both, 0 only in old, 0 only in new");
    }

    @Test
    void allShMergesTheDocumentsOfARunInTheOrderTheyStarted() throws Exception {
        Figures second = new Figures("scale", java.time.Instant.parse("2026-03-01T02:00:00Z"));
        second.add("rss", Figures.params("policies", 5), 100, "MiB");
        Figures first = new Figures("jmh", java.time.Instant.parse("2026-03-01T01:00:00Z"));
        first.add("GuardBenchmarks.riskLimits", Figures.params("mode", "avgt", "stat", "score"), 40, "ns/op");
        Path out = dir.resolve("performance-report.json");

        PerformanceReport.main(new String[] { out.toString(), second.write(dir, null).toString(), first.write(dir, null).toString() });

        PerformanceReport.Report merged = PerformanceReport.read(out);
        assertThat(merged.benchmarks()).extracting(Figures.Document::benchmark).containsExactly("jmh", "scale");
        assertThat(merged.commit()).isNotBlank();
        assertThat(merged.date()).isNotBlank();
        assertThat(merged.machine().cores()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(merged.benchmarks().get(1).figures()).singleElement().satisfies(f -> assertThat(f.value()).isEqualTo(100.0));
        assertThat(Figures.JSON.readTree(out.toFile()).fieldNames()).toIterable()
                .containsExactly("commit", "dirty", "date", "machine", "benchmarks");
        // a report compared with itself: every figure in both, ratio 1
        assertThat(Compare.compare("r", merged, "r", merged)).contains("2 figures in both, 0 only in old, 0 only in new")
                .containsPattern("scale +rss +policies=5 +100 +100 +1\\.00 +MiB");
    }

    @Test
    void aFileThatIsNeitherIsRefused() throws Exception {
        Path file = dir.resolve("x.json");
        Files.writeString(file, "{\"records\": []}");
        assertThatThrownBy(() -> PerformanceReport.read(file)).isInstanceOf(IOException.class).hasMessageContaining("neither");
    }
}
