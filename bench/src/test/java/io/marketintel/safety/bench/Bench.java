package io.marketintel.safety.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.marketintel.safety.testing.ControlPlane;
import io.marketintel.safety.testing.TransientReads;
import io.marketintel.safety.testing.OperatorJvm;

/** What the benchmark entry points share: how they exit, their settings, the machine's load. */
final class Bench {
    interface Body {
        void run() throws Exception;
    }

    private Bench() {
    }

    /**
     * Runs {@code body} and exits with 0, or 1 after printing what failed. exec:java waits for every non-daemon
     * thread before it returns, and outside a Quarkus application each Kubernetes client of the test classpath
     * (QuarkusHttpClientFactory) starts a Vert.x that nothing closes: hence System.exit.
     */
    static void main(Body body) {
        int status = 0;
        try {
            body.run();
        } catch (Throwable e) {
            e.printStackTrace();
            status = 1;
        }
        System.exit(status);
    }

    /** An environment setting, or {@code fallback} when unset or blank. */
    static String env(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? fallback : v;
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
        double total = 0;
        var rows = after.entrySet().stream().map(e -> Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0.0)))
                .filter(e -> e.getValue() > 0).sorted(Map.Entry.<String, Double> comparingByValue().reversed()).toList();
        for (var e : rows) {
            total += e.getValue();
        }
        rows.stream().limit(top).forEach(e -> sb.append("  %7.2f  %s%n".formatted(e.getValue(), e.getKey())));
        sb.append("  %7.2f  all processes%n".formatted(total));
        return sb.toString();
    }

    /** The {@code top} largest differences between two {@link #requests} readings, under {@code title}. */
    static String mix(String title, Map<String, Double> before, Map<String, Double> after, int top) {
        StringBuilder sb = new StringBuilder(title + ", API server requests by verb and resource (all clients):\n");
        after.entrySet().stream().map(e -> Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0.0)))
                .filter(e -> e.getValue() > 0).sorted(Map.Entry.<String, Double> comparingByValue().reversed()).limit(top)
                .forEach(e -> sb.append("  %7.0f  %s%n".formatted(e.getValue(), e.getKey())));
        return sb.toString();
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
