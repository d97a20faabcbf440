package io.marketintel.safety.admission;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.Namespace;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.testing.Kubectl;
import io.marketintel.safety.testing.NamespacedTest;
import io.marketintel.safety.testing.OperatorStatus;

/**
 * The register's writes against a real API server: many policies of one namespace writing it at once lose none of each
 * other's names (each merge patch carries the resourceVersion it was computed from; a conflict is read again), and a
 * copy of the Namespace older than the last write (a lagging watch) neither hides a name that must go nor adds one twice.
 */
class LiveRegisterIT extends NamespacedTest {

    @Test
    void policiesWritingAtOnceLoseNoneOfEachOthersNames() throws Exception {
        LiveRegister register = new LiveRegister(client, client.getKubernetesSerialization(), n -> Optional.empty());
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            names.add("policy-" + i);
        }
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (String name : names) {
                done.add(pool.submit((Callable<Void>) () -> {
                    register.hold(ns, name, true);
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(LiveRegister.names(OperatorStatus.register(client, ns))).containsExactlyInAnyOrderElementsOf(names);
        // Labelled governed in the same writes (issue 22: the API server then judges unlabelled modes there with no parameter).
        assertThat(client.namespaces().withName(ns).get().getMetadata().getLabels())
                .containsEntry(io.marketintel.safety.api.v1alpha1.MetadataNames.GOVERNED_LABEL, "true");
    }

    /** Two processes (an operator replica that was leader a moment ago, and the new leader): conflicts, read again. */
    @Test
    void twoWritersThatDoNotShareALockStillLoseNoName() throws Exception {
        LiveRegister first = new LiveRegister(client, client.getKubernetesSerialization(), n -> Optional.empty());
        LiveRegister second = new LiveRegister(client, client.getKubernetesSerialization(), n -> Optional.empty());
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<?> a = pool.submit((Callable<Void>) () -> {
                for (int i = 0; i < 4; i++) {
                    first.hold(ns, "a-" + i, true);
                }
                return null;
            });
            Future<?> b = pool.submit((Callable<Void>) () -> {
                for (int i = 0; i < 4; i++) {
                    second.hold(ns, "b-" + i, true);
                }
                return null;
            });
            a.get();
            b.get();
        } finally {
            pool.shutdownNow();
        }
        assertThat(LiveRegister.names(OperatorStatus.register(client, ns)))
                .containsExactlyInAnyOrder("a-0", "a-1", "a-2", "a-3", "b-0", "b-1", "b-2", "b-3");
    }

    @Test
    void aLaggingWatchNeitherKeepsANameThatMustGoNorWritesInVain() {
        Namespace before = client.namespaces().withName(ns).get(); // what a lagging watch would still show
        LiveRegister register = new LiveRegister(client, client.getKubernetesSerialization(), n -> Optional.of(before));
        register.hold(ns, "momentum", true);
        assertThat(OperatorStatus.register(client, ns)).isEqualTo("momentum");
        // The watch still shows no name: the operator's own last write is newer, so the removal is not skipped.
        register.hold(ns, "momentum", false);
        assertThat(OperatorStatus.register(client, ns)).isEmpty();
        // Written by someone else since the watch's copy (a conflict on the stale resourceVersion): read again, kept.
        new LiveRegister(client, client.getKubernetesSerialization(), n -> Optional.empty()).hold(ns, "arbitrage", true);
        register.hold(ns, "momentum", true);
        assertThat(OperatorStatus.register(client, ns)).isEqualTo("arbitrage,momentum");
    }

    /**
     * Issue 22: the replica ceilings of many policies written at once (one shared write per batch of waiting policies) lose
     * none of each other's entries; a policy's entries are replaced by its next set, never merged; a deleted policy's go.
     */
    @Test
    void replicaCeilingsWrittenAtOnceLoseNoneAndAPolicysSetIsReplaced() throws Exception {
        LiveRegister register = new LiveRegister(client, client.getKubernetesSerialization(), n -> Optional.empty());
        int policies = 40;
        ExecutorService pool = Executors.newFixedThreadPool(10);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < policies; i++) {
                String name = "p-" + i;
                int replicas = i % 4;
                done.add(pool.submit((Callable<Void>) () -> {
                    register.hold(ns, name, false, null, null, Optional.of(List.of(
                            new ReplicaCeilings.Ceiling("Deployment", name, replicas, name, ExecutionMode.DRY_RUN),
                            new ReplicaCeilings.Ceiling("StatefulSet", name + "-book", 0, name, ExecutionMode.DRY_RUN))));
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        var entries = ReplicaCeilings.entries(OperatorStatus.ceilings(client, ns));
        assertThat(entries).hasSize(2 * policies);
        for (int i = 0; i < policies; i++) {
            assertThat(entries).contains(new ReplicaCeilings.Ceiling("Deployment", "p-" + i, i % 4, "p-" + i, ExecutionMode.DRY_RUN));
        }
        // A new set replaces the policy's entries (a workload it no longer governs goes), others untouched.
        register.hold(ns, "p-0", true, null, null, Optional.of(List.of(
                new ReplicaCeilings.Ceiling("Deployment", "p-0", 3, "p-0", ExecutionMode.LIVE))));
        entries = ReplicaCeilings.entries(OperatorStatus.ceilings(client, ns));
        assertThat(entries).hasSize(2 * policies - 1).contains(new ReplicaCeilings.Ceiling("Deployment", "p-0", 3, "p-0", ExecutionMode.LIVE))
                .noneMatch(c -> c.name().equals("p-0-book"));
        // No ceilings given (a stop): the policy's entries stay as they are.
        register.hold(ns, "p-1", false, null, null, Optional.empty());
        assertThat(ReplicaCeilings.entries(OperatorStatus.ceilings(client, ns))).hasSize(2 * policies - 1);
        // Deleted: its entries go, and only its.
        register.forget(ns, "p-2");
        assertThat(ReplicaCeilings.entries(OperatorStatus.ceilings(client, ns))).hasSize(2 * policies - 3).noneMatch(c -> c.policy().equals("p-2"));
    }

    /**
     * A pass still running for a policy deleted meanwhile (found by CI: DriftIT) writes no ceilings for it: the operator's
     * cache no longer holds it when the write is made, so what forget() took out stays out.
     */
    @Test
    void aPassOfADeletedPolicyDoesNotPutItsCeilingsBack() {
        java.util.Set<String> cached = new java.util.concurrent.ConcurrentSkipListSet<>(List.of("kept", "gone"));
        LiveRegister register = new LiveRegister(client, client.getKubernetesSerialization(), n -> Optional.empty(),
                (namespace, name) -> cached.contains(name));
        for (String name : List.of("kept", "gone")) {
            register.hold(ns, name, false, null, null, Optional.of(List.of(
                    new ReplicaCeilings.Ceiling("Deployment", name, 2, name, ExecutionMode.DRY_RUN))));
        }
        assertThat(ReplicaCeilings.entries(OperatorStatus.ceilings(client, ns))).hasSize(2);
        cached.remove("gone"); // deleted: the cache loses it, then the operator forgets its ceilings
        register.forget(ns, "gone");
        register.hold(ns, "gone", false, null, null, Optional.of(List.of(
                new ReplicaCeilings.Ceiling("Deployment", "gone", 2, "gone", ExecutionMode.DRY_RUN))));
        assertThat(ReplicaCeilings.entries(OperatorStatus.ceilings(client, ns))).extracting(ReplicaCeilings.Ceiling::policy).containsExactly("kept");
    }

    /**
     * A policy deleted while no operator ran has no deletion to be seen: the first write of the namespace's registers in a
     * process sweeps the ceilings of every policy the API server no longer lists, and keeps those of a policy it lists but
     * this operator does not watch.
     */
    @Test
    void theCeilingsOfAPolicyDeletedWhileNoOperatorRanAreSwept() {
        Kubectl.Result elsewhere = kubectl.runWithInput("""
                apiVersion: safety.marketintel.io/v1alpha1
                kind: ExecutionPolicy
                metadata: {name: elsewhere, labels: {test.marketintel.io/operator: none}}
                spec: {mode: DryRun, workloads: {refs: [{kind: Deployment, name: elsewhere}]}}
                """, "apply", "-n", ns, "-f", "-");
        assertThat(elsewhere.exitCode()).as(elsewhere.output()).isZero();
        // Written by an earlier operator process: entries of "ghost" (deleted meanwhile) and of "elsewhere" (not watched here).
        Kubectl.Result seeded = kubectl.run("annotate", "namespace", ns, "--overwrite", MetadataNames.REPLICA_CEILINGS_ANNOTATION
                + "=Deployment/elsewhere=1:elsewhere:DryRun,Deployment/ghost=2:ghost:Live");
        assertThat(seeded.exitCode()).as(seeded.output()).isZero();
        LiveRegister register = new LiveRegister(client, client.getKubernetesSerialization(), n -> Optional.empty(),
                (namespace, name) -> name.equals("kept"));
        register.hold(ns, "kept", false, null, null, Optional.of(List.of(
                new ReplicaCeilings.Ceiling("Deployment", "kept", 1, "kept", ExecutionMode.DRY_RUN))));
        assertThat(ReplicaCeilings.entries(OperatorStatus.ceilings(client, ns))).extracting(ReplicaCeilings.Ceiling::policy)
                .containsExactlyInAnyOrder("kept", "elsewhere");
    }

    /** A write the API server refuses for one policy (a register too large) does not fail the others waiting with it. */
    @Test
    void onePolicysRefusedCeilingsDoNotFailTheOthers() throws Exception {
        LiveRegister register = new LiveRegister(client, client.getKubernetesSerialization(), n -> Optional.empty());
        List<ReplicaCeilings.Ceiling> huge = new ArrayList<>();
        for (int i = 0; i < 1500; i++) { // ~300 kB: more than the 256 kB the API server allows a Namespace's annotations
            huge.add(new ReplicaCeilings.Ceiling("Deployment", "w".repeat(180) + i, 1, "greedy", ExecutionMode.BACKTEST));
        }
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            Future<?> greedy = pool.submit((Callable<Void>) () -> {
                register.hold(ns, "greedy", false, null, null, Optional.of(huge));
                return null;
            });
            List<Future<?>> others = new ArrayList<>();
            for (int i = 0; i < 7; i++) {
                String name = "fine-" + i;
                others.add(pool.submit((Callable<Void>) () -> {
                    register.hold(ns, name, false, null, null, Optional.of(List.of(
                            new ReplicaCeilings.Ceiling("Deployment", name, 1, name, ExecutionMode.BACKTEST))));
                    return null;
                }));
            }
            for (Future<?> f : others) {
                f.get();
            }
            assertThat(org.assertj.core.api.Assertions.catchThrowable(greedy::get)).isNotNull()
                    .hasCauseInstanceOf(io.fabric8.kubernetes.client.KubernetesClientException.class);
        } finally {
            pool.shutdownNow();
        }
        assertThat(ReplicaCeilings.entries(OperatorStatus.ceilings(client, ns))).extracting(ReplicaCeilings.Ceiling::policy)
                .containsExactlyInAnyOrder("fine-0", "fine-1", "fine-2", "fine-3", "fine-4", "fine-5", "fine-6");
    }
}
