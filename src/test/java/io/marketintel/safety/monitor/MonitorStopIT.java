package io.marketintel.safety.monitor;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.Callable;
import java.util.function.Predicate;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus.Phase;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.testing.ControlPlane;
import io.marketintel.safety.testing.GaugeExporter;
import io.marketintel.safety.testing.Kubectl;
import io.marketintel.safety.testing.Listeners;
import io.marketintel.safety.testing.NamespacedTest;
import io.marketintel.safety.testing.OperatorProcess;
import io.marketintel.safety.testing.PolicyTestSupport;
import io.marketintel.safety.testing.PrometheusServer;
import io.marketintel.safety.testing.TradingSystem;
import io.marketintel.safety.testing.Users;

/**
 * Issue 23, items 1 and 2, with real parts (docs of the contract: spec.monitors, ExecutionSafety/global
 * spec.monitoring): the packaged operator as its own process; a real Prometheus ({@link PrometheusServer}) scraping, every
 * second, a loopback exporter whose gauges the test sets ({@link GaugeExporter}); {@code ExecutionSafety/global}
 * pointing the operator at that Prometheus with a monitoring interval of one second. Each test is one trading system (a
 * Deployment of two pods) and one policy with one monitor on its own series:
 * <ul>
 * <li>a DryRun system whose monitor ({@code modes: [DryRun]}) breaches: the stop annotation names the monitor, the value
 * and the threshold; no pod is left; the stop is latched, and a trader (the namespace's {@code edit}) who removes the
 * annotation resumes nothing. The time from the exporter's change to no pod left is measured and bounded;</li>
 * <li>the same on a Live system (a monitor with the default {@code modes: [Live]}, not evaluated in DryRun);</li>
 * <li>{@code action: DeEscalate} on a Live system: held in DryRun (Ready False, Stalled MonitorHold, a new epoch), no stop
 * annotation; it stays in DryRun when the value is back under the line, and a re-arm of that epoch takes it back to Live;</li>
 * <li>{@code onNoData: {action: Stop, failuresBeforeStop: 2}} and the series gone from the exporter: the stop;</li>
 * <li>a monitor Pending when the operator restarts: its run goes on, and the stop comes {@code for} after it began;</li>
 * <li>a query that does not parse: {@code MonitorsReporting} False naming the monitor, and nothing stops; an escalation to a
 * mode it watches waits (Stalled, GuardsNotPassing, with Prometheus' words) until it is mended; so does one while a
 * monitor's value is in breach.</li>
 * </ul>
 * Figures and each test's operator log go to {@code target/monitor-stop/}; Prometheus' configuration and log too.
 */
class MonitorStopIT extends NamespacedTest {
    static final Path OUT = Path.of("target", "monitor-stop").toAbsolutePath();
    static final Duration SCRAPE = Duration.ofSeconds(1);
    static final Duration EVALUATION = Duration.ofSeconds(1);
    /** The documented target (docs, issue 23): breach to zero within scrape + evaluation interval + 1 s. */
    static final Duration TARGET_MARGIN = Duration.ofSeconds(1);
    /**
     * What this test allows beyond scrape + evaluation interval: the documented 1 s, and 6 s more for a loaded 2-core CI
     * machine (the control plane, kwok, the operator, Prometheus and this JVM share it). The figure is printed either way.
     */
    static final Duration MARGIN = Duration.ofSeconds(Long.getLong("monitor.breach.margin.seconds", 7));
    static final Duration WAIT = PolicyTestSupport.DEADLINE;
    static final String STOP = MetadataNames.EMERGENCY_STOP_ANNOTATION;
    static final String LOSS = "trading_daily_loss_usd";
    static final String CONDITION = "MonitorsReporting";
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    static GaugeExporter exporter;
    static PrometheusServer prometheus;
    static AutoCloseable monitoring;
    static final List<String> summary = new ArrayList<>();

    OperatorProcess operator;
    final List<AutoCloseable> watches = new ArrayList<>();
    String test;

    /** On a failure, what Prometheus and the operator said last (the whole logs are under target/monitor-stop/). */
    @RegisterExtension
    final TestWatcher dump = new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
            System.out.println("MonitorStopIT " + context.getDisplayName() + " failed; " + (prometheus == null ? "" : prometheus.describe()));
            if (operator != null) {
                System.out.println("operator log " + operator.log() + ", last lines:\n" + tail(operator.log(), 60));
            }
        }
    };

    @Override
    protected boolean checkSafetyInvariants() {
        return true;
    }

    @BeforeAll
    static void startPrometheus() throws Exception {
        Files.createDirectories(OUT);
        exporter = GaugeExporter.start().help(LOSS, "Loss of the trading day so far, per desk (set by MonitorStopIT).");
        prometheus = PrometheusServer.config().scrapeInterval(SCRAPE).job("trading", exporter.target()).start(OUT.resolve("prometheus"));
        assertThat(Listeners.beyondLoopback(prometheus.pid())).as("Prometheus listens on loopback only").isEmpty();
        try (KubernetesClient admin = ControlPlane.shared().client()) {
            monitoring = PolicyTestSupport.setGlobal(admin, new Kubectl(ControlPlane.shared()), "monitoring", """
                    {"prometheus": {"url": "%s", "timeout": "5s"}, "interval": "%ds"}""".formatted(prometheus.url(), EVALUATION.toSeconds()));
        }
        summary.add("MonitorStopIT: " + PrometheusServer.version() + "; scrape interval " + SCRAPE.toSeconds() + " s, monitoring.interval "
                + EVALUATION.toSeconds() + " s; bound asserted: scrape + evaluation + " + MARGIN.toSeconds() + " s (documented target: + "
                + TARGET_MARGIN.toSeconds() + " s)");
    }

    @AfterAll
    static void stopPrometheus() throws Exception {
        try {
            if (monitoring != null) {
                monitoring.close();
            }
        } finally {
            if (prometheus != null) {
                prometheus.close();
            }
            if (exporter != null) {
                exporter.close();
            }
            summary.forEach(System.out::println);
            Files.write(OUT.resolve("summary.txt"), summary, UTF_8);
        }
    }

    @AfterEach
    void stopOperator(TestInfo info) throws Exception {
        for (AutoCloseable w : watches) {
            w.close();
        }
        if (operator != null) {
            operator.close();
            Files.copy(operator.log(), OUT.resolve(info.getTestMethod().orElseThrow().getName() + "-operator.log"),
                    StandardCopyOption.REPLACE_EXISTING);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------

    @Test
    void aBreachOfADryRunMonitorStopsTheSystemWithinAScrapeAndAnEvaluationAndStaysLatched() throws Exception {
        String series = scraped("desk", 50);
        dryRunSystem("desk", "", """
                name: daily-loss
                query: 'max(%s)'
                comparison: GreaterThan
                threshold: 100
                modes: [DryRun]""".formatted(series));
        awaitMonitor("desk", "daily-loss", "Ok");
        awaitCondition("desk", "True", null);

        Stop stop = breach("desk", "desk", 1, () -> exporter.set(series, 250));
        record("DryRun, EmergencyStop", stop, 1);

        String reason = annotation("desk", STOP).orElseThrow();
        assertThat(reason).as("the stop's reason names the monitor, the value and the threshold")
                .contains("daily-loss").contains("250").contains("100");
        ExecutionPolicy stopped = awaitPolicy("desk", "EmergencyStopped and latched", p -> p.getStatus().phase == Phase.EmergencyStopped
                && p.getStatus().emergencyStop != null && Boolean.TRUE.equals(p.getStatus().emergencyStop.active));
        assertThat(stopped.getStatus().emergencyStop.reason).contains("daily-loss");
        awaitEvent("MonitorBreached", "desk", "daily-loss");
        assertThat(deploymentReplicas("desk")).isZero();
        assertThat(metric("execution_safety_monitor_breaches_total", "policy", "desk", "monitor", "daily-loss", "action", "EmergencyStop"))
                .as("breaches_total of daily-loss, action EmergencyStop").hasValue(1.0);
        assertThat(metric("execution_safety_monitor_threshold", "policy", "desk", "monitor", "daily-loss")).hasValue(100.0);

        // A trader (the namespace's edit role) removes the stop the operator set: the latch holds, nothing resumes.
        Users users = new Users(client, kubectl, ns).bind("tom", "edit");
        exporter.set(series, 50); // the loss is back under the line: a re-armed monitor would not stop again
        Kubectl.Result removed = users.as("tom", null, "annotate", "xp", "desk", STOP + "-");
        if (removed.exitCode() == 0) {
            awaitPolicy("desk", "the removal seen, the stop latched", p -> p.getStatus().emergencyStop != null
                    && p.getStatus().emergencyStop.message != null && p.getStatus().emergencyStop.message.contains("does not resume"));
        } else {
            summary.add("  the trader's removal of the stop annotation was refused: " + removed.output().strip());
        }
        Awaitility.await("nothing resumes after the trader's removal").during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(200)).until(() -> deploymentReplicas("desk") == 0 && pods().isEmpty()
                        && PolicyTestSupport.get(client, ns, "desk").getStatus().phase == Phase.EmergencyStopped);
        if (removed.exitCode() == 0) {
            summary.add("  a trader (edit) removed the operator's stop annotation: allowed by the API server; the latch held"
                    + " (replicas 0, no pod, EmergencyStopped for 3 s after the removal was seen)");
        }
    }

    @Test
    void aBreachOfALiveMonitorStopsTheLiveSystem() throws Exception {
        String series = scraped("live", 20);
        dryRunSystem("live", "approval: {requiredForLive: 0}", """
                name: order-rate
                query: 'max(%s)'
                comparison: GreaterThanOrEqual
                threshold: 40""".formatted(series));
        // modes defaults to [Live]: in DryRun the monitor is not evaluated.
        awaitMonitor("live", "order-rate", "NotEvaluated");
        awaitCondition("live", "Unknown", null);
        // Live is asked for while the order rate is over the line: the escalation waits, naming the monitor (DESIGN §6).
        exporter.set(series, 45);
        awaitScraped(series, 45);
        PolicyTestSupport.setMode(client, ns, "live", ExecutionMode.LIVE);
        JsonNode waits = awaitCondition("live", "Stalled", "True", "GuardsNotPassing");
        assertThat(waits.path("message").asText()).as("Stalled %s", waits).contains("monitor order-rate is in breach now: 45 >= 40");
        assertThat(annotation("live", STOP)).as("a monitor that holds an escalation back stops nothing").isEmpty();
        assertThat(pods()).as("still DryRun").hasSize(2).noneMatch(MonitorStopIT::live);
        exporter.set(series, 20);
        awaitPolicy("live", "Live and Ready once the rate is back under the line", p -> p.getStatus().mode == ExecutionMode.LIVE
                && PolicyTestSupport.ready(p));
        awaitMonitor("live", "order-rate", "Ok");

        Stop stop = breach("live", "live", 1, () -> exporter.set(series, 40));
        record("Live, EmergencyStop", stop, 1);
        assertThat(annotation("live", STOP).orElseThrow()).contains("order-rate").contains("40");
        awaitPolicy("live", "EmergencyStopped", p -> p.getStatus().phase == Phase.EmergencyStopped);
    }

    @Test
    void aDeEscalateMonitorHoldsALiveSystemInDryRunWithoutAStop() throws Exception {
        String series = scraped("hold", 0.05);
        dryRunSystem("hold", "approval: {requiredForLive: 0}", """
                name: reject-rate
                query: 'max(%s)'
                comparison: GreaterThan
                threshold: 0.2
                action: DeEscalate""".formatted(series));
        PolicyTestSupport.setMode(client, ns, "hold", ExecutionMode.LIVE);
        awaitPolicy("hold", "Live and Ready", p -> p.getStatus().mode == ExecutionMode.LIVE && PolicyTestSupport.ready(p));
        awaitMonitor("hold", "reject-rate", "Ok");

        SharedIndexInformer<Pod> pods = watch(client.pods().inNamespace(ns).inform());
        GaugeExporter.Change change = exporter.set(series, 0.5);
        within("no Live pod left", () -> pods.getStore().list().stream().noneMatch(MonitorStopIT::live) ? Boolean.TRUE : null, x -> true);
        long noLive = System.nanoTime();
        // Held: DryRun with its pods, Ready False and Stalled (a person must re-arm), spec.mode still the user's Live.
        ExecutionPolicy held = awaitPolicy("hold", "held in DryRun, its pods ready", p -> p.getStatus().mode == ExecutionMode.DRY_RUN
                && p.getStatus().workloads != null && p.getStatus().workloads.stream().allMatch(w -> w.mode == ExecutionMode.DRY_RUN
                        && Integer.valueOf(2).equals(w.readyReplicas)));
        long dryRunReady = System.nanoTime();
        JsonNode stalled = awaitCondition("hold", "Stalled", "True", "MonitorHold");
        assertThat(stalled.path("message").asText()).as("Stalled says how to resume").contains("safety.marketintel.io/rearm=");
        awaitCondition("hold", "Ready", "False", "MonitorHold");
        JsonNode hold = json("hold").path("status").path("monitorHold");
        assertThat(hold.path("active").asBoolean()).as("status.monitorHold %s", hold).isTrue();
        assertThat(hold.path("monitor").asText()).isEqualTo("reject-rate");
        assertThat(hold.path("reason").asText()).contains("reject-rate").contains("0.5").contains("0.2");
        assertThat(held.getSpec().mode).as("spec.mode is the user's: the hold is in status").isEqualTo(ExecutionMode.LIVE);
        assertThat(annotation("hold", STOP)).as("DeEscalate sets no stop").isEmpty();
        assertThat(held.getStatus().phase).as("held, not stopped").isNotEqualTo(Phase.EmergencyStopped);
        Long epoch = held.getStatus().emergencyStop == null ? null : held.getStatus().emergencyStop.epoch;
        assertThat(epoch).as("the hold opened a new epoch: %s", held.getStatus().emergencyStop).isNotNull();
        awaitEvent("MonitorBreached", "hold", "reject-rate");
        assertThat(pods()).as("the system runs on in DryRun").hasSize(2)
                .allSatisfy(p -> assertThat(p.getMetadata().getAnnotations()).containsEntry(MetadataNames.MODE_ANNOTATION, "DryRun"));
        // The value back under the line: it does not go back to Live by itself.
        exporter.set(series, 0.05);
        awaitScraped(series, 0.05);
        Awaitility.await("held in DryRun").during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> PolicyTestSupport.get(client, ns, "hold").getStatus().mode == ExecutionMode.DRY_RUN
                        && pods().stream().noneMatch(MonitorStopIT::live));
        summary.add("  Live, DeEscalate: exporter change -> first scrape %s, -> no Live pod left %s, -> DryRun pods ready %s".formatted(
                msOfNanos(exporter.firstScrapeOf(change).orElseThrow() - change.nanos()), msOfNanos(noLive - change.nanos()),
                msOfNanos(dryRunReady - change.nanos())));

        // Re-armed with the hold's epoch, as a stop is: Live again (this policy needs no approvals), the monitor from scratch.
        Kubectl.Result rearm = kubectl.run("annotate", "xp", "hold", "-n", ns, MetadataNames.REARM_ANNOTATION + "=" + epoch);
        assertThat(rearm.exitCode()).as(rearm.output()).isZero();
        awaitPolicy("hold", "Live and Ready after the re-arm", p -> p.getStatus().mode == ExecutionMode.LIVE && PolicyTestSupport.ready(p)
                && !ExecutionPolicyStatus.MonitorHold.active(p.getStatus()));
        awaitMonitor("hold", "reject-rate", "Ok");
        assertThat(metric("execution_safety_monitor_breaches_total", "policy", "hold", "monitor", "reject-rate", "action", "DeEscalate"))
                .as("breaches_total of reject-rate, action DeEscalate").hasValue(1.0);

        // Out of Live (a Live policy cannot be deleted), then deleted: its monitor's series go, the breach counter too. The
        // gauges of a Live-only monitor already went when the policy left Live (not evaluated in DryRun), while the breach
        // count stays as long as the monitor exists: the counter going is what shows the deletion was seen.
        PolicyTestSupport.setMode(client, ns, "hold", ExecutionMode.DRY_RUN);
        awaitPolicy("hold", "DryRun", p -> p.getStatus().mode == ExecutionMode.DRY_RUN && PolicyTestSupport.ready(p));
        assertThat(metric("execution_safety_monitor_breaches_total", "policy", "hold")).as("the breach count outlives the gauges")
                .hasValue(1.0);
        client.resources(ExecutionPolicy.class).inNamespace(ns).withName("hold").delete();
        within("the deleted policy's breach counter gone", () -> metric("execution_safety_monitor_breaches_total", "policy", "hold"),
                OptionalDouble::isEmpty);
        awaitGaugesGone("hold");
    }

    @Test
    void aSeriesThatDisappearsStopsAMonitorWithOnNoDataStopAfterTwoEvaluations() throws Exception {
        String series = scraped("nodata", 10);
        dryRunSystem("nodata", "", """
                name: position
                query: 'max(%s)'
                comparison: GreaterThan
                threshold: 100
                modes: [DryRun]
                onNoData: {action: Stop, failuresBeforeStop: 2}""".formatted(series));
        awaitMonitor("nodata", "position", "Ok");

        // The stale marker at the next scrape, then two evaluations without a reading.
        Stop stop = breach("nodata", "nodata", 2, () -> exporter.remove(series));
        record("DryRun, series gone, onNoData Stop after 2", stop, 2);
        assertThat(annotation("nodata", STOP).orElseThrow()).as("the stop's reason").contains("position");
        assertThat(metric("execution_safety_monitor_breaches_total", "policy", "nodata", "monitor", "position", "action", "NoDataStop"))
                .as("breaches_total of position, action NoDataStop").hasValue(1.0);
        awaitPolicy("nodata", "EmergencyStopped", p -> p.getStatus().phase == Phase.EmergencyStopped);
    }

    /**
     * A run that was Pending when the operator restarted goes on from when it began (status.monitors[].since): the stop
     * comes for after that moment, before a run started afresh by the new process could have held for as long.
     */
    @Test
    void aPendingRunGoesOnAcrossAnOperatorRestart() throws Exception {
        String series = scraped("resume", 10);
        Duration holdFor = Duration.ofSeconds(20);
        dryRunSystem("resume", "", """
                name: position
                query: 'max(%s)'
                comparison: GreaterThan
                threshold: 100
                for: %ds
                modes: [DryRun]""".formatted(series, holdFor.toSeconds()));
        awaitMonitor("resume", "position", "Ok");
        exporter.set(series, 250);
        java.time.Instant began = java.time.Instant.parse(awaitMonitor("resume", "position", "Pending").path("since").asText());

        operator.terminate();
        Files.copy(operator.log(), OUT.resolve("aPendingRunGoesOnAcrossAnOperatorRestart-first-operator.log"),
                StandardCopyOption.REPLACE_EXISTING);
        startOperator();
        java.time.Instant ready = java.time.Instant.now();
        String reason = within("resume: the stop annotation", () -> annotation("resume", STOP).orElse(null), r -> true,
                Duration.ofMillis(50));
        java.time.Instant stoppedAt = java.time.Instant.now();
        assertThat(reason).contains("position").contains("250");
        assertThat(stoppedAt).as("the run began %s; the new process was ready %s", began, ready)
                .isAfterOrEqualTo(began.plus(holdFor).minusSeconds(1))
                .isBefore(ready.plus(holdFor));
        summary.add("  Pending across a restart: run began %s, new process ready %s later, stop %s after the run began (for %d s)"
                .formatted(began, ms(Duration.between(began, ready).toMillis()), ms(Duration.between(began, stoppedAt).toMillis()),
                        holdFor.toSeconds()));
    }

    @Test
    void aQueryThatDoesNotParseIsReportedStopsNothingAndHoldsAnEscalationBack() throws Exception {
        String series = scraped("typo", 10);
        String good = "max(" + series + ")";
        dryRunSystem("typo", "approval: {requiredForLive: 0}", """
                name: broken-loss
                query: '%s'
                comparison: GreaterThan
                threshold: 100
                modes: [DryRun, Live]""".formatted(good));
        awaitMonitor("typo", "broken-loss", "Ok");
        // A typo made while the policy is not Live (the freeze allows it): the monitor cannot be evaluated any more.
        PolicyTestSupport.setMonitorQuery(client, ns, "typo", "broken-loss", "max(" + series);
        JsonNode condition = awaitCondition("typo", "False", "MonitorNoData");
        assertThat(condition.path("message").asText()).as("MonitorsReporting %s", condition).contains("broken-loss");
        awaitMonitor("typo", "broken-loss", "NoData");
        awaitEvent("MonitorNoData", "typo", "broken-loss");
        // Several evaluations later: no stop, both pods run.
        Awaitility.await("nothing stops").during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> annotation("typo", STOP).isEmpty() && pods().size() == 2 && deploymentReplicas("typo") == 2
                        && PolicyTestSupport.get(client, ns, "typo").getStatus().phase != Phase.EmergencyStopped);
        summary.add("  unparsable query: MonitorsReporting False, " + condition.path("reason").asText() + ": "
                + condition.path("message").asText());
        assertThat(metric("execution_safety_monitor_no_data", "policy", "typo", "monitor", "broken-loss", "on_no_data", "Alert"))
                .hasValue(1.0);
        assertThat(metric("execution_safety_monitor_breached", "policy", "typo", "monitor", "broken-loss")).hasValue(0.0);

        // Live asked for: the escalation waits with Prometheus' own words, and nothing runs Live.
        PolicyTestSupport.setMode(client, ns, "typo", ExecutionMode.LIVE);
        JsonNode waits = awaitCondition("typo", "Stalled", "True", "GuardsNotPassing");
        assertThat(waits.path("message").asText()).as("Stalled %s", waits).contains("monitor broken-loss cannot be queried")
                .contains("parse error");
        assertThat(pods()).as("still DryRun").hasSize(2).noneMatch(MonitorStopIT::live);
        summary.add("  unparsable query, Live asked for: Stalled GuardsNotPassing: " + waits.path("message").asText());
        // Mended (the policy is not Live yet, so the change is allowed): it goes Live.
        PolicyTestSupport.setMonitorQuery(client, ns, "typo", "broken-loss", good);
        awaitPolicy("typo", "Live and Ready once the query is mended", p -> p.getStatus().mode == ExecutionMode.LIVE && PolicyTestSupport.ready(p));
        awaitCondition("typo", "True", null);

        // Out of Live and deleted: its monitor's series go with it.
        PolicyTestSupport.setMode(client, ns, "typo", ExecutionMode.DRY_RUN);
        awaitPolicy("typo", "DryRun", p -> p.getStatus().mode == ExecutionMode.DRY_RUN && PolicyTestSupport.ready(p));
        client.resources(ExecutionPolicy.class).inNamespace(ns).withName("typo").delete();
        awaitGaugesGone("typo");
    }

    // ---------------------------------------------------------------------------------------------------------------

    /** When each step of a stop was first seen, in ms from the exporter's change. */
    record Stop(double toScrape, double toAnnotation, double toReplicasZero, double toNoPod) {
    }

    /**
     * Makes the change ({@code change}), then watches the policy, its Deployment and the namespace's pods until no pod is
     * left; the times of the first scrape serving the change, the stop annotation, {@code replicas: 0}, no pod. No pod
     * must be left within a scrape interval, {@code evaluations} evaluation intervals and {@link #MARGIN}.
     */
    Stop breach(String policy, String deployment, int evaluations, Callable<GaugeExporter.Change> change) throws Exception {
        SharedIndexInformer<ExecutionPolicy> policies = watch(client.resources(ExecutionPolicy.class).inNamespace(ns).inform());
        SharedIndexInformer<Deployment> deployments = watch(client.apps().deployments().inNamespace(ns).inform());
        SharedIndexInformer<Pod> pods = watch(client.pods().inNamespace(ns).inform());
        assertThat(pods.getStore().list()).as("pods before the breach").isNotEmpty();
        long[] seen = new long[3];
        GaugeExporter.Change made = change.call();
        within(policy + ": no pod left", () -> {
            long now = System.nanoTime();
            if (seen[0] == 0 && policies.getStore().list().stream().anyMatch(p -> p.getMetadata().getName().equals(policy)
                    && p.getMetadata().getAnnotations() != null && p.getMetadata().getAnnotations().containsKey(STOP))) {
                seen[0] = now;
            }
            if (seen[1] == 0 && deployments.getStore().list().stream().anyMatch(d -> d.getMetadata().getName().equals(deployment)
                    && d.getSpec().getReplicas() == 0)) {
                seen[1] = now;
            }
            if (pods.getStore().list().isEmpty()) {
                seen[2] = now;
                return Boolean.TRUE;
            }
            return null;
        }, x -> true, Duration.ofMillis(10));
        long scraped = exporter.firstScrapeOf(made).orElseThrow();
        Stop stop = new Stop(millis(scraped - made.nanos()), millis(seen[0] - made.nanos()), millis(seen[1] - made.nanos()),
                millis(seen[2] - made.nanos()));
        Duration bound = SCRAPE.plus(EVALUATION.multipliedBy(evaluations)).plus(MARGIN);
        assertThat(stop.toNoPod()).as("breach to no pod left (ms), at most scrape + %d evaluation(s) + %s s; %s", evaluations,
                MARGIN.toSeconds(), stop)
                .isLessThanOrEqualTo(bound.toMillis());
        return stop;
    }

    /** Prints and keeps the figures; the documented target is a scrape, {@code evaluations} evaluations and 1 s. */
    void record(String what, Stop s, int evaluations) {
        double target = SCRAPE.plus(EVALUATION.multipliedBy(evaluations)).plus(TARGET_MARGIN).toMillis();
        String line = "  %s: breach to no pod left %s (%s the target %s); exporter change -> first scrape %s, -> stop annotation %s,"
                .formatted(what, ms(s.toNoPod()), s.toNoPod() <= target ? "within" : "OVER", ms(target), ms(s.toScrape()),
                        ms(s.toAnnotation()))
                + " -> replicas 0 %s".formatted(ms(s.toReplicasZero()));
        System.out.println("MonitorStopIT" + line);
        summary.add(line);
    }

    /**
     * A trading system {@code name} (a Deployment of two pods) under a DryRun policy of that name with {@code extra} in
     * its spec and one monitor ({@code monitor}: its fields, one a line), the operator started: DryRun and Ready.
     */
    void dryRunSystem(String name, String extra, String monitor) {
        TradingSystem.deployment(client, ns, name, name, 2);
        String item = monitor.strip().lines().map(l -> "    " + l).collect(java.util.stream.Collectors.joining("\n"));
        apply(processPolicy(name, "DryRun", "{refs: [{kind: Deployment, name: " + name + "}]}",
                (extra.isEmpty() ? "" : extra + "\n") + "monitors:\n  - " + item.substring(4) + "\n"));
        startOperator();
        awaitPolicy(name, "DryRun and Ready", p -> p.getStatus().mode == ExecutionMode.DRY_RUN && PolicyTestSupport.ready(p));
    }

    /** The series of desk {@code desk} set to {@code value}, and Prometheus serving it: a monitor reads it at once. */
    String scraped(String desk, double value) {
        String series = series(desk);
        exporter.set(series, value);
        awaitScraped(series, value);
        return series;
    }

    void startOperator() {
        operator = OperatorProcess.start(ControlPlane.shared(), ns);
        operator.awaitReady(Duration.ofSeconds(120));
    }

    <T extends AutoCloseable> T watch(T informer) {
        watches.add(informer);
        return informer;
    }

    String series(String desk) {
        return LOSS + "{desk=\"" + ns + "-" + desk + "\"}";
    }

    /** Until Prometheus returns {@code value} for {@code series}: a monitor created now reads it at its first evaluation. */
    void awaitScraped(String series, double value) {
        within("Prometheus serves " + series + " = " + value, () -> {
            JsonNode result = prometheus.query(series);
            return result.size() == 1 && result.get(0).path("value").path(1).asDouble() == value ? Boolean.TRUE : null;
        }, x -> true);
    }

    ExecutionPolicy awaitPolicy(String name, String what, Predicate<ExecutionPolicy> ok) {
        return within(name + ": " + what, () -> PolicyTestSupport.get(client, ns, name), p -> p.getStatus() != null && ok.test(p));
    }

    /** The policy as JSON (what the API server holds, whatever the API types know). */
    JsonNode json(String name) throws IOException {
        var p = client.genericKubernetesResources("safety.marketintel.io/v1alpha1", "ExecutionPolicy").inNamespace(ns).withName(name).get();
        return JSON.readTree(client.getKubernetesSerialization().asJson(p));
    }

    /** Until status.monitors has {@code monitor} in {@code phase}. */
    JsonNode awaitMonitor(String policy, String monitor, String phase) {
        return within(policy + ": status.monitors " + monitor + " " + phase, () -> {
            for (JsonNode m : json(policy).path("status").path("monitors")) {
                if (monitor.equals(m.path("name").asText()) && phase.equals(m.path("phase").asText())) {
                    return m;
                }
            }
            return null;
        }, m -> true);
    }

    /** Until the MonitorsReporting condition has {@code status} (and {@code reason}, unless null). */
    JsonNode awaitCondition(String policy, String status, String reason) {
        return awaitCondition(policy, CONDITION, status, reason);
    }

    /** Until condition {@code type} has {@code status} (and {@code reason}, unless null). */
    JsonNode awaitCondition(String policy, String type, String status, String reason) {
        return within(policy + ": " + type + " " + status + (reason == null ? "" : " " + reason), () -> {
            for (JsonNode c : json(policy).path("status").path("conditions")) {
                if (type.equals(c.path("type").asText()) && status.equals(c.path("status").asText())
                        && (reason == null || reason.equals(c.path("reason").asText()))) {
                    return c;
                }
            }
            return null;
        }, c -> true);
    }

    /** Until a Warning Event {@code reason} about the policy names {@code monitor}. */
    void awaitEvent(String reason, String policy, String monitor) {
        within(policy + ": a Warning Event " + reason + " naming " + monitor, () -> client.v1().events().inNamespace(ns).list().getItems()
                .stream().filter(e -> reason.equals(e.getReason()) && "Warning".equals(e.getType())
                        && policy.equals(e.getInvolvedObject().getName()) && e.getMessage() != null && e.getMessage().contains(monitor))
                .findFirst().orElse(null), e -> true);
    }

    /**
     * The operator's metric {@code name} (its /q/metrics) of this namespace whose labels include {@code labels} (pairs);
     * empty when there is no such series, the sum when several match.
     */
    OptionalDouble metric(String name, String... labels) {
        HttpResponse<String> r;
        try {
            r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + operator.httpPort() + "/q/metrics"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        List<String> wanted = new ArrayList<>(List.of("namespace=\"" + ns + "\""));
        for (int i = 0; i < labels.length; i += 2) {
            wanted.add(labels[i] + "=\"" + labels[i + 1] + "\"");
        }
        List<Double> values = r.body().lines().filter(l -> l.startsWith(name + "{") && wanted.stream().allMatch(l::contains))
                .map(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).toList();
        return values.isEmpty() ? OptionalDouble.empty() : OptionalDouble.of(values.stream().mapToDouble(Double::doubleValue).sum());
    }

    /** Until none of the monitor gauges of {@code policy} is exposed. */
    void awaitGaugesGone(String policy) {
        within(policy + ": its monitors' gauges removed", () -> Stream.of("value", "threshold", "breached", "no_data")
                .allMatch(g -> metric("execution_safety_monitor_" + g, "policy", policy).isEmpty()) ? Boolean.TRUE : null, x -> true);
    }

    Optional<String> annotation(String policy, String key) {
        Map<String, String> annotations = PolicyTestSupport.get(client, ns, policy).getMetadata().getAnnotations();
        return Optional.ofNullable(annotations == null ? null : annotations.get(key));
    }

    int deploymentReplicas(String name) {
        return client.apps().deployments().inNamespace(ns).withName(name).get().getSpec().getReplicas();
    }

    List<Pod> pods() {
        return client.pods().inNamespace(ns).list().getItems();
    }

    static boolean live(Pod p) {
        return p.getMetadata().getAnnotations() != null && "Live".equals(p.getMetadata().getAnnotations().get(MetadataNames.MODE_ANNOTATION));
    }

    <T> T within(String what, Callable<T> read, Predicate<T> ok) {
        return within(what, read, ok, Duration.ofMillis(100));
    }

    /** Polls until {@code ok}, at most {@link #WAIT}; a timeout names what was awaited and shows the policy's status. */
    <T> T within(String what, Callable<T> read, Predicate<T> ok, Duration poll) {
        try {
            return Awaitility.await(what).atMost(WAIT).pollInterval(poll).pollDelay(Duration.ZERO).ignoreExceptions()
                    .until(read, t -> t != null && ok.test(t));
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("waited " + WAIT.toSeconds() + " s for " + what + "; the namespace's policies: " + statuses(), e);
        }
    }

    String statuses() {
        try {
            var list = client.genericKubernetesResources("safety.marketintel.io/v1alpha1", "ExecutionPolicy").inNamespace(ns).list();
            JsonNode items = JSON.readTree(client.getKubernetesSerialization().asJson(list)).path("items");
            return StreamSupport.stream(items.spliterator(), false).map(p -> p.path("metadata").path("name").asText() + " annotations "
                    + p.path("metadata").path("annotations") + " status " + p.path("status")).toList().toString();
        } catch (Exception e) {
            return "(not read: " + e + ")";
        }
    }

    static double millis(long nanos) {
        return nanos / 1e6;
    }

    static String ms(double millis) {
        return String.format(Locale.ROOT, "%.0f ms", millis);
    }

    static String msOfNanos(long nanos) {
        return ms(millis(nanos));
    }

    static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file, UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(not read: " + e + ")";
        }
    }
}
