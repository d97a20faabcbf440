package io.marketintel.safety.actuation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;
import io.marketintel.safety.api.v1alpha1.MetadataNames;

/**
 * Which reads a pass answers from the informers alone (issue 22). The client reaches no API server: a test passes only if
 * the pass made no request.
 */
class ActuatorCacheTest {
    static final KubernetesClient NOWHERE = new KubernetesClientBuilder().withConfig(new ConfigBuilder()
            .withMasterUrl("http://127.0.0.1:1").withRequestRetryBackoffLimit(0).withConnectionTimeout(200).build()).build();
    static final Actuator ACTUATOR = new Actuator(NOWHERE);

    @AfterAll
    static void close() {
        NOWHERE.close();
    }

    /** A Deployment the policy found (its template not yet the policy's), zeroed at generation 2. */
    static Deployment found(long observedGeneration, Integer counted) {
        return new DeploymentBuilder()
                .withNewMetadata().withName("d").withNamespace("ns").withGeneration(2L).withResourceVersion("7")
                .withLabels(Map.of(MetadataNames.POLICY_LABEL, "p")).endMetadata()
                .withNewSpec().withReplicas(0).withNewSelector().withMatchLabels(Map.of("app", "d")).endSelector()
                .withNewTemplate().withNewMetadata().withLabels(Map.of("app", "d")).endMetadata()
                .withNewSpec().addNewContainer().withName("app").withImage("app:1").endContainer().endSpec().endTemplate().endSpec()
                .withNewStatus().withObservedGeneration(observedGeneration).withReplicas(counted).endStatus()
                .build();
    }

    static ExecutionPolicy policy() {
        ExecutionPolicy p = new ExecutionPolicy();
        p.setMetadata(new ObjectMetaBuilder().withName("p").withNamespace("ns").build());
        ExecutionPolicySpec spec = new ExecutionPolicySpec();
        spec.workloads = new ExecutionPolicySpec.Workloads();
        var ref = new ExecutionPolicySpec.WorkloadRef();
        ref.kind = ExecutionPolicySpec.WorkloadKind.DEPLOYMENT;
        ref.name = "d";
        spec.workloads.refs = List.of(ref);
        p.setSpec(spec);
        return p;
    }

    static Actuator.Cache holding(Deployment d) {
        return new Actuator.Cache() {
            @Override
            public Optional<HasMetadata> workload(ExecutionPolicySpec.WorkloadKind kind, String namespace, String name) {
                return Optional.of(d);
            }

            @Override
            public List<Pod> podsLabelled(String namespace, String policy) {
                return List.of();
            }

            @Override
            public Optional<ExecutionPolicy> policy(String namespace, String name) {
                return Optional.of(ActuatorCacheTest.policy());
            }
        };
    }

    @Test
    void aFoundWorkloadWhoseControllerHasNotSeenItsZeroIsWaitedForWithoutAListing() {
        Actuator.Resolution r = ACTUATOR.resolve(policy(), "TRADING_MODE", false, List.of(), Optional.of(holding(found(1, 1))));
        ObservedWorkload w = r.workloads().get(0);
        assertThat(w.countedReplicas()).as("the controller is behind").isEqualTo(-1);
        assertThat(w.podModes()).as("as many pods as it last counted").hasSize(1).allMatch(Optional::isEmpty);
        Convergence.Plan plan = Convergence.toMode(r.workloads(), io.marketintel.safety.api.v1alpha1.ExecutionMode.DRY_RUN, x -> 1);
        assertThat(plan.message()).isEqualTo("waiting for 1 pod(s) of another mode to terminate before starting DryRun");
        assertThat(plan.watched()).as("its controller's next status event ends it").isTrue();
    }

    @Test
    void whileItsControllerCountsPodsTheCountIsEnough() {
        ObservedWorkload w = ACTUATOR.resolve(policy(), "TRADING_MODE", false, List.of(), Optional.of(holding(found(2, 2))))
                .workloads().get(0);
        assertThat(w.podModes()).hasSize(2).allMatch(Optional::isEmpty);
    }

    /** Counted none, some may still be terminating: only a listing shows them (this one fails: nothing to reach). */
    @Test
    void onceItsControllerCountsNoneThePodsAreListed() {
        assertThatThrownBy(() -> ACTUATOR.resolve(policy(), "TRADING_MODE", false, List.of(), Optional.of(holding(found(2, 0)))))
                .isInstanceOf(KubernetesClientException.class);
    }
}
