package io.marketintel.safety.bench;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/**
 * Every figure a benchmark prints, as a structured record beside its text: written to
 * {@code target/bench/<benchmark>.json} at the end of a run, and also when it fails part-way (what was measured so
 * far, with {@code error}). {@code bench/all.sh} merges the documents of one run into
 * {@code target/performance-report.json} ({@link PerformanceReport}); {@code bench/compare.sh} compares two
 * ({@link Compare}). The schema is in bench/README.md.
 */
final class Figures {
    /** Where each benchmark's document goes. */
    static final Path DIR = Path.of("target", "bench");
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /**
     * One figure: {@code value} in {@code unit} (ms, s, MiB, B, count, /s, %, x, ns/op, ...), or null with a
     * {@code note} saying why (a timeout, a division by zero). {@code params} say which figure of the benchmark this
     * is (size=500, method=operator, stat=p50, ...): two reports are compared figure by figure on benchmark, name and
     * params.
     */
    record Figure(String benchmark, String name, Map<String, Object> params, Double value, String unit,
            @JsonInclude(JsonInclude.Include.NON_NULL) String note) {
    }

    /** The machine a run had: {@code loadAverage} the 1, 5 and 15 minute load averages at the start and at the end. */
    record Machine(int cores, String cpu, Double memGiB, String java, String os,
            @JsonInclude(JsonInclude.Include.NON_NULL) Map<String, List<Double>> loadAverage) {
    }

    /** One benchmark's document. {@code error}: set when the benchmark failed part-way, the figures being those measured so far. */
    record Document(String benchmark, String commit, Boolean dirty, String startedAt, String finishedAt, Machine machine,
            Map<String, Object> settings, Map<String, Object> context, List<Figure> figures,
            @JsonInclude(JsonInclude.Include.NON_NULL) String error) {
    }

    private final String benchmark;
    private final Instant startedAt;
    private final List<Double> loadAtStart;
    private final Map<String, Object> settings = new TreeMap<>();
    private final Map<String, Object> context = new LinkedHashMap<>();
    private final List<Figure> figures = new ArrayList<>();
    private boolean written;

    Figures(String benchmark) {
        this(benchmark, Instant.now());
    }

    Figures(String benchmark, Instant startedAt) {
        this.benchmark = benchmark;
        this.startedAt = startedAt;
        this.loadAtStart = loadAverage();
    }

    String benchmark() {
        return benchmark;
    }

    /** Parameters in the order given: {@code params("size", 500, "method", "operator")}. */
    static Map<String, Object> params(Object... keysAndValues) {
        if (keysAndValues.length % 2 != 0) {
            throw new IllegalArgumentException("params come in pairs: " + Arrays.toString(keysAndValues));
        }
        Map<String, Object> p = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            p.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return p;
    }

    /** {@code params} and one more. */
    static Map<String, Object> with(Map<String, Object> params, String key, Object value) {
        Map<String, Object> p = new LinkedHashMap<>(params);
        p.put(key, value);
        return p;
    }

    /**
     * Records a figure, a fraction rounded to 6 significant digits ({@link #round}). A value that is not finite (a NaN or infinity from a division by zero) is recorded as null
     * with a note, never as a number, so that the document stays plain JSON and no benchmark fails on recording.
     */
    synchronized Figures add(String name, Map<String, Object> params, double value, String unit) {
        if (Double.isFinite(value)) {
            figures.add(new Figure(benchmark, name, new LinkedHashMap<>(params), round(value), unit, null));
        } else {
            figures.add(new Figure(benchmark, name, new LinkedHashMap<>(params), null, unit, "not finite: " + value));
        }
        return this;
    }

    /**
     * A fraction to 6 significant digits: more than any benchmark here measures, and 4.04112 where a division gave
     * 4.041119333333325. A whole number (bytes, a count) stays exact.
     */
    static double round(double value) {
        if (value == Math.rint(value)) {
            return value;
        }
        return new BigDecimal(value).round(new MathContext(6, RoundingMode.HALF_EVEN)).doubleValue();
    }

    /** Records a figure that has no value, with why ({@code timeout}: not seen before the deadline). */
    synchronized Figures none(String name, Map<String, Object> params, String unit, String note) {
        figures.add(new Figure(benchmark, name, new LinkedHashMap<>(params), null, unit, note));
        return this;
    }

    /** One figure per entry of {@code values}, the entry's key as parameter {@code key}. */
    Figures addAll(String name, Map<String, Object> params, String key, Map<String, Double> values, String unit) {
        values.forEach((k, v) -> add(name, with(params, key, k), v, unit));
        return this;
    }

    /** A setting the run used (an environment variable's effective value). */
    synchronized Figures setting(String name, Object value) {
        settings.put(name, value);
        return this;
    }

    synchronized Figures settings(Map<String, String> values) {
        settings.putAll(values);
        return this;
    }

    /** Something about the run that is not a figure: a version, the operator's JVM options, a header. */
    synchronized Figures context(String name, Object value) {
        context.put(name, value);
        return this;
    }

    synchronized List<Figure> figures() {
        return List.copyOf(figures);
    }

    /** The document so far; {@code error} null for a run that finished. */
    synchronized Document document(Throwable error) {
        Map<String, List<Double>> load = new LinkedHashMap<>();
        load.put("start", loadAtStart);
        load.put("end", loadAverage());
        String[] commit = commit();
        return new Document(benchmark, commit[0], commit[1] == null ? null : Boolean.valueOf(commit[1]), startedAt.toString(),
                Instant.now().toString(), machine(load), new TreeMap<>(settings), new LinkedHashMap<>(context), List.copyOf(figures),
                error == null ? null : describe(error));
    }

    /**
     * Writes {@code dir/<benchmark>.json}, once: a second call (a shutdown hook after the run's own write) leaves the
     * file as it is. Returns the file, or null if it had been written already.
     */
    synchronized Path write(Path dir, Throwable error) throws IOException {
        if (written) {
            return null;
        }
        written = true;
        Files.createDirectories(dir);
        Path file = dir.resolve(benchmark + ".json");
        Path partial = dir.resolve(benchmark + ".json.tmp");
        JSON.writeValue(partial.toFile(), document(error));
        Files.move(partial, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        return file;
    }

    static Document read(Path file) throws IOException {
        return JSON.readValue(file.toFile(), Document.class);
    }

    static String describe(Throwable error) {
        StringBuilder sb = new StringBuilder(error.toString());
        for (Throwable cause = error.getCause(); cause != null && cause != cause.getCause(); cause = cause.getCause()) {
            sb.append("; caused by ").append(cause);
        }
        return sb.toString();
    }

    // ---------------------------------------------------------------- the machine and the commit

    /** Cores, CPU model, memory and Java of this machine; {@code loadAverage} as given. */
    static Machine machine(Map<String, List<Double>> loadAverage) {
        String cpu = null;
        Double mem = null;
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse(null);
            mem = Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal:"))
                    .findFirst().map(l -> Math.round(Long.parseLong(l.replaceAll("[^0-9]", "")) / 1048576.0 * 10) / 10.0).orElse(null);
        } catch (IOException | RuntimeException e) {
            // not Linux: left null
        }
        return new Machine(Runtime.getRuntime().availableProcessors(), cpu, mem,
                System.getProperty("java.vendor") + " " + System.getProperty("java.version"),
                System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"),
                loadAverage);
    }

    /** The 1, 5 and 15 minute load averages now; null where /proc/loadavg is not there. */
    static List<Double> loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return List.of(Double.parseDouble(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2]));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** The commit checked out ("unknown" outside git) and whether tracked files differ from it ("true"/"false", or null). */
    static String[] commit() {
        String head = git("rev-parse", "HEAD");
        if (head == null || head.isBlank()) {
            return new String[] { "unknown", null };
        }
        String status = git("status", "--porcelain", "--untracked-files=no");
        return new String[] { head.strip(), status == null ? null : String.valueOf(!status.isBlank()) };
    }

    private static String git(String... args) {
        try {
            List<String> command = new ArrayList<>(List.of("git"));
            command.addAll(List.of(args));
            Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return null;
            }
            return p.exitValue() == 0 ? out : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
