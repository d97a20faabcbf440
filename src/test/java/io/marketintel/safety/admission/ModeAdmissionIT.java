package io.marketintel.safety.admission;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.testing.Kubectl;
import io.marketintel.safety.testing.Namespaces;
import io.marketintel.safety.testing.OperatorStatus;
import io.marketintel.safety.testing.NamespacedTest;
import io.marketintel.safety.testing.Users;

/**
 * Issue 21, item 3 (DESIGN §6, §11), prevention by the API server: a pod starts in the one mode its policy set, as the
 * kubelet will start it. No second env entry, sidecar, init or ephemeral container, valueFrom or envFrom hides another
 * mode; Live starts only for a policy that is Live or on its approved way there; a direct edit (kubectl set env, a
 * patched template, a bare pod) starts no Live pod. No operator acts on these policies (the test label): status is
 * written here as the operator would. Users: tom holds {@code edit} in the namespace (a trader); ephemeral containers are
 * added as the cluster admin (the {@code edit} role may not).
 */
class ModeAdmissionIT extends NamespacedTest {
    static final String POLICY = "safety.marketintel.io/policy";
    static final String MODE = "safety.marketintel.io/mode";
    static final Duration ENFORCED = Duration.ofSeconds(60);
    static final String INTEGRITY = "execution-safety-mode-integrity";
    static final String UNOWNED = "execution-safety-unowned-live";
    /** The ReplicaSet controller, as a control plane with --use-service-account-credentials authenticates it. */
    static final String RS_CONTROLLER = "system:serviceaccount:kube-system:replicaset-controller";

    Users users;

    @BeforeEach
    void setUp() {
        users = new Users(client, kubectl, ns).bind("tom", "edit");
        policy("momentum", "DryRun", "");
        status("momentum", "{\"mode\":\"DryRun\"}");
        // Admission policies read their parameters from an informer: wait until this one is seen.
        awaitRefused(pod("probe", "momentum", "DryRun", "env: [{name: EXECUTION_MODE, value: DryRun}]",
                "initContainers: [{name: init, image: registry.example/init:1, envFrom: [{configMapRef: {name: cfg}}]}]"),
                "belongs to ExecutionPolicy momentum");
    }

    @Test
    void noSecondEntrySidecarValueFromOrEnvFromHidesAnotherMode() {
        // The kubelet uses the last of duplicate entries: Live behind a first DryRun.
        refused(pod("twice", "momentum", "DryRun", "env: [{name: EXECUTION_MODE, value: DryRun}, {name: EXECUTION_MODE, value: Live}]"),
                "pod twice sets EXECUTION_MODE more than once in container(s) app", INTEGRITY);
        refused(deployment("twice", "momentum", "DryRun",
                "env: [{name: EXECUTION_MODE, value: DryRun}, {name: EXECUTION_MODE, value: Live}]", ""),
                "Deployment twice's pod template sets EXECUTION_MODE more than once in container(s) app", INTEGRITY);
        // A native sidecar told Live in a DryRun pod.
        refused(pod("sidecar", "momentum", "DryRun", "env: [{name: EXECUTION_MODE, value: DryRun}]",
                "initContainers: [{name: feed, image: registry.example/feed:1, restartPolicy: Always,"
                        + " env: [{name: EXECUTION_MODE, value: Live}]}]"),
                "pod sidecar is annotated safety.marketintel.io/mode=DryRun but container(s) feed set EXECUTION_MODE otherwise",
                INTEGRITY);
        // From a ConfigMap, or a reference to another variable.
        refused(pod("from-cm", "momentum", "DryRun",
                "env: [{name: EXECUTION_MODE, valueFrom: {configMapKeyRef: {name: cfg, key: mode}}}]"),
                "pod from-cm takes EXECUTION_MODE from valueFrom", INTEGRITY);
        refused(pod("by-ref", "momentum", "DryRun", "env: [{name: REAL, value: Live}, {name: EXECUTION_MODE, value: $(REAL)}]"),
                "or sets it to something other than Backtest, DryRun or Live in container(s) app", INTEGRITY);
        // Without this operator's marks, in a namespace ExecutionPolicies govern.
        refused(pod("unmarked-ref", "", "", "env: [{name: REAL, value: Live}, {name: EXECUTION_MODE, value: $(REAL)}]"),
                "pod unmarked-ref sets EXECUTION_MODE in a way that could hide another mode", UNOWNED);
        refused(pod("unmarked-twice", "", "", "env: [{name: EXECUTION_MODE, value: Backtest}, {name: EXECUTION_MODE, value: DryRun}]"),
                "in container(s) app, in Namespace " + ns + ", which ExecutionPolicies govern", UNOWNED);
        // envFrom without an entry of its own: a ConfigMap could carry EXECUTION_MODE=Live.
        refused(pod("env-from", "momentum", "DryRun", "env: [{name: EXECUTION_MODE, value: DryRun}]",
                "initContainers: [{name: init, image: registry.example/init:1, envFrom: [{configMapRef: {name: cfg}}]}]"),
                "pod env-from belongs to ExecutionPolicy momentum, but container(s) init take env from envFrom without a"
                        + " EXECUTION_MODE entry of their own", "execution-safety-policy-mode");
        refused(pod("unlabelled-env-from", "", "", "env: [{name: EXECUTION_MODE, value: DryRun}]",
                "initContainers: [{name: init, image: registry.example/init:1, envFrom: [{secretRef: {name: keys}}]}]"),
                "pod unlabelled-env-from sets EXECUTION_MODE in a way that could hide another mode", UNOWNED);

        // What the operator writes is admitted: one literal on every container and init container, envFrom beside it.
        admitted(pod("whole", "momentum", "DryRun", "env: [{name: EXECUTION_MODE, value: DryRun}], envFrom: [{configMapRef: {name: cfg}}]",
                "initContainers: [{name: feed, image: registry.example/feed:1, restartPolicy: Always,"
                        + " env: [{name: EXECUTION_MODE, value: DryRun}], envFrom: [{configMapRef: {name: cfg}}]},"
                        + " {name: migrate, image: registry.example/migrate:1}]"));
        admitted(deployment("whole", "momentum", "DryRun", "env: [{name: EXECUTION_MODE, value: DryRun}]", ""));
        // A pod that carries no mode is not trading, and is not looked at.
        admitted(pod("database", "", "", "env: [{name: OTHER, value: a}, {name: OTHER, value: b}], envFrom: [{configMapRef: {name: cfg}}]"));
    }

    @Test
    void aDirectEditStartsNoLivePodOfAPolicyThatIsNotLive() {
        Kubectl.Result created = kubectl.runWithInput(deployment("momentum", "momentum", "DryRun",
                "env: [{name: EXECUTION_MODE, value: DryRun}]", ""), "apply", "-n", ns, "-f", "-");
        assertThat(created.exitCode()).as(created.output()).isZero();

        // kubectl set env: the env says Live, the annotation DryRun.
        Kubectl.Result setEnv = as("tom", null, "set", "env", "deployment/momentum", "EXECUTION_MODE=Live");
        assertThat(setEnv.exitCode()).as(setEnv.output()).isNotZero();
        assertThat(setEnv.stderr()).contains("Deployment momentum's pod template is annotated safety.marketintel.io/mode=DryRun"
                + " but container(s) app set EXECUTION_MODE otherwise").contains("only through the ExecutionPolicy");
        // Both changed together: the policy is not Live.
        String live = "ExecutionPolicy momentum is not Live in Namespace " + ns;
        Kubectl.Result both = as("tom", null, "patch", "deployment", "momentum", "--type=strategic", "-p",
                "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"" + MODE + "\":\"Live\"}},"
                        + "\"spec\":{\"containers\":[{\"name\":\"app\",\"env\":[{\"name\":\"EXECUTION_MODE\",\"value\":\"Live\"}]}]}}}}");
        assertThat(both.exitCode()).as(both.output()).isNotZero();
        assertThat(both.stderr()).contains("Deployment momentum's pod template carries mode Live, but " + live)
                .contains("a trading system enters Live only through its policy")
                .contains("safety.marketintel.io/approve=<status.approval.token>").contains(INTEGRITY);
        // A bare pod, and a StatefulSet created Live.
        refused(pod("bare", "momentum", "Live", "env: [{name: EXECUTION_MODE, value: Live}]"), "pod bare carries mode Live, but " + live,
                INTEGRITY);
        refused(deployment("book", "momentum", "Live", "env: [{name: EXECUTION_MODE, value: Live}]", "")
                .replace("kind: Deployment", "kind: StatefulSet").replace("  replicas: 1", "  replicas: 1\n  serviceName: book"),
                "StatefulSet book's pod template carries mode Live, but " + live, INTEGRITY);
        // A ReplicaSet made by hand from a Live template: refused itself (and its pods would be: pod bare above).
        refused(deployment("by-hand", "momentum", "Live", "env: [{name: EXECUTION_MODE, value: Live}]", "")
                .replace("kind: Deployment", "kind: ReplicaSet"), "ReplicaSet by-hand's pod template carries mode Live, but " + live,
                INTEGRITY);

        // Replicas are not the template: scaling the DryRun workload is this policy's business, not a mode change.
        Kubectl.Result scaled = as("tom", null, "scale", "deployment", "momentum", "--replicas=3");
        assertThat(scaled.exitCode()).as(scaled.output()).isZero();
    }

    @Test
    void liveStartsWhileThePolicyIsLiveOrOnItsApprovedWayThereAndNotOnItsWayOut() {
        String livePod = pod("p", "momentum", "Live", "env: [{name: EXECUTION_MODE, value: Live}]");
        // Approved and on its way: the operator records status.transition.to before it configures a template for Live.
        status("momentum", "{\"mode\":\"DryRun\",\"transition\":{\"from\":\"DryRun\",\"to\":\"Live\",\"step\":\"ScalingDown\"}}");
        awaitAdmitted(RS_CONTROLLER, livePod);
        status("momentum", "{\"mode\":\"Live\",\"transition\":null}");
        awaitAdmitted(RS_CONTROLLER, livePod);
        // Only from a workload the policy governs: not a bare pod, nor a ReplicaSet made by hand, of a person.
        refused(livePod, "pod p carries mode Live for ExecutionPolicy momentum, but tom wrote it: a Live pod is created only by"
                + " the controller of a workload the policy governs", INTEGRITY);
        refused(deployment("by-hand", "momentum", "Live", "env: [{name: EXECUTION_MODE, value: Live}]", "")
                .replace("kind: Deployment", "kind: ReplicaSet"),
                "ReplicaSet by-hand's pod template carries mode Live for ExecutionPolicy momentum, but tom wrote it", INTEGRITY);
        awaitAdmitted("system:serviceaccount:kube-system:deployment-controller", deployment("by-hand", "momentum", "Live",
                "env: [{name: EXECUTION_MODE, value: Live}]", "").replace("kind: Deployment", "kind: ReplicaSet"));
        assertThat(register()).isEqualTo("momentum");
        // On its way out of Live (a de-escalation, a re-arm): no new Live pod. The operator took it out of the register.
        status("momentum", "{\"mode\":\"Live\",\"transition\":{\"from\":\"Live\",\"to\":\"DryRun\",\"step\":\"ScalingDown\"}}");
        assertThat(register()).isEmpty();
        awaitRefused(livePod, "pod p carries mode Live, but ExecutionPolicy momentum is not Live in Namespace " + ns);
        // The register is what the API server reads (one evaluation per write, however many policies: issue 22); only
        // the operator adds to it (aLabelNamingNoLivePolicyStartsNothingLive).
        // Another policy's Live says nothing about this one's pods.
        policy("arbitrage", "DryRun", "");
        status("arbitrage", "{\"mode\":\"Live\"}");
        assertThat(register()).isEqualTo("arbitrage");
        awaitRefused(livePod, "ExecutionPolicy momentum is not Live in Namespace " + ns);
    }

    /**
     * Issue 21, item 1: a Live trading system is frozen. A workload does not join it (created or relabelled for the
     * policy) and its targets' pod templates do not change, except by a restart, for everyone but the operator (known by
     * what it may do: patch policy status), while the policy runs Live or is on its approved way there.
     */
    @Test
    void aLiveSystemIsFrozenButRestartsAndTheOperatorGoThrough() {
        status("momentum", "{\"mode\":\"DryRun\",\"transition\":{\"from\":\"DryRun\",\"to\":\"Live\",\"step\":\"ScalingUp\"}}");
        String manifest = deployment("momentum", "momentum", "Live", "env: [{name: EXECUTION_MODE, value: Live}]", "");
        await("configured for Live as the operator would").atMost(ENFORCED).pollInterval(Duration.ofMillis(250))
                .until(() -> kubectl.runWithInput(manifest, "apply", "-n", ns, "-f", "-").exitCode() == 0);
        String frozen = "which runs Live (or is on its approved way there): a Live trading system is frozen";
        await("frozen").atMost(ENFORCED).pollInterval(Duration.ofMillis(250)).until(() -> {
            Kubectl.Result r = as("tom", null, "set", "image", "deployment/momentum", "app=registry.example/trader:2", "--dry-run=server");
            return r.exitCode() != 0 && r.stderr().contains(frozen);
        });
        Kubectl.Result image = as("tom", null, "set", "image", "deployment/momentum", "app=registry.example/trader:2-untested");
        assertThat(image.exitCode()).as(image.output()).isNotZero();
        assertThat(image.stderr()).contains("Deployment momentum's pod template cannot change under ExecutionPolicy momentum, " + frozen)
                .contains("\"spec\":{\"mode\":\"DryRun\"}").contains("status.approval.templates").contains("execution-safety-live-freeze");
        status("momentum", "{\"mode\":\"Live\",\"transition\":null}");
        Kubectl.Result env = as("tom", null, "set", "env", "deployment/momentum", "RISK_CHECKS=off");
        assertThat(env.exitCode()).as(env.output()).isNotZero();
        assertThat(env.stderr()).contains(frozen);
        // Joining: a new workload labelled for it, or an existing one relabelled.
        refused(deployment("newcomer", "momentum", "Live", "env: [{name: EXECUTION_MODE, value: Live}]", ""),
                "Deployment newcomer cannot join ExecutionPolicy momentum, " + frozen, "execution-safety-live-freeze");
        Kubectl.Result other = kubectl.runWithInput(deployment("other", "", "", "", ""), "apply", "-n", ns, "-f", "-");
        assertThat(other.exitCode()).as(other.output()).isZero();
        Kubectl.Result relabel = as("tom", null, "label", "deployment", "other", POLICY + "=momentum");
        assertThat(relabel.exitCode()).as(relabel.output()).isNotZero();
        assertThat(relabel.stderr()).contains("Deployment other cannot join ExecutionPolicy momentum");
        // A restart, and replicas, go through; so does the operator (here: the cluster admin, who may patch policy status).
        Kubectl.Result restart = as("tom", null, "rollout", "restart", "deployment/momentum");
        assertThat(restart.exitCode()).as(restart.output()).isZero();
        Kubectl.Result scale = as("tom", null, "scale", "deployment/momentum", "--replicas=0");
        assertThat(scale.exitCode()).as(scale.output()).isZero();
        Kubectl.Result byOperator = kubectl.run("set", "image", "-n", ns, "deployment/momentum", "app=registry.example/trader:3");
        assertThat(byOperator.exitCode()).as(byOperator.output()).isZero();
        // Out of Live, its template configured for DryRun (as the operator does): changes are the trader's again.
        status("momentum", "{\"mode\":\"DryRun\"}");
        await("configured for DryRun as the operator would").atMost(ENFORCED).pollInterval(Duration.ofMillis(250))
                .until(() -> kubectl.runWithInput(deployment("momentum", "momentum", "DryRun", "env: [{name: EXECUTION_MODE, value: DryRun}]", ""),
                        "apply", "-n", ns, "-f", "-").exitCode() == 0);
        await("thawed").atMost(ENFORCED).pollInterval(Duration.ofMillis(250)).until(() -> as("tom", null, "set", "image",
                "deployment/momentum", "app=registry.example/trader:4", "--dry-run=server").exitCode() == 0);
    }

    /**
     * Issue 21, item 1: while a policy runs Live it may only be tightened; loosening it (a limit raised, a guard removed,
     * fewer approvals, other targets, more Live replicas) is refused for everyone, the way through being DryRun first.
     */
    @Test
    void aLivePolicyIsOnlyTightenedWhileLive() {
        policy("fx", "Live", ", riskLimits: {maxOrderNotional: 1000, maxPosition: 500, maxDailyLoss: 100, maxOrdersPerSecond: 5},"
                + " replicas: {live: 2}, approval: {requiredForLive: 2},"
                + " guards: [{name: pods-ready, type: WorkloadReady}, {name: limits, type: RiskLimits}],"
                + " monitors: [{name: loss, query: 'sum(loss)', comparison: GreaterThan, threshold: 100}]");
        status("fx", "{\"mode\":\"Live\"}");
        String loosens = "ExecutionPolicy fx runs Live (or is on its approved way there), and this change loosens it: ";
        await("frozen").atMost(ENFORCED).pollInterval(Duration.ofMillis(250)).until(() -> {
            Kubectl.Result r = patch("fx", "{\"spec\":{\"riskLimits\":{\"maxDailyLoss\":1000000}}}", "--dry-run=server");
            return r.exitCode() != 0 && r.stderr().contains(loosens);
        });
        for (String[] c : new String[][] {
                { "{\"spec\":{\"riskLimits\":{\"maxDailyLoss\":1000000}}}", "riskLimits raised or currency changed" },
                { "{\"spec\":{\"riskLimits\":{\"currency\":\"JPY\"}}}", "riskLimits raised or currency changed" },
                { "{\"spec\":{\"replicas\":{\"live\":20}}}", "replicas.live raised" },
                { "{\"spec\":{\"guards\":[{\"name\":\"pods-ready\",\"type\":\"WorkloadReady\"}]}}", "guard(s) limits removed or changed" },
                { "{\"spec\":{\"approval\":{\"requiredForLive\":0}}}", "approval.requiredForLive lowered or approvers changed" },
                { "{\"spec\":{\"monitors\":null}}", "monitor(s) loss removed or changed" },
                { "{\"spec\":{\"monitors\":[{\"name\":\"loss\",\"query\":\"sum(loss)\",\"comparison\":\"GreaterThan\",\"threshold\":1e9}]}}",
                        "monitor(s) loss removed or changed" },
                { "{\"spec\":{\"monitors\":[{\"name\":\"loss\",\"query\":\"sum(loss)\",\"comparison\":\"GreaterThan\",\"threshold\":100,"
                        + "\"modes\":[\"DryRun\"]}]}}", "monitor(s) loss removed or changed" },
                { "{\"spec\":{\"workloads\":{\"refs\":[{\"kind\":\"Deployment\",\"name\":\"other\"}]}}}", "workloads changed" } }) {
            Kubectl.Result r = patch("fx", c[0]);
            assertThat(r.exitCode()).as(c[0] + ": " + r.output()).isNotZero();
            assertThat(r.stderr()).contains(loosens + c[1]).contains("take it to DryRun first").contains("execution-safety-live-policy-freeze");
        }
        // Tightening goes through: a limit lowered, a guard added, more approvals, fewer Live replicas.
        for (String tighter : List.of("{\"spec\":{\"riskLimits\":{\"maxDailyLoss\":50}}}",
                "{\"spec\":{\"guards\":[{\"name\":\"pods-ready\",\"type\":\"WorkloadReady\"},{\"name\":\"limits\",\"type\":\"RiskLimits\"},"
                        + "{\"name\":\"settings\",\"type\":\"Configuration\",\"configuration\":{\"configMaps\":[{\"name\":\"settings\"}]}}]}}",
                "{\"spec\":{\"approval\":{\"requiredForLive\":3}}}", "{\"spec\":{\"replicas\":{\"live\":1}}}",
                "{\"spec\":{\"monitors\":[{\"name\":\"loss\",\"query\":\"sum(loss)\",\"comparison\":\"GreaterThan\",\"threshold\":100},"
                        + "{\"name\":\"rate\",\"query\":\"sum(rate(orders_total[1m]))\",\"comparison\":\"GreaterThan\",\"threshold\":50}]}}")) {
            Kubectl.Result r = patch("fx", tighter);
            assertThat(r.exitCode()).as(tighter + ": " + r.output()).isZero();
        }
        // Leaving Live, with the looser limits in the same write, goes through.
        Kubectl.Result out = patch("fx", "{\"spec\":{\"mode\":\"DryRun\",\"riskLimits\":{\"maxDailyLoss\":1000000}}}");
        assertThat(out.exitCode()).as(out.output()).isZero();
    }

    private Kubectl.Result patch(String policy, String json, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("patch", "xp", policy, "-n", ns, "--type=merge", "-p", json));
        args.addAll(List.of(more));
        return kubectl.run(args.toArray(String[]::new));
    }

    @Test
    void aPolicysOwnEnvVarIsHeldToTheSameRules() {
        policy("fx", "DryRun", ", modeInjection: {envVar: TRADING_MODE}");
        status("fx", "{\"mode\":\"DryRun\"}");
        awaitRefused(pod("twice", "fx", "DryRun", "env: [{name: TRADING_MODE, value: DryRun}, {name: TRADING_MODE, value: Live}]"),
                "pod twice sets TRADING_MODE (the env var of ExecutionPolicy fx) more than once");
        refused(pod("twice", "fx", "DryRun", "env: [{name: TRADING_MODE, value: DryRun}, {name: TRADING_MODE, value: Live}]"),
                "in container(s) app", "execution-safety-policy-mode");
        refused(pod("live", "fx", "Live", "env: [{name: TRADING_MODE, value: Live}]"),
                "pod live carries mode Live, but ExecutionPolicy fx is not Live", INTEGRITY);
        // Its env var alone, without the annotation the operator writes beside it: Live could go unseen.
        refused(pod("unannotated", "fx", "", "env: [{name: TRADING_MODE, value: Live}]"),
                "other than (or without) its annotation safety.marketintel.io/mode, in container(s) app", "execution-safety-policy-mode");
        admitted(pod("fine", "fx", "DryRun", "env: [{name: TRADING_MODE, value: DryRun}]"));
    }

    @Test
    void anEphemeralContainerAddsNoMode() {
        Kubectl.Result created = kubectl.runWithInput(pod("trader", "momentum", "DryRun", "env: [{name: EXECUTION_MODE, value: DryRun}]"),
                "create", "-n", ns, "-f", "-");
        assertThat(created.exitCode()).as(created.output()).isZero();
        // The namespace's edit role may not add ephemeral containers; the cluster admin may, and is held to the rule.
        Kubectl.Result live = kubectl.run("-n", ns, "debug", "trader", "--image=registry.example/trader:1", "--container=debug",
                "--env=EXECUTION_MODE=Live");
        assertThat(live.exitCode()).as(live.output()).isNotZero();
        assertThat(live.stderr()).contains("pod trader (an ephemeral container added) is annotated safety.marketintel.io/mode=DryRun"
                + " but container(s) debug set EXECUTION_MODE otherwise");
        // kubectl debug as a person uses it: a shell, told no mode.
        Kubectl.Result debug = kubectl.run("-n", ns, "debug", "trader", "--image=registry.example/busybox:1", "--container=shell");
        assertThat(debug.exitCode()).as(debug.output()).isZero();
    }

    @Test
    void liveWithoutAPolicyIsRefusedWhereExecutionPoliciesGovern() {
        String unowned = pod("stray", "", "Live", "env: [{name: EXECUTION_MODE, value: Live}]");
        refused(unowned, "pod stray carries mode Live without the label safety.marketintel.io/policy, in Namespace " + ns
                + ", which ExecutionPolicies govern", "execution-safety-unowned-live");
        refused(deployment("stray", "", "", "env: [{name: EXECUTION_MODE, value: Live}]", ""),
                "Deployment stray's pod template carries mode Live without the label", "execution-safety-unowned-live");
        admitted(pod("dry", "", "", "env: [{name: EXECUTION_MODE, value: DryRun}]"));

        // A namespace no policy governs is not this operator's business.
        String other = Namespaces.create(client, "modeadmission-free");
        for (String manifest : List.of(unowned, pod("own-use", "", "", "env: [{name: EXECUTION_MODE, value: prod}, {name: EXECUTION_MODE, value: x}]"))) {
            Kubectl.Result free = kubectl.runWithInput(manifest, "create", "--dry-run=server", "-n", other, "-f", "-");
            assertThat(free.exitCode()).as(free.output()).isZero();
        }

        // Issue 22: a Namespace the operator has labelled governed is judged with no parameter (binding
        // execution-safety-unowned-live-governed), its policies or not: here the policies' Namespace, then one with none.
        assertThat(kubectl.run("label", "namespace", ns, MetadataNames.GOVERNED_LABEL + "=true").exitCode()).isZero();
        await("judged by the governed binding").atMost(ENFORCED).pollInterval(Duration.ofMillis(250)).until(() -> {
            Kubectl.Result r = as("tom", unowned, "create", "--dry-run=server", "-f", "-");
            return r.exitCode() != 0 && r.stderr().contains("execution-safety-unowned-live-governed");
        });
        assertThat(kubectl.run("label", "namespace", other, MetadataNames.GOVERNED_LABEL + "=true").exitCode()).isZero();
        await("a governed namespace without policies").atMost(ENFORCED).pollInterval(Duration.ofMillis(250)).until(() -> {
            Kubectl.Result r = kubectl.runWithInput(unowned, "create", "--dry-run=server", "-n", other, "-f", "-");
            return r.exitCode() != 0 && r.stderr().contains("pod stray carries mode Live without the label");
        });
        // The label removed (anyone who may write the Namespace may): where policies remain they are the parameters again.
        assertThat(kubectl.run("label", "namespace", ns, MetadataNames.GOVERNED_LABEL + "-").exitCode()).isZero();
        assertThat(kubectl.run("label", "namespace", other, MetadataNames.GOVERNED_LABEL + "-").exitCode()).isZero();
        await("judged with the policies as parameters again").atMost(ENFORCED).pollInterval(Duration.ofMillis(250)).until(() -> {
            Kubectl.Result r = as("tom", unowned, "create", "--dry-run=server", "-f", "-");
            return r.exitCode() != 0 && r.stderr().contains("with binding 'execution-safety-unowned-live'");
        });
        await("admitted where no policy is").atMost(ENFORCED).pollInterval(Duration.ofMillis(250)).until(() ->
                kubectl.runWithInput(unowned, "create", "--dry-run=server", "-n", other, "-f", "-").exitCode() == 0);
    }

    /**
     * Issue 21, item 3: only the operator raises the replicas of a workload a policy governs (by the scale subresource or
     * the workload itself) above the count the Namespace's register of replica ceilings holds for it, Live or not; lowering
     * them, and raising them back up to the count (a GitOps re-apply while stopped), are admitted. Issue 22: the count is
     * read from the Namespace (no parameter), and nobody but the operator changes it.
     */
    @Test
    void aGovernedWorkloadsReplicasAreRaisedOnlyByTheOperator() throws Exception {
        Kubectl.Result created = kubectl.runWithInput(deployment("momentum", "momentum", "DryRun",
                "env: [{name: EXECUTION_MODE, value: DryRun}]", ""), "apply", "-n", ns, "-f", "-");
        assertThat(created.exitCode()).as(created.output()).isZero();
        ceilings("Deployment/momentum=1:momentum:Live");
        String ceiling = "Deployment momentum runs under ExecutionPolicy momentum (Live) at 1 replica(s), the count the operator set"
                + " for the mode: only the operator raises it";
        awaitRefusedAs("tom", null, ceiling, "scale", "deployment", "momentum", "--replicas=3", "--dry-run=server");
        Kubectl.Result scaled = as("tom", null, "scale", "deployment", "momentum", "--replicas=3");
        assertThat(scaled.exitCode()).as(scaled.output()).isNotZero();
        assertThat(scaled.stderr()).contains(ceiling).contains("set spec.replicas.live on the policy (while Live: set spec.mode DryRun"
                + " first, then approve Live again)").contains("execution-safety-replicas");
        Kubectl.Result patched = as("tom", null, "patch", "deployment", "momentum", "--type=merge", "-p", "{\"spec\":{\"replicas\":2}}");
        assertThat(patched.exitCode()).as(patched.output()).isNotZero();
        assertThat(patched.stderr()).contains(ceiling);
        // Lowering is never refused; back up to the count is not a raise above it (the re-apply of a stopped system's count).
        assertThat(as("tom", null, "scale", "deployment", "momentum", "--replicas=0").exitCode()).isZero();
        assertThat(as("tom", null, "scale", "deployment", "momentum", "--replicas=1").exitCode()).isZero();
        // The operator (here the cluster admin, who may patch policy status) raises it.
        assertThat(kubectl.run("scale", "-n", ns, "deployment", "momentum", "--replicas=2").exitCode()).isZero();
        // In DryRun alike, with the key to set; an entry of another workload, or one that does not parse, refuses nothing.
        ceilings("Deployment/momentum=2:momentum:DryRun,Deployment/momentum-other=0:other:Live,Deployment/momentum=x:momentum:Live");
        awaitRefusedAs("tom", null, "Deployment momentum runs under ExecutionPolicy momentum (DryRun) at 2 replica(s)", "scale", "deployment",
                "momentum", "--replicas=5", "--dry-run=server");
        Kubectl.Result dry = as("tom", null, "scale", "deployment", "momentum", "--replicas=5");
        assertThat(dry.stderr()).contains("set spec.replicas.dryRun on the policy").doesNotContain("approve Live");
        // A StatefulSet by its own kind: the Deployment's entry does not cover a StatefulSet of the same name.
        Kubectl.Result sts = kubectl.runWithInput("""
                apiVersion: apps/v1
                kind: StatefulSet
                metadata: {name: momentum}
                spec:
                  replicas: 0
                  serviceName: momentum
                  selector: {matchLabels: {app: momentum-sts}}
                  template:
                    metadata: {labels: {app: momentum-sts}}
                    spec: {containers: [{name: app, image: registry.example/app:1}]}
                """, "apply", "-n", ns, "-f", "-");
        assertThat(sts.exitCode()).as(sts.output()).isZero();
        assertThat(as("tom", null, "scale", "statefulset", "momentum", "--replicas=3", "--dry-run=server").exitCode()).isZero();
        ceilings("Deployment/momentum=2:momentum:DryRun,StatefulSet/momentum=1:momentum:DryRun");
        awaitRefusedAs("tom", null, "StatefulSet momentum runs under ExecutionPolicy momentum (DryRun) at 1 replica(s)", "scale",
                "statefulset", "momentum", "--replicas=3", "--dry-run=server");
        // Nobody but the operator changes the register: not a person who may write the Namespace (a risk officer).
        try (AutoCloseable rita = Users.namespaceWriter(client, "rita", "ns-ceilings-" + ns)) {
            String only = "only the execution-safety operator changes safety.marketintel.io/replica-ceilings";
            awaitRefusedAs("rita", null, only, "annotate", "namespace", ns, "--overwrite", "--dry-run=server",
                    MetadataNames.REPLICA_CEILINGS_ANNOTATION + "=Deployment/momentum=9:momentum:DryRun");
            Kubectl.Result removed = as("rita", null, "annotate", "namespace", ns, MetadataNames.REPLICA_CEILINGS_ANNOTATION + "-");
            assertThat(removed.exitCode()).as(removed.output()).isNotZero();
            assertThat(removed.stderr()).contains(only).contains("not rita").contains("execution-safety-live-register");
        }
        assertThat(client.namespaces().withName(ns).get().getMetadata().getAnnotations())
                .containsEntry(MetadataNames.REPLICA_CEILINGS_ANNOTATION, "Deployment/momentum=2:momentum:DryRun,StatefulSet/momentum=1:momentum:DryRun");
    }

    /** The Namespace's register of replica ceilings as the operator writes it (the cluster admin may, as the operator). */
    private void ceilings(String value) {
        Kubectl.Result r = kubectl.run("annotate", "namespace", ns, "--overwrite", MetadataNames.REPLICA_CEILINGS_ANNOTATION + "=" + value);
        assertThat(r.exitCode()).as(r.output()).isZero();
    }

    /** Admission policies (and their parameters) take a moment to be enforced after a change: poll until refused. */
    private void awaitRefusedAs(String user, String stdin, String message, String... args) {
        await("refused: " + message).atMost(ENFORCED).pollInterval(Duration.ofMillis(250)).until(() -> {
            Kubectl.Result r = as(user, stdin, args);
            return r.exitCode() != 0 && r.stderr().contains(message);
        });
    }

    /**
     * A label is not a policy: Live needs the Namespace's register to name the labelled policy, so a label naming a policy
     * that does not exist, or was deleted, starts nothing Live (found by the insider tier: seed 1796522931586:217); a
     * workload cannot join by its pod template's label alone; and nobody but the operator adds to the register.
     */
    @Test
    void aLabelNamingNoLivePolicyStartsNothingLive() throws Exception {
        status("momentum", "{\"mode\":\"Live\"}");
        assertThat(register()).isEqualTo("momentum");
        // A policy that does not exist.
        refused(deployment("ghost", "ghost", "Live", "env: [{name: EXECUTION_MODE, value: Live}]", ""),
                "Deployment ghost's pod template carries mode Live, but ExecutionPolicy ghost is not Live in Namespace " + ns
                        + " (the Namespace's safety.marketintel.io/live-policies, which the operator keeps, does not name it;"
                        + " a policy that does not exist never is)", INTEGRITY);
        refused(pod("ghost", "ghost", "", "env: [{name: EXECUTION_MODE, value: Live}]"),
                "pod ghost carries mode Live, but ExecutionPolicy ghost is not Live", INTEGRITY);
        // A policy deleted while DryRun: its workloads keep the label, and cannot be edited to Live.
        policy("gone", "DryRun", "");
        status("gone", "{\"mode\":\"DryRun\"}");
        Kubectl.Result created = kubectl.runWithInput(deployment("gone", "gone", "DryRun", "env: [{name: EXECUTION_MODE, value: DryRun}]", ""),
                "apply", "-n", ns, "-f", "-");
        assertThat(created.exitCode()).as(created.output()).isZero();
        Kubectl.Result deleted = kubectl.run("delete", "xp", "gone", "-n", ns, "--wait=true");
        assertThat(deleted.exitCode()).as(deleted.output()).isZero();
        Kubectl.Result toLive = as("tom", null, "patch", "deployment", "gone", "--type=strategic", "-p",
                "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"" + MODE + "\":\"Live\"}},"
                        + "\"spec\":{\"containers\":[{\"name\":\"app\",\"env\":[{\"name\":\"EXECUTION_MODE\",\"value\":\"Live\"}]}]}}}}");
        assertThat(toLive.exitCode()).as(toLive.output()).isNotZero();
        assertThat(toLive.stderr()).contains("ExecutionPolicy gone is not Live in Namespace " + ns).contains(INTEGRITY);
        // Joining a Live system by the pod template's label alone (its pods would be admitted as the Live policy's).
        refused(deployment("sneak", "", "", "", "").replace("      labels: {app: sneak}", "      labels: {app: sneak, " + POLICY + ": momentum}"),
                "Deployment sneak's pod template is labelled safety.marketintel.io/policy=momentum but the Deployment is not", INTEGRITY);

        // The register: a person who may write the Namespace (a risk officer who sets namespace stops) cannot add to it;
        // may take a name out, and still sets a stop.
        try (AutoCloseable rita = Users.namespaceWriter(client, "rita", "ns-annotator-" + ns)) {
            String added = "only the execution-safety operator adds to safety.marketintel.io/live-policies";
            awaitRefusedAs("rita", null, added, "annotate", "namespace", ns, "--overwrite", "--dry-run=server",
                    MetadataNames.LIVE_POLICIES_ANNOTATION + "=momentum,ghost");
            Kubectl.Result forged = as("rita", null, "annotate", "namespace", ns, "--overwrite",
                    MetadataNames.LIVE_POLICIES_ANNOTATION + "=momentum,ghost");
            assertThat(forged.exitCode()).as(forged.output()).isNotZero();
            assertThat(forged.stderr()).contains(added).contains("not added by rita: ghost").contains("execution-safety-live-register");
            // Nor give a policy an env var of her choosing, which would move the envFrom check off EXECUTION_MODE.
            Kubectl.Result envVar = as("rita", null, "annotate", "namespace", ns, "--overwrite",
                    MetadataNames.MODE_ENV_VARS_ANNOTATION + "=momentum=NOT_READ");
            assertThat(envVar.exitCode()).as(envVar.output()).isNotZero();
            assertThat(envVar.stderr()).contains("not added by rita: momentum=NOT_READ").contains("execution-safety-live-register");
            Kubectl.Result stop = as("rita", null, "annotate", "namespace", ns, "--dry-run=server",
                    MetadataNames.EMERGENCY_STOP_ANNOTATION + "=drill");
            assertThat(stop.exitCode()).as(stop.output()).isZero();
            Kubectl.Result removed = as("rita", null, "annotate", "namespace", ns, MetadataNames.LIVE_POLICIES_ANNOTATION + "-");
            assertThat(removed.exitCode()).as(removed.output()).isZero();
            assertThat(register()).isEmpty();
        }
    }

    // --- helpers

    private void policy(String name, String mode, String extraSpec) {
        Kubectl.Result r = kubectl.runWithInput("""
                apiVersion: safety.marketintel.io/v1alpha1
                kind: ExecutionPolicy
                metadata: {name: %s, labels: {test.marketintel.io/operator: none}}
                spec: {mode: %s, workloads: {refs: [{kind: Deployment, name: %s}]}%s}
                """.formatted(name, mode, name, extraSpec), "apply", "-n", ns, "-f", "-");
        assertThat(r.exitCode()).as(r.output()).isZero();
    }

    /** Status as the operator writes it, with the Namespace's register of Live policies kept to it. */
    private void status(String policy, String json) {
        OperatorStatus.write(client, kubectl, ns, policy, json);
    }

    private String register() {
        return OperatorStatus.register(client, ns);
    }

    private static String pod(String name, String policy, String mode, String env) {
        return pod(name, policy, mode, env, "");
    }

    /** A pod with one app container {@code app}; {@code policy} and {@code mode} empty leave out the label and annotation. */
    private static String pod(String name, String policy, String mode, String env, String more) {
        return """
                apiVersion: v1
                kind: Pod
                metadata: {name: %s, labels: {app: x%s}%s}
                spec:
                  containers: [{name: app, image: registry.example/trader:1%s}]
                %s""".formatted(name, policy.isEmpty() ? "" : ", " + POLICY + ": " + policy,
                mode.isEmpty() ? "" : ", annotations: {" + MODE + ": " + mode + "}", env.isEmpty() ? "" : ", " + env,
                more.isEmpty() ? "" : "  " + more + "\n");
    }

    /** A workload as the operator leaves it (label on it and its template, the mode on the template) unless empty. */
    private static String deployment(String name, String policy, String mode, String env, String more) {
        return """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: %s%s}
                spec:
                  replicas: 1
                  selector: {matchLabels: {app: %s}}
                  template:
                    metadata:
                      labels: {app: %s%s}%s
                    spec:
                      containers: [{name: app, image: registry.example/trader:1%s}]
                %s""".formatted(name, policy.isEmpty() ? "" : ", labels: {" + POLICY + ": " + policy + "}", name, name,
                policy.isEmpty() ? "" : ", " + POLICY + ": " + policy,
                mode.isEmpty() ? "" : "\n      annotations: {" + MODE + ": " + mode + "}", env.isEmpty() ? "" : ", " + env,
                more.isEmpty() ? "" : "    " + more + "\n");
    }

    /** Refused to tom, naming the rule and the admission policy that holds it. */
    private void refused(String manifest, String message, String admissionPolicy) {
        Kubectl.Result r = as("tom", manifest, "create", "--dry-run=server", "-f", "-");
        assertThat(r.exitCode()).as(r.output()).isNotZero();
        assertThat(r.stderr()).contains(message).contains(admissionPolicy);
    }

    private void admitted(String manifest) {
        Kubectl.Result r = as("tom", manifest, "create", "--dry-run=server", "-f", "-");
        assertThat(r.exitCode()).as(r.output()).isZero();
    }

    /** Admission policies (and their parameters) take a moment to be enforced after a change: poll a dry run. */
    private void awaitRefused(String manifest, String message) {
        awaitRefused("tom", manifest, message);
    }

    private void awaitRefused(String user, String manifest, String message) {
        awaitRefusedAs(user, manifest, message, "create", "--dry-run=server", "-f", "-");
    }

    /** Admitted when {@code user} creates it (a Live pod: only a workload controller may, see {@link #RS_CONTROLLER}). */
    private void awaitAdmitted(String user, String manifest) {
        await("admitted").atMost(ENFORCED).pollInterval(Duration.ofMillis(250))
                .until(() -> as(user, manifest, "create", "--dry-run=server", "-f", "-").exitCode() == 0);
    }

    private Kubectl.Result as(String user, String stdin, String... args) {
        return users.as(user, stdin, args);
    }
}
