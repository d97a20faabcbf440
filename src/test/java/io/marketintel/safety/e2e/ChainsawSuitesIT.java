package io.marketintel.safety.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import io.marketintel.safety.testing.Helm;
import io.marketintel.safety.testing.SafetyInvariants;

/**
 * The end-to-end tier (DESIGN §10): on a fresh control plane, {@code helm install} of the chart, the packaged
 * operator as its own process authenticated as the chart's ServiceAccount ({@link E2eCluster}), then every chainsaw
 * suite in {@code e2e/}: the user journeys driven with kubectl as the people who would run them. Each suite is
 * one test here, failing with chainsaw's own account of what did not hold.
 * <p>
 * Runs in its own Failsafe execution (own JVM, own control plane), after the integration tests.
 */
class ChainsawSuitesIT {
    static E2eCluster cluster;
    static E2eCluster.ChainsawRun run;
    static ChainsawReport report;
    static io.fabric8.kubernetes.client.KubernetesClient client;
    /** Watches every namespace (chainsaw makes its own) while the suites run. */
    static SafetyInvariants invariants;
    /**
     * How an RBAC denial shows in the operator's log: the API server's wording for a request, and the client's for
     * a refused watch. Not other 403s, such as writes into a terminating namespace.
     */
    static final java.util.regex.Pattern RBAC_DENIAL = java.util.regex.Pattern
            .compile("forbidden: User \\\\?\"[^\"\\\\]+\\\\?\" cannot |Received 403 on websocket");

    @BeforeAll
    static void installAndRun() {
        cluster = E2eCluster.install(Path.of("target", "e2e").toAbsolutePath());
        cluster.startOperator(true);
        client = cluster.plane().client();
        invariants = SafetyInvariants.watchAll(client);
        run = cluster.chainsaw("chainsaw-report");
        System.out.println(run.output()); // failsafe-reports/…-output.txt
        report = ChainsawReport.read(run.report());
    }

    @AfterAll
    static void tearDown() {
        try {
            if (invariants != null) {
                invariants.close();
            }
        } finally {
            if (client != null) {
                client.close();
            }
            if (cluster != null) {
                cluster.close();
            }
        }
    }

    /**
     * No safety invariant (a Live pod without an approved Live policy, two modes at once in a workload or trading
     * system, a pod running in a stopped policy) was violated in any namespace while the suites ran.
     */
    @Test
    void noSafetyInvariantWasViolatedWhileTheSuitesRan() {
        invariants.assertNone();
        assertThat(invariants.maxAlive()).as("the checker saw the suites' pods").isNotEmpty();
    }

    @TestFactory
    Stream<DynamicTest> chainsawSuites() {
        java.util.Map<String, Integer> seen = new java.util.HashMap<>();
        // A test with scenarios reports once per scenario, under the same name.
        return report.cases().stream().map(c -> DynamicTest.dynamicTest(c.name() + " #" + seen.merge(c.name(), 1, Integer::sum), () -> assertThat(c.failure())
                .as("chainsaw suite %s failed (chainsaw log: %s, operator log: %s)", c.name(),
                        run.report().resolveSibling(run.report().getFileName().toString().replace(".xml", ".log")), cluster.operator().log())
                .isNull()));
    }

    /** A suite chainsaw did not find, or that did not report, must not pass by its absence. */
    @Test
    void everySuiteRanAndChainsawSucceeded() throws IOException {
        List<String> tests = new java.util.ArrayList<>();
        try (Stream<Path> files = Files.walk(E2eCluster.SUITES)) {
            for (Path f : files.filter(f -> f.getFileName().toString().equals("chainsaw-test.yaml")).toList()) {
                Helm.parse(Files.readString(f)).forEach(t -> tests.add(t.path("metadata").path("name").asText()));
            }
        }
        assertThat(tests).as("chainsaw tests in e2e/").isNotEmpty();
        for (String test : tests) {
            assertThat(report.cases()).as("report of chainsaw test %s", test).anyMatch(c -> c.name().startsWith(test));
        }
        assertThat(run.exitCode()).as("chainsaw exit code; output:%n%s", run.output()).isZero();
    }

    /**
     * The packaged operator, configured as the chart configures it, exports every series the shipped alerts and
     * dashboard read (MetricsIT checks the in-process operator; this is what Prometheus scrapes in a cluster).
     * Guard series and the SDK's failure/retry counters appear on their first increment, and the per-policy
     * series are removed with their policy (the suites' policies are gone by now), so they are not required here.
     */
    @Test
    void thePackagedOperatorExportsTheMetricsContract() throws Exception {
        int port = cluster.operator().httpPort();
        String scrape = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + port + "/q/metrics")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        var contract = io.marketintel.safety.observability.MonitoringAssetsTest.CONTRACT;
        assertThat(io.marketintel.safety.observability.MonitoringAssetsTest.missingFrom(scrape, n -> contract.get(n).contains("policy")))
                .as("contract series missing from the packaged operator's /q/metrics").isEmpty();
    }

    /** With the chart's RBAC complete the API server refused the operator nothing (a 403 is a missing rule). */
    @Test
    void theApiServerRefusedTheOperatorNothing() throws IOException {
        assertThat(cluster.operator().alive()).as("operator process still running").isTrue();
        List<String> refused = Files.readAllLines(cluster.operator().log()).stream()
                .filter(l -> RBAC_DENIAL.matcher(l).find()).toList();
        assertThat(refused).as("forbidden requests in %s", cluster.operator().log()).isEmpty();
    }

    /**
     * The chart's FlowSchema matched the operator's requests: the API server dispatched them at the chart's own
     * priority level (apiPriority.*), not at workload-low with every other controller.
     */
    @Test
    void theOperatorsRequestsRanAtItsOwnApiPriorityLevel() {
        io.marketintel.safety.testing.Kubectl.Result metrics = cluster.kubectl().run("get", "--raw", "/metrics");
        assertThat(metrics.exitCode()).as(metrics.output()).isZero();
        java.util.regex.Matcher dispatched = java.util.regex.Pattern.compile(
                "(?m)^apiserver_flowcontrol_dispatched_requests_total\\{flow_schema=\"" + E2eCluster.RELEASE
                        + "\",priority_level=\"" + E2eCluster.RELEASE + "\"\\} (\\S+)$").matcher(metrics.stdout());
        assertThat(dispatched.find()).as("requests dispatched by the chart's FlowSchema in the API server's metrics").isTrue();
        assertThat(Double.parseDouble(dispatched.group(1))).isPositive();
    }
}
