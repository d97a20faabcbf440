package io.marketintel.safety.bench;

import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.status.Conditions;
import io.marketintel.safety.testing.ControlPlane;
import io.marketintel.safety.testing.Namespaces;
import io.marketintel.safety.testing.OperatorProcess;
import io.marketintel.safety.testing.TradingSystem;
import io.marketintel.safety.testing.Writes;

/**
 * bench/scale.sh: throughput and footprint of one operator replica holding many policies. Prints figures,
 * asserts nothing. Settings from the environment: POLICIES (1000), NAMESPACES (1: the policies spread over that many),
 * IDLE seconds (60), JVM_OPTS and NMT (see
 * {@link Bench#operatorJvm}), CONTROLLER_QPS (see {@link Bench#controlPlane}), OPERATOR_JAVA (the java binary that runs
 * the operator, {@link OperatorProcess#java}).
 * <ol>
 * <li>start-up: the packaged operator from process start to /q/health/ready = 200, with no policy;</li>
 * <li>throughput: POLICIES Deployments of one replica, then POLICIES DryRun policies (one Deployment each) created
 * 16 at a time; time from the first create until every policy is Ready in DryRun; reconciles/s from the SDK's
 * reconciliations_started_total over that time;</li>
 * <li>footprint: after IDLE seconds with every policy Ready, the process's resident set (VmRSS, VmHWM) and heap
 * (jvm_memory_used_bytes{area="heap"}), and the heap again after a full GC (jcmd GC.run): what is live;</li>
 * <li>restart: the operator killed and started again with every policy in place: time to ready, and until it has
 * reconciled every policy once.</li>
 * </ol>
 */
public final class ScaleBench {
    static final Duration SETUP = Duration.ofMinutes(30);
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    public static void main(String[] args) {
        Bench.main("scale", ScaleBench::run);
    }

    static void run(Figures f) throws Exception {
        int n = Integer.parseInt(Bench.env("POLICIES", "1000"));
        int idle = Integer.parseInt(Bench.env("IDLE", "60"));
        // Policies spread over this many namespaces (round robin): one, as before, by default. Several admission policies
        // cost the API server an evaluation per policy of the write's namespace (docs/performance.md), and a pod LIST
        // filters the namespace's pods: a desk per namespace is what most installations look like.
        int spread = Math.max(1, Integer.parseInt(Bench.env("NAMESPACES", "1")));
        List<String> jvm = Bench.operatorJvm();
        String load = Bench.loadAverage();
        ControlPlane plane = Bench.controlPlane("scale-bench");
        OperatorProcess operator = null;
        StringBuilder out = new StringBuilder();
        try (KubernetesClient client = plane.client()) {
            podCapacity(client, n + 100);
            List<String> namespaces = new java.util.ArrayList<>();
            for (int k = 0; k < spread; k++) {
                namespaces.add(Namespaces.create(client, "scale"));
            }
            String ns = namespaces.get(0); // the Lease's, and the first of the policies'
            String watched = String.join(",", namespaces);
            // The figures with policies in place carry how many and over how many namespaces: only like compares with like.
            Map<String, Object> at = Figures.params("policies", n, "namespaces", spread);
            f.context("kubeApiserver", plane.serverVersion()).context("controllerLimits", Bench.controllerLimits())
                    .context("operatorJava", OperatorProcess.java()).context("operatorJvmOptions", String.join(" ", jvm))
                    .context("operatorRuntime", Bench.runtime(OperatorProcess.java()));
            out.append("""
                    Scale and footprint: %d policies, one Deployment (1 replica, 2 containers) each, %s
                    machine: nproc %d, Java %s %s, kube-apiserver %s (loopback, kwok node)
                    cluster: %s
                    operator: %s %s -jar target/quarkus-app/quarkus-run.jar (one replica, leader election on)
                    operator runtime: %s
                    """.formatted(n, spread == 1 ? "one namespace" : spread + " namespaces (NAMESPACES)", Runtime.getRuntime().availableProcessors(), System.getProperty("java.vendor"),
                    System.getProperty("java.version"), plane.serverVersion(), Bench.controllerLimits(), OperatorProcess.java(),
                    String.join(" ", jvm), Bench.runtime(OperatorProcess.java())));

            long started = System.nanoTime();
            operator = OperatorProcess.startWatching(plane, ns, watched, jvm);
            int port = operator.awaitReady(Duration.ofMinutes(3));
            double startup = ms(started);
            out.append("start-up to ready, no policy:            %8.0f ms%n".formatted(startup));
            f.add("startup-ready", Map.of(), startup, "ms");

            progress("creating %d deployments", n);
            Bench.parallel(n, i -> TradingSystem.deployment(client, namespaces.get(i % spread), "d" + i, "s" + i, 1));
            try (SharedIndexInformer<ExecutionPolicy> xp = client.resources(ExecutionPolicy.class).inAnyNamespace()
                    .withLabel(OperatorProcess.LABEL, "process").inform()) {
                double before = metric(port, "reconciliations_started_total");
                Map<String, Double> cpuBefore = cpuByProcess(operator.pid());
                Map<String, Double> requestsBefore = Bench.requests(client);
                progress("creating %d policies", n);
                long t0 = System.nanoTime();
                createPolicies(client, n, namespaces);
                double created = ms(t0);
                await("every policy Ready in DryRun").atMost(SETUP).pollInterval(Duration.ofMillis(200))
                        .until(() -> ready(xp) == n);
                double allReady = ms(t0);
                double reconciles = metric(port, "reconciliations_started_total") - before;
                Map<String, Double> cpuAfter = cpuByProcess(operator.pid());
                Map<String, Double> requestsAfter = Bench.requests(client);
                String requests = Bench.mix("from first create to all Ready", requestsBefore, requestsAfter, 20);
                out.append("created %d policies (16 writers):       %8.0f ms%n".formatted(n, created));
                out.append("first create -> all %d Ready (DryRun):  %8.0f ms   (%.1f policies/s)%n".formatted(n, allReady,
                        n / (allReady / 1000)));
                out.append("reconciles in that time:                 %8.0f      (%.1f/s, %.1f per policy)%n".formatted(reconciles,
                        reconciles / (allReady / 1000), reconciles / n));
                out.append("CPU seconds in that time, by process:   ");
                cpuAfter.forEach((process, seconds) -> out.append(" %s %.1f".formatted(process,
                        seconds - cpuBefore.getOrDefault(process, 0.0))));
                out.append("  (of %.0f available)%n".formatted(Runtime.getRuntime().availableProcessors() * allReady / 1000));
                out.append(requests);
                f.add("policies-created", at, created, "ms").add("all-ready", at, allReady, "ms")
                        .add("policies-per-second", at, n / (allReady / 1000), "/s").add("reconciles", at, reconciles, "count")
                        .add("reconciles-per-second", at, reconciles / (allReady / 1000), "/s")
                        .add("reconciles-per-policy", at, reconciles / n, "count");
                cpuAfter.forEach((process, seconds) -> f.add("cpu-seconds", Figures.with(Figures.with(at, "phase", "ramp"), "process", process),
                        seconds - cpuBefore.getOrDefault(process, 0.0), "s"));
                f.add("cpu-seconds-available", Figures.with(at, "phase", "ramp"),
                        Runtime.getRuntime().availableProcessors() * allReady / 1000, "s");
                f.addAll("apiserver-requests", Figures.with(at, "phase", "ramp"), "request", Bench.top(requestsBefore, requestsAfter, 20), "count");

                progress("idle for %d s with every policy Ready", idle);
                long pid = operator.pid();
                double idleReconciles = metric(port, "reconciliations_started_total");
                double idleCpu = cpuSeconds(pid);
                Thread.sleep(idle * 1000L); // a benchmark, not a test: "idle for a minute" is the measurement
                double idleReconcilesNow = metric(port, "reconciliations_started_total") - idleReconciles;
                double idleCpuNow = cpuSeconds(pid) - idleCpu;
                out.append("idle %d s: %.0f reconciles (%.2f/s), %.1f s of CPU (%.0f%% of one core)%n".formatted(idle,
                        idleReconcilesNow, idleReconcilesNow / idle, idleCpuNow, 100 * idleCpuNow / idle));
                Map<String, Object> idleAt = Figures.with(at, "idle", idle);
                f.add("idle-reconciles", idleAt, idleReconcilesNow, "count").add("idle-reconciles-per-second", idleAt, idleReconcilesNow / idle, "/s")
                        .add("idle-cpu-seconds", idleAt, idleCpuNow, "s").add("idle-cpu-percent", idleAt, 100 * idleCpuNow / idle, "% of one core");
                String status = Files.readString(Path.of("/proc", String.valueOf(pid), "status"));
                out.append("after %d s idle: RSS %s, peak RSS %s%n".formatted(idle, field(status, "VmRSS"), field(status, "VmHWM")));
                addKiB(f, "rss", idleAt, field(status, "VmRSS"));
                addKiB(f, "peak-rss", idleAt, field(status, "VmHWM"));
                double heapUsed = metric(port, "jvm_memory_used_bytes{area=\"heap\"") / 1048576;
                double heapCommitted = metric(port, "jvm_memory_committed_bytes{area=\"heap\"") / 1048576;
                double heapMax = metric(port, "jvm_memory_max_bytes{area=\"heap\"") / 1048576;
                double nonHeapUsed = metric(port, "jvm_memory_used_bytes{area=\"nonheap\"") / 1048576;
                out.append("  heap used %.0f MiB (committed %.0f MiB, max %.0f MiB); non-heap used %.0f MiB%n".formatted(
                        heapUsed, heapCommitted, heapMax, nonHeapUsed));
                f.add("heap-used", idleAt, heapUsed, "MiB").add("heap-committed", idleAt, heapCommitted, "MiB")
                        .add("heap-max", idleAt, heapMax, "MiB").add("non-heap-used", idleAt, nonHeapUsed, "MiB");
                jcmd(pid, "GC.run");
                double live = metric(port, "jvm_memory_used_bytes{area=\"heap\"") / 1048576;
                double threads = metric(port, "jvm_threads_live_threads");
                out.append("  heap used after a full GC (live data): %.0f MiB; threads %.0f%n".formatted(live, threads));
                f.add("heap-live-after-gc", idleAt, live, "MiB").add("threads", idleAt, threads, "count");
                String vmFlags = flags(jcmd(pid, "VM.flags"));
                out.append("  JVM flags: ").append(vmFlags).append('\n');
                f.context("operatorJvmFlags", vmFlags);
                if (jvm.contains("-XX:NativeMemoryTracking=summary")) {
                    out.append("  native memory (jcmd VM.native_memory summary), committed by category:\n");
                    jcmd(pid, "VM.native_memory summary").lines().filter(l -> l.matches("(Total|-\\s+\\S.*)\\(reserved=.*"))
                            .forEach(l -> {
                                out.append("    ").append(l.replaceAll("\\s+", " ").strip()).append('\n');
                                nativeCommitted(f, idleAt, l);
                            });
                }
                out.append("  live heap by class (jcmd GC.class_histogram, top 12):\n");
                jcmd(pid, "GC.class_histogram").lines().filter(l -> l.matches("\\s*[0-9]+:.*")).limit(12)
                        .forEach(l -> {
                            out.append("   ").append(l).append('\n');
                            liveClass(f, idleAt, l);
                        });

                progress("restart with %d policies", n);
                // SIGTERM, as Kubernetes stops a pod: shutdown hooks run, so a flight recording asked for in
                // JVM_OPTS (-XX:StartFlightRecording=...,dumponexit=true) is written.
                operator.terminate();
                long r0 = System.nanoTime();
                operator = OperatorProcess.startWatching(plane, ns, watched, jvm);
                int port2 = operator.awaitReady(Duration.ofMinutes(3));
                double restartReady = ms(r0);
                await("every policy reconciled once after the restart").atMost(SETUP).pollInterval(Duration.ofMillis(200))
                        .until(() -> metric(port2, "reconciliations_success_total") >= n);
                double restartAll = ms(r0);
                out.append("restart with %d policies: ready %.0f ms, every policy reconciled once %.0f ms%n".formatted(n,
                        restartReady, restartAll));
                f.add("restart-ready", at, restartReady, "ms").add("restart-all-reconciled", at, restartAll, "ms");
            }
            out.append("operator log: ").append(operator.log()).append('\n');
            print(out, load, "scale-bench.txt");
        } finally {
            if (operator != null) {
                operator.close();
            }
            plane.close();
        }
    }

    /** The fake node takes {@code pods} pods (kwok's default is 110). */
    static void podCapacity(KubernetesClient client, int pods) {
        Writes.editStatus(client.nodes().withName(ControlPlane.FAKE_NODE), node -> {
            node.getStatus().getCapacity().put("pods", new Quantity(String.valueOf(pods)));
            node.getStatus().getAllocatable().put("pods", new Quantity(String.valueOf(pods)));
            return node;
        });
    }

    /** Policies p0 .. p(n-1), DryRun, for the operator process, each naming Deployment d(i), round robin over namespaces. */
    static void createPolicies(KubernetesClient client, int n, List<String> namespaces) throws Exception {
        Bench.parallel(n, i -> client.resources(ExecutionPolicy.class).inNamespace(namespaces.get(i % namespaces.size()))
                .resource(client.getKubernetesSerialization().unmarshal("""
                        apiVersion: safety.marketintel.io/v1alpha1
                        kind: ExecutionPolicy
                        metadata: {name: p%d, labels: {%s: process}}
                        spec:
                          mode: DryRun
                          workloads: {refs: [{kind: Deployment, name: d%d}]}
                        """.formatted(i, OperatorProcess.LABEL, i), ExecutionPolicy.class)).create());
    }

    /** The load averages at start and now appended, the table printed and written to target/{@code file}. */
    static void print(StringBuilder out, String load, String file) throws Exception {
        out.append("load average (1/5/15 min) at start: ").append(load).append(", at end: ").append(Bench.loadAverage()).append('\n');
        System.out.println();
        System.out.print(out);
        Files.writeString(Path.of("target", file), out);
    }

    static long ready(SharedIndexInformer<ExecutionPolicy> xp) {
        return xp.getStore().list().stream().filter(p -> p.getStatus() != null && p.getStatus().mode == ExecutionMode.DRY_RUN
                && Conditions.isTrue(p.getStatus().conditions, Conditions.READY)).count();
    }

    /** The sum of every series of a metric (a name, or a name and the start of its labels) in /q/metrics. */
    static double metric(int port, String prefix) throws Exception {
        String body = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/q/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        return body.lines().filter(l -> l.startsWith(prefix) && (l.charAt(prefix.length()) == ' ' || l.charAt(prefix.length()) == '{'
                || prefix.contains("{"))).mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    static String jcmd(long pid, String command) throws Exception {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        Process p = new ProcessBuilder(jcmd.toString(), String.valueOf(pid), command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        return out;
    }

    static String flags(String vmFlags) {
        return Arrays.stream(vmFlags.split("\\s+")).filter(f -> f.matches("-XX:[+-]?(MaxHeapSize|InitialHeapSize|Use\\w+GC)(=.*)?"))
                .reduce((a, b) -> a + " " + b).orElse(vmFlags.strip());
    }

    /** User + system CPU time of a process, from /proc/PID/stat (clock ticks of 1/100 s, the Linux default). */
    static double cpuSeconds(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
    }

    /**
     * CPU seconds used so far by the operator, this benchmark's JVM and each control-plane binary: who is busy
     * while the policies roll out, on a machine they all share.
     */
    static Map<String, Double> cpuByProcess(long operatorPid) throws Exception {
        Map<String, Double> cpu = new java.util.LinkedHashMap<>();
        cpu.put("operator", cpuSeconds(operatorPid));
        cpu.put("bench", cpuSeconds(ProcessHandle.current().pid()));
        List<String> binaries = List.of("kube-apiserver", "etcd", "kube-controller-manager", "kube-scheduler", "kwok");
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path proc : procs.filter(p -> p.getFileName().toString().matches("[0-9]+")).toList()) {
                try {
                    String stat = Files.readString(proc.resolve("stat"));
                    String comm = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                    // comm is cut at 15 characters: kube-controller
                    binaries.stream().filter(b -> b.startsWith(comm) && comm.length() >= Math.min(b.length(), 15)).findFirst()
                            .ifPresent(b -> {
                                try {
                                    cpu.merge(b, cpuSeconds(Long.parseLong(proc.getFileName().toString())), Double::sum);
                                } catch (Exception gone) {
                                    // exited meanwhile
                                }
                            });
                } catch (java.io.IOException gone) {
                    // exited meanwhile
                }
            }
        }
        return cpu;
    }

    /** A /proc/PID/status size ("123456 kB") as MiB; nothing when it is not one. */
    static void addKiB(Figures f, String name, Map<String, Object> params, String kB) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("([0-9]+)\\s*kB").matcher(kB);
        if (m.matches()) {
            f.add(name, params, Long.parseLong(m.group(1)) / 1024.0, "MiB");
        }
    }

    /** A line of jcmd VM.native_memory summary: its committed size, MiB, parameter {@code category} (Total, Java Heap, ...). */
    static void nativeCommitted(Figures f, Map<String, Object> params, String line) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^\\s*(?:-\\s+)?([A-Za-z][^(:]*?):?\\s*\\(?reserved=[0-9]+KB, committed=([0-9]+)KB.*")
                .matcher(line);
        if (m.matches()) {
            f.add("native-committed", Figures.with(params, "category", m.group(1).strip()),
                    Long.parseLong(m.group(2)) / 1024.0, "MiB");
        }
    }

    /** A line of jcmd GC.class_histogram ("  1:  12345  678901  java.lang.String"): bytes and instances of the class. */
    static void liveClass(Figures f, Map<String, Object> params, String line) {
        String[] c = line.strip().split("\\s+");
        if (c.length >= 4) {
            Map<String, Object> p = Figures.with(params, "class", c[3]);
            f.add("live-heap-bytes", p, Double.parseDouble(c[2]), "B").add("live-heap-instances", p, Double.parseDouble(c[1]), "count");
        }
    }

    static String field(String procStatus, String name) {
        return procStatus.lines().filter(l -> l.startsWith(name + ":")).map(l -> l.substring(name.length() + 1).strip())
                .findFirst().orElse("?");
    }

    static double ms(long since) {
        return (System.nanoTime() - since) / 1e6;
    }

    static void progress(String format, Object... args) {
        System.err.printf("[scale] " + format + "%n", args);
    }

}
