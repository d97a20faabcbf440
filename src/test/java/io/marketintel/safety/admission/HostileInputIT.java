package io.marketintel.safety.admission;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.http.HttpResponse;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.status.Conditions;
import io.marketintel.safety.testing.ControlPlane;
import io.marketintel.safety.testing.ControlPlaneResource;
import io.marketintel.safety.testing.HostilePolicies.Expect;
import io.marketintel.safety.testing.HostilePolicies.HostileInput;
import io.marketintel.safety.testing.HostilePolicies.Identity;
import io.marketintel.safety.testing.HostilePolicies;
import io.marketintel.safety.testing.Namespaces;
import io.marketintel.safety.testing.Users;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;

/**
 * Issue 10, hostile input: {@code fuzz.tries} (default 1,000) generated ExecutionPolicies and annotations
 * ({@link HostilePolicies}, seeded by {@code fuzz.seed}) sent as raw JSON to the real API server, as the admin,
 * an editor (bob) or an approver (alice), with the in-process operator running. Each input is either refused at
 * admission with a message naming the problem, or accepted and then reported by the operator in a condition
 * (observedGeneration caught up, never {@code OperatorError}). Over the whole run: no escalation (no generated
 * input carries a legitimate four-eyes approval, so any Live status, Live transition or Live pod is one), no
 * crash (health UP, no OperatorError ever seen), no hot loop (status writes per policy and reconciles overall
 * bounded over a quiet window once everything settled). A handful of policies are also brought to DryRun on a
 * real Deployment and then asked for Live without a valid approval (a self-approval by the requester, one
 * approver of two). The seed, the outcome counts and the timings go to {@code target/fuzz/hostile-input.txt}
 * (printed by {@code .ci/run}); a failure names the seed and the replay command.
 */
@QuarkusTest
@WithTestResource(value = ControlPlaneResource.class, scope = TestResourceScope.GLOBAL)
class HostileInputIT {
    static final int PER_NAMESPACE = 125;
    static final Duration SETTLE = Duration.ofSeconds(150);
    static final Duration QUIET = Duration.ofSeconds(12);
    /** Status writes one policy may make in {@link #QUIET}: a stalled policy re-evaluates every 10 s. */
    static final int WRITES_PER_QUIET_WINDOW = 3;
    static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    MeterRegistry registry;

    @org.junit.jupiter.api.BeforeEach
    void transientReads() {
        io.marketintel.safety.testing.TransientReads.install(); // Quarkus' class loader has an Awaitility of its own
    }

    @TestHTTPResource("/q/health")
    URL health;

    KubernetesClient admin;
    KubernetesClient bob;
    KubernetesClient alice;
    final List<Watch> watches = new ArrayList<>();
    final Map<String, PolicyTrail> trails = new ConcurrentHashMap<>();
    final List<String> escalations = Collections.synchronizedList(new ArrayList<>());
    final List<String> namespaces = new ArrayList<>();

    /** What the watch saw of one policy: status writes (resourceVersions) and anything alarming. */
    static final class PolicyTrail {
        final List<Long> writesAtNanos = Collections.synchronizedList(new ArrayList<>());
        volatile String operatorError;
    }

    record Sent(int index, String ns, String name, HostileInput input, int code, String message) {
        boolean accepted() {
            return code == 201;
        }

        String id() {
            return ns + "/" + name;
        }
    }

    @AfterEach
    void close() {
        watches.forEach(Watch::close);
        for (KubernetesClient c : new KubernetesClient[] { bob, alice, admin }) {
            if (c != null) {
                c.close();
            }
        }
    }

    @Test
    void hostileInputsAreRefusedOrReportedAndNeverEscalateCrashOrLoop() throws Exception {
        long seed = Long.getLong("fuzz.seed", new SecureRandom().nextLong());
        int tries = Integer.getInteger("fuzz.tries", 1000);
        String replay = "replay with: ./mvnw -B verify -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false "
                + "-Dit.test=HostileInputIT -Dfuzz.seed=" + seed + " -Dfuzz.tries=" + tries;
        System.out.println("HostileInputIT: seed " + seed + ", " + tries + " inputs; " + replay);
        long started = System.nanoTime();
        List<HostileInput> inputs = HostilePolicies.sample(seed, tries);

        admin = ControlPlane.shared().client();
        bob = impersonating("bob");
        alice = impersonating("alice", "risk-officers");
        int nsCount = Math.max(1, (tries + PER_NAMESPACE - 1) / PER_NAMESPACE);
        for (int i = 0; i < nsCount; i++) {
            String ns = Namespaces.create(admin, "hostile");
            bind(ns, "bob", "execution-policy-editor");
            bind(ns, "alice", "execution-approver");
            namespaces.add(ns);
        }
        String seqNs = Namespaces.create(admin, "hostile-live");
        bind(seqNs, "alice", "execution-approver");
        namespaces.add(seqNs);
        double reconcilesBefore = counter("reconciliations.started.total");
        double failuresBefore = counter("reconciliations.failure.total");
        watch();

        // Live asked for without a valid approval, after a real DryRun: a few policies on 0-replica Deployments.
        int sequences = Math.max(3, tries / 200);
        for (int i = 0; i < sequences; i++) {
            admin.apps().deployments().inNamespace(seqNs).resource(new DeploymentBuilder()
                    .withNewMetadata().withName("seq-" + i).endMetadata()
                    .withNewSpec().withReplicas(0).withNewSelector().withMatchLabels(Map.of("app", "seq-" + i)).endSelector()
                    .withNewTemplate().withNewMetadata().withLabels(Map.of("app", "seq-" + i)).endMetadata()
                    .withNewSpec().addNewContainer().withName("strategy").withImage("registry.example/s:1.0").endContainer()
                    .endSpec().endTemplate().endSpec().build()).create();
            admin.resources(ExecutionPolicy.class).inNamespace(seqNs).resource(admin.getKubernetesSerialization().unmarshal("""
                    {"apiVersion": "safety.marketintel.io/v1alpha1", "kind": "ExecutionPolicy",
                     "metadata": {"name": "seq-%d", "labels": {"%s": "true"}},
                     "spec": {"mode": "DryRun", "workloads": {"refs": [{"kind": "Deployment", "name": "seq-%d"}]},
                              "approval": {"requiredForLive": %d},
                              "riskLimits": {"maxOrderNotional": 1, "maxPosition": 1, "maxDailyLoss": 1, "maxOrdersPerSecond": 1}}}
                    """.formatted(i, HostilePolicies.FUZZ_LABEL, i, 2 + i % 3), ExecutionPolicy.class)).create();
        }

        // Send every input, many at once.
        List<Sent> sent = send(inputs);
        long sentAt = System.nanoTime();
        List<String> failures = new ArrayList<>();
        Map<String, AtomicInteger> outcomes = new TreeMap<>();
        for (Sent s : sent) {
            String outcome = s.input().family() + (s.accepted() ? " accepted" : " refused " + s.code());
            outcomes.computeIfAbsent(outcome, k -> new AtomicInteger()).incrementAndGet();
            failures.addAll(judgeAdmission(s));
        }

        // The sequences: wait for DryRun, ask for Live, approve as the requester and as one approver.
        for (int i = 0; i < sequences; i++) {
            String name = "seq-" + i;
            awaitPolicy(seqNs, name, "in DryRun", p -> p.getStatus().mode == ExecutionMode.DRY_RUN
                    && Conditions.isTrue(p.getStatus().conditions, Conditions.READY));
            admin.resources(ExecutionPolicy.class).inNamespace(seqNs).withName(name)
                    .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"mode\":\"Live\"}}");
        }
        for (int i = 0; i < sequences; i++) {
            String name = "seq-" + i;
            ExecutionPolicy asked = awaitPolicy(seqNs, name, "approval token for Live", p -> p.getStatus().approval != null
                    && p.getStatus().approval.token != null && Objects.equals(p.getStatus().observedGeneration, p.getMetadata().getGeneration()));
            String token = asked.getStatus().approval.token;
            annotate(admin, seqNs, name, "safety.marketintel.io/approve", token); // the requester: never counts
            annotate(alice, seqNs, name, "safety.marketintel.io/approve", token); // one of two or more
            // A look-alike of the token (a trailing right-to-left override): the API server refuses it (issue 19).
            try {
                annotate(alice, seqNs, name, "safety.marketintel.io/approve", token + "\u202e");
                failures.add(name + ": an approval of a look-alike of the awaited token was accepted");
            } catch (KubernetesClientException e) {
                if (e.getCode() != 403 || !e.getMessage().contains("does not approve the change awaiting approval")) {
                    failures.add(name + ": a look-alike approval refused without naming the awaited token: " + e.getMessage());
                }
            }
        }

        // Everything accepted is reported: observedGeneration caught up, a condition that says what is going on.
        List<Sent> accepted = sent.stream().filter(Sent::accepted).toList();
        Map<String, ExecutionPolicy> settled = new ConcurrentHashMap<>();
        try {
            await("every accepted input reported").atMost(SETTLE).pollInterval(Duration.ofSeconds(1)).until(() -> {
                for (String ns : namespaces) {
                    for (ExecutionPolicy p : admin.resources(ExecutionPolicy.class).inNamespace(ns).list().getItems()) {
                        if (reported(p)) {
                            settled.put(ns + "/" + p.getMetadata().getName(), p);
                        } else {
                            settled.remove(ns + "/" + p.getMetadata().getName());
                        }
                    }
                }
                return accepted.stream().allMatch(s -> settled.containsKey(s.id()))
                        && sequencesSettled(settled, seqNs, sequences);
            });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            accepted.stream().filter(s -> !settled.containsKey(s.id())).limit(20).forEach(s -> failures.add(s.id() + " ("
                    + s.input() + "): not reported within " + SETTLE.toSeconds() + "s: " + describe(get(s.ns(), s.name()))));
        }
        long settledAt = System.nanoTime();
        for (Sent s : accepted) {
            Optional.ofNullable(settled.get(s.id())).ifPresent(p -> failures.addAll(judgeReport(s, p)));
        }
        for (int i = 0; i < sequences; i++) {
            ExecutionPolicy p = settled.get(seqNs + "/seq-" + i);
            if (p != null) {
                Condition stalled = Conditions.find(p.getStatus().conditions, Conditions.STALLED).orElseThrow();
                if (!"AwaitingApproval".equals(stalled.getReason()) || !stalled.getMessage().matches("(?s).*1 of [2-4] approvals for Live.*")) {
                    failures.add(seqNs + "/seq-" + i + ": Live without enough approvals not reported as 1 of N: " + describe(p));
                }
            }
        }

        // Quiet window: nothing new is sent; every policy stays within a few status writes, reconciles overall too.
        long quietFrom = System.nanoTime();
        double reconcilesAtQuiet = counter("reconciliations.started.total");
        int policies = admin.resources(ExecutionPolicy.class).inAnyNamespace().list().getItems().size();
        List<String> loops = new ArrayList<>();
        try {
            await("no hot loop").during(QUIET).atMost(QUIET.plusSeconds(10)).pollInterval(Duration.ofMillis(500)).until(() -> {
                loops.clear();
                trails.forEach((id, t) -> {
                    long writes;
                    synchronized (t.writesAtNanos) {
                        writes = t.writesAtNanos.stream().filter(at -> at >= quietFrom).count();
                    }
                    if (writes > WRITES_PER_QUIET_WINDOW) {
                        loops.add(id + ": " + writes + " status writes in the quiet window");
                    }
                });
                return loops.isEmpty();
            });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            failures.add("hot loop: " + String.join("; ", loops.subList(0, Math.min(10, loops.size()))));
        }
        double quietSeconds = (System.nanoTime() - quietFrom) / 1e9;
        double reconcilesInQuiet = counter("reconciliations.started.total") - reconcilesAtQuiet;
        // Every policy in the cluster re-evaluates at most every 10 s when stalled (60 s when idle): twice that, plus slack.
        double reconcileBudget = policies * (quietSeconds / 10 + 1) * 2 + 50;
        if (reconcilesInQuiet > reconcileBudget) {
            failures.add("hot loop: " + reconcilesInQuiet + " reconciles in " + quietSeconds + " s of quiet for " + policies
                    + " policies (budget " + reconcileBudget + ")");
        }

        // No crash: health UP, no OperatorError ever.
        trails.forEach((id, t) -> {
            if (t.operatorError != null) {
                failures.add(id + ": reconcile failed (OperatorError): " + t.operatorError);
            }
        });
        for (String check : List.of("live", "ready")) {
            var response = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                    URI.create(health + "/" + check)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200 || !response.body().contains("\"UP\"")) {
                failures.add("health " + check + " not UP: " + response.statusCode() + " " + response.body());
            }
        }

        // No escalation: no Live status, transition or history anywhere, no Live pod template or pod.
        for (String ns : namespaces) {
            for (ExecutionPolicy p : admin.resources(ExecutionPolicy.class).inNamespace(ns).list().getItems()) {
                checkEscalation(p);
            }
            admin.apps().deployments().inNamespace(ns).list().getItems().forEach(d -> {
                var a = d.getSpec().getTemplate().getMetadata().getAnnotations();
                if (a != null && "Live".equals(a.get(MetadataNames.MODE_ANNOTATION))) {
                    escalations.add("Deployment " + ns + "/" + d.getMetadata().getName() + " has a Live pod template");
                }
            });
        }
        failures.addAll(escalations);
        failures.addAll(forgedRequesters(accepted));

        double failed = counter("reconciliations.failure.total") - failuresBefore;
        double reconciles = counter("reconciliations.started.total") - reconcilesBefore;
        String summary = "seed " + seed + ", " + tries + " inputs (" + accepted.size() + " accepted, " + (tries - accepted.size())
                + " refused) + " + sequences + " Live-without-approval sequences in " + namespaces.size() + " namespaces; sent in "
                + secs(sentAt - started) + " s, all reported after " + secs(settledAt - started) + " s, total "
                + secs(System.nanoTime() - started) + " s; " + (long) reconciles + " reconciles (" + (long) failed
                + " ended in an exception, optimistic-lock conflicts included), " + (long) reconcilesInQuiet + " in "
                + String.format(Locale.ROOT, "%.1f", quietSeconds) + " s of quiet over " + policies + " policies; escalations "
                + escalations.size() + ", failures " + failures.size();
        StringBuilder report = new StringBuilder("HostileInputIT: ").append(summary).append('\n').append(replay).append('\n');
        outcomes.forEach((k, v) -> report.append("  ").append(v).append(" x ").append(k).append('\n'));
        failures.forEach(f -> report.append("FAIL ").append(f).append('\n'));
        Path out = Path.of("target", "fuzz", "hostile-input.txt");
        Files.createDirectories(out.getParent());
        Files.writeString(out, report.toString(), StandardCharsets.UTF_8);
        System.out.println(report);

        assertThat(failures).as("HostileInputIT seed %d (%s): %s", seed, replay, summary).isEmpty();
        assertThat(tries).as("inputs").isPositive();
        assertThat(accepted).as("some inputs accepted").isNotEmpty();
        assertThat(sent.size() - accepted.size()).as("some inputs refused").isPositive();
    }

    // ---------------------------------------------------------------- sending

    List<Sent> send(List<HostileInput> inputs) {
        Semaphore inFlight = new Semaphore(16);
        List<CompletableFuture<Sent>> futures = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            HostileInput in = inputs.get(i);
            String ns = namespaces.get(i % (namespaces.size() - 1));
            String name = "fz-" + i;
            KubernetesClient as = switch (in.as()) {
                case ADMIN -> admin;
                case EDITOR -> bob;
                case APPROVER -> alice;
            };
            inFlight.acquireUninterruptibly();
            String url = admin.getMasterUrl().toString().replaceAll("/$", "") + "/apis/" + HostilePolicies.API_VERSION
                    + "/namespaces/" + ns + "/executionpolicies?fieldValidation=Strict";
            var request = as.getHttpClient().newHttpRequestBuilder().uri(url)
                    .post("application/json", in.json(name, ns).getBytes(StandardCharsets.UTF_8)).build();
            int index = i;
            futures.add(as.getHttpClient().sendAsync(request, String.class)
                    .thenApply(r -> new Sent(index, ns, name, in, r.code(), message(r)))
                    .exceptionally(e -> new Sent(index, ns, name, in, -1, String.valueOf(e)))
                    .whenComplete((r, e) -> inFlight.release()));
        }
        List<Sent> sent = new ArrayList<>(futures.stream().map(CompletableFuture::join).toList());
        // A request the API server answers by closing the connection (a body over its limit) takes the other
        // requests multiplexed on that connection with it: send each of those again, one at a time.
        for (int i = 0; i < sent.size(); i++) {
            Sent s = sent.get(i);
            if (s.code() == -1) {
                KubernetesClient as = switch (s.input().as()) {
                    case ADMIN -> admin;
                    case EDITOR -> bob;
                    case APPROVER -> alice;
                };
                String url = admin.getMasterUrl().toString().replaceAll("/$", "") + "/apis/" + HostilePolicies.API_VERSION
                        + "/namespaces/" + s.ns() + "/executionpolicies?fieldValidation=Strict";
                var request = as.getHttpClient().newHttpRequestBuilder().uri(url)
                        .post("application/json", s.input().json(s.name(), s.ns()).getBytes(StandardCharsets.UTF_8)).build();
                Sent again = s;
                try {
                    var r = as.getHttpClient().sendAsync(request, String.class).join();
                    again = new Sent(s.index(), s.ns(), s.name(), s.input(), r.code(), message(r));
                } catch (RuntimeException e) {
                    again = new Sent(s.index(), s.ns(), s.name(), s.input(), -1, "connection closed twice: " + e);
                }
                sent.set(i, again);
            }
        }
        return sent;
    }

    static String message(HttpResponse<String> r) {
        if (r.code() == 201) {
            return "";
        }
        try {
            JsonNode status = JSON.readTree(r.body());
            return status.path("message").asText(r.body());
        } catch (IOException e) {
            return r.body();
        }
    }

    // ---------------------------------------------------------------- judging

    static List<String> judgeAdmission(Sent s) {
        HostileInput in = s.input();
        if (s.accepted()) {
            return in.expect() == Expect.REJECT
                    ? List.of(s.id() + " (" + in + "): accepted, but the API server should have refused it")
                    : List.of();
        }
        if (in.expect() == Expect.ACCEPT) {
            return List.of(s.id() + " (" + in + "): refused " + s.code() + ": " + shorten(s.message()));
        }
        if (s.code() < 400 || s.code() >= 500 && !names(s.message(), in.phrases())) {
            return List.of(s.id() + " (" + in + "): answered " + s.code() + ": " + shorten(s.message()));
        }
        if (!names(s.message(), in.phrases())) {
            return List.of(s.id() + " (" + in + "): refused " + s.code() + " without naming " + in.phrases() + ": " + shorten(s.message()));
        }
        return List.of();
    }

    /** Accepted and reported: never OperatorError, Stalled says why, and an EITHER input's problem is named. */
    static List<String> judgeReport(Sent s, ExecutionPolicy p) {
        HostileInput in = s.input();
        var conditions = p.getStatus().conditions;
        Condition ready = Conditions.find(conditions, Conditions.READY).orElseThrow();
        Condition stalled = Conditions.find(conditions, Conditions.STALLED).orElseThrow();
        List<String> out = new ArrayList<>();
        if ("OperatorError".equals(ready.getReason())) {
            out.add(s.id() + " (" + in + "): OperatorError: " + shorten(ready.getMessage()));
        }
        if (!"True".equals(ready.getStatus()) && (stalled.getMessage() == null || stalled.getMessage().isBlank())
                && !"True".equals(Conditions.find(conditions, Conditions.RECONCILING).map(Condition::getStatus).orElse(""))) {
            out.add(s.id() + " (" + in + "): neither Ready nor Stalled nor Reconciling with a message: " + describe(p));
        }
        if (!in.phrases().isEmpty() && conditions.stream().noneMatch(c -> !isGood(c) && names(c.getMessage(), in.phrases()))) {
            out.add(s.id() + " (" + in + "): accepted, and no condition names " + in.phrases() + ": " + describe(p));
        }
        return out;
    }

    /** The condition in its good state says nothing about a problem. */
    static boolean isGood(Condition c) {
        boolean positive = List.of(Conditions.READY, Conditions.GUARDS_PASSED, Conditions.APPROVED).contains(c.getType());
        return positive == "True".equals(c.getStatus());
    }

    static boolean names(String message, List<String> phrases) {
        if (message == null || message.isBlank()) {
            return false;
        }
        String m = message.toLowerCase(Locale.ROOT);
        return phrases.stream().anyMatch(p -> m.contains(p.toLowerCase(Locale.ROOT)));
    }

    static boolean reported(ExecutionPolicy p) {
        return p.getStatus() != null && p.getStatus().observedGeneration != null
                && p.getStatus().observedGeneration.equals(p.getMetadata().getGeneration())
                && Conditions.find(p.getStatus().conditions, Conditions.READY).isPresent()
                && Conditions.find(p.getStatus().conditions, Conditions.STALLED).isPresent();
    }

    static boolean sequencesSettled(Map<String, ExecutionPolicy> settled, String ns, int sequences) {
        for (int i = 0; i < sequences; i++) {
            ExecutionPolicy p = settled.get(ns + "/seq-" + i);
            String approvals = p == null || p.getMetadata().getAnnotations() == null ? null
                    : p.getMetadata().getAnnotations().get("safety.marketintel.io/approvals");
            if (p == null || approvals == null || approvals.split("\n").length < 3
                    || !"AwaitingApproval".equals(Conditions.find(p.getStatus().conditions, Conditions.STALLED).get().getReason())
                    || p.getStatus().approval == null || p.getStatus().approval.approvedBy == null) {
                return false;
            }
        }
        return true;
    }

    /** A requested-by written by hand on create is replaced by the API server with the real requester. */
    List<String> forgedRequesters(List<Sent> accepted) {
        List<String> out = new ArrayList<>();
        for (Sent s : accepted) {
            if (s.input().variant().equals("forged requested-by") || s.input().family().equals("identity")) {
                ExecutionPolicy p = get(s.ns(), s.name());
                String want = s.input().as() == Identity.EDITOR ? "bob" : HostilePolicies.ADMIN;
                String got = p.getMetadata().getAnnotations().get("safety.marketintel.io/requested-by");
                if (!want.equals(got)) {
                    out.add(s.id() + " (" + s.input() + "): requested-by is " + HostilePolicies.shown(got) + ", not " + want);
                }
            }
        }
        return out;
    }

    void checkEscalation(ExecutionPolicy p) {
        if (p.getStatus() == null) {
            return;
        }
        String id = p.getMetadata().getNamespace() + "/" + p.getMetadata().getName();
        var st = p.getStatus();
        if (st.mode == ExecutionMode.LIVE || st.transition != null && st.transition.to == ExecutionMode.LIVE
                || st.history != null && st.history.stream().anyMatch(h -> h.to == ExecutionMode.LIVE)) {
            escalations.add("ESCALATION: " + id + " went (or is going) Live without a valid approval: " + describe(p));
        }
    }

    // ---------------------------------------------------------------- watching

    void watch() {
        watches.add(admin.resources(ExecutionPolicy.class).inAnyNamespace().withLabel(HostilePolicies.FUZZ_LABEL)
                .watch(new Watcher<>() {
                    @Override
                    public void eventReceived(Action action, ExecutionPolicy p) {
                        String id = p.getMetadata().getNamespace() + "/" + p.getMetadata().getName();
                        PolicyTrail t = trails.computeIfAbsent(id, k -> new PolicyTrail());
                        t.writesAtNanos.add(System.nanoTime());
                        if (p.getStatus() != null) {
                            Conditions.find(p.getStatus().conditions, Conditions.READY)
                                    .filter(c -> "OperatorError".equals(c.getReason()))
                                    .ifPresent(c -> t.operatorError = shorten(c.getMessage()));
                            checkEscalation(p);
                        }
                    }

                    @Override
                    public void onClose(WatcherException cause) {
                        if (cause != null) {
                            escalations.add("policy watch closed: " + cause + " (escalations after it would go unseen)");
                        }
                    }
                }));
        watches.add(admin.pods().inAnyNamespace().watch(new Watcher<>() {
            @Override
            public void eventReceived(Action action, Pod pod) {
                var a = pod.getMetadata().getAnnotations();
                if (namespaces.contains(pod.getMetadata().getNamespace()) && a != null
                        && "Live".equals(a.get(MetadataNames.MODE_ANNOTATION))) {
                    escalations.add("ESCALATION: pod " + pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName() + " runs Live");
                }
            }

            @Override
            public void onClose(WatcherException cause) {
                if (cause != null) {
                    escalations.add("pod watch closed: " + cause);
                }
            }
        }));
    }

    // ---------------------------------------------------------------- plumbing

    KubernetesClient impersonating(String user, String... groups) {
        Config config = ControlPlane.shared().config();
        config.setImpersonateUsername(user);
        config.setImpersonateGroups(groups);
        return new KubernetesClientBuilder().withConfig(config).build();
    }

    void bind(String ns, String user, String clusterRole) {
        Users.bind(admin, ns, "User", user, null, clusterRole);
    }

    static void annotate(KubernetesClient as, String ns, String name, String key, String value) {
        as.resources(ExecutionPolicy.class).inNamespace(ns).withName(name).patch(PatchContext.of(PatchType.JSON_MERGE),
                "{\"metadata\":{\"annotations\":{\"" + key + "\":" + quoted(value) + "}}}");
    }

    static String quoted(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    ExecutionPolicy get(String ns, String name) {
        return admin.resources(ExecutionPolicy.class).inNamespace(ns).withName(name).get();
    }

    ExecutionPolicy awaitPolicy(String ns, String name, String what, java.util.function.Predicate<ExecutionPolicy> condition) {
        return await(ns + "/" + name + " " + what).atMost(SETTLE).pollInterval(Duration.ofMillis(300))
                .until(() -> get(ns, name), p -> p != null && p.getStatus() != null && condition.test(p));
    }

    double counter(String name) {
        return registry.find(name).counters().stream().mapToDouble(Counter::count).sum();
    }

    static String describe(ExecutionPolicy p) {
        if (p == null) {
            return "(gone)";
        }
        if (p.getStatus() == null) {
            return "(no status; generation " + p.getMetadata().getGeneration() + ")";
        }
        return "generation " + p.getMetadata().getGeneration() + ", observed " + p.getStatus().observedGeneration + ", mode "
                + p.getStatus().mode + ", phase " + p.getStatus().phase + ", conditions " + (p.getStatus().conditions == null ? "none"
                        : p.getStatus().conditions.stream().map(c -> c.getType() + "=" + c.getStatus() + "/" + c.getReason() + ": "
                                + shorten(c.getMessage())).collect(Collectors.joining(" | ")));
    }

    static String shorten(String s) {
        if (s == null) {
            return "null";
        }
        String flat = s.replace("\n", "\\n");
        return flat.length() > 400 ? flat.substring(0, 400) + "...(" + s.length() + " chars)" : flat;
    }

    static String secs(long nanos) {
        return String.format(Locale.ROOT, "%.1f", nanos / 1e9);
    }
}
