package io.marketintel.safety.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import org.awaitility.core.ConditionTimeoutException;
import org.awaitility.core.TerminalFailureException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus.Phase;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.status.Conditions;
import io.marketintel.safety.testing.ControlPlane;
import io.marketintel.safety.testing.Kubectl;
import io.marketintel.safety.testing.Namespaces;
import io.marketintel.safety.testing.OperatorProcess;
import io.marketintel.safety.testing.SafetyInvariants;
import io.marketintel.safety.testing.TradingSystem;
import io.marketintel.safety.testing.Users;

/**
 * Issue 10: randomized faults on a real control plane of its own (etcd, kube-apiserver, controller-manager,
 * scheduler, kwok), in two lanes side by side (each its own namespace, three policies and the packaged operator as
 * its own process; a second replica joins for failovers), while {@link SafetyInvariants} watches every
 * pod and policy. Each run picks a fault kind and a policy, starts a transition (DryRun→Live with two approvals,
 * Live→DryRun, →Backtest, Backtest→DryRun) or an emergency stop, and injects the fault at a random point:
 * <ul>
 * <li>{@code KILL_IN_TRANSITION}, {@code KILL_IN_STOP}: SIGKILL the operator, start it again;</li>
 * <li>{@code APISERVER_RESTART}: kube-apiserver killed and started again (same port, same etcd);</li>
 * <li>{@code ETCD_PAUSE}: etcd SIGSTOPped for 1–5 s, then SIGCONTed;</li>
 * <li>{@code CONFLICTING_WRITER}: another writer scales the same Deployment (scale subresource, merge patch) and
 * restarts its rollout while the operator converges it;</li>
 * <li>{@code LEADER_FAILOVER_IN_STOP}: SIGKILL the replica holding the Lease while a stop is being applied.</li>
 * <li>{@code NAMESPACE_STOP_WHILE_DOWN} (issue 20): with every replica down, the lane's Namespace is stopped, its
 * workloads scaled to zero by hand (the runbook) and the stop annotation removed again before the operator starts: every
 * policy of the lane must still end stopped (latched, zero replicas, no pods) until re-armed.</li>
 * </ul>
 * After each fault every policy must converge, within a deadline, to the correct state (Ready in the mode it was
 * asked for with that mode's replicas and pods, or stopped with zero replicas and no pods), and the checker must
 * never have fired. Stopped policies are then re-armed (normal operation, no fault) for the next runs.
 * <p>
 * Seeded: the seed fixes every choice (kinds, policies, changes, points, delays, writes), not the timing of the
 * two lanes against each other. The seed is printed first ({@code target/faults/summary.txt} and this class's output file);
 * {@code -Dfaults.seed=S} replays it, {@code -Dfaults.runs=N} sets the number of runs (default 50): see
 * docs/testing.md for the soak command.
 */
class FaultInjectionIT {
    static final long SEED = Long.getLong("faults.seed", System.currentTimeMillis());
    static final int RUNS = Integer.getInteger("faults.runs", 50);
    static final int POLICIES = Integer.getInteger("faults.policies", 3);
    /** Lanes run side by side, each with its own namespace, policies and operator. */
    static final int LANES = Integer.getInteger("faults.lanes", 2);
    static final Duration DEADLINE = Duration.ofSeconds(120);
    static final Map<ExecutionMode, Integer> REPLICAS = Map.of(ExecutionMode.BACKTEST, 1, ExecutionMode.DRY_RUN, 2,
            ExecutionMode.LIVE, 3);

    enum Kind {
        KILL_IN_TRANSITION, KILL_IN_STOP, APISERVER_RESTART, ETCD_PAUSE, CONFLICTING_WRITER, LEADER_FAILOVER_IN_STOP,
        NAMESPACE_STOP_WHILE_DOWN
    }

    /** One policy of the suite, with what it must converge to. */
    static final class Pol {
        final String ns;
        final String name;
        final List<String> workloads; // "Deployment/d0", "StatefulSet/s0"
        ExecutionMode mode = ExecutionMode.DRY_RUN;
        boolean stopped;

        Pol(String ns, String name, List<String> workloads) {
            this.ns = ns;
            this.name = name;
            this.workloads = workloads;
        }

        String expected() {
            return stopped ? "stopped" : mode.wireName();
        }
    }

    record RunRecord(int index, Kind kind, String policy, String action, String point, String fault, long millis) {
    }

    static ControlPlane plane;
    static KubernetesClient client;
    static Kubectl kubectl;
    static SafetyInvariants invariants;
    static final List<Lane> lanes = new ArrayList<>();
    static final List<RunRecord> records = Collections.synchronizedList(new ArrayList<>());
    static final List<String> out = Collections.synchronizedList(new ArrayList<>());
    static volatile boolean failed;

    @BeforeAll
    static void startCluster() {
        plane = ControlPlane.start(Path.of("target", "fault-plane").toAbsolutePath(), true);
        client = plane.client();
        kubectl = new Kubectl(plane);
    }

    @AfterAll
    static void stopCluster() throws IOException {
        try {
            if (invariants != null) {
                invariants.close();
            }
        } finally {
            for (Lane lane : lanes) {
                if (lane.fleet != null) {
                    lane.fleet.close();
                }
            }
            if (client != null) {
                client.close();
            }
            if (plane != null) {
                plane.close();
            }
        }
    }

    @Test
    void everyFaultConvergesToTheSafeCorrectStateAndNoInvariantEverFires() throws Exception {
        say("faults: seed " + SEED + ", runs " + RUNS + " in " + LANES + " lanes of " + POLICIES + " policies"
                + " (replay with -Dfaults.seed=" + SEED + " -Dfaults.runs=" + RUNS + ")");
        long t0 = System.nanoTime();
        for (int i = 0; i < LANES; i++) {
            lanes.add(new Lane(i));
        }
        invariants = SafetyInvariants.watch(client, lanes.stream().map(l -> l.ns).toArray(String[]::new));
        lanes.forEach(Lane::startOperator);
        for (Lane lane : lanes) {
            lane.fleet.awaitLeader(DEADLINE);
            lane.awaitConverged("initial adoption");
        }
        say("faults: " + LANES + " lanes, " + LANES * POLICIES + " policies and their operators ready in "
                + TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0) + " s");

        long started = System.nanoTime();
        var pool = java.util.concurrent.Executors.newFixedThreadPool(LANES);
        try {
            List<java.util.concurrent.Future<?>> running = new ArrayList<>();
            for (int i = 0; i < LANES; i++) {
                Lane lane = lanes.get(i);
                int count = RUNS / LANES + (i < RUNS % LANES ? 1 : 0);
                int offset = i;
                running.add(pool.submit(() -> {
                    try {
                        lane.runAll(count, offset);
                    } catch (RuntimeException | Error e) {
                        failed = true;
                        throw e;
                    }
                }));
            }
            for (var f : running) {
                try {
                    f.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    if (e.getCause() instanceof Error err) {
                        throw err;
                    }
                    throw (Exception) e.getCause();
                }
            }
        } finally {
            pool.shutdownNow();
        }
        invariants.assertNone();
        Map<Kind, Integer> counts = new EnumMap<>(Kind.class);
        records.forEach(r -> counts.merge(r.kind(), 1, Integer::sum));
        say("faults: " + records.size() + " runs in " + TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started)
                + " s, seed " + SEED + ", per kind " + counts + ", operator restarts "
                + lanes.stream().mapToInt(l -> l.fleet.restarts()).sum()
                + ", invariant violations 0, max pods alive per mode " + invariants.maxAlive());
        assertThat(records).hasSize(RUNS);
        if (RUNS >= LANES * Kind.values().length) {
            assertThat(counts.keySet()).as("every fault kind ran").containsExactlyInAnyOrder(Kind.values());
        }
    }

    /**
     * One lane of runs: its own namespace, policies, people and operator (processes, Lease), so two lanes run side
     * by side on the one control plane. A kube-apiserver restart or an etcd pause in one lane hits the other lane
     * too, wherever it is: its own check after its own fault covers that.
     */
    final class Lane {
        final String name;
        final String ns;
        final Users users;
        final Random random;
        final List<Pol> policies = new ArrayList<>();
        OperatorFleet fleet;

        Lane(int index) {
            this.name = "lane" + index;
            this.random = new Random(SEED + index);
            this.ns = Namespaces.create(client, "faults-" + index);
            this.users = new Users(client, kubectl, ns).bind("bob", "execution-policy-editor").bind("alice", "execution-approver")
                    .bind("carol", "execution-approver");
            for (int i = 0; i < POLICIES; i++) {
                List<String> workloads = new ArrayList<>(List.of("Deployment/d" + i));
                TradingSystem.deployment(client, ns, "d" + i, "s" + i, 2);
                if (i % 2 == 1) {
                    TradingSystem.statefulSet(client, ns, "ss" + i, "s" + i, 1);
                    workloads.add("StatefulSet/ss" + i);
                }
                Pol p = new Pol(ns, "p" + i, workloads);
                policies.add(p);
                String refs = String.join(", ", workloads.stream().map(w -> "{kind: " + w.substring(0, w.indexOf('/')) + ", name: "
                        + w.substring(w.indexOf('/') + 1) + "}").toList());
                ok(() -> users.as("bob", """
                        apiVersion: safety.marketintel.io/v1alpha1
                        kind: ExecutionPolicy
                        metadata: {name: %s, labels: {%s: process}}
                        spec:
                          mode: DryRun
                          workloads: {refs: [%s]}
                          replicas: {backtest: 1, dryRun: 2, live: 3}
                          approval: {requiredForLive: 2, approvers: {users: [alice, carol]}}
                          riskLimits: {maxOrderNotional: 1000, maxPosition: 1000, maxDailyLoss: 100, maxOrdersPerSecond: 5}
                        """.formatted(p.name, OperatorProcess.LABEL, refs), "apply", "-f", "-"));
            }
        }

        void startOperator() {
            fleet = new OperatorFleet(plane, client, ns, name + "-a");
        }

        /** Runs {@code count} faults; the kinds in blocks of six, each block shuffled. */
        void runAll(int count, int offset) {
            List<Kind> order = new ArrayList<>();
            while (order.size() < count) {
                List<Kind> block = new ArrayList<>(List.of(Kind.values()));
                Collections.shuffle(block, random);
                order.addAll(block);
            }
            for (int i = 0; i < count && !failed; i++) {
                int index = offset + 2 * i;
                Kind kind = order.get(i);
                Pol p = policies.get(i % policies.size());
                long t = System.nanoTime();
                String[] did = run(index, kind, p);
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t);
                records.add(new RunRecord(index, kind, name + "/" + p.name, did[0], did[1], did[2], ms));
                say(String.format("faults: run %2d %-24s %s/%s %-18s at %-34s %s -> %s in %d ms", index, kind, name, p.name, did[0],
                        did[1], did[2], p.expected(), ms));
                invariants.assertNone();
            }
            fleet.restartDead();
            awaitConverged("after the last run");
        }

        void awaitConverged(String what) {
            FaultInjectionIT.awaitConverged(name + " " + what, policies, fleet.logs());
        }

        /** One run; returns {action, point, fault}. */
        private String[] run(int index, Kind kind, Pol p) {
            return switch (kind) {
                case KILL_IN_TRANSITION -> {
                    String action = transition(p, false);
                    String point = transitionPoint(p);
                    fleet.killAll();
                    fleet.restartDead();
                    finish(p, index);
                    yield new String[] { action, point, "SIGKILL all replicas" };
                }
                case KILL_IN_STOP -> {
                    String action = stop(p, index);
                    String point = stopPoint(p);
                    fleet.killAll();
                    fleet.restartDead();
                    finish(p, index);
                    yield new String[] { action, point, "SIGKILL all replicas" };
                }
                case APISERVER_RESTART -> {
                    boolean stop = random.nextInt(3) == 0;
                    String action = stop ? stop(p, index) : transition(p, false);
                    String point = stop ? stopPoint(p) : transitionPoint(p);
                    Duration took = plane.restartApiServer();
                    finish(p, index);
                    yield new String[] { action, point, "kube-apiserver restarted in " + took.toMillis() + " ms" };
                }
                case ETCD_PAUSE -> {
                    boolean stop = random.nextInt(3) == 0;
                    String action = stop ? stop(p, index) : transition(p, false);
                    String point = stop ? stopPoint(p) : transitionPoint(p);
                    Duration pause = Duration.ofMillis(1000 + random.nextInt(4001));
                    plane.pauseEtcd(pause);
                    finish(p, index);
                    yield new String[] { action, point, "etcd paused " + pause.toMillis() + " ms" };
                }
                case CONFLICTING_WRITER -> {
                    String action = transition(p, true);
                    List<String> writes = conflictingWrites(p);
                    finish(p, index);
                    yield new String[] { action, "from the request on", "writer: " + String.join(",", writes) };
                }
                case NAMESPACE_STOP_WHILE_DOWN -> {
                    fleet.killAll();
                    ok(() -> kubectl.run("annotate", "--overwrite", "namespace", ns, MetadataNames.EMERGENCY_STOP_ANNOTATION
                            + "=fault run " + index + " while the operator is down"));
                    for (Pol each : policies) {
                        for (String w : each.workloads) {
                            ok(() -> kubectl.run("scale", w.toLowerCase(), "-n", ns, "--replicas=0"));
                        }
                        each.stopped = true;
                    }
                    ok(() -> kubectl.run("annotate", "namespace", ns, MetadataNames.EMERGENCY_STOP_ANNOTATION + "-"));
                    fleet.restartDead();
                    awaitConverged("run " + index);
                    for (Pol each : policies) {
                        if (each.stopped) {
                            resume(each);
                        }
                    }
                    yield new String[] { "namespace stop set, zeroed by hand and removed", "every replica down",
                            "all replicas SIGKILLed before, started after" };
                }
                case LEADER_FAILOVER_IN_STOP -> {
                    // A second replica joins as standby; the leader is killed while the stop is applied, the survivor
                    // carries on alone (one replica between failover runs keeps restarts cheap on 2 cores).
                    String leader = fleet.awaitLeader(DEADLINE);
                    fleet.addStandby(leader.equals(name + "-a") ? name + "-b" : name + "-a");
                    String action = stop(p, index);
                    String point = stopPoint(p);
                    String killed = fleet.killLeader();
                    String next = await("another replica leads").atMost(DEADLINE).pollInterval(Duration.ofMillis(100))
                            .failFast("safety invariant", invariants::violated).until(fleet::leader, l -> l != null && !l.equals(killed));
                    fleet.restartDead();
                    finish(p, index);
                    yield new String[] { action, point, "leader " + killed + " SIGKILLed, " + next + " took over" };
                }
            };
        }

        /**
         * After the fault: replicas that exited (a leader that lost its lease exits) come back, every policy converges;
         * a stopped one is then re-armed, and converges back during the next run (whose own check covers it).
         */
        private void finish(Pol p, int index) {
            fleet.restartDead();
            awaitConverged("run " + index);
            if (p.stopped) {
                resume(p);
            }
        }

        // ------------------------------------------------------------------ actions

        /** Starts a transition of {@code p} to a mode reachable from where it is; for the writer, never from Live. */
        private String transition(Pol p, boolean notFromLive) {
            if (notFromLive && p.mode == ExecutionMode.LIVE) {
                setMode(p, ExecutionMode.DRY_RUN);
                awaitConverged("leave Live before the writer");
            }
            ExecutionMode from = p.mode;
            ExecutionMode to = switch (from) {
                case BACKTEST -> ExecutionMode.DRY_RUN;
                case DRY_RUN -> random.nextBoolean() ? ExecutionMode.LIVE : ExecutionMode.BACKTEST;
                case LIVE -> random.nextBoolean() ? ExecutionMode.DRY_RUN : ExecutionMode.BACKTEST;
            };
            setMode(p, to);
            if (to == ExecutionMode.LIVE) {
                ExecutionPolicy awaiting = awaitPolicy(p, "approval token for Live", x -> x.getStatus().approval != null
                        && x.getStatus().approval.token != null && Conditions.find(x.getStatus().conditions, Conditions.STALLED)
                                .filter(c -> "AwaitingApproval".equals(c.getReason())
                                        && x.getMetadata().getGeneration().equals(c.getObservedGeneration()))
                                .isPresent());
                String token = awaiting.getStatus().approval.token;
                for (String approver : List.of("alice", "carol")) {
                    ok(() -> users.approve(approver, p.name, token));
                }
            }
            return from.wireName() + "->" + to.wireName();
        }

        private void setMode(Pol p, ExecutionMode to) {
            ok(() -> users.as("bob", null, "patch", "xp", p.name, "--type=merge", "-p",
                    "{\"spec\":{\"mode\":\"" + to.wireName() + "\"}}"));
            p.mode = to;
        }

        private String stop(Pol p, int index) {
            ok(() -> kubectl.run("annotate", "--overwrite", "xp", p.name, "-n", ns, MetadataNames.EMERGENCY_STOP_ANNOTATION + "=fault run " + index));
            p.stopped = true;
            return "stop in " + p.mode.wireName();
        }

        /** Latched stop lifted: a Live policy is first set to DryRun (Live would need fresh approvals), then re-armed. */
        private void resume(Pol p) {
            if (p.mode == ExecutionMode.LIVE) {
                setMode(p, ExecutionMode.DRY_RUN);
            }
            ok(() -> kubectl.run("annotate", "xp", p.name, "-n", ns, MetadataNames.EMERGENCY_STOP_ANNOTATION + "-"));
            // Re-armed as a person would: the epoch status shows, again if status moves on before the release. A re-arm
            // that meets a stop the operator has not recorded yet (a Namespace stop counted while every replica was down,
            // seen after an earlier run's re-arm was written) is spent and the latch moves to a new epoch (issue 19);
            // re-arming only the epoch read first left the policy stopped (CI at 57d68a9, seed 1796563269346, run 28).
            long[] rearmed = { -1 };
            await(p.name + " released by a re-arm").atMost(DEADLINE).pollInterval(Duration.ofMillis(250))
                    .failFast("safety invariant", invariants::violated).until(() -> {
                        var es = policy(p).getStatus().emergencyStop;
                        if (es == null || !Boolean.TRUE.equals(es.active)) {
                            return true;
                        }
                        if (es.epoch != null && es.epoch != rearmed[0]) {
                            long epoch = es.epoch;
                            ok(() -> kubectl.run("annotate", "--overwrite", "xp", p.name, "-n", ns, MetadataNames.REARM_ANNOTATION + "=" + epoch));
                            rearmed[0] = epoch;
                        }
                        return false;
                    });
            p.stopped = false;
        }

        /** A random point of a transition in flight: at once, after a delay, once scaled down, once the new mode starts. */
        private String transitionPoint(Pol p) {
            ExecutionMode target = p.mode;
            return switch (random.nextInt(4)) {
                case 0 -> "request";
                case 1 -> {
                    int ms = random.nextInt(1500);
                    pause(ms);
                    yield "request + " + ms + " ms";
                }
                case 2 -> reached(p, "scaled down", () -> p.workloads.stream().allMatch(w -> replicas(p, w) == 0));
                default -> reached(p, "first " + target.wireName() + " pod", () -> pods(p).stream()
                        .anyMatch(pod -> target.wireName().equals(mode(pod))));
            };
        }

        private String stopPoint(Pol p) {
            return switch (random.nextInt(4)) {
                case 0 -> "stop annotated";
                case 1 -> {
                    int ms = random.nextInt(800);
                    pause(ms);
                    yield "stop + " + ms + " ms";
                }
                case 2 -> reached(p, "zero written", () -> p.workloads.stream().allMatch(w -> replicas(p, w) == 0));
                default -> reached(p, "stop recorded", () -> {
                    var s = policy(p).getStatus();
                    return s != null && s.emergencyStop != null && Boolean.TRUE.equals(s.emergencyStop.active);
                });
            };
        }

        /** Waits for a step (or for the whole change to be done, then the fault lands after it); says which. */
        private String reached(Pol p, String step, Callable<Boolean> condition) {
            boolean[] hit = new boolean[1];
            awaitUntil(step + " or converged", Duration.ofSeconds(60), Duration.ofMillis(20), () -> {
                hit[0] = condition.call();
                return hit[0] || converged(p) == null;
            });
            return hit[0] ? step : "after completion (" + step + " not seen)";
        }

        /** Another writer on the same Deployment while the operator converges it: 3–6 writes, 50–400 ms apart. */
        private List<String> conflictingWrites(Pol p) {
            String d = p.workloads.get(0).substring("Deployment/".length());
            List<String> writes = new ArrayList<>();
            int n = 3 + random.nextInt(4);
            for (int i = 0; i < n; i++) {
                pause(50 + random.nextInt(350));
                int kind = random.nextInt(3);
                int replicas = random.nextInt(5);
                try {
                    switch (kind) {
                        case 0 -> {
                            client.apps().deployments().inNamespace(ns).withName(d).scale(replicas);
                            writes.add("scale=" + replicas);
                        }
                        case 1 -> {
                            client.apps().deployments().inNamespace(ns).withName(d).patch(PatchContext.of(PatchType.JSON_MERGE),
                                    "{\"spec\":{\"replicas\":" + replicas + "}}");
                            writes.add("patch=" + replicas);
                        }
                        default -> {
                            client.apps().deployments().inNamespace(ns).withName(d).patch(PatchContext.of(PatchType.JSON_MERGE),
                                    "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"kubectl.kubernetes.io/restartedAt\":\""
                                            + Instant.now() + "\"}}}}}");
                            writes.add("restart");
                        }
                    }
                } catch (KubernetesClientException e) {
                    writes.add("refused(" + e.getCode() + ")");
                }
            }
            return writes;
        }
    }

    // ------------------------------------------------------------------ convergence

    private static void awaitConverged(String what, List<Pol> pols, List<String> logs) {
        String[] last = new String[1];
        try {
            awaitUntil(what + ": every policy converged", DEADLINE, Duration.ofMillis(250), () -> {
                for (Pol p : pols) {
                    String wrong = converged(p);
                    if (wrong != null) {
                        last[0] = p.ns + "/" + p.name + " (want " + p.expected() + "): " + wrong;
                        return false;
                    }
                }
                return true;
            });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; last seen: " + last[0] + "; operator logs " + logs, e);
        }
    }

    /** Null when {@code p} is in its correct state, else what is not. */
    static String converged(Pol p) {
        ExecutionPolicy x = policy(p);
        if (x == null || x.getStatus() == null) {
            return "no status";
        }
        var s = x.getStatus();
        List<Pod> pods = pods(p);
        if (p.stopped) {
            if (s.emergencyStop == null || !Boolean.TRUE.equals(s.emergencyStop.active) || s.phase != Phase.EmergencyStopped) {
                return "stop not recorded (phase " + s.phase + ")";
            }
            for (String w : p.workloads) {
                if (replicas(p, w) != 0) {
                    return w + " has " + replicas(p, w) + " replicas";
                }
            }
            return pods.isEmpty() ? null : pods.size() + " pod(s) left";
        }
        var readyCondition = Conditions.find(s.conditions, Conditions.READY);
        boolean ready = readyCondition.map(c -> Conditions.TRUE.equals(c.getStatus())
                && x.getMetadata().getGeneration().equals(c.getObservedGeneration())).orElse(false);
        if (s.mode != p.mode || s.transition != null || !ready) {
            return "status.mode " + s.mode + ", transition " + (s.transition == null ? null : s.transition.step) + ", Ready "
                    + readyCondition.map(c -> c.getStatus() + " " + c.getReason() + " gen " + c.getObservedGeneration()).orElse("-");
        }
        int want = REPLICAS.get(p.mode);
        for (String w : p.workloads) {
            if (replicas(p, w) != want) {
                return w + " has " + replicas(p, w) + " replicas, want " + want;
            }
        }
        if (pods.size() != want * p.workloads.size()) {
            return pods.size() + " pods, want " + want * p.workloads.size();
        }
        for (Pod pod : pods) {
            if (!p.mode.wireName().equals(mode(pod)) || pod.getMetadata().getDeletionTimestamp() != null || !ready(pod)) {
                return "pod " + pod.getMetadata().getName() + " mode " + mode(pod) + " ready " + ready(pod);
            }
        }
        return null;
    }

    static ExecutionPolicy policy(Pol p) {
        return client.resources(ExecutionPolicy.class).inNamespace(p.ns).withName(p.name).get();
    }

    static int replicas(Pol p, String workload) {
        String name = workload.substring(workload.indexOf('/') + 1);
        HasMetadata w = workload.startsWith("Deployment/") ? client.apps().deployments().inNamespace(p.ns).withName(name).get()
                : client.apps().statefulSets().inNamespace(p.ns).withName(name).get();
        Integer r = w instanceof io.fabric8.kubernetes.api.model.apps.Deployment d ? d.getSpec().getReplicas()
                : ((io.fabric8.kubernetes.api.model.apps.StatefulSet) w).getSpec().getReplicas();
        return r == null ? 1 : r;
    }

    /** Every pod of the policy's workloads, labelled by the operator or not. */
    static List<Pod> pods(Pol p) {
        List<Pod> all = new ArrayList<>();
        for (String w : p.workloads) {
            all.addAll(client.pods().inNamespace(p.ns).withLabel("app", w.substring(w.indexOf('/') + 1)).list().getItems());
        }
        return all;
    }

    static String mode(Pod pod) {
        var a = pod.getMetadata().getAnnotations();
        return a == null ? null : a.get(MetadataNames.MODE_ANNOTATION);
    }

    static boolean ready(Pod pod) {
        return pod.getStatus() != null && pod.getStatus().getConditions() != null && pod.getStatus().getConditions().stream()
                .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
    }

    private static ExecutionPolicy awaitPolicy(Pol p, String what, java.util.function.Predicate<ExecutionPolicy> condition) {
        ExecutionPolicy[] seen = new ExecutionPolicy[1];
        awaitUntil(p.name + ": " + what, DEADLINE, Duration.ofMillis(100), () -> {
            seen[0] = policy(p);
            return seen[0] != null && seen[0].getStatus() != null && condition.test(seen[0]);
        });
        return seen[0];
    }

    /** An await with a deadline that fails at once, with the checker's violation and trail, if an invariant fires. */
    static void awaitUntil(String what, Duration atMost, Duration poll, Callable<Boolean> condition) {
        try {
            await(what).atMost(atMost).pollInterval(poll).ignoreExceptionsInstanceOf(KubernetesClientException.class)
                    .failFast("safety invariant violated", invariants::violated).until(condition);
        } catch (TerminalFailureException | ConditionTimeoutException e) {
            dumpCluster(what);
            invariants.assertNone();
            throw new AssertionError(e.getMessage(), e);
        }
    }

    /**
     * A user's kubectl command, repeated until it succeeds (deadline 60 s): right after a kube-apiserver restart
     * it answers 503 for custom resources and admission for a moment, and a person would simply run it again.
     * Every command here is idempotent (patch, annotate).
     */
    static void ok(java.util.function.Supplier<Kubectl.Result> command) {
        Kubectl.Result[] last = new Kubectl.Result[1];
        try {
            await("kubectl succeeds").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
                    .until(() -> (last[0] = command.get()).exitCode() == 0);
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("kubectl kept failing: " + last[0].output(), e);
        }
    }

    /** What the cluster holds now, read fresh, for a failure: each policy's workloads, their replicas and pods. */
    static void dumpCluster(String what) {
        say("faults: state when \"" + what + "\" failed:");
        for (Lane lane : lanes) {
            for (Pol p : lane.policies) {
                try {
                    List<String> pods = pods(p).stream().map(pod -> pod.getMetadata().getName() + "=" + mode(pod)
                            + (pod.getMetadata().getDeletionTimestamp() != null ? "(terminating)" : "")
                            + (ready(pod) ? "" : "(not ready)")).toList();
                    say("faults:   " + p.ns + "/" + p.name + " want " + p.expected() + ": "
                            + p.workloads.stream().map(w -> w + " replicas " + replicas(p, w)).toList() + ", pods " + pods
                            + ", converged: " + Objects.requireNonNullElse(converged(p), "yes"));
                } catch (RuntimeException e) {
                    say("faults:   " + p.ns + "/" + p.name + ": cannot read: " + e.getMessage());
                }
            }
        }
    }

    /** The fault's own timing (a random point of a transition), never a wait for the cluster. */
    private static void pause(int millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** To this class's output file and, as it happens, to target/faults/summary.txt. */
    static synchronized void say(String line) {
        System.out.println(line);
        out.add(line);
        try {
            Path dir = Path.of("target", "faults");
            Files.createDirectories(dir);
            Files.write(dir.resolve("summary.txt"), out);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
