package io.marketintel.safety.bench;

import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.awaitility.core.ConditionTimeoutException;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
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
 * bench/stop-latency.sh: how long from a person's {@code kubectl} command until a watch sees {@code spec.replicas: 0}
 * on every one of N workloads, and until a watch on pods sees no pod of them left, for the operator's namespace
 * emergency stop and for stopping the same workloads by hand ({@code kubectl scale}, {@code kubectl delete pods}).
 * Prints figures, asserts nothing. Settings from the environment: SIZES ("1 100 500"), WORKLOADS ("mixed unready":
 * one table per size and kind of workload set, see {@link Variant}), RUNS (30), BASELINE_RUNS (RUNS: runs of each
 * kubectl baseline; one {@code kubectl scale --all} of 500 workloads takes about 100 s, paced by kubectl's own rate
 * limit), UNREADY_RUNS (5: runs of each method in the unready variant, where a run that times out costs DEADLINE),
 * DEADLINE (60 s: how long after its kubectl command returned a run waits for each figure before it records
 * {@code timeout}), LOOP_MAX (500: the one-kubectl-per-workload baseline is skipped above it), BASELINES (true;
 * false: only the operator's stop, for profiling), DIRECT (true: also the {@code direct} method, this JVM writing the
 * zeros and deleting the pods itself), JFR (unset; a file name: the operator process records a Java
 * Flight Recording there, profile settings), REQUEST_MIX (false; true: the API server's requests by verb and resource
 * during each operator stop, from apiserver_request_total, printed after the tables), CONTROLLER_QPS (unset: see
 * {@link Bench#controlPlane}). Table on stdout and in target/stop-latency.txt, every figure also in
 * target/stop-latency.json.
 */
public final class StopLatencyBench {
    static final String STOP = MetadataNames.EMERGENCY_STOP_ANNOTATION;
    /** Marks the pods this bench has made unready (their Ready condition set to False, as a failing probe would). */
    static final String UNREADY = "test.marketintel.io/unready";
    static final int PER_POLICY = 10;
    /** In a mixed set every fifth workload (index 4, 9, ...) is a StatefulSet: N = 1 is one Deployment. */
    static final int STATEFUL_EVERY = 5;
    /** Two pods: with OrderedReady and two unready pods, the StatefulSet controller deletes neither at replicas 0. */
    static final int STATEFUL_REPLICAS = 2;
    static final Duration SETUP = Duration.ofMinutes(20);
    static final Duration STEP = Duration.ofMinutes(3);

    /** The sets of workloads a size is measured with (WORKLOADS). */
    enum Variant {
        /** N Deployments of one pod (the benchmark before StatefulSets were added). */
        deployments("N Deployments of 1 pod"),
        /** Every fifth workload a StatefulSet of two pods (OrderedReady, the default), the rest Deployments. */
        mixed("every 5th workload a StatefulSet of 2 pods (OrderedReady), the rest Deployments of 1 pod"),
        /** As mixed, and before each run every StatefulSet pod is made Running but not Ready. */
        unready("as mixed, and before each run the StatefulSets' pods are made unready (Running, Ready=False)");

        final String description;

        Variant(String description) {
            this.description = description;
        }

        boolean mixed() {
            return this != deployments;
        }
    }

    /** What a run waits for; each is one column group of the table and one metric of the JSON. */
    enum Metric {
        REPLICAS("replicas-0", "replicas=0"),
        TERMINATING("pods-terminating", "pods terminating"),
        GONE("pods-gone", "pods gone"),
        OWN("zeros-written", "zeros written"),
        OWN_COMPLETED("stop-completed", "stop completed");

        final String key;
        final String label;

        Metric(String key, String label) {
            this.key = key;
            this.label = label;
        }
    }

    /** The workloads of one size and variant: which index is which kind, and how many pods they run. */
    record Layout(int n, Variant variant) {
        boolean stateful(int i) {
            return variant.mixed() && i % STATEFUL_EVERY == STATEFUL_EVERY - 1;
        }

        String name(int i) {
            return (stateful(i) ? "s" : "d") + i;
        }

        String kind(int i) {
            return stateful(i) ? "statefulset" : "deployment";
        }

        int statefulSets() {
            return variant.mixed() ? n / STATEFUL_EVERY : 0;
        }

        int deployments() {
            return n - statefulSets();
        }

        int pods() {
            return deployments() + STATEFUL_REPLICAS * statefulSets();
        }

        int policies() {
            return (n + PER_POLICY - 1) / PER_POLICY;
        }
    }

    final ControlPlane plane;
    final KubernetesClient client;
    final Kubectl kubectl;
    final int runs;
    final int loopMax;
    final boolean baselines = Boolean.parseBoolean(Bench.env("BASELINES", "true"));
    /** The direct method: this JVM writes the zeros and deletes the pods itself, in parallel, with no operator in between. */
    final boolean direct = Boolean.parseBoolean(Bench.env("DIRECT", "true"));
    final int baselineRuns;
    final int unreadyRuns = Integer.parseInt(Bench.env("UNREADY_RUNS", "5"));
    final Duration deadline = Duration.ofSeconds(Long.parseLong(Bench.env("DEADLINE", "60")));
    final String jfr = Bench.env("JFR", "");
    final boolean requestMix = Boolean.parseBoolean(Bench.env("REQUEST_MIX", "false"));
    final StringBuilder mixes = new StringBuilder();
    final List<Map<String, Object>> records = new ArrayList<>();
    /** Every figure of the tables (and of REQUEST_MIX), for target/bench/stop-latency.json; {@link #run} sets Bench's. */
    Figures figures = new Figures("stop-latency");
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
        Bench.main("stop-latency", StopLatencyBench::run);
    }

    private static void run(Figures figures) throws Exception {
        int[] sizes = Arrays.stream(Bench.env("SIZES", "1 100 500").trim().split("\\s+")).mapToInt(Integer::parseInt).toArray();
        List<Variant> variants = Arrays.stream(Bench.env("WORKLOADS", "mixed unready").trim().split("\\s+")).map(Variant::valueOf).toList();
        int runs = Integer.parseInt(Bench.env("RUNS", "30"));
        int loopMax = Integer.parseInt(Bench.env("LOOP_MAX", "500"));
        String load = Bench.loadAverage();
        Instant started = Instant.now();
        ControlPlane plane = Bench.controlPlane("stop-latency");
        KubernetesClient client = plane.client();
        StopLatencyBench bench = new StopLatencyBench(plane, client, runs, loopMax);
        bench.figures = figures;
        // Ctrl-C: the operator and the control plane are child processes, which outlive the JVM unless stopped.
        Thread cleanup = new Thread(bench::cleanup, "stop-latency-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        try {
            // The fake node admits 500 pods; the operator's and the baseline's namespaces run up to 1.2 N each, and
            // kubectl delete pods has the controllers create new ones while the old go.
            int most = Arrays.stream(sizes).map(n -> new Layout(n, Variant.mixed).pods()).max().orElse(1);
            int pods = 3 * most + 100;
            Writes.editStatus(client.nodes().withName(ControlPlane.FAKE_NODE), n -> {
                n.getStatus().getCapacity().put("pods", new Quantity(String.valueOf(pods)));
                n.getStatus().getAllocatable().put("pods", new Quantity(String.valueOf(pods)));
                return n;
            });
            String header = bench.header(variants);
            figures.context("header", header).context("kubeApiserver", plane.serverVersion()).context("kubectl", plane.kubectl())
                    .context("controllerLimits", Bench.controllerLimits());
            StringBuilder report = new StringBuilder(header);
            for (int n : sizes) {
                for (Variant v : variants) {
                    report.append(bench.size(new Layout(n, v)));
                }
            }
            report.append(bench.mixes);
            String loadEnd = Bench.loadAverage();
            report.append("load average (1/5/15 min) at start: ").append(load).append(", at end: ").append(loadEnd).append('\n');
            System.out.println();
            System.out.print(report);
            Files.writeString(Path.of("target", "stop-latency.txt"), report);
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("benchmark", "stop-latency");
            json.put("started", started.toString());
            json.put("unit", "ms");
            Map<String, Object> settings = new LinkedHashMap<>();
            settings.put("sizes", Arrays.stream(sizes).boxed().toList());
            settings.put("workloads", variants.stream().map(Enum::name).toList());
            settings.put("runs", runs);
            settings.put("baselineRuns", bench.baselineRuns);
            settings.put("unreadyRuns", bench.unreadyRuns);
            settings.put("deadlineSeconds", bench.deadline.toSeconds());
            settings.put("loopMax", loopMax);
            settings.put("baselines", bench.baselines);
            settings.put("direct", bench.direct);
            settings.put("controllerQps", Bench.env("CONTROLLER_QPS", ""));
            json.put("settings", settings);
            json.put("loadAverage", Map.of("start", load, "end", loadEnd));
            json.put("header", header);
            json.put("records", bench.records);
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(Path.of("target", "stop-latency.json").toFile(), json);
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

    // ---------------------------------------------------------------- one size and variant

    /** One namespace's workloads and pods as the bench's watches see them. */
    record Side(String ns, Workloads workloads, Pods pods) implements AutoCloseable {
        @Override
        public void close() {
            workloads.close();
            pods.close();
        }
    }

    private String size(Layout layout) throws Exception {
        int n = layout.n();
        if (layout.variant() == Variant.unready && layout.statefulSets() == 0) {
            return "\nN=%d %s: skipped, no StatefulSet at this size (every %dth workload is one)%n".formatted(n,
                    layout.variant(), STATEFUL_EVERY);
        }
        // The previous size's pods are still being deleted: let that churn finish before this size is set up.
        await("namespaces of the previous size deleted").atMost(SETUP).pollInterval(Duration.ofSeconds(1))
                .until(() -> deleting.stream().allMatch(d -> client.namespaces().withName(d).get() == null));
        int policies = layout.policies();
        String ns = Namespaces.create(client, "stop-" + n);
        String base = Namespaces.create(client, "scale-" + n);
        progress("N=%d %s: creating %d Deployments and %d StatefulSets in %s and %s, %d policies", n, layout.variant(),
                layout.deployments(), layout.statefulSets(), ns, base, policies);
        StringBuilder yaml = new StringBuilder();
        for (int i = 0; i < n; i++) {
            create(ns, layout, i);
            if (baselines || direct) {
                create(base, layout, i);
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
        boolean unready = layout.variant() == Variant.unready;
        int opRuns = unready ? Math.min(runs, unreadyRuns) : runs;
        int baseRuns = unready ? Math.min(baselineRuns, unreadyRuns) : baselineRuns;
        try (Side stopped = new Side(ns, new Workloads(client, ns), new Pods(client, ns));
                Side scaled = new Side(base, new Workloads(client, base), new Pods(client, base));
                SharedIndexInformer<ExecutionPolicy> xp = client.resources(ExecutionPolicy.class).inNamespace(ns).inform()) {
            awaitSteady(layout, stopped, xp, policies);
            if (baselines || direct) {
                awaitSteady(layout, scaled, null, 0);
            }
            // One extra run of each, first, not counted: kubectl's discovery cache and the operator's stop path
            // are cold on the first one. Printed on its own.
            Table f = new Table();
            progress("N=%d %s: operator stop, %d+1 runs", n, layout.variant(), opRuns);
            for (int r = 0; r <= opRuns; r++) {
                stopRun(layout, stopped, xp, policies, f, r);
            }
            if (direct) {
                progress("N=%d %s: direct (this JVM zeroes the workloads and deletes the pods), %d+1 runs", n, layout.variant(), baseRuns);
                for (int r = 0; r <= baseRuns; r++) {
                    scaleRun(layout, scaled, f, "direct", r, () -> direct(scaled.ns()));
                }
            }
            if (baselines) {
                progress("N=%d %s: kubectl scale --all, %d+1 runs", n, layout.variant(), baseRuns);
                for (int r = 0; r <= baseRuns; r++) {
                    scaleRun(layout, scaled, f, "scale", r, () -> scale("deployment,statefulset", "--replicas=0", "--all", "-n", base));
                }
                if (n <= loopMax) {
                    progress("N=%d %s: kubectl scale one by one, %d+1 runs", n, layout.variant(), baseRuns);
                    for (int r = 0; r <= baseRuns; r++) {
                        scaleRun(layout, scaled, f, "loop", r, () -> {
                            for (int i = 0; i < n; i++) {
                                scale(layout.kind(i), layout.name(i), "--replicas=0", "-n", base);
                            }
                        });
                    }
                }
                progress("N=%d %s: kubectl delete pods --all, %d+1 runs", n, layout.variant(), baseRuns);
                for (int r = 0; r <= baseRuns; r++) {
                    deleteRun(layout, scaled, f, r);
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
            return table(layout, f, opRuns, baseRuns, log);
        }
    }

    private void create(String ns, Layout layout, int i) {
        String system = "g" + i / PER_POLICY;
        if (layout.stateful(i)) {
            statefulSet(client, ns, layout.name(i), system);
        } else {
            TradingSystem.deployment(client, ns, layout.name(i), system, 1);
        }
    }

    /** A StatefulSet of two pods shaped like TradingSystem's Deployment, with the default OrderedReady pod management. */
    static StatefulSet statefulSet(KubernetesClient client, String ns, String name, String system) {
        return client.apps().statefulSets().inNamespace(ns).resource(new StatefulSetBuilder()
                .withNewMetadata().withName(name).withLabels(Map.of(TradingSystem.PART_OF, system)).endMetadata()
                .withNewSpec().withReplicas(STATEFUL_REPLICAS).withServiceName(name)
                .withNewSelector().withMatchLabels(Map.of("app", name)).endSelector()
                .withNewTemplate().withNewMetadata().withLabels(Map.of("app", name, TradingSystem.PART_OF, system)).endMetadata()
                .withNewSpec()
                .addNewContainer().withName("strategy").withImage("registry.example/" + name + ":1.0").endContainer()
                .addNewContainer().withName("gateway-sidecar").withImage("registry.example/sidecar:2.1").endContainer()
                .endSpec().endTemplate().endSpec().build()).create();
    }

    /**
     * t0 just before {@code command}; then each figure is waited for until DEADLINE after the command returned, and a
     * figure not seen by then is recorded as a timeout. {@code replicas}: whether replicas=0 is a figure of this
     * method; {@code onlyInitial}: the pod figures count only the pods that existed at t0 (controllers recreate
     * the pods kubectl delete pods removes). Returns the replicas=0 figure (or pods gone, without one), ms, or null.
     */
    private Double timed(Side side, Table f, String method, int run, boolean replicas, boolean onlyInitial, Runnable command)
            throws InterruptedException {
        CompletableFuture<Long> zero = replicas ? side.workloads().expect(0) : null;
        Pods.Expectation pods = side.pods().expect(onlyInitial);
        long t0 = System.nanoTime();
        command.run();
        long end = System.nanoTime() + deadline.toNanos();
        Double r = replicas ? since(t0, zero, end) : null;
        Double terminating = since(t0, pods.terminating(), end);
        Double gone = since(t0, pods.gone(), end);
        if (replicas) {
            f.series(method, Metric.REPLICAS).add(run, r);
        }
        f.series(method, Metric.TERMINATING).add(run, terminating);
        f.series(method, Metric.GONE).add(run, gone);
        if (r == null && replicas || gone == null) {
            progress("  %s run %d: timeout after %d s: %s", method, run, deadline.toSeconds(), r == null && replicas
                    ? "replicas=0 not seen" : terminating == null ? "pods still running" : "pods terminating, not gone");
        }
        return replicas ? r : gone;
    }

    /** ms from t0 to the nanoTime {@code f} completes with, or null if it has not by {@code end}. */
    static Double since(long t0, CompletableFuture<Long> f, long end) throws InterruptedException {
        try {
            return (f.get(Math.max(0, end - System.nanoTime()), TimeUnit.NANOSECONDS) - t0) / 1e6;
        } catch (TimeoutException e) {
            return null;
        } catch (ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }

    /** t0 just before the kubectl annotate. Then resets: stop removed, every policy re-armed, pods Ready again. */
    private void stopRun(Layout layout, Side side, SharedIndexInformer<ExecutionPolicy> xp, int policies, Table f, int run)
            throws Exception {
        String ns = side.ns();
        if (layout.variant() == Variant.unready) {
            makeUnready(layout, side);
        }
        Map<String, Long> before = new HashMap<>();
        xp.getStore().list().forEach(p -> before.put(p.getMetadata().getName(), epoch(p)));
        Map<String, Double> requestsBefore = requestMix ? Bench.requests(client) : Map.of();
        Map<String, Double> cpuBefore = requestMix ? Bench.cpu() : Map.of();
        long started = System.nanoTime();
        Double ms = timed(side, f, "operator", run, true, false, () -> check(kubectl.run("annotate", "namespace", ns, STOP + "=bench")));
        if (requestMix) {
            // Read when the last pod is gone (or the deadline passed): the whole stop, not only its zeros.
            double window = (System.nanoTime() - started) / 1e6;
            Map<String, Double> cpuAfter = Bench.cpu();
            String title = "operator stop run %d of N=%d %s (replicas=0 after %s ms, pods gone after %.0f ms)".formatted(run,
                    layout.n(), layout.variant(), ms == null ? "timeout" : "%.0f".formatted(ms), window);
            Map<String, Double> requestsAfter = Bench.requests(client);
            mixes.append(Bench.mix("requests during " + title, requestsBefore, requestsAfter, 15));
            mixes.append(Bench.cpuMix("CPU during " + title, cpuBefore, cpuAfter, window, 8));
            recordMix(layout, "operator", run, window, requestsBefore, requestsAfter, cpuBefore, cpuAfter);
        }

        // The reconciler records the stop with its new epoch; only that epoch re-arms it.
        awaitAll(xp, policies, "stop recorded", p -> p.getStatus().emergencyStop != null
                && Boolean.TRUE.equals(p.getStatus().emergencyStop.active) && epoch(p) > before.get(p.getMetadata().getName()));
        xp.getStore().list().forEach(p -> f.series("own", Metric.OWN).addOrMissing(run, p.getStatus().emergencyStop.latencyMillis));
        // status.emergencyStop.completedMillis (stop seen -> no pod of the system left), written by the reconciler once it
        // sees the pods gone: waited for only if the watch saw them gone, and briefly.
        Series completed = f.series("own", Metric.OWN_COMPLETED);
        if (f.series("operator", Metric.GONE).lastSeen) {
            try {
                awaitAll(xp, policies, "stop completed", Duration.ofSeconds(30), p -> p.getStatus().emergencyStop.completedMillis != null);
            } catch (ConditionTimeoutException e) {
                progress("  operator run %d: a policy recorded no completedMillis within 30 s of the stop recorded", run);
            }
        }
        xp.getStore().list().forEach(p -> completed.addOrMissing(run, p.getStatus().emergencyStop.completedMillis));
        check(kubectl.run("annotate", "namespace", ns, STOP + "-"));
        for (ExecutionPolicy p : xp.getStore().list()) {
            client.resources(ExecutionPolicy.class).inNamespace(ns).withName(p.getMetadata().getName())
                    .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"metadata\":{\"annotations\":{\"%s\":\"%d\"}}}"
                            .formatted(MetadataNames.REARM_ANNOTATION, epoch(p)));
        }
        makeReady(side);
        awaitSteady(layout, side, xp, policies);
    }

    /** t0 just before the kubectl scale command(s). Then resets from this JVM, untimed. */
    private void scaleRun(Layout layout, Side side, Table f, String method, int run, Runnable scaleToZero) throws Exception {
        if (layout.variant() == Variant.unready) {
            makeUnready(layout, side);
        }
        Map<String, Double> requestsBefore = requestMix ? Bench.requests(client) : Map.of();
        Map<String, Double> cpuBefore = requestMix ? Bench.cpu() : Map.of();
        long started = System.nanoTime();
        Double ms = timed(side, f, method, run, true, false, scaleToZero);
        if (requestMix) {
            double window = (System.nanoTime() - started) / 1e6;
            Map<String, Double> cpuAfter = Bench.cpu();
            String title = "%s run %d of N=%d %s (replicas=0 after %s ms, pods gone after %.0f ms)".formatted(method, run, layout.n(),
                    layout.variant(), ms == null ? "timeout" : "%.0f".formatted(ms), window);
            Map<String, Double> requestsAfter = Bench.requests(client);
            mixes.append(Bench.mix("requests during " + title, requestsBefore, requestsAfter, 15));
            mixes.append(Bench.cpuMix("CPU during " + title, cpuBefore, cpuAfter, window, 8));
            recordMix(layout, method, run, window, requestsBefore, requestsAfter, cpuBefore, cpuAfter);
        }
        // Back to the first replica counts, in parallel (kubectl would take (N - 10) / 5 s).
        List<HasMetadata> all = new ArrayList<>(client.apps().deployments().inNamespace(side.ns()).list().getItems());
        all.addAll(client.apps().statefulSets().inNamespace(side.ns()).list().getItems());
        Bench.parallel(all.size(), i -> {
            HasMetadata w = all.get(i);
            String patch = "{\"spec\":{\"replicas\":%d}}".formatted(w instanceof StatefulSet ? STATEFUL_REPLICAS : 1);
            if (w instanceof StatefulSet s) {
                client.apps().statefulSets().resource(s).patch(PatchContext.of(PatchType.JSON_MERGE), patch);
            } else {
                client.apps().deployments().resource((Deployment) w).patch(PatchContext.of(PatchType.JSON_MERGE), patch);
            }
        });
        makeReady(side);
        awaitSteady(layout, side, null, 0);
    }

    /** What REQUEST_MIX prints of one run, recorded: its window (ms), the API server's requests and the CPU by process. */
    private void recordMix(Layout layout, String method, int run, double window, Map<String, Double> requestsBefore,
            Map<String, Double> requestsAfter, Map<String, Double> cpuBefore, Map<String, Double> cpuAfter) {
        Map<String, Object> params = Figures.params("size", layout.n(), "workloads", layout.variant().name(), "method", method, "run", run);
        figures.add("request-mix-window", params, window, "ms");
        Bench.recordMix(figures, params, requestsBefore, requestsAfter, 15, cpuBefore, cpuAfter, 8);
    }

    /** 64 at a time, like the kill switch's writes; one pool for every direct run (threads started once). */
    private final java.util.concurrent.ExecutorService directPool = java.util.concurrent.Executors.newFixedThreadPool(64, r -> {
        Thread t = new Thread(r, "direct");
        t.setDaemon(true);
        return t;
    });

    /**
     * What the kill switch does, with nothing in between: every workload's {@code scale} to 0 (one merge patch each, 64
     * at a time), then every pod of the namespace deleted (64 at a time), from this JVM. No watch hop, no policy, no
     * reconciler. Not a lower bound: this namespace has no stop, so a ReplicaSet that has not yet seen its zero replaces a
     * deleted pod (the stop's admission policy refuses that pod in the operator's namespace).
     */
    private void direct(String ns) {
        List<CompletableFuture<?>> zeros = new ArrayList<>();
        String zero = "{\"spec\":{\"replicas\":0}}";
        for (Deployment d : client.apps().deployments().inNamespace(ns).list().getItems()) {
            zeros.add(CompletableFuture.runAsync(() -> client.apps().deployments().inNamespace(ns).withName(d.getMetadata().getName())
                    .subresource("scale").patch(PatchContext.of(PatchType.JSON_MERGE), zero), directPool));
        }
        for (StatefulSet st : client.apps().statefulSets().inNamespace(ns).list().getItems()) {
            zeros.add(CompletableFuture.runAsync(() -> client.apps().statefulSets().inNamespace(ns).withName(st.getMetadata().getName())
                    .subresource("scale").patch(PatchContext.of(PatchType.JSON_MERGE), zero), directPool));
        }
        CompletableFuture.allOf(zeros.toArray(CompletableFuture[]::new)).join();
        List<CompletableFuture<?>> deletes = new ArrayList<>();
        for (Pod p : client.pods().inNamespace(ns).list().getItems()) {
            if (p.getMetadata().getDeletionTimestamp() == null) {
                deletes.add(CompletableFuture.runAsync(() -> client.pods().inNamespace(ns).withName(p.getMetadata().getName()).delete(),
                        directPool));
            }
        }
        CompletableFuture.allOf(deletes.toArray(CompletableFuture[]::new)).join();
    }

    /** t0 just before kubectl delete pods --all; the controllers start new pods, which the figures do not count. */
    private void deleteRun(Layout layout, Side side, Table f, int run) throws Exception {
        if (layout.variant() == Variant.unready) {
            makeUnready(layout, side);
        }
        timed(side, f, "delete-pods", run, false, true, () -> check(kubectl.run("delete", "pods", "--all", "-n", side.ns())));
        makeReady(side);
        awaitSteady(layout, side, null, 0);
    }

    /**
     * Every StatefulSet pod Running but not Ready, as a failing readiness probe makes it: its Ready condition set to
     * False (kwok's stages move only Pending pods, so it stays so). Under OrderedReady a StatefulSet creates its
     * second pod only once the first is Ready, so the kwok stage pod-unready (a template annotated
     * test.marketintel.io/unready) cannot give it two unready pods: they are made unready once running.
     */
    private void makeUnready(Layout layout, Side side) throws Exception {
        List<Pod> pods = side.pods().store().stream().filter(StopLatencyBench::ofStatefulSet).toList();
        Bench.parallel(pods.size(), i -> setReady(side.ns(), pods.get(i).getMetadata().getName(), false));
        await("StatefulSets' pods unready").atMost(STEP).pollInterval(Duration.ofMillis(100))
                .until(() -> side.workloads().statefulSetsReady() == 0
                        && side.pods().store().stream().filter(StopLatencyBench::ofStatefulSet).noneMatch(StopLatencyBench::ready));
        Thread.sleep(1000); // let the operator's reconciles of the readiness change settle before t0
    }

    /** The pods a run left unready (the StatefulSet deleted none of them) Ready again, so that each run starts alike. */
    private void makeReady(Side side) throws Exception {
        List<Pod> pods = side.pods().store().stream().filter(p -> p.getMetadata().getDeletionTimestamp() == null
                && p.getMetadata().getAnnotations() != null && p.getMetadata().getAnnotations().containsKey(UNREADY)).toList();
        Bench.parallel(pods.size(), i -> setReady(side.ns(), pods.get(i).getMetadata().getName(), true));
    }

    private void setReady(String ns, String pod, boolean ready) {
        String status = ready ? "True" : "False";
        try {
            // The annotation first (metadata), then the conditions (status subresource); merge patches, no resourceVersion.
            client.pods().inNamespace(ns).withName(pod).patch(PatchContext.of(PatchType.JSON_MERGE),
                    "{\"metadata\":{\"annotations\":{\"%s\":%s}}}".formatted(UNREADY, ready ? "null" : "\"true\""));
            client.pods().inNamespace(ns).withName(pod).subresource("status").patch(PatchContext.of(PatchType.STRATEGIC_MERGE),
                    "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"%s\"},{\"type\":\"ContainersReady\",\"status\":\"%s\"}]}}"
                            .formatted(status, status));
        } catch (KubernetesClientException e) {
            if (e.getCode() != 404) { // deleted meanwhile: nothing to do
                throw e;
            }
        }
    }

    static boolean ofStatefulSet(Pod p) {
        return p.getMetadata().getOwnerReferences().stream().anyMatch(o -> "StatefulSet".equals(o.getKind()));
    }

    static boolean ready(Pod p) {
        return p.getStatus() != null && p.getStatus().getConditions().stream()
                .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    /**
     * Every workload at its replica count with every pod Ready, exactly the layout's pods and none terminating, every
     * policy Ready in DryRun: each run starts from the same state.
     */
    private void awaitSteady(Layout layout, Side side, SharedIndexInformer<ExecutionPolicy> xp, int policies) throws InterruptedException {
        await("workloads, pods and policies ready").atMost(SETUP).pollInterval(Duration.ofMillis(100))
                .until(() -> side.workloads().allReady(layout) && side.pods().steady(layout.pods())
                        && (xp == null || all(xp, policies, p -> p.getStatus().mode == ExecutionMode.DRY_RUN
                                && Conditions.isTrue(p.getStatus().conditions, Conditions.READY)
                                && (p.getStatus().emergencyStop == null || !Boolean.TRUE.equals(p.getStatus().emergencyStop.active)))));
        Thread.sleep(1000); // let the pod churn of the reset settle before the next t0
    }

    private static void awaitAll(SharedIndexInformer<ExecutionPolicy> xp, int policies, String what, Predicate<ExecutionPolicy> ok) {
        awaitAll(xp, policies, what, STEP, ok);
    }

    private static void awaitAll(SharedIndexInformer<ExecutionPolicy> xp, int policies, String what, Duration atMost,
            Predicate<ExecutionPolicy> ok) {
        await("every policy " + what).atMost(atMost).pollInterval(Duration.ofMillis(100)).until(() -> all(xp, policies, ok));
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

    // ---------------------------------------------------------------- the watches

    /** The Deployments and StatefulSets of one namespace as a watch sees them; tells when every one has reached a replica count. */
    static final class Workloads implements AutoCloseable {
        private final SharedIndexInformer<Deployment> deployments;
        private final SharedIndexInformer<StatefulSet> statefulSets;
        private final Set<String> pending = new HashSet<>();
        private int target;
        private CompletableFuture<Long> reached = CompletableFuture.completedFuture(0L);

        Workloads(KubernetesClient client, String ns) {
            deployments = client.apps().deployments().inNamespace(ns).inform(handler((d, gone) -> seen("d/", d, d.getSpec().getReplicas())));
            statefulSets = client.apps().statefulSets().inNamespace(ns).inform(handler((s, gone) -> seen("s/", s, s.getSpec().getReplicas())));
        }

        /** Completes with System.nanoTime() of the event that brought the last workload to {@code replicas}. */
        synchronized CompletableFuture<Long> expect(int replicas) {
            target = replicas;
            reached = new CompletableFuture<>();
            pending.clear();
            deployments.getStore().list().stream().filter(d -> !Objects.equals(d.getSpec().getReplicas(), replicas))
                    .forEach(d -> pending.add("d/" + d.getMetadata().getName()));
            statefulSets.getStore().list().stream().filter(s -> !Objects.equals(s.getSpec().getReplicas(), replicas))
                    .forEach(s -> pending.add("s/" + s.getMetadata().getName()));
            if (pending.isEmpty()) {
                reached.complete(System.nanoTime());
            }
            return reached;
        }

        private synchronized void seen(String kind, HasMetadata w, Integer replicas) {
            if (!reached.isDone() && Objects.equals(replicas, target) && pending.remove(kind + w.getMetadata().getName())
                    && pending.isEmpty()) {
                reached.complete(System.nanoTime());
            }
        }

        boolean allReady(Layout layout) {
            List<Deployment> ds = deployments.getStore().list();
            List<StatefulSet> ss = statefulSets.getStore().list();
            return ds.size() == layout.deployments() && ss.size() == layout.statefulSets()
                    && ds.stream().allMatch(d -> Objects.equals(d.getSpec().getReplicas(), 1) && d.getStatus() != null
                            && Objects.equals(d.getStatus().getReadyReplicas(), 1) && Objects.equals(d.getStatus().getReplicas(), 1)
                            && Objects.equals(d.getStatus().getObservedGeneration(), d.getMetadata().getGeneration()))
                    && ss.stream().allMatch(s -> Objects.equals(s.getSpec().getReplicas(), STATEFUL_REPLICAS) && s.getStatus() != null
                            && Objects.equals(s.getStatus().getReadyReplicas(), STATEFUL_REPLICAS)
                            && Objects.equals(s.getStatus().getReplicas(), STATEFUL_REPLICAS)
                            && Objects.equals(s.getStatus().getObservedGeneration(), s.getMetadata().getGeneration()));
        }

        /** Ready pods of every StatefulSet, by their status. */
        int statefulSetsReady() {
            return statefulSets.getStore().list().stream()
                    .mapToInt(s -> s.getStatus() == null || s.getStatus().getReadyReplicas() == null ? 0 : s.getStatus().getReadyReplicas()).sum();
        }

        @Override
        public void close() {
            deployments.close();
            statefulSets.close();
        }
    }

    /**
     * The pods of one namespace as a watch sees them. From {@link #expect} on it tells when none of them is left
     * without a deletionTimestamp (every one terminating or gone) and when none is left at all (every pod object
     * deleted from the API server).
     */
    static final class Pods implements AutoCloseable {
        /** Two moments of one run, each System.nanoTime() of the event that made it true. */
        record Expectation(CompletableFuture<Long> terminating, CompletableFuture<Long> gone) {
        }

        private final SharedIndexInformer<Pod> informer;
        /** The pods counted, by uid, and those of them not yet terminating. */
        private final Set<String> present = new HashSet<>();
        private final Set<String> running = new HashSet<>();
        private boolean onlyInitial;
        private Expectation expected = new Expectation(CompletableFuture.completedFuture(0L), CompletableFuture.completedFuture(0L));

        Pods(KubernetesClient client, String ns) {
            informer = client.pods().inNamespace(ns).inform(handler(this::seen));
        }

        /** {@code onlyInitial}: only the pods that exist now count (a pod created later is not waited for). */
        synchronized Expectation expect(boolean onlyInitial) {
            this.onlyInitial = onlyInitial;
            present.clear();
            running.clear();
            for (Pod p : informer.getStore().list()) {
                present.add(p.getMetadata().getUid());
                if (p.getMetadata().getDeletionTimestamp() == null) {
                    running.add(p.getMetadata().getUid());
                }
            }
            expected = new Expectation(new CompletableFuture<>(), new CompletableFuture<>());
            check();
            return expected;
        }

        private synchronized void seen(Pod p, boolean deleted) {
            String uid = p.getMetadata().getUid();
            if (deleted) {
                present.remove(uid);
                running.remove(uid);
            } else if (present.contains(uid) || !onlyInitial && !expected.gone().isDone()) {
                present.add(uid);
                if (p.getMetadata().getDeletionTimestamp() == null) {
                    running.add(uid);
                } else {
                    running.remove(uid);
                }
            }
            check();
        }

        private void check() {
            long now = System.nanoTime();
            if (running.isEmpty()) {
                expected.terminating().complete(now);
            }
            if (present.isEmpty()) {
                expected.gone().complete(now);
            }
        }

        List<Pod> store() {
            return informer.getStore().list();
        }

        /** Exactly {@code pods} pods, each Ready and none terminating. */
        boolean steady(int pods) {
            List<Pod> all = store();
            return all.size() == pods && all.stream().allMatch(p -> p.getMetadata().getDeletionTimestamp() == null && ready(p));
        }

        @Override
        public void close() {
            informer.close();
        }
    }

    /** A handler that passes every added, updated and deleted object on, with whether it was deleted. */
    private static <T extends HasMetadata> ResourceEventHandler<T> handler(BiConsumer<T, Boolean> changed) {
        return new ResourceEventHandler<>() {
            @Override
            public void onAdd(T obj) {
                changed.accept(obj, false);
            }

            @Override
            public void onUpdate(T oldObj, T newObj) {
                changed.accept(newObj, false);
            }

            @Override
            public void onDelete(T obj, boolean deletedFinalStateUnknown) {
                changed.accept(obj, true);
            }
        };
    }

    // ---------------------------------------------------------------- figures

    /** Milliseconds of one method and metric: the first (cold, not counted) run apart from the rest; timeouts counted. */
    static final class Series {
        /** The warm-up run's figure; infinite if it timed out. */
        Double first;
        final List<Double> values = new ArrayList<>();
        /** Runs (after the first) that timed out: they sort above every figure. */
        int timeouts;
        /** Figures that were not there to read (own: a policy without latencyMillis or completedMillis). */
        int missing;
        /** Whether the last run's figure was seen (not a timeout). */
        boolean lastSeen;

        /** A run's figure, or null: it timed out. */
        void add(int run, Double ms) {
            lastSeen = ms != null;
            double v = ms == null ? Double.POSITIVE_INFINITY : ms;
            if (run == 0) {
                first = first == null ? v : Math.max(first, v);
            } else if (ms == null) {
                timeouts++;
            } else {
                values.add(v);
            }
        }

        /** A figure read from the operator's status, or null: not recorded (not a timeout). */
        void addOrMissing(int run, Number ms) {
            if (ms == null) {
                missing++;
            } else {
                add(run, ms.doubleValue());
            }
        }

        int count() {
            return values.size() + timeouts;
        }

        /**
         * Nearest rank over every counted run, a timeout ranking above every figure: with fewer than 100 runs p99 is
         * the max, with fewer than 20 p95 too. Infinite when the rank falls on a timeout; NaN without any run.
         */
        double p(double q) {
            if (count() == 0) {
                return Double.NaN;
            }
            List<Double> sorted = values.stream().sorted().toList();
            int rank = Math.max(0, (int) Math.ceil(q * count()) - 1);
            return rank < sorted.size() ? sorted.get(rank) : Double.POSITIVE_INFINITY;
        }
    }

    /** Every series of one size and variant, by method and metric, in the order first added: one table. */
    static final class Table {
        final Map<String, Map<Metric, Series>> byMethod = new LinkedHashMap<>();

        Series series(String method, Metric metric) {
            return byMethod.computeIfAbsent(method, m -> new LinkedHashMap<>()).computeIfAbsent(metric, m -> new Series());
        }

        Series get(String method, Metric metric) {
            return byMethod.getOrDefault(method, Map.of()).get(metric);
        }
    }

    private String header(List<Variant> variants) throws Exception {
        String cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("?");
        Process nproc = new ProcessBuilder("nproc").start();
        String cores = new String(nproc.getInputStream().readAllBytes()).trim();
        StringBuilder sets = new StringBuilder();
        for (Variant v : variants) {
            sets.append("\n             %-12s %s".formatted(v, v.description));
        }
        return """
                == Emergency-stop latency (ms): t0 just before the kubectl command; t1 when a watch in this JVM (Fabric8 informers
                   on the namespace's Deployments, StatefulSets and Pods, started before t0) has seen:
                   replicas=0        spec.replicas=0 on every one of the N workloads
                   pods terminating  no pod left without a deletionTimestamp (every pod being deleted or gone)
                   pods gone         no pod left at all: every pod object deleted from the API server (kwok, the fake
                                     kubelet, removes a pod as soon as it is terminating: no grace period here)
                   timeout           not seen within %d s after the kubectl command returned (DEADLINE); it ranks above
                                     every figure, so a percentile that falls on one prints "timeout"; column t/o counts them
                methods:
                   operator     kubectl annotate namespace NS %s=bench   (DryRun policies of %d workloads each, via selector)
                   own          the operator's own figures of each policy: status.emergencyStop.latencyMillis (stop seen ->
                                zeros written) and completedMillis (stop seen -> no pod of the system left, as its reconciler
                                saw it); one figure per policy and run, "first" is the slowest policy of the warm-up stop
                   scale        kubectl scale deployment,statefulset --replicas=0 --all -n NS2   (same workloads, no policies;
                                kubectl limits itself to 5 requests/s after a burst of 10, client-go's default)
                   loop         kubectl scale KIND NAME --replicas=0 -n NS2, one call per workload, one after another
                   direct       this JVM merge-patches every workload's scale to 0 and then deletes every pod of NS2, 64
                                requests at a time: the kill switch's writes with no watch, policy or reconciler between (no
                                stop either, so a ReplicaSet that has not yet seen its zero replaces a deleted pod)
                   delete-pods  kubectl delete pods --all -n NS2: removes the pods but not the replicas, so the controllers
                                recreate them at once; its figures count only the pods that existed at t0 (no replicas=0)
                   ratio        that method / operator, same metric, at p50 and at p99 (above 1: the operator is faster)
                workloads:%s
                machine: nproc %s (%s), Java %s %s, kube-apiserver %s, kubectl %s
                cluster: %s
                runs: %d per method and size (kubectl baselines: %d; unready variant: at most %d), after 1 warm-up run that is not counted (its figure is shown as "first")%s
                """.formatted(deadline.toSeconds(), STOP, PER_POLICY, sets, cores, cpu, System.getProperty("java.vendor"),
                System.getProperty("java.version"), plane.serverVersion(), plane.kubectl(), Bench.controllerLimits(), runs,
                baselineRuns, unreadyRuns,
                runs < 100 ? "\nnote: fewer than 100 runs: the p99 of fewer than 100 figures (column n) is simply their max, and so is the p95 of fewer than 20" : "");
    }

    private String table(Layout layout, Table f, int opRuns, int baseRuns, String log) {
        StringBuilder t = new StringBuilder("\nN=%d %s: %s of 1 pod, %s of %d pods (OrderedReady%s), %s; %s%n"
                .formatted(layout.n(), layout.variant(), count(layout.deployments(), "Deployment"), count(layout.statefulSets(), "StatefulSet"),
                        STATEFUL_REPLICAS, layout.variant() == Variant.unready ? ", pods unready" : "", count(layout.pods(), "pod"),
                        count(layout.policies(), "policy")));
        t.append("%-11s %-16s %5s %4s %8s %8s %8s %8s %8s %8s  %9s %9s%n".formatted("method", "metric", "n", "t/o", "first", "min",
                "p50", "p95", "p99", "max", "ratio p50", "ratio p99"));
        for (var method : f.byMethod.entrySet()) {
            String name = method.getKey();
            for (var m : method.getValue().entrySet()) {
                Series operator = name.equals("operator") || name.equals("own") ? null : f.get("operator", m.getKey());
                row(t, name, m.getKey(), m.getValue(), operator);
                record(layout, name, m.getKey(), m.getValue());
                figures(figures, layout.n(), layout.variant().name(), name, m.getKey(), m.getValue(), operator);
            }
            if (name.equals("delete-pods")) {
                t.append("%-11s %-16s (not a figure: kubectl delete pods leaves the replicas; its pod figures count the pods of t0 only)%n"
                        .formatted("", Metric.REPLICAS.label));
            }
        }
        if (baselines && layout.n() > loopMax) {
            t.append("loop        skipped: N=%d > LOOP_MAX=%d (one kubectl process per workload; set LOOP_MAX to run it)%n"
                    .formatted(layout.n(), loopMax));
        }
        Series own = f.get("own", Metric.OWN);
        if (own != null && own.missing > 0) {
            t.append("own: %d policy stops recorded no latencyMillis%n".formatted(own.missing));
            figures.add(Metric.OWN.key, params(layout, "own", "missing"), own.missing, "count");
        }
        Series completed = f.get("own", Metric.OWN_COMPLETED);
        if (completed != null && completed.missing > 0) {
            t.append("own: %d policy stops recorded no completedMillis (pods not gone, or not recorded within 30 s)%n".formatted(completed.missing));
            figures.add(Metric.OWN_COMPLETED.key, params(layout, "own", "missing"), completed.missing, "count");
        }
        return t.append("operator log: ").append(log).append('\n').toString();
    }

    static String count(int n, String thing) {
        return n + " " + (n == 1 ? thing : thing.endsWith("y") ? thing.substring(0, thing.length() - 1) + "ies" : thing + "s");
    }

    static void row(StringBuilder t, String method, Metric metric, Series s, Series operator) {
        t.append("%-11s %-16s %5d %4d %8s %8s %8s %8s %8s %8s".formatted(method, metric.label, s.count(), s.timeouts,
                ms(s.first), ms(s.p(0)), ms(s.p(0.5)), ms(s.p(0.95)), ms(s.p(0.99)), ms(s.p(1))));
        if (operator != null && operator.count() > 0 && s.count() > 0) {
            t.append("  %9s %9s".formatted(ratio(s.p(0.5), operator.p(0.5)), ratio(s.p(0.99), operator.p(0.99))));
        }
        t.append('\n');
    }

    /** A figure in ms: "-" for none, "timeout" for a run that timed out. */
    static String ms(Double v) {
        return v == null || v.isNaN() ? "-" : v.isInfinite() ? "timeout" : "%.0f".formatted(v);
    }

    static String ratio(double baseline, double operator) {
        return Double.isInfinite(baseline) || Double.isInfinite(operator) || Double.isNaN(baseline) || Double.isNaN(operator)
                ? "-" : "%.2f".formatted(baseline / operator);
    }

    private static Map<String, Object> params(Layout layout, String method, String stat) {
        return Figures.params("size", layout.n(), "workloads", layout.variant().name(), "method", method, "stat", stat);
    }

    /**
     * What one row of a table prints, as figures named after the metric (replicas-0, pods-gone, ...) with parameters
     * size, workloads, method and stat: {@code runs} and {@code timeouts} (count), {@code first}, {@code min},
     * {@code p50}, {@code p95}, {@code p99}, {@code max} (ms; null with note "timeout" where the table prints timeout,
     * left out where it prints "-"), and against {@code operator} {@code ratio-p50}, {@code ratio-p99} (x, that method /
     * operator, where the table prints them).
     */
    static void figures(Figures f, int n, String workloads, String method, Metric metric, Series s, Series operator) {
        Map<String, Object> at = Figures.params("size", n, "workloads", workloads, "method", method);
        stats(f, metric.key, at, s);
        if (operator != null && operator.count() > 0 && s.count() > 0) {
            for (double q : new double[] { 0.5, 0.99 }) {
                double base = s.p(q), op = operator.p(q);
                if (Double.isFinite(base) && Double.isFinite(op)) {
                    f.add(metric.key, Figures.with(at, "stat", "ratio-p" + Math.round(q * 100)), base / op, "x");
                }
            }
        }
    }

    /**
     * A series' figures named {@code name} with {@code at} and {@code stat}: {@code runs} and {@code timeouts} (count),
     * {@code first}, {@code min}, {@code p50}, {@code p95}, {@code p99}, {@code max} (ms; null with note "timeout" where a
     * table prints timeout, left out where it prints "-").
     */
    static void stats(Figures f, String name, Map<String, Object> at, Series s) {
        f.add(name, Figures.with(at, "stat", "runs"), s.count(), "count");
        f.add(name, Figures.with(at, "stat", "timeouts"), s.timeouts, "count");
        ms(f, name, Figures.with(at, "stat", "first"), s.first);
        for (double q : new double[] { 0, 0.5, 0.95, 0.99, 1 }) {
            String stat = q == 0 ? "min" : q == 1 ? "max" : "p" + Math.round(q * 100);
            ms(f, name, Figures.with(at, "stat", stat), s.p(q));
        }
    }

    /** A figure in ms as {@link #ms(Double)} prints it: nothing for "-", null with note "timeout" for "timeout". */
    private static void ms(Figures f, String name, Map<String, Object> params, Double v) {
        if (v == null || v.isNaN()) {
            return;
        }
        if (v.isInfinite()) {
            f.none(name, params, "ms", "timeout");
        } else {
            f.add(name, params, v, "ms");
        }
    }

    private void record(Layout layout, String method, Metric metric, Series s) {
        records.add(record(layout.n(), layout.variant().name(), method, metric, s));
    }

    /** One JSON record: a percentile that fell on a timeout is null, and "timeouts" says how many runs timed out. */
    static Map<String, Object> record(int n, String workloads, String method, Metric metric, Series s) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("size", n);
        r.put("workloads", workloads);
        r.put("method", method);
        r.put("metric", metric.key);
        r.put("runs", s.count());
        r.put("timeouts", s.timeouts);
        r.put("first", finite(s.first));
        r.put("firstTimedOut", s.first != null && s.first.isInfinite());
        r.put("min", finite(s.p(0)));
        r.put("p50", finite(s.p(0.5)));
        r.put("p95", finite(s.p(0.95)));
        r.put("p99", finite(s.p(0.99)));
        r.put("max", finite(s.p(1)));
        return r;
    }

    private static Long finite(Double v) {
        return v == null || v.isNaN() || v.isInfinite() ? null : Math.round(v);
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
