package io.marketintel.safety.killswitch;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.marketintel.safety.actuation.Targets;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;
import io.marketintel.safety.http.AllowedDestinations;
import io.marketintel.safety.killswitch.Latch.Trigger;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * The emergency stop's fast path (DESIGN §6). It does not wait for the reconciler: its own informers
 * ({@link StopWatcher}) see a stop annotation on a policy, a Namespace or {@code ExecutionSafety/global}, and a
 * dedicated executor (this class) writes {@code replicas: 0} to every target before anything else (status,
 * Events, guards). Then it wakes the reconciler, which records the stop.
 * <ul>
 * <li><b>Start-up:</b> the operator does not start (quarkus.operator-sdk.start-operator=false) until
 * {@link KillSwitchStartup} has zeroed every stopped policy, so a stop that arrived while the operator was down is
 * applied first.</li>
 * <li><b>Gate:</b> every reconciler write goes through {@link WriteGate#write}: while a stop is in force
 * ({@link StopLedger}) only writes to zero pass, and a stop waits for a write in progress, so a reconcile that read
 * the policy before the stop cannot scale anything up after it.</li>
 * <li><b>Targets:</b> a stop covers what every pass covers ({@link Targets}, one rule): what the policy names or
 * selects, except a workload another existing policy governs, which stops with that policy.</li>
 * <li><b>Pods:</b> after the zero writes, every pod labelled for the policy is deleted directly (its grace period
 * applies); the reconciler deletes any left and reports the stop complete only when none is ({@code Phase.Stopping}
 * until then).</li>
 * <li><b>Cancel-orders:</b> pods keep running through their termination grace period after replicas=0, so
 * their cancel-orders endpoint is called after the zero write, in parallel and bounded.</li>
 * </ul>
 */
@ApplicationScoped
public class StopExecutor {
    static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);
    private static final Logger LOG = Logger.getLogger(StopExecutor.class);

    private final StopWatcher watcher;
    private final StopLedger ledger;
    private final WriteGate gate;
    private final OrderCancellation cancelOrders;
    private final Clock clock;
    private final Timer latency;
    /** One task per stopped policy; never shared with reconciles, so a slow guard cannot delay a stop. */
    private final ExecutorService stops = pool(64, "kill-switch-stop");
    /**
     * The zero writes of one stop run in parallel here (a separate pool: stop tasks wait on these). Each thread
     * mostly waits on the API server; 32 made a namespace stop of 500 workloads queue in waves of ~1 s.
     */
    private final ExecutorService writes = pool(64, "kill-switch-write");
    private final ZeroWrites zero;
    private final WorkloadListings listings;
    private final ScopeSweep scope;
    private final ZeroBarrier barrier = new ZeroBarrier();

    public StopExecutor(KubernetesClient client, StopWatcher watcher, StopLedger ledger, WriteGate gate,
            OrderCancellation cancelOrders, Clock clock, MeterRegistry registry) {
        this.watcher = watcher;
        this.ledger = ledger;
        this.gate = gate;
        this.cancelOrders = cancelOrders;
        this.clock = clock;
        this.zero = new ZeroWrites(client, writes);
        this.listings = new WorkloadListings(client, clock);
        this.scope = new ScopeSweep(client, zero, watcher, clock);
        this.latency = Timer.builder("execution.safety.emergency.stop.latency")
                .description("From a stop being seen to zero replicas written on every target of one policy")
                .publishPercentileHistogram()
                .register(registry);
    }

    // ---------------------------------------------------------------- starting a stop

    /**
     * Starts the stop of {@code p} if one is in force and not yet under way; returns it, or null. Never forgets one
     * by itself: a stop annotation removed a moment after it was set still latches; only {@link #released} ends it.
     */
    public Stop check(ExecutionPolicy p) {
        ledger.settle(p);
        List<Trigger> triggers = watcher.triggers(p);
        if (triggers.isEmpty() && !ledger.latched(p)) {
            return null;
        }
        return begin(p, triggers).orElse(null);
    }

    /** The new stop, or empty when one was already under way. */
    private Optional<Stop> begin(ExecutionPolicy p, List<Trigger> triggers) {
        Optional<Stop> created = ledger.enter(ResourceID.fromResource(p), () -> new Stop(clock.instant(), triggers, StopLedger.epochOf(p)));
        created.ifPresent(stop -> {
            barrier.started(stop.zeroed());
            stops.execute(() -> execute(p, stop));
        });
        return created;
    }

    /**
     * The reconciler's entry point, called before it does anything else for a stopped policy: the stop under
     * way or done, started now if nobody has seen it yet; waits until its zero writes are done, and those of
     * every other stop in flight, so the reconciler's reads (a pod list per target) do not compete with the
     * zero writes of a namespace- or cluster-wide stop for the API server.
     */
    public Stop stopNow(ExecutionPolicy policy) {
        ResourceID id = ResourceID.fromResource(policy);
        begin(policy, watcher.triggers(policy));
        Stop stop = ledger.get(id).orElse(null);
        if (stop == null) { // released concurrently: nothing to wait for
            return new Stop(clock.instant(), List.of(), StopLedger.epochOf(policy));
        }
        try {
            stop.awaitZeroed(STOP_TIMEOUT);
        } catch (Exception e) {
            LOG.errorf("stop of %s did not complete within %s: %s", id, STOP_TIMEOUT, e.getMessage());
            return stop;
        }
        try {
            allZeroed().get(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warnf("%s is zeroed; other stops still writing after %s, reconciling it anyway: %s", id, STOP_TIMEOUT,
                    e.getMessage());
        }
        return stop;
    }

    /**
     * A namespace- or cluster-wide stop is in force on {@code ns}: sweep it for workloads and pods that carry a mode but
     * that no policy governs ({@link ScopeSweep}), in the background, one at a time and at most once a second.
     */
    public void sweepScope(String ns) {
        if (scope.due(ns)) {
            stops.execute(() -> {
                try {
                    scope.sweep(ns);
                } catch (RuntimeException e) {
                    LOG.errorf(e, "emergency stop of namespace %s: the sweep of pods that carry a mode failed; it is repeated", ns);
                } finally {
                    scope.ended(ns);
                }
            });
        }
    }

    /** The stop of this policy, if one is in force as far as this operator has seen. */
    public Optional<Stop> stop(ResourceID id) {
        return ledger.get(id);
    }

    /** Drops the stop of {@code policy} if its status records it re-armed ({@link StopLedger#settle}). */
    public void settle(ExecutionPolicy policy) {
        ledger.settle(policy);
    }

    /** The reconciler recorded a re-arm of {@code epoch}: writes may scale up again. */
    public void released(ResourceID id, long epoch) {
        ledger.released(id, epoch);
    }

    /** The policy was deleted: its stop, re-arms and gate go with it. */
    public void forget(ResourceID id) {
        ledger.forget(id);
        gate.forget(id);
    }

    // ---------------------------------------------------------------- acting

    private void execute(ExecutionPolicy policy, Stop stop) {
        ResourceID id = ResourceID.fromResource(policy);
        String ns = policy.getMetadata().getNamespace();
        List<Pod> running = watcher.podsOf(ns, policy.getMetadata().getName());
        List<String> failures = new ArrayList<>();
        List<String> written = new ArrayList<>();
        try {
            gate.shut(id, () -> {
                List<Targets.Workload> targets = targets(policy, stop.seenAt(), failures);
                targets.forEach(t -> written.add(t.id()));
                failures.addAll(zero.zero(ns, targets));
                stop.written(clock.instant(), failures);
            });
        } catch (RuntimeException e) {
            stop.failed("could not apply the stop: " + e.getMessage());
            LOG.errorf(e, "emergency stop of %s failed; the reconciler keeps trying", id);
        } finally {
            stop.done();
        }
        stop.latency().ifPresent(latency::record);
        LOG.infof("emergency stop policy=%s/%s targets=%d latencyMillis=%d failures=%d", ns, policy.getMetadata().getName(),
                written.size(), stop.latency().map(Duration::toMillis).orElse(-1L), failures.size());
        ExecutionPolicySpec.CancelOrders hook = policy.getSpec() == null ? null : policy.getSpec().cancelOrders;
        if (hook != null && !running.isEmpty()) {
            String reason = watcher.triggers(policy).stream().map(Trigger::reason).findFirst().orElse("emergency stop");
            stop.cancels(cancelOrders.call(policy, running.stream()
                    .map(p -> new OrderCancellation.Target(p.getMetadata().getName(), p.getStatus() == null ? null : p.getStatus().getPodIP()))
                    .toList(), reason, stop.epoch(), AllowedDestinations.of(watcher.global())));
            stop.cancels().whenComplete((r, e) -> watcher.wake(id));
        }
        deletePods(policy, id);
        watcher.wake(id);
    }

    /**
     * Then the pods, directly: replicas 0 alone may leave them running (a StatefulSet with OrderedReady waits for unready
     * pods) or remove them only at the controller's own pace. After the zero writes of every stop in flight (a
     * namespace- or cluster-wide stop's deletions do not queue in front of another policy's zero writes, and a
     * controller that has seen its zero replaces no pod), within {@link #STOP_TIMEOUT}; the stopped passes delete
     * whatever is left. Measured at 500 workloads: deleting right after a stop's own zeros, in a pool of their own,
     * made the zeros slower (replicas=0 at 3.6 s p50 against 1.8 s) and the last pod no sooner gone (6.4 against 5.5 s).
     */
    private void deletePods(ExecutionPolicy policy, ResourceID id) {
        String ns = policy.getMetadata().getNamespace();
        // Not waited for on this thread: the stops still to write their zeros may be queued behind it in the same pool.
        allZeroed().completeOnTimeout(null, STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS)
                .thenRunAsync(() -> {
                    List<String> failures = zero.deletePods(ns, watcher.podsOf(ns, policy.getMetadata().getName()).stream()
                            .filter(p -> p.getMetadata().getDeletionTimestamp() == null) // their controller's, already
                            .map(p -> p.getMetadata().getName()).toList());
                    if (!failures.isEmpty()) {
                        LOG.warnf("emergency stop of %s: pods not deleted (the stopped passes keep trying): %s", id, failures);
                    }
                    watcher.wake(id);
                }, stops);
    }

    /** Done when every stop in flight now has written its zeros; a copy, the caller's own to time out. */
    private CompletableFuture<Void> allZeroed() {
        return barrier.all().copy();
    }

    /**
     * The targets of the stop, by the rule every pass uses ({@link Targets}), and every workload carrying the policy's
     * own mark wherever the spec points now ({@link Targets#resolveForStop}), from a listing of the namespace that
     * began no earlier than the stop was seen; whether another policy exists comes from the watcher's cache (no
     * request). If the namespace cannot be listed, who governs a named workload is unknown: the named ones are
     * stopped anyway (the safe side) and the selector's are left to the reconciler, which keeps trying.
     */
    private List<Targets.Workload> targets(ExecutionPolicy policy, Instant seenAt, List<String> failures) {
        ExecutionPolicySpec.Workloads spec = policy.getSpec() == null ? null : policy.getSpec().workloads;
        String ns = policy.getMetadata().getNamespace();
        List<Targets.Workload> listing;
        try {
            listing = listings.workloadsIn(ns, seenAt);
        } catch (RuntimeException e) {
            failures.add("could not list the workloads of namespace " + ns + ": " + e.getMessage());
            Map<String, Targets.Workload> named = new LinkedHashMap<>();
            if (spec != null && spec.refs != null) {
                spec.refs.stream().map(r -> new Targets.Workload(r.kind, r.name, Map.of())).forEach(w -> named.putIfAbsent(w.id(), w));
            }
            return List.copyOf(named.values());
        }
        return Targets.resolveForStop(ns, policy.getMetadata().getName(), spec, listing,
                owner -> watcher.policyWorkloads(ns, owner)).targets();
    }

    /**
     * The first stop after start-up would otherwise also pay for the first run of its code (listing and
     * decoding workloads): measured, a first namespace stop of 500 workloads took about three times as long
     * as the next ones. One namespace's workloads are listed once in the background (a read, never a write).
     * A stop that comes later does not reuse this listing.
     */
    public void warmUp() {
        watcher.watchedPolicies().stream().filter(p -> p.getSpec() != null && p.getSpec().workloads != null)
                .map(p -> p.getMetadata().getNamespace()).findFirst()
                .ifPresent(ns -> stops.execute(() -> {
                    try {
                        listings.workloadsIn(ns, clock.instant());
                    } catch (RuntimeException e) {
                        LOG.debugf("kill switch warm-up listing of %s failed: %s", ns, e.getMessage());
                    }
                }));
    }

    /** Shutting down: no new stop starts here (the operator is stopped first). */
    public void close() {
        stops.shutdownNow();
        writes.shutdownNow();
    }

    /**
     * Up to {@code size} threads, started on demand and ended after a minute idle: an idle operator holds none
     * (each held ~170 KB of RSS; 128 of them were two thirds of its threads), and starting them again costs a
     * stop a few milliseconds, not the code warm-up that {@link #warmUp} pays for.
     */
    private static ExecutorService pool(int size, String prefix) {
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor pool = new ThreadPoolExecutor(size, size, 1, TimeUnit.MINUTES, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }
}
