package io.marketintel.safety.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * bench/all.sh's {@code target/performance-report.json}: the documents every benchmark of one run wrote to
 * {@code target/bench/} ({@link Figures}), merged into one, in the order they started, under the commit, the date and
 * the machine of the merge.
 * <pre>
 *   ./mvnw -q exec:java@performance-report -Dexec.args="target/performance-report.json target/bench/jmh.json ..."
 * </pre>
 */
public final class PerformanceReport {
    /** The merged report: {@code benchmarks} holds each benchmark's document as it wrote it. */
    record Report(String commit, Boolean dirty, String date, Figures.Machine machine, List<Figures.Document> benchmarks) {
    }

    private PerformanceReport() {
    }

    /** {@code OUT.json IN.json...}: writes OUT and prints its path. */
    public static void main(String[] args) throws IOException {
        if (args.length < 1) {
            throw new IllegalArgumentException("usage: PerformanceReport OUT.json [IN.json ...]");
        }
        List<Path> in = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            in.add(Path.of(args[i]));
        }
        Path out = Path.of(args[0]);
        write(out, merge(in));
        System.out.println("figures: " + out + " (" + (args.length - 1) + " benchmark documents)");
    }

    static Report merge(List<Path> documents) throws IOException {
        List<Figures.Document> all = new ArrayList<>();
        for (Path d : documents) {
            all.add(Figures.read(d));
        }
        all.sort(Comparator.comparing(d -> d.startedAt() == null ? "" : d.startedAt()));
        String[] commit = Figures.commit();
        return new Report(commit[0], commit[1] == null ? null : Boolean.valueOf(commit[1]), Instant.now().toString(),
                Figures.machine(null), all);
    }

    static void write(Path out, Report report) throws IOException {
        if (out.getParent() != null) {
            Files.createDirectories(out.getParent());
        }
        Figures.JSON.writeValue(out.toFile(), report);
    }

    /**
     * A report, or one benchmark's document (target/bench/NAME.json) as a report of one: what bench/compare.sh
     * reads.
     */
    static Report read(Path file) throws IOException {
        JsonNode tree = Figures.JSON.readTree(file.toFile());
        if (tree == null || !tree.isObject()) {
            throw new IOException(file + ": not a JSON object");
        }
        if (tree.has("benchmarks")) {
            return Figures.JSON.treeToValue(tree, Report.class);
        }
        if (tree.has("figures")) {
            Figures.Document d = Figures.JSON.treeToValue(tree, Figures.Document.class);
            return new Report(d.commit(), d.dirty(), d.startedAt(), d.machine(), List.of(d));
        }
        throw new IOException(file + ": neither a performance report (benchmarks) nor a benchmark document (figures)");
    }
}
