package io.marketintel.safety.bench;

import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BooleanSupplier;

import org.awaitility.core.ConditionTimeoutException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus.Phase;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.testing.ControlPlane;
import io.marketintel.safety.testing.GaugeExporter;
import io.marketintel.safety.testing.Kubectl;
import io.marketintel.safety.testing.Namespaces;
import io.marketintel.safety.testing.OperatorProcess;
import io.marketintel.safety.testing.PolicyTestSupport;
import io.marketintel.safety.testing.PrometheusServer;
import io.marketintel.safety.testing.TradingSystem;

/**
 * bench/monitor-breach.sh: how long a risk monitor's breach takes to leave a trading system without a pod (issue 23,
 * item 2; the documented target is scrape interval + evaluation interval + 1 s). Its own control plane, a real Prometheus
 * scraping a loopback exporter every SCRAPE_INTERVAL, {@code ExecutionSafety/global spec.monitoring.interval}
 * EVAL_INTERVAL, the packaged operator as its own process, one DryRun policy over one Deployment of PODS pods with one
 * monitor ({@code max(trading_daily_loss_usd{desk="bench"}) > 100}, {@code modes: [DryRun]}). RUNS times after a
 * warm-up run: the exporter's value raised above the threshold; measured from that change: the first scrape that served
 * it, the stop annotation on the policy, {@code replicas: 0}, no pod left. Each change waits a random time (below the longer
 * interval, seeded by SEED) after the system is armed, so that it falls at any point of the scrape and evaluation cycles. Between runs (untimed): the value back under
 * the threshold, the stop removed and re-armed as a risk officer does, the pods back and the monitor Ok again.
 * Prints figures; asserts nothing.
 */
public final class MonitorBreachBench {
    static final String SERIES = "trading_daily_loss_usd{desk=\"bench\"}";
    static final String STOP = MetadataNames.EMERGENCY_STOP_ANNOTATION;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The figures of one run, and how each is named. */
    enum Step {
        SCRAPE("breach-to-scrape", "first scrape serving it"), ANNOTATION("breach-to-annotation", "stop annotation"),
        REPLICAS("breach-to-replicas-0", "replicas: 0"), NO_POD("breach-to-no-pod", "no pod left");

        final String key;
        final String label;

        Step(String key, String label) {
            this.key = key;
            this.label = label;
        }
    }

    private MonitorBreachBench() {
    }

    public static void main(String[] args) {
        Bench.main("monitor-breach", MonitorBreachBench::run);
    }

    private static void run(Figures f) throws Exception {
        int runs = Integer.parseInt(Bench.env("RUNS", "10"));
        Duration scrape = duration(Bench.env("SCRAPE_INTERVAL", "1s"));
        Duration evaluation = duration(Bench.env("EVAL_INTERVAL", "1s"));
        int pods = Integer.parseInt(Bench.env("PODS", "2"));
        Duration deadline = Duration.ofSeconds(Long.parseLong(Bench.env("DEADLINE", "60")));
        long seed = Long.parseLong(Bench.env("SEED", Long.toString(System.nanoTime() % 1_000_000)));
        java.util.Random random = new java.util.Random(seed);
        long period = Math.max(scrape.toMillis(), evaluation.toMillis());
        List<String> jvm = Bench.operatorJvm();
        Path out = Path.of("target", "monitor-breach-bench").toAbsolutePath();
        Map<String, Object> at = Figures.params("scrape", scrape.toMillis(), "evaluation", evaluation.toMillis(), "pods", pods);
        StringBuilder text = new StringBuilder();
        Map<Step, StopLatencyBench.Series> series = new java.util.EnumMap<>(Step.class);
        for (Step s : Step.values()) {
            series.put(s, new StopLatencyBench.Series());
        }
        try (ControlPlane plane = Bench.controlPlane("monitor-breach-bench"); KubernetesClient client = plane.client();
                GaugeExporter exporter = GaugeExporter.start();
                PrometheusServer prometheus = PrometheusServer.config().scrapeInterval(scrape).logLevel("warn")
                        .job("trading", exporter.target()).start(out.resolve("prometheus"))) {
            Kubectl kubectl = new Kubectl(plane);
            // Its own control plane: nothing to put back afterwards.
            PolicyTestSupport.setGlobal(client, kubectl, "monitoring", """
                    {"prometheus": {"url": "%s", "timeout": "5s"}, "interval": "%s"}""".formatted(prometheus.url(), PrometheusServer.duration(evaluation)));
            String ns = Namespaces.create(client, "monitor-breach");
            exporter.set(SERIES, 0);
            awaitScraped(prometheus, 0, deadline);
            TradingSystem.deployment(client, ns, "desk", "desk", pods);
            client.resources(ExecutionPolicy.class).inNamespace(ns).resource(client.getKubernetesSerialization().unmarshal("""
                    apiVersion: safety.marketintel.io/v1alpha1
                    kind: ExecutionPolicy
                    metadata: {name: desk, labels: {%s: process}}
                    spec:
                      mode: DryRun
                      workloads: {refs: [{kind: Deployment, name: desk}]}
                      monitors:
                        - name: daily-loss
                          query: 'max(%s)'
                          comparison: GreaterThan
                          threshold: 100
                          modes: [DryRun]
                    """.formatted(OperatorProcess.LABEL, SERIES), ExecutionPolicy.class)).create();
            text.append("""
                    Monitor breach to no pod: a real Prometheus (%s) scraping every %s, monitoring.interval %s, one DryRun policy of
                    one Deployment of %d pods, %d runs after a warm-up, each change at a random phase (SEED=%d); from the exporter's change (ms)
                    machine: nproc %d, kube-apiserver %s; operator: %s %s
                    """.formatted(PrometheusServer.version(), PrometheusServer.duration(scrape), PrometheusServer.duration(evaluation), pods, runs, seed,
                    Runtime.getRuntime().availableProcessors(), plane.serverVersion(), OperatorProcess.java(), String.join(" ", jvm)));
            f.context("kubeApiserver", plane.serverVersion()).context("prometheus", PrometheusServer.version())
                    .context("operatorJava", OperatorProcess.java()).context("operatorJvmOptions", String.join(" ", jvm));
            OperatorProcess operator = OperatorProcess.start(plane, ns, null, null, jvm);
            SharedIndexInformer<ExecutionPolicy> policies = client.resources(ExecutionPolicy.class).inNamespace(ns).inform();
            SharedIndexInformer<Deployment> deployments = client.apps().deployments().inNamespace(ns).inform();
            SharedIndexInformer<Pod> podWatch = client.pods().inNamespace(ns).inform();
            try {
                operator.awaitReady(Duration.ofMinutes(3));
                for (int r = 0; r <= runs; r++) {
                    awaitArmed(client, ns, pods, deadline);
                    // A random phase against the scrape and evaluation clocks: "armed" is seen just after an evaluation,
                    // and a change made at once would always land at the same point of both cycles.
                    Thread.sleep(random.nextLong(period));
                    GaugeExporter.Change change = exporter.set(SERIES, 1000 + r);
                    long[] seen = new long[Step.values().length];
                    BooleanSupplier gone = () -> {
                        long now = System.nanoTime();
                        if (seen[Step.ANNOTATION.ordinal()] == 0 && policies.getStore().list().stream().anyMatch(p -> p.getMetadata()
                                .getAnnotations() != null && p.getMetadata().getAnnotations().containsKey(STOP))) {
                            seen[Step.ANNOTATION.ordinal()] = now;
                        }
                        if (seen[Step.REPLICAS.ordinal()] == 0 && deployments.getStore().list().stream()
                                .anyMatch(d -> d.getSpec().getReplicas() == 0)) {
                            seen[Step.REPLICAS.ordinal()] = now;
                        }
                        if (podWatch.getStore().list().isEmpty()) {
                            seen[Step.NO_POD.ordinal()] = now;
                            return true;
                        }
                        return false;
                    };
                    try {
                        await("no pod left").atMost(deadline).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(10))
                                .until(gone::getAsBoolean);
                    } catch (ConditionTimeoutException e) {
                        // recorded as a timeout below
                    }
                    seen[Step.SCRAPE.ordinal()] = exporter.firstScrapeOf(change).orElse(0);
                    StringBuilder line = new StringBuilder("  run %d%s:".formatted(r, r == 0 ? " (warm-up)" : ""));
                    for (Step s : Step.values()) {
                        Double ms = seen[s.ordinal()] == 0 ? null : (seen[s.ordinal()] - change.nanos()) / 1e6;
                        series.get(s).add(r, ms);
                        line.append(" %s %s".formatted(s.label, StopLatencyBench.ms(ms == null ? Double.POSITIVE_INFINITY : ms)));
                        if (r > 0) {
                            if (ms == null) {
                                f.none(s.key, Figures.with(at, "run", r), "ms", "timeout");
                            } else {
                                f.add(s.key, Figures.with(at, "run", r), ms, "ms");
                            }
                        }
                    }
                    text.append(line).append('\n');
                    System.err.println("[monitor-breach]" + line);
                    exporter.set(SERIES, 0);
                    awaitScraped(prometheus, 0, deadline);
                    rearm(client, kubectl, ns, deadline);
                }
            } finally {
                policies.close();
                deployments.close();
                podWatch.close();
                operator.close();
            }
        }
        text.append("%-22s %5s %4s %8s %8s %8s %8s %8s%n".formatted("figure (ms)", "n", "t/o", "first", "min", "p50", "p95", "max"));
        for (Step s : Step.values()) {
            StopLatencyBench.Series v = series.get(s);
            text.append("%-22s %5d %4d %8s %8s %8s %8s %8s%n".formatted(s.key, v.count(), v.timeouts, StopLatencyBench.ms(v.first),
                    StopLatencyBench.ms(v.p(0)), StopLatencyBench.ms(v.p(0.5)), StopLatencyBench.ms(v.p(0.95)), StopLatencyBench.ms(v.p(1))));
            StopLatencyBench.stats(f, s.key, at, v);
        }
        double target = scrape.plus(evaluation).plus(Duration.ofSeconds(1)).toMillis();
        text.append("documented target: scrape + evaluation + 1 s = %.0f ms; p95 of no pod left: %s%n".formatted(target,
                StopLatencyBench.ms(series.get(Step.NO_POD).p(0.95))));
        f.add("target", at, target, "ms");
        System.out.println();
        System.out.print(text);
        Files.writeString(Path.of("target", "monitor-breach-bench.txt"), text);
    }

    /** Until the policy runs in DryRun, Ready, with {@code pods} pods and its monitor Ok: armed for the next breach. */
    private static void awaitArmed(KubernetesClient client, String ns, int pods, Duration deadline) {
        await("desk armed: DryRun, Ready, " + pods + " pods, monitor Ok").atMost(deadline).pollInterval(Duration.ofMillis(100))
                .ignoreExceptions().until(() -> {
                    ExecutionPolicy p = PolicyTestSupport.get(client, ns, "desk");
                    if (p.getStatus() == null || p.getStatus().mode != ExecutionMode.DRY_RUN || !PolicyTestSupport.ready(p)
                            || client.pods().inNamespace(ns).list().getItems().size() != pods) {
                        return false;
                    }
                    JsonNode json = JSON.readTree(client.getKubernetesSerialization().asJson(client.genericKubernetesResources(
                            "safety.marketintel.io/v1alpha1", "ExecutionPolicy").inNamespace(ns).withName("desk").get()));
                    for (JsonNode m : json.path("status").path("monitors")) {
                        if ("daily-loss".equals(m.path("name").asText()) && "Ok".equals(m.path("phase").asText())) {
                            return true;
                        }
                    }
                    return false;
                });
    }

    /** As a risk officer resumes: the stop recorded, its annotation removed, the removal seen, a re-arm of its epoch. */
    private static void rearm(KubernetesClient client, Kubectl kubectl, String ns, Duration deadline) {
        ExecutionPolicy stopped = await("desk stopped").atMost(deadline).pollInterval(Duration.ofMillis(100))
                .until(() -> PolicyTestSupport.get(client, ns, "desk"), p -> p.getStatus() != null
                        && p.getStatus().phase == Phase.EmergencyStopped && p.getStatus().emergencyStop != null
                        && p.getStatus().emergencyStop.epoch != null);
        Kubectl.Result removed = kubectl.run("annotate", "xp", "desk", "-n", ns, STOP + "-");
        if (removed.exitCode() != 0) {
            throw new IllegalStateException("kubectl annotate " + STOP + "-: " + removed.output());
        }
        await("removal of the stop seen").atMost(deadline).pollInterval(Duration.ofMillis(100))
                .until(() -> PolicyTestSupport.get(client, ns, "desk"), p -> p.getStatus().emergencyStop.message != null
                        && p.getStatus().emergencyStop.message.contains("does not resume"));
        Kubectl.Result rearmed = kubectl.run("annotate", "xp", "desk", "-n", ns,
                MetadataNames.REARM_ANNOTATION + "=" + stopped.getStatus().emergencyStop.epoch);
        if (rearmed.exitCode() != 0) {
            throw new IllegalStateException("kubectl annotate " + MetadataNames.REARM_ANNOTATION + ": " + rearmed.output());
        }
    }

    private static void awaitScraped(PrometheusServer prometheus, double value, Duration deadline) {
        await("Prometheus serves " + SERIES + " = " + value).atMost(deadline).pollInterval(Duration.ofMillis(50)).ignoreExceptions()
                .until(() -> {
                    JsonNode result = prometheus.query(SERIES);
                    return result.size() == 1 && result.get(0).path("value").path(1).asDouble() == value;
                });
    }

    /** "1s", "500ms", "2m" (what the settings take, as Prometheus and Kubernetes write durations). */
    static Duration duration(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        if (t.endsWith("ms")) {
            return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
        }
        long n = Long.parseLong(t.substring(0, t.length() - 1));
        return switch (t.charAt(t.length() - 1)) {
            case 's' -> Duration.ofSeconds(n);
            case 'm' -> Duration.ofMinutes(n);
            default -> throw new IllegalArgumentException("a duration such as 1s, 500ms or 1m, not " + text);
        };
    }
}
