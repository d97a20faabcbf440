package io.marketintel.safety.bench;

import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.status.Conditions;
import io.marketintel.safety.testing.ControlPlane;
import io.marketintel.safety.testing.Kubectl;
import io.marketintel.safety.testing.Namespaces;
import io.marketintel.safety.testing.OperatorProcess;
import io.marketintel.safety.testing.TradingSystem;
import io.marketintel.safety.testing.Writes;

/**
 * bench/stop-latency.sh: how long from a person's {@code kubectl} command until a watch sees
 * {@code spec.replicas: 0} on every one of N Deployments, for the operator's namespace emergency stop and for
 * scaling the same Deployments by hand. Prints figures, asserts nothing. Settings from the environment:
 * SIZES ("1 100 500"), RUNS (30), LOOP_MAX (500: the one-kubectl-per-deployment baseline is skipped above it),
 * BASELINES (true; false: only the operator's stop, for profiling), JFR (unset; a file name: the operator process
 * records a Java Flight Recording there, profile settings), REQUEST_MIX (false; true: the API server's requests
 * by verb and resource during each operator stop, from apiserver_request_total, printed after the table),
 * BASELINE_RUNS (RUNS: runs of each kubectl baseline; one {@code kubectl scale --all} of 500 Deployments takes
 * about 100 s, paced by kubectl's own rate limit, so its spread is small and 30 runs of it take an hour),
 * CONTROLLER_QPS (unset: see {@link Bench#controlPlane}).
 */
public final class StopLatencyBench {
    static final String STOP = MetadataNames.EMERGENCY_STOP_ANNOTATION;
    static final int PER_POLICY = 10;
    static final Duration SETUP = Duration.ofMinutes(20);
    static final Duration STEP = Duration.ofMinutes(3);

    final ControlPlane plane;
    final KubernetesClient client;
    final Kubectl kubectl;
    final int runs;
    final int loopMax;
    final boolean baselines = Boolean.parseBoolean(Bench.env("BASELINES", "true"));
    final int baselineRuns;
    final String jfr = Bench.env("JFR", "");
    final boolean requestMix = Boolean.parseBoolean(Bench.env("REQUEST_MIX", "false"));
    final StringBuilder mixes = new StringBuilder();
    volatile OperatorProcess operator;
    final List<String> deleting = new ArrayList<>();

    StopLatencyBench(ControlPlane plane, KubernetesClient client, int runs, int loopMax) {
        this.plane = plane;
        this.client = client;
        this.kubectl = new Kubectl(plane);
        this.runs = runs;
        this.loopMax = loopMax;
        this.baselineRuns = Integer.parseInt(Bench.env("BASELINE_RUNS", String.valueOf(runs)));
    }

    public static void main(String[] args) {
        Bench.main(StopLatencyBench::run);
    }

    private static void run() throws Exception {
        int[] sizes = Arrays.stream(Bench.env("SIZES", "1 100 500").trim().split("\\s+")).mapToInt(Integer::parseInt).toArray();
        int runs = Integer.parseInt(Bench.env("RUNS", "30"));
        int loopMax = Integer.parseInt(Bench.env("LOOP_MAX", "500"));
        String load = Bench.loadAverage();
        ControlPlane plane = Bench.controlPlane("stop-latency");
        KubernetesClient client = plane.client();
        StopLatencyBench bench = new StopLatencyBench(plane, client, runs, loopMax);
        // Ctrl-C: the operator and the control plane are child processes, which outlive the JVM unless stopped.
        Thread cleanup = new Thread(bench::cleanup, "stop-latency-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        try {
            // The fake node admits 500 pods; the operator's and the baseline's namespaces run N each.
            int pods = 2 * Arrays.stream(sizes).max().orElse(1) + 100;
            Writes.editStatus(client.nodes().withName(ControlPlane.FAKE_NODE), n -> {
                n.getStatus().getCapacity().put("pods", new Quantity(String.valueOf(pods)));
                n.getStatus().getAllocatable().put("pods", new Quantity(String.valueOf(pods)));
                return n;
            });
            StringBuilder report = new StringBuilder(bench.header());
            for (int n : sizes) {
                report.append(bench.size(n));
            }
            report.append(bench.mixes);
            report.append("load average (1/5/15 min) at start: ").append(load).append(", at end: ")
                    .append(Bench.loadAverage()).append('\n');
            System.out.println();
            System.out.print(report);
            Files.writeString(Path.of("target", "stop-latency.txt"), report);
        } finally {
            bench.cleanup();
            Runtime.getRuntime().removeShutdownHook(cleanup);
        }
    }

    private synchronized void cleanup() {
        if (operator != null) {
            operator.close();
        }
        client.close();
        plane.close();
    }

    // ---------------------------------------------------------------- one size

    private String size(int n) throws Exception {
        // The previous size's pods are still being deleted: let that churn finish before this size is set up.
        await("namespaces of the previous size deleted").atMost(SETUP).pollInterval(Duration.ofSeconds(1))
                .until(() -> deleting.stream().allMatch(d -> client.namespaces().withName(d).get() == null));
        int policies = (n + PER_POLICY - 1) / PER_POLICY;
        String ns = Namespaces.create(client, "stop-" + n);
        String base = Namespaces.create(client, "scale-" + n);
        progress("N=%d: creating %d deployments in %s and %s, %d policies", n, n, ns, base, policies);
        StringBuilder yaml = new StringBuilder();
        for (int i = 0; i < n; i++) {
            TradingSystem.deployment(client, ns, "d" + i, "g" + i / PER_POLICY, 1);
            if (baselines) {
                TradingSystem.deployment(client, base, "d" + i, "g" + i / PER_POLICY, 1);
            }
        }
        for (int k = 0; k < policies; k++) {
            yaml.append("""
                    ---
                    apiVersion: safety.marketintel.io/v1alpha1
                    kind: ExecutionPolicy
                    metadata: {name: p%d, labels: {%s: process}}
                    spec:
                      mode: DryRun
                      workloads: {selector: {matchLabels: {%s: g%d}}}
                      riskLimits: {maxOrderNotional: 1000, maxPosition: 1000, maxDailyLoss: 100, maxOrdersPerSecond: 5}
                    """.formatted(k, OperatorProcess.LABEL, TradingSystem.PART_OF, k));
        }
        check(kubectl.runWithInput(yaml.toString(), "apply", "-n", ns, "-f", "-"));
        List<String> jvm = new ArrayList<>(Bench.operatorJvm());
        if (!jfr.isEmpty()) {
            jvm.add("-XX:StartFlightRecording=filename=" + Path.of(jfr).toAbsolutePath() + ",settings=profile,dumponexit=true");
        }
        operator = OperatorProcess.start(plane, ns, null, null, jvm);
        try (Watch stopped = new Watch(client, ns, n); Watch scaled = new Watch(client, base, n);
                SharedIndexInformer<ExecutionPolicy> xp = client.resources(ExecutionPolicy.class).inNamespace(ns).inform()) {
            awaitSteady(stopped, xp, policies);
            if (baselines) {
                awaitSteady(scaled, null, 0);
            }
            // One extra run of each, first, not counted: kubectl's discovery cache and the operator's stop path
            // are cold on the first one. Printed on its own.
            Series op = new Series(), self = new Series(), all = new Series(), loop = new Series();
            progress("N=%d: operator stop, %d+1 runs", n, runs);
            for (int r = 0; r <= runs; r++) {
                op.add(r, stopRun(ns, stopped, xp, policies, self, r));
            }
            progress("N=%d: kubectl scale --all, %d+1 runs", n, baselineRuns);
            for (int r = 0; r <= baselineRuns && baselines; r++) {
                all.add(r, scaleRun(base, scaled, () -> scale("deployment", "--replicas=0", "--all", "-n", base)));
            }
            if (n <= loopMax && baselines) {
                progress("N=%d: kubectl scale one by one, %d+1 runs", n, baselineRuns);
                for (int r = 0; r <= baselineRuns; r++) {
                    loop.add(r, scaleRun(base, scaled, () -> {
                        for (int i = 0; i < n; i++) {
                            scale("deployment", "d" + i, "--replicas=0", "-n", base);
                        }
                    }));
                }
            }
            String log = logSummary(operator.log());
            if (!jfr.isEmpty()) {
                operator.terminate(); // the recording is written on a normal exit
            }
            operator.close();
            for (String d : List.of(ns, base)) {
                client.namespaces().withName(d).delete();
                deleting.add(d);
            }
            return table(n, policies, op, self, all, loop, log);
        }
    }

    /** t0 just before the kubectl annotate, t1 when the watch has seen every deployment at zero. Then resets. */
    private double stopRun(String ns, Watch watch, SharedIndexInformer<ExecutionPolicy> xp, int policies, Series self,
            int run) throws Exception {
        Map<String, Long> before = new HashMap<>();
        xp.getStore().list().forEach(p -> before.put(p.getMetadata().getName(), epoch(p)));
        CompletableFuture<Long> zero = watch.expect(0);
        Map<String, Double> requestsBefore = requestMix ? Bench.requests(client) : Map.of();
        long t0 = System.nanoTime();
        check(kubectl.run("annotate", "namespace", ns, STOP + "=bench"));
        double ms = (zero.get(STEP.toSeconds(), TimeUnit.SECONDS) - t0) / 1e6;
        if (requestMix) {
            mixes.append(Bench.mix("requests during operator stop run %d (%.0f ms)".formatted(run, ms), requestsBefore,
                    Bench.requests(client), 15));
        }

        // The reconciler records the stop with its new epoch; only that epoch re-arms it.
        awaitAll(xp, policies, "stop recorded", p -> p.getStatus().emergencyStop != null
                && Boolean.TRUE.equals(p.getStatus().emergencyStop.active) && epoch(p) > before.get(p.getMetadata().getName()));
        xp.getStore().list().forEach(p -> self.add(run, p.getStatus().emergencyStop.latencyMillis));
        check(kubectl.run("annotate", "namespace", ns, STOP + "-"));
        for (ExecutionPolicy p : xp.getStore().list()) {
            client.resources(ExecutionPolicy.class).inNamespace(ns).withName(p.getMetadata().getName())
                    .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"metadata\":{\"annotations\":{\"%s\":\"%d\"}}}"
                            .formatted(MetadataNames.REARM_ANNOTATION, epoch(p)));
        }
        awaitSteady(watch, xp, policies);
        return ms;
    }

    /** t0 just before the kubectl scale command(s), t1 when the watch has seen every deployment at zero. */
    private double scaleRun(String ns, Watch watch, Runnable scaleToZero) throws Exception {
        CompletableFuture<Long> zero = watch.expect(0);
        long t0 = System.nanoTime();
        scaleToZero.run();
        double ms = (zero.get(STEP.toSeconds(), TimeUnit.SECONDS) - t0) / 1e6;
        // Untimed reset: back to one replica each from this JVM, in parallel (kubectl would take (N - 10) / 5 s).
        List<Deployment> all = client.apps().deployments().inNamespace(ns).list().getItems();
        Bench.parallel(all.size(), i -> client.apps().deployments().resource(all.get(i))
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"replicas\":1}}"));
        awaitSteady(watch, null, 0);
        return ms;
    }

    /** Every deployment at one Ready replica, every policy Ready in DryRun: each run starts from the same state. */
    private void awaitSteady(Watch watch, SharedIndexInformer<ExecutionPolicy> xp, int policies) throws InterruptedException {
        await("deployments and policies ready").atMost(SETUP).pollInterval(Duration.ofMillis(100))
                .until(() -> watch.allReady() && (xp == null || all(xp, policies, p -> p.getStatus().mode == ExecutionMode.DRY_RUN
                        && Conditions.isTrue(p.getStatus().conditions, Conditions.READY)
                        && (p.getStatus().emergencyStop == null || !Boolean.TRUE.equals(p.getStatus().emergencyStop.active)))));
        Thread.sleep(1000); // let the pod churn of the reset settle before the next t0
    }

    private static void awaitAll(SharedIndexInformer<ExecutionPolicy> xp, int policies, String what, Predicate<ExecutionPolicy> ok) {
        await("every policy " + what).atMost(STEP).pollInterval(Duration.ofMillis(100)).until(() -> all(xp, policies, ok));
    }

    private static boolean all(SharedIndexInformer<ExecutionPolicy> xp, int policies, Predicate<ExecutionPolicy> ok) {
        List<ExecutionPolicy> all = xp.getStore().list();
        return all.size() == policies && all.stream().allMatch(p -> p.getStatus() != null && ok.test(p));
    }

    private static long epoch(ExecutionPolicy p) {
        var es = p.getStatus() == null ? null : p.getStatus().emergencyStop;
        return es == null || es.epoch == null ? 0 : es.epoch;
    }

    private void scale(String... args) {
        check(kubectl.run(Stream.concat(Stream.of("scale"), Arrays.stream(args)).toArray(String[]::new)));
    }

    private static void check(Kubectl.Result r) {
        if (r.exitCode() != 0) {
            throw new IllegalStateException("kubectl failed: " + r.output());
        }
    }

    // ---------------------------------------------------------------- the watch

    /** The Deployments of one namespace as a watch sees them; tells when every one has reached a replica count. */
    static final class Watch implements AutoCloseable {
        private final SharedIndexInformer<Deployment> informer;
        private final int size;
        private final Set<String> pending = new HashSet<>();
        private int target;
        private CompletableFuture<Long> reached = CompletableFuture.completedFuture(0L);

        Watch(KubernetesClient client, String ns, int size) {
            this.size = size;
            informer = client.apps().deployments().inNamespace(ns).inform(handler(this::seen));
        }

        /** Completes with System.nanoTime() of the event that brought the last deployment to {@code replicas}. */
        synchronized CompletableFuture<Long> expect(int replicas) {
            target = replicas;
            reached = new CompletableFuture<>();
            pending.clear();
            informer.getStore().list().stream().filter(d -> !Objects.equals(d.getSpec().getReplicas(), replicas))
                    .forEach(d -> pending.add(d.getMetadata().getName()));
            if (pending.isEmpty()) {
                reached.complete(System.nanoTime());
            }
            return reached;
        }

        private synchronized void seen(Deployment d) {
            if (!reached.isDone() && Objects.equals(d.getSpec().getReplicas(), target)
                    && pending.remove(d.getMetadata().getName()) && pending.isEmpty()) {
                reached.complete(System.nanoTime());
            }
        }

        boolean allReady() {
            List<Deployment> all = informer.getStore().list();
            return all.size() == size && all.stream().allMatch(d -> Objects.equals(d.getSpec().getReplicas(), 1)
                    && d.getStatus() != null && Objects.equals(d.getStatus().getReadyReplicas(), 1)
                    && Objects.equals(d.getStatus().getReplicas(), 1)
                    && Objects.equals(d.getStatus().getObservedGeneration(), d.getMetadata().getGeneration()));
        }

        @Override
        public void close() {
            informer.close();
        }
    }

    private static <T extends HasMetadata> ResourceEventHandler<T> handler(Consumer<T> changed) {
        return new ResourceEventHandler<>() {
            @Override
            public void onAdd(T obj) {
                changed.accept(obj);
            }

            @Override
            public void onUpdate(T oldObj, T newObj) {
                changed.accept(newObj);
            }

            @Override
            public void onDelete(T obj, boolean deletedFinalStateUnknown) {
            }
        };
    }

    // ---------------------------------------------------------------- figures

    /** Milliseconds of one method: the first (cold, not counted) run apart from the rest. */
    static final class Series {
        Double first;
        final List<Double> values = new ArrayList<>();
        int missing;

        void add(int run, Number ms) {
            if (ms == null) {
                missing++;
            } else if (run == 0) {
                first = first == null ? ms.doubleValue() : Math.max(first, ms.doubleValue());
            } else {
                values.add(ms.doubleValue());
            }
        }

        /** Nearest rank: with fewer than 100 values p99 is the max (fewer than 20: p95 too). */
        double p(double q) {
            List<Double> sorted = values.stream().sorted().toList();
            return sorted.get(Math.max(0, (int) Math.ceil(q * sorted.size()) - 1));
        }
    }

    private String header() throws Exception {
        String cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("?");
        Process nproc = new ProcessBuilder("nproc").start();
        String cores = new String(nproc.getInputStream().readAllBytes()).trim();
        return """
                == Emergency-stop latency (ms): t0 just before the kubectl command, t1 when a watch (Fabric8 informer on the
                   namespace's Deployments, started before t0) has seen spec.replicas=0 on every one of the N Deployments.
                   operator:  kubectl annotate namespace NS %s=bench   (DryRun policies of %d workloads each, via selector)
                   scale:     kubectl scale deployment --replicas=0 --all -n NS2   (same N Deployments, no policies;
                              kubectl limits itself to 5 requests/s after a burst of 10, client-go's default)
                   loop:      kubectl scale deployment dI --replicas=0 -n NS2, one call after another
                   own:       the operator's status.emergencyStop.latencyMillis of each policy (stop seen -> zeros written);
                              one figure per policy and run, its "first" is the slowest policy of the warm-up stop
                   ratio:     baseline / operator at p50 and at p99 (above 1: the operator is faster)
                machine: nproc %s (%s), Java %s %s, kube-apiserver %s, kubectl %s
                cluster: %s
                runs: %d per method and size (kubectl baselines: %d), after 1 warm-up run that is not counted (its figure is shown as "first")%s
                """.formatted(STOP, PER_POLICY, cores, cpu, System.getProperty("java.vendor"), System.getProperty("java.version"),
                plane.serverVersion(), plane.kubectl(), Bench.controllerLimits(), runs, baselineRuns,
                runs < 100 ? "\nnote: RUNS < 100: the p99 of fewer than 100 figures (column n) is simply their max, and so is the p95 of fewer than 20" : "");
    }

    private String table(int n, int policies, Series op, Series self, Series all, Series loop, String log) {
        StringBuilder t = new StringBuilder("\nN=%d deployments, %d policies%n".formatted(n, policies));
        t.append("%-10s %5s %8s %8s %8s %8s %8s %8s  %9s %9s%n".formatted("method", "n", "first", "min", "p50", "p95", "p99",
                "max", "ratio p50", "ratio p99"));
        row(t, "operator", op, null);
        row(t, "own", self, null);
        row(t, "scale", all, op);
        if (loop.values.isEmpty()) {
            t.append("loop       skipped: N=%d > LOOP_MAX=%d (one kubectl process per deployment; set LOOP_MAX to run it)%n"
                    .formatted(n, loopMax));
        } else {
            row(t, "loop", loop, op);
        }
        if (self.missing > 0) {
            t.append("own: %d policy stops recorded no latencyMillis%n".formatted(self.missing));
        }
        return t.append("operator log: ").append(log).append('\n').toString();
    }

    private static void row(StringBuilder t, String name, Series s, Series operator) {
        if (s.values.isEmpty()) {
            t.append("%-10s %5d  (no figures)%n".formatted(name, 0));
            return;
        }
        t.append("%-10s %5d %8s %8.0f %8.0f %8.0f %8.0f %8.0f".formatted(name, s.values.size(),
                s.first == null ? "-" : "%.0f".formatted(s.first), s.p(0), s.p(0.5), s.p(0.95), s.p(0.99), s.p(1)));
        if (operator != null) {
            t.append("  %9.2f %9.2f".formatted(s.p(0.5) / operator.p(0.5), s.p(0.99) / operator.p(0.99)));
        }
        t.append('\n');
    }

    private static String logSummary(Path log) throws Exception {
        List<String> lines = Files.readAllLines(log);
        long errors = lines.stream().filter(Pattern.compile(" ERROR +\\[").asPredicate()).count();
        long warnings = lines.stream().filter(Pattern.compile(" WARN +\\[").asPredicate()).count();
        return "%s (%d ERROR, %d WARN lines)".formatted(Path.of("").toAbsolutePath().relativize(log), errors, warnings);
    }

    private static void progress(String format, Object... args) {
        System.err.printf("[stop-latency] " + format + "%n", args);
    }

}
