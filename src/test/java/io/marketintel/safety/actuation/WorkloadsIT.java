package io.marketintel.safety.actuation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.testing.NamespacedTest;
import io.marketintel.safety.testing.TradingSystem;

/**
 * {@link Actuator} on the real API server: a write that could start pods lands only on the workload as the
 * pass read it.
 */
class WorkloadsIT extends NamespacedTest {
    static final String ENV = ExecutionPolicySpec.Defaults.MODE_ENV_VAR;

    /**
     * Caught by the fault suite (seed 1795743408282, run 44): a writer scaled the Deployment up between the
     * operator's read (nothing running) and its template write, and pods of the old and the new mode ran side
     * by side. The write is now refused (409) and the next pass scales down first.
     */
    @Test
    void aScaleUpBetweenTheReadAndTheTemplateWriteIsAConflictNotTwoModes() {
        TradingSystem.deployment(client, ns, "d1", "momentum", 0);
        awaitController("d1");
        Actuator workloads = new Actuator(client);
        ExecutionPolicy policy = policy("momentum", "d1");

        Convergence.Plan plan = Convergence.toMode(workloads.resolve(policy, ENV).workloads(), ExecutionMode.DRY_RUN, w -> 2);
        assertThat(plan.step()).isEqualTo(Convergence.Step.Reconfiguring);

        // The writer slips in.
        client.apps().deployments().inNamespace(ns).withName("d1").scale(2);

        KubernetesClientException refused = catchThrowableOfType(KubernetesClientException.class,
                () -> workloads.apply(ns, "momentum", ENV, plan.writes().get(0)));
        assertThat(refused).as("the template write decided before the scale-up").isNotNull();
        assertThat(refused.getCode()).isEqualTo(409);
        Deployment d = client.apps().deployments().inNamespace(ns).withName("d1").get();
        assertThat(d.getSpec().getTemplate().getMetadata().getAnnotations()).doesNotContainKey(MetadataNames.MODE_ANNOTATION);

        Convergence.Plan next = Convergence.toMode(workloads.resolve(policy, ENV).workloads(), ExecutionMode.DRY_RUN, w -> 2);
        assertThat(next.step()).as("what is there now: old-mode replicas").isEqualTo(Convergence.Step.ScalingDown);
        assertThat(next.writes().get(0).onlyIfUnchanged()).isFalse();
        workloads.apply(ns, "momentum", ENV, next.writes().get(0));
        assertThat(client.apps().deployments().inNamespace(ns).withName("d1").get().getSpec().getReplicas()).isZero();
    }

    @Test
    void aWriteOnTheWorkloadAsReadLands() {
        TradingSystem.deployment(client, ns, "d1", "momentum", 0);
        awaitController("d1");
        Actuator workloads = new Actuator(client);
        Convergence.Plan plan = Convergence.toMode(workloads.resolve(policy("momentum", "d1"), ENV).workloads(),
                ExecutionMode.DRY_RUN, w -> 2);
        workloads.apply(ns, "momentum", ENV, plan.writes().get(0));
        Deployment d = client.apps().deployments().inNamespace(ns).withName("d1").get();
        assertThat(Optional.ofNullable(d.getSpec().getTemplate().getMetadata().getAnnotations()).orElseThrow())
                .containsEntry(MetadataNames.MODE_ANNOTATION, ExecutionMode.DRY_RUN.wireName());
    }

    /** Its controller has seen it (until then a new mode waits: {@link ConvergenceTest}). */
    void awaitController(String deployment) {
        org.awaitility.Awaitility.await(deployment + " observed by its controller").atMost(java.time.Duration.ofSeconds(30))
                .until(() -> client.apps().deployments().inNamespace(ns).withName(deployment).get(),
                        d -> d.getStatus() != null && d.getStatus().getObservedGeneration() != null
                                && d.getStatus().getObservedGeneration() >= d.getMetadata().getGeneration());
    }

    ExecutionPolicy policy(String name, String deployment) {
        ExecutionPolicy p = new ExecutionPolicy();
        p.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns).build());
        p.setSpec(new ExecutionPolicySpec());
        p.getSpec().mode = ExecutionMode.DRY_RUN;
        p.getSpec().workloads = new ExecutionPolicySpec.Workloads();
        ExecutionPolicySpec.WorkloadRef ref = new ExecutionPolicySpec.WorkloadRef();
        ref.kind = ExecutionPolicySpec.WorkloadKind.DEPLOYMENT;
        ref.name = deployment;
        p.getSpec().workloads.refs = List.of(ref);
        return p;
    }
}
