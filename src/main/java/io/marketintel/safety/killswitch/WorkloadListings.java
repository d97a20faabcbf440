package io.marketintel.safety.killswitch;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.marketintel.safety.actuation.Targets;

/**
 * Lists a namespace's Deployments and StatefulSets ({kind, name, labels}) for the stops, which resolve their targets
 * from it without reading each workload. The stops of one namespace- or cluster-wide stop, seen together, share
 * one listing (two LISTs, not two per policy).
 */
final class WorkloadListings {
    private final KubernetesClient client;
    private final Clock clock;
    /** The last listing of each namespace's workloads, shared by the stops of one namespace- or cluster-wide stop. */
    private final Map<String, Listing> listings = new ConcurrentHashMap<>();

    WorkloadListings(KubernetesClient client, Clock clock) {
        this.client = client;
        this.clock = clock;
    }

    /** A listing of a namespace's Deployments and StatefulSets, and when it began. */
    private record Listing(Instant began, CompletableFuture<List<Targets.Workload>> workloads) {
    }

    /**
     * Every Deployment and StatefulSet of {@code ns}, from a listing that began no earlier than {@code seenAt}:
     * it holds every workload that existed when the stop was seen (one created later is the reconciler's).
     */
    List<Targets.Workload> workloadsIn(String ns, Instant seenAt) {
        Listing mine = new Listing(clock.instant(), new CompletableFuture<>());
        Listing used = listings.compute(ns, (k, last) -> last != null && !last.began().isBefore(seenAt)
                && !last.workloads().isCompletedExceptionally() ? last : mine);
        if (used == mine) {
            try {
                List<Targets.Workload> all = new ArrayList<>();
                Pages.each(client.apps().deployments().inNamespace(ns), d -> all.add(Targets.Workload.of(d)));
                Pages.each(client.apps().statefulSets().inNamespace(ns), s -> all.add(Targets.Workload.of(s)));
                mine.workloads().complete(List.copyOf(all));
            } catch (RuntimeException e) {
                mine.workloads().completeExceptionally(e);
            }
        }
        return used.workloads().join();
    }
}
