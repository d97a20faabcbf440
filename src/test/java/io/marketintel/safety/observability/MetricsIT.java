package io.marketintel.safety.observability;

import static io.marketintel.safety.testing.PolicyTestSupport.ready;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.OptionalDouble;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.testing.ControlPlaneResource;
import io.marketintel.safety.testing.Kubectl;
import io.marketintel.safety.testing.NamespacedTest;
import io.marketintel.safety.testing.PodHolds;
import io.marketintel.safety.testing.PolicyTestSupport;
import io.marketintel.safety.testing.TradingSystem;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * The Prometheus endpoint scraped while a transition is in flight, after it completes, while approvals are
 * pending and during an emergency stop (DESIGN §9): the series exist with the values the situation implies.
 */
@QuarkusTest
@WithTestResource(value = ControlPlaneResource.class, scope = TestResourceScope.GLOBAL)
class MetricsIT extends NamespacedTest {
    static final Duration DEADLINE = Duration.ofSeconds(90);

    @TestHTTPResource("/q/metrics")
    URL metrics;

    @Test
    void theSeriesFollowATransitionPendingApprovalsAndAStop() throws Exception {
        TradingSystem.deployment(client, ns, "alpha", "fx", 2);
        apply(policy("fx", "DryRun", "{refs: [{kind: Deployment, name: alpha}]}", "approval: {requiredForLive: 2}"));
        awaitPolicy("DryRun", p -> p.getStatus().mode == ExecutionMode.DRY_RUN && ready(p));
        String fx = "namespace=\"" + ns + "\",policy=\"fx\"";
        awaitValue("execution_safety_policy_mode{mode=\"DryRun\"," + fx + "}", 1);
        assertThat(value(scrape(), "execution_safety_policy_mode{mode=\"Live\"," + fx + "}")).hasValue(0);
        assertThat(value(scrape(), "execution_safety_policy_condition{condition=\"Ready\"," + fx + "}")).hasValue(1);

        // In flight: the DryRun pods cannot finish terminating.
        PodHolds.hold(client, ns, "alpha");
        double startedBefore = value(scrape(), "execution_safety_transitions_total{from=\"DryRun\",outcome=\"Started\",to=\"Backtest\"}").orElse(0);
        double succeededBefore = value(scrape(), "execution_safety_transitions_total{from=\"DryRun\",outcome=\"Succeeded\",to=\"Backtest\"}").orElse(0);
        apply(policy("fx", "Backtest", "{refs: [{kind: Deployment, name: alpha}]}", "approval: {requiredForLive: 2}"));
        awaitPolicy("draining", p -> p.getStatus().transition != null && "Draining".equals(p.getStatus().transition.step));
        awaitValue("execution_safety_policy_condition{condition=\"Reconciling\"," + fx + "}", 1);
        String during = scrape();
        assertThat(value(during, "execution_safety_policy_condition{condition=\"Ready\"," + fx + "}")).hasValue(0);
        assertThat(value(during, "execution_safety_transitions_total{from=\"DryRun\",outcome=\"Started\",to=\"Backtest\"}"))
                .hasValue(startedBefore + 1);
        PodHolds.release(client, ns);
        awaitPolicy("Backtest", p -> p.getStatus().mode == ExecutionMode.BACKTEST && ready(p));
        awaitValue("execution_safety_policy_mode{mode=\"Backtest\"," + fx + "}", 1);
        assertThat(value(scrape(), "execution_safety_transitions_total{from=\"DryRun\",outcome=\"Succeeded\",to=\"Backtest\"}"))
                .hasValue(succeededBefore + 1);

        // Pending approvals: up to DryRun, then ask for Live.
        apply(policy("fx", "DryRun", "{refs: [{kind: Deployment, name: alpha}]}", "approval: {requiredForLive: 2}"));
        awaitPolicy("DryRun again", p -> p.getStatus().mode == ExecutionMode.DRY_RUN && ready(p));
        apply(policy("fx", "Live", "{refs: [{kind: Deployment, name: alpha}]}", "approval: {requiredForLive: 2}"));
        awaitValue("execution_safety_pending_approvals{" + fx + "}", 2);
        assertThat(value(scrape(), "execution_safety_policy_condition{condition=\"Stalled\"," + fx + "}")).hasValue(1);

        // A stop: active, counted, timed.
        double stopsBefore = value(scrape(), "execution_safety_emergency_stops_total{scope=\"Policy\"}").orElse(0);
        double timedBefore = value(scrape(), "execution_safety_emergency_stop_latency_seconds_count").orElse(0);
        kubectl.run("annotate", "xp", "fx", "-n", ns, MetadataNames.EMERGENCY_STOP_ANNOTATION + "=metrics test");
        awaitValue("execution_safety_emergency_stop_active{" + fx + "}", 1);
        String stopped = scrape();
        assertThat(value(stopped, "execution_safety_emergency_stops_total{scope=\"Policy\"}")).hasValue(stopsBefore + 1);
        assertThat(value(stopped, "execution_safety_emergency_stop_latency_seconds_count").orElseThrow()).isGreaterThan(timedBefore);
        assertThat(stopped).contains("execution_safety_emergency_stop_latency_seconds_bucket{le=");
        assertThat(value(stopped, "execution_safety_pending_approvals{" + fx + "}")).hasValue(0);
        // No mode runs while stopped (EFFECTIVE Stopped): every mode series is 0, set in the same pass as the stop.
        for (String mode : new String[] { "Backtest", "DryRun", "Live" }) {
            assertThat(value(stopped, "execution_safety_policy_mode{mode=\"" + mode + "\"," + fx + "}")).as(mode).hasValue(0);
        }
        assertThat(value(stopped, "execution_safety_circuit_breaker_open{" + fx + "}")).hasValue(0);
        assertThat(value(stopped, "execution_safety_kill_switch_blind")).hasValue(0);
        assertThat(value(stopped, "execution_safety_leader")).hasValue(1);

        // Everything the shipped alerts and dashboard read is really exported (guards did not run here, and
        // failure/retry counters appear on their first increment).
        assertThat(MonitoringAssetsTest.missingFrom(stopped, n -> false)).as("contract series missing from a real scrape").isEmpty();

        // Deleting the policy removes its series. A latched policy cannot be deleted: remove the stop and re-arm first.
        assertThat(kubectl.run("annotate", "xp", "fx", "-n", ns, MetadataNames.EMERGENCY_STOP_ANNOTATION + "-").exitCode()).isZero();
        Kubectl.Result rearm = kubectl.run("annotate", "xp", "fx", "-n", ns, MetadataNames.REARM_ANNOTATION + "=1");
        assertThat(rearm.exitCode()).as(rearm.output()).isZero();
        awaitValue("execution_safety_emergency_stop_active{" + fx + "}", 0);
        await("released in status").atMost(DEADLINE).until(() -> !Boolean.TRUE.equals(
                client.resources(ExecutionPolicy.class).inNamespace(ns).withName("fx").get().getStatus().emergencyStop.active));
        // Still asking for Live from DryRun: a policy on its way to Live cannot be deleted either; step back first.
        apply(policy("fx", "DryRun", "{refs: [{kind: Deployment, name: alpha}]}", "approval: {requiredForLive: 2}"));
        client.resources(ExecutionPolicy.class).inNamespace(ns).withName("fx").delete();
        await("series removed").atMost(DEADLINE).until(() -> scrape().lines().filter(l -> l.contains(fx)).toList(), java.util.List::isEmpty);
    }

    private String scrape() throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(metrics.toURI()).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    /** The value of one series, written exactly as Prometheus prints it (labels sorted by name). */
    static OptionalDouble value(String scrape, String series) {
        Matcher m = Pattern.compile("^" + Pattern.quote(series) + " ([^ \\n]+)", Pattern.MULTILINE).matcher(scrape);
        return m.find() ? OptionalDouble.of(Double.parseDouble(m.group(1))) : OptionalDouble.empty();
    }

    private void awaitValue(String series, double expected) {
        await(series + " = " + expected).atMost(DEADLINE).pollInterval(Duration.ofMillis(200))
                .until(() -> value(scrape(), series), v -> v.isPresent() && v.getAsDouble() == expected);
    }


    private ExecutionPolicy awaitPolicy(String what, Predicate<ExecutionPolicy> condition) {
        return PolicyTestSupport.awaitPolicy(client, ns, "fx", what, condition);
    }
}
