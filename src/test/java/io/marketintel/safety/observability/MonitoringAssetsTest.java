package io.marketintel.safety.observability;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import io.marketintel.safety.testing.Helm;

/**
 * The alerts and the Grafana dashboard the Helm chart ships (DESIGN §9; helm/execution-safety-operator):
 * <ul>
 * <li>{@code promtool check rules} and {@code promtool test rules} on the very file the chart embeds
 * (files/alerts.yaml), with unit tests (src/test/resources/monitoring/alerts_test.yaml) in which every alert
 * fires on a synthetic series and stays quiet on healthy ones;</li>
 * <li>the dashboard: valid JSON, unique panel ids, an expression in every target, every query valid PromQL
 * (promtool checks them as recording rules), the mode encoding evaluated by promtool;</li>
 * <li>every metric name and label matcher in every alert and every dashboard query is in {@link #CONTRACT},
 * the one list of what the operator exports;</li>
 * <li>{@code helm lint} and {@code helm template}: the rendered PrometheusRule is files/alerts.yaml with the
 * values applied, and still passes promtool.</li>
 * </ul>
 * Needs {@code promtool} on PATH (Debian/Ubuntu: {@code apt-get install -y prometheus}); without it the tests
 * fail, they never skip. The helm tests take the helm binary from {@code hack/build-tools.sh} (which builds it
 * from pinned modules on first use, together with the control-plane binaries the integration tests need).
 */
public class MonitoringAssetsTest {
    static final Path CHART = Path.of("helm/execution-safety-operator");
    static final Path ALERTS = CHART.resolve("files/alerts.yaml");
    static final Path DASHBOARD = CHART.resolve("files/dashboard.json");
    static final Path ALERT_TESTS = Path.of("src/test/resources/monitoring/alerts_test.yaml");
    static final Path DOCS = Path.of("docs");
    static final String PROMTOOL_INSTALL = "install it with `apt-get update && apt-get install -y prometheus` "
            + "(Debian/Ubuntu, as root; the package also installs a Prometheus service, which may stay stopped), "
            + "or put Prometheus' promtool on PATH";
    static final ObjectMapper JSON = new ObjectMapper();
    static final YAMLMapper YAML = new YAMLMapper();

    // ------------------------------------------------------------------------------------- the contract

    /**
     * Every series the operator's /q/metrics exposes that the alerts and the dashboard may read, as Prometheus
     * names them, with its labels (the scrape adds {@link #TARGET_LABELS}). The one list: a later integration
     * test compares it with a real scrape, and everything the monitoring assets read must be in it.
     */
    public static final Map<String, Set<String>> CONTRACT = new TreeMap<>();
    /** Series Prometheus writes itself for every target: read by the alerts, never in a scrape. */
    static final Map<String, Set<String>> PROMETHEUS_SERIES = Map.of("up", Set.of());
    /** Labels Prometheus attaches to every scraped series (besides whatever the service discovery adds). */
    static final Set<String> TARGET_LABELS = Set.of("job", "instance");
    /** The values an enumerated label may take. */
    static final Map<String, Set<String>> LABEL_VALUES = Map.of(
            "mode", Set.of("Backtest", "DryRun", "Live"),
            "condition", Set.of("Ready", "Stalled", "Reconciling"),
            "outcome", Set.of("Started", "Succeeded", "RolledBack", "Refused"),
            "result", Set.of("Pass", "Fail", "Error"),
            "scope", Set.of("Policy", "Namespace", "Cluster"),
            "on_no_data", Set.of("Hold", "Alert", "Stop"));

    static {
        // The operator's own meters (Micrometer execution.safety.* through the Prometheus naming convention).
        series("execution_safety_policy_mode", "namespace", "policy", "mode");
        series("execution_safety_policy_condition", "namespace", "policy", "condition");
        series("execution_safety_transitions_total", "from", "to", "outcome");
        series("execution_safety_guard_evaluations_total", "type", "result");
        timer("execution_safety_guard_duration_seconds", "type", "result");
        series("execution_safety_emergency_stops_total", "scope");
        histogram("execution_safety_emergency_stop_latency_seconds");
        series("execution_safety_emergency_stop_active", "namespace", "policy");
        series("execution_safety_emergency_stop_pods_running", "namespace", "policy");
        histogram("execution_safety_emergency_stop_completion_seconds");
        series("execution_safety_pending_approvals", "namespace", "policy");
        series("execution_safety_circuit_breaker_open", "namespace", "policy");
        series("execution_safety_circuit_breaker_failures", "namespace", "policy");
        series("execution_safety_kill_switch_blind");
        series("execution_safety_leader");
        // Risk monitors (issue 23; docs/operations.md): series per monitor of a policy, only while a policy declares one.
        series("execution_safety_monitor_value", "namespace", "policy", "monitor");
        series("execution_safety_monitor_threshold", "namespace", "policy", "monitor");
        series("execution_safety_monitor_breached", "namespace", "policy", "monitor");
        series("execution_safety_monitor_no_data", "namespace", "policy", "monitor", "on_no_data");
        series("execution_safety_monitor_breaches_total", "namespace", "policy", "monitor", "action");
        timer("execution_safety_monitor_evaluation_seconds");
        // JOSDK 5.3.2 MicrometerMetricsV2, as observability.OperatorSdkMetrics installs it (the same meters as
        // Quarkus Operator SDK 7.7.3's default): meters reconciliations.started.total, ... tagged
        // controller.name; no namespace tag (withNamespaceAsTag() is not called). Counters appear on their
        // first increment.
        series("reconciliations_started_total", "controller_name");
        series("reconciliations_success_total", "controller_name");
        series("reconciliations_failure_total", "controller_name");
        series("reconciliations_retries_total", "controller_name");
        histogram("reconciliations_execution_duration_seconds", "controller_name");
        series("reconciliations_active", "controller_name");
        series("reconciliations_queue", "controller_name");
        series("custom_resources", "controller_name");
        series("events_received_total", "controller_name", "event", "action");
    }

    /**
     * The contract series missing from a real scrape, leaving out those that appear only on their first increment
     * (guard series, the SDK's failure and retry counters), the risk monitors' (only while a policy declares a monitor,
     * the query timer from the first query) and those {@code alsoExempt} names.
     */
    public static java.util.List<String> missingFrom(String scrape, java.util.function.Predicate<String> alsoExempt) {
        return CONTRACT.keySet().stream()
                .filter(n -> !n.startsWith("execution_safety_guard_") && !n.startsWith("execution_safety_monitor_")
                        && !n.equals("reconciliations_failure_total")
                        && !n.equals("reconciliations_retries_total") && !alsoExempt.test(n))
                .filter(n -> !Pattern.compile("^" + Pattern.quote(n) + "[ {]", Pattern.MULTILINE).matcher(scrape).find())
                .toList();
    }

    /** The Operator SDK's series in {@link #CONTRACT} (the operator's own all start with execution_safety_). */
    static Set<String> operatorSdkSeries() {
        return CONTRACT.keySet().stream().filter(n -> !n.startsWith("execution_safety_"))
                .collect(Collectors.toCollection(TreeSet::new));
    }

    static void series(String name, String... labels) {
        CONTRACT.put(name, Set.of(labels));
    }

    /** A Micrometer Timer without histogram buckets: _count, _sum, and the _max gauge. */
    static void timer(String name, String... labels) {
        for (String suffix : List.of("_count", "_sum", "_max")) {
            series(name + suffix, labels);
        }
    }

    /** A Micrometer Timer with buckets: _bucket (labelled le), _count, _sum, _max. */
    static void histogram(String name, String... labels) {
        timer(name, labels);
        Set<String> withLe = new TreeSet<>(Arrays.asList(labels));
        withLe.add("le");
        CONTRACT.put(name + "_bucket", withLe);
    }

    // ------------------------------------------------------------------------------------- alerts

    /** The alerts the chart must ship, with their severity. */
    static final Map<String, String> SEVERITIES = new LinkedHashMap<>();
    static {
        SEVERITIES.put("EmergencyStopActive", "critical");
        SEVERITIES.put("EmergencyStopIncomplete", "critical");
        SEVERITIES.put("CircuitBreakerOpen", "critical");
        SEVERITIES.put("PolicyStalledTooLong", "warning");
        SEVERITIES.put("GuardFailing", "warning");
        SEVERITIES.put("TransitionTimedOut", "warning");
        SEVERITIES.put("ExecutionSafetyMonitorBreached", "critical");
        SEVERITIES.put("ExecutionSafetyMonitorNoData", "warning");
        SEVERITIES.put("KillSwitchBlind", "critical");
        SEVERITIES.put("OperatorDown", "critical");
        SEVERITIES.put("OperatorNoLeader", "critical");
    }
    /** Alerts about one policy: their descriptions must name it. */
    static final Set<String> PER_POLICY = Set.of("EmergencyStopActive", "EmergencyStopIncomplete", "CircuitBreakerOpen",
            "PolicyStalledTooLong", "ExecutionSafetyMonitorBreached", "ExecutionSafetyMonitorNoData");
    /** Per-policy alerts about one risk monitor: their descriptions name it too. */
    static final Set<String> PER_MONITOR = Set.of("ExecutionSafetyMonitorBreached", "ExecutionSafetyMonitorNoData");

    @Test
    void promtoolAcceptsTheRules() throws Exception {
        Run check = run(Duration.ofMinutes(1), promtool(), "check", "rules", ALERTS.toString());
        assertThat(check.exit()).as("promtool check rules %s:%n%s%s", ALERTS, check.out(), check.err()).isZero();
        assertThat(check.out()).contains("SUCCESS: " + SEVERITIES.size() + " rules found");
    }

    @Test
    void promtoolUnitTestsOfEveryAlertPass() throws Exception {
        Run test = run(Duration.ofMinutes(2), promtool(), "test", "rules", ALERT_TESTS.toString());
        assertThat(test.exit()).as("promtool test rules %s:%n%s%s", ALERT_TESTS, test.out(), test.err()).isZero();
        assertThat(test.out()).contains("SUCCESS");
    }

    @Test
    void everyAlertFiresAndStaysQuietInTheUnitTests() throws IOException {
        JsonNode tests = YAML.readTree(ALERT_TESTS.toFile());
        assertThat(tests.path("rule_files").get(0).asText()).as("rule_files of %s", ALERT_TESTS)
                .isEqualTo(ALERT_TESTS.getParent().relativize(ALERTS).toString().replace(File.separatorChar, '/'));
        Set<String> fires = new TreeSet<>();
        Set<String> quiet = new TreeSet<>();
        for (JsonNode t : tests.path("tests")) {
            for (JsonNode check : t.path("alert_rule_test")) {
                (check.path("exp_alerts").isEmpty() ? quiet : fires).add(check.path("alertname").asText());
            }
        }
        assertThat(fires).as("alerts seen firing in %s", ALERT_TESTS).containsAll(alerts().keySet());
        assertThat(quiet).as("alerts seen quiet in %s", ALERT_TESTS).containsAll(alerts().keySet());
    }

    @Test
    void theAlertsAreTheListedOnesWithSeveritySummaryDescriptionAndRunbook() throws IOException {
        Map<String, JsonNode> alerts = alerts();
        assertThat(alerts.keySet()).containsExactlyInAnyOrderElementsOf(SEVERITIES.keySet());
        alerts.forEach((name, rule) -> {
            assertThat(rule.path("labels").path("severity").asText()).as("severity of %s", name)
                    .isEqualTo(SEVERITIES.get(name));
            assertThat(rule.path("for").asText()).as("for of %s", name).isNotBlank();
            JsonNode annotations = rule.path("annotations");
            assertThat(annotations.path("summary").asText()).as("summary of %s", name).isNotBlank();
            String description = annotations.path("description").asText();
            assertThat(description).as("description of %s", name).isNotBlank();
            if (PER_POLICY.contains(name)) {
                assertThat(description).as("description of %s names the policy", name)
                        .contains("{{ $labels.namespace }}", "{{ $labels.policy }}");
            }
            if (PER_MONITOR.contains(name)) {
                assertThat(description).as("description of %s names the monitor", name).contains("{{ $labels.monitor }}");
            }
            // Metrics an annotation queries (the breach's value and threshold) are in the contract too.
            Matcher metric = Pattern.compile("execution_safety_[a-z_]+").matcher(annotations.toString());
            while (metric.find()) {
                assertThat(CONTRACT).as("metric %s queried by an annotation of %s", metric.group(), name).containsKey(metric.group());
            }
        });
        assertThat(alerts.get("EmergencyStopActive").path("for").asText()).isEqualTo("0m");
    }

    static final Pattern RUNBOOK = Pattern.compile("https://\\S+/docs/(operations|kill-switch)\\.md#([a-z0-9-]+)");

    @Test
    void everyRunbookUrlPointsToAnExistingSection() throws IOException {
        for (var e : alerts().entrySet()) {
            String url = e.getValue().path("annotations").path("runbook_url").asText();
            Matcher m = RUNBOOK.matcher(url);
            assertThat(m.matches()).as("runbook_url of %s: %s", e.getKey(), url).isTrue();
            Path doc = DOCS.resolve(m.group(1) + ".md");
            assertThat(anchors(doc)).as("anchors of %s (runbook of %s)", doc, e.getKey()).contains(m.group(2));
        }
    }

    /** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
    static Set<String> anchors(Path markdown) throws IOException {
        Set<String> anchors = new TreeSet<>();
        boolean fence = false;
        for (String line : Files.readAllLines(markdown, UTF_8)) {
            if (line.startsWith("```")) {
                fence = !fence;
            } else if (!fence && line.matches("#{1,6} .*")) {
                anchors.add(line.replaceFirst("^#+ ", "").trim().toLowerCase(Locale.ROOT)
                        .replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-'));
            }
        }
        return anchors;
    }

    // ------------------------------------------------------------------------------------- dashboard

    @Test
    void dashboardIsValidGrafanaJsonWithUniquePanelIdsAndAQueryInEveryTarget() throws IOException {
        JsonNode dashboard = JSON.readTree(DASHBOARD.toFile());
        assertThat(dashboard.path("schemaVersion").asInt()).isEqualTo(39);
        assertThat(dashboard.path("uid").asText()).isEqualTo("execution-safety-operator");

        Map<String, JsonNode> variables = new LinkedHashMap<>();
        dashboard.path("templating").path("list").forEach(v -> variables.put(v.path("name").asText(), v));
        assertThat(variables).containsKeys("datasource", "namespace", "policy");
        assertThat(variables.get("datasource").path("type").asText()).isEqualTo("datasource");
        assertThat(variables.get("datasource").path("query").asText()).isEqualTo("prometheus");
        for (String v : List.of("namespace", "policy")) {
            assertThat(variableQuery(variables.get(v))).as("query of variable %s", v).startsWith("label_values(");
            assertThat(variables.get(v).path("datasource").path("uid").asText()).isEqualTo("${datasource}");
        }

        List<JsonNode> panels = panels(dashboard);
        Set<Integer> ids = new TreeSet<>();
        for (JsonNode p : panels) {
            String title = p.path("title").asText();
            assertThat(p.path("id").isInt()).as("id of panel %s", title).isTrue();
            assertThat(ids.add(p.path("id").asInt())).as("id %s of panel %s is unique", p.path("id"), title).isTrue();
            if ("row".equals(p.path("type").asText())) {
                continue;
            }
            assertThat(p.path("datasource").path("uid").asText()).as("datasource of panel %s", title)
                    .isEqualTo("${datasource}");
            assertThat(p.path("targets")).as("targets of panel %s", title).isNotEmpty();
            Set<String> refIds = new TreeSet<>();
            for (JsonNode t : p.path("targets")) {
                assertThat(t.path("expr").asText()).as("expr of a target of panel %s", title).isNotBlank();
                assertThat(refIds.add(t.path("refId").asText())).as("refIds of panel %s are unique", title).isTrue();
                assertThat(t.path("datasource").path("uid").asText()).as("datasource of a target of panel %s", title)
                        .isEqualTo("${datasource}");
            }
        }
        assertThat(panels.stream().map(p -> p.path("title").asText()))
                .contains("Mode per policy", "Policies by condition", "Emergency stop latency", "Transitions by outcome",
                        "Approvals missing", "Circuit breaker", "Guard evaluations", "Guard duration (mean)",
                        "Reconcile rate", "Reconcile errors", "Leader");
    }

    /** Every dashboard query, substituted as Grafana would, is valid PromQL: promtool checks them as rules. */
    @Test
    void everyDashboardQueryIsValidPromql(@TempDir Path dir) throws Exception {
        ArrayNode rules = YAML.createArrayNode();
        for (var q : dashboardQueries().entrySet()) {
            rules.addObject().put("record", "dashboard:" + q.getKey().replaceAll("[^a-zA-Z0-9_]", "_"))
                    .put("expr", grafanaSubstituted(q.getValue()));
        }
        ObjectNode file = YAML.createObjectNode();
        file.putArray("groups").addObject().put("name", "dashboard").set("rules", rules);
        Path rulesFile = dir.resolve("dashboard-queries.yaml");
        YAML.writeValue(rulesFile.toFile(), file);

        Run check = run(Duration.ofMinutes(1), promtool(), "check", "rules", rulesFile.toString());
        assertThat(check.exit()).as("promtool check rules on the dashboard's queries:%n%s%s", check.out(), check.err())
                .isZero();
    }

    /** The mode panel turns the one-hot mode gauge into 0/1/2, one value per policy even with two replicas. */
    @Test
    void dashboardModeQueryGivesOneValuePerPolicy(@TempDir Path dir) throws Exception {
        String expr = grafanaSubstituted(target(JSON.readTree(DASHBOARD.toFile()), "Mode per policy", "A"));
        StringBuilder series = new StringBuilder();
        Map<String, String> modes = Map.of("bt", "Backtest", "dry", "DryRun", "live", "Live");
        for (var policy : modes.entrySet()) {
            for (String mode : LABEL_VALUES.get("mode")) {
                for (String instance : List.of("10.0.0.5:8080", "10.0.0.6:8080")) {
                    series.append(String.format("      - series: 'execution_safety_policy_mode{namespace=\"trading\",policy=\"%s\","
                            + "mode=\"%s\",instance=\"%s\"}'%n        values: '%s'%n", policy.getKey(), mode, instance,
                            mode.equals(policy.getValue()) ? "1x5" : "0x5"));
                }
            }
        }
        promtoolExprTest(dir, "mode query", series.toString(), "5m", Map.of(expr, Map.of(
                "{namespace=\"trading\",policy=\"bt\"}", 0,
                "{namespace=\"trading\",policy=\"dry\"}", 1,
                "{namespace=\"trading\",policy=\"live\"}", 2)));
        assertThat(target(JSON.readTree(DASHBOARD.toFile()), "Policies", "A")).as("the Policies table's mode column")
                .isEqualTo(target(JSON.readTree(DASHBOARD.toFile()), "Mode per policy", "A"));
    }

    /**
     * The risk monitors' state (2 breached, 1 no data, 0 otherwise: one value per monitor, across replicas and the
     * on_no_data label), and the stops they caused counted from the counter's first increment on.
     */
    @Test
    void dashboardMonitorQueriesGiveOneStatePerMonitorAndCountTheFirstStop(@TempDir Path dir) throws Exception {
        JsonNode dashboard = JSON.readTree(DASHBOARD.toFile());
        String state = grafanaSubstituted(target(dashboard, "Monitor state", "A"));
        assertThat(target(dashboard, "Monitors now", "C")).as("the Monitors now table's state column")
                .isEqualTo(target(dashboard, "Monitor state", "A"));
        String stops = grafanaSubstituted(target(dashboard, "Stops caused by monitors (range)", "A"));
        String series = """
                      - series: 'execution_safety_monitor_breached{namespace="trading",policy="momentum",monitor="loss",instance="a"}'
                        values: '1x10'
                      - series: 'execution_safety_monitor_breached{namespace="trading",policy="momentum",monitor="loss",instance="b"}'
                        values: '1x10'
                      - series: 'execution_safety_monitor_no_data{namespace="trading",policy="momentum",monitor="loss",on_no_data="Stop",instance="a"}'
                        values: '1x10'
                      - series: 'execution_safety_monitor_breached{namespace="trading",policy="momentum",monitor="rate",instance="a"}'
                        values: '0x10'
                      - series: 'execution_safety_monitor_no_data{namespace="trading",policy="momentum",monitor="rate",on_no_data="Alert",instance="a"}'
                        values: '1x10'
                      - series: 'execution_safety_monitor_breached{namespace="fx",policy="carry",monitor="position",instance="a"}'
                        values: '0x10'
                      - series: 'execution_safety_monitor_no_data{namespace="fx",policy="carry",monitor="position",on_no_data="Hold",instance="a"}'
                        values: '0x10'
                      - series: 'execution_safety_monitor_breaches_total{namespace="trading",policy="momentum",monitor="loss",action="EmergencyStop",instance="a"}'
                        values: '_x4 1x6'
                      - series: 'execution_safety_monitor_breaches_total{namespace="fx",policy="carry",monitor="position",action="DeEscalate",instance="a"}'
                        values: '3x10'
                """;
        promtoolExprTest(dir, "monitor queries", series, "10m", Map.of(
                state, Map.of(
                        "{namespace=\"trading\",policy=\"momentum\",monitor=\"loss\"}", 2,
                        "{namespace=\"trading\",policy=\"momentum\",monitor=\"rate\"}", 1,
                        "{namespace=\"fx\",policy=\"carry\",monitor=\"position\"}", 0),
                stops.replace("6h", "10m"), Map.of("{action=\"EmergencyStop\"}", 1, "{action=\"DeEscalate\"}", 0)));
    }

    /**
     * promtool unit tests of PromQL expressions: the input series (YAML list items, interval 1m), and for each
     * expression the samples (labels to value) it must give at {@code evalTime}.
     */
    static void promtoolExprTest(Path dir, String what, String series, String evalTime,
            Map<String, Map<String, Integer>> expected) throws Exception {
        StringBuilder test = new StringBuilder("rule_files: []\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n"
                + "    input_series:\n").append(series).append("    promql_expr_test:\n");
        for (var e : expected.entrySet()) {
            test.append("      - expr: ").append(JSON.writeValueAsString(e.getKey())).append("\n        eval_time: ")
                    .append(evalTime).append("\n        exp_samples:\n");
            e.getValue().forEach((labels, value) -> test.append("          - labels: '").append(labels)
                    .append("'\n            value: ").append(value).append('\n'));
        }
        Path file = dir.resolve(what.replaceAll("\\W", "_") + "_test.yaml");
        Files.writeString(file, test);
        Run run = run(Duration.ofMinutes(1), promtool(), "test", "rules", file.toString());
        assertThat(run.exit()).as("promtool test rules on the %s:%n%s%s%n%s", what, run.out(), run.err(), test).isZero();
    }

    // ------------------------------------------------------------------------------------- contract checks

    @Test
    void everyMetricTheAlertsAndTheDashboardReadIsInTheContract() throws IOException {
        Map<String, Set<String>> readBy = new TreeMap<>(); // metric -> where
        for (var q : allQueries().entrySet()) {
            for (String metric : reads(q.getValue()).metrics()) {
                readBy.computeIfAbsent(metric, k -> new TreeSet<>()).add(q.getKey());
            }
        }
        Set<String> known = new TreeSet<>(CONTRACT.keySet());
        known.addAll(PROMETHEUS_SERIES.keySet());
        Map<String, Set<String>> unknown = new TreeMap<>(readBy);
        unknown.keySet().removeAll(known);
        assertThat(unknown).as("metrics read by the alerts or the dashboard but not in CONTRACT (metric -> where)").isEmpty();
        // The reader is not trivially empty: it sees the families the task names.
        assertThat(readBy.keySet()).contains("execution_safety_policy_mode", "execution_safety_policy_condition",
                "execution_safety_emergency_stop_latency_seconds_bucket", "execution_safety_transitions_total",
                "execution_safety_pending_approvals", "execution_safety_circuit_breaker_open",
                "execution_safety_guard_evaluations_total", "execution_safety_guard_duration_seconds_sum",
                "execution_safety_kill_switch_blind", "execution_safety_leader", "up", "execution_safety_monitor_breached",
                "execution_safety_monitor_no_data", "execution_safety_monitor_value", "execution_safety_monitor_threshold",
                "execution_safety_monitor_breaches_total");
        assertThat(readBy.keySet()).as("Operator SDK series the dashboard reads").containsAll(List.of(
                "reconciliations_started_total", "reconciliations_failure_total",
                "reconciliations_execution_duration_seconds_bucket")).allMatch(n -> n.startsWith("execution_safety_")
                        || n.equals("up") || operatorSdkSeries().contains(n));
    }

    @Test
    void everyLabelMatcherNamesALabelTheSeriesHasAndAValueItTakes() throws IOException {
        List<String> problems = new ArrayList<>();
        for (var q : allQueries().entrySet()) {
            for (LabelMatcher m : reads(q.getValue()).matchers()) {
                if (m.metric() == null) {
                    problems.add(q.getKey() + ": matcher " + m + " without a metric name");
                    continue;
                }
                Set<String> labels = new TreeSet<>(TARGET_LABELS);
                labels.addAll(CONTRACT.getOrDefault(m.metric(), PROMETHEUS_SERIES.getOrDefault(m.metric(), Set.of())));
                if (!labels.contains(m.label())) {
                    problems.add(q.getKey() + ": " + m.metric() + " has no label " + m.label() + " (has " + labels + ")");
                }
                Set<String> values = LABEL_VALUES.get(m.label());
                if (values != null && (m.op().equals("=") || m.op().equals("!=")) && !values.contains(m.value())) {
                    problems.add(q.getKey() + ": " + m.label() + " is never \"" + m.value() + "\" (one of " + values + ")");
                }
            }
        }
        assertThat(problems).isEmpty();
    }

    // ------------------------------------------------------------------------------------- the PromQL reader

    /** A label matcher: {@code metric{label op "value"}}. */
    record LabelMatcher(String metric, String label, String op, String value) {
    }

    /** What an expression reads. */
    record Reads(Set<String> metrics, List<LabelMatcher> matchers) {
    }

    static final Set<String> KEYWORDS = Set.of("by", "without", "on", "ignoring", "group_left", "group_right", "offset",
            "bool", "and", "or", "unless", "atan2", "inf", "nan");
    /** Keywords followed by a parenthesised list of label names. */
    static final Set<String> LABEL_LISTS = Set.of("by", "without", "on", "ignoring", "group_left", "group_right");
    /** Aggregation operators: may be followed by {@code by (...)} rather than by their argument. */
    static final Set<String> AGGREGATIONS = Set.of("sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk",
            "bottomk", "quantile", "count_values", "group", "limitk", "limit_ratio");

    enum Kind {
        NAME, STRING, NUMBER, PUNCT
    }

    record Token(Kind kind, String text) {
    }

    static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    /** Numbers, durations (5m, 1h30m) and hex: a digit, then anything a number or duration can hold. */
    static final Pattern NUMBER = Pattern.compile("[0-9]*\\.?[0-9]+([eE][+-]?[0-9]+)?[a-zA-Z0-9]*");
    /** Grafana variables: $name, ${name}, ${name:format}, [[name]]. */
    static final Pattern VARIABLE = Pattern.compile("\\$\\{[^}]*\\}|\\$[a-zA-Z_][a-zA-Z0-9_]*|\\[\\[[^\\]]*\\]\\]");

    /**
     * The metric names and label matchers of a PromQL expression (Grafana variables allowed). Not a parser: a
     * lexer that knows where a name can stand. Strings, comments, ranges and subqueries ({@code [...]}) and
     * Grafana variables are skipped; a name followed by {@code (} is a function; names inside {@code {...}}
     * are labels, and so are the lists after by, without, on, ignoring, group_left and group_right; keywords
     * and aggregation operators are not metrics. What is left is a metric name.
     */
    static Reads reads(String expr) {
        List<Token> tokens = lex(expr);
        Set<String> metrics = new TreeSet<>();
        List<LabelMatcher> matchers = new ArrayList<>();
        String lastMetric = null; // the metric immediately before the current token, if any
        for (int i = 0; i < tokens.size(); i++) {
            Token t = tokens.get(i);
            boolean call = i + 1 < tokens.size() && tokens.get(i + 1).text().equals("(");
            if (t.kind() == Kind.PUNCT && t.text().equals("{")) {
                String metric = lastMetric;
                i++;
                List<LabelMatcher> these = new ArrayList<>();
                while (i < tokens.size() && !tokens.get(i).text().equals("}")) {
                    if (i + 2 >= tokens.size() || tokens.get(i).kind() != Kind.NAME || tokens.get(i + 1).kind() != Kind.PUNCT
                            || tokens.get(i + 2).kind() != Kind.STRING) {
                        throw new IllegalArgumentException("cannot read the label matchers at token " + i + " of: " + expr);
                    }
                    these.add(new LabelMatcher(null, tokens.get(i).text(), tokens.get(i + 1).text(), tokens.get(i + 2).text()));
                    i += 3;
                    if (i < tokens.size() && tokens.get(i).text().equals(",")) {
                        i++;
                    }
                }
                for (LabelMatcher m : these) {
                    if (m.label().equals("__name__") && m.op().equals("=")) {
                        metric = m.value();
                        metrics.add(metric);
                    }
                }
                for (LabelMatcher m : these) {
                    if (!m.label().equals("__name__")) {
                        matchers.add(new LabelMatcher(metric, m.label(), m.op(), m.value()));
                    }
                }
                lastMetric = null;
                continue;
            }
            lastMetric = null;
            if (t.kind() != Kind.NAME) {
                continue;
            }
            String lower = t.text().toLowerCase(Locale.ROOT);
            if (LABEL_LISTS.contains(lower) && call) {
                int depth = 0;
                do {
                    String s = tokens.get(++i).text();
                    depth += s.equals("(") ? 1 : s.equals(")") ? -1 : 0;
                } while (depth > 0);
            } else if (!call && !KEYWORDS.contains(lower) && !AGGREGATIONS.contains(lower)) {
                metrics.add(t.text());
                lastMetric = t.text();
            }
        }
        return new Reads(metrics, matchers);
    }

    static List<Token> lex(String s) {
        List<Token> out = new ArrayList<>();
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            Matcher m;
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '#') { // a comment, to the end of the line
                while (i < s.length() && s.charAt(i) != '\n') {
                    i++;
                }
            } else if (c == '"' || c == '\'' || c == '`') {
                StringBuilder b = new StringBuilder();
                int j = i + 1;
                while (j < s.length() && s.charAt(j) != c) {
                    if (s.charAt(j) == '\\' && c != '`' && j + 1 < s.length()) {
                        j++;
                    }
                    b.append(s.charAt(j++));
                }
                if (j >= s.length()) {
                    throw new IllegalArgumentException("unterminated string in: " + s);
                }
                out.add(new Token(Kind.STRING, b.toString()));
                i = j + 1;
            } else if ((m = VARIABLE.matcher(s).region(i, s.length())).lookingAt()) {
                i = m.end();
            } else if (c == '[') { // a range or a subquery: durations and variables, never a name
                int j = s.indexOf(']', i);
                if (j < 0) {
                    throw new IllegalArgumentException("unterminated [ in: " + s);
                }
                i = j + 1;
            } else if ((m = NUMBER.matcher(s).region(i, s.length())).lookingAt() && (Character.isDigit(c) || c == '.')) {
                out.add(new Token(Kind.NUMBER, m.group()));
                i = m.end();
            } else if ((m = NAME.matcher(s).region(i, s.length())).lookingAt()) {
                out.add(new Token(Kind.NAME, m.group()));
                i = m.end();
            } else {
                String two = s.substring(i, Math.min(i + 2, s.length()));
                String op = List.of("=~", "!~", "!=", "==", ">=", "<=").contains(two) ? two : String.valueOf(c);
                out.add(new Token(Kind.PUNCT, op));
                i += op.length();
            }
        }
        return out;
    }

    static Stream<Arguments> promql() {
        return Stream.of(
                Arguments.of("sum by (namespace, policy) (rate(a_total{x=\"y\", z=~\"$namespace\"}[$__rate_interval])) > 0 or vector(0)",
                        Set.of("a_total"), List.of(new LabelMatcher("a_total", "x", "=", "y"), new LabelMatcher("a_total", "z", "=~", "$namespace"))),
                Arguments.of("histogram_quantile(0.99, sum by (le) (rate(lat_seconds_bucket[5m])))", Set.of("lat_seconds_bucket"), List.of()),
                Arguments.of("(b unless b offset 10m) or increase(b[10m])", Set.of("b"), List.of()),
                Arguments.of("absent(up{job=\"execution-safety-operator\"} == 1)", Set.of("up"),
                        List.of(new LabelMatcher("up", "job", "=", "execution-safety-operator"))),
                Arguments.of("max(c) by (instance) / on (instance) group_left (pod, node) d", Set.of("c", "d"), List.of()),
                Arguments.of("sum without (le) (rate(e_sum[1h:5m] @ end())) > bool 1e+06", Set.of("e_sum"), List.of()),
                Arguments.of("{__name__=\"f\", job=\"j\"}", Set.of("f"), List.of(new LabelMatcher("f", "job", "=", "j"))),
                Arguments.of("g{label=\"} by (x), h{\"} # a comment naming k\n  + count_values(\"value\", topk(5, i))",
                        Set.of("g", "i"), List.of(new LabelMatcher("g", "label", "=", "} by (x), h{"))),
                Arguments.of("sum(j{a!=\"Pass\"}) by (type) and on() group_right() vector(1) unless ignoring(x) l",
                        Set.of("j", "l"), List.of(new LabelMatcher("j", "a", "!=", "Pass"))),
                Arguments.of("count(max by (namespace, policy) (m{mode=\"Live\", policy=~\"${policy:regex}\"}) == 1) * 0 + 2",
                        Set.of("m"), List.of(new LabelMatcher("m", "mode", "=", "Live"), new LabelMatcher("m", "policy", "=~", "${policy:regex}"))),
                Arguments.of("sum by (from, to) (n{outcome='RolledBack'}) > Inf", Set.of("n"),
                        List.of(new LabelMatcher("n", "outcome", "=", "RolledBack"))),
                Arguments.of("o:recorded:rate5m offset -1h30m", Set.of("o:recorded:rate5m"), List.of()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("promql")
    void theReaderFindsMetricsAndMatchers(String expr, Set<String> metrics, List<LabelMatcher> matchers) {
        Reads reads = reads(expr);
        assertThat(reads.metrics()).isEqualTo(metrics);
        assertThat(reads.matchers()).containsExactlyElementsOf(matchers);
    }

    // ------------------------------------------------------------------------------------- helm

    @Test
    void helmLintPasses() throws Exception {
        Helm.Result lint = Helm.run("lint", CHART.toString(), "--strict");
        assertThat(lint.exitCode()).as("helm lint:%n%s", lint.output()).isZero();
    }

    @Test
    void renderedByDefaultTheRuleIsTheFileAndTheConfigMapCarriesTheDashboard(@TempDir Path dir) throws Exception {
        List<JsonNode> objects = template();
        assertThat(objects).extracting(o -> o.path("kind").asText()).containsExactlyInAnyOrder("PrometheusRule", "ConfigMap");

        JsonNode rule = only(objects, "PrometheusRule");
        assertThat(rule.path("apiVersion").asText()).isEqualTo("monitoring.coreos.com/v1");
        assertThat(rule.path("metadata").path("namespace").asText()).isEqualTo("execution-safety");
        JsonNode file = YAML.readTree(ALERTS.toFile());
        assertThat(normalized(rule.path("spec").path("groups"))).as("rendered groups = files/alerts.yaml (values.yaml "
                + "defaults must equal the file's)").isEqualTo(normalized(file.path("groups")));
        promtoolCheck(rule, dir);

        JsonNode dashboard = only(objects, "ConfigMap");
        assertThat(dashboard.path("metadata").path("labels").path("grafana_dashboard").asText()).isEqualTo("1");
        assertThat(JSON.readTree(dashboard.path("data").path("execution-safety-operator.json").asText()))
                .isEqualTo(JSON.readTree(DASHBOARD.toFile()));
    }

    @Test
    void valuesTuneTheRulesAndTheRenderedRulesStillPassPromtool(@TempDir Path dir) throws Exception {
        Path values = dir.resolve("values.yaml");
        Files.writeString(values, """
                monitoring:
                  operatorJob: trading-ops/execution-safety
                  prometheusRule:
                    namespace: monitoring
                    labels: {release: prometheus}
                    ruleLabels: {team: trading-platform}
                    runbookUrlBase: https://wiki.example.com/runbooks/execution-safety/
                    alerts:
                      PolicyStalledTooLong: {for: 1h}
                      GuardFailing: {window: 30m, threshold: 2, for: 20m}
                      TransitionTimedOut: {window: 1h, labels: {page: "false"}}
                      KillSwitchBlind: {enabled: false}
                      OperatorDown: {severity: page}
                  dashboard:
                    namespace: grafana
                    labels: {grafana_dashboard: trading}
                    annotations: {grafana_folder: Trading}
                """);
        List<JsonNode> objects = template("-f", values.toString());

        JsonNode rule = only(objects, "PrometheusRule");
        assertThat(rule.path("metadata").path("namespace").asText()).isEqualTo("monitoring");
        assertThat(rule.path("metadata").path("labels").path("release").asText()).isEqualTo("prometheus");
        Map<String, JsonNode> rules = new TreeMap<>();
        rule.path("spec").path("groups").forEach(g -> g.path("rules").forEach(r -> rules.put(r.path("alert").asText(), r)));
        assertThat(rules).doesNotContainKey("KillSwitchBlind").hasSize(SEVERITIES.size() - 1);
        assertThat(rules.get("PolicyStalledTooLong").path("for").asText()).isEqualTo("1h");
        String guard = rules.get("GuardFailing").path("expr").asText();
        assertThat(guard).contains("[30m]", "offset 30m").doesNotContain("[5m]", "offset 5m").endsWith("> 2");
        assertThat(rules.get("GuardFailing").path("for").asText()).isEqualTo("20m");
        assertThat(rules.get("TransitionTimedOut").path("expr").asText()).contains("[1h]", "offset 1h").endsWith("> 0");
        assertThat(rules.get("TransitionTimedOut").path("labels").path("page").asText()).isEqualTo("false");
        for (String a : List.of("OperatorDown", "OperatorNoLeader")) {
            assertThat(rules.get(a).path("expr").asText()).contains("job=\"trading-ops/execution-safety\"")
                    .doesNotContain("execution-safety-operator");
        }
        assertThat(rules.get("OperatorDown").path("labels").path("severity").asText()).isEqualTo("page");
        rules.forEach((name, r) -> {
            assertThat(r.path("labels").path("team").asText()).as("ruleLabels on %s", name).isEqualTo("trading-platform");
            assertThat(r.path("annotations").path("runbook_url").asText()).as("runbook of %s", name)
                    .isEqualTo("https://wiki.example.com/runbooks/execution-safety/operations.md#" + name.toLowerCase(Locale.ROOT));
        });
        assertThat(rules.get("EmergencyStopActive").path("labels").path("severity").asText()).isEqualTo("critical");
        promtoolCheck(rule, dir);

        JsonNode dashboard = only(objects, "ConfigMap");
        assertThat(dashboard.path("metadata").path("namespace").asText()).isEqualTo("grafana");
        assertThat(dashboard.path("metadata").path("labels").path("grafana_dashboard").asText()).isEqualTo("trading");
        assertThat(dashboard.path("metadata").path("annotations").path("grafana_folder").asText()).isEqualTo("Trading");
    }

    @Test
    void eachPartCanBeTurnedOff() throws Exception {
        assertThat(template("--set", "monitoring.prometheusRule.enabled=false")).extracting(o -> o.path("kind").asText())
                .containsExactly("ConfigMap");
        assertThat(template("--set", "monitoring.dashboard.enabled=false")).extracting(o -> o.path("kind").asText())
                .containsExactly("PrometheusRule");
    }

    static Stream<Arguments> badValues() {
        return Stream.of(
                Arguments.of("monitoring.prometheusRule.alerts.GuardFailing.window=10 minutes", "window"),
                Arguments.of("monitoring.prometheusRule.alerts.OperatorDown.for=five", "for"),
                Arguments.of("monitoring.prometheusRule.alerts.OperatorDown.window=10m", "window"),
                Arguments.of("monitoring.prometheusRule.alerts.GuardFailng.for=1m", "GuardFailng"),
                Arguments.of("monitoring.prometheusRule.runbookUrlBase=wiki/runbooks", "runbookUrlBase"),
                Arguments.of("monitoring.operatorJob=", "operatorJob"),
                Arguments.of("monitoring.prometheusRule.enabled=maybe", "enabled"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badValues")
    void theSchemaRefusesBadValues(String set, String named) throws Exception {
        Helm.Result r = Helm.run("template", "x", CHART.toString(), "--set", set);
        assertThat(r.exitCode()).as("helm template --set %s must fail", set).isNotZero();
        assertThat(r.stderr()).as("the error names %s", named).contains(named);
    }

    // ------------------------------------------------------------------------------------- helpers

    /** The rules of files/alerts.yaml by alert name. */
    static Map<String, JsonNode> alerts() throws IOException {
        Map<String, JsonNode> alerts = new LinkedHashMap<>();
        for (JsonNode g : YAML.readTree(ALERTS.toFile()).path("groups")) {
            for (JsonNode r : g.path("rules")) {
                assertThat(alerts.put(r.path("alert").asText(), r)).as("alert %s is defined once", r.path("alert")).isNull();
            }
        }
        return alerts;
    }

    /** Every PromQL expression of the alerts and the dashboard, by where it is. */
    static Map<String, String> allQueries() throws IOException {
        Map<String, String> all = new LinkedHashMap<>();
        alerts().forEach((name, rule) -> all.put("alert " + name, rule.path("expr").asText()));
        all.putAll(dashboardQueries());
        return all;
    }

    static final Pattern LABEL_VALUES_QUERY = Pattern.compile("label_values\\((.*),\\s*[a-zA-Z_][a-zA-Z0-9_]*\\s*\\)\\s*",
            Pattern.DOTALL);

    /** Every PromQL expression of the dashboard: panel targets, annotations, the selectors of query variables. */
    static Map<String, String> dashboardQueries() throws IOException {
        JsonNode dashboard = JSON.readTree(DASHBOARD.toFile());
        Map<String, String> queries = new LinkedHashMap<>();
        for (JsonNode p : panels(dashboard)) {
            for (JsonNode t : p.path("targets")) {
                queries.put("panel " + p.path("id").asText() + " " + t.path("refId").asText(), t.path("expr").asText());
            }
        }
        for (JsonNode a : dashboard.path("annotations").path("list")) {
            if (a.has("expr")) {
                queries.put("annotation " + a.path("name").asText(), a.path("expr").asText());
            }
        }
        for (JsonNode v : dashboard.path("templating").path("list")) {
            if (!"query".equals(v.path("type").asText())) {
                continue;
            }
            String q = variableQuery(v);
            Matcher m = LABEL_VALUES_QUERY.matcher(q);
            assertThat(m.matches()).as("variable %s is label_values(selector, label): %s", v.path("name"), q).isTrue();
            queries.put("variable " + v.path("name").asText(), m.group(1));
        }
        return queries;
    }

    static String variableQuery(JsonNode variable) {
        JsonNode q = variable.path("query");
        return q.isTextual() ? q.asText() : q.path("query").asText();
    }

    /** Every panel, those inside rows included. */
    static List<JsonNode> panels(JsonNode dashboard) {
        List<JsonNode> all = new ArrayList<>();
        for (JsonNode p : dashboard.path("panels")) {
            all.add(p);
            p.path("panels").forEach(all::add);
        }
        return all;
    }

    static String target(JsonNode dashboard, String panelTitle, String refId) {
        for (JsonNode p : panels(dashboard)) {
            for (JsonNode t : p.path("targets")) {
                if (panelTitle.equals(p.path("title").asText()) && refId.equals(t.path("refId").asText())) {
                    return t.path("expr").asText();
                }
            }
        }
        throw new AssertionError("no target " + refId + " in panel " + panelTitle);
    }

    /** A query as Grafana sends it: built-in intervals and template variables replaced. */
    static String grafanaSubstituted(String query) {
        return query.replace("$__rate_interval", "5m").replace("$__interval", "1m").replace("$__range", "6h")
                .replaceAll("\\$\\{[^}]*\\}|\\$[a-zA-Z_][a-zA-Z0-9_]*", ".*");
    }

    /** Rules with their expressions' whitespace normalised (the chart re-serialises them). */
    static JsonNode normalized(JsonNode groups) {
        JsonNode copy = groups.deepCopy();
        for (JsonNode g : copy) {
            for (JsonNode r : g.path("rules")) {
                ((ObjectNode) r).put("expr", r.path("expr").asText().strip().replaceAll("\\s+", " "));
            }
        }
        return copy;
    }

    static void promtoolCheck(JsonNode prometheusRule, Path dir) throws Exception {
        Path file = Files.createTempFile(dir, "rendered-", ".yaml");
        YAML.writeValue(file.toFile(), YAML.createObjectNode().set("groups", prometheusRule.path("spec").path("groups")));
        Run check = run(Duration.ofMinutes(1), promtool(), "check", "rules", file.toString());
        assertThat(check.exit()).as("promtool check rules on the rendered PrometheusRule:%n%s%s%n%s", check.out(),
                check.err(), Files.readString(file)).isZero();
    }

    static JsonNode only(List<JsonNode> objects, String kind) {
        List<JsonNode> of = objects.stream().filter(o -> kind.equals(o.path("kind").asText())).toList();
        assertThat(of).as("rendered %s objects", kind).hasSize(1);
        return of.get(0);
    }

    /** The monitoring objects the chart renders; the rest of it (the operator itself) is tested in packaging. */
    static final Set<String> MONITORING_KINDS = Set.of("PrometheusRule", "ConfigMap", "ServiceMonitor");

    /**
     * The monitoring objects of {@code helm template} of the chart (release execution-safety-operator, namespace
     * execution-safety).
     */
    static List<JsonNode> template(String... args) {
        return Helm.objects(args).stream().filter(o -> MONITORING_KINDS.contains(o.path("kind").asText())).toList();
    }

    record Run(int exit, String out, String err) {
    }

    static Run run(Duration timeout, String... command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("monitoring-assets-", ".out");
        Path err = Files.createTempFile("monitoring-assets-", ".err");
        try {
            Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                fail("%s did not finish within %s", String.join(" ", command), timeout);
            }
            return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    static String promtool() {
        return onPath("promtool").orElseThrow(() -> new AssertionError("promtool not found on PATH: " + PROMTOOL_INSTALL));
    }

    static Optional<String> onPath(String binary) {
        return Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)).filter(d -> !d.isEmpty())
                .map(d -> Path.of(d, binary)).filter(Files::isExecutable).map(Path::toString).findFirst();
    }


}
