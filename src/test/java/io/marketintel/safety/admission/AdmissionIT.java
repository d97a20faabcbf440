package io.marketintel.safety.admission;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.marketintel.safety.testing.Kubectl;
import io.marketintel.safety.testing.NamespacedTest;
import io.marketintel.safety.testing.Users;

/**
 * DESIGN §4 on the real API server with impersonation: who requested and who approved is recorded by the
 * API server from the request identity; forgeries and role violations are refused at write time.
 * Users: bob edits policies, alice/carol/mallory approve, dave has neither role.
 */
class AdmissionIT extends NamespacedTest {
    static final String APPROVALS = "safety.marketintel.io/approvals";
    static final String REQUESTED_BY = "safety.marketintel.io/requested-by";

    Users users;

    @BeforeEach
    void setUp() {
        users = new Users(client, kubectl, ns).bind("bob", "execution-policy-editor");
        for (String approver : new String[] { "alice", "carol", "mallory" }) {
            users.bind(approver, "execution-approver");
        }
        Kubectl.Result created = as("bob", """
                apiVersion: safety.marketintel.io/v1alpha1
                kind: ExecutionPolicy
                metadata: {name: momentum, labels: {test.marketintel.io/operator: none}}
                spec: {mode: DryRun, workloads: {refs: [{kind: Deployment, name: momentum}]}}
                """, "apply", "-f", "-");
        assertThat(created.exitCode()).as(created.output()).isZero();
        // No operator acts on it (the label); status is written here as the operator would: a change awaits approval.
        status("{\"approval\":{\"token\":\"3f9a1c2e7b40\"}}");
    }

    /**
     * Issue 19 ("group-listed approvers get the same checks as named ones"): an approval can only name the token
     * status.approval shows when it is written, so the API server checks the writer, by name and by group, against the
     * approver lists in force for exactly that change, and nobody approves in advance a change not shown yet.
     */
    @Test
    void anApprovalCanOnlyNameTheTokenStatusShows() {
        Kubectl.Result other = as("alice", null, "annotate", "xp", "momentum", "safety.marketintel.io/approve=0123456789ab");
        assertThat(other.exitCode()).as(other.output()).isNotZero();
        assertThat(other.stderr()).contains("\"alice 0123456789ab\" does not approve the change awaiting approval")
                .contains("awaits token 3f9a1c2e7b40").contains("safety.marketintel.io/approve=3f9a1c2e7b40");
        status("{\"approval\":null}");
        Kubectl.Result none = as("alice", null, "annotate", "xp", "momentum", "safety.marketintel.io/approve=3f9a1c2e7b40");
        assertThat(none.exitCode()).as(none.output()).isNotZero();
        assertThat(none.stderr()).contains("ExecutionPolicy momentum awaits no approval");
        assertThat(annotation(APPROVALS)).isNull();
    }

    @Test
    void theApiServerRecordsTheRequesterOfEverySpecChange() {
        assertThat(annotation(REQUESTED_BY)).isEqualTo("bob");
        users.bind("erin", "execution-policy-editor");
        Kubectl.Result changed = as("erin", null, "patch", "xp", "momentum", "--type=merge", "-p", "{\"spec\":{\"mode\":\"Backtest\"}}");
        assertThat(changed.exitCode()).as(changed.output()).isZero();
        assertThat(annotation(REQUESTED_BY)).isEqualTo("erin");
    }

    @Test
    void nobodyCanWriteTheRequesterByHand() {
        Kubectl.Result forged = as("bob", null, "annotate", "xp", "momentum", "--overwrite", REQUESTED_BY + "=alice");
        assertThat(forged.exitCode()).isNotZero();
        assertThat(forged.stderr()).contains("requested-by is recorded by the API server when the spec changes");
        assertThat(annotation(REQUESTED_BY)).isEqualTo("bob");
    }

    @Test
    void anApproverApprovesWithOneCommandAndTheApiServerNamesThem() {
        Kubectl.Result approved = as("alice", null, "annotate", "xp", "momentum", "safety.marketintel.io/approve=3f9a1c2e7b40");
        assertThat(approved.exitCode()).as(approved.output()).isZero();
        Kubectl.Result again = as("carol", null, "annotate", "xp", "momentum", "safety.marketintel.io/approve=3f9a1c2e7b40");
        assertThat(again.exitCode()).as(again.output()).isZero();
        assertThat(annotation(APPROVALS)).isEqualTo("alice 3f9a1c2e7b40\ncarol 3f9a1c2e7b40");
        assertThat(annotation("safety.marketintel.io/approve")).as("consumed by the API server").isNull();
    }

    @Test
    void mallorysApprovalNamingAliceIsRejected() {
        Kubectl.Result forged = as("mallory", null, "annotate", "xp", "momentum", APPROVALS + "=alice 3f9a1c2e7b40");
        assertThat(forged.exitCode()).isNotZero();
        assertThat(forged.stderr()).contains("an approval must be written by the approver it names")
                .contains("mallory may not add \"alice 3f9a1c2e7b40\"");
        // Smuggling a second line through the approve command is caught the same way.
        Kubectl.Result smuggled = as("mallory", null, "annotate", "xp", "momentum",
                "safety.marketintel.io/approve=x\nalice 3f9a1c2e7b40");
        assertThat(smuggled.exitCode()).isNotZero();
        assertThat(smuggled.stderr()).contains("mallory may not add \"alice 3f9a1c2e7b40\"");
        assertThat(annotation(APPROVALS)).isNull();
    }

    /**
     * Regression (issue 19, "one approver alone supplies both Live approvals"): alice approved with the value
     * {@code "bob <token>"}, the API server wrote {@code "alice bob <token>"}, which passed the old rule (the line starts
     * with "alice ") and counted as a second approver named "alice bob". The line's identity is now exactly its writer.
     */
    @Test
    void oneApproverCannotPoseAsASecondApproverInsideTheLine() {
        Kubectl.Result posing = as("alice", null, "annotate", "xp", "momentum", "safety.marketintel.io/approve=bob 3f9a1c2e7b40");
        assertThat(posing.exitCode()).as(posing.output()).isNotZero();
        assertThat(posing.stderr()).contains("with no space in the token").contains("alice may not add \"alice bob 3f9a1c2e7b40\"");
        Kubectl.Result direct = as("alice", null, "annotate", "xp", "momentum", APPROVALS + "=alice bob 3f9a1c2e7b40");
        assertThat(direct.exitCode()).as(direct.output()).isNotZero();
        Kubectl.Result trailing = as("alice", null, "annotate", "xp", "momentum", "safety.marketintel.io/approve=3f9a1c2e7b40 ");
        assertThat(trailing.exitCode()).as("a trailing space would leave a line that is no approval").isNotZero();
        assertThat(annotation(APPROVALS)).isNull();
        Kubectl.Result own = as("alice", null, "annotate", "xp", "momentum", "safety.marketintel.io/approve=3f9a1c2e7b40");
        assertThat(own.exitCode()).as(own.output()).isZero();
        assertThat(annotation(APPROVALS)).isEqualTo("alice 3f9a1c2e7b40");
    }

    /**
     * Regression (issue 19, "the same trick works for a requester who also holds the approve verb"): erin asked for the
     * change and approved it as {@code approve=alice <token>}; the line {@code "erin alice <token>"} counted as an
     * approver other than the requester. It is refused like any line whose identity is not exactly its writer.
     */
    @Test
    void aRequesterWhoAlsoApprovesCannotPoseAsAnotherApprover() {
        users.bind("erin", "execution-policy-editor").bind("erin", "execution-approver");
        Kubectl.Result asked = as("erin", null, "patch", "xp", "momentum", "--type=merge", "-p", "{\"spec\":{\"mode\":\"Backtest\"}}");
        assertThat(asked.exitCode()).as(asked.output()).isZero();
        assertThat(annotation(REQUESTED_BY)).isEqualTo("erin");
        Kubectl.Result posing = as("erin", null, "annotate", "xp", "momentum", "safety.marketintel.io/approve=alice 3f9a1c2e7b40");
        assertThat(posing.exitCode()).as(posing.output()).isNotZero();
        assertThat(posing.stderr()).contains("erin may not add \"erin alice 3f9a1c2e7b40\"");
        assertThat(annotation(APPROVALS)).isNull();
        // Approving as themselves is accepted and recorded under their name: the operator never counts the requester.
        Kubectl.Result own = as("erin", null, "annotate", "xp", "momentum", "safety.marketintel.io/approve=3f9a1c2e7b40");
        assertThat(own.exitCode()).as(own.output()).isZero();
        assertThat(io.marketintel.safety.approval.ApprovalLine.parse(annotation(APPROVALS)))
                .extracting(io.marketintel.safety.approval.ApprovalLine::user).containsExactly("erin");
    }

    /**
     * Regression (issue 19, "the operator's own approver-name check is empty whenever approvers are listed by group"):
     * with approvers listed by group, as in every sample, the API server checks each approval's writer against the
     * group when it is written, and accepts only the token status shows, so the list the token binds is the list
     * that was checked. A user of the approver role outside the group is refused; user names as authenticators give
     * them (with spaces, e-mail addresses) approve and re-arm under exactly their own name.
     */
    @Test
    void groupListedApproversGetTheSameChecksAsNamedOnes() {
        Kubectl.Result listed = kubectl.run("patch", "xp", "momentum", "-n", ns, "--type=merge", "-p",
                "{\"spec\":{\"approval\":{\"approvers\":{\"groups\":[\"risk-officers\"]}}}}");
        assertThat(listed.exitCode()).as(listed.output()).isZero();
        status("{\"approval\":{\"token\":\"3f9a1c2e7b40\"}}");
        users.bind("Risk Officer", "execution-approver").bind("carol@desk.example", "execution-approver");

        Kubectl.Result outside = as("mallory", null, "annotate", "xp", "momentum", "safety.marketintel.io/approve=3f9a1c2e7b40");
        assertThat(outside.exitCode()).as("holds the role, not in the group: " + outside.output()).isNotZero();
        assertThat(outside.stderr()).contains("mallory is not an allowed approver of ExecutionPolicy momentum");
        Kubectl.Result early = users.as("Risk Officer", null, "--as-group=risk-officers", "annotate", "xp", "momentum",
                "safety.marketintel.io/approve=0123456789ab");
        assertThat(early.exitCode()).as("a token status does not show: " + early.output()).isNotZero();

        for (String member : new String[] { "Risk Officer", "carol@desk.example" }) {
            Kubectl.Result ok = users.as(member, null, "--as-group=risk-officers", "annotate", "xp", "momentum",
                    "safety.marketintel.io/approve=3f9a1c2e7b40");
            assertThat(ok.exitCode()).as(member + ": " + ok.output()).isZero();
        }
        assertThat(io.marketintel.safety.approval.ApprovalLine.parse(annotation(APPROVALS)))
                .extracting(io.marketintel.safety.approval.ApprovalLine::user).containsExactly("Risk Officer", "carol@desk.example");

        status("{\"emergencyStop\":{\"active\":true,\"epoch\":2}}");
        Kubectl.Result rearm = users.as("Risk Officer", null, "annotate", "xp", "momentum", "safety.marketintel.io/rearm=2");
        assertThat(rearm.exitCode()).as(rearm.output()).isZero();
        assertThat(io.marketintel.safety.killswitch.Latch.parseRearm(annotation("safety.marketintel.io/rearmed-by")))
                .contains(new io.marketintel.safety.killswitch.Latch.Rearm("Risk Officer", 2));
    }

    /**
     * Regression (HostileInputIT): a forged line with a 100,000-character token made the refusal's message longer
     * than the API server allows, so it said only "failed expression: size(variables.forged) == 0". The forged
     * lines are now shown cut short, and the policy carries a plain fallback message.
     */
    @Test
    void aForgedApprovalWithAHugeTokenIsRefusedNamingTheForger() {
        Kubectl.Result forged = as("mallory", null, "annotate", "xp", "momentum", APPROVALS + "=alice " + "0".repeat(100_000));
        assertThat(forged.exitCode()).isNotZero();
        assertThat(forged.stderr()).contains("an approval must be written by the approver it names")
                .contains("mallory may not add \"alice " + "0".repeat(74) + "...\"").doesNotContain("failed expression");
        assertThat(annotation(APPROVALS)).isNull();
    }

    /**
     * Regression (issue 19, "a re-arm given before a stop releases that stop once the stop annotation is removed"):
     * alice wrote {@code rearm=1} while nothing was stopped; the next stop was epoch 1, and removing its annotation
     * resumed. A re-arm can now only name the stop or open circuit breaker status records when it is written.
     */
    @Test
    void aReArmGivenBeforeAStopIsRefused() {
        Kubectl.Result early = as("alice", null, "annotate", "xp", "momentum", "safety.marketintel.io/rearm=1");
        assertThat(early.exitCode()).as(early.output()).isNotZero();
        assertThat(early.stderr()).contains("ExecutionPolicy momentum has no emergency stop, open circuit breaker or risk monitor hold to re-arm")
                .contains("not epoch 1");
        assertThat(annotation("safety.marketintel.io/rearmed-by")).isNull();

        // Stopped at epoch 3 (as the operator records it): only 3 may be re-armed.
        status("{\"emergencyStop\":{\"active\":true,\"epoch\":3}}");
        Kubectl.Result next = as("alice", null, "annotate", "xp", "momentum", "safety.marketintel.io/rearm=4");
        assertThat(next.exitCode()).as(next.output()).isNotZero();
        assertThat(next.stderr()).contains("the re-arm names epoch 4, but the stop to re-arm on ExecutionPolicy momentum is epoch 3")
                .contains("safety.marketintel.io/rearm=3");
        Kubectl.Result padded = as("alice", null, "annotate", "xp", "momentum", "safety.marketintel.io/rearm=03");
        assertThat(padded.exitCode()).as("the epoch exactly as status shows it").isNotZero();
        Kubectl.Result now = as("alice", null, "annotate", "xp", "momentum", "safety.marketintel.io/rearm=3");
        assertThat(now.exitCode()).as(now.output()).isZero();
        assertThat(annotation("safety.marketintel.io/rearmed-by")).isEqualTo("alice 3");

        // Released (active false, breaker closed): nothing left to re-arm, not even the same epoch by someone else.
        status("{\"emergencyStop\":{\"active\":false,\"epoch\":3},\"circuitBreaker\":{\"state\":\"Closed\"}}");
        Kubectl.Result after = as("carol", null, "annotate", "xp", "momentum", "safety.marketintel.io/rearm=3");
        assertThat(after.exitCode()).as(after.output()).isNotZero();
        assertThat(after.stderr()).contains("has no emergency stop, open circuit breaker or risk monitor hold to re-arm");

        // A tripped circuit breaker is re-armed the same way, by its own epoch.
        status("{\"emergencyStop\":{\"active\":false,\"epoch\":4},\"circuitBreaker\":{\"state\":\"Open\"}}");
        Kubectl.Result breaker = as("carol", null, "annotate", "xp", "momentum", "safety.marketintel.io/rearm=4");
        assertThat(breaker.exitCode()).as(breaker.output()).isZero();
        assertThat(annotation("safety.marketintel.io/rearmed-by")).isEqualTo("carol 4");

        // A risk monitor's hold in DryRun (issue 23) too, by its own epoch.
        status("{\"emergencyStop\":{\"active\":false,\"epoch\":5},\"circuitBreaker\":{\"state\":\"Closed\"},"
                + "\"monitorHold\":{\"active\":true,\"monitor\":\"order-rate\"}}");
        Kubectl.Result wrongHold = as("alice", null, "annotate", "--overwrite", "xp", "momentum", "safety.marketintel.io/rearm=4");
        assertThat(wrongHold.exitCode()).as(wrongHold.output()).isNotZero();
        assertThat(wrongHold.stderr()).contains("is epoch 5");
        Kubectl.Result hold = as("alice", null, "annotate", "--overwrite", "xp", "momentum", "safety.marketintel.io/rearm=5");
        assertThat(hold.exitCode()).as(hold.output()).isZero();
        assertThat(annotation("safety.marketintel.io/rearmed-by")).isEqualTo("alice 5");
    }

    /** Writes status as the operator would (only its ServiceAccount may, through the status subresource). */
    private void status(String json) {
        Kubectl.Result r = kubectl.run("patch", "xp", "momentum", "-n", ns, "--subresource=status", "--type=merge",
                "-p", "{\"status\":" + json + "}");
        assertThat(r.exitCode()).as(r.output()).isZero();
    }

    @Test
    void anEditorCannotApproveAndAnApproverCannotChangeTheSpec() {
        Kubectl.Result editorApproves = as("bob", null, "annotate", "xp", "momentum", "safety.marketintel.io/approve=3f9a1c2e7b40");
        assertThat(editorApproves.exitCode()).isNotZero();
        assertThat(editorApproves.stderr()).contains("bob may not approve ExecutionPolicies")
                .contains("execution-approver");

        Kubectl.Result approverEdits = as("alice", null, "patch", "xp", "momentum", "--type=merge", "-p", "{\"spec\":{\"mode\":\"Backtest\"}}");
        assertThat(approverEdits.exitCode()).isNotZero();
        assertThat(approverEdits.stderr()).contains("alice may not change the spec").contains("execution-policy-editor");

        Kubectl.Result stranger = as("dave", null, "annotate", "xp", "momentum", "safety.marketintel.io/approve=3f9a1c2e7b40");
        assertThat(stranger.exitCode()).isNotZero();
        assertThat(stranger.stderr()).contains("forbidden");
    }

    private Kubectl.Result as(String user, String stdin, String... args) {
        return users.as(user, stdin, args);
    }

    private String annotation(String key) {
        var p = client.genericKubernetesResources("safety.marketintel.io/v1alpha1", "ExecutionPolicy").inNamespace(ns)
                .withName("momentum").get();
        return p.getMetadata().getAnnotations() == null ? null : p.getMetadata().getAnnotations().get(key);
    }
}
