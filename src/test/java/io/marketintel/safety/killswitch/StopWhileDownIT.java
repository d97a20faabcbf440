package io.marketintel.safety.killswitch;

import static io.marketintel.safety.testing.PolicyTestSupport.ready;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus.Phase;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.testing.ControlPlane;
import io.marketintel.safety.testing.NamespacedTest;
import io.marketintel.safety.testing.PolicyTestSupport;
import io.marketintel.safety.testing.OperatorProcess;
import io.marketintel.safety.testing.TradingSystem;

/**
 * DESIGN §6: a stop that arrives while the operator is down is applied first thing on start-up, before any
 * other reconcile work. The operator runs as its own process; while it is down one policy is stopped and
 * another's workload is hand-scaled (work the operator will also do). A watch records the order of the
 * replica writes: the stop's zero comes first.
 */
class StopWhileDownIT extends NamespacedTest {
    static final Duration DEADLINE = Duration.ofSeconds(90);

    @Override
    protected boolean checkSafetyInvariants() {
        return true;
    }

    OperatorProcess operator;
    SharedIndexInformer<Deployment> watch;

    @AfterEach
    void tearDown() {
        if (operator != null) {
            operator.close();
        }
        if (watch != null) {
            watch.close();
        }
    }

    @Test
    void aStopThatArrivedWhileTheOperatorWasDownIsAppliedBeforeAnythingElse() throws Exception {
        TradingSystem.deployment(client, ns, "alpha", "alpha", 2);
        TradingSystem.deployment(client, ns, "beta", "beta", 1);
        apply(processPolicy("stopped", "DryRun", "{refs: [{kind: Deployment, name: alpha}]}", ""));
        apply(processPolicy("drifted", "DryRun", "{refs: [{kind: Deployment, name: beta}]}", ""));
        operator = OperatorProcess.start(ControlPlane.shared(), ns);
        awaitPolicy("stopped", "DryRun", p -> p.getStatus().mode == ExecutionMode.DRY_RUN && ready(p));
        awaitPolicy("drifted", "DryRun", p -> p.getStatus().mode == ExecutionMode.DRY_RUN && ready(p));
        operator.kill();

        // While it is down: a stop, and drift the operator will correct once it runs.
        assertThat(kubectl.run("annotate", "xp", "stopped", "-n", ns, MetadataNames.EMERGENCY_STOP_ANNOTATION + "=operator down, desk says stop")
                .exitCode()).isZero();
        assertThat(kubectl.run("scale", "deployment", "beta", "-n", ns, "--replicas=3").exitCode()).isZero();

        List<String> writes = Collections.synchronizedList(new ArrayList<>());
        watch = client.apps().deployments().inNamespace(ns).inform(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Deployment d) {
            }

            @Override
            public void onUpdate(Deployment before, Deployment after) {
                if (!Objects.equals(before.getSpec().getReplicas(), after.getSpec().getReplicas())) {
                    writes.add(after.getMetadata().getName() + "=" + after.getSpec().getReplicas());
                }
            }

            @Override
            public void onDelete(Deployment d, boolean unknown) {
            }
        });
        await("watch sees beta at 3").atMost(DEADLINE).until(() -> watch.getStore().list().stream()
                .anyMatch(d -> d.getMetadata().getName().equals("beta") && d.getSpec().getReplicas() == 3));

        operator = OperatorProcess.start(ControlPlane.shared(), ns);
        await("both written").atMost(DEADLINE).until(() -> writes.contains("alpha=0") && writes.contains("beta=1"));
        assertThat(writes.indexOf("alpha=0")).as("write order %s", writes).isLessThan(writes.indexOf("beta=1"));

        ExecutionPolicy p = awaitPolicy("stopped", "stop recorded", x -> x.getStatus().phase == Phase.EmergencyStopped);
        assertThat(p.getStatus().emergencyStop.reason).isEqualTo("operator down, desk says stop");
        assertThat(p.getStatus().emergencyStop.stoppedBy).isNotBlank();
        String log = Files.readString(operator.log());
        assertThat(log).contains("start-up sweep found 1 stopped policies");
        assertThat(log.indexOf("start-up sweep found")).as("the sweep ran before the operator started")
                .isLessThan(log.indexOf("Operator SDK 5"));
    }

    /**
     * Issue 20, item 4, the runbook during an outage: a risk officer stops the Namespace and scales its workload to zero
     * by hand; a trader removes the stop again before the operator is back. The API server counted the stop
     * (emergency-stop-count): the restarted operator latches the policy anyway, and the hand-made zero is never undone.
     */
    @Test
    void aNamespaceStopRemovedWhileTheOperatorWasDownStillLatches() throws Exception {
        TradingSystem.deployment(client, ns, "alpha", "alpha", 2);
        apply(processPolicy("fx", "DryRun", "{refs: [{kind: Deployment, name: alpha}]}", ""));
        operator = OperatorProcess.start(ControlPlane.shared(), ns);
        ExecutionPolicy before = awaitPolicy("fx", "DryRun, the stop count seen", p -> p.getStatus().mode == ExecutionMode.DRY_RUN
                && ready(p) && p.getStatus().stopsSeen != null);
        assertThat(before.getStatus().stopsSeen.namespace).isZero();
        operator.kill();

        assertThat(kubectl.run("annotate", "namespace", ns, MetadataNames.EMERGENCY_STOP_ANNOTATION + "=venue down").exitCode()).isZero();
        assertThat(kubectl.run("scale", "deployment", "alpha", "-n", ns, "--replicas=0").exitCode()).isZero();
        assertThat(kubectl.run("annotate", "namespace", ns, MetadataNames.EMERGENCY_STOP_ANNOTATION + "-").exitCode()).isZero();
        assertThat(client.namespaces().withName(ns).get().getMetadata().getAnnotations())
                .containsEntry(MetadataNames.EMERGENCY_STOP_COUNT_ANNOTATION, "1");

        operator = OperatorProcess.start(ControlPlane.shared(), ns);
        ExecutionPolicy stopped = awaitPolicy("fx", "latched by the stop it missed", p -> p.getStatus().phase == Phase.EmergencyStopped);
        assertThat(stopped.getStatus().emergencyStop.scope).isEqualTo("Namespace");
        assertThat(stopped.getStatus().emergencyStop.reason).contains("stop #1 of Namespace/" + ns + " was removed before this policy recorded it");
        assertThat(stopped.getStatus().stopsSeen.namespace).isEqualTo(1);
        await("the hand-made zero holds").during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(30))
                .until(() -> client.apps().deployments().inNamespace(ns).withName("alpha").get().getSpec().getReplicas() == 0
                        && client.pods().inNamespace(ns).list().getItems().isEmpty());
        String log = Files.readString(operator.log());
        assertThat(log).contains("start-up sweep found 1 stopped policies");
        // What the API server reads from now on (issue 22): the policy labelled as stopped, so the latch refuses its pods;
        // the Namespace's count of the stops every policy has recorded raised to the stop it missed.
        await("the stop marks").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() ->
                "true".equals(PolicyTestSupport.get(client, ns, "fx").getMetadata().getLabels().get(MetadataNames.STOPPED_LABEL))
                && "1".equals(client.namespaces().withName(ns).get().getMetadata().getAnnotations()
                        .get(MetadataNames.EMERGENCY_STOPS_RECORDED_ANNOTATION)));
    }

    /**
     * Issue 20 (found by the insider tier): a policy created while the operator is down, then a Namespace stop set and
     * removed before the operator is back. The policy had recorded no count yet; the API server stamped the Namespace's
     * count at its creation, so the stop is still one it missed.
     */
    @Test
    void aPolicyCreatedBeforeANamespaceStopTheOperatorNeverSawStillLatches() throws Exception {
        TradingSystem.deployment(client, ns, "alpha", "alpha", 1);
        apply(processPolicy("fx", "DryRun", "{refs: [{kind: Deployment, name: alpha}]}", ""));
        assertThat(PolicyTestSupport.get(client, ns, "fx").getMetadata().getAnnotations())
                .containsEntry(MetadataNames.NAMESPACE_STOPS_AT_CREATION_ANNOTATION, "0");
        assertThat(kubectl.run("annotate", "namespace", ns, MetadataNames.EMERGENCY_STOP_ANNOTATION + "=before anyone looked").exitCode())
                .isZero();
        assertThat(kubectl.run("annotate", "namespace", ns, MetadataNames.EMERGENCY_STOP_ANNOTATION + "-").exitCode()).isZero();

        operator = OperatorProcess.start(ControlPlane.shared(), ns);
        ExecutionPolicy stopped = awaitPolicy("fx", "latched by the stop it missed", p -> p.getStatus() != null
                && p.getStatus().phase == Phase.EmergencyStopped);
        assertThat(stopped.getStatus().emergencyStop.reason).contains("stop #1 of Namespace/" + ns);
        assertThat(client.apps().deployments().inNamespace(ns).withName("alpha").get().getSpec().getReplicas()).isZero();
    }


    private ExecutionPolicy awaitPolicy(String name, String what, Predicate<ExecutionPolicy> condition) {
        return PolicyTestSupport.awaitPolicy(client, ns, name, what, condition);
    }
}
