package io.marketintel.safety.insider;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.marketintel.safety.api.v1alpha1.ExecutionSafety;
import io.marketintel.safety.faults.OperatorFleet;
import io.marketintel.safety.testing.ControlPlane;
import io.marketintel.safety.testing.Kubectl;
import io.marketintel.safety.testing.PrometheusServer;
import io.marketintel.safety.testing.SafetyInvariants;
import io.marketintel.safety.testing.SafetyRules;
import io.marketintel.safety.testing.Users;

/**
 * Issue 19, item 2: the insider tier. On a real control plane of its own (etcd, kube-apiserver, controller-manager,
 * scheduler, kwok) with the shipped admission policies and roles, and the packaged operator as two processes with
 * leader election (watching every namespace), it plays seeded sequences ({@link InsiderSequence}) of every write
 * each actor's roles allow (and probes of what they do not), each sequence in a namespace of its own, many at once.
 * Every write is sent by a Fabric8 client impersonating the actor, so the API server authenticates, authorizes,
 * admits and stamps it as that person. Between batches the operator fails over (its leader SIGKILLed, the standby
 * takes over) or restarts (every replica SIGKILLed and started again) while sequences run.
 * <p>
 * After every step ({@link Lane}): the safety-invariant checker ({@link SafetyInvariants}, P1 LiveWithoutApproval,
 * P2 ModesOverlap, P3 RunningWhileStopped, and CountedApprovers against the approvals this test witnessed), that a
 * probe was refused, and the test's own model of the stop (P3, P4): a latch the operator recorded is released only
 * after a re-arm of that stop, history shows no more stops than the test made, and they name who made them. At the
 * end of a sequence whose system the test stopped and did not re-arm: no pod of it runs once the stop had time.
 * <p>
 * {@code -Dinsider.sequences=N} (default 500), {@code -Dinsider.seed=S} (printed first, and in every failure),
 * {@code -Dinsider.replay=S:I} replays sequence I of seed S alone; {@code -Dinsider.parallel=P} sequences at once
 * (default 12); an operator fault every {@code -Dinsider.faultEvery=K} sequences (default 100; 0: none). Summary:
 * target/insider/summary.txt. See docs/testing.md, "Insider tier".
 */
class InsiderSequencesIT {
    static final String REPLAY = System.getProperty("insider.replay", "");
    static final long SEED = REPLAY.isBlank() ? Long.getLong("insider.seed", System.currentTimeMillis())
            : Long.parseLong(REPLAY.split(":")[0]);
    static final int SEQUENCES = Integer.getInteger("insider.sequences", 500);
    static final int PARALLEL = Integer.getInteger("insider.parallel", 12);
    static final int FAULT_EVERY = Integer.getInteger("insider.faultEvery", 100);
    /** A run stops taking new sequences after this many failed ones. */
    static final int MAX_FAILURES = Integer.getInteger("insider.maxFailures", 20);
    /**
     * Moves or variants not played ({@code -Dinsider.leaveOut=BARE_POD,REARM:next}); printed with the seed, as a replay
     * needs the same set.
     */
    static final java.util.Set<String> LEAVE_OUT = leaveOutProperty();
    /**
     * A replay's operator outage, {@code -Dinsider.outage=FROM-TO}: every replica SIGKILLed before step FROM and started
     * again after step TO, so a failure that needed a fault repeats (a full run's faults fall wherever they fall).
     */
    static final int[] OUTAGE = System.getProperty("insider.outage", "").isBlank() ? null
            : java.util.Arrays.stream(System.getProperty("insider.outage").split("-")).mapToInt(Integer::parseInt).toArray();
    static final String OPERATOR_NS = "insider-operator";
    static final int LIVE_APPROVAL_FLOOR = 2;

    static ControlPlane plane;
    static KubernetesClient admin;
    static Kubectl kubectl;
    static OperatorFleet fleet;
    static PrometheusServer prometheus;
    static SafetyInvariants invariants;
    static final Map<Actor, KubernetesClient> clients = new java.util.EnumMap<>(Actor.class);
    /** Whether the aggregation controller put execution-policy-editor into edit on this control plane. */
    static boolean editAggregates;
    static final List<String> out = Collections.synchronizedList(new ArrayList<>());
    /** Sequences in flight, by namespace: a checker violation names its namespace, this names its sequence. */
    static final Map<String, Lane> inFlight = new ConcurrentHashMap<>();
    static final Tally tally = new Tally();

    @BeforeAll
    static void startCluster() throws java.io.IOException {
        long t0 = System.nanoTime();
        plane = ControlPlane.start(Path.of("target", "insider-plane").toAbsolutePath(), true);
        admin = plane.client();
        kubectl = new Kubectl(plane);
        editAggregates = editAggregatesPolicyEditor();
        // The risk officer pulls a namespace's stop: get and patch Namespaces, nothing else.
        admin.rbac().clusterRoles().resource(new ClusterRoleBuilder().withNewMetadata().withName("insider-namespace-stopper").endMetadata()
                .addNewRule().withApiGroups("").withResources("namespaces").withVerbs("get", "patch").endRule().build()).serverSideApply();
        admin.rbac().clusterRoleBindings().resource(new ClusterRoleBindingBuilder().withNewMetadata().withName("insider-namespace-stopper")
                .endMetadata().withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("ClusterRole")
                .withName("insider-namespace-stopper").endRoleRef().addNewSubject().withApiGroup("rbac.authorization.k8s.io")
                .withKind("User").withName(Actor.RISK_OFFICER.user).endSubject().build()).serverSideApply();
        for (String ns : List.of(Actor.GITOPS_NAMESPACE, OPERATOR_NS)) {
            admin.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build()).serverSideApply();
        }
        admin.serviceAccounts().inNamespace(Actor.GITOPS_NAMESPACE).resource(new ServiceAccountBuilder().withNewMetadata()
                .withName(Actor.GITOPS_ACCOUNT).endMetadata().build()).serverSideApply();
        // The cluster's floor on Live approvals, as a risk officer would set it: a trader lowering requiredForLive
        // in the spec (an allowed write) still needs two people. The administrator lets guards call one internal
        // endpoint (EDIT_GUARD listed) and not another (EDIT_GUARD unlisted); both answer with a secret.
        LISTED.start();
        UNLISTED.start();
        // A real Prometheus for the risk monitors of EDIT_MONITOR (their query, vector(0), needs no scrape).
        prometheus = PrometheusServer.config().start(Path.of("target", "insider-prometheus").toAbsolutePath());
        Kubectl.Result global = kubectl.apply("""
                apiVersion: safety.marketintel.io/v1alpha1
                kind: ExecutionSafety
                metadata: {name: global}
                spec:
                  minLiveApprovals: %d
                  allowedDestinations: [{cidr: 127.0.0.1/32, ports: [%d]}]
                  monitoring: {prometheus: {url: "%s"}, interval: 2s}
                """.formatted(LIVE_APPROVAL_FLOOR, LISTED.port(), prometheus.url()));
        assertThat(global.exitCode()).as(global.output()).isZero();
        for (Actor a : Actor.values()) {
            clients.put(a, impersonating(a));
        }
        invariants = SafetyInvariants.watchAll(admin, SafetyRules.Settings.DEFAULT).liveApprovalFloor(LIVE_APPROVAL_FLOOR)
                // a trader's own Pod, even labelled for the policy, is out of the operator's reach (docs/threat-model.md, section 5)
                .ignoringUnownedPods();
        fleet = new OperatorFleet(plane, admin, OPERATOR_NS,
                List.of("-Dquarkus.operator-sdk.controllers.executionpolicy.namespaces=JOSDK_ALL_NAMESPACES"), "insider-a", "insider-b");
        fleet.awaitLeader(Duration.ofSeconds(180));
        say("insider: control plane, roles and two operator replicas ready in " + seconds(t0) + " s; edit aggregates "
                + "execution-policy-editor: " + editAggregates + (editAggregates ? " (the trader holds edit alone)"
                        : " (the aggregation controller did not run: the trader is bound to edit and execution-policy-editor)"));
    }

    @AfterAll
    static void stopCluster() {
        try {
            if (invariants != null) {
                invariants.close();
            }
        } finally {
            if (fleet != null) {
                fleet.close();
            }
            clients.values().forEach(KubernetesClient::close);
            if (admin != null) {
                admin.close();
            }
            LISTED.stop();
            UNLISTED.stop();
            if (prometheus != null) {
                prometheus.close();
            }
            if (plane != null) {
                plane.close();
            }
        }
    }

    @Test
    void everyActorsAllowedWritesKeepThePromises() throws Exception {
        List<Integer> indices = new ArrayList<>();
        if (REPLAY.isBlank()) {
            for (int i = 0; i < SEQUENCES; i++) {
                indices.add(i);
            }
        } else {
            for (String i : REPLAY.split(":")[1].split(",")) {
                indices.add(Integer.parseInt(i));
            }
        }
        say("insider: seed " + SEED + ", " + indices.size() + " sequences, " + PARALLEL + " at once, an operator fault every "
                + FAULT_EVERY + " sequences, moves left out " + LEAVE_OUT + " (replay one with -Dinsider.replay=" + SEED + ":INDEX"
                + leaveOut() + "; all with -Dinsider.seed=" + SEED + " -Dinsider.sequences=" + SEQUENCES + leaveOut() + ")");
        long started = System.nanoTime();
        AtomicInteger next = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(PARALLEL, indices.size()));
        Faults faults = new Faults(done, indices.size());
        Thread faultThread = new Thread(faults, "insider-operator-faults");
        if (REPLAY.isBlank() && FAULT_EVERY > 0) {
            faultThread.start();
        }
        try {
            List<Future<?>> workers = new ArrayList<>();
            for (int w = 0; w < Math.min(PARALLEL, indices.size()); w++) {
                workers.add(pool.submit(() -> {
                    // A failed sequence does not stop the others (every finding of a run is reported), unless the checker fired:
                    // its first violation is global, so every later step would report the same one.
                    for (int k; !invariants.violated() && failures.size() < MAX_FAILURES && (k = next.getAndIncrement()) < indices.size();) {
                        InsiderSequence s = InsiderSequence.of(SEED, indices.get(k), LEAVE_OUT);
                        try {
                            new Lane(s).play();
                        } catch (Throwable e) {
                            failures.add(e);
                        }
                        int n = done.incrementAndGet();
                        if (n % 100 == 0) {
                            say("insider: " + n + " sequences done after " + seconds(started) + " s");
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : workers) {
                f.get();
            }
        } finally {
            faults.stop();
            faultThread.join(TimeUnit.MINUTES.toMillis(5));
            pool.shutdownNow();
        }
        if (!failures.isEmpty()) {
            Throwable first = failures.peek();
            List<String> all = failures.stream().map(f -> f.getMessage().lines().findFirst().orElse("")).toList();
            try {
                Files.write(Path.of("target", "insider", "failures.txt"), failures.stream().map(Throwable::getMessage).toList());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            if (faults.failure != null) {
                say("insider: the operator fault thread failed (the operator may have been down from then on): " + faults.failure);
            }
            say("insider: " + done.get() + " sequences (" + tally.steps.get() + " steps) in " + seconds(started) + " s, seed " + SEED + "; "
                    + tally + "; operator faults " + faults.log);
            say("insider: FAILED, seed " + SEED + ", " + failures.size() + " failed sequence(s) of " + done.get() + " played in "
                    + seconds(started) + " s (each in full in target/insider/failures.txt):\n  " + String.join("\n  ", all)
                    + "\nthe first in full: " + first.getMessage());
            throw new AssertionError(failures.size() + " failed sequence(s): " + String.join("; ", all) + "\nthe first in full: "
                    + first.getMessage(), first);
        }
        invariants.assertNone();
        faults.rethrow();
        // Guards reach only what the administrator allowed (issue 21, item 4).
        assertThat(UNLISTED.hits()).as("requests to the endpoint no ExecutionSafety/global entry allows").isZero();
        long wall = seconds(started);
        say("insider: " + done.get() + " sequences (" + tally.steps.get() + " steps) in " + wall + " s, seed " + SEED + "; " + tally
                + "; operator faults " + faults.log + " (replicas that exited on their own and were started again: " + faults.restarted
                + "); invariant violations 0, max pods alive per mode " + invariants.maxAlive());
        assertThat(done.get()).isEqualTo(indices.size());
        if (REPLAY.isBlank() && SEQUENCES >= 500) {
            // a tier that never reached Live, never stopped, never re-armed or never refused a probe proves little
            assertThat(tally.liveStarted.get()).as("sequences whose escalation to Live started (approvals counted)").isPositive();
            assertThat(tally.stops.get()).as("stops").isPositive();
            assertThat(tally.releases.get()).as("stops released by a re-arm").isPositive();
            assertThat(tally.probes.get()).as("probes refused").isPositive();
            if (FAULT_EVERY > 0) {
                assertThat(faults.log).as("operator faults").isNotEmpty();
            }
        }
    }

    // ---------------------------------------------------------------- operator faults, per batch

    /** Every FAULT_EVERY finished sequences, a fail-over or a restart of every replica, seeded, while sequences run. */
    static final class Faults implements Runnable {
        final AtomicInteger done;
        final int total;
        final Random random = new Random(SEED ^ 0x5eed);
        final List<String> log = Collections.synchronizedList(new ArrayList<>());
        /** Replicas that exited on their own (a lost Lease) and were started again. */
        final AtomicInteger restarted = new AtomicInteger();
        volatile boolean stopping;
        volatile Throwable failure;

        Faults(AtomicInteger done, int total) {
            this.done = done;
            this.total = total;
        }

        void stop() {
            stopping = true;
        }

        void rethrow() {
            if (failure != null) {
                throw new AssertionError("operator fault failed: " + failure.getMessage(), failure);
            }
        }

        @Override
        public void run() {
            try {
                for (int at = FAULT_EVERY / 2; at < total && !stopping; at += FAULT_EVERY) {
                    int when = at;
                    try {
                        // Meanwhile a replica that exited (one that loses its Lease under load stops, by design) is
                        // started again, as its StatefulSet would.
                        await("sequence " + when + " done").atMost(Duration.ofMinutes(30)).pollInterval(Duration.ofMillis(500))
                                .until(() -> {
                                    restarted.addAndGet(fleet.restartDead());
                                    return stopping || done.get() >= when;
                                });
                    } catch (ConditionTimeoutException e) {
                        return;
                    }
                    if (stopping) {
                        return;
                    }
                    long t = System.nanoTime();
                    List<String> during = inFlight.values().stream().map(l -> l.sequence.key()).sorted().toList();
                    String what;
                    String leader = fleet.leader();
                    if (random.nextBoolean() && leader != null && fleet.identities().contains(leader)) {
                        String killed = fleet.killLeader();
                        fleet.restartDead(); // the standby, should it have exited on its own meanwhile
                        String next = fleet.awaitLeader(Duration.ofSeconds(120));
                        fleet.addStandby(killed);
                        what = "fail-over " + killed + "->" + next;
                    } else {
                        fleet.killAll();
                        fleet.restartDead();
                        what = "restart of every replica, leader " + fleet.awaitLeader(Duration.ofSeconds(180));
                    }
                    String line = what + " after " + when + " sequences in " + seconds(t) + " s, during " + during;
                    log.add(what + " after " + when);
                    say("insider: operator " + line);
                }
                await("the run ends").atMost(Duration.ofMinutes(30)).pollInterval(Duration.ofMillis(500)).until(() -> {
                    restarted.addAndGet(fleet.restartDead());
                    return stopping;
                });
            } catch (Throwable e) {
                failure = e;
            }
        }
    }

    // ---------------------------------------------------------------- setup helpers

    /** Whether kube-controller-manager's aggregation controller folded execution-policy-editor into edit (awaited 30 s). */
    static boolean editAggregatesPolicyEditor() {
        try {
            await("edit aggregates execution-policy-editor").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250))
                    .until(() -> {
                        ClusterRole edit = admin.rbac().clusterRoles().withName("edit").get();
                        return edit != null && edit.getRules() != null && edit.getRules().stream()
                                .anyMatch(r -> r.getResources().contains("executionpolicies") && r.getVerbs().contains("configure"));
                    });
            return true;
        } catch (ConditionTimeoutException e) {
            return false;
        }
    }

    /** A client that every request of impersonates the actor: the API server authenticates, authorizes and stamps it as them. */
    static KubernetesClient impersonating(Actor actor) {
        Config config = plane.config();
        config.setImpersonateUsername(actor.user);
        config.setImpersonateGroups(actor == Actor.GITOPS
                ? new String[] { "system:serviceaccounts", "system:serviceaccounts:" + Actor.GITOPS_NAMESPACE, "system:authenticated" }
                : new String[] { "system:authenticated" });
        return new KubernetesClientBuilder().withConfig(config).build();
    }

    /** Binds the actors' roles in a sequence's namespace, as a namespace owner would. */
    static void bindRoles(String ns) {
        bind(ns, "User", Actor.TRADER.user, null, "edit");
        if (!editAggregates) {
            bind(ns, "User", Actor.TRADER.user, null, "execution-policy-editor");
        }
        bind(ns, "User", Actor.APPROVER.user, null, "execution-approver");
        bind(ns, "User", Actor.REQUESTER_APPROVER.user, null, "execution-policy-editor");
        bind(ns, "User", Actor.REQUESTER_APPROVER.user, null, "execution-approver");
        bind(ns, "ServiceAccount", Actor.GITOPS_ACCOUNT, Actor.GITOPS_NAMESPACE, "edit");
        if (!editAggregates) {
            bind(ns, "ServiceAccount", Actor.GITOPS_ACCOUNT, Actor.GITOPS_NAMESPACE, "execution-policy-editor");
        }
    }

    private static void bind(String ns, String kind, String name, String subjectNs, String clusterRole) {
        Users.bind(admin, ns, kind, name, subjectNs, clusterRole);
    }

    /** An internal endpoint a trader points an Http guard at: it counts requests and answers with a secret. */
    static final class InternalEndpoint {
        static final String SECRET = "insider-internal-secret";
        private final java.util.concurrent.atomic.AtomicInteger hits = new java.util.concurrent.atomic.AtomicInteger();
        private com.sun.net.httpserver.HttpServer server;

        void start() {
            try {
                server = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            server.createContext("/", ex -> {
                hits.incrementAndGet();
                ex.getRequestBody().readAllBytes();
                byte[] reply = ("{\"allow\": false, \"reason\": \"" + SECRET + "\"}").getBytes(java.nio.charset.StandardCharsets.UTF_8);
                ex.getResponseHeaders().add("Content-Type", "application/json");
                ex.getResponseHeaders().add("Location", "http://" + SECRET + ".example/");
                ex.sendResponseHeaders(302, reply.length);
                ex.getResponseBody().write(reply);
                ex.close();
            });
            server.start();
        }

        int port() {
            return server.getAddress().getPort();
        }

        int hits() {
            return hits.get();
        }

        void stop() {
            if (server != null) {
                server.stop(0);
            }
        }
    }

    static final InternalEndpoint LISTED = new InternalEndpoint();
    static final InternalEndpoint UNLISTED = new InternalEndpoint();

    static ExecutionSafety global() {
        return admin.resources(ExecutionSafety.class).withName("global").get();
    }

    static String leaveOut() {
        return LEAVE_OUT.isEmpty() ? "" : " -Dinsider.leaveOut=" + String.join(",", LEAVE_OUT);
    }

    private static java.util.Set<String> leaveOutProperty() {
        java.util.Set<String> out = new java.util.TreeSet<>();
        for (String m : System.getProperty("insider.leaveOut", "").split(",")) {
            if (!m.isBlank()) {
                String move = m.trim().split(":")[0];
                Move.valueOf(move); // a typo fails at once, not by playing everything
                out.add(m.trim());
            }
        }
        return out;
    }

    static long seconds(long startedNanos) {
        return TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - startedNanos);
    }

    /** To this class's output and to target/insider/summary.txt. */
    static synchronized void say(String line) {
        System.out.println(line);
        out.add(line);
        try {
            Path dir = Path.of("target", "insider");
            Files.createDirectories(dir);
            Files.write(dir.resolve("summary.txt"), out);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
