package io.marketintel.safety.killswitch;

import static io.marketintel.safety.testing.PolicyTestSupport.ready;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus.Phase;
import io.marketintel.safety.api.v1alpha1.ExecutionSafety;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.testing.ControlPlane;
import io.marketintel.safety.testing.Kubectl;
import io.marketintel.safety.testing.Namespaces;
import io.marketintel.safety.testing.NamespacedTest;
import io.marketintel.safety.testing.OperatorProcess;
import io.marketintel.safety.testing.PolicyTestSupport;
import io.marketintel.safety.testing.TradingSystem;

/**
 * Issue 22, item 6: a sharded install (the chart's {@code shards}) on the real API server. Two packaged operators
 * configured as the chart configures two shards: each governs one namespace and elects its leader on a Lease of its
 * own, and only the first writes the status of ExecutionSafety/global. A Namespace stop reaches only that
 * namespace's shard; a cluster-wide stop reaches both shards' policies, whichever shard owns which.
 */
class ShardsIT extends NamespacedTest {
    static final Duration DEADLINE = Duration.ofSeconds(120);
    static final String STOP = MetadataNames.EMERGENCY_STOP_ANNOTATION;

    OperatorProcess shardA;
    OperatorProcess shardB;
    String nsB;

    @Override
    protected boolean checkSafetyInvariants() {
        return true;
    }

    @AfterEach
    void tearDown() {
        for (OperatorProcess p : new OperatorProcess[] { shardA, shardB }) {
            if (p != null) {
                p.close();
            }
        }
        if (nsB != null) {
            kubectl.run("annotate", "namespace", nsB, STOP + "-");
        }
    }

    @Test
    void aNamespaceStopReachesItsShardOnlyAndAClusterStopReachesEveryShard() throws Exception {
        nsB = Namespaces.create(client, "shards-b");
        TradingSystem.deployment(client, ns, "alpha", "alpha", 1);
        TradingSystem.deployment(client, nsB, "beta", "beta", 1);
        apply(processPolicy("pa", "DryRun", "{refs: [{kind: Deployment, name: alpha}]}", ""));
        Kubectl.Result applied = kubectl.runWithInput(processPolicy("pb", "DryRun", "{refs: [{kind: Deployment, name: beta}]}", ""),
                "apply", "-n", nsB, "-f", "-");
        assertThat(applied.exitCode()).as(applied.output()).isZero();

        // The chart's shards a and b: their own namespaces and Leases (both Leases in one namespace, the release's).
        shardA = OperatorProcess.start(ControlPlane.shared(), ns, null, "shard-a-0",
                List.of("-Dexecution-safety.leader-election.lease-name=eso-a"));
        shardB = OperatorProcess.start(ControlPlane.shared(), ns, null, "shard-b-0",
                List.of("-Dexecution-safety.leader-election.lease-name=eso-b",
                        "-Dquarkus.operator-sdk.controllers.executionpolicy.namespaces=" + nsB,
                        "-Dexecution-safety.cluster-status.enabled=false"));
        shardA.awaitReady(DEADLINE);
        shardB.awaitReady(DEADLINE);
        assertThat(awaitHolder("eso-a")).isEqualTo("shard-a-0");
        assertThat(awaitHolder("eso-b")).isEqualTo("shard-b-0");
        awaitPolicy(ns, "pa", "DryRun under shard a", p -> p.getStatus().mode == ExecutionMode.DRY_RUN && ready(p));
        awaitPolicy(nsB, "pb", "DryRun under shard b", p -> p.getStatus().mode == ExecutionMode.DRY_RUN && ready(p));
        assertThat(Files.readString(shardA.log())).as("shard a never touches shard b's namespace").doesNotContain(nsB);
        assertThat(Files.readString(shardB.log())).as("shard b never touches shard a's namespace").doesNotContain(ns + "\"")
                .contains("written by another shard");

        // A Namespace stop: shard b's policy only.
        assertThat(kubectl.run("annotate", "namespace", nsB, STOP + "=desk b halted").exitCode()).isZero();
        awaitReplicas(nsB, "beta", 0);
        ExecutionPolicy pb = awaitPolicy(nsB, "pb", "stopped by the Namespace", p -> p.getStatus().phase == Phase.EmergencyStopped);
        assertThat(pb.getStatus().emergencyStop.scope).isEqualTo("Namespace");
        ExecutionPolicy pa = PolicyTestSupport.get(client, ns, "pa");
        assertThat(pa.getStatus().phase).as("shard a's policy is not in the stopped namespace").isNotEqualTo(Phase.EmergencyStopped);
        assertThat(replicas(ns, "alpha")).isEqualTo(1);

        // A cluster-wide stop: every shard's policies.
        boolean existed = PolicyTestSupport.ensureGlobal(client, kubectl);
        try {
            long stopped = System.nanoTime();
            assertThat(kubectl.run("annotate", "executionsafety", ExecutionSafety.SINGLETON_NAME, STOP + "=market-wide halt").exitCode())
                    .isZero();
            awaitReplicas(ns, "alpha", 0);
            System.out.printf("cluster stop: shard a's workload at zero after %d ms%n", Duration.ofNanos(System.nanoTime() - stopped).toMillis());
            pa = awaitPolicy(ns, "pa", "stopped by the cluster", p -> p.getStatus().phase == Phase.EmergencyStopped);
            assertThat(pa.getStatus().emergencyStop.scope).isEqualTo("Cluster");
            awaitPolicy(nsB, "pb", "still stopped", p -> p.getStatus().phase == Phase.EmergencyStopped);
            assertThat(replicas(nsB, "beta")).isZero();
            // Shard a's leader writes kubectl get xsafety (shard b does not: two writers would overwrite each other).
            await("ExecutionSafety/global status").atMost(DEADLINE).untilAsserted(() -> {
                var es = client.resources(ExecutionSafety.class).withName(ExecutionSafety.SINGLETON_NAME).get().getStatus();
                assertThat(es).isNotNull();
                assertThat(es.emergencyStop).isNotNull();
                assertThat(es.emergencyStop.active).isTrue();
                assertThat(es.emergencyStop.latched).contains(ns + "/pa");
            });
        } finally {
            kubectl.run("annotate", "executionsafety", ExecutionSafety.SINGLETON_NAME, STOP + "-");
            if (!existed) {
                kubectl.run("delete", "executionsafety", ExecutionSafety.SINGLETON_NAME);
            }
        }
        assertThat(shardA.alive()).isTrue();
        assertThat(shardB.alive()).isTrue();
    }

    private String awaitHolder(String lease) {
        return await("a holder of Lease " + lease).atMost(DEADLINE).pollInterval(Duration.ofMillis(100)).until(() -> {
            Lease l = client.leases().inNamespace(ns).withName(lease).get();
            return l == null || l.getSpec().getHolderIdentity() == null ? "" : l.getSpec().getHolderIdentity();
        }, holder -> !holder.isEmpty());
    }

    private void awaitReplicas(String namespace, String name, int replicas) {
        await(namespace + "/" + name + " at " + replicas + " replicas").atMost(DEADLINE).pollInterval(Duration.ofMillis(100))
                .until(() -> replicas(namespace, name) == replicas);
    }

    private int replicas(String namespace, String name) {
        Deployment d = client.apps().deployments().inNamespace(namespace).withName(name).get();
        return d.getSpec().getReplicas();
    }

    private ExecutionPolicy awaitPolicy(String namespace, String name, String what, Predicate<ExecutionPolicy> condition) {
        return PolicyTestSupport.awaitPolicy(client, namespace, name, what, condition);
    }
}
