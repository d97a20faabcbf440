package io.marketintel.safety.guard;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.awaitility.Awaitility;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.status.Conditions;
import io.marketintel.safety.testing.ControlPlaneResource;
import io.marketintel.safety.testing.Kubectl;
import io.marketintel.safety.testing.NamespacedTest;
import io.marketintel.safety.testing.PolicyTestSupport;
import io.marketintel.safety.testing.TradingSystem;
import io.marketintel.safety.testing.Users;
import io.marketintel.safety.testing.Writes;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/** DESIGN §5 on the real control plane: failing guards hold an escalation, never a de-escalation. */
@QuarkusTest
@WithTestResource(value = ControlPlaneResource.class, scope = TestResourceScope.GLOBAL)
class GuardsIT extends NamespacedTest {
    static final Duration DEADLINE = Duration.ofSeconds(90);

    @TestHTTPResource("/q/metrics")
    URL metrics;

    @AfterEach
    void removeClusterRules() {
        kubectl.run("delete", "executionsafety", "global", "--ignore-not-found");
    }

    ExecutionPolicy await(String what, java.util.function.Predicate<ExecutionPolicy> ok) {
        return Awaitility.await(what).atMost(DEADLINE).pollInterval(Duration.ofMillis(250)).until(
                () -> client.resources(ExecutionPolicy.class).inNamespace(ns).withName("fx").get(),
                p -> p != null && p.getStatus() != null && ok.test(p));
    }

    @Test
    void aFailingGuardHoldsTheEscalationUntilItsCauseIsFixed() throws Exception {
        TradingSystem.deployment(client, ns, "alpha", "fx", 1);
        apply(policy("fx", "DryRun", "{refs: [{kind: Deployment, name: alpha}]}", "approval: {requiredForLive: 0}"));
        await("Ready in DryRun", p -> p.getStatus().mode == ExecutionMode.DRY_RUN && Conditions.isTrue(p.getStatus().conditions, Conditions.READY));

        apply(policy("fx", "Live", "{refs: [{kind: Deployment, name: alpha}]}", """
                approval: {requiredForLive: 0}
                guards:
                - name: risk-params
                  type: Configuration
                  configuration: {configMaps: [{name: risk-params, keys: [limits]}]}
                - {name: pods-ready, type: WorkloadReady}
                - {name: limits, type: RiskLimits}
                - {name: soak, type: DryRunSoak}
                - {name: environment, type: EnvironmentRule}
                """));
        ExecutionPolicy p = await("held by the Configuration guard",
                x -> "GuardsNotPassing".equals(Conditions.find(x.getStatus().conditions, Conditions.STALLED).get().getReason()));
        assertThat(Conditions.find(p.getStatus().conditions, Conditions.STALLED).get().getMessage())
                .contains("risk-params (Configuration, Fail): ConfigMap risk-params not found");
        assertThat(p.getStatus().mode).isEqualTo(ExecutionMode.DRY_RUN);
        assertThat(p.getStatus().guards).extracting(g -> g.name + "=" + g.result)
                .containsExactly("risk-params=Fail", "pods-ready=Pass", "limits=Pass", "soak=Pass", "environment=Pass");
        assertThat(p.getStatus().guards).allSatisfy(g -> {
            assertThat(g.durationMillis).isNotNull().isGreaterThanOrEqualTo(0L);
            assertThat(g.evaluatedAt).isNotBlank();
            assertThat(g.message).isNotBlank();
        });

        // Held guards are re-evaluated at a steady pace, not in a loop driven by their own status updates
        // (evaluatedAt changes every time): at most a few evaluations in 8 s.
        double before = evaluations("Fail", "Configuration");
        Awaitility.await("no evaluation storm").during(Duration.ofSeconds(8)).atMost(Duration.ofSeconds(10))
                .until(() -> evaluations("Fail", "Configuration") - before <= 2);

        // Fixing the cause is all it takes: the escalation proceeds with no other action.
        client.configMaps().inNamespace(ns).resource(new ConfigMapBuilder().withNewMetadata().withName("risk-params")
                .endMetadata().withData(Map.of("limits", "max-notional=1000")).build()).create();
        await("Live once the ConfigMap exists", x -> x.getStatus().mode == ExecutionMode.LIVE
                && Conditions.isTrue(x.getStatus().conditions, Conditions.READY));

        String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(metrics.toString())).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertThat(body).contains("execution_safety_guard_evaluations_total{result=\"Fail\",type=\"Configuration\"}")
                .contains("execution_safety_guard_duration_seconds_count{result=\"Pass\",type=\"WorkloadReady\"}");
    }

    private double evaluations(String result, String type) throws Exception {
        String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(metrics.toString())).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        String series = "execution_safety_guard_evaluations_total{result=\"" + result + "\",type=\"" + type + "\"} ";
        return body.lines().filter(l -> l.startsWith(series)).mapToDouble(l -> Double.parseDouble(l.substring(series.length())))
                .findFirst().orElse(0);
    }

    @Test
    void deEscalationProceedsWhileEveryGuardFails() {
        TradingSystem.deployment(client, ns, "alpha", "fx", 1);
        apply(policy("fx", "DryRun", "{refs: [{kind: Deployment, name: alpha}]}", "approval: {requiredForLive: 0}"));
        await("DryRun", p -> p.getStatus().mode == ExecutionMode.DRY_RUN && Conditions.isTrue(p.getStatus().conditions, Conditions.READY));
        apply(policy("fx", "Live", "{refs: [{kind: Deployment, name: alpha}]}", "approval: {requiredForLive: 0}"));
        await("Live", p -> p.getStatus().mode == ExecutionMode.LIVE && Conditions.isTrue(p.getStatus().conditions, Conditions.READY));

        // Now make every listed guard fail: a missing ConfigMap, a namespace the cluster keeps at Backtest.
        Writes.edit(client.namespaces().withName(ns), n -> {
            n.getMetadata().getLabels().put("environment", "research");
            return n;
        });
        apply("""
                apiVersion: safety.marketintel.io/v1alpha1
                kind: ExecutionSafety
                metadata: {name: global}
                spec:
                  environmentRules:
                  - {name: research-backtest-only, namespaceSelector: {matchLabels: {environment: research}}, maxMode: Backtest}
                """);
        Instant asked = Instant.now();
        apply(policy("fx", "DryRun", "{refs: [{kind: Deployment, name: alpha}]}", """
                guards:
                - name: risk-params
                  type: Configuration
                  configuration: {configMaps: [{name: risk-params, keys: [limits]}]}
                - {name: environment, type: EnvironmentRule}
                """));
        ExecutionPolicy p = await("DryRun despite failing guards", x -> x.getStatus().mode == ExecutionMode.DRY_RUN
                && Conditions.isTrue(x.getStatus().conditions, Conditions.READY));
        assertThat(p.getStatus().guards == null ? java.util.List.<Object> of() : p.getStatus().guards)
                .as("guards are not consulted for a de-escalation: no result at all, or only from before it")
                .allSatisfy(g -> assertThat(Instant.parse(((io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus.GuardResult) g).evaluatedAt))
                        .isBefore(asked));

        // The same guards do hold the way back up: the environment rule names the namespace.
        apply(policy("fx", "Live", "{refs: [{kind: Deployment, name: alpha}]}", """
                approval: {requiredForLive: 0}
                guards:
                - {name: environment, type: EnvironmentRule}
                """));
        p = await("held by the environment rule",
                x -> "GuardsNotPassing".equals(Conditions.find(x.getStatus().conditions, Conditions.STALLED).get().getReason()));
        assertThat(Conditions.find(p.getStatus().conditions, Conditions.STALLED).get().getMessage())
                .contains("matches environment rule research-backtest-only: at most Backtest may run here, not Live");
    }

    /**
     * Issue 21: a trader (the namespace's policy editor) points an Http guard at an internal service. Until a
     * cluster administrator lists it in ExecutionSafety/global, the guard sends nothing and says why; once listed,
     * status and Events show the outcome only, never what the service answered.
     */
    @Test
    void aTradersHttpGuardCallsOnlyAnAllowedDestinationAndNoReplyReachesStatus() throws Exception {
        String secret = "internal-token-7f3a";
        java.util.concurrent.atomic.AtomicInteger hits = new java.util.concurrent.atomic.AtomicInteger();
        com.sun.net.httpserver.HttpServer internal = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
        internal.createContext("/", ex -> {
            hits.incrementAndGet();
            ex.getRequestBody().readAllBytes();
            byte[] reply = ("{\"allow\": false, \"reason\": \"" + secret + "\", \"users\": [\"" + secret + "\"]}").getBytes();
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(200, reply.length);
            ex.getResponseBody().write(reply);
            ex.close();
        });
        internal.start();
        int port = internal.getAddress().getPort();
        String url = "http://127.0.0.1:" + port + "/admin/users";
        Users traders = new Users(client, kubectl, ns).bind("bob", "execution-policy-editor");
        String live = policy("fx", "Live", "{refs: [{kind: Deployment, name: alpha}]}", """
                approval: {requiredForLive: 0}
                guards:
                - {name: risk-desk, type: Http, timeout: 2s, http: {url: "%s"}}
                """.formatted(url));
        try (AutoCloseable listed = PolicyTestSupport.allowDestinations(client, kubectl,
                "[{\"host\": \"*.risk.svc.cluster.local\", \"ports\": [8080]}]")) {
            TradingSystem.deployment(client, ns, "alpha", "fx", 1);
            Kubectl.Result dryRun = traders.as("bob", policy("fx", "DryRun", "{refs: [{kind: Deployment, name: alpha}]}",
                    "approval: {requiredForLive: 0}"), "apply", "-f", "-");
            assertThat(dryRun.exitCode()).as(dryRun.output()).isZero();
            await("Ready in DryRun", p -> p.getStatus().mode == ExecutionMode.DRY_RUN && Conditions.isTrue(p.getStatus().conditions, Conditions.READY));

            Kubectl.Result toLive = traders.as("bob", live, "apply", "-f", "-");
            assertThat(toLive.exitCode()).as(toLive.output()).isZero();
            String refusal = url + " is not an allowed destination: ExecutionSafety/global spec.allowedDestinations does not list"
                    + " 127.0.0.1 port " + port + " (a cluster administrator adds it)";
            ExecutionPolicy held = await("held by the refused Http guard", x -> x.getStatus().guards != null
                    && x.getStatus().guards.stream().anyMatch(g -> "risk-desk".equals(g.name) && refusal.equals(g.message)));
            assertThat(held.getStatus().guards).filteredOn(g -> "risk-desk".equals(g.name)).singleElement()
                    .satisfies(g -> assertThat(g.result).isEqualTo("Error"));
            assertThat(Conditions.find(held.getStatus().conditions, Conditions.STALLED).get().getMessage())
                    .contains("risk-desk (Http, Error): " + refusal);
            assertThat(held.getStatus().mode).isEqualTo(ExecutionMode.DRY_RUN);
            assertThat(hits).as("the internal service saw no request").hasValue(0);

            // The administrator lists it: now it is called, and only the outcome shows.
            try (AutoCloseable allowed = PolicyTestSupport.allowDestinations(client, kubectl,
                    "[{\"cidr\": \"127.0.0.1/32\", \"ports\": [" + port + "]}]")) {
                ExecutionPolicy denied = await("denied by the allowed service", x -> x.getStatus().guards != null
                        && x.getStatus().guards.stream().anyMatch(g -> "risk-desk".equals(g.name) && ("denied by " + url).equals(g.message)));
                assertThat(hits.get()).isPositive();
                assertThat(denied.getStatus().mode).isEqualTo(ExecutionMode.DRY_RUN);
                assertThat(client.getKubernetesSerialization().asJson(denied.getStatus())).doesNotContain(secret);
                assertThat(client.v1().events().inNamespace(ns).list().getItems())
                        .allSatisfy(e -> assertThat(e.getMessage()).doesNotContain(secret));
            }
        } finally {
            internal.stop(0);
        }
    }
}
