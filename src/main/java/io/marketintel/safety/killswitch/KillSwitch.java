package io.marketintel.safety.killswitch;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Predicate;

import jakarta.enterprise.context.ApplicationScoped;

import io.fabric8.kubernetes.api.model.Pod;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionSafety;

/**
 * The kill switch as one pass of the reconciler sees it (DESIGN §6): exactly two entry points, one in each phase that
 * touches the cluster. Behind them the kill switch is split by job: {@link StopWatcher} sees stops, {@link StopExecutor}
 * executes them (its javadoc tells how the parts fit), {@link StopLedger} records the stops in force, {@link WriteGate}
 * holds back writes while one is, and {@link KillSwitchStartup} sweeps before the operator starts.
 * <ol>
 * <li>{@link #enter}, first thing in the read phase: the stops that apply to the policy, and, when the latch holds,
 * the stop applied (zero replicas written to every target) before the pass reads anything else.</li>
 * <li>{@link #act}, at the start of the act phase: releases a re-armed stop, then lets the pass's writes through the
 * gate, where only writes to zero pass while a stop is in force.</li>
 * </ol>
 */
@ApplicationScoped
public class KillSwitch {
    private final StopWatcher watcher;
    private final StopExecutor executor;
    private final WriteGate gate;

    public KillSwitch(StopWatcher watcher, StopExecutor executor, WriteGate gate) {
        this.watcher = watcher;
        this.executor = executor;
        this.gate = gate;
    }

    /**
     * What the kill switch knows about one policy's stops.
     *
     * @param triggers   the stop annotations in force on the policy, its Namespace and {@code ExecutionSafety/global}
     * @param underWay   the triggers of the stop this operator has under way for the policy (it latches even if they
     *                   were removed before the pass looked)
     * @param blindSpots what the kill switch cannot watch
     * @param applied    the stop applied for this pass, when the latch holds
     * @param counts     the stop counts of the policy's Namespace and of the cluster now, which its status records as seen
     */
    public record Sighting(List<Latch.Trigger> triggers, Optional<List<Latch.Trigger>> underWay, List<String> blindSpots,
            Optional<Stop> applied, StopWatcher.StopCounts counts) {
        public Sighting {
            triggers = List.copyOf(triggers);
            blindSpots = List.copyOf(blindSpots);
        }
    }

    /**
     * Entry point one. {@code latchHolds} is the pass's own pure reading of the latch from what the kill switch sees
     * (the kill switch does not decide it): when it holds, every target is written to zero now, and this waits for it.
     * {@code rearmPending}: the policy carries a re-arm of its current epoch, so this pass may release the latch.
     */
    public Sighting enter(ExecutionPolicy policy, boolean rearmPending, Predicate<Sighting> latchHolds) {
        ResourceID id = ResourceID.fromResource(policy);
        // The pass read the policy just now: a stop its status shows re-armed (by another replica, before a
        // fail-over) is history, not a stop under way.
        executor.settle(policy);
        // A pass that may release reads the Namespace and the cluster from the API server, not the watches: a release
        // must see every stop set before the pass began (StopWatcher#read). The policy's own stop is on the copy the
        // pass decides from, whose resourceVersion its status write carries.
        StopWatcher.Read now = rearmPending ? watcher.read(policy) : watcher.cached(policy);
        Sighting seen = new Sighting(now.triggers(), executor.stop(id).map(Stop::seen), watcher.blindSpots(), Optional.empty(),
                now.counts());
        if (!latchHolds.test(seen)) {
            return seen;
        }
        Stop applied = executor.stopNow(policy);
        // A namespace- or cluster-wide stop also covers pods that carry a mode but no policy governs: repeated from the
        // stopped passes until none is left (at most once a second per namespace).
        if (java.util.stream.Stream.concat(seen.triggers().stream(), seen.underWay().orElse(List.of()).stream())
                .anyMatch(t -> t.scope() != Latch.Scope.Policy)) {
            executor.sweepScope(policy.getMetadata().getNamespace());
        }
        return new Sighting(seen.triggers(), seen.underWay(), seen.blindSpots(), Optional.of(applied), seen.counts());
    }

    /** Entry point two: the gate for one pass's writes, after releasing the stop of a re-armed epoch. */
    public Gate act(ResourceID policy, OptionalLong released) {
        released.ifPresent(epoch -> executor.released(policy, epoch));
        return (replicas, write) -> gate.write(policy, replicas, write);
    }

    /** One pass's writes through the gate. */
    @FunctionalInterface
    public interface Gate {
        /** Runs {@code write} unless it would scale up while a stop is in force; false when held back. */
        boolean write(int replicas, Runnable write);
    }

    /** Every pod labelled for the policy, from the kill switch's informer (the only cache of pods in the operator). */
    public List<Pod> podsLabelled(String namespace, String policy) {
        return watcher.podsLabelled(namespace, policy);
    }

    /** ExecutionSafety/global as the kill switch's watch last saw it, if it exists (no request). */
    public Optional<ExecutionSafety> global() {
        return watcher.global();
    }

    /** The policies the kill switch watches, as last seen (no request). */
    public java.util.Collection<ExecutionPolicy> watchedPolicies() {
        return watcher.watchedPolicies();
    }

    /** Pods of governed workloads wake their policy (one watch of pods in the operator, not two). */
    public SimpleInboundEventSource<ExecutionPolicy> eventSource() {
        return watcher.eventSource();
    }
}
