package io.marketintel.safety.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.regex.Pattern;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.marketintel.safety.testing.ControlPlane;
import io.marketintel.safety.testing.TransientReads;
import io.marketintel.safety.testing.OperatorJvm;

/** What the benchmark entry points share: how they exit, their settings, the machine's load. */
final class Bench {
    interface Body {
        void run(Figures figures) throws Exception;
    }

    /** Every setting read through {@link #env}, with the value used: what a benchmark's JSON document records. */
    private static final Map<String, String> SETTINGS = new ConcurrentSkipListMap<>();

    private Bench() {
    }

    /**
     * Runs {@code body} and exits with 0, or 1 after printing what failed. exec:java waits for every non-daemon
     * thread before it returns, and outside a Quarkus application each Kubernetes client of the test classpath
     * (QuarkusHttpClientFactory) starts a Vert.x that nothing closes: hence System.exit.
     * <p>
     * Every figure {@code body} records goes to {@code target/bench/<benchmark>.json} ({@link Figures}): at the end,
     * also when it failed part-way (with the error) or was interrupted (Ctrl-C: from a shutdown hook). Its path goes to
     * stderr, so the text on stdout is what it was.
     */
    static void main(String benchmark, Body body) {
        Figures figures = new Figures(benchmark);
        Thread interrupted = new Thread(() -> write(figures, new InterruptedException("interrupted before the end of the run")),
                benchmark + "-figures");
        Runtime.getRuntime().addShutdownHook(interrupted);
        int status = 0;
        Throwable failure = null;
        try {
            body.run(figures);
        } catch (Throwable e) {
            e.printStackTrace();
            failure = e;
            status = 1;
        }
        write(figures, failure);
        System.exit(status);
    }

    private static void write(Figures figures, Throwable error) {
        try {
            Path file = figures.settings(settings()).write(Figures.DIR, error);
            if (file != null) {
                System.err.println("figures: " + file + (error == null ? "" : " (partial: " + error + ")"));
            }
        } catch (Exception e) {
            System.err.println("figures not written: " + e);
        }
    }

    /** An environment setting, or {@code fallback} when unset or blank; recorded with the value used. */
    static String env(String name, String fallback) {
        String v = System.getenv(name);
        String used = v == null || v.isBlank() ? fallback : v;
        SETTINGS.put(name, used);
        return used;
    }

    /** The settings read so far, by name, with the values used. */
    static Map<String, String> settings() {
        return new TreeMap<>(SETTINGS);
    }

    /**
     * The control plane of a benchmark. CONTROLLER_QPS, when set, raises kube-controller-manager's client rate
     * limit (20 requests/s, burst 30, by default; burst is set to twice the rate): at that default the
     * Deployment and ReplicaSet controllers, not the operator, pace how fast many workloads can roll out.
     */
    static ControlPlane controlPlane(String name) {
        String qps = env("CONTROLLER_QPS", "");
        List<String> flags = qps.isEmpty() ? List.of()
                : List.of("--kube-api-qps=" + qps, "--kube-api-burst=" + 2 * Integer.parseInt(qps));
        TransientReads.install(); // a benchmark's awaits outlast a busy API server as the tests' do
        return ControlPlane.start(Path.of("target", name, "control-plane").toAbsolutePath(), true, flags);
    }

    /** How the control plane's controllers were limited, for a table's header. */
    static String controllerLimits() {
        String qps = env("CONTROLLER_QPS", "");
        String kwok = env("KWOK_POD_PARALLELISM", "");
        return (qps.isEmpty() ? "kube-controller-manager at its default client limit (20 requests/s, burst 30)"
                : "kube-controller-manager client limit raised to " + qps + " requests/s (CONTROLLER_QPS)")
                + (kwok.isEmpty() ? "; kwok plays 4 pod stages at once (its default)"
                        : "; kwok plays " + kwok + " pod stages at once (KWOK_POD_PARALLELISM)");
    }

    /** apiserver_request_total summed by verb and resource (every client: operator, controllers, kwok, bench). */
    static Map<String, Double> requests(KubernetesClient client) {
        Map<String, Double> out = new TreeMap<>();
        Pattern verb = Pattern.compile("verb=\"([^\"]*)\""), resource = Pattern.compile("resource=\"([^\"]*)\""),
                sub = Pattern.compile("subresource=\"([^\"]*)\"");
        client.raw("/metrics").lines().filter(l -> l.startsWith("apiserver_request_total{")).forEach(l -> {
            var v = verb.matcher(l);
            var res = resource.matcher(l);
            var sr = sub.matcher(l);
            String key = (v.find() ? v.group(1) : "?") + " " + (res.find() ? res.group(1) : "?")
                    + (sr.find() && !sr.group(1).isEmpty() ? "/" + sr.group(1) : "");
            out.merge(key, Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)), Double::sum);
        });
        return out;
    }

    /**
     * CPU seconds (user + system) every process of this machine has used so far, summed by command name; the
     * benchmark's own JVM is {@code bench}, any other {@code java} the operator. Linux only (/proc); empty elsewhere.
     */
    static Map<String, Double> cpu() {
        Map<String, Double> out = new TreeMap<>();
        long self = ProcessHandle.current().pid();
        try (var dirs = Files.list(Path.of("/proc"))) {
            dirs.filter(d -> d.getFileName().toString().matches("[0-9]+")).forEach(d -> {
                try {
                    String stat = Files.readString(d.resolve("stat"));
                    int open = stat.indexOf('('), close = stat.lastIndexOf(')');
                    String comm = stat.substring(open + 1, close);
                    String[] f = stat.substring(close + 2).split(" ");
                    // Fields 14 and 15 of stat (utime, stime), counted from the state field (3) after the name.
                    double seconds = (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
                    // A kernel worker's name changes with the work it does (kworker/u8:2-writeback, ...-ext4-rsv-conversion):
                    // counted as one, or a renamed one would count its whole lifetime.
                    String name = comm.equals("java") ? (Long.parseLong(d.getFileName().toString()) == self ? "bench" : "java (operator)")
                            : comm.startsWith("kworker") ? "kworker (kernel, disk writes)" : comm;
                    out.merge(name, seconds, Double::sum);
                } catch (Exception e) {
                    // exited meanwhile, or not readable: not counted
                }
            });
        } catch (Exception e) {
            return Map.of();
        }
        return out;
    }

    /** The {@code top} largest CPU differences between two {@link #cpu} readings over {@code millis}, under {@code title}. */
    static String cpuMix(String title, Map<String, Double> before, Map<String, Double> after, double millis, int top) {
        StringBuilder sb = new StringBuilder(title + ", CPU seconds by process (2 cores give %.1f s in that time):%n"
                .formatted(2 * millis / 1000));
        top(before, after, top).forEach((k, v) -> sb.append("  %7.2f  %s%n".formatted(v, k)));
        sb.append("  %7.2f  all processes%n".formatted(total(before, after)));
        return sb.toString();
    }

    /** The {@code top} largest differences between two {@link #requests} readings, under {@code title}. */
    static String mix(String title, Map<String, Double> before, Map<String, Double> after, int top) {
        StringBuilder sb = new StringBuilder(title + ", API server requests by verb and resource (all clients):\n");
        top(before, after, top).forEach((k, v) -> sb.append("  %7.0f  %s%n".formatted(v, k)));
        return sb.toString();
    }

    /** The {@code top} largest positive differences {@code after - before}, largest first: the rows of {@link #mix}. */
    static Map<String, Double> top(Map<String, Double> before, Map<String, Double> after, int top) {
        Map<String, Double> out = new LinkedHashMap<>();
        after.entrySet().stream().map(e -> Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0.0)))
                .filter(e -> e.getValue() > 0).sorted(Map.Entry.<String, Double> comparingByValue().reversed()).limit(top)
                .forEach(e -> out.put(e.getKey(), e.getValue()));
        return out;
    }

    /** The sum of every positive difference {@code after - before}: the "all processes" row of {@link #cpuMix}. */
    static double total(Map<String, Double> before, Map<String, Double> after) {
        return top(before, after, Integer.MAX_VALUE).values().stream().mapToDouble(Double::doubleValue).sum();
    }

    /**
     * Records what {@link #mix} and {@link #cpuMix} print: the API server's requests ({@code apiserver-requests},
     * count, parameter {@code request}: verb and resource) and the CPU seconds by process ({@code cpu-seconds}, s,
     * parameter {@code process}, with {@code all processes}); each with {@code params}.
     */
    static void recordMix(Figures figures, Map<String, Object> params, Map<String, Double> requestsBefore,
            Map<String, Double> requestsAfter, int requestsTop, Map<String, Double> cpuBefore, Map<String, Double> cpuAfter, int cpuTop) {
        figures.addAll("apiserver-requests", params, "request", top(requestsBefore, requestsAfter, requestsTop), "count");
        figures.addAll("cpu-seconds", params, "process", top(cpuBefore, cpuAfter, cpuTop), "s");
        figures.add("cpu-seconds", Figures.with(params, "process", "all processes"), total(cpuBefore, cpuAfter), "s");
    }

    interface Task {
        void run(int i) throws Exception;
    }

    /** task(0) .. task(n - 1), 16 at a time; the first failure is thrown. */
    static void parallel(int n, Task task) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<?>> all = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int k = i;
                all.add(pool.submit(() -> {
                    task.run(k);
                    return null;
                }));
            }
            for (Future<?> f : all) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
    }

    /**
     * The operator process's JVM options: JVM_OPTS, or what a pod of the chart runs with
     * ({@link OperatorJvm#podOptions}: the chart's {@code jvmOptions} and the image's own options, the heap sized
     * from the chart's 512 MiB limit). JVM_OPTS_APPEND adds options to those (e.g. {@code -XX:+UseCompactObjectHeaders}
     * with OPERATOR_JAVA on JDK 25). NMT=true adds native memory tracking, whose summary ScaleBench prints.
     */
    static List<String> operatorJvm() {
        String given = env("JVM_OPTS", "");
        List<String> jvm = new ArrayList<>(given.isBlank() ? OperatorJvm.podOptions()
                : Arrays.stream(given.trim().split("\\s+")).filter(o -> !o.isBlank()).toList());
        String more = env("JVM_OPTS_APPEND", "");
        Arrays.stream(more.trim().split("\\s+")).filter(o -> !o.isBlank()).forEach(jvm::add);
        if (Boolean.parseBoolean(env("NMT", "false"))) {
            jvm.add("-XX:NativeMemoryTracking=summary");
        }
        return jvm;
    }

    /** What {@code java -version} says of {@code java}, on one line. */
    static String runtime(String java) throws Exception {
        Process p = new ProcessBuilder(java, "-version").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).strip().replaceAll("\\s*\\n\\s*", "; ");
        p.waitFor();
        return out;
    }

    /** The 1, 5 and 15 minute load averages. */
    static String loadAverage() throws Exception {
        String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
        return f[0] + " " + f[1] + " " + f[2];
    }
}
