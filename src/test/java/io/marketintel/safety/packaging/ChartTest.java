package io.marketintel.safety.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import com.fasterxml.jackson.databind.JsonNode;

import io.marketintel.safety.testing.Helm;

/**
 * The Helm chart (helm/execution-safety-operator) renders what the docs promise, with default values, with
 * watched namespaces and with monitoring off; its schema refuses bad values. Least privilege is
 * {@link ChartRbacTest}, the pod security profile {@link ChartPodSecurityTest}, copies and plain manifests
 * {@link ChartDriftTest}; ChartServerDryRunIT sends the renders to a real API server.
 */
class ChartTest {
    /** Kinds without a namespace; everything else must land in the release namespace. */
    static final Set<String> CLUSTER_SCOPED = Set.of("ClusterRole", "ClusterRoleBinding", "ExecutionSafety",
            "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding", "ValidatingAdmissionPolicy",
            "ValidatingAdmissionPolicyBinding", "FlowSchema", "PriorityLevelConfiguration");

    @Test
    void helmLintStrictPasses() {
        for (List<String> values : List.of(List.<String>of(),
                List.of("--set", "watchNamespaces={trading,research}", "--set", "monitoring.serviceMonitor.enabled=true",
                        "--set", "executionSafety.create=true", "--set", "replicas=1"),
                List.of("--set", "shards[0].name=a", "--set", "shards[0].namespaces={desk-a}", "--set", "shards[1].name=b",
                        "--set", "shards[1].namespaces={desk-b}", "--set", "monitoring.serviceMonitor.enabled=true"))) {
            List<String> args = new ArrayList<>(List.of("lint", Helm.CHART.toString(), "--strict"));
            args.addAll(values);
            Helm.Result lint = Helm.run(args.toArray(String[]::new));
            assertThat(lint.exitCode()).as("helm lint --strict %s:%n%s", values, lint.output()).isZero();
        }
    }

    @Test
    void defaultValuesInstallTheOperatorHighlyAvailableIntoTheReleaseNamespace() {
        List<JsonNode> objects = Helm.objects();
        assertThat(kinds(objects)).isEqualTo(new TreeMap<>(Map.ofEntries(Map.entry("ServiceAccount", 1),
                Map.entry("ClusterRole", 5), Map.entry("ClusterRoleBinding", 2), Map.entry("Role", 1),
                Map.entry("RoleBinding", 1), Map.entry("Deployment", 1), Map.entry("Service", 1),
                Map.entry("PodDisruptionBudget", 1), Map.entry("PrometheusRule", 1), Map.entry("ConfigMap", 1),
                Map.entry("MutatingAdmissionPolicy", 5), Map.entry("MutatingAdmissionPolicyBinding", 5),
                // execution-safety-unowned-live has two bindings (issue 22).
                Map.entry("ValidatingAdmissionPolicy", 16), Map.entry("ValidatingAdmissionPolicyBinding", 17),
                Map.entry("FlowSchema", 1), Map.entry("PriorityLevelConfiguration", 1))));
        for (JsonNode o : objects) {
            String kind = o.path("kind").asText();
            JsonNode namespace = o.path("metadata").path("namespace");
            if (CLUSTER_SCOPED.contains(kind)) {
                assertThat(namespace.isMissingNode()).as("%s %s has no namespace", kind, name(o)).isTrue();
            } else {
                assertThat(namespace.asText()).as("namespace of %s %s", kind, name(o)).isEqualTo(Helm.NAMESPACE);
            }
        }

        JsonNode deployment = only(objects, "Deployment");
        assertThat(deployment.path("spec").path("replicas").asInt()).isEqualTo(2);
        JsonNode pod = deployment.path("spec").path("template");
        assertThat(pod.path("spec").path("serviceAccountName").asText()).isEqualTo(name(only(objects, "ServiceAccount")));
        JsonNode container = pod.path("spec").path("containers").get(0);
        assertThat(container.path("image").asText()).isEqualTo("execution-safety-operator:0.1.0");
        Map<String, JsonNode> env = env(container);
        assertThat(env.get("QUARKUS_OPERATOR_SDK_CONTROLLERS_EXECUTIONPOLICY_NAMESPACES").path("value").asText())
                .isEqualTo("JOSDK_ALL_NAMESPACES");
        assertThat(env.get("EXECUTION_SAFETY_LEADER_ELECTION_LEASE_NAMESPACE").path("valueFrom").path("fieldRef")
                .path("fieldPath").asText()).as("lease namespace from the downward API").isEqualTo("metadata.namespace");
        assertThat(env.get("EXECUTION_SAFETY_LEADER_ELECTION_LEASE_NAME").path("value").asText())
                .as("the Lease of docs/operations.md").isEqualTo("execution-safety-operator");
        assertThat(env.get("QUARKUS_LOG_CONSOLE_JSON_ENABLED").path("value").asText()).isEqualTo("true");
        assertThat(container.path("startupProbe").path("httpGet").path("path").asText()).isEqualTo("/q/health/started");
        assertThat(container.path("livenessProbe").path("httpGet").path("path").asText()).isEqualTo("/q/health/live");
        assertThat(container.path("readinessProbe").path("httpGet").path("path").asText()).isEqualTo("/q/health/ready");
        assertThat(container.path("ports").get(0).path("containerPort").asInt()).isEqualTo(8080);
        assertThat(container.path("resources").path("requests").path("memory").asText()).isNotEmpty();
        assertThat(container.path("resources").path("limits").path("memory").asText()).isNotEmpty();
        assertThat(pod.path("spec").path("topologySpreadConstraints")).extracting(c -> c.path("topologyKey").asText())
                .containsExactly("kubernetes.io/hostname", "topology.kubernetes.io/zone");
        pod.path("spec").path("topologySpreadConstraints").forEach(c -> assertThat(matches(c.path("labelSelector")
                .path("matchLabels"), pod.path("metadata").path("labels"))).as("spread selects the operator's pods").isTrue());

        JsonNode service = only(objects, "Service");
        JsonNode port = service.path("spec").path("ports").get(0);
        assertThat(port.path("name").asText()).isEqualTo("http-metrics");
        assertThat(port.path("targetPort").asText()).isEqualTo(container.path("ports").get(0).path("name").asText());
        assertThat(matches(service.path("spec").path("selector"), pod.path("metadata").path("labels"))).isTrue();

        JsonNode pdb = only(objects, "PodDisruptionBudget");
        assertThat(pdb.path("spec").path("minAvailable").asInt()).isEqualTo(1);
        assertThat(matches(pdb.path("spec").path("selector").path("matchLabels"), pod.path("metadata").path("labels"))).isTrue();
    }

    @Test
    void watchedNamespacesReachTheOperatorAndItsBindings() {
        List<JsonNode> objects = Helm.objects("--set", "watchNamespaces={trading,research}");
        JsonNode container = only(objects, "Deployment").path("spec").path("template").path("spec").path("containers").get(0);
        assertThat(env(container).get("QUARKUS_OPERATOR_SDK_CONTROLLERS_EXECUTIONPOLICY_NAMESPACES").path("value").asText())
                .isEqualTo("trading,research");
        assertThat(objects).filteredOn(o -> o.path("kind").asText().equals("RoleBinding"))
                .extracting(o -> o.path("metadata").path("namespace").asText() + "/" + name(o) + " -> " + o.path("roleRef").path("name").asText())
                .containsExactlyInAnyOrder("trading/execution-safety-operator -> execution-safety-operator",
                        "research/execution-safety-operator -> execution-safety-operator",
                        "execution-safety/execution-safety-operator-leader-election -> execution-safety-operator-leader-election");
        assertThat(objects).filteredOn(o -> o.path("kind").asText().equals("ClusterRoleBinding")).extracting(ChartTest::name)
                .containsExactly("execution-safety-operator-cluster");
    }

    @Test
    void monitoringOffLeavesTheOperatorAsItIs() {
        List<JsonNode> off = Helm.objects("--set", "monitoring.prometheusRule.enabled=false", "--set",
                "monitoring.dashboard.enabled=false");
        assertThat(off).extracting(o -> o.path("kind").asText()).doesNotContain("PrometheusRule", "ConfigMap", "ServiceMonitor");
        List<JsonNode> defaults = new ArrayList<>(Helm.objects());
        defaults.removeIf(o -> Set.of("PrometheusRule", "ConfigMap").contains(o.path("kind").asText()));
        assertThat(off).containsExactlyInAnyOrderElementsOf(defaults);
    }

    @Test
    void theServiceMonitorKeepsThePolicyNamespaceLabelAndNamesTheJobTheAlertsSelect() {
        List<JsonNode> objects = Helm.objects("--set", "monitoring.serviceMonitor.enabled=true", "--set",
                "monitoring.serviceMonitor.labels.release=prometheus", "--set", "monitoring.serviceMonitor.interval=15s");
        JsonNode monitor = only(objects, "ServiceMonitor");
        JsonNode service = only(objects, "Service");
        assertThat(monitor.path("metadata").path("labels").path("release").asText()).isEqualTo("prometheus");
        JsonNode endpoint = monitor.path("spec").path("endpoints").get(0);
        assertThat(endpoint.path("honorLabels").asBoolean()).as("honorLabels (docs/operations.md)").isTrue();
        assertThat(endpoint.path("port").asText()).isEqualTo(service.path("spec").path("ports").get(0).path("name").asText());
        assertThat(endpoint.path("path").asText()).isEqualTo("/q/metrics");
        assertThat(endpoint.path("interval").asText()).isEqualTo("15s");
        assertThat(matches(monitor.path("spec").path("selector").path("matchLabels"), service.path("metadata").path("labels")))
                .as("the ServiceMonitor selects the Service").isTrue();
        assertThat(monitor.path("spec").path("namespaceSelector").path("matchNames")).extracting(JsonNode::asText)
                .containsExactly(Helm.NAMESPACE);
        String jobLabel = monitor.path("spec").path("jobLabel").asText();
        String job = service.path("metadata").path("labels").path(jobLabel).asText();
        String operatorJob = only(objects, "PrometheusRule").path("spec").path("groups").findValues("expr").stream()
                .map(JsonNode::asText).filter(e -> e.contains("job=")).findFirst().orElseThrow();
        assertThat(operatorJob).as("the alerts select the job the ServiceMonitor gives").contains("job=\"" + job + "\"");

        Helm.Result wrong = Helm.run("template", "x", Helm.CHART.toString(), "--set", "monitoring.serviceMonitor.enabled=true",
                "--set", "monitoring.operatorJob=prometheus/operator");
        assertThat(wrong.exitCode()).isNotZero();
        assertThat(wrong.stderr()).contains("monitoring.operatorJob", "execution-safety-operator");
    }

    /** Issue 22, item 5: the Lease's timing is the chart's to set (fail-over after a crash is about leaseDuration). */
    @Test
    void theLeaseTimingIsSetFromValuesAndNonsenseIsRefused() {
        Map<String, JsonNode> defaults = env(only(Helm.objects(), "Deployment").path("spec").path("template").path("spec")
                .path("containers").get(0));
        assertThat(defaults.get("EXECUTION_SAFETY_LEADER_ELECTION_LEASE_DURATION").path("value").asText()).isEqualTo("15s");
        assertThat(defaults.get("EXECUTION_SAFETY_LEADER_ELECTION_RENEW_DEADLINE").path("value").asText()).isEqualTo("10s");
        assertThat(defaults.get("EXECUTION_SAFETY_LEADER_ELECTION_RETRY_PERIOD").path("value").asText()).isEqualTo("1s");
        Map<String, JsonNode> fast = env(only(Helm.objects("--set", "leaderElection.leaseDuration=1500ms", "--set",
                "leaderElection.renewDeadline=1s", "--set", "leaderElection.retryPeriod=250ms"), "Deployment").path("spec")
                .path("template").path("spec").path("containers").get(0));
        assertThat(fast.get("EXECUTION_SAFETY_LEADER_ELECTION_LEASE_DURATION").path("value").asText()).isEqualTo("1500ms");
        assertThat(fast.get("EXECUTION_SAFETY_LEADER_ELECTION_RETRY_PERIOD").path("value").asText()).isEqualTo("250ms");
        Helm.Result wrong = Helm.run("template", "x", Helm.CHART.toString(), "--set", "leaderElection.leaseDuration=soon");
        assertThat(wrong.exitCode()).isNotZero();
        assertThat(wrong.stderr()).contains("leaseDuration");
    }

    static final String[] SHARDS = {"--set", "shards[0].name=a", "--set", "shards[0].namespaces={desk-a,desk-b}", "--set",
            "shards[1].name=b", "--set", "shards[1].namespaces={desk-c}"};

    /** Issue 22, item 6: one Deployment per shard, each with its own Lease and namespaces, all behind one Service. */
    @Test
    void shardsAreDeploymentsWithTheirOwnLeaseAndNamespaces() {
        List<String> args = new ArrayList<>(List.of(SHARDS));
        args.addAll(List.of("--set", "monitoring.serviceMonitor.enabled=true"));
        List<JsonNode> objects = Helm.objects(args.toArray(String[]::new));
        List<JsonNode> deployments = objects.stream().filter(o -> o.path("kind").asText().equals("Deployment")).toList();
        assertThat(deployments).extracting(ChartTest::name)
                .containsExactly("execution-safety-operator-a", "execution-safety-operator-b");
        Map<String, String> namespaces = new TreeMap<>();
        Map<String, String> leases = new TreeMap<>();
        Map<String, String> clusterStatus = new TreeMap<>();
        JsonNode service = only(objects, "Service");
        for (JsonNode d : deployments) {
            JsonNode pod = d.path("spec").path("template");
            Map<String, JsonNode> env = env(pod.path("spec").path("containers").get(0));
            namespaces.put(name(d), env.get("QUARKUS_OPERATOR_SDK_CONTROLLERS_EXECUTIONPOLICY_NAMESPACES").path("value").asText());
            leases.put(name(d), env.get("EXECUTION_SAFETY_LEADER_ELECTION_LEASE_NAME").path("value").asText());
            clusterStatus.put(name(d), env.containsKey("EXECUTION_SAFETY_CLUSTER_STATUS_ENABLED")
                    ? env.get("EXECUTION_SAFETY_CLUSTER_STATUS_ENABLED").path("value").asText() : "default");
            assertThat(d.path("spec").path("replicas").asInt()).as("replicas of each shard").isEqualTo(2);
            String shard = name(d).substring(name(d).length() - 1);
            assertThat(pod.path("metadata").path("labels").path("app.kubernetes.io/component").asText()).isEqualTo("shard-" + shard);
            assertThat(d.path("spec").path("selector").path("matchLabels").path("app.kubernetes.io/component").asText())
                    .as("the shards' selectors do not overlap").isEqualTo("shard-" + shard);
            assertThat(matches(d.path("spec").path("selector").path("matchLabels"), pod.path("metadata").path("labels"))).isTrue();
            assertThat(matches(service.path("spec").path("selector"), pod.path("metadata").path("labels")))
                    .as("the metrics Service selects every shard's pods").isTrue();
            pod.path("spec").path("topologySpreadConstraints").forEach(c -> assertThat(c.path("labelSelector").path("matchLabels")
                    .path("app.kubernetes.io/component").asText()).as("spread within the shard").isEqualTo("shard-" + shard));
        }
        assertThat(namespaces).containsExactlyEntriesOf(new TreeMap<>(Map.of("execution-safety-operator-a", "desk-a,desk-b",
                "execution-safety-operator-b", "desk-c")));
        assertThat(leases).containsExactlyEntriesOf(new TreeMap<>(Map.of("execution-safety-operator-a", "execution-safety-operator-a",
                "execution-safety-operator-b", "execution-safety-operator-b")));
        assertThat(clusterStatus).as("only the first shard writes the status of ExecutionSafety/global")
                .containsExactlyEntriesOf(new TreeMap<>(Map.of("execution-safety-operator-a", "default",
                        "execution-safety-operator-b", "false")));

        List<JsonNode> budgets = objects.stream().filter(o -> o.path("kind").asText().equals("PodDisruptionBudget")).toList();
        assertThat(budgets).extracting(ChartTest::name).containsExactly("execution-safety-operator-a", "execution-safety-operator-b");
        for (int i = 0; i < 2; i++) {
            JsonNode selector = budgets.get(i).path("spec").path("selector").path("matchLabels");
            assertThat(matches(selector, deployments.get(i).path("spec").path("template").path("metadata").path("labels"))).isTrue();
            assertThat(matches(selector, deployments.get(1 - i).path("spec").path("template").path("metadata").path("labels")))
                    .as("a shard's budget counts only its own pods").isFalse();
        }

        assertThat(objects).filteredOn(o -> o.path("kind").asText().equals("RoleBinding"))
                .extracting(o -> o.path("metadata").path("namespace").asText() + "/" + name(o))
                .as("the operator's rules are bound in every shard's namespaces, as with watchNamespaces")
                .containsExactlyInAnyOrder("desk-a/execution-safety-operator", "desk-b/execution-safety-operator",
                        "desk-c/execution-safety-operator", "execution-safety/execution-safety-operator-leader-election");
        assertThat(objects).filteredOn(o -> o.path("kind").asText().equals("ClusterRoleBinding")).extracting(ChartTest::name)
                .containsExactly("execution-safety-operator-cluster");
        JsonNode namespaceRule = objects.stream().filter(o -> name(o).equals("execution-safety-operator-cluster")
                && o.path("kind").asText().equals("ClusterRole")).findFirst().orElseThrow().path("rules").get(0);
        assertThat(namespaceRule.path("resources").get(0).asText()).isEqualTo("namespaces");
        assertThat(namespaceRule.path("resourceNames")).extracting(JsonNode::asText).containsExactly("desk-a", "desk-b", "desk-c");

        JsonNode relabel = only(objects, "ServiceMonitor").path("spec").path("endpoints").get(0).path("relabelings").get(0);
        assertThat(relabel.path("sourceLabels").get(0).asText()).isEqualTo("__meta_kubernetes_pod_label_app_kubernetes_io_component");
        assertThat(relabel.path("targetLabel").asText()).as("the label the alerts group by").isEqualTo("shard");
        assertThat("shard-a".replaceAll("^" + relabel.path("regex").asText() + "$", relabel.path("replacement").asText()))
                .as("Prometheus' anchored regex and $1 replacement, which Java's replaceAll shares").isEqualTo("a");
        assertThat(only(Helm.objects("--set", "monitoring.serviceMonitor.enabled=true"), "ServiceMonitor").path("spec")
                .path("endpoints").get(0).has("relabelings")).as("no relabeling without shards").isFalse();

        JsonNode lease = only(Helm.objects("--set", "leaderElection.leaseName=trading-lease", "--set", "shards[0].name=x",
                "--set", "shards[0].namespaces={desk-x}", "--set", "replicas=1"), "Deployment");
        assertThat(env(lease.path("spec").path("template").path("spec").path("containers").get(0))
                .get("EXECUTION_SAFETY_LEADER_ELECTION_LEASE_NAME").path("value").asText()).isEqualTo("trading-lease-x");
    }

    static Stream<Arguments> badShards() {
        return Stream.of(
                Arguments.of(List.of("shards[0].name=a", "shards[0].namespaces={x,y}", "shards[1].name=b", "shards[1].namespaces={y}"),
                        "namespace \"y\" is in shards \"a\" and \"b\""),
                Arguments.of(List.of("shards[0].name=a", "shards[0].namespaces={x}", "shards[1].name=a", "shards[1].namespaces={y}"),
                        "two shards are named \"a\""),
                Arguments.of(List.of("shards[0].name=Desk_A", "shards[0].namespaces={x}"), "/shards/0/name"),
                Arguments.of(List.of("shards[0].name=a-very-long-shard-name-1", "shards[0].namespaces={x}"), "/shards/0/name"),
                Arguments.of(List.of("shards[0].name=a"), "namespaces"),
                Arguments.of(List.of("shards[0].name=a", "shards[0].namespaces={x}", "watchNamespaces={z}"),
                        "shards and watchNamespaces are exclusive"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badShards")
    void badShardsAreRefused(List<String> sets, String message) {
        List<String> args = new ArrayList<>(List.of("template", "x", Helm.CHART.toString()));
        sets.forEach(set -> args.addAll(List.of("--set", set)));
        Helm.Result r = Helm.run(args.toArray(String[]::new));
        assertThat(r.exitCode()).as("helm template %s must fail", sets).isNotZero();
        assertThat(r.stderr()).contains(message);
    }

    @Test
    void oneReplicaGetsNoDisruptionBudget() {
        List<JsonNode> objects = Helm.objects("--set", "replicas=1");
        assertThat(objects).extracting(o -> o.path("kind").asText()).doesNotContain("PodDisruptionBudget");
        assertThat(only(objects, "Deployment").path("spec").path("replicas").asInt()).isEqualTo(1);
    }

    @Test
    void theTogglesAddAndRemoveTheClusterObjects() {
        List<JsonNode> objects = Helm.objects("--set", "admissionPolicies.enabled=false", "--set", "userRoles.enabled=false",
                "--set", "executionSafety.create=true", "--set", "executionSafety.spec.minLiveApprovals=3");
        assertThat(objects).extracting(o -> o.path("kind").asText()).doesNotContain("MutatingAdmissionPolicy",
                "ValidatingAdmissionPolicy", "MutatingAdmissionPolicyBinding", "ValidatingAdmissionPolicyBinding");
        assertThat(objects).filteredOn(o -> o.path("kind").asText().equals("ClusterRole")).extracting(ChartTest::name)
                .containsExactlyInAnyOrder("execution-safety-operator", "execution-safety-operator-cluster");
        JsonNode global = only(objects, "ExecutionSafety");
        assertThat(name(global)).isEqualTo("global");
        assertThat(global.path("spec").path("minLiveApprovals").asInt()).isEqualTo(3);
        assertThat(global.path("metadata").path("annotations").path("helm.sh/resource-policy").asText())
                .as("a latched cluster-wide stop survives helm uninstall").isEqualTo("keep");
    }

    @Test
    void theOperatorsServiceAccountHasAnApiPriorityLevelOfItsOwn() {
        List<JsonNode> objects = Helm.objects("--set", "serviceAccount.name=trading-operator");
        JsonNode schema = only(objects, "FlowSchema");
        JsonNode level = only(objects, "PriorityLevelConfiguration");
        assertThat(schema.path("spec").path("priorityLevelConfiguration").path("name").asText()).isEqualTo(name(level));
        assertThat(schema.path("spec").path("matchingPrecedence").asInt())
                .as("matched before the built-in service-accounts FlowSchema").isLessThan(9000);
        JsonNode subject = schema.path("spec").path("rules").get(0).path("subjects").get(0).path("serviceAccount");
        assertThat(subject.path("name").asText()).isEqualTo("trading-operator");
        assertThat(subject.path("namespace").asText()).isEqualTo(Helm.NAMESPACE);
        assertThat(level.path("spec").path("limited").path("lendablePercent").asInt()).isEqualTo(50);

        assertThat(Helm.objects("--set", "apiPriority.enabled=false")).extracting(o -> o.path("kind").asText())
                .doesNotContain("FlowSchema", "PriorityLevelConfiguration");
        Helm.Result refused = Helm.run("template", Helm.CHART.toString(), "--set", "apiPriority.matchingPrecedence=1");
        assertThat(refused.exitCode()).as("precedence 1 is the exempt schema's").isNotZero();
        assertThat(refused.stderr()).contains("matchingPrecedence");
    }

    @Test
    void imageByTagOrDigest() {
        JsonNode byTag = only(Helm.objects("--set", "image.repository=registry.example.com/trading/eso", "--set",
                "image.tag=1.2.3"), "Deployment");
        assertThat(image(byTag)).isEqualTo("registry.example.com/trading/eso:1.2.3");
        String digest = "sha256:" + "a".repeat(64);
        JsonNode byDigest = only(Helm.objects("--set", "image.tag=1.2.3", "--set", "image.digest=" + digest), "Deployment");
        assertThat(image(byDigest)).isEqualTo("execution-safety-operator@" + digest);
    }

    @Test
    void thereIsNoWebhookAndNoCertificate() throws Exception {
        List<JsonNode> objects = Helm.objects("--set", "monitoring.serviceMonitor.enabled=true", "--set",
                "executionSafety.create=true");
        assertThat(objects).extracting(o -> o.path("kind").asText()).noneMatch(k -> k.contains("Webhook"))
                .doesNotContain("Secret", "Certificate", "Issuer", "ClusterIssuer");
        assertThat(Files.readString(Helm.CHART.resolve("values.yaml"))).contains("There is no admission webhook");
    }

    static Stream<Arguments> badValues() {
        return Stream.of(
                Arguments.of("watchNamespaces={Trading}", "watchNamespaces"),
                Arguments.of("replicas=0", "replicas"),
                Arguments.of("image.digest=latest", "digest"),
                Arguments.of("image.pullPolicy=Sometimes", "pullPolicy"),
                Arguments.of("logging.level=LOUD", "level"),
                Arguments.of("rbac.readSecret=false", "readSecret"),
                Arguments.of("webhook.enabled=true", "webhook"),
                Arguments.of("topologySpread.whenUnsatisfiable=Maybe", "whenUnsatisfiable"),
                Arguments.of("monitoring.serviceMonitor.interval=soon", "interval"),
                Arguments.of("serviceAccount.create=false", "serviceAccount.name"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badValues")
    void badValuesAreRefusedWithTheirName(String set, String named) {
        Helm.Result r = Helm.run("template", "x", Helm.CHART.toString(), "--set", set);
        assertThat(r.exitCode()).as("helm template --set %s must fail", set).isNotZero();
        assertThat(r.stderr()).as("the error names %s", named).contains(named);
    }

    // ------------------------------------------------------------------------------------- helpers

    static Map<String, Integer> kinds(List<JsonNode> objects) {
        Map<String, Integer> kinds = new TreeMap<>();
        objects.forEach(o -> kinds.merge(o.path("kind").asText(), 1, Integer::sum));
        return kinds;
    }

    static JsonNode only(List<JsonNode> objects, String kind) {
        List<JsonNode> of = objects.stream().filter(o -> kind.equals(o.path("kind").asText())).toList();
        assertThat(of).as("rendered %s objects", kind).hasSize(1);
        return of.get(0);
    }

    static String name(JsonNode o) {
        return o.path("metadata").path("name").asText();
    }

    static String image(JsonNode deployment) {
        return deployment.path("spec").path("template").path("spec").path("containers").get(0).path("image").asText();
    }

    static Map<String, JsonNode> env(JsonNode container) {
        Map<String, JsonNode> env = new LinkedHashMap<>();
        container.path("env").forEach(e -> env.put(e.path("name").asText(), e));
        return env;
    }

    /** Every label of {@code selector} is on {@code labels}, and the selector is not empty. */
    static boolean matches(JsonNode selector, JsonNode labels) {
        if (selector.isEmpty()) {
            return false;
        }
        for (var it = selector.fields(); it.hasNext();) {
            var e = it.next();
            if (!e.getValue().asText().equals(labels.path(e.getKey()).asText(null))) {
                return false;
            }
        }
        return true;
    }
}
