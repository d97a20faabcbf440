package io.marketintel.safety.bench;

import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.testing.ControlPlane;
import io.marketintel.safety.testing.Namespaces;
import io.marketintel.safety.testing.OperatorProcess;
import io.marketintel.safety.testing.PolicyTestSupport;
import io.marketintel.safety.testing.TradingSystem;

/**
 * bench/failover.sh: how long a trading system waits for the operator when its leader goes (issue 22, item 5). Two
 * replicas share one Lease, as the chart's {@code replicaCount: 2}; one policy. RUNS times, alternating: the leader is
 * stopped by SIGKILL (a crash or a lost node: the standby must wait for the Lease to expire) or by SIGTERM (a rollout
 * or a drain: the leader gives the Lease up), and at that moment the policy's mode is changed. Measured from the stop:
 * the standby leading (its {@code execution_safety_leader} gauge), and the change reconciled (status shows the new
 * mode). The stopped replica is started again as the new standby. The kill switch is not behind the election (every
 * replica applies a stop), so this is the wait of transitions and drift, not of stops. Lease settings: the operator's
 * defaults unless JVM_OPTS sets them ({@code -Dexecution-safety.leader-election.lease-duration=...}).
 * Prints figures; asserts nothing.
 */
public final class FailoverBench {
    private FailoverBench() {
    }

    public static void main(String[] args) {
        Bench.main("failover", FailoverBench::run);
    }

    private static void run(Figures f) throws Exception {
        int runs = Integer.parseInt(Bench.env("RUNS", "6"));
        List<String> jvm = Bench.operatorJvm();
        StringBuilder out = new StringBuilder();
        try (ControlPlane plane = Bench.controlPlane("failover-bench"); KubernetesClient client = plane.client()) {
            String ns = Namespaces.create(client, "failover");
            TradingSystem.deployment(client, ns, "d0", "s0", 1);
            client.resources(ExecutionPolicy.class).inNamespace(ns).resource(client.getKubernetesSerialization().unmarshal("""
                    apiVersion: safety.marketintel.io/v1alpha1
                    kind: ExecutionPolicy
                    metadata: {name: p, labels: {%s: process}}
                    spec:
                      mode: DryRun
                      workloads: {refs: [{kind: Deployment, name: d0}]}
                    """.formatted(OperatorProcess.LABEL), ExecutionPolicy.class)).create();
            out.append("""
                    Leader fail-over: two operator replicas on one Lease, one policy, %d runs (SIGKILL and SIGTERM alternating)
                    machine: nproc %d, kube-apiserver %s; operator: %s %s
                    operator runtime: %s
                    """.formatted(runs, Runtime.getRuntime().availableProcessors(), plane.serverVersion(), OperatorProcess.java(),
                    String.join(" ", jvm), Bench.runtime(OperatorProcess.java())));
            f.context("kubeApiserver", plane.serverVersion()).context("operatorJava", OperatorProcess.java())
                    .context("operatorJvmOptions", String.join(" ", jvm));
            OperatorProcess[] replicas = { OperatorProcess.start(plane, ns, null, "replica-a", jvm),
                    OperatorProcess.start(plane, ns, null, "replica-b", jvm) };
            int[] ports = { replicas[0].awaitReady(Duration.ofMinutes(3)), replicas[1].awaitReady(Duration.ofMinutes(3)) };
            try {
                ExecutionMode mode = ExecutionMode.DRY_RUN;
                awaitMode(client, ns, mode);
                StopLatencyBench.Series killLead = new StopLatencyBench.Series(), killDone = new StopLatencyBench.Series(),
                        termLead = new StopLatencyBench.Series(), termDone = new StopLatencyBench.Series();
                for (int r = 0; r < runs; r++) {
                    int leader = awaitLeader(ports);
                    int standby = 1 - leader;
                    boolean crash = r % 2 == 0;
                    mode = mode == ExecutionMode.DRY_RUN ? ExecutionMode.BACKTEST : ExecutionMode.DRY_RUN;
                    OperatorProcess gone = replicas[leader];
                    long t0 = System.nanoTime();
                    CompletableFuture<Void> stopped = CompletableFuture.runAsync(crash ? gone::kill : gone::terminate);
                    PolicyTestSupport.setMode(client, ns, "p", mode);
                    int standbyPort = ports[standby];
                    await("the standby leads").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(25))
                            .until(() -> ScaleBench.metric(standbyPort, "execution_safety_leader") == 1);
                    double lead = ScaleBench.ms(t0);
                    awaitMode(client, ns, mode);
                    double done = ScaleBench.ms(t0);
                    // Run numbers from 1: the series sets run 0 apart as a warm-up, and every run here counts.
                    (crash ? killLead : termLead).add(r + 1, lead);
                    (crash ? killDone : termDone).add(r + 1, done);
                    out.append("  run %d, %s: standby leads after %.0f ms, change reconciled after %.0f ms%n".formatted(r + 1,
                            crash ? "SIGKILL" : "SIGTERM", lead, done));
                    Map<String, Object> run = Figures.params("signal", crash ? "SIGKILL" : "SIGTERM", "run", r + 1);
                    f.add("standby-leads", run, lead, "ms").add("change-reconciled", run, done, "ms");
                    stopped.join();
                    replicas[leader] = OperatorProcess.start(plane, ns, null, leader == 0 ? "replica-a" : "replica-b", jvm);
                    ports[leader] = replicas[leader].awaitReady(Duration.ofMinutes(3));
                }
                out.append("SIGKILL: standby leads p50 %.0f ms (max %.0f), change reconciled p50 %.0f ms (max %.0f)%n".formatted(
                        killLead.p(0.5), killLead.p(1), killDone.p(0.5), killDone.p(1)));
                out.append("SIGTERM: standby leads p50 %.0f ms (max %.0f), change reconciled p50 %.0f ms (max %.0f)%n".formatted(
                        termLead.p(0.5), termLead.p(1), termDone.p(0.5), termDone.p(1)));
                for (String signal : List.of("SIGKILL", "SIGTERM")) {
                    boolean kill = signal.equals("SIGKILL");
                    summary(f, "standby-leads", signal, kill ? killLead : termLead);
                    summary(f, "change-reconciled", signal, kill ? killDone : termDone);
                }
            } finally {
                for (OperatorProcess p : replicas) {
                    p.close();
                }
            }
        }
        System.out.println();
        System.out.print(out);
        Files.writeString(Path.of("target", "failover-bench.txt"), out);
    }

    /** The p50 and max of one series as printed, {@code stat} p50 and max; nothing for a signal without a run (RUNS=1). */
    static void summary(Figures f, String name, String signal, StopLatencyBench.Series s) {
        if (s.count() > 0) {
            f.add(name, Figures.params("signal", signal, "stat", "p50"), s.p(0.5), "ms")
                    .add(name, Figures.params("signal", signal, "stat", "max"), s.p(1), "ms");
        }
    }

    /** The index of the replica whose gauge says it leads. */
    private static int awaitLeader(int[] ports) {
        int[] found = { -1 };
        await("a leader").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(100)).until(() -> {
            for (int i = 0; i < ports.length; i++) {
                if (ScaleBench.metric(ports[i], "execution_safety_leader") == 1) {
                    found[0] = i;
                    return true;
                }
            }
            return false;
        });
        return found[0];
    }

    private static void awaitMode(KubernetesClient client, String ns, ExecutionMode mode) {
        await("p in " + mode).atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(25)).until(() -> {
            ExecutionPolicy p = PolicyTestSupport.get(client, ns, "p");
            return p != null && p.getStatus() != null && p.getStatus().mode == mode && p.getStatus().transition == null;
        });
    }
}
