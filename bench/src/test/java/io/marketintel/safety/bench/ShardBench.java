package io.marketintel.safety.bench;

import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus.Phase;
import io.marketintel.safety.api.v1alpha1.ExecutionSafety;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.testing.ControlPlane;
import io.marketintel.safety.testing.Kubectl;
import io.marketintel.safety.testing.Namespaces;
import io.marketintel.safety.testing.OperatorProcess;
import io.marketintel.safety.testing.PolicyTestSupport;
import io.marketintel.safety.testing.TradingSystem;

/**
 * bench/shards.sh: a sharded install (issue 22, item 6; the chart's {@code shards}). SHARDS packaged operators (3),
 * one replica each, configured as the chart configures its shards: each governs its own namespaces (namespace k belongs
 * to shard k mod SHARDS) and elects its leader on a Lease of its own; only the first writes the status of
 * ExecutionSafety/global. POLICIES DryRun policies (3000), one Deployment each, spread round robin over NAMESPACES
 * namespaces (2 per shard by default). Measured: from the first create until every policy is Ready, with each shard's
 * reconciles, CPU and resident set; then a cluster-wide stop (ExecutionSafety/global annotated): until every shard's
 * last workload is at zero replicas, and until every policy says EmergencyStopped. CONTROLLER_QPS, JVM_OPTS,
 * OPERATOR_JAVA as for bench/scale.sh. Prints figures; asserts nothing.
 */
public final class ShardBench {
    static final Duration SETUP = Duration.ofMinutes(30);

    private ShardBench() {
    }

    public static void main(String[] args) {
        Bench.main("shards", ShardBench::run);
    }

    static void run(Figures f) throws Exception {
        int n = Integer.parseInt(Bench.env("POLICIES", "3000"));
        int shards = Math.max(1, Integer.parseInt(Bench.env("SHARDS", "3")));
        int spread = Math.max(shards, Integer.parseInt(Bench.env("NAMESPACES", String.valueOf(2 * shards))));
        List<String> jvm = Bench.operatorJvm();
        String load = Bench.loadAverage();
        ControlPlane plane = Bench.controlPlane("shard-bench");
        List<OperatorProcess> operators = new ArrayList<>();
        StringBuilder out = new StringBuilder();
        try (KubernetesClient client = plane.client()) {
            ScaleBench.podCapacity(client, n + 100);
            List<String> namespaces = new ArrayList<>();
            for (int k = 0; k < spread; k++) {
                namespaces.add(Namespaces.create(client, "shard"));
            }
            String leaseNs = namespaces.get(0);
            Map<String, Object> at = Figures.params("policies", n, "shards", shards, "namespaces", spread);
            f.context("kubeApiserver", plane.serverVersion()).context("controllerLimits", Bench.controllerLimits())
                    .context("operatorJava", OperatorProcess.java()).context("operatorJvmOptions", String.join(" ", jvm))
                    .context("operatorRuntime", Bench.runtime(OperatorProcess.java()));
            out.append("""
                    Shards: %d policies, one Deployment (1 replica) each, over %d namespaces and %d shards (one replica each)
                    machine: nproc %d, Java %s %s, kube-apiserver %s (loopback, kwok node)
                    cluster: %s
                    operator: %s %s -jar target/quarkus-app/quarkus-run.jar
                    """.formatted(n, spread, shards, Runtime.getRuntime().availableProcessors(), System.getProperty("java.vendor"),
                    System.getProperty("java.version"), plane.serverVersion(), Bench.controllerLimits(), OperatorProcess.java(),
                    String.join(" ", jvm)));

            // The chart's shard s: its namespaces, its Lease; only shard 0 writes ExecutionSafety/global's status.
            for (int s = 0; s < shards; s++) {
                List<String> own = new ArrayList<>();
                for (int k = s; k < spread; k += shards) {
                    own.add(namespaces.get(k));
                }
                List<String> options = new ArrayList<>(jvm);
                options.add("-Dexecution-safety.leader-election.lease-name=shard-" + s);
                options.add("-Dquarkus.operator-sdk.controllers.executionpolicy.namespaces=" + String.join(",", own));
                if (s > 0) {
                    options.add("-Dexecution-safety.cluster-status.enabled=false");
                }
                operators.add(OperatorProcess.start(plane, leaseNs, null, "shard-" + s, options));
            }
            List<Integer> ports = new ArrayList<>();
            for (OperatorProcess o : operators) {
                ports.add(o.awaitReady(Duration.ofMinutes(3)));
            }

            progress("creating %d deployments", n);
            Bench.parallel(n, i -> TradingSystem.deployment(client, namespaces.get(i % spread), "d" + i, "s" + i, 1));
            Set<String> ours = Set.copyOf(namespaces);
            try (SharedIndexInformer<ExecutionPolicy> xp = client.resources(ExecutionPolicy.class).inAnyNamespace()
                    .withLabel(OperatorProcess.LABEL, "process").inform();
                    SharedIndexInformer<Deployment> deployments = client.apps().deployments().inAnyNamespace().inform()) {
                List<Double> reconcilesBefore = new ArrayList<>();
                List<Double> cpuBefore = new ArrayList<>();
                for (int s = 0; s < shards; s++) {
                    reconcilesBefore.add(ScaleBench.metric(ports.get(s), "reconciliations_started_total"));
                    cpuBefore.add(ScaleBench.cpuSeconds(operators.get(s).pid()));
                }
                Map<String, Double> planeBefore = ScaleBench.cpuByProcess(operators.get(0).pid());
                progress("creating %d policies", n);
                long t0 = System.nanoTime();
                ScaleBench.createPolicies(client, n, namespaces);
                await("every policy Ready in DryRun").atMost(SETUP).pollInterval(Duration.ofMillis(200))
                        .until(() -> ScaleBench.ready(xp) == n);
                double allReady = ScaleBench.ms(t0);
                Map<String, Double> planeAfter = ScaleBench.cpuByProcess(operators.get(0).pid());
                out.append("first create -> all %d Ready (DryRun):  %8.0f ms   (%.1f policies/s)%n".formatted(n, allReady,
                        n / (allReady / 1000)));
                f.add("all-ready", at, allReady, "ms").add("policies-per-second", at, n / (allReady / 1000), "/s");
                for (int s = 0; s < shards; s++) {
                    Map<String, Object> shard = Figures.with(at, "shard", s);
                    double reconciles = ScaleBench.metric(ports.get(s), "reconciliations_started_total") - reconcilesBefore.get(s);
                    double cpu = ScaleBench.cpuSeconds(operators.get(s).pid()) - cpuBefore.get(s);
                    String rss = ScaleBench.field(Files.readString(Path.of("/proc", String.valueOf(operators.get(s).pid()), "status")), "VmRSS");
                    out.append("  shard %d: %.0f reconciles, %.1f s of CPU, RSS %s%n".formatted(s, reconciles, cpu, rss));
                    f.add("reconciles", shard, reconciles, "count").add("operator-cpu-seconds", shard, cpu, "s");
                    ScaleBench.addKiB(f, "rss", shard, rss);
                }
                out.append("CPU seconds of the control plane in that time:");
                planeAfter.forEach((process, seconds) -> {
                    if (!process.equals("operator")) {
                        double used = seconds - planeBefore.getOrDefault(process, 0.0);
                        out.append(" %s %.1f".formatted(process, used));
                        f.add("cpu-seconds", Figures.with(at, "process", process), used, "s");
                    }
                });
                out.append('\n');

                // A cluster-wide stop: every shard applies it to its own namespaces' policies.
                PolicyTestSupport.ensureGlobal(client, new Kubectl(plane));
                progress("cluster-wide stop of %d policies over %d shards", n, shards);
                long stop = System.nanoTime();
                client.resources(ExecutionSafety.class).withName(ExecutionSafety.SINGLETON_NAME).patch(PatchContext.of(PatchType.JSON_MERGE),
                        "{\"metadata\":{\"annotations\":{\"" + MetadataNames.EMERGENCY_STOP_ANNOTATION + "\":\"shard bench\"}}}");
                Map<Integer, Double> shardZero = new LinkedHashMap<>();
                await("every workload at zero replicas").atMost(SETUP).pollInterval(Duration.ofMillis(20)).until(() -> {
                    for (int s = 0; s < shards; s++) {
                        if (!shardZero.containsKey(s) && atZero(deployments, namespaces, ours, shards, s)) {
                            shardZero.put(s, ScaleBench.ms(stop));
                        }
                    }
                    return shardZero.size() == shards;
                });
                double allZero = shardZero.values().stream().mapToDouble(Double::doubleValue).max().orElse(0);
                await("every policy EmergencyStopped").atMost(SETUP).pollInterval(Duration.ofMillis(200))
                        .until(() -> xp.getStore().list().stream().filter(p -> p.getStatus() != null
                                && p.getStatus().phase == Phase.EmergencyStopped).count() == n);
                double allStopped = ScaleBench.ms(stop);
                out.append("cluster-wide stop -> every workload at replicas 0: %8.0f ms (by shard:".formatted(allZero));
                shardZero.forEach((s, ms) -> out.append(" %d %.0f ms".formatted(s, ms)));
                out.append(")%ncluster-wide stop -> every policy EmergencyStopped: %8.0f ms%n".formatted(allStopped));
                f.add("cluster-stop-all-zero", at, allZero, "ms").add("cluster-stop-all-recorded", at, allStopped, "ms");
                shardZero.forEach((s, ms) -> f.add("cluster-stop-shard-zero", Figures.with(at, "shard", s), ms, "ms"));
            }
            for (OperatorProcess o : operators) {
                out.append("operator log: ").append(o.log()).append('\n');
            }
            ScaleBench.print(out, load, "shard-bench.txt");
        } finally {
            for (OperatorProcess o : operators) {
                o.close();
            }
            plane.close();
        }
    }

    /** Shard {@code s}'s namespaces have Deployments, every one at zero replicas (the informer's view). */
    static boolean atZero(SharedIndexInformer<Deployment> deployments, List<String> namespaces, Set<String> ours, int shards, int s) {
        List<Deployment> own = deployments.getStore().list().stream()
                .filter(d -> ours.contains(d.getMetadata().getNamespace()) && namespaces.indexOf(d.getMetadata().getNamespace()) % shards == s)
                .toList();
        return !own.isEmpty() && own.stream().allMatch(d -> d.getSpec().getReplicas() != null && d.getSpec().getReplicas() == 0);
    }

    static void progress(String format, Object... args) {
        System.err.printf("[shards] " + format + "%n", args);
    }
}
