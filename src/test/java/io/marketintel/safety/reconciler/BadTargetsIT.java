package io.marketintel.safety.reconciler;

import static io.marketintel.safety.testing.PolicyTestSupport.awaitPolicy;
import static io.marketintel.safety.testing.PolicyTestSupport.condition;
import static io.marketintel.safety.testing.PolicyTestSupport.kubectlWaitReady;
import static io.marketintel.safety.testing.PolicyTestSupport.kubectlWaitStalled;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.status.Conditions;
import io.marketintel.safety.testing.NamespacedTest;
import io.marketintel.safety.testing.PolicyTestSupport;
import io.marketintel.safety.testing.ControlPlaneResource;
import io.marketintel.safety.testing.TradingSystem;
import io.marketintel.safety.testing.Writes;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

/** Bad targets get a Stalled condition that names the problem; nothing crashes, nothing is touched twice. */
@QuarkusTest
@WithTestResource(value = ControlPlaneResource.class, scope = TestResourceScope.GLOBAL)
class BadTargetsIT extends NamespacedTest {

    @Test
    void unknownWorkloadIsNamed() {
        apply(policy("ghost", "Backtest", "{refs: [{kind: Deployment, name: ghost}]}", ""));
        kubectlWaitStalled(kubectl, ns, "ghost");
        ExecutionPolicy p = PolicyTestSupport.get(client, ns, "ghost");
        assertThat(condition(p, Conditions.STALLED).getReason()).isEqualTo("TargetsNotUsable");
        assertThat(condition(p, Conditions.STALLED).getMessage()).contains("Deployment/ghost not found in namespace " + ns);
        assertThat(condition(p, Conditions.READY).getStatus()).isEqualTo("False");
    }

    @Test
    void selectorMatchingNothingIsNamed() {
        apply(policy("empty", "Backtest", "{selector: {matchLabels: {app.kubernetes.io/part-of: nothing}}}", ""));
        kubectlWaitStalled(kubectl, ns, "empty");
        assertThat(condition(PolicyTestSupport.get(client, ns, "empty"), Conditions.STALLED).getMessage())
                .contains("the selector matches no Deployment or StatefulSet");
    }

    @Test
    void secondPolicyClaimingAWorkloadIsRefusedAndNamesTheOwner() {
        TradingSystem.deployment(client, ns, "shared", "x", 1);
        apply(policy("first", "DryRun", "{refs: [{kind: Deployment, name: shared}]}", ""));
        kubectlWaitReady(kubectl, ns, "first");
        apply(policy("second", "Backtest", "{refs: [{kind: Deployment, name: shared}]}", ""));
        kubectlWaitStalled(kubectl, ns, "second");
        assertThat(condition(PolicyTestSupport.get(client, ns, "second"), Conditions.STALLED).getMessage())
                .contains("Deployment/shared is governed by ExecutionPolicy/first");
        // The owner keeps it: still DryRun, still labelled for "first".
        var d = client.apps().deployments().inNamespace(ns).withName("shared").get();
        assertThat(d.getMetadata().getLabels()).containsEntry(MetadataNames.POLICY_LABEL, "first");
        assertThat(d.getSpec().getTemplate().getMetadata().getAnnotations()).containsEntry(MetadataNames.MODE_ANNOTATION, "DryRun");
        kubectlWaitReady(kubectl, ns, "first");
    }

    @Test
    void workloadDeletedMidWayIsReportedAndTheRestConverges() {
        TradingSystem.deployment(client, ns, "alpha", "x", 1);
        TradingSystem.statefulSet(client, ns, "beta", "x", 1);
        apply(policy("pair", "DryRun", "{refs: [{kind: Deployment, name: alpha}, {kind: StatefulSet, name: beta}]}", ""));
        kubectlWaitReady(kubectl, ns, "pair");

        client.apps().statefulSets().inNamespace(ns).withName("beta").delete();
        PolicyTestSupport.setMode(client, ns, "pair", io.marketintel.safety.api.v1alpha1.ExecutionMode.BACKTEST);
        ExecutionPolicy p = awaitPolicy(client, ns, "pair", "beta reported, alpha in Backtest",
                x -> "TargetsNotUsable".equals(condition(x, Conditions.STALLED).getReason())
                        && x.getStatus().workloads != null && x.getStatus().workloads.size() == 1
                        && x.getStatus().workloads.get(0).mode == io.marketintel.safety.api.v1alpha1.ExecutionMode.BACKTEST);
        assertThat(condition(p, Conditions.STALLED).getMessage()).contains("StatefulSet/beta not found");
    }

    /**
     * Regression (HostileInputIT): the CRD's selector schema checks only types, so a selector with a label value
     * the API server cannot parse was admitted, and every pass failed listing with it (OperatorError, retried
     * forever). It is now reported as a bad target, naming the field.
     */
    @Test
    void anInvalidSelectorIsReportedAsABadTargetNotAnOperatorError() {
        TradingSystem.deployment(client, ns, "alpha", "x", 1);
        apply(policy("badsel", "DryRun", "{selector: {matchLabels: {app: \"a b\"}, matchExpressions: [{key: app, operator: Foo, values: [x]}]}}", ""));
        kubectlWaitStalled(kubectl, ns, "badsel");
        ExecutionPolicy p = PolicyTestSupport.get(client, ns, "badsel");
        assertThat(condition(p, Conditions.STALLED).getReason()).isEqualTo("TargetsNotUsable");
        assertThat(condition(p, Conditions.STALLED).getMessage())
                .contains("the selector is not valid: spec.workloads.selector.matchLabels[\"app\"]: value \"a b\" is not a label value")
                .contains("spec.workloads.selector.matchExpressions[0].operator: \"Foo\" is not one of In, NotIn, Exists, DoesNotExist");
        assertThat(condition(p, Conditions.READY).getReason()).isEqualTo("TargetsNotUsable");
        assertThat(p.getStatus().observedGeneration).isEqualTo(p.getMetadata().getGeneration());
        // Nothing was touched: the workload never got the policy's label or a mode.
        assertThat(client.apps().deployments().inNamespace(ns).withName("alpha").get().getMetadata().getLabels())
                .doesNotContainKey(MetadataNames.POLICY_LABEL);
    }

    /**
     * Regression (HostileInputIT): status is written with server-side apply, decoded as YAML, which refuses
     * U+FFFF, DEL and C1 controls even though JSON carries them. An emergency-stop reason with one made every
     * status write fail: the stop was never recorded, only OperatorError. It is recorded, the character escaped.
     */
    @Test
    void anEmergencyStopReasonWithCharactersYamlRefusesIsRecorded() {
        apply(policy("odd", "Backtest", "{refs: [{kind: Deployment, name: ghost}]}", ""));
        kubectlWaitStalled(kubectl, ns, "odd");
        Writes.edit(client.resources(ExecutionPolicy.class).inNamespace(ns).withName("odd"), p -> {
            p.getMetadata().getAnnotations().put(MetadataNames.EMERGENCY_STOP_ANNOTATION, "fat \uffff finger\u007f");
            return p;
        });
        ExecutionPolicy p = PolicyTestSupport.awaitPolicy(client, ns, "odd", "stop recorded",
                x -> x.getStatus().emergencyStop != null && Boolean.TRUE.equals(x.getStatus().emergencyStop.active));
        assertThat(p.getStatus().emergencyStop.reason).isEqualTo("fat \\uffff finger\\u007f");
        assertThat(condition(p, Conditions.EMERGENCY_STOPPED).getStatus()).isEqualTo("True");
        assertThat(condition(p, Conditions.READY).getReason()).isNotEqualTo("OperatorError");
    }
}
