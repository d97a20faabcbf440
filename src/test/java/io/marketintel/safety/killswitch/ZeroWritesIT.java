package io.marketintel.safety.killswitch;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.marketintel.safety.actuation.Targets;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.WorkloadKind;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.testing.ControlPlane;
import io.marketintel.safety.testing.NamespacedTest;
import io.marketintel.safety.testing.TradingSystem;

/**
 * The kill switch's zero writes on the real API server: a forced server-side apply to each workload's {@code scale} subresource
 * (no admission policy on the workloads is evaluated for it), under the operator's field manager, so that GitOps
 * tools that ignore that manager's fields ignore the stop's {@code replicas: 0} too (user guide §9.2). A missing target
 * is no failure; a refused one is, and names why.
 */
class ZeroWritesIT extends NamespacedTest {
    private final ExecutorService pool = Executors.newFixedThreadPool(4);

    @AfterEach
    void stopPool() {
        pool.shutdownNow();
    }

    @Test
    void zeroesDeploymentsAndStatefulSetsThroughTheirScaleUnderTheOperatorsFieldManager() {
        TradingSystem.deployment(client, ns, "d", "sys", 2);
        TradingSystem.statefulSet(client, ns, "s", "sys", 2);
        // A GitOps tool's server-side apply owns the Deployment's replica count: the stop's apply is forced, it does not yield.
        client.apps().deployments().inNamespace(ns).withName("d").patch(new PatchContext.Builder().withPatchType(PatchType.SERVER_SIDE_APPLY).withFieldManager("gitops-controller").withForce(true).build(),
                "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"d\"},\"spec\":{\"replicas\":2}}");
        ZeroWrites zero = new ZeroWrites(client, pool);

        List<String> failures = zero.zero(ns, List.of(new Targets.Workload(WorkloadKind.DEPLOYMENT, "d", Map.of()),
                new Targets.Workload(WorkloadKind.STATEFUL_SET, "s", Map.of()),
                new Targets.Workload(WorkloadKind.DEPLOYMENT, "gone", Map.of())));

        assertThat(failures).as("a missing target is nothing to stop, not a failure").isEmpty();
        var d = client.apps().deployments().inNamespace(ns).withName("d").get();
        var s = client.apps().statefulSets().inNamespace(ns).withName("s").get();
        assertThat(d.getSpec().getReplicas()).isZero();
        assertThat(s.getSpec().getReplicas()).isZero();
        for (List<ManagedFieldsEntry> fields : List.of(d.getMetadata().getManagedFields(), s.getMetadata().getManagedFields())) {
            assertThat(fields).anySatisfy(f -> {
                assertThat(f.getManager()).isEqualTo(MetadataNames.FIELD_MANAGER);
                assertThat(f.getOperation()).isEqualTo("Apply");
                assertThat(f.getSubresource()).isEqualTo("scale");
                assertThat(f.getFieldsV1().getAdditionalProperties().toString()).contains("f:replicas");
            });
        }
    }

    @Test
    void aRefusedWriteIsAFailureThatSaysWhy() {
        TradingSystem.deployment(client, ns, "d", "sys", 1);
        Config config = ControlPlane.shared().config();
        config.setImpersonateUsername("nobody-" + ns);
        try (KubernetesClient nobody = new KubernetesClientBuilder().withConfig(config).build()) {
            List<String> failures = new ZeroWrites(nobody, pool).zero(ns,
                    List.of(new Targets.Workload(WorkloadKind.DEPLOYMENT, "d", Map.of())));
            assertThat(failures).singleElement().asString().startsWith("Deployment/d: 403 ")
                    .contains("deployments.apps \"d\" is forbidden", "nobody-" + ns);
        }
        assertThat(client.apps().deployments().inNamespace(ns).withName("d").get().getSpec().getReplicas()).isEqualTo(1);
    }
}
