package io.marketintel.safety.observability;

import static io.marketintel.safety.testing.PolicyTestSupport.ready;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Predicate;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus.Phase;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.testing.ControlPlaneResource;
import io.marketintel.safety.testing.Kubectl;
import io.marketintel.safety.testing.NamespacedTest;
import io.marketintel.safety.testing.PolicyTestSupport;
import io.marketintel.safety.testing.PodHolds;
import io.marketintel.safety.testing.TradingSystem;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * The shipped Argo CD health check (k8s/argocd) run by Lua 5.1 on statuses the operator really wrote: a policy
 * is driven through its phases on the real API server, and at each one the object {@code kubectl get xp -o json}
 * prints is handed to the script. The objects are kept in target/argocd-recorded for inspection.
 */
@QuarkusTest
@WithTestResource(value = ControlPlaneResource.class, scope = TestResourceScope.GLOBAL)
class ArgoHealthIT extends NamespacedTest {
    static final Duration DEADLINE = Duration.ofSeconds(90);
    static final Path RECORDED = Path.of("target", "argocd-recorded");

    @Test
    void everyPhaseTheOperatorWritesMapsToTheExpectedArgoHealth() throws Exception {
        TradingSystem.deployment(client, ns, "alpha", "fx", 1);
        String refs = "{refs: [{kind: Deployment, name: alpha}]}";
        apply(policy("fx", "DryRun", refs, "approval: {requiredForLive: 1}"));
        awaitPolicy("fx", "Active", p -> p.getStatus().phase == Phase.Active && ready(p));
        expect("fx", "active", "Healthy");

        // Transitioning, held at draining.
        hold(true);
        apply(policy("fx", "Backtest", refs, "approval: {requiredForLive: 1}"));
        awaitPolicy("fx", "draining", p -> p.getStatus().transition != null && "Draining".equals(p.getStatus().transition.step));
        expect("fx", "transitioning", "Progressing");
        hold(false);
        awaitPolicy("fx", "Backtest", p -> p.getStatus().mode == ExecutionMode.BACKTEST && ready(p));

        apply(policy("fx", "DryRun", refs, "approval: {requiredForLive: 1}"));
        awaitPolicy("fx", "DryRun", p -> p.getStatus().mode == ExecutionMode.DRY_RUN && ready(p));
        apply(policy("fx", "Live", refs, "approval: {requiredForLive: 1}"));
        awaitPolicy("fx", "awaiting approval", p -> p.getStatus().phase == Phase.AwaitingApproval);
        expect("fx", "awaiting-approval", "Suspended");

        // Blocked by a guard: Degraded.
        apply(policy("fx", "Live", refs, """
                approval: {requiredForLive: 0}
                guards: [{name: cfg, type: Configuration, configuration: {configMaps: [{name: absent}]}}]
                """));
        awaitPolicy("fx", "blocked", p -> p.getStatus().phase == Phase.Blocked);
        expect("fx", "blocked-guards", "Degraded");

        // Emergency stop with pods that cannot go yet: Progressing (issue 20, a stop is done when the pods are gone);
        // then complete, and latched with the annotation gone: Suspended both times.
        hold(true);
        kubectl.run("annotate", "xp", "fx", "-n", ns, MetadataNames.EMERGENCY_STOP_ANNOTATION + "=argo health test");
        awaitPolicy("fx", "stopping", p -> p.getStatus().phase == Phase.Stopping);
        assertThat(expect("fx", "emergency-stopping", "Progressing")).contains("still running").contains("terminating");
        hold(false);
        awaitPolicy("fx", "stopped", p -> p.getStatus().phase == Phase.EmergencyStopped);
        assertThat(expect("fx", "emergency-stopped", "Suspended")).contains("argo health test");
        kubectl.run("annotate", "xp", "fx", "-n", ns, MetadataNames.EMERGENCY_STOP_ANNOTATION + "-");
        awaitPolicy("fx", "latched", p -> p.getStatus().emergencyStop.message.contains("does not resume"));
        assertThat(expect("fx", "emergency-stopped-latched", "Suspended")).contains("argo health test").contains("rearm=");

        // A policy whose workload does not exist: Degraded.
        apply(policy("ghost", "DryRun", "{refs: [{kind: Deployment, name: nowhere}]}", ""));
        awaitPolicy("ghost", "failed", p -> p.getStatus().phase == Phase.Failed);
        expect("ghost", "failed-targets", "Degraded");
    }

    /** Runs the health check on the policy as kubectl prints it; returns the message. */
    private String expect(String name, String label, String health) throws Exception {
        Kubectl.Result got = kubectl.run("get", "xp", name, "-n", ns, "-o", "json");
        assertThat(got.exitCode()).as(got.output()).isZero();
        Files.createDirectories(RECORDED);
        Files.writeString(RECORDED.resolve(label + ".json"), got.stdout());
        JsonNode object = new ObjectMapper().readTree(got.stdout());
        ArgoHealthCheckTest.Health h = ArgoHealthCheckTest.run(ArgoHealthCheckTest.SCRIPT, object);
        assertThat(h.status()).as("%s: %s", label, h.message()).isEqualTo(health);
        assertThat(h.message()).as(label).isNotBlank();
        return h.message();
    }

    private void hold(boolean on) {
        if (on) {
            PodHolds.hold(client, ns, null);
        } else {
            PodHolds.release(client, ns);
        }
    }


    private ExecutionPolicy awaitPolicy(String name, String what, Predicate<ExecutionPolicy> condition) {
        return PolicyTestSupport.awaitPolicy(client, ns, name, what, condition);
    }
}
