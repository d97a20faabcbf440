package io.marketintel.safety.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.testing.ControlPlane;
import io.marketintel.safety.testing.Kubectl;
import io.marketintel.safety.testing.Namespaces;

/**
 * A bad manifest is refused by the real API server at {@code kubectl apply}, with a message that names the
 * field: the rules live in the CRD (schema, enums, CEL), not only in the operator.
 */
class CrdValidationIT {
    static Kubectl kubectl;
    static String ns;

    @BeforeAll
    static void setUp() {
        ControlPlane plane = ControlPlane.shared();
        kubectl = new Kubectl(plane);
        try (KubernetesClient client = plane.client()) {
            ns = Namespaces.create(client, "crd");
        }
    }

    static String policy(String name, String spec) {
        return """
                apiVersion: safety.marketintel.io/v1alpha1
                kind: ExecutionPolicy
                metadata:
                  name: %s
                spec:
                %s
                """.formatted(name, spec.indent(2));
    }

    static final String WORKLOADS = """
            workloads:
              refs:
              - {kind: Deployment, name: momentum}
            """;
    static final String RISK_LIMITS = """
            riskLimits: {maxOrderNotional: 1000000, maxPosition: 5000000, maxDailyLoss: 250000, maxOrdersPerSecond: 50}
            """;

    static Stream<Arguments> rejected() {
        return Stream.of(
                Arguments.of("invalid mode", policy("bad-mode", "mode: Paper\n" + WORKLOADS),
                        new String[] { "spec.mode", "Unsupported value: \"Paper\"", "\"Backtest\"", "\"DryRun\"", "\"Live\"" }),
                Arguments.of("missing mode", policy("no-mode", WORKLOADS),
                        new String[] { "spec.mode", "Required value" }),
                Arguments.of("missing workloads", policy("no-workloads", "mode: DryRun\n"),
                        new String[] { "spec.workloads", "Required value" }),
                Arguments.of("Live without risk limits", policy("live-no-limits", "mode: Live\n" + WORKLOADS),
                        new String[] { "spec.riskLimits", "riskLimits is required when mode is Live" }),
                Arguments.of("empty workloads", policy("empty-workloads", "mode: DryRun\nworkloads: {}\n"),
                        new String[] { "spec.workloads", "workloads needs refs, a selector, or both" }),
                Arguments.of("unsupported workload kind", policy("bad-kind", """
                        mode: DryRun
                        workloads:
                          refs: [{kind: DaemonSet, name: x}]
                        """), new String[] { "spec.workloads.refs[0].kind", "Unsupported value: \"DaemonSet\"" }),
                Arguments.of("workload listed twice", policy("dup-ref", """
                        mode: DryRun
                        workloads:
                          refs: [{kind: Deployment, name: x}, {kind: Deployment, name: x}]
                        """), new String[] { "spec.workloads.refs", "each workload may be listed once" }),
                Arguments.of("negative replicas", policy("neg-replicas", "mode: DryRun\n" + WORKLOADS + "replicas: {live: -1}\n"),
                        new String[] { "spec.replicas.live", "should be greater than or equal to 0" }),
                Arguments.of("bad duration", policy("bad-duration", "mode: DryRun\n" + WORKLOADS + "transitionTimeout: five minutes\n"),
                        new String[] { "spec.transitionTimeout", "should match" }),
                Arguments.of("Live with a partial risk limit", policy("partial-limits", "mode: Live\n" + WORKLOADS
                        + "riskLimits: {maxOrderNotional: 100}\n"),
                        new String[] { "spec.riskLimits.maxDailyLoss", "Required value" }),
                Arguments.of("zero order notional", policy("zero-notional", "mode: Live\n" + WORKLOADS
                        + "riskLimits: {maxOrderNotional: 0, maxPosition: 1, maxDailyLoss: 1, maxOrdersPerSecond: 1}\n"),
                        new String[] { "spec.riskLimits.maxOrderNotional", "should be greater than 0" }),
                Arguments.of("duplicate guard names", policy("dup-guards", "mode: DryRun\n" + WORKLOADS + """
                        guards:
                        - {name: ready, type: WorkloadReady}
                        - {name: ready, type: DryRunSoak}
                        """), new String[] { "spec.guards", "guard names must be unique" }),
                Arguments.of("Http guard without url", policy("http-no-url", "mode: DryRun\n" + WORKLOADS + """
                        guards:
                        - {name: desk-check, type: Http}
                        """), new String[] { "spec.guards[0].http", "a guard of type Http needs the http block" }),
                Arguments.of("Http guard with a non-http url", policy("http-ftp", "mode: DryRun\n" + WORKLOADS + """
                        guards:
                        - {name: desk-check, type: Http, http: {url: "ftp://risk.example/check"}}
                        """), new String[] { "spec.guards[0].http.url", "url must be an absolute http or https URL" }),
                Arguments.of("egress that is not a CIDR", policy("bad-cidr", "mode: DryRun\n" + WORKLOADS + """
                        liveEgress:
                        - cidr: order-gateway.example
                        """), new String[] { "spec.liveEgress[0].cidr", "cidr must be a CIDR" }),
                Arguments.of("env var that is not an identifier", policy("bad-env", "mode: DryRun\n" + WORKLOADS
                        + "modeInjection: {envVar: \"EXECUTION-MODE\"}\n"),
                        new String[] { "spec.modeInjection.envVar", "should match" }),
                Arguments.of("trading window with a bad time", policy("bad-window", "mode: DryRun\n" + WORKLOADS + """
                        guards:
                        - name: hours
                          type: TradingWindow
                          tradingWindow: {timeZone: Europe/London, windows: [{days: [Mon], start: "8:00", end: "16:30"}]}
                        """), new String[] { "spec.guards[0].tradingWindow.windows[0].start", "should match" }),
                Arguments.of("cluster singleton with another name", """
                        apiVersion: safety.marketintel.io/v1alpha1
                        kind: ExecutionSafety
                        metadata:
                          name: production
                        spec: {}
                        """, new String[] { "metadata.name must be 'global'" }),
                // Named "production" so that no case can ever change the shared ExecutionSafety/global: the
                // API server reports the destination's error beside the name's.
                Arguments.of("allowed destination with both host and cidr", safety("{host: risk.example.com, cidr: 10.0.0.0/8}"),
                        new String[] { "spec.allowedDestinations[0]", "an allowed destination has exactly one of host or cidr" }),
                Arguments.of("allowed destination with neither", safety("{ports: [443]}"),
                        new String[] { "spec.allowedDestinations[0]", "an allowed destination has exactly one of host or cidr" }),
                Arguments.of("allowed destination cidr that is not a CIDR", safety("{cidr: risk.example.com}"),
                        new String[] { "spec.allowedDestinations[0].cidr", "cidr must be a CIDR" }),
                Arguments.of("allowed destination host that is an address", safety("{host: 10.0.0.1}"),
                        new String[] { "spec.allowedDestinations[0].host", "host is a DNS name: an IP address goes in cidr" }),
                Arguments.of("allowed destination host that is a URL", safety("{host: \"http://risk.example.com\"}"),
                        new String[] { "spec.allowedDestinations[0].host", "should match" }),
                Arguments.of("allowed destination port out of range", safety("{cidr: 10.0.0.0/8, ports: [0]}"),
                        new String[] { "spec.allowedDestinations[0].ports", "ports are 1 to 65535" }),
                // Risk monitors (issue 23).
                Arguments.of("duplicate monitor names", policy("dup-monitors", "mode: DryRun\n" + WORKLOADS + """
                        monitors:
                        - {name: loss, query: "sum(loss)", comparison: GreaterThan, threshold: 1}
                        - {name: loss, query: "sum(rate)", comparison: GreaterThan, threshold: 2}
                        """), new String[] { "spec.monitors", "monitor names must be unique" }),
                Arguments.of("monitor comparison that is not one", policy("bad-comparison", "mode: DryRun\n" + WORKLOADS + """
                        monitors:
                        - {name: loss, query: "sum(loss)", comparison: Above, threshold: 1}
                        """), new String[] { "spec.monitors[0].comparison", "Unsupported value" }),
                Arguments.of("monitor without a query", policy("no-query", "mode: DryRun\n" + WORKLOADS + """
                        monitors:
                        - {name: loss, comparison: GreaterThan, threshold: 1}
                        """), new String[] { "spec.monitors[0].query", "Required value" }),
                Arguments.of("monitor for that is not a duration", policy("bad-for", "mode: DryRun\n" + WORKLOADS + """
                        monitors:
                        - {name: loss, query: "sum(loss)", comparison: GreaterThan, threshold: 1, for: soon}
                        """), new String[] { "spec.monitors[0].for", "should match" }),
                Arguments.of("monitor mode listed twice", policy("dup-modes", "mode: DryRun\n" + WORKLOADS + """
                        monitors:
                        - {name: loss, query: "sum(loss)", comparison: GreaterThan, threshold: 1, modes: [Live, Live]}
                        """), new String[] { "spec.monitors[0].modes", "each mode may be listed once" }),
                Arguments.of("monitor in Backtest", policy("backtest-monitor", "mode: DryRun\n" + WORKLOADS + """
                        monitors:
                        - {name: loss, query: "sum(loss)", comparison: GreaterThan, threshold: 1, modes: [Backtest]}
                        """), new String[] { "spec.monitors[0].modes[0]", "Unsupported value" }),
                Arguments.of("monitor stopping after zero failures", policy("zero-failures", "mode: DryRun\n" + WORKLOADS + """
                        monitors:
                        - {name: loss, query: "sum(loss)", comparison: GreaterThan, threshold: 1, onNoData: {action: Stop, failuresBeforeStop: 0}}
                        """), new String[] { "spec.monitors[0].onNoData.failuresBeforeStop", "should be greater than or equal to 1" }),
                Arguments.of("monitoring interval under a second", monitoring("interval: 500ms\n    prometheus: {url: \"http://prometheus:9090\"}"),
                        new String[] { "spec.monitoring.interval", "interval must be at least 1s" }),
                Arguments.of("monitoring without a Prometheus", monitoring("interval: 15s"),
                        new String[] { "spec.monitoring.prometheus", "Required value" }),
                Arguments.of("Prometheus URL with credentials", monitoring("prometheus: {url: \"https://user:secret@prometheus:9090\"}"),
                        new String[] { "spec.monitoring.prometheus.url", "url must carry no credentials, query or fragment" }),
                Arguments.of("Prometheus URL that is not http", monitoring("prometheus: {url: \"ftp://prometheus:9090\"}"),
                        new String[] { "spec.monitoring.prometheus.url", "url must be an absolute http or https URL" }));
    }

    static String monitoring(String block) {
        return """
                apiVersion: safety.marketintel.io/v1alpha1
                kind: ExecutionSafety
                metadata:
                  name: production
                spec:
                  monitoring:
                    %s
                """.formatted(block);
    }

    static String safety(String destination) {
        return """
                apiVersion: safety.marketintel.io/v1alpha1
                kind: ExecutionSafety
                metadata:
                  name: production
                spec:
                  allowedDestinations:
                  - %s
                """.formatted(destination);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rejected")
    void applyRejectsAndNamesTheField(String what, String manifest, String[] expected) {
        Kubectl.Result result = kubectl.runWithInput(manifest, "apply", "-n", ns, "-f", "-");
        assertThat(result.exitCode()).as("kubectl apply of %s: %s", what, result.output()).isNotZero();
        assertThat(result.stderr()).contains(expected);
    }

    @Test
    void validPoliciesAreAcceptedWithDefaults() {
        Kubectl.Result live = kubectl.runWithInput(policy("momentum-live", "mode: Live\n" + WORKLOADS + RISK_LIMITS + """
                approval: {approvers: {users: [alice, bob]}}
                circuitBreaker: {}
                """), "apply", "-n", ns, "-f", "-");
        assertThat(live.exitCode()).as(live.output()).isZero();

        try (KubernetesClient client = ControlPlane.shared().client()) {
            ExecutionPolicy stored = client.resources(ExecutionPolicy.class).inNamespace(ns).withName("momentum-live").get();
            assertThat(stored.getSpec().transitionTimeout).isEqualTo("5m");
            assertThat(stored.getSpec().approval.requiredForLive).isEqualTo(2);
            assertThat(stored.getSpec().approval.requiredForDryRun).isZero();
            assertThat(stored.getSpec().approval.validity).isEqualTo("1h");
            assertThat(stored.getSpec().circuitBreaker.maxFailures).isEqualTo(3);
            assertThat(stored.getSpec().riskLimits.currency).isEqualTo("USD");
        }
    }

    @Test
    void aMonitorIsAcceptedWithItsDefaults() {
        Kubectl.Result r = kubectl.runWithInput(policy("monitored", "mode: DryRun\n" + WORKLOADS + """
                monitors:
                - {name: loss, query: "sum(trading_loss)", comparison: GreaterThanOrEqual, threshold: -5e4, onNoData: {}}
                """), "apply", "-n", ns, "-f", "-");
        assertThat(r.exitCode()).as(r.output()).isZero();
        try (KubernetesClient client = ControlPlane.shared().client()) {
            var m = client.resources(ExecutionPolicy.class).inNamespace(ns).withName("monitored").get().getSpec().monitors.get(0);
            assertThat(m.holdFor).isEqualTo("0s");
            assertThat(m.action).isEqualTo(io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.MonitorAction.EmergencyStop);
            assertThat(m.staleAfter).isEqualTo("5m");
            assertThat(m.threshold).isEqualTo(-50000.0);
            assertThat(m.onNoData.action).isEqualTo(io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.NoDataAction.Alert);
            assertThat(m.onNoData.failuresBeforeStop).isEqualTo(3);
        }
    }

    @Test
    void printerColumnsShortNameAndCategory() {
        kubectl.runWithInput(policy("columns", "mode: Backtest\n" + WORKLOADS), "apply", "-n", ns, "-f", "-");
        Kubectl.Result get = kubectl.run("get", "xp", "-n", ns, "columns");
        assertThat(get.exitCode()).as(get.output()).isZero();
        assertThat(get.stdout().lines().findFirst().orElseThrow().split("\\s+"))
                .containsExactly("NAME", "DESIRED", "EFFECTIVE", "PHASE", "READY", "AGE");
        Kubectl.Result category = kubectl.run("get", "safety", "-A");
        assertThat(category.exitCode()).as(category.output()).isZero();
        assertThat(category.stdout()).contains("executionpolicy.safety.marketintel.io/columns");
    }
}
