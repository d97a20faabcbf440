package io.marketintel.safety.admission;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Map;

import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.testing.ControlPlane;
import io.marketintel.safety.testing.Kubectl;
import io.marketintel.safety.testing.NamespacedTest;
import io.marketintel.safety.testing.PolicyTestSupport;
import io.marketintel.safety.testing.Users;

/**
 * DESIGN §6 on the real API server with impersonation: whoever RBAC lets patch a policy, a Namespace or
 * ExecutionSafety/global may pull the emergency stop, and the API server records who did; only holders of
 * the "rearm" verb re-arm a policy, under their own name. Users: bob edits policies, alice/mallory approve
 * (execution-approver, which carries "rearm"), trader may only patch the test Namespace.
 */
class EmergencyStopAdmissionIT extends NamespacedTest {
    static final String STOP = "safety.marketintel.io/emergency-stop";
    static final String STOP_BY = "safety.marketintel.io/emergency-stop-by";
    static final String STOP_COUNT = "safety.marketintel.io/emergency-stop-count";
    static final String REARM = "safety.marketintel.io/rearm";
    static final String REARMED_BY = "safety.marketintel.io/rearmed-by";
    static final String XP = "ExecutionPolicy";

    /** The username kubectl's own credentials map to (the cluster admin of the test control plane). */
    private static volatile String admin;
    private static volatile boolean enforced;

    Users users;

    @BeforeEach
    void setUp() {
        users = new Users(client, kubectl, ns).bind("bob", "execution-policy-editor");
        users.bind("alice", "execution-approver").bind("mallory", "execution-approver");
        Kubectl.Result created = as("bob", policy("momentum", ""), "apply", "-f", "-");
        assertThat(created.exitCode()).as(created.output()).isZero();
        // Stopped at epoch 3 as the operator records it: a re-arm can only name a stop that exists (issue 19).
        stoppedAt(3);
        awaitEnforced();
    }

    /** Writes status as the operator would for a stop of {@code epoch} (only its ServiceAccount may). */
    private void stoppedAt(long epoch) {
        Kubectl.Result r = kubectl.run("patch", "xp", "momentum", "-n", ns, "--subresource=status", "--type=merge",
                "-p", "{\"status\":{\"emergencyStop\":{\"active\":true,\"epoch\":" + epoch + "}}}");
        assertThat(r.exitCode()).as(r.output()).isZero();
    }

    @Test
    void anEditorStopsAPolicyAndTheApiServerNamesThem() {
        Kubectl.Result stopped = as("bob", null, "annotate", "xp", "momentum", STOP + "=fat finger on the order size");
        assertThat(stopped.exitCode()).as(stopped.output()).isZero();
        assertThat(annotations(XP, "momentum")).containsEntry(STOP_BY, "bob");

        // A new reason is a new stop, recorded under whoever gave it (an approver may patch, so may stop).
        Kubectl.Result again = as("alice", null, "annotate", "xp", "momentum", "--overwrite", STOP + "=venue halted");
        assertThat(again.exitCode()).as(again.output()).isZero();
        assertThat(annotations(XP, "momentum")).containsEntry(STOP_BY, "alice");

        // Created already stopped: stamped on CREATE as well, whatever the manifest claims.
        Kubectl.Result born = as("bob", policy("stopped-at-birth", "annotations: {" + STOP + ": drill, " + STOP_BY + ": alice}"),
                "apply", "-f", "-");
        assertThat(born.exitCode()).as(born.output()).isZero();
        assertThat(annotations(XP, "stopped-at-birth")).containsEntry(STOP_BY, "bob");
    }

    @Test
    void nobodyWritesWhoStoppedByHand() {
        Kubectl.Result forgedBeforeStop = as("bob", null, "annotate", "xp", "momentum", STOP_BY + "=alice");
        assertThat(forgedBeforeStop.exitCode()).isNotZero();
        assertThat(forgedBeforeStop.stderr()).contains("emergency-stop-by is recorded by the API server")
                .contains("bob may not write \"alice\"")
                .contains("kubectl annotate xp momentum -n " + ns + " " + STOP + "=\"<reason>\"");

        assertThat(as("bob", null, "annotate", "xp", "momentum", STOP + "=drill").exitCode()).isZero();
        Kubectl.Result forged = as("mallory", null, "annotate", "xp", "momentum", "--overwrite", STOP_BY + "=alice");
        assertThat(forged.exitCode()).isNotZero();
        assertThat(forged.stderr()).contains("mallory may not write \"alice\"");
        // Even one's own name: the stop was bob's.
        Kubectl.Result claimed = as("mallory", null, "annotate", "xp", "momentum", "--overwrite", STOP_BY + "=mallory");
        assertThat(claimed.exitCode()).isNotZero();
        assertThat(claimed.stderr()).contains("mallory may not rewrite it otherwise");
        Kubectl.Result erased = as("mallory", null, "annotate", "xp", "momentum", STOP_BY + "-");
        assertThat(erased.exitCode()).isNotZero();
        assertThat(erased.stderr()).contains("can only be removed together with " + STOP);
        assertThat(annotations(XP, "momentum")).containsEntry(STOP_BY, "bob");

        // The operator's pass that sees this stop records its id (status.stopsSeen.policy); only then may it go.
        Kubectl.Result seen = kubectl.run("patch", "xp", "momentum", "-n", ns, "--subresource=status", "--type=merge", "-p",
                "{\"status\":{\"stopsSeen\":{\"policy\":\"" + annotations(XP, "momentum").get(MetadataNames.EMERGENCY_STOP_ID_ANNOTATION) + "\"}}}");
        assertThat(seen.exitCode()).as(seen.output()).isZero();
        Kubectl.Result both = as("bob", null, "annotate", "xp", "momentum", STOP + "-", STOP_BY + "-");
        assertThat(both.exitCode()).as(both.output()).isZero();
        assertThat(annotations(XP, "momentum")).doesNotContainKeys(STOP, STOP_BY);
    }

    /**
     * Issue 19 (found by the insider tier): a stop set and removed before the operator recorded it was lost, and the
     * policy could then be deleted and re-created unlatched. A policy's stop annotation can only be removed once status
     * records the stop.
     */
    @Test
    void aPolicysStopCannotBeRemovedBeforeTheOperatorRecordedIt() {
        Kubectl.Result born = as("bob", policy("unseen", ""), "apply", "-f", "-");
        assertThat(born.exitCode()).as(born.output()).isZero();
        assertThat(as("bob", null, "annotate", "xp", "unseen", STOP + "=fat finger").exitCode()).isZero();
        Kubectl.Result early = as("bob", null, "annotate", "xp", "unseen", STOP + "-", STOP_BY + "-");
        assertThat(early.exitCode()).isNotZero();
        assertThat(early.stderr()).contains("the emergency stop on ExecutionPolicy unseen cannot be removed before the operator has recorded it");
        // The usual command removes the stop alone and leaves the stamp: refused the same (issue 20; it was not checked).
        Kubectl.Result stopOnly = as("bob", null, "annotate", "xp", "unseen", STOP + "-");
        assertThat(stopOnly.exitCode()).isNotZero();
        assertThat(stopOnly.stderr()).contains("the emergency stop on ExecutionPolicy unseen cannot be removed before the operator has recorded it");
        Kubectl.Result delete = as("bob", null, "delete", "xp", "unseen", "--wait=false");
        assertThat(delete.exitCode()).as("nor deleted while it carries the stop").isNotZero();

        // The API server named this stop; the operator records that name when its pass sees the stop.
        String first = annotations("ExecutionPolicy", "unseen").get(MetadataNames.EMERGENCY_STOP_ID_ANNOTATION);
        assertThat(first).as("the stop's id, stamped by the API server").isNotBlank();
        Kubectl.Result recorded = kubectl.run("patch", "xp", "unseen", "-n", ns, "--subresource=status", "--type=merge",
                "-p", "{\"status\":{\"emergencyStop\":{\"active\":true,\"epoch\":1},\"stopsSeen\":{\"policy\":\"" + first + "\"}}}");
        assertThat(recorded.exitCode()).as(recorded.output()).isZero();
        Kubectl.Result removed = as("bob", null, "annotate", "xp", "unseen", STOP + "-", STOP_BY + "-");
        assertThat(removed.exitCode()).as(removed.output()).isZero();
    }

    @Test
    void aSecondStopOnALatchedPolicyCannotBeRemovedBeforeTheOperatorRecordedThatStop() {
        // Found by the insider tier: status showed the first stop active, so a second one, set while the first was still
        // latched (its re-arm written, not yet acted on), could be removed unseen and the re-arm released both.
        Kubectl.Result born = as("bob", policy("twice", ""), "apply", "-f", "-");
        assertThat(born.exitCode()).as(born.output()).isZero();
        assertThat(as("bob", null, "annotate", "xp", "twice", STOP + "=first").exitCode()).isZero();
        String first = annotations("ExecutionPolicy", "twice").get(MetadataNames.EMERGENCY_STOP_ID_ANNOTATION);
        Kubectl.Result recorded = kubectl.run("patch", "xp", "twice", "-n", ns, "--subresource=status", "--type=merge",
                "-p", "{\"status\":{\"emergencyStop\":{\"active\":true,\"epoch\":1},\"stopsSeen\":{\"policy\":\"" + first + "\"}}}");
        assertThat(recorded.exitCode()).as(recorded.output()).isZero();
        assertThat(as("bob", null, "annotate", "xp", "twice", STOP + "-").exitCode()).as("the first stop, recorded, goes").isZero();

        // A second stop while the first is still latched gets a name of its own; status still names the first.
        assertThat(as("bob", null, "annotate", "xp", "twice", STOP + "=second").exitCode()).isZero();
        String second = annotations("ExecutionPolicy", "twice").get(MetadataNames.EMERGENCY_STOP_ID_ANNOTATION);
        assertThat(second).isNotBlank().isNotEqualTo(first);
        Kubectl.Result early = as("bob", null, "annotate", "xp", "twice", STOP + "-");
        assertThat(early.exitCode()).as("status shows a stop active, but not this one").isNotZero();
        assertThat(early.stderr()).contains("cannot be removed before the operator has recorded it");

        // Nobody names a stop by hand, nor drops the name while the stop is there.
        Kubectl.Result forged = as("bob", null, "annotate", "xp", "twice", "--overwrite", MetadataNames.EMERGENCY_STOP_ID_ANNOTATION + "=" + first);
        assertThat(forged.exitCode()).isNotZero();
        assertThat(forged.stderr()).contains("emergency-stop-id is recorded by the API server");
        Kubectl.Result dropped = as("bob", null, "annotate", "xp", "twice", MetadataNames.EMERGENCY_STOP_ID_ANNOTATION + "-");
        assertThat(dropped.exitCode()).isNotZero();
        assertThat(dropped.stderr()).contains("it can only be removed together with safety.marketintel.io/emergency-stop");

        Kubectl.Result seen = kubectl.run("patch", "xp", "twice", "-n", ns, "--subresource=status", "--type=merge",
                "-p", "{\"status\":{\"stopsSeen\":{\"policy\":\"" + second + "\"}}}");
        assertThat(seen.exitCode()).as(seen.output()).isZero();
        Kubectl.Result removed = as("bob", null, "annotate", "xp", "twice", STOP + "-");
        assertThat(removed.exitCode()).as(removed.output()).isZero();
    }

    @Test
    void whoeverMayPatchTheNamespaceStopsItAndIsNamed() {
        // "trader" may get and patch this Namespace and nothing else (a Role in a namespace covers the
        // Namespace object itself: the API server puts a namespace's own name in its request attributes).
        client.rbac().roles().inNamespace(ns).resource(new RoleBuilder()
                .withNewMetadata().withName("namespace-stopper").endMetadata()
                .withRules(new PolicyRuleBuilder().withApiGroups("").withResources("namespaces")
                        .withResourceNames(ns).withVerbs("get", "patch").build())
                .build()).create();
        client.rbac().roleBindings().inNamespace(ns).resource(new RoleBindingBuilder()
                .withNewMetadata().withName("trader-namespace-stopper").endMetadata()
                .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("Role").withName("namespace-stopper").endRoleRef()
                .addNewSubject().withApiGroup("rbac.authorization.k8s.io").withKind("User").withName("trader").endSubject()
                .build()).create();

        // A Namespace update that does not touch the stop is neither stamped nor checked.
        Kubectl.Result labelled = as("trader", null, "label", "namespace", ns, "desk=rates");
        assertThat(labelled.exitCode()).as(labelled.output()).isZero();
        assertThat(annotations("Namespace", ns)).doesNotContainKey(STOP_BY);

        Kubectl.Result stopped = as("trader", null, "annotate", "namespace", ns, STOP + "=desk halt");
        assertThat(stopped.exitCode()).as(stopped.output()).isZero();
        assertThat(annotations("Namespace", ns)).containsEntry(STOP, "desk halt").containsEntry(STOP_BY, "trader");

        Kubectl.Result forged = as("trader", null, "annotate", "namespace", ns, "--overwrite", STOP_BY + "=alice");
        assertThat(forged.exitCode()).isNotZero();
        assertThat(forged.stderr()).contains("trader may not write \"alice\"")
                .contains("kubectl annotate namespace " + ns + " " + STOP);
        assertThat(annotations("Namespace", ns)).containsEntry(STOP_BY, "trader");

        // Issue 20: the API server counts the stops; the count outlives the annotation and nobody writes it by hand.
        assertThat(annotations("Namespace", ns)).containsEntry(STOP_COUNT, "1");
        assertThat(as("trader", null, "annotate", "namespace", ns, "--overwrite", STOP + "=desk halt, all books").exitCode()).isZero();
        assertThat(annotations("Namespace", ns)).containsEntry(STOP_COUNT, "2");
        Kubectl.Result removed = as("trader", null, "annotate", "namespace", ns, STOP + "-");
        assertThat(removed.exitCode()).as(removed.output()).isZero();
        assertThat(annotations("Namespace", ns)).doesNotContainKey(STOP).containsEntry(STOP_COUNT, "2").containsEntry(STOP_BY, "trader");
        for (String write : List.of(STOP_COUNT + "=0", STOP_COUNT + "-")) {
            Kubectl.Result rewritten = as("trader", null, "annotate", "--overwrite", "namespace", ns, write);
            assertThat(rewritten.exitCode()).as("count rewritten by hand: " + rewritten.output()).isNotZero();
            assertThat(rewritten.stderr()).contains("safety.marketintel.io/emergency-stop-count is counted by the API server");
        }
        Kubectl.Result forgedWithStop = as("trader", null, "annotate", "--overwrite", "namespace", ns, STOP + "=again", STOP_COUNT + "=99");
        assertThat(forgedWithStop.exitCode()).as(forgedWithStop.output()).isZero();
        assertThat(annotations("Namespace", ns)).as("the API server's count wins").containsEntry(STOP_COUNT, "3");
    }

    /** The singleton is shared by every test on this control plane: leave it exactly as found. */
    @Test
    void theClusterAdminStopsTheWholeClusterAndIsNamed() {
        boolean existed = PolicyTestSupport.ensureGlobal(client, kubectl);
        try {
            Kubectl.Result stopped = kubectl.run("annotate", "executionsafety", "global", "--overwrite", STOP + "=market-wide halt");
            assertThat(stopped.exitCode()).as(stopped.output()).isZero();
            assertThat(global().getMetadata().getAnnotations()).containsEntry(STOP_BY, admin);

            // Not even a cluster admin writes the record by hand.
            Kubectl.Result forged = kubectl.run("annotate", "executionsafety", "global", "--overwrite", STOP_BY + "=alice");
            assertThat(forged.exitCode()).isNotZero();
            assertThat(forged.stderr()).contains(admin + " may not write \"alice\"")
                    .contains("kubectl annotate executionsafety global " + STOP);
            assertThat(global().getMetadata().getAnnotations()).containsEntry(STOP_BY, admin);
        } finally {
            Kubectl.Result restored = existed
                    ? kubectl.run("annotate", "executionsafety", "global", STOP + "-", STOP_BY + "-")
                    : kubectl.run("delete", "executionsafety", "global", "--ignore-not-found");
            assertThat(restored.exitCode()).as(restored.output()).isZero();
        }
        if (existed) {
            assertThat(global().getMetadata().getAnnotations()).doesNotContainKeys(STOP, STOP_BY);
        }
    }

    @Test
    void anApproverReArmsWithOneCommandAndTheApiServerNamesThem() {
        assertThat(as("bob", null, "annotate", "xp", "momentum", STOP + "=drill").exitCode()).isZero();
        Kubectl.Result rearmed = as("alice", null, "annotate", "xp", "momentum", REARM + "=3");
        assertThat(rearmed.exitCode()).as(rearmed.output()).isZero();
        assertThat(annotations(XP, "momentum")).containsEntry(REARMED_BY, "alice 3")
                .as("consumed by the API server").doesNotContainKey(REARM);

        // The next re-arm (of the next stop) replaces the record.
        stoppedAt(4);
        Kubectl.Result next = as("mallory", null, "annotate", "xp", "momentum", REARM + "=4");
        assertThat(next.exitCode()).as(next.output()).isZero();
        assertThat(annotations(XP, "momentum")).containsEntry(REARMED_BY, "mallory 4").doesNotContainKey(REARM);
    }

    @Test
    void reArmingNeedsTheRearmVerbAnHonestNameAndAnIntegerEpoch() {
        Kubectl.Result editor = as("bob", null, "annotate", "xp", "momentum", REARM + "=3");
        assertThat(editor.exitCode()).isNotZero();
        assertThat(editor.stderr()).contains("bob may not re-arm ExecutionPolicies in " + ns)
                .contains("\"rearm\" verb").contains("execution-approver");

        Kubectl.Result forged = as("mallory", null, "annotate", "xp", "momentum", REARMED_BY + "=alice 3");
        assertThat(forged.exitCode()).isNotZero();
        assertThat(forged.stderr()).contains("rearmed-by is recorded by the API server")
                .contains("mallory may not write \"alice 3\"")
                .contains("kubectl annotate xp momentum " + REARM + "=<status.emergencyStop.epoch>");

        for (String epoch : new String[] { "three", "3 ", "-1", "3\nalice 4" }) {
            Kubectl.Result bad = as("alice", null, "annotate", "xp", "momentum", REARM + "=" + epoch);
            assertThat(bad.exitCode()).as(epoch).isNotZero();
            assertThat(bad.stderr()).as(epoch).contains("the re-arm epoch must be a decimal integer");
        }
        assertThat(annotations(XP, "momentum")).doesNotContainKeys(REARMED_BY, REARM);
    }

    @Test
    void withoutItsMutatingPolicyARearmIsRefusedNotSilentlyKept() {
        Kubectl.Result removed = kubectl.run("delete", "mutatingadmissionpolicybinding", "execution-safety-rearm");
        assertThat(removed.exitCode()).as(removed.output()).isZero();
        try {
            await("rearm binding gone").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250)).until(() -> {
                Kubectl.Result r = as("alice", null, "annotate", "xp", "momentum", "--dry-run=server", REARM + "=3");
                return r.exitCode() != 0 && r.stderr().contains(
                        "safety.marketintel.io/rearm was not consumed: the MutatingAdmissionPolicy execution-safety-rearm is missing");
            });
        } finally {
            ControlPlane.shared().installAdmission();
            enforced = false;
            awaitEnforced();
        }
    }

    /** The shipped policies are applied together; wait until these (not only the requester stamp) are live. */
    private void awaitEnforced() {
        if (admin == null) {
            Kubectl.Result whoami = kubectl.run("auth", "whoami", "-o", "jsonpath={.status.userInfo.username}");
            assertThat(whoami.exitCode()).as(whoami.output()).isZero();
            admin = whoami.stdout().trim();
        }
        if (enforced) {
            return;
        }
        await("emergency-stop and re-arm admission enforced").atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(250)).until(() -> {
                    Kubectl.Result stamped = kubectl.run("annotate", "-n", ns, "xp", "momentum", "--dry-run=server",
                            STOP + "=probe", REARM + "=3", "-o", "jsonpath={.metadata.annotations}");
                    Kubectl.Result forged = kubectl.run("annotate", "-n", ns, "xp", "momentum", "--dry-run=server",
                            STOP_BY + "=someone-else");
                    return stamped.stdout().contains("\"" + STOP_BY + "\":\"" + admin + "\"")
                            && stamped.stdout().contains("\"" + REARMED_BY + "\":\"" + admin + " 3\"")
                            && forged.exitCode() != 0 && forged.stderr().contains("emergency-stop-by is recorded");
                });
        enforced = true;
    }

    private static String policy(String name, String metadataExtra) {
        return """
                apiVersion: safety.marketintel.io/v1alpha1
                kind: ExecutionPolicy
                metadata: {name: %s, labels: {test.marketintel.io/operator: none}%s}
                spec: {mode: DryRun, workloads: {refs: [{kind: Deployment, name: %s}]}}
                """.formatted(name, metadataExtra.isEmpty() ? "" : ", " + metadataExtra, name);
    }

    private Kubectl.Result as(String user, String stdin, String... args) {
        return users.as(user, stdin, args);
    }

    private HasMetadata global() {
        return client.genericKubernetesResources("safety.marketintel.io/v1alpha1", "ExecutionSafety").withName("global").get();
    }

    private Map<String, String> annotations(String kind, String name) {
        HasMetadata o = switch (kind) {
            case "Namespace" -> client.namespaces().withName(name).get();
            default -> client.genericKubernetesResources("safety.marketintel.io/v1alpha1", kind).inNamespace(ns).withName(name).get();
        };
        return o.getMetadata().getAnnotations() == null ? Map.of() : o.getMetadata().getAnnotations();
    }
}
