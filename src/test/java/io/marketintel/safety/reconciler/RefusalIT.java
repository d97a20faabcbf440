package io.marketintel.safety.reconciler;

import static io.marketintel.safety.testing.PolicyTestSupport.awaitPolicy;
import static io.marketintel.safety.testing.PolicyTestSupport.condition;
import static io.marketintel.safety.testing.PolicyTestSupport.kubectlWaitReady;
import static io.marketintel.safety.testing.PolicyTestSupport.kubectlWaitStalled;
import static io.marketintel.safety.testing.PolicyTestSupport.setMode;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus.Phase;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.status.Conditions;
import io.marketintel.safety.testing.NamespacedTest;
import io.marketintel.safety.testing.ControlPlaneResource;
import io.marketintel.safety.testing.TradingSystem;
import io.marketintel.safety.testing.Writes;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

/** While a person must act, the policy is Stalled with the reason, and the workloads stay where they were. */
@QuarkusTest
@WithTestResource(value = ControlPlaneResource.class, scope = TestResourceScope.GLOBAL)
class RefusalIT extends NamespacedTest {
    static final String SYSTEM = "{selector: {matchLabels: {app.kubernetes.io/part-of: meanrev}}}";

    @Test
    void backtestToLiveIsRefusedUntilTheSystemGoesThroughDryRun() {
        TradingSystem.deployment(client, ns, "meanrev", "meanrev", 2);
        apply(policy("meanrev", "Backtest", SYSTEM, "approval: {requiredForLive: 0}"));
        kubectlWaitReady(kubectl, ns, "meanrev");

        setMode(client, ns, "meanrev", ExecutionMode.LIVE);
        kubectlWaitStalled(kubectl, ns, "meanrev");
        ExecutionPolicy p = awaitPolicy(client, ns, "meanrev", "refused",
                x -> "BacktestToLiveRefused".equals(condition(x, Conditions.STALLED).getReason()));
        assertThat(condition(p, Conditions.STALLED).getMessage()).contains("Live is reachable only from DryRun");
        assertThat(condition(p, Conditions.READY).getStatus()).isEqualTo("False");
        assertThat(condition(p, Conditions.READY).getReason()).isEqualTo("BacktestToLiveRefused");
        assertThat(p.getStatus().phase).isEqualTo(Phase.Blocked);
        assertThat(p.getStatus().mode).isEqualTo(ExecutionMode.BACKTEST);
        assertThat(client.pods().inNamespace(ns).list().getItems()).hasSize(2)
                .allSatisfy(pod -> assertThat(pod.getMetadata().getAnnotations()).containsEntry(MetadataNames.MODE_ANNOTATION, "Backtest"));
        assertThat(client.v1().events().inNamespace(ns).list().getItems())
                .anySatisfy(e -> {
                    assertThat(e.getReason()).isEqualTo("BacktestToLiveRefused");
                    assertThat(e.getType()).isEqualTo("Warning");
                });

        // The documented way: DryRun first, then Live.
        setMode(client, ns, "meanrev", ExecutionMode.DRY_RUN);
        kubectlWaitReady(kubectl, ns, "meanrev");
        setMode(client, ns, "meanrev", ExecutionMode.LIVE);
        awaitPolicy(client, ns, "meanrev", "Live", x -> x.getStatus().mode == ExecutionMode.LIVE
                && Conditions.isTrue(x.getStatus().conditions, Conditions.READY));
    }

    @Test
    void liveWaitsForApprovalsAndTheSoak() {
        TradingSystem.deployment(client, ns, "meanrev", "meanrev", 1);
        apply(policy("meanrev", "DryRun", SYSTEM, "dryRunSoak: 1h"));
        kubectlWaitReady(kubectl, ns, "meanrev");

        setMode(client, ns, "meanrev", ExecutionMode.LIVE);
        kubectlWaitStalled(kubectl, ns, "meanrev");
        ExecutionPolicy p = awaitPolicy(client, ns, "meanrev", "soak refusal",
                x -> "DryRunSoakIncomplete".equals(condition(x, Conditions.STALLED).getReason()));
        assertThat(condition(p, Conditions.STALLED).getMessage()).contains("of 1h done").contains("left")
                .as("every unmet requirement is listed").contains("; also: 0 of 2 approvals for Live");

        Writes.edit(client.resources(ExecutionPolicy.class).inNamespace(ns).withName("meanrev"), x -> {
            x.getSpec().dryRunSoak = null;
            return x;
        });
        p = awaitPolicy(client, ns, "meanrev", "approval refusal",
                x -> "AwaitingApproval".equals(condition(x, Conditions.STALLED).getReason()));
        assertThat(condition(p, Conditions.STALLED).getMessage()).contains("0 of 2 approvals for Live");
        assertThat(p.getStatus().phase).isEqualTo(Phase.AwaitingApproval);
        assertThat(p.getStatus().mode).isEqualTo(ExecutionMode.DRY_RUN);
    }

    @Test
    void aPolicyCreatedLiveIsAdoptedInBacktestAndRefused() {
        TradingSystem.deployment(client, ns, "meanrev", "meanrev", 2);
        apply(policy("meanrev", "Live", SYSTEM, "approval: {requiredForLive: 0}"));
        ExecutionPolicy p = awaitPolicy(client, ns, "meanrev", "adopted safe and refused",
                x -> x.getStatus().mode == ExecutionMode.BACKTEST
                        && "BacktestToLiveRefused".equals(condition(x, Conditions.STALLED).getReason()));
        assertThat(p.getStatus().history).singleElement().satisfies(h -> {
            assertThat(h.to).isEqualTo(ExecutionMode.BACKTEST);
            assertThat(h.trigger).isEqualTo("Adopting");
        });
        assertThat(client.pods().inNamespace(ns).list().getItems())
                .allSatisfy(pod -> assertThat(pod.getMetadata().getAnnotations()).containsEntry(MetadataNames.MODE_ANNOTATION, "Backtest"));
    }
}
