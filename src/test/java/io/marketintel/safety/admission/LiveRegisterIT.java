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
}
