package io.marketintel.safety.killswitch;

import static io.marketintel.safety.testing.PolicyTestSupport.ready;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus.Phase;
import io.marketintel.safety.api.v1alpha1.ExecutionSafety;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.status.Conditions;
import io.marketintel.safety.testing.ControlPlaneResource;
import io.marketintel.safety.testing.Kubectl;
import io.marketintel.safety.testing.NamespacedTest;
import io.marketintel.safety.testing.PodHolds;
import io.marketintel.safety.testing.PolicyTestSupport;
import io.marketintel.safety.testing.Namespaces;
import io.marketintel.safety.testing.TradingSystem;
import io.marketintel.safety.testing.Users;
import io.marketintel.safety.testing.Writes;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * DESIGN §6 on the real API server and controller-manager: a stop on a policy, a Namespace or the cluster
 * scales every target to zero, latches, and only a re-arm of the new epoch resumes, with Live needing
 * approvals given after the stop. Users: bob edits, alice and carol approve and re-arm.
 */
@QuarkusTest
@WithTestResource(value = ControlPlaneResource.class, scope = TestResourceScope.GLOBAL)
class KillSwitchIT extends NamespacedTest {
    static final String STOP = MetadataNames.EMERGENCY_STOP_ANNOTATION;
    static final Duration DEADLINE = Duration.ofSeconds(120);

    @Override
    protected boolean checkSafetyInvariants() {
        return true;
    }

    @io.quarkus.test.common.http.TestHTTPResource("/q/metrics")
    java.net.URL metrics;

    Users users;

    @BeforeEach
    void people() {
        users = people(ns);
    }

    private Users people(String namespace) {
        Users u = new Users(client, kubectl, namespace).bind("bob", "execution-policy-editor");
        for (String approver : new String[] { "alice", "carol" }) {
            u.bind(approver, "execution-approver");
        }
        return u;
    }

    // ---------------------------------------------------------------- policy scope, latch, re-arm

    @Test
    void aPolicyStopZeroesEveryTargetLatchesAndOnlyAFreshlyApprovedRearmReturnsToLive() throws Exception {
        TradingSystem.deployment(client, ns, "alpha", "fx", 2);
        TradingSystem.deployment(client, ns, "beta", "fx", 1);
        TradingSystem.statefulSet(client, ns, "book", "fx", 1);
        created("fx", "DryRun", "{selector: {matchLabels: {app.kubernetes.io/part-of: fx}}}", """
                approval: {requiredForLive: 2, approvers: {users: [alice, carol]}}
                replicas: {live: 2}
                """);
        awaitPolicy(ns, "fx", "DryRun and Ready", p -> p.getStatus().mode == ExecutionMode.DRY_RUN && ready(p));
        toLiveWithApprovals("fx");

        Kubectl.Result stopped = users.as("bob", null, "annotate", "xp", "fx", STOP + "=fat finger on the order book");
        assertThat(stopped.exitCode()).as(stopped.output()).isZero();
        awaitZero(ns, "alpha", "beta");
        awaitStatefulSetZero(ns, "book");
        ExecutionPolicy p = awaitPolicy(ns, "fx", "EmergencyStopped", x -> x.getStatus().phase == Phase.EmergencyStopped
                && x.getStatus().emergencyStop != null && Boolean.TRUE.equals(x.getStatus().emergencyStop.active)
                && x.getStatus().emergencyStop.latencyMillis != null);
        var es = p.getStatus().emergencyStop;
        assertThat(es.scope).isEqualTo("Policy");
        assertThat(es.reason).isEqualTo("fat finger on the order book");
        assertThat(es.stoppedBy).isEqualTo("bob");
        assertThat(es.epoch).isEqualTo(1L);
        assertThat(es.latencyMillis).isBetween(0L, 5_000L);
        // The pass that recorded the stop named it: the API server now lets the stop annotation go.
        assertThat(p.getStatus().stopsSeen).isNotNull();
        assertThat(p.getStatus().stopsSeen.policy).as("status.stopsSeen.policy")
                .isNotBlank().isEqualTo(p.getMetadata().getAnnotations().get(MetadataNames.EMERGENCY_STOP_ID_ANNOTATION));
        assertThat(p.getStatus().transition).isNull();
        assertThat(Conditions.isTrue(p.getStatus().conditions, Conditions.EMERGENCY_STOPPED)).isTrue();
        assertThat(Conditions.find(p.getStatus().conditions, Conditions.READY).orElseThrow().getStatus()).isEqualTo("False");
        assertThat(Conditions.find(p.getStatus().conditions, Conditions.STALLED).orElseThrow().getMessage())
                .contains("kubectl annotate xp fx -n " + ns + " " + STOP + "-")
                .contains("then re-arm: kubectl annotate xp fx -n " + ns + " safety.marketintel.io/rearm=1");
        assertThat(p.getStatus().history.get(0).trigger).isEqualTo("EmergencyStop");
        // kubectl get xp: a stopped system reads as stopped, not as the Live it resumes from (issue 17).
        assertThat(p.getStatus().effective).isEqualTo("Stopped");
        assertThat(p.getStatus().mode).as("the mode the targets' templates carry").isEqualTo(ExecutionMode.LIVE);
        Kubectl.Result row = kubectl.run("get", "xp", "fx", "-n", ns, "--no-headers");
        assertThat(row.output().trim().split("\\s+")).as(row.output()).startsWith("fx", "Live", "Stopped", "EmergencyStopped", "False");
        Kubectl.Result stalled = kubectl.run("wait", "-n", ns, "--for=condition=EmergencyStopped", "xp/fx", "--timeout=30s");
        assertThat(stalled.exitCode()).as(stalled.output()).isZero();
        String scraped = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(metrics.toURI()).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        assertThat(scraped).containsPattern("execution_safety_emergency_stops_total\\{scope=\"Policy\"\\} [1-9]")
                .containsPattern("execution_safety_emergency_stop_latency_seconds_count [1-9]");

        // Held at zero: a hand scale-up is reverted.
        assertThat(kubectl.run("scale", "deployment", "alpha", "-n", ns, "--replicas=2").exitCode()).isZero();
        await("hand scale-up reverted").atMost(DEADLINE).until(() -> replicas(ns, "alpha") == 0
                && kubectl.run("events", "-n", ns, "--for", "xp/fx").output().contains("DriftCorrected"));

        // Latched: removing the annotation resumes nothing. Wait until the operator has seen the removal.
        assertThat(users.as("bob", null, "annotate", "xp", "fx", STOP + "-").exitCode()).isZero();
        awaitPolicy(ns, "fx", "removal seen", x -> x.getStatus().emergencyStop.message.contains("does not resume"));
        assertThat(replicas(ns, "alpha")).isZero();
        assertThat(replicas(ns, "beta")).isZero();

        // An editor cannot re-arm; a re-arm naming another epoch is refused by the API server (issue 19: a re-arm can
        // only name a stop that exists).
        assertThat(users.as("bob", null, "annotate", "xp", "fx", "safety.marketintel.io/rearm=1").exitCode()).isNotZero();
        Kubectl.Result wrongEpoch = users.as("alice", null, "annotate", "xp", "fx", "safety.marketintel.io/rearm=2");
        assertThat(wrongEpoch.exitCode()).isNotZero();
        assertThat(wrongEpoch.stderr()).contains("the re-arm names epoch 2, but the stop to re-arm on ExecutionPolicy fx is epoch 1")
                .contains("safety.marketintel.io/rearm=1");
        assertThat(replicas(ns, "alpha")).isZero();

        // Re-armed: back in DryRun only. The approvals from before the stop are for another epoch.
        assertThat(users.as("alice", null, "annotate", "xp", "fx", "safety.marketintel.io/rearm=1").exitCode()).isZero();
        p = awaitPolicy(ns, "fx", "resumed in DryRun", x -> x.getStatus().mode == ExecutionMode.DRY_RUN
                && x.getStatus().phase == Phase.AwaitingApproval && !Boolean.TRUE.equals(x.getStatus().emergencyStop.active)
                && replicas(ns, "alpha") == 2);
        assertThat(p.getStatus().emergencyStop.rearmedBy).isEqualTo("alice");
        assertThat(p.getStatus().effective).isEqualTo("DryRun");
        assertThat(kubectl.run("events", "-n", ns, "--for", "xp/fx").output())
                .contains("resumed in DryRun after the re-arm by alice (stopped in Live; Live needs its approvals again)")
                .doesNotContain("from DryRun to DryRun").doesNotContain("from none");
        assertThat(p.getStatus().history).extracting(h -> h.trigger).startsWith("Rearmed");
        assertThat(p.getStatus().approval.approvedBy).as("pre-stop approvals do not count").isEmpty();
        assertThat(p.getStatus().approval.token).isNotEqualTo(liveToken);
        awaitPods(ns, "alpha", ExecutionMode.DRY_RUN);

        // Fresh approvals of the new epoch return it to Live.
        String token = p.getStatus().approval.token;
        assertThat(users.approve("alice", "fx", token).exitCode()).isZero();
        assertThat(users.approve("carol", "fx", token).exitCode()).isZero();
        awaitPolicy(ns, "fx", "Live again", x -> x.getStatus().mode == ExecutionMode.LIVE && ready(x));
        awaitPods(ns, "alpha", ExecutionMode.LIVE);
    }

    String liveToken;

    private void toLiveWithApprovals(String name) {
        assertThat(users.as("bob", null, "patch", "xp", name, "--type=merge", "-p", "{\"spec\":{\"mode\":\"Live\"}}").exitCode()).isZero();
        ExecutionPolicy p = awaitPolicy(ns, name, "awaiting approval", x -> x.getStatus().approval != null
                && x.getStatus().phase == Phase.AwaitingApproval);
        liveToken = p.getStatus().approval.token;
        assertThat(users.approve("alice", name, liveToken).exitCode()).isZero();
        assertThat(users.approve("carol", name, liveToken).exitCode()).isZero();
        awaitPolicy(ns, name, "Live", x -> x.getStatus().mode == ExecutionMode.LIVE && ready(x));
    }

    // ---------------------------------------------------------------- stop wins over work in progress

    @Test
    void aStopDuringADryRunToLiveTransitionWinsAtOnceAndNoLivePodEverStarts() {
        TradingSystem.deployment(client, ns, "alpha", "fx", 2);
        created("fx", "DryRun", "{refs: [{kind: Deployment, name: alpha}]}", "approval: {requiredForLive: 0}");
        awaitPolicy(ns, "fx", "DryRun", x -> x.getStatus().mode == ExecutionMode.DRY_RUN && ready(x));
        // Hold the transition at "draining": the DryRun pods cannot finish terminating.
        PodHolds.hold(client, ns, "alpha");
        try {
            apply(policy("fx", "Live", "{refs: [{kind: Deployment, name: alpha}]}", "approval: {requiredForLive: 0}"));
            awaitPolicy(ns, "fx", "transition in flight", x -> x.getStatus().transition != null
                    && "Draining".equals(x.getStatus().transition.step));

            kubectl.run("annotate", "xp", "fx", "-n", ns, STOP + "=venue reject storm");
            // The held pods cannot go: the stop is in force but not complete (issue 20: Stopping, not EmergencyStopped).
            ExecutionPolicy p = awaitPolicy(ns, "fx", "stopping", x -> x.getStatus().phase == Phase.Stopping);
            assertThat(p.getStatus().transition).as("the transition is abandoned").isNull();
            assertThat(p.getStatus().mode).isEqualTo(ExecutionMode.DRY_RUN);
            releasePods();
            awaitZero(ns, "alpha");
            await("pods gone").atMost(DEADLINE).until(() -> client.pods().inNamespace(ns).list().getItems().isEmpty());
            awaitPolicy(ns, "fx", "stopped once no pod is left", x -> x.getStatus().phase == Phase.EmergencyStopped);
            invariants.assertNone();
            assertThat(invariants.maxAlive()).as("no Live pod ever existed: %s", invariants.trail()).doesNotContainKey("Live");
        } finally {
            releasePods();
        }
    }

    private void releasePods() {
        PodHolds.release(client, ns);
    }

    @Test
    void aStopWhileApprovalsArePendingWinsAtOnceAndTheirApprovalsNeverCount() {
        TradingSystem.deployment(client, ns, "alpha", "fx", 1);
        created("fx", "DryRun", "{refs: [{kind: Deployment, name: alpha}]}", "approval: {requiredForLive: 2}");
        awaitPolicy(ns, "fx", "DryRun", x -> x.getStatus().mode == ExecutionMode.DRY_RUN && ready(x));
        assertThat(users.as("bob", null, "patch", "xp", "fx", "--type=merge", "-p", "{\"spec\":{\"mode\":\"Live\"}}").exitCode()).isZero();
        ExecutionPolicy pending = awaitPolicy(ns, "fx", "awaiting approval", x -> x.getStatus().phase == Phase.AwaitingApproval);
        String token = pending.getStatus().approval.token;
        assertThat(users.approve("alice", "fx", token).exitCode()).isZero();

        kubectl.run("annotate", "xp", "fx", "-n", ns, STOP + "=desk closed");
        awaitZero(ns, "alpha");
        awaitPolicy(ns, "fx", "stopped", x -> x.getStatus().phase == Phase.EmergencyStopped);
        // The second approval of the pre-stop token arrives after the stop: the API server refuses it, since status
        // no longer shows that token (issue 19: an approval names the token status shows); nothing moves.
        Kubectl.Result late = users.approve("carol", "fx", token);
        assertThat(late.exitCode()).as(late.output()).isNotZero();
        assertThat(late.stderr()).containsAnyOf("awaits no approval", "does not approve the change awaiting approval");
        ExecutionPolicy p = PolicyTestSupport.get(client, ns, "fx");
        assertThat(p.getStatus().approval == null ? null : p.getStatus().approval.token).isNotEqualTo(token);
        assertThat(replicas(ns, "alpha")).isZero();
    }

    // ---------------------------------------------------------------- namespace and cluster scope

    @Test
    void aNamespaceStopStopsEveryPolicyInItAndEachResumesOnlyWhenReArmed() {
        int n = 20;
        for (int i = 0; i < n; i++) {
            TradingSystem.deployment(client, ns, "s" + i, "s" + i, 1);
            apply(policy("p" + i, "DryRun", "{refs: [{kind: Deployment, name: s" + i + "}]}", ""));
        }
        for (int i = 0; i < n; i++) {
            awaitPolicy(ns, "p" + i, "DryRun", x -> x.getStatus().mode == ExecutionMode.DRY_RUN && ready(x));
        }
        Kubectl.Result stop = kubectl.run("annotate", "namespace", ns, STOP + "=exchange connectivity lost");
        assertThat(stop.exitCode()).as(stop.output()).isZero();
        awaitZero(ns, names("s", n));
        for (int i = 0; i < n; i++) {
            ExecutionPolicy p = awaitPolicy(ns, "p" + i, "stopped", x -> x.getStatus().phase == Phase.EmergencyStopped);
            assertThat(p.getStatus().emergencyStop.scope).isEqualTo("Namespace");
            assertThat(p.getStatus().emergencyStop.source).isEqualTo("Namespace/" + ns);
            assertThat(p.getStatus().emergencyStop.reason).isEqualTo("exchange connectivity lost");
            // Labelled before status recorded the latch: the API server refuses its pods by it once the stop is removed.
            assertThat(p.getMetadata().getLabels()).containsEntry(MetadataNames.STOPPED_LABEL, "true");
        }
        // A re-arm while the Namespace still carries the stop is spent (issue 19): the latch moves to epoch 2, and the
        // message says what to remove and which epoch to re-arm then.
        assertThat(users.as("alice", null, "annotate", "xp", "p0", "safety.marketintel.io/rearm=1").exitCode()).isZero();
        awaitPolicy(ns, "p0", "told to remove the namespace stop", x -> x.getStatus().emergencyStop.epoch == 2L
                && x.getStatus().emergencyStop.message.contains("met the emergency stop in force on Namespace/" + ns + " and is spent")
                && x.getStatus().emergencyStop.message.contains("kubectl annotate namespace " + ns + " " + STOP + "-"));
        assertThat(kubectl.run("annotate", "namespace", ns, STOP + "-").exitCode()).isZero();
        // p0 re-armed again, now with nothing in force; the rest stay stopped until they are.
        awaitPolicy(ns, "p0", "removal seen", x -> x.getStatus().emergencyStop.message.contains("does not resume"));
        assertThat(users.as("alice", null, "annotate", "xp", "p0", "--overwrite", "safety.marketintel.io/rearm=2").exitCode()).isZero();
        awaitPolicy(ns, "p0", "p0 resumed", x -> x.getStatus().mode == ExecutionMode.DRY_RUN && ready(x));
        assertThat(replicas(ns, "s0")).isEqualTo(1);
        for (int i = 1; i < n; i++) {
            awaitPolicy(ns, "p" + i, "removal seen", x -> x.getStatus().emergencyStop.message.contains("does not resume"));
            assertThat(replicas(ns, "s" + i)).isZero();
        }
        for (int i = 1; i < n; i++) {
            assertThat(users.as("alice", null, "annotate", "xp", "p" + i, "safety.marketintel.io/rearm=1").exitCode()).isZero();
        }
        for (int i = 1; i < n; i++) {
            awaitPolicy(ns, "p" + i, "resumed", x -> x.getStatus().mode == ExecutionMode.DRY_RUN && ready(x));
        }
        // Released: the stop labels are gone; the Namespace records its one stop as seen by every policy.
        for (int i = 0; i < n; i++) {
            awaitPolicy(ns, "p" + i, "unlabelled", x -> x.getMetadata().getLabels() == null
                    || !x.getMetadata().getLabels().containsKey(MetadataNames.STOPPED_LABEL));
        }
        assertThat(client.namespaces().withName(ns).get().getMetadata().getAnnotations())
                .containsEntry(MetadataNames.EMERGENCY_STOPS_RECORDED_ANNOTATION, "1");
    }

    /**
     * A policy already stopped by its own stop records a stop of its Namespace too: the Namespace's count of the stops every
     * policy has recorded waits for it (until that count is reached the API server refuses the pods of every policy of the
     * Namespace, re-armed ones included), and once it is, a re-armed policy resumes while the other stays stopped.
     */
    @Test
    void aPolicyAlreadyStoppedRecordsAStopOfItsNamespaceAndTheOthersResume() {
        TradingSystem.deployment(client, ns, "sa", "sa", 1);
        TradingSystem.deployment(client, ns, "sb", "sb", 1);
        apply(policy("pa", "DryRun", "{refs: [{kind: Deployment, name: sa}]}", ""));
        apply(policy("pb", "DryRun", "{refs: [{kind: Deployment, name: sb}]}", ""));
        awaitPolicy(ns, "pa", "DryRun", x -> x.getStatus().mode == ExecutionMode.DRY_RUN && ready(x));
        awaitPolicy(ns, "pb", "DryRun", x -> x.getStatus().mode == ExecutionMode.DRY_RUN && ready(x));
        assertThat(kubectl.run("annotate", "xp", "pa", "-n", ns, STOP + "=its own").exitCode()).isZero();
        awaitPolicy(ns, "pa", "stopped by its own stop", x -> x.getStatus().phase == Phase.EmergencyStopped
                && x.getStatus().stopsSeen != null && x.getStatus().stopsSeen.namespace != null);
        await("pa idle").during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(30))
                .until(() -> client.pods().inNamespace(ns).withLabel("app", "sa").list().getItems().isEmpty());

        assertThat(kubectl.run("annotate", "namespace", ns, STOP + "=desk halt").exitCode()).isZero();
        awaitPolicy(ns, "pb", "stopped by the Namespace", x -> x.getStatus().phase == Phase.EmergencyStopped);
        await("pa records the Namespace's stop").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
                .until(() -> {
                    ExecutionPolicy pa = client.resources(ExecutionPolicy.class).inNamespace(ns).withName("pa").get();
                    return pa.getStatus().stopsSeen.namespace == 1L;
                });
        assertThat(kubectl.run("annotate", "namespace", ns, STOP + "-").exitCode()).isZero();
        await("every policy recorded it").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
                .until(() -> "1".equals(client.namespaces().withName(ns).get().getMetadata().getAnnotations()
                        .get(MetadataNames.EMERGENCY_STOPS_RECORDED_ANNOTATION)));
        // pb re-armed resumes while pa stays stopped.
        assertThat(users.as("alice", null, "annotate", "xp", "pb", "safety.marketintel.io/rearm=1").exitCode()).isZero();
        awaitPolicy(ns, "pb", "resumed", x -> x.getStatus().mode == ExecutionMode.DRY_RUN && ready(x));
        assertThat(replicas(ns, "sa")).isZero();
    }

    /**
     * A pass that may release a stop reads the Namespace and the cluster from the API server, not the watches (insider
     * tier, seed 1796554711347:104: a Namespace stop set just before a pass acted on an earlier re-arm was not yet in
     * the watch's copy, and the pass released). A watcher whose watches never started is the stalest copy there is:
     * its cache shows nothing, the read shows the stop and the API server's count of it.
     */
    @Test
    void aReleaseSeesANamespaceStopTheWatchHasNotDeliveredYet() {
        StopWatcher lagging = new StopWatcher(client, new io.micrometer.core.instrument.simple.SimpleMeterRegistry(), null);
        ExecutionPolicy p = new ExecutionPolicy();
        p.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withNamespace(ns).withName("fx").build());
        assertThat(lagging.read(p).triggers()).as("nothing in force yet").isEmpty();
        assertThat(kubectl.run("annotate", "namespace", ns, STOP + "=venue halted").exitCode()).isZero();

        assertThat(lagging.triggers(p)).as("the watch's copy, not delivered").isEmpty();
        StopWatcher.Read read = lagging.read(p);
        assertThat(read.triggers()).singleElement().satisfies(t -> {
            assertThat(t.scope()).isEqualTo(Latch.Scope.Namespace);
            assertThat(t.reason()).isEqualTo("venue halted");
        });
        assertThat(read.counts().namespace()).as("the API server counted the stop").isPositive();
        // What the pass decides from that read: the re-arm of the recorded epoch is spent, not a release.
        Latch.State latch = Latch.evaluate(read.triggers(), false, Optional.of(new Latch.Rearm("alice", 1)),
                new Latch.Recorded(true, false, 1));
        assertThat(latch.change()).isEqualTo(Latch.Change.REARM_SPENT);
        assertThat(kubectl.run("annotate", "namespace", ns, STOP + "-").exitCode()).isZero();
    }

    @Test
    void aClusterStopStopsEveryPolicyInEveryNamespace() {
        List<String> namespaces = new ArrayList<>();
        for (int k = 0; k < 5; k++) {
            String n = k == 0 ? ns : Namespaces.create(client, "killswitch-cluster");
            namespaces.add(n);
            for (int i = 0; i < 10; i++) {
                TradingSystem.deployment(client, n, "s" + i, "s" + i, 1);
                Kubectl.Result r = kubectl.runWithInput(policy("p" + i, "DryRun", "{refs: [{kind: Deployment, name: s" + i + "}]}", ""),
                        "apply", "-n", n, "-f", "-");
                assertThat(r.exitCode()).as(r.output()).isZero();
            }
        }
        for (String n : namespaces) {
            for (int i = 0; i < 10; i++) {
                awaitPolicy(n, "p" + i, "DryRun", x -> x.getStatus().mode == ExecutionMode.DRY_RUN && ready(x));
            }
        }
        boolean created = client.resources(ExecutionSafety.class).withName("global").get() == null;
        if (created) {
            apply("""
                    apiVersion: safety.marketintel.io/v1alpha1
                    kind: ExecutionSafety
                    metadata: {name: global}
                    spec: {}
                    """);
        }
        try {
            Kubectl.Result stop = kubectl.run("annotate", "executionsafety", "global", STOP + "=market-wide circuit breaker");
            assertThat(stop.exitCode()).as(stop.output()).isZero();
            for (String n : namespaces) {
                awaitZero(n, names("s", 10));
            }
            for (String n : namespaces) {
                for (int i = 0; i < 10; i++) {
                    ExecutionPolicy p = awaitPolicy(n, "p" + i, "stopped", x -> x.getStatus().phase == Phase.EmergencyStopped);
                    assertThat(p.getStatus().emergencyStop.scope).isEqualTo("Cluster");
                }
            }
            // kubectl get xsafety shows the stop (issue 17): the operator writes ExecutionSafety's status.
            await("xsafety status").atMost(DEADLINE).untilAsserted(() -> {
                var es = client.resources(ExecutionSafety.class).withName("global").get().getStatus();
                assertThat(es).isNotNull();
                assertThat(es.emergencyStop).isNotNull();
                assertThat(es.emergencyStop.active).isTrue();
                assertThat(es.emergencyStop.inForce).isTrue();
                assertThat(es.emergencyStop.reason).isEqualTo("market-wide circuit breaker");
                assertThat(es.emergencyStop.policiesLatched).as("every policy of this test, at least").isGreaterThanOrEqualTo(50);
                assertThat(Conditions.isTrue(es.conditions, Conditions.EMERGENCY_STOPPED)).isTrue();
            });
            Kubectl.Result xsafety = kubectl.run("get", "xsafety", "global", "--no-headers");
            assertThat(xsafety.output()).as(xsafety.output()).startsWith("global").contains("true").contains("market-wide circuit breaker");
        } finally {
            kubectl.run("annotate", "executionsafety", "global", STOP + "-");
            if (created) {
                kubectl.run("delete", "executionsafety", "global");
            }
        }
        // Latched after the cluster annotation is gone; a re-arm of one policy resumes that one only.
        Users other = people(namespaces.get(1));
        assertThat(other.as("alice", null, "annotate", "xp", "p3", "safety.marketintel.io/rearm=1").exitCode()).isZero();
        awaitPolicy(namespaces.get(1), "p3", "p3 resumed", x -> x.getStatus().mode == ExecutionMode.DRY_RUN && ready(x));
        for (String n : namespaces) {
            for (int i = 0; i < 10; i++) {
                if (!(n.equals(namespaces.get(1)) && i == 3)) {
                    awaitPolicy(n, "p" + i, "still stopped", x -> x.getStatus().emergencyStop.message.contains("does not resume"));
                    assertThat(replicas(n, "s" + i)).as(n + "/s" + i).isZero();
                }
            }
        }
    }

    // ---------------------------------------------------------------- egress fence and cancel-orders hook

    @Test
    void theFenceIsUpInEveryNonLiveModeAndTheHookIsCalledOnEveryPodOnStop() throws Exception {
        List<String> calls = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.atomic.AtomicInteger answered = new java.util.concurrent.atomic.AtomicInteger();
        // Plays the trading app's cancel endpoint on every pod (kwok pod IPs are loopback addresses here): one
        // server per pod address, on the port reserved on 127.0.0.1, so nothing listens beyond loopback.
        // The first pod to call answers 200, every other one 500: failures must show per pod.
        List<com.sun.net.httpserver.HttpServer> venues = new ArrayList<>();
        com.sun.net.httpserver.HttpHandler venue = exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            // Which call this is, counted atomically: the three calls arrive at once, and "the size after my add" made two
            // of them see 2 (none answered 200; seen in CI).
            int code = answered.incrementAndGet() == 1 ? 200 : 500;
            calls.add(exchange.getRemoteAddress().getAddress().getHostAddress() + " " + body);
            byte[] reply = (code == 200 ? "cancelled 3 orders" : "venue session down").getBytes();
            exchange.sendResponseHeaders(code, reply.length);
            exchange.getResponseBody().write(reply);
            exchange.close();
        };
        venues.add(listen(java.net.InetAddress.getLoopbackAddress(), 0, venue));
        int port = venues.get(0).getAddress().getPort();
        // The administrator allows the (kwok) pod network on the hook's port: without it no pod would be called.
        try (AutoCloseable allowed = PolicyTestSupport.allowDestinations(client, kubectl,
                "[{\"cidr\": \"127.0.0.0/16\", \"ports\": [" + port + "]}]")) {
            TradingSystem.deployment(client, ns, "alpha", "fx", 3);
            String spec = """
                    approval: {requiredForLive: 0}
                    liveEgress: [{cidr: 203.0.113.0/24, ports: [{port: 443}]}, {cidr: "2001:db8::/32"}]
                    cancelOrders: {port: %d, path: /cancel, timeout: 3s}
                    """.formatted(port);
            String fence = EgressFence.name("fx");
            apply(policy("fx", "Backtest", "{refs: [{kind: Deployment, name: alpha}]}", spec));
            awaitPolicy(ns, "fx", "Backtest", x -> x.getStatus().mode == ExecutionMode.BACKTEST && ready(x));
            assertThat(client.network().v1().networkPolicies().inNamespace(ns).withName(fence).get()).as("fenced in Backtest").isNotNull();
            apply(policy("fx", "DryRun", "{refs: [{kind: Deployment, name: alpha}]}", spec));
            awaitPolicy(ns, "fx", "DryRun", x -> x.getStatus().mode == ExecutionMode.DRY_RUN && ready(x));
            var np = client.network().v1().networkPolicies().inNamespace(ns).withName(fence).get();
            assertThat(np).as("fenced in DryRun").isNotNull();
            assertThat(np.getSpec().getPodSelector().getMatchLabels()).containsEntry("safety.marketintel.io/policy", "fx");
            apply(policy("fx", "Live", "{refs: [{kind: Deployment, name: alpha}]}", spec));
            awaitPolicy(ns, "fx", "Live", x -> x.getStatus().mode == ExecutionMode.LIVE && ready(x));
            await("fence lifted in Live").atMost(DEADLINE)
                    .until(() -> client.network().v1().networkPolicies().inNamespace(ns).withName(fence).get() == null);
            List<String> pods = client.pods().inNamespace(ns).withLabel("app", "alpha").list().getItems().stream()
                    .map(pod -> pod.getMetadata().getName()).sorted().toList();
            assertThat(pods).hasSize(3);
            listenOnEveryPod(client.pods().inNamespace(ns).withLabel("app", "alpha").list().getItems(), port, venue, venues);

            kubectl.run("annotate", "xp", "fx", "-n", ns, STOP + "=stuck quotes");
            ExecutionPolicy p = awaitPolicy(ns, "fx", "cancel-orders outcomes recorded", x -> x.getStatus().emergencyStop != null
                    && x.getStatus().emergencyStop.cancelOrders != null);
            var outcomes = p.getStatus().emergencyStop.cancelOrders;
            assertThat(outcomes).extracting(o -> o.pod).containsExactlyInAnyOrderElementsOf(pods);
            assertThat(outcomes).filteredOn(o -> o.result.equals("Succeeded")).hasSize(1);
            assertThat(outcomes).filteredOn(o -> o.result.equals("Failed")).hasSize(2)
                    .allSatisfy(o -> assertThat(o.message).matches("HTTP 500 from http://127\\.0\\.[0-9.]+:" + port + "/cancel"));
            // Nothing a pod answered is repeated, in status or in an Event.
            assertThat(client.getKubernetesSerialization().asJson(p.getStatus())).doesNotContain("cancelled 3 orders", "venue session down");
            assertThat(client.v1().events().inNamespace(ns).list().getItems())
                    .allSatisfy(e -> assertThat(e.getMessage()).doesNotContain("cancelled 3 orders", "venue session down"));
            assertThat(calls).hasSize(3).allSatisfy(c -> assertThat(c).contains("\"reason\":\"stuck quotes\"").contains("\"name\":\"fx\""));
            assertThat(client.network().v1().networkPolicies().inNamespace(ns).withName(fence).get()).as("fenced while stopped").isNotNull();
        } finally {
            venues.forEach(v -> v.stop(0));
        }
    }

    /**
     * A trader points the hook at pods whose addresses the administrator did not allow: each pod's outcome is a
     * refusal, and no pod endpoint sees a request.
     */
    @Test
    void theHookCallsNoPodOutsideTheAllowedDestinations() throws Exception {
        List<String> calls = java.util.Collections.synchronizedList(new ArrayList<>());
        com.sun.net.httpserver.HttpHandler venue = exchange -> {
            calls.add(exchange.getRemoteAddress().toString());
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        };
        List<com.sun.net.httpserver.HttpServer> venues = new ArrayList<>();
        venues.add(listen(java.net.InetAddress.getLoopbackAddress(), 0, venue));
        int port = venues.get(0).getAddress().getPort();
        try (AutoCloseable allowed = PolicyTestSupport.allowDestinations(client, kubectl,
                "[{\"cidr\": \"10.244.0.0/16\"}, {\"host\": \"*.risk.svc.cluster.local\", \"ports\": [8080]}]")) {
            TradingSystem.deployment(client, ns, "gamma", "fx", 2);
            apply(policy("fx", "DryRun", "{refs: [{kind: Deployment, name: gamma}]}",
                    "cancelOrders: {port: %d, path: /cancel, timeout: 3s}".formatted(port)));
            awaitPolicy(ns, "fx", "DryRun", x -> x.getStatus().mode == ExecutionMode.DRY_RUN && ready(x));
            var running = client.pods().inNamespace(ns).withLabel("app", "gamma").list().getItems();
            assertThat(running).hasSize(2);
            listenOnEveryPod(running, port, venue, venues);

            kubectl.run("annotate", "xp", "fx", "-n", ns, STOP + "=stuck quotes");
            ExecutionPolicy p = awaitPolicy(ns, "fx", "cancel-orders outcomes recorded", x -> x.getStatus().emergencyStop != null
                    && x.getStatus().emergencyStop.cancelOrders != null);
            assertThat(p.getStatus().emergencyStop.cancelOrders).hasSize(2).allSatisfy(o -> {
                assertThat(o.result).isEqualTo("Failed");
                assertThat(o.message).matches("http://127\\.0\\.[0-9.]+:" + port + "/cancel is not an allowed destination: "
                        + "ExecutionSafety/global spec\\.allowedDestinations does not list 127\\.0\\.[0-9.]+ port " + port
                        + " \\(a cluster administrator adds it\\)");
            });
            assertThat(calls).as("no pod endpoint was called").isEmpty();
        } finally {
            venues.forEach(v -> v.stop(0));
        }
    }

    /** The venue on each pod's (fake) address, besides the first one already listening, on the hook's port. */
    private static void listenOnEveryPod(List<io.fabric8.kubernetes.api.model.Pod> pods, int port, com.sun.net.httpserver.HttpHandler venue,
            List<com.sun.net.httpserver.HttpServer> venues) throws java.io.IOException {
        for (var pod : pods) {
            java.net.InetAddress address = java.net.InetAddress.getByName(pod.getStatus().getPodIP());
            if (!address.equals(venues.get(0).getAddress().getAddress())) {
                venues.add(listen(address, port, venue));
            }
        }
    }

    private static com.sun.net.httpserver.HttpServer listen(java.net.InetAddress address, int port,
            com.sun.net.httpserver.HttpHandler handler) throws java.io.IOException {
        com.sun.net.httpserver.HttpServer server = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress(address, port), 0);
        server.createContext("/cancel", handler);
        server.start();
        return server;
    }

    /**
     * The operator watches its fences: one deleted or loosened by hand is put back on the watch event, well
     * before the 60 s resync that used to be the only way it was noticed.
     */
    @Test
    void aFenceDeletedOrEditedByHandIsPutBackAtOnce() {
        TradingSystem.deployment(client, ns, "beta", "gw", 1);
        String spec = "liveEgress: [{cidr: 203.0.113.0/24, ports: [{port: 443}]}]";
        String fence = EgressFence.name("gw");
        apply(policy("gw", "DryRun", "{refs: [{kind: Deployment, name: beta}]}", spec));
        awaitPolicy(ns, "gw", "DryRun", x -> x.getStatus().mode == ExecutionMode.DRY_RUN && ready(x));
        var wanted = client.network().v1().networkPolicies().inNamespace(ns).withName(fence).get().getSpec();

        client.network().v1().networkPolicies().inNamespace(ns).withName(fence).delete();
        await("fence back after a delete").atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100)).until(() -> {
            var np = client.network().v1().networkPolicies().inNamespace(ns).withName(fence).get();
            return np != null && np.getMetadata().getDeletionTimestamp() == null && wanted.equals(np.getSpec());
        });

        Writes.edit(client.network().v1().networkPolicies().inNamespace(ns).withName(fence), np -> new io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder(np).editSpec().withEgress().endSpec()
                        .build());
        await("fence restored after an edit").atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100))
                .until(() -> wanted.equals(client.network().v1().networkPolicies().inNamespace(ns).withName(fence).get().getSpec()));
    }

    // ---------------------------------------------------------------- helpers

    private void created(String name, String mode, String workloads, String extra) {
        Kubectl.Result created = users.as("bob", policy(name, mode, workloads, extra), "apply", "-f", "-");
        assertThat(created.exitCode()).as(created.output()).isZero();
    }

    private static String[] names(String prefix, int n) {
        String[] names = new String[n];
        for (int i = 0; i < n; i++) {
            names[i] = prefix + i;
        }
        return names;
    }


    private ExecutionPolicy awaitPolicy(String namespace, String name, String what, Predicate<ExecutionPolicy> condition) {
        return PolicyTestSupport.awaitPolicy(client, namespace, name, what, condition);
    }

    private int replicas(String namespace, String deployment) {
        Deployment d = client.apps().deployments().inNamespace(namespace).withName(deployment).get();
        return d.getSpec().getReplicas();
    }

    private void awaitZero(String namespace, String... deployments) {
        for (String d : deployments) {
            await(namespace + "/" + d + " at zero").atMost(DEADLINE).pollInterval(Duration.ofMillis(100))
                    .until(() -> replicas(namespace, d) == 0);
        }
    }

    private void awaitStatefulSetZero(String namespace, String name) {
        await(namespace + "/" + name + " at zero").atMost(DEADLINE).pollInterval(Duration.ofMillis(100))
                .until(() -> client.apps().statefulSets().inNamespace(namespace).withName(name).get().getSpec().getReplicas() == 0);
    }

    private void awaitPods(String namespace, String app, ExecutionMode mode) {
        await(namespace + "/" + app + " pods in " + mode).atMost(DEADLINE).pollInterval(Duration.ofMillis(200))
                .until(() -> {
                    var pods = client.pods().inNamespace(namespace).withLabel("app", app).list().getItems();
                    return !pods.isEmpty() && pods.stream().allMatch(pod -> mode.wireName().equals(
                            pod.getMetadata().getAnnotations().get("safety.marketintel.io/mode")));
                });
    }
}
