package io.marketintel.safety.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;

/** The floor every other test stands on: a Deployment gets a ReplicaSet and Running, Ready pods. */
class ControlPlaneIT {
    @Test
    void deploymentsGetReadyPods() {
        ControlPlane plane = ControlPlane.shared();
        System.out.println("control plane: kube-apiserver " + plane.serverVersion());
        assertThat(plane.serverVersion()).isEqualTo("v" + System.getProperty("kube.version", "1.36.3"));
        try (KubernetesClient client = plane.client()) {
            String ns = Namespaces.create(client, "plane");
            client.apps().deployments().inNamespace(ns).resource(new DeploymentBuilder()
                    .withNewMetadata().withName("echo").endMetadata()
                    .withNewSpec().withReplicas(3)
                    .withNewSelector().withMatchLabels(Map.of("app", "echo")).endSelector()
                    .withNewTemplate().withNewMetadata().withLabels(Map.of("app", "echo")).endMetadata()
                    .withNewSpec().addNewContainer().withName("echo").withImage("registry.example/echo:1.0").endContainer()
                    .endSpec().endTemplate().endSpec().build()).create();

            await("3 ready replicas").atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
                var d = client.apps().deployments().inNamespace(ns).withName("echo").get();
                assertThat(d.getStatus().getReadyReplicas()).isEqualTo(3);
            });
            var pods = client.pods().inNamespace(ns).withLabel("app", "echo").list().getItems();
            assertThat(pods).hasSize(3).allSatisfy(p -> {
                assertThat(p.getSpec().getNodeName()).isEqualTo(ControlPlane.FAKE_NODE);
                assertThat(p.getStatus().getPhase()).isEqualTo("Running");
            });
        }
    }

    /** etcd has no authentication here: nothing of the control plane, nor this JVM, listens beyond loopback. */
    @Test
    void everythingListensOnLoopbackOnly() {
        ControlPlane plane = ControlPlane.shared();
        List<Long> pids = plane.pids();
        assertThat(pids).as("etcd, kube-apiserver, controller-manager, scheduler, kwok").hasSize(5);
        assertThat(Listeners.of(pids.get(0))).as("etcd listens").isNotEmpty();
        assertThat(Listeners.of(pids.get(1))).as("kube-apiserver listens").isNotEmpty();
        for (long pid : pids) {
            assertThat(Listeners.beyondLoopback(pid)).as("process %d (%s) listens beyond loopback", pid,
                    ProcessHandle.of(pid).flatMap(h -> h.info().command()).orElse("?")).isEmpty();
        }
        assertThat(Listeners.beyondLoopback(ProcessHandle.current().pid())).as("the test JVM").isEmpty();
    }
}
