package io.marketintel.safety.testing;

import java.util.Map;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;

/** Test workloads shaped like trading programs: no mode configured, labelled as one system. */
public final class TradingSystem {
    public static final String PART_OF = "app.kubernetes.io/part-of";

    private TradingSystem() {
    }

    public static Deployment deployment(KubernetesClient client, String ns, String name, String system, int replicas) {
        return client.apps().deployments().inNamespace(ns).resource(new DeploymentBuilder()
                .withNewMetadata().withName(name).withLabels(Map.of(PART_OF, system)).endMetadata()
                .withNewSpec().withReplicas(replicas)
                .withNewSelector().withMatchLabels(Map.of("app", name)).endSelector()
                .withNewTemplate().withNewMetadata().withLabels(Map.of("app", name, PART_OF, system)).endMetadata()
                .withNewSpec()
                .addNewContainer().withName("strategy").withImage("registry.example/" + name + ":1.0").endContainer()
                .addNewContainer().withName("gateway-sidecar").withImage("registry.example/sidecar:2.1").endContainer()
                .endSpec().endTemplate().endSpec().build()).create();
    }

    public static StatefulSet statefulSet(KubernetesClient client, String ns, String name, String system, int replicas) {
        return client.apps().statefulSets().inNamespace(ns).resource(new StatefulSetBuilder()
                .withNewMetadata().withName(name).withLabels(Map.of(PART_OF, system)).endMetadata()
                .withNewSpec().withReplicas(replicas).withServiceName(name).withPodManagementPolicy("Parallel")
                .withNewSelector().withMatchLabels(Map.of("app", name)).endSelector()
                .withNewTemplate().withNewMetadata().withLabels(Map.of("app", name, PART_OF, system)).endMetadata()
                .withNewSpec().addNewContainer().withName("strategy").withImage("registry.example/" + name + ":1.0").endContainer()
                .endSpec().endTemplate().endSpec().build()).create();
    }
}
