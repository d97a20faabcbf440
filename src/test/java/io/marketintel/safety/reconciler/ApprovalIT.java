package io.marketintel.safety.reconciler;

import static io.marketintel.safety.testing.PolicyTestSupport.awaitPolicy;
import static io.marketintel.safety.testing.PolicyTestSupport.condition;
import static io.marketintel.safety.testing.PolicyTestSupport.kubectlWaitReady;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.status.Conditions;
import io.marketintel.safety.testing.NamespacedTest;
import io.marketintel.safety.testing.PodHolds;
import io.marketintel.safety.testing.ControlPlaneResource;
import io.marketintel.safety.testing.Kubectl;
import io.marketintel.safety.testing.TradingSystem;
import io.marketintel.safety.testing.Users;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;

/**
 * Four eyes (DESIGN §4) end to end on the real API server: bob (editor, also an approver) asks for Live;
 * alice and carol approve with the command status.approval shows; the operator counts what the rules allow.
 */
@QuarkusTest
@WithTestResource(value = ControlPlaneResource.class, scope = TestResourceScope.GLOBAL)
class ApprovalIT extends NamespacedTest {
    Users users;

    @Override
    protected boolean checkSafetyInvariants() {
        return true;
    }

    @BeforeEach
    void people() {
        users = new Users(client, kubectl, ns).bind("bob", "execution-policy-editor");
        for (String approver : new String[] { "bob", "alice", "carol", "dave" }) {
            users.bind(approver, "execution-approver");
        }
        TradingSystem.deployment(client, ns, "alpha", "fx", 1);
    }

    private void createAsBob(String validity) {
        Kubectl.Result created = users.as("bob", policy("fx", "DryRun", "{refs: [{kind: Deployment, name: alpha}]}", """
                approval: {requiredForLive: 2, validity: %s, approvers: {users: [alice, bob, carol]}}
                replicas: {live: 2}
                """.formatted(validity)), "apply", "-f", "-");
        assertThat(created.exitCode()).as(created.output()).isZero();
        kubectlWaitReady(kubectl, ns, "fx");
    }

    private ExecutionPolicy askForLiveAsBob() {
        Kubectl.Result asked = users.as("bob", null, "patch", "xp", "fx", "--type=merge", "-p", "{\"spec\":{\"mode\":\"Live\"}}");
        assertThat(asked.exitCode()).as(asked.output()).isZero();
        return awaitPolicy(client, ns, "fx", "awaiting approval", p -> p.getStatus().approval != null
                && "AwaitingApproval".equals(condition(p, Conditions.STALLED).getReason()));
    }

    private ExecutionPolicy awaitCount(int n) {
        return awaitPolicy(client, ns, "fx", n + " approvals counted", p -> p.getStatus().approval != null
                && p.getStatus().approval.approvedBy != null && p.getStatus().approval.approvedBy.size() == n);
    }

    @Test
    void twoDistinctApproversOtherThanTheRequesterLetTheEscalationProceed() {
        createAsBob("1h");
        ExecutionPolicy p = askForLiveAsBob();
        String token = p.getStatus().approval.token;
        assertThat(p.getStatus().approval.requester).isEqualTo("bob");
        assertThat(p.getStatus().approval.required).isEqualTo(2);
        assertThat(p.getStatus().approval.command).isEqualTo("kubectl annotate xp fx -n " + ns + " safety.marketintel.io/approve=" + token);
        assertThat(condition(p, Conditions.STALLED).getMessage()).contains("0 of 2 approvals for Live").contains("approve with: kubectl annotate");
        assertThat(condition(p, Conditions.APPROVED).getStatus()).isEqualTo("False");

        // The requester approving their own change is recorded but not counted.
        assertThat(users.approve("bob", "fx", token).exitCode()).isZero();
        p = awaitPolicy(client, ns, "fx", "bob not counted", x -> x.getStatus().approval.rejected != null
                && x.getStatus().approval.rejected.stream().anyMatch(r -> r.user.equals("bob")));
        assertThat(p.getStatus().approval.rejected).singleElement().satisfies(r -> assertThat(r.reason).contains("requested this change"));
        assertThat(condition(p, Conditions.STALLED).getMessage()).contains("bob: requested this change and cannot also approve it");

        // The same approver twice counts once.
        assertThat(users.approve("alice", "fx", token).exitCode()).isZero();
        assertThat(users.approve("alice", "fx", token).exitCode()).isZero();
        p = awaitCount(1);
        assertThat(p.getStatus().mode).isEqualTo(ExecutionMode.DRY_RUN);
        assertThat(condition(p, Conditions.STALLED).getMessage()).contains("1 of 2 approvals for Live (alice)");

        // An approver not named by the policy is refused by the API server.
        Kubectl.Result dave = users.approve("dave", "fx", token);
        assertThat(dave.exitCode()).isNotZero();
        assertThat(dave.stderr()).contains("dave is not an allowed approver of ExecutionPolicy fx");

        assertThat(users.approve("carol", "fx", token).exitCode()).isZero();
        p = awaitPolicy(client, ns, "fx", "Live", x -> x.getStatus().mode == ExecutionMode.LIVE
                && Conditions.isTrue(x.getStatus().conditions, Conditions.READY));
        assertThat(p.getStatus().history.get(0)).satisfies(h -> {
            assertThat(h.to).isEqualTo(ExecutionMode.LIVE);
            assertThat(h.requester).isEqualTo("bob");
            assertThat(h.approvers).containsExactly("alice", "carol");
        });
        assertThat(p.getStatus().approval).as("nothing awaits approval once Live").isNull();
    }

    /**
     * The count raised while the approved escalation is under way (held at Draining: its DryRun pods cannot finish
     * terminating): what was approved is no longer enough, so it is rolled back to DryRun, and Live waits for the new
     * count of approvals of the new change (insider tier, CI at b6eb367: a Live pod ran on 2 of 3).
     */
    @Test
    void anEscalationWhoseApprovalCountIsRaisedUnderWayIsRolledBack() {
        createAsBob("1h");
        String token = askForLiveAsBob().getStatus().approval.token;
        PodHolds.hold(client, ns, "alpha");
        assertThat(users.approve("alice", "fx", token).exitCode()).isZero();
        assertThat(users.approve("carol", "fx", token).exitCode()).isZero();
        awaitPolicy(client, ns, "fx", "escalating, draining", p -> p.getStatus().transition != null
                && p.getStatus().transition.to == ExecutionMode.LIVE && "Draining".equals(p.getStatus().transition.step));

        Kubectl.Result raised = users.as("bob", null, "patch", "xp", "fx", "--type=merge", "-p",
                "{\"spec\":{\"approval\":{\"requiredForLive\":3}}}");
        assertThat(raised.exitCode()).as("asking for more approvals is a tightening: " + raised.output()).isZero();
        ExecutionPolicy p = awaitPolicy(client, ns, "fx", "rolled back", x -> x.getStatus().transition != null
                && "ApprovalsRaised".equals(x.getStatus().transition.trigger));
        assertThat(p.getStatus().transition.to).isEqualTo(ExecutionMode.DRY_RUN);
        PodHolds.release(client, ns);

        p = awaitPolicy(client, ns, "fx", "back in DryRun, awaiting 3", x -> x.getStatus().mode == ExecutionMode.DRY_RUN
                && x.getStatus().transition == null && x.getStatus().approval != null
                && "AwaitingApproval".equals(condition(x, Conditions.STALLED).getReason()));
        assertThat(p.getStatus().history.get(0)).satisfies(h -> {
            assertThat(h.from).isEqualTo(ExecutionMode.LIVE);
            assertThat(h.to).isEqualTo(ExecutionMode.DRY_RUN);
            assertThat(h.trigger).isEqualTo("ApprovalsRaised");
            assertThat(h.outcome).isEqualTo("RolledBack");
        });
        assertThat(p.getStatus().approval.required).isEqualTo(3);
        assertThat(p.getStatus().approval.token).as("a new change, new approvals").isNotEqualTo(token);
        assertThat(condition(p, Conditions.STALLED).getMessage()).contains("0 of 3 approvals for Live");
        assertThat(client.pods().inNamespace(ns).list().getItems()).as("no Live pod ever started")
                .noneMatch(pod -> "Live".equals(pod.getMetadata().getAnnotations().get(
                        io.marketintel.safety.api.v1alpha1.MetadataNames.MODE_ANNOTATION)));
    }

    @Test
    void approvalsForAnEarlierChangeDoNotCount() {
        createAsBob("1h");
        String first = askForLiveAsBob().getStatus().approval.token;
        assertThat(users.approve("alice", "fx", first).exitCode()).isZero();
        awaitCount(1);

        // A new change (any spec edit) needs approvals of its own.
        assertThat(users.as("bob", null, "patch", "xp", "fx", "--type=merge", "-p", "{\"spec\":{\"transitionTimeout\":\"7m\"}}")
                .exitCode()).isZero();
        ExecutionPolicy p = awaitPolicy(client, ns, "fx", "new token", x -> x.getStatus().approval != null
                && !first.equals(x.getStatus().approval.token));
        String second = p.getStatus().approval.token;
        assertThat(users.approve("carol", "fx", second).exitCode()).isZero();
        p = awaitCount(1);
        assertThat(p.getStatus().approval.approvedBy).extracting(a -> a.user).containsExactly("carol");
        assertThat(p.getStatus().approval.rejected).singleElement().satisfies(r -> {
            assertThat(r.user).isEqualTo("alice");
            assertThat(r.reason).contains("approved token " + first + ", an earlier change");
        });
        assertThat(p.getStatus().mode).isEqualTo(ExecutionMode.DRY_RUN);
    }

    /**
     * Issue 21, item 2: the token binds the pod templates of the targets. An approval given before the image changed
     * approves what it was shown (status.approval.templates), not the new image: it no longer counts, and a trader's
     * image change alone makes a new token. The operator's own fields (the mode it writes) are not part of the digest.
     */
    @Test
    void anApprovalGivenBeforeTheImageChangedDoesNotCount() {
        createAsBob("1h");
        ExecutionPolicy asked = askForLiveAsBob();
        String first = asked.getStatus().approval.token;
        assertThat(asked.getStatus().approval.templates).singleElement().asString().startsWith("Deployment/alpha@").hasSize(
                "Deployment/alpha@".length() + io.marketintel.safety.approval.TemplateDigest.LENGTH);
        String shown = asked.getStatus().approval.templates.get(0);
        assertThat(users.approve("alice", "fx", first).exitCode()).isZero();
        awaitCount(1);

        users.bind("tom", "edit");
        Kubectl.Result image = users.as("tom", null, "set", "image", "deployment/alpha", "strategy=registry.example/alpha:2.0-untested");
        assertThat(image.exitCode()).as(image.output()).isZero();
        ExecutionPolicy p = awaitPolicy(client, ns, "fx", "a new token for the new template", x -> x.getStatus().approval != null
                && !first.equals(x.getStatus().approval.token));
        assertThat(p.getStatus().approval.templates).singleElement().asString().startsWith("Deployment/alpha@").isNotEqualTo(shown);
        assertThat(p.getMetadata().getGeneration()).as("the spec did not change").isEqualTo(asked.getMetadata().getGeneration());
        String second = p.getStatus().approval.token;
        assertThat(users.approve("carol", "fx", second).exitCode()).isZero();
        p = awaitCount(1);
        assertThat(p.getStatus().approval.approvedBy).extracting(a -> a.user).containsExactly("carol");
        assertThat(p.getStatus().approval.rejected).singleElement().satisfies(r -> assertThat(r.user).isEqualTo("alice"));
        assertThat(p.getStatus().mode).isEqualTo(ExecutionMode.DRY_RUN);
    }

    /**
     * Issue 17: the status write that records a new observedGeneration shows that generation's approval, never
     * the previous change's token or command: a person who waits for observedGeneration and then reads
     * status.approval.command approves exactly this change.
     */
    @Test
    void theStatusOfANewGenerationNeverShowsThePreviousChangesToken() {
        createAsBob("1h");
        String first = askForLiveAsBob().getStatus().approval.token;

        assertThat(users.as("bob", null, "patch", "xp", "fx", "--type=merge", "-p", "{\"spec\":{\"transitionTimeout\":\"7m\"}}")
                .exitCode()).isZero();
        ExecutionPolicy p = awaitObservedGeneration();
        assertThat(p.getStatus().approval).as("an escalation still waits: this change's approval").isNotNull();
        assertThat(p.getStatus().approval.token).isNotEqualTo(first);
        assertThat(p.getStatus().approval.command).endsWith("=" + p.getStatus().approval.token).doesNotContain(first);
        assertThat(condition(p, Conditions.STALLED).getMessage()).doesNotContain(first);

        // Back to DryRun: nothing awaits approval, and the same write says so.
        assertThat(users.as("bob", null, "patch", "xp", "fx", "--type=merge", "-p", "{\"spec\":{\"mode\":\"DryRun\"}}")
                .exitCode()).isZero();
        p = awaitObservedGeneration();
        assertThat(p.getStatus().approval).as("no escalation, no approval shown").isNull();
        assertThat(condition(p, Conditions.APPROVED).getReason()).isEqualTo("NotRequired");
    }

    private ExecutionPolicy awaitObservedGeneration() {
        return awaitPolicy(client, ns, "fx", "the new generation observed", x -> x.getStatus() != null
                && java.util.Objects.equals(x.getStatus().observedGeneration, x.getMetadata().getGeneration()));
    }

    @Test
    void anExpiredApprovalIsNotCountedUntilGivenAgain() {
        createAsBob("3s");
        String token = askForLiveAsBob().getStatus().approval.token;
        assertThat(users.approve("alice", "fx", token).exitCode()).isZero();
        ExecutionPolicy p = awaitPolicy(client, ns, "fx", "alice expired", x -> x.getStatus().approval.rejected != null
                && x.getStatus().approval.rejected.stream().anyMatch(r -> r.user.equals("alice") && r.reason.contains("expired")));
        assertThat(users.approve("carol", "fx", token).exitCode()).isZero();
        p = awaitCount(1);
        assertThat(condition(p, Conditions.STALLED).getReason()).isEqualTo("AwaitingApproval");
        assertThat(condition(p, Conditions.STALLED).getMessage()).contains("alice: approval expired at");
        assertThat(p.getStatus().mode).isEqualTo(ExecutionMode.DRY_RUN);

        // Approving again renews it; with carol's still valid the escalation proceeds.
        assertThat(users.approve("alice", "fx", token).exitCode()).isZero();
        awaitPolicy(client, ns, "fx", "Live", x -> x.getStatus().mode == ExecutionMode.LIVE);
    }

    @Test
    void withoutItsAdmissionControlTheOperatorCountsNoApprovals() {
        createAsBob("1h");
        String token = askForLiveAsBob().getStatus().approval.token;
        Kubectl.Result removed = kubectl.run("delete", "validatingadmissionpolicybinding", "execution-safety-identity");
        assertThat(removed.exitCode()).as(removed.output()).isZero();
        try {
            ExecutionPolicy p = awaitPolicy(client, ns, "fx", "admission missing noticed",
                    x -> "AdmissionControlMissing".equals(condition(x, Conditions.APPROVED).getReason()));
            assertThat(condition(p, Conditions.APPROVED).getMessage())
                    .contains("ValidatingAdmissionPolicyBinding execution-safety-identity").contains("install k8s/admission");
            assertThat(users.approve("alice", "fx", token).exitCode()).isZero();
            assertThat(users.approve("carol", "fx", token).exitCode()).isZero();
            p = awaitPolicy(client, ns, "fx", "two lines, none counted", x -> x.getStatus().approval.rejected != null
                    && x.getStatus().approval.rejected.size() == 2);
            assertThat(p.getStatus().mode).isEqualTo(ExecutionMode.DRY_RUN);
        } finally {
            io.marketintel.safety.testing.ControlPlane.shared().installAdmission();
        }
        awaitPolicy(client, ns, "fx", "counted once admission is back", x -> x.getStatus().mode == ExecutionMode.LIVE);
    }

    /**
     * The token is bound to the emergency-stop epoch. The stop itself arrives with the kill switch; here the
     * epoch it will advance is advanced directly, and approvals given before it stop counting.
     */
    @Test
    void approvalsFromBeforeAnEmergencyStopDoNotCount() {
        createAsBob("1h");
        String before = askForLiveAsBob().getStatus().approval.token;
        assertThat(users.approve("alice", "fx", before).exitCode()).isZero();
        awaitCount(1);

        Kubectl.Result stopped = kubectl.run("patch", "xp", "fx", "-n", ns, "--subresource=status", "--type=merge",
                "-p", "{\"status\":{\"emergencyStop\":{\"epoch\":1}}}");
        assertThat(stopped.exitCode()).as(stopped.output()).isZero();
        ExecutionPolicy p = awaitPolicy(client, ns, "fx", "new token after the stop epoch", x -> x.getStatus().approval != null
                && !before.equals(x.getStatus().approval.token));
        assertThat(p.getStatus().approval.approvedBy).isEmpty();
        assertThat(p.getStatus().approval.rejected).singleElement().satisfies(r -> {
            assertThat(r.user).isEqualTo("alice");
            assertThat(r.reason).contains("an earlier change");
        });
        assertThat(condition(p, Conditions.STALLED).getMessage()).contains("0 of 2 approvals for Live");
    }
}
