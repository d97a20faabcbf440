package io.marketintel.safety.observability;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus.Phase;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.observability.AlertPath.Received;
import io.marketintel.safety.testing.ControlPlane;
import io.marketintel.safety.testing.Kubectl;
import io.marketintel.safety.testing.Listeners;
import io.marketintel.safety.testing.NamespacedTest;
import io.marketintel.safety.testing.OperatorProcess;
import io.marketintel.safety.testing.PodHolds;
import io.marketintel.safety.testing.PolicyTestSupport;
import io.marketintel.safety.testing.TradingSystem;

/**
 * Issue 23, item 3, the alert path end to end: the packaged operator as its own process, scraped at {@code /q/metrics} by
 * a real Prometheus (Debian's {@code prometheus}) that evaluates the rules the chart renders (helm template, the
 * PrometheusRule's groups written to a plain rules file, with shorter {@code for} and {@code window} values set the way
 * a site sets them), and a real Alertmanager (Debian's {@code prometheus-alertmanager}) that delivers to a webhook in
 * this test. The same Prometheus is the risk monitors' ({@code ExecutionSafety/global spec.monitoring}, evaluated every
 * second). Real actions on the real control plane make six alerts fire and resolve:
 * <ul>
 * <li>{@code EmergencyStopActive}: a policy stop; resolved by the re-arm;</li>
 * <li>{@code GuardFailing}: an escalation held by a Configuration guard whose ConfigMap is missing; resolved one window
 * after the ConfigMap exists;</li>
 * <li>{@code EmergencyStopIncomplete}: a stop whose pod a finalizer holds; resolved once the finalizer goes;</li>
 * <li>{@code ExecutionSafetyMonitorNoData}: a DryRun policy whose monitor ({@code modes: [DryRun]}, onNoData Alert by
 * default) queries a series that does not exist; resolved once its query is changed to one that answers;</li>
 * <li>{@code ExecutionSafetyMonitorBreached}: a DryRun policy's monitor changed to read 5 against a threshold of 1, so the
 * operator sets the policy's stop annotation itself ({@code EmergencyStopActive} fires for it too). Its query is mended
 * while the policy is stopped, which resolves nothing: both alerts are latched and resolve only at the re-arm after the
 * operator's restart below;</li>
 * <li>{@code OperatorDown}: the operator SIGKILLed; resolved once it runs again. Two stops stay in force through the
 * outage (one by a person, one by the monitor): their {@code EmergencyStopActive} and the monitor's
 * {@code ExecutionSafetyMonitorBreached} must keep firing (a stop's alert resolved at the kill before the rules held the
 * last value reported while no replica leads) and resolve only at their re-arm after the restart.</li>
 * </ul>
 * Each arrival must carry the labels that name what it is about (namespace and policy for the per-policy alerts, and the
 * monitor for the monitors' alerts; the guard metrics have no policy label by design) and the chart's runbook link; no
 * other alert may arrive, and none may resolve before its cause is gone. The time from each action to the webhook is
 * printed and written to {@code target/alert-path/summary.txt}, with the daemons' configuration and logs beside it.
 * <p>
 * The safety-invariant checker stays off: the held pod runs on through a stop on purpose.
 */
class AlertPathIT extends NamespacedTest {
    static final Path OUT = Path.of("target", "alert-path").toAbsolutePath();
    static final Duration WAIT = Duration.ofSeconds(60);
    /** monitoring.operatorJob's default: the job the rendered rules select, so the job Prometheus gives the operator. */
    static final String JOB = "execution-safety-operator";
    static final String STOP = MetadataNames.EMERGENCY_STOP_ANNOTATION;
    static final String REARM = MetadataNames.REARM_ANNOTATION;
    /** How a site shortens the alerts (the defaults are minutes): each is a value under monitoring.prometheusRule. */
    static final Map<String, String> VALUES = new LinkedHashMap<>();
    static {
        VALUES.put("monitoring.prometheusRule.alerts.EmergencyStopIncomplete.for", "10s");
        VALUES.put("monitoring.prometheusRule.alerts.GuardFailing.for", "5s");
        // Longer than the 10 s between evaluations of a held guard, so a guard that keeps failing stays firing.
        VALUES.put("monitoring.prometheusRule.alerts.GuardFailing.window", "20s");
        VALUES.put("monitoring.prometheusRule.alerts.OperatorDown.for", "10s");
        VALUES.put("monitoring.prometheusRule.alerts.ExecutionSafetyMonitorNoData.for", "5s");
    }
    /** The labels each alert carries, besides alertname: what an on-call engineer routes and reads by. */
    static final Map<String, Set<String>> LABELS = Map.of(
            "EmergencyStopActive", Set.of("namespace", "policy", "severity"),
            "EmergencyStopIncomplete", Set.of("namespace", "policy", "severity"),
            "GuardFailing", Set.of("type", "result", "severity"),
            "OperatorDown", Set.of("job", "severity"),
            "ExecutionSafetyMonitorBreached", Set.of("namespace", "policy", "monitor", "severity"),
            "ExecutionSafetyMonitorNoData", Set.of("namespace", "policy", "monitor", "on_no_data", "severity"));
    /** A query that selects no series (Prometheus answers with an empty vector): a monitor without a reading. */
    static final String NO_SERIES = "absent_series_for_alertpath{x=\"y\"}";

    final List<OperatorProcess> operators = new ArrayList<>();
    AlertPath path;
    /** Puts ExecutionSafety/global spec.monitoring back as it was. */
    AutoCloseable monitoring;
    Map<String, JsonNode> rules;

    /** One alert followed from the action that should raise it to the one that should clear it. */
    final class Episode {
        final String alert;
        final Map<String, String> labels;
        final String cause;
        Instant caused;
        Received fired;
        String cure;
        Instant cured;
        Received resolved;

        Episode(String alert, Map<String, String> labels, String cause) {
            this.alert = alert;
            this.labels = labels;
            this.cause = cause;
        }

        boolean matches(Received r) {
            return r.name().equals(alert) && labels.entrySet().stream().allMatch(e -> e.getValue().equals(r.labels().get(e.getKey())));
        }

        Episode caused() {
            caused = Instant.now();
            return this;
        }

        /** Waits for its firing notification, sent after the cause, and checks labels and runbook. */
        Received awaitFiring() {
            fired = awaitReceived(this + " firing", r -> matches(r) && "firing".equals(r.status()) && !r.at().isBefore(caused));
            checkLabelsAndRunbook(fired);
            return fired;
        }

        void cured(String what) {
            cure = what;
            cured = Instant.now();
        }

        Received awaitResolved() {
            resolved = awaitReceived(this + " resolved", r -> matches(r) && "resolved".equals(r.status()) && !r.at().isBefore(cured));
            checkLabelsAndRunbook(resolved);
            return resolved;
        }

        Duration toFire() {
            return Duration.between(caused, fired.at());
        }

        Duration toResolve() {
            return Duration.between(cured, resolved.at());
        }

        @Override
        public String toString() {
            return alert + new TreeMap<>(labels);
        }
    }

    @AfterEach
    void stopEverything() throws Exception {
        try {
            if (path != null) {
                path.close();
            }
        } finally {
            try {
                for (int i = 0; i < operators.size(); i++) {
                    operators.get(i).close();
                    Files.copy(operators.get(i).log(), OUT.resolve("operator-" + (i + 1) + ".log"), StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                if (monitoring != null) {
                    monitoring.close();
                }
            }
        }
    }

    @Test
    void theChartsAlertsFireAndResolveThroughPrometheusAndAlertmanagerWithTheirPolicyAndRunbook() throws Exception {
        long began = System.nanoTime();
        clean(OUT);
        // Fail (never skip) at once when a daemon is missing: CI installs both.
        AlertPath.binary(AlertPath.PROMETHEUS);
        AlertPath.binary(AlertPath.ALERTMANAGER);
        Path rulesFile = renderRules();

        // Five trading systems: one to stop, one whose escalation a guard holds, one whose stop a finalizer holds up, and
        // two watched by risk monitors (their policies come once the monitors' Prometheus runs, below).
        TradingSystem.deployment(client, ns, "stop-desk", "stop-desk", 1);
        TradingSystem.deployment(client, ns, "guarded", "guarded", 1);
        TradingSystem.deployment(client, ns, "held", "held", 1);
        TradingSystem.deployment(client, ns, "feed-desk", "feed-desk", 1);
        TradingSystem.deployment(client, ns, "risk-desk", "risk-desk", 1);
        apply(processPolicy("stop-desk", "DryRun", "{refs: [{kind: Deployment, name: stop-desk}]}", ""));
        apply(processPolicy("guarded", "Backtest", "{refs: [{kind: Deployment, name: guarded}]}", ""));
        apply(processPolicy("held", "DryRun", "{refs: [{kind: Deployment, name: held}]}", ""));

        // A fixed port: Prometheus' target must be the same address after the restart below, as a pod's would be.
        int port = Listeners.freeLoopbackPort();
        // The risk monitors query the Prometheus started below, every second, as a cluster administrator sets it: set before
        // the operator starts, so that its monitors' ticker runs every second from the start (a changed interval applies
        // from the tick after the one already scheduled). No policy has a monitor before that Prometheus runs.
        int prometheusPort = Listeners.freeLoopbackPort();
        while (prometheusPort == port) {
            prometheusPort = Listeners.freeLoopbackPort();
        }
        monitoring = PolicyTestSupport.setGlobal(client, kubectl, "monitoring", """
                {"prometheus": {"url": "http://127.0.0.1:%d", "timeout": "5s"}, "interval": "1s"}""".formatted(prometheusPort));
        startOperator(port);
        awaitPolicy("stop-desk", "DryRun and Ready", p -> p.getStatus().mode == ExecutionMode.DRY_RUN && PolicyTestSupport.ready(p));
        awaitPolicy("guarded", "Backtest and Ready", p -> p.getStatus().mode == ExecutionMode.BACKTEST && PolicyTestSupport.ready(p));
        awaitPolicy("held", "DryRun and Ready", p -> p.getStatus().mode == ExecutionMode.DRY_RUN && PolicyTestSupport.ready(p));

        path = AlertPath.start(OUT, rulesFile, JOB, "127.0.0.1:" + port, prometheusPort);
        for (long pid : path.pids()) {
            assertThat(Listeners.beyondLoopback(pid)).as("sockets of pid %d beyond loopback", pid).isEmpty();
        }
        JsonNode loaded = path.prometheusApi("/api/v1/rules");
        Set<String> names = new TreeSet<>();
        loaded.path("data").path("groups").forEach(g -> g.path("rules").forEach(r -> names.add(r.path("name").asText())));
        assertThat(names).as("alerts Prometheus loaded from the rendered chart").isEqualTo(rules.keySet());
        within("Prometheus scraping the operator as job " + JOB + " (up == 1)",
                () -> path.prometheusApi("/api/v1/query?query=up").path("data").path("result"),
                result -> result.size() == 1 && JOB.equals(result.get(0).path("metric").path("job").asText())
                        && "1".equals(result.get(0).path("value").path(1).asText()));

        // feed-desk: a DryRun monitor whose query selects no series: phase NoData, onNoData Alert (the default). No series
        // does not hold the adoption into DryRun back (MonitorEvaluation.preflight); from the first evaluation it is NoData.
        Episode noData = new Episode("ExecutionSafetyMonitorNoData", Map.of("namespace", ns, "policy", "feed-desk", "monitor", "feed",
                "on_no_data", "Alert"), "a DryRun monitor whose query selects no series").caused();
        apply(processPolicy("feed-desk", "DryRun", "{refs: [{kind: Deployment, name: feed-desk}]}", monitors("feed", NO_SERIES)));
        // risk-desk: a DryRun monitor that reads 0 against a threshold of 1 (one in breach would hold the adoption back).
        apply(processPolicy("risk-desk", "DryRun", "{refs: [{kind: Deployment, name: risk-desk}]}", monitors("daily-loss", "vector(0)")));

        // An escalation Backtest -> DryRun held by a Configuration guard whose ConfigMap does not exist. Guard
        // metrics carry type and result, not the policy (their cardinality stays fixed): the alert cannot name it.
        Episode guard = new Episode("GuardFailing", Map.of("type", "Configuration", "result", "Fail"),
                "the escalation a guard refuses").caused();
        client.resources(ExecutionPolicy.class).inNamespace(ns).withName("guarded").patch(PatchContext.of(PatchType.JSON_MERGE), """
                {"spec": {"mode": "DryRun", "guards": [{"name": "risk-params", "type": "Configuration",
                  "configuration": {"configMaps": [{"name": "risk-params", "keys": ["limits"]}]}}]}}""");

        // A policy stop on stop-desk; on held, a stop whose pod a finalizer keeps (pods_running stays 1).
        PodHolds.hold(client, ns, "held");
        Episode stop = new Episode("EmergencyStopActive", Map.of("namespace", ns, "policy", "stop-desk"), "the stop annotation").caused();
        annotate("stop-desk", STOP + "=desk halted by risk");
        Episode heldStop = new Episode("EmergencyStopActive", Map.of("namespace", ns, "policy", "held"), "the stop annotation").caused();
        Episode incomplete = new Episode("EmergencyStopIncomplete", Map.of("namespace", ns, "policy", "held"), "the stop annotation");
        incomplete.caused = heldStop.caused;
        annotate("held", STOP + "=venue halted");

        // risk-desk's monitor made to read 5 (> 1, for 0s): the operator sets the policy's stop annotation itself.
        awaitPolicy("risk-desk", "DryRun, its monitor Ok", p -> p.getStatus().mode == ExecutionMode.DRY_RUN
                && "Ok".equals(monitorPhase(p, "daily-loss")));
        Episode breach = new Episode("ExecutionSafetyMonitorBreached", Map.of("namespace", ns, "policy", "risk-desk", "monitor",
                "daily-loss"), "the monitor's query changed to vector(5)").caused();
        Episode riskStop = new Episode("EmergencyStopActive", Map.of("namespace", ns, "policy", "risk-desk"),
                "the monitor's query changed to vector(5) (the operator's stop)");
        riskStop.caused = breach.caused;
        PolicyTestSupport.setMonitorQuery(client, ns, "risk-desk", "daily-loss", "vector(5)");

        stop.awaitFiring();
        assertThat(stop.fired.annotations().get("runbook_url")).as("the runbook of EmergencyStopActive")
                .isEqualTo("https://github.com/marketintel/execution-safety-operator/blob/main/docs/operations.md#emergencystopactive");
        assertThat(stop.fired.annotations().get("summary")).contains(ns + "/stop-desk");
        heldStop.awaitFiring();

        breach.awaitFiring();
        assertThat(breach.fired.annotations().get("summary")).contains("daily-loss").contains(ns + "/risk-desk");
        assertThat(breach.fired.annotations().get("description")).as("the value and threshold the monitor reported")
                .contains("Last value reported 5, threshold 1.");
        riskStop.awaitFiring();
        ExecutionPolicy riskStopped = awaitPolicy("risk-desk", "stopped by its monitor, the monitor Breached", p -> p.getStatus().emergencyStop != null
                && Boolean.TRUE.equals(p.getStatus().emergencyStop.active) && "Breached".equals(monitorPhase(p, "daily-loss")));
        assertThat(riskStopped.getMetadata().getAnnotations().get(STOP)).as("the operator's stop reason")
                .contains("monitor daily-loss: 5 > 1");
        // The query mended while the policy is stopped (allowed: it is not Live). The breach stays latched, and so does its
        // alert, until the re-arm after the operator's restart below.
        PolicyTestSupport.setMonitorQuery(client, ns, "risk-desk", "daily-loss", "vector(0)");
        // Mended while latched, the monitor takes the new query at the re-arm: until then it shows the breach that latched
        // the policy (a monitor started afresh would report NaN, and the firing alert's description with it).
        Awaitility.await("risk-desk's monitor value stays the breach's after the edit").during(Duration.ofSeconds(3))
                .atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250)).until(() -> "5".equals(monitorValue("risk-desk")));

        noData.awaitFiring();
        assertThat(noData.toFire()).as("ExecutionSafetyMonitorNoData waits its `for`").isGreaterThanOrEqualTo(forOf("ExecutionSafetyMonitorNoData"));
        assertThat(noData.fired.annotations().get("summary")).contains("feed").contains(ns + "/feed-desk");
        noData.cured("the monitor's query changed to vector(0)");
        PolicyTestSupport.setMonitorQuery(client, ns, "feed-desk", "feed", "vector(0)");

        guard.awaitFiring();
        assertThat(guard.fired.labels()).as("guard metrics have no policy label").doesNotContainKeys("policy", "namespace");
        assertThat(guard.toFire()).as("GuardFailing waits its `for`").isGreaterThanOrEqualTo(forOf("GuardFailing"));
        assertThat(PolicyTestSupport.get(client, ns, "guarded").getStatus().mode).as("held in Backtest").isEqualTo(ExecutionMode.BACKTEST);
        guard.cured("the ConfigMap created (the guard passes)");
        client.configMaps().inNamespace(ns).resource(new ConfigMapBuilder().withNewMetadata().withName("risk-params").endMetadata()
                .withData(Map.of("limits", "max-notional=1000")).build()).create();

        rearm(stop);
        stop.awaitResolved();

        noData.awaitResolved();
        awaitPolicy("feed-desk", "its monitor Ok", p -> "Ok".equals(monitorPhase(p, "feed")));

        incomplete.awaitFiring();
        assertThat(incomplete.toFire()).as("EmergencyStopIncomplete waits its `for`").isGreaterThanOrEqualTo(forOf("EmergencyStopIncomplete"));
        assertThat(incomplete.fired.annotations().get("description")).contains("but 1 pod(s) of its trading system still exist");
        incomplete.cured("the finalizer removed (the pod goes)");
        PodHolds.release(client, ns);
        incomplete.awaitResolved();
        awaitPolicy("held", "EmergencyStopped once its pod is gone", p -> p.getStatus().phase == Phase.EmergencyStopped);

        awaitPolicy("guarded", "DryRun once the guard passes", p -> p.getStatus().mode == ExecutionMode.DRY_RUN);
        guard.awaitResolved();

        // The operator SIGKILLed: no replica to scrape; started again on the same address.
        Episode down = new Episode("OperatorDown", Map.of("job", JOB), "SIGKILL of the operator").caused();
        operators.get(operators.size() - 1).kill();
        down.awaitFiring();
        assertThat(down.toFire()).as("OperatorDown waits its `for`").isGreaterThanOrEqualTo(forOf("OperatorDown"));
        // held and risk-desk are still stopped, and nothing reports them now: their latched alerts hold the last value
        // reported (files/alerts.yaml).
        JsonNode whileDown = path.prometheusApi("/api/v1/alerts").path("data").path("alerts");
        for (Episode e : List.of(heldStop, riskStop, breach)) {
            assertThat(whileDown).as("Prometheus' alerts while the operator is down: %s", e)
                    .anyMatch(a -> e.alert.equals(a.path("labels").path("alertname").asText())
                            && e.labels.get("policy").equals(a.path("labels").path("policy").asText()) && "firing".equals(a.path("state").asText()));
        }
        down.cured("the operator started again");
        OperatorProcess restarted = startOperator(port);
        Duration ready = Duration.between(down.cured, Instant.now());
        down.awaitResolved();
        // The restarted operator shows the value status recorded for the latched breach, not NaN.
        Awaitility.await("risk-desk's monitor value after the restart").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
                .until(() -> "5".equals(monitorValue("risk-desk")));

        // held and risk-desk stayed stopped through the outage: their alerts fire until the re-arm, not until the operator is
        // gone (the check below that nothing resolved before its cure covers the outage and the restart). risk-desk's
        // monitor, re-armed, starts from scratch on its mended query: Ok, so its breach alert resolves with the stop's.
        rearm(heldStop);
        rearm(riskStop);
        breach.cure = "the query changed to vector(0) while stopped, then the re-arm";
        breach.cured = riskStop.cured;
        heldStop.awaitResolved();
        riskStop.awaitResolved();
        breach.awaitResolved();

        List<Episode> episodes = List.of(stop, heldStop, guard, incomplete, noData, breach, riskStop, down);
        // None resolved before its cause was gone (a flapping rule), and nothing else arrived.
        for (Episode e : episodes) {
            assertThat(path.received()).as("%s: resolved before %s", e, e.cure)
                    .noneMatch(r -> e.matches(r) && "resolved".equals(r.status()) && r.at().isBefore(e.cured));
        }
        // stop-desk's and risk-desk's pods are not held: such a stop is incomplete only if the pod took longer than the `for`
        // to go (a loaded machine), and then EmergencyStopIncomplete for it is right.
        Map<String, Long> completed = new TreeMap<>();
        List<Episode> slow = new ArrayList<>();
        for (String policy : List.of("stop-desk", "risk-desk")) {
            Long millis = PolicyTestSupport.get(client, ns, policy).getStatus().emergencyStop.completedMillis;
            completed.put(policy, millis);
            if (millis == null || millis >= forOf("EmergencyStopIncomplete").toMillis()) {
                slow.add(new Episode("EmergencyStopIncomplete", Map.of("namespace", ns, "policy", policy), ""));
            }
        }
        assertThat(path.received()).as("alerts nobody caused (stops complete after %s ms)", completed)
                .allMatch(r -> episodes.stream().anyMatch(e -> e.matches(r)) || slow.stream().anyMatch(e -> e.matches(r)));

        Duration wall = Duration.ofNanos(System.nanoTime() - began);
        List<String> lines = new ArrayList<>();
        lines.add("alert path: " + AlertPath.versions() + "; scrape and rule evaluation every 1s; Alertmanager group_wait 0s,"
                + " group_interval 1s; risk monitors evaluated every 1s; chart values " + VALUES.entrySet().stream().map(e -> e.getKey().replace(
                        "monitoring.prometheusRule.alerts.", "") + "=" + e.getValue()).collect(Collectors.joining(", ")));
        for (Episode e : episodes) {
            lines.add("%s: firing at the webhook %s after %s; resolved %s after %s".formatted(e, seconds(e.toFire()), e.cause,
                    seconds(e.toResolve()), e.cure));
        }
        lines.add("operator restart to ready: " + seconds(ready) + " (pid " + restarted.pid() + "); " + heldStop + ", " + riskStop
                + " and " + breach + " kept firing through the outage, no resolved notification until their re-arm");
        lines.add("stops complete (no pod left) after the operator saw them, in ms (status.emergencyStop.completedMillis): " + completed);
        lines.add("notifications received: " + path.received().size() + "; test wall time " + seconds(wall)
                + " (operator, Prometheus and Alertmanager started and stopped within it; the control plane not)");
        lines.forEach(System.out::println);
        Files.write(OUT.resolve("summary.txt"), lines, UTF_8);
    }

    /**
     * {@code helm template} of the chart with {@link #VALUES}; the PrometheusRule's groups written as a plain rules file,
     * which is what the Prometheus Operator hands Prometheus.
     */
    Path renderRules() throws IOException {
        List<String> args = new ArrayList<>();
        VALUES.forEach((k, v) -> {
            args.add("--set");
            args.add(k + "=" + v);
        });
        JsonNode rule = MonitoringAssetsTest.only(MonitoringAssetsTest.template(args.toArray(String[]::new)), "PrometheusRule");
        rules = new TreeMap<>();
        rule.path("spec").path("groups").forEach(g -> g.path("rules").forEach(r -> rules.put(r.path("alert").asText(), r)));
        assertThat(rules.get("OperatorDown").path("expr").asText()).as("the job the rules select").contains("job=\"" + JOB + "\"");
        assertThat(rules.get("GuardFailing").path("for").asText()).as("the values reached the rules").isEqualTo("5s");
        Path file = OUT.resolve("rules.yaml");
        YAMLMapper yaml = new YAMLMapper();
        yaml.writeValue(file.toFile(), yaml.createObjectNode().set("groups", rule.path("spec").path("groups")));
        return file;
    }

    /** The `for` of an alert as rendered (the values above set whole seconds). */
    Duration forOf(String alert) {
        String given = rules.get(alert).path("for").asText();
        assertThat(given).as("for of %s", alert).matches("[0-9]+s");
        return Duration.ofSeconds(Long.parseLong(given.substring(0, given.length() - 1)));
    }

    /** Labels exactly those the rule gives this alert, and the runbook link the chart renders for it. */
    /** Prometheus' current value of the policy's execution_safety_monitor_value, as it prints it ("5", "NaN"); null if none. */
    String monitorValue(String policy) throws Exception {
        String q = "execution_safety_monitor_value{namespace=\"" + ns + "\",policy=\"" + policy + "\"}";
        JsonNode result = path.prometheusApi("/api/v1/query?query=" + java.net.URLEncoder.encode(q, UTF_8)).path("data").path("result");
        return result.size() == 1 ? result.get(0).path("value").path(1).asText() : null;
    }

    void checkLabelsAndRunbook(Received r) {
        Set<String> keys = new TreeSet<>(r.labels().keySet());
        keys.remove("alertname");
        assertThat(keys).as("labels of %s", r).isEqualTo(LABELS.get(r.name()));
        JsonNode rule = rules.get(r.name());
        assertThat(r.labels().get("severity")).as("severity of %s", r).isEqualTo(rule.path("labels").path("severity").asText());
        assertThat(r.annotations().get("runbook_url")).as("runbook_url of %s", r)
                .isEqualTo(rule.path("annotations").path("runbook_url").asText())
                .endsWith("/docs/operations.md#" + r.name().toLowerCase(Locale.ROOT));
    }

    OperatorProcess startOperator(int port) {
        OperatorProcess operator = OperatorProcess.start(ControlPlane.shared(), ns, null, null, List.of("-Dquarkus.http.port=" + port));
        operators.add(operator);
        assertThat(operator.awaitReady(Duration.ofSeconds(120))).as("the operator's HTTP port").isEqualTo(port);
        return operator;
    }

    void annotate(String policy, String annotation) {
        Kubectl.Result r = kubectl.run("annotate", "--overwrite", "xp", policy, "-n", ns, annotation);
        assertThat(r.exitCode()).as(r.output()).isZero();
    }

    /** spec.monitors of one monitor ({@code modes: [DryRun]}, breaching when its value is greater than 1), as policy YAML. */
    static String monitors(String name, String query) {
        return """
                monitors:
                - {name: %s, query: '%s', comparison: GreaterThan, threshold: 1, modes: [DryRun]}""".formatted(name, query);
    }


    /** The phase status.monitors records for the monitor, null if none. */
    static String monitorPhase(ExecutionPolicy p, String monitor) {
        return p.getStatus().monitors == null ? null : p.getStatus().monitors.stream().filter(m -> monitor.equals(m.name))
                .map(m -> m.phase).findFirst().orElse(null);
    }

    /** As a risk officer resumes: the stop annotation removed, seen by the operator, then a re-arm of the stop's epoch. */
    void rearm(Episode e) {
        String policy = e.labels.get("policy");
        ExecutionPolicy stopped = awaitPolicy(policy, "stop recorded", p -> p.getStatus().emergencyStop != null
                && Boolean.TRUE.equals(p.getStatus().emergencyStop.active) && p.getStatus().emergencyStop.epoch != null);
        annotate(policy, STOP + "-");
        awaitPolicy(policy, "removal of the stop seen", p -> p.getStatus().emergencyStop.message != null
                && p.getStatus().emergencyStop.message.contains("does not resume"));
        e.cured("the re-arm");
        annotate(policy, REARM + "=" + stopped.getStatus().emergencyStop.epoch);
    }

    ExecutionPolicy awaitPolicy(String name, String what, Predicate<ExecutionPolicy> ok) {
        return within(name + ": " + what, () -> PolicyTestSupport.get(client, ns, name), p -> p.getStatus() != null && ok.test(p));
    }

    Received awaitReceived(String what, Predicate<Received> ok) {
        return within(what + " at the webhook", () -> path.received().stream().filter(ok).findFirst().orElse(null), r -> true);
    }

    /** Polls until {@code ok}; a timeout names what was awaited and shows what the webhook and Prometheus had. */
    <T> T within(String what, Callable<T> read, Predicate<T> ok) {
        try {
            return Awaitility.await(what).atMost(WAIT).pollInterval(Duration.ofMillis(100))
                    .until(read, t -> t != null && ok.test(t));
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("waited " + WAIT.toSeconds() + " s for " + what + "\nlast alerts at the webhook:\n"
                    + (path == null ? "(not started)" : path.lastReceived(15) + "\nPrometheus' alerts: " + path.prometheusAlerts())
                    + "\nconfiguration and logs: " + OUT, e);
        }
    }

    static String seconds(Duration d) {
        return String.format(Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }


    static void clean(Path dir) throws IOException {
        Files.createDirectories(dir);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                if (Files.isRegularFile(f)) {
                    Files.delete(f);
                }
            }
        }
    }
}
