package io.marketintel.safety.reconciler;

import static io.marketintel.safety.testing.PolicyTestSupport.ready;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.testing.ControlPlane;
import io.marketintel.safety.testing.Kubectl;
import io.marketintel.safety.testing.NamespacedTest;
import io.marketintel.safety.testing.PodHolds;
import io.marketintel.safety.testing.PolicyTestSupport;
import io.marketintel.safety.testing.OperatorProcess;
import io.marketintel.safety.testing.TradingSystem;

/**
 * Two replicas of the packaged operator against the real API server (DESIGN §9): one holds the Lease and
 * reconciles, the other stands by; SIGKILL the leader in the middle of a transition and the standby takes
 * over within the lease time and completes the transition exactly once.
 */
class LeaderElectionIT extends NamespacedTest {
    static final Duration LEASE = Duration.ofSeconds(6);
    static final Duration DEADLINE = Duration.ofSeconds(90);

    @Override
    protected boolean checkSafetyInvariants() {
        return true;
    }
    static final List<String> FAST_LEASE = List.of("-Dexecution-safety.leader-election.lease-duration=" + LEASE.toSeconds() + "s",
            "-Dexecution-safety.leader-election.renew-deadline=4s", "-Dexecution-safety.leader-election.retry-period=1s");

    OperatorProcess a;
    OperatorProcess b;

    @AfterEach
    void tearDown() {
        for (OperatorProcess p : new OperatorProcess[] { a, b }) {
            if (p != null) {
                p.close();
            }
        }
        PodHolds.release(client, ns);
    }

    @Test
    void oneReplicaActsAndTheStandbyFinishesATransitionOnceWhenTheLeaderIsKilled() throws Exception {
        String first = twoReplicasGoverningAlphaInDryRun();
        OperatorProcess leader = first.equals("replica-a") ? a : b;
        OperatorProcess standby = leader == a ? b : a;

        // Exactly one acts: decisions are logged by the leader only; both are healthy and say which they are.
        await("leader logged its decisions").atMost(DEADLINE).until(() -> Files.readString(leader.log()).contains("decision policy="));
        assertThat(Files.readString(standby.log())).doesNotContain("decision policy=");
        JsonNode leading = health(leader);
        assertThat(leading.path("status").asText()).as("%s", leading).isEqualTo("UP");
        assertThat(check(leading, "kill switch").path("data").path("leader").asBoolean()).isTrue();
        JsonNode standing = health(standby);
        assertThat(standing.path("status").asText()).as("a healthy standby is ready: %s", standing).isEqualTo("UP");
        assertThat(check(standing, "kill switch").path("data").path("leader").asBoolean()).isFalse();
        // Production logs are JSON with the decision's fields.
        String decisionLine = Files.readAllLines(leader.log()).stream().filter(l -> l.contains("decision policy=")).findFirst().orElseThrow();
        JsonNode decision = new ObjectMapper().readTree(decisionLine);
        assertThat(decision.path("mdc").path("policy").asText()).isEqualTo("fx");
        assertThat(decision.path("mdc").path("namespace").asText()).isEqualTo(ns);
        assertThat(decision.path("mdc").has("decision")).isTrue();
        assertThat(decision.path("mdc").has("reason")).isTrue();

        // A transition held in flight (the DryRun pods cannot finish terminating) when the leader dies.
        PodHolds.hold(client, ns, "alpha");
        apply(processPolicy("fx", "Backtest", "{refs: [{kind: Deployment, name: alpha}]}", ""));
        awaitPolicy("draining", p -> p.getStatus().transition != null && "Draining".equals(p.getStatus().transition.step));
        long killed = System.nanoTime();
        leader.kill();
        String next = awaitLeader(first);
        Duration takeover = Duration.ofNanos(System.nanoTime() - killed);
        System.out.printf("leader %s killed; %s took over in %d ms (lease %ds)%n", first, next, takeover.toMillis(), LEASE.toSeconds());
        assertThat(takeover).as("takeover within the lease time plus one retry").isLessThanOrEqualTo(LEASE.plusSeconds(2));

        PodHolds.release(client, ns);
        ExecutionPolicy done = awaitPolicy("Backtest", p -> p.getStatus().mode == ExecutionMode.BACKTEST && ready(p));
        assertThat(done.getStatus().history).filteredOn(h -> h.from == ExecutionMode.DRY_RUN && h.to == ExecutionMode.BACKTEST)
                .as("the transition completed exactly once").hasSize(1);
        assertThat(client.v1().events().inNamespace(ns).list().getItems().stream()
                .filter(e -> "TransitionCompleted".equals(e.getReason()) && e.getMessage().contains("to Backtest")).count())
                .isEqualTo(1);
    }

    /**
     * Regression (issue 19, "after a leader fail-over the standby re-applies a stop that was already re-armed, and
     * history records a stop that nobody made"): every replica watches and applies stops, only the leader records
     * their re-arm, and the standby kept the released stop in memory; on taking over it stopped the system again
     * under a new epoch. A replica now settles its stops against status, so the standby knows the re-arm.
     */
    @Test
    void afterAFailOverTheStandbyDoesNotReapplyAReArmedStop() throws Exception {
        String first = twoReplicasGoverningAlphaInDryRun();
        OperatorProcess leader = first.equals("replica-a") ? a : b;
        OperatorProcess standby = leader == a ? b : a;
        await("the standby's kill switch is armed").atMost(DEADLINE).until(() -> "UP".equals(health(standby).path("status").asText()));

        // Stopped: both replicas see it and zero alpha; the leader records epoch 1.
        assertThat(kubectl.run("annotate", "xp", "fx", "-n", ns, "safety.marketintel.io/emergency-stop=drill").exitCode()).isZero();
        awaitPolicy("stopped", p -> p.getStatus().emergencyStop != null && Boolean.TRUE.equals(p.getStatus().emergencyStop.active));
        await("the standby applied the stop too").atMost(DEADLINE)
                .until(() -> Files.readString(standby.log()).contains("emergency stop policy=" + ns + "/fx"));

        // Removed and re-armed: back in DryRun at 2 replicas.
        assertThat(kubectl.run("annotate", "xp", "fx", "-n", ns, "safety.marketintel.io/emergency-stop-").exitCode()).isZero();
        awaitPolicy("removal seen", p -> p.getStatus().emergencyStop.message.contains("does not resume"));
        Kubectl.Result rearm = kubectl.run("annotate", "xp", "fx", "-n", ns, "safety.marketintel.io/rearm=1");
        assertThat(rearm.exitCode()).as(rearm.output()).isZero();
        awaitPolicy("resumed", p -> p.getStatus().mode == ExecutionMode.DRY_RUN && ready(p)
                && !Boolean.TRUE.equals(p.getStatus().emergencyStop.active)
                && client.apps().deployments().inNamespace(ns).withName("alpha").get().getSpec().getReplicas() == 2);

        // Fail-over: the standby takes over and reconciles fx.
        leader.kill();
        awaitLeader(first);
        // At rest a pass logs no decision; the new leader's first pass over fx follows the start of its event processing.
        await("the new leader processes events").atMost(DEADLINE)
                .until(() -> Files.readString(standby.log()).contains("Started event processing for controller"));
        // Its passes find nothing to do: alpha keeps running, no new epoch, no new stop.
        await("still running after the fail-over").during(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(30))
                .until(() -> client.apps().deployments().inNamespace(ns).withName("alpha").get().getSpec().getReplicas() == 2);
        ExecutionPolicy after = PolicyTestSupport.get(client, ns, "fx");
        assertThat(after.getStatus().emergencyStop.epoch).as("no stop nobody made").isEqualTo(1L);
        assertThat(after.getStatus().emergencyStop.active).isFalse();
        assertThat(after.getStatus().history).filteredOn(h -> "EmergencyStop".equals(h.trigger)).as("one stop in history").hasSize(1);
    }

    /**
     * A replica that loses its Lease stops reconciling and exits, so its StatefulSet starts it again as a standby. It
     * used to call System.exit on the leader-election thread, which the shutdown waited for: the process stayed alive,
     * neither ready nor serving, for minutes (the insider tier's fault thread waited 3 minutes on one in CI).
     */
    @Test
    void aReplicaThatLosesItsLeaseExits() {
        a = OperatorProcess.start(ControlPlane.shared(), ns, null, "replica-a", FAST_LEASE);
        assertThat(awaitLeader(null)).isEqualTo("replica-a");
        a.awaitReady(DEADLINE);
        // Someone else holds the Lease now, for a minute: a's next renewal finds it taken.
        String now = java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'")
                .withZone(java.time.ZoneOffset.UTC).format(java.time.Instant.now());
        client.leases().inNamespace(ns).withName("execution-safety-operator").patch(PatchContext.of(PatchType.JSON_MERGE),
                "{\"spec\":{\"holderIdentity\":\"someone-else\",\"leaseDurationSeconds\":60,\"acquireTime\":\"%s\",\"renewTime\":\"%s\"}}"
                        .formatted(now, now));
        await("replica-a says it lost the lease").atMost(DEADLINE).pollInterval(Duration.ofMillis(200))
                .until(() -> Files.readString(a.log()).contains("lost the lease"));
        await("replica-a exited").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> !a.alive());
    }

    /**
     * A leader stopped gracefully (SIGTERM: a rollout, a drain) gives its Lease up once it no longer reconciles, so the
     * standby leads at its next try instead of after the Lease expires (13.5–14.3 s at the chart's settings in
     * {@code bench/failover.sh} before). The moment the old leader has exited, the Lease no longer names it.
     */
    @Test
    void aLeaderStoppedGracefullyGivesTheLeaseUpForTheStandby() {
        String first = twoReplicasGoverningAlphaInDryRun();
        OperatorProcess leader = first.equals("replica-a") ? a : b;
        leader.terminate();
        assertThat(leader.alive()).isFalse();
        Lease lease = client.leases().inNamespace(ns).withName("execution-safety-operator").get();
        assertThat(lease.getSpec().getHolderIdentity()).as("the Lease right after %s exited: given up, or already the standby's", first)
                .isNotEqualTo(first);
        assertThat(awaitLeader(first)).isNotEqualTo(first);
        apply(processPolicy("fx", "Backtest", "{refs: [{kind: Deployment, name: alpha}]}", ""));
        awaitPolicy("Backtest under the new leader", p -> p.getStatus().mode == ExecutionMode.BACKTEST && ready(p));
    }

    /** fx governs alpha (2 replicas) in DryRun under replicas a (started first, so the first leader) and b; the leader. */
    private String twoReplicasGoverningAlphaInDryRun() {
        TradingSystem.deployment(client, ns, "alpha", "fx", 2);
        apply(processPolicy("fx", "DryRun", "{refs: [{kind: Deployment, name: alpha}]}", ""));
        a = OperatorProcess.start(ControlPlane.shared(), ns, null, "replica-a", FAST_LEASE);
        String first = awaitLeader(null);
        b = OperatorProcess.start(ControlPlane.shared(), ns, null, "replica-b", FAST_LEASE);
        awaitPolicy("DryRun", p -> p.getStatus().mode == ExecutionMode.DRY_RUN && ready(p));
        return first;
    }

    private String awaitLeader(String notThis) {
        return await("a leader other than " + notThis).atMost(DEADLINE).pollInterval(Duration.ofMillis(100))
                .until(() -> {
                    Lease lease = client.leases().inNamespace(ns).withName("execution-safety-operator").get();
                    return lease == null || lease.getSpec().getHolderIdentity() == null ? null : lease.getSpec().getHolderIdentity();
                }, holder -> holder != null && !holder.isEmpty() && !holder.equals(notThis)); // "": given up, nobody yet
    }

    private static JsonNode health(OperatorProcess p) throws Exception {
        String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + p.httpPort() + "/q/health"))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
        return new ObjectMapper().readTree(body);
    }

    private static JsonNode check(JsonNode health, String name) {
        for (JsonNode c : health.path("checks")) {
            if (name.equals(c.path("name").asText())) {
                return c;
            }
        }
        throw new AssertionError("no check " + name + " in " + health);
    }


    private ExecutionPolicy awaitPolicy(String what, Predicate<ExecutionPolicy> condition) {
        return PolicyTestSupport.awaitPolicy(client, ns, "fx", what, condition);
    }
}
