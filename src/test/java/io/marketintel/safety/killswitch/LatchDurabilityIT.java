package io.marketintel.safety.killswitch;

import static io.marketintel.safety.testing.PolicyTestSupport.ready;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.function.Predicate;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus.Phase;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.testing.ControlPlaneResource;
import io.marketintel.safety.testing.Kubectl;
import io.marketintel.safety.testing.NamespacedTest;
import io.marketintel.safety.testing.PolicyTestSupport;
import io.marketintel.safety.testing.TradingSystem;
import io.marketintel.safety.testing.Users;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * The latch is durable (issue 19, DESIGN §6, §11): its record is the policy's own status, which only the operator
 * writes, and the API server refuses to delete a latched policy, so neither a trader with {@code edit} nor a GitOps
 * tool that prunes or replaces objects can clear a stop by deleting and re-creating the policy. Users: bob edits
 * (as a trader or a GitOps tool would), alice re-arms.
 */
@QuarkusTest
@WithTestResource(value = ControlPlaneResource.class, scope = TestResourceScope.GLOBAL)
class LatchDurabilityIT extends NamespacedTest {
    static final String STOP = MetadataNames.EMERGENCY_STOP_ANNOTATION;
    static final Duration DEADLINE = Duration.ofSeconds(120);

    @Override
    protected boolean checkSafetyInvariants() {
        return true;
    }

    Users users;

    @BeforeEach
    void people() {
        users = new Users(client, kubectl, ns).bind("bob", "execution-policy-editor").bind("alice", "execution-approver");
    }

    /**
     * Regression (issue 19, "deleting and re-creating a stopped policy clears the latch"): the re-created object
     * started in DryRun with no re-arm. Deleting is now refused while the stop annotation is on the policy and, once
     * it is removed, while status records the latch; a re-arm of that stop is what makes the policy deletable.
     */
    @Test
    void deletingAndRecreatingAStoppedPolicyDoesNotClearTheLatch() {
        stopped();
        Kubectl.Result whileAnnotated = users.as("bob", null, "delete", "xp", "fx", "--wait=false");
        assertThat(whileAnnotated.exitCode()).as(whileAnnotated.output()).isNotZero();
        assertThat(whileAnnotated.stderr()).contains("ExecutionPolicy fx is latched (emergency stop, epoch 1) and cannot be deleted")
                .contains("safety.marketintel.io/rearm=1");

        assertThat(users.as("bob", null, "annotate", "xp", "fx", STOP + "-").exitCode()).isZero();
        awaitPolicy("removal seen", p -> p.getStatus().emergencyStop.message.contains("does not resume"));
        Kubectl.Result afterRemoval = users.as("bob", null, "delete", "xp", "fx", "--wait=false");
        assertThat(afterRemoval.exitCode()).as(afterRemoval.output()).isNotZero();
        assertThat(afterRemoval.stderr()).contains("is latched (emergency stop, epoch 1) and cannot be deleted");
        Kubectl.Result all = users.as("bob", null, "delete", "xp", "--all", "--wait=false");
        assertThat(all.exitCode()).as("a delete of every policy in the namespace, too: " + all.output()).isNotZero();
        assertThat(PolicyTestSupport.get(client, ns, "fx")).as("still there").isNotNull();
        assertThat(replicas()).isZero();

        // Re-armed by a designated person: back in DryRun, and deletable again.
        assertThat(users.as("alice", null, "annotate", "xp", "fx", "safety.marketintel.io/rearm=1").exitCode()).isZero();
        awaitPolicy("resumed in DryRun", p -> p.getStatus().mode == ExecutionMode.DRY_RUN && ready(p)
                && !Boolean.TRUE.equals(p.getStatus().emergencyStop.active));
        Kubectl.Result deleted = users.as("bob", null, "delete", "xp", "fx", "--wait=false");
        assertThat(deleted.exitCode()).as(deleted.output()).isZero();
    }

    /**
     * A GitOps tool replaces objects two ways: by PUT ({@code kubectl replace}, Argo CD's Replace=true), which keeps
     * status and so the latch, even though the manifest in Git carries no stop annotation; and by delete and create
     * ({@code kubectl replace --force}, Flux's force), whose delete is refused. Neither resumes the stopped system.
     */
    @Test
    void aGitOpsReplaceDoesNotClearTheLatch() {
        stopped();
        // The manifest in Git: no stop annotation, and a spec change (a replace of an unchanged spec that drops the
        // requested-by record is refused by execution-safety-identity anyway).
        String inGit = policy("fx", "Backtest", "{refs: [{kind: Deployment, name: alpha}]}", "");
        Kubectl.Result forced = users.as("bob", inGit, "replace", "--force", "-f", "-");
        assertThat(forced.exitCode()).as(forced.output()).isNotZero();
        assertThat(forced.stderr()).contains("cannot be deleted");

        // A PUT must carry the resourceVersion it replaces (custom resources allow no unconditional update).
        String version = PolicyTestSupport.get(client, ns, "fx").getMetadata().getResourceVersion();
        Kubectl.Result put = users.as("bob", inGit.replace("metadata: {name: fx}", "metadata: {name: fx, resourceVersion: '" + version + "'}"),
                "replace", "-f", "-");
        assertThat(put.exitCode()).as(put.output()).isZero();
        ExecutionPolicy p = PolicyTestSupport.get(client, ns, "fx");
        assertThat(p.getMetadata().getAnnotations()).as("the manifest in Git has no stop annotation").doesNotContainKey(STOP);
        assertThat(p.getStatus().emergencyStop.active).as("status outlives a PUT").isTrue();
        Kubectl.Result apply = users.as("bob", inGit, "apply", "--server-side", "--force-conflicts", "--field-manager=argocd-controller", "-f", "-");
        assertThat(apply.exitCode()).as(apply.output()).isZero();

        awaitPolicy("latched after the replace", x -> x.getStatus().phase == Phase.EmergencyStopped
                && x.getStatus().emergencyStop.message.contains("does not resume"));
        // Held: the operator's own passes see the latch; no write scales alpha up (the invariant checker watches).
        await("alpha held at zero").during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(30)).until(() -> replicas() == 0);
        assertThat(PolicyTestSupport.get(client, ns, "fx").getStatus().emergencyStop.epoch).as("the same stop, not a new one").isEqualTo(1L);
    }

    /** fx governs alpha in DryRun, then is stopped by bob, and the operator has recorded the stop. */
    private void stopped() {
        TradingSystem.deployment(client, ns, "alpha", "fx", 2);
        apply(policy("fx", "DryRun", "{refs: [{kind: Deployment, name: alpha}]}", ""));
        awaitPolicy("DryRun and Ready", p -> p.getStatus().mode == ExecutionMode.DRY_RUN && ready(p));
        Kubectl.Result stop = users.as("bob", null, "annotate", "xp", "fx", STOP + "=fat finger");
        assertThat(stop.exitCode()).as(stop.output()).isZero();
        await("alpha at zero").atMost(DEADLINE).pollInterval(Duration.ofMillis(100)).until(() -> replicas() == 0);
        awaitPolicy("stop recorded", p -> p.getStatus().phase == Phase.EmergencyStopped
                && Boolean.TRUE.equals(p.getStatus().emergencyStop.active) && p.getStatus().emergencyStop.epoch == 1L);
    }

    private ExecutionPolicy awaitPolicy(String what, Predicate<ExecutionPolicy> condition) {
        return PolicyTestSupport.awaitPolicy(client, ns, "fx", what, condition);
    }

    private int replicas() {
        return client.apps().deployments().inNamespace(ns).withName("alpha").get().getSpec().getReplicas();
    }
}
