package io.marketintel.safety.killswitch;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import jakarta.enterprise.event.Observes;

import org.jboss.logging.Logger;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.ControllerConfiguration;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import io.marketintel.safety.actuation.Markers;
import io.marketintel.safety.actuation.Relevance;
import io.marketintel.safety.cache.WithoutManagedFields;
import io.marketintel.safety.guard.LabelSelectors;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;
import io.marketintel.safety.api.v1alpha1.ExecutionSafety;
import io.marketintel.safety.killswitch.Latch.Scope;
import io.marketintel.safety.killswitch.Latch.Trigger;
import io.marketintel.safety.observability.PolicyMetrics;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;

/**
 * The emergency stop's fast path (DESIGN §6). It does not wait for the reconciler: its own informers see a
 * stop annotation on a policy, a Namespace or {@code ExecutionSafety/global}, and a dedicated executor writes
 * {@code replicas: 0} to every target before anything else (status, Events, guards). Then it wakes the
 * reconciler, which records the stop.
 * <ul>
 * <li><b>Start-up:</b> the operator does not start (quarkus.operator-sdk.start-operator=false) until this class
 * has zeroed every stopped policy, so a stop that arrived while the operator was down is applied first.</li>
 * <li><b>Gate:</b> every reconciler write goes through {@link #write}: while a stop is in force only writes to
 * zero pass, and a stop waits for a write in progress, so a reconcile that read the policy before the stop
 * cannot scale anything up after it.</li>
 * <li><b>Cancel-orders:</b> pods keep running through their termination grace period after replicas=0, so
 * their cancel-orders endpoint is called after the zero write, in parallel and bounded.</li>
 * </ul>
 */
@ApplicationScoped
public class KillSwitch {
    public static final String STOP_ANNOTATION = "safety.marketintel.io/emergency-stop";
    public static final String STOP_BY_ANNOTATION = "safety.marketintel.io/emergency-stop-by";
    public static final String REARMED_BY_ANNOTATION = "safety.marketintel.io/rearmed-by";
    /** Written by a person; the admission policy turns it into {@link #REARMED_BY_ANNOTATION}. */
    public static final String REARM_ANNOTATION = "safety.marketintel.io/rearm";
    static final String POLICY_INDEX = "policy";
    static final Duration SYNC_TIMEOUT = Duration.ofMinutes(2);
    static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);
    private static final Logger LOG = Logger.getLogger(KillSwitch.class);
    private static final String ZERO = "{\"spec\":{\"replicas\":0}}";

    private final KubernetesClient client;
    private final Operator operator;
    private final CancelOrders cancelOrders;
    private final Clock clock;
    private final Timer latency;
    private final MeterRegistry registry;
    /** One task per stopped policy; never shared with reconciles, so a slow guard cannot delay a stop. */
    private final ExecutorService stops = pool(64, "kill-switch-stop");
    /**
     * The zero writes of one stop run in parallel here (a separate pool: stop tasks wait on these). Each thread
     * mostly waits on the API server; 32 made a namespace stop of 500 workloads queue in waves of ~1 s.
     */
    private final ExecutorService writes = pool(64, "kill-switch-write");
    /** The last listing of each namespace's workloads, shared by the stops of one namespace- or cluster-wide stop. */
    private final Map<String, Listing> listings = new ConcurrentHashMap<>();
    private final SimpleInboundEventSource<ExecutionPolicy> wake = new SimpleInboundEventSource<>("kill-switch");
    private final Map<ResourceID, Stop> ledger = new ConcurrentHashMap<>();
    private final Map<ResourceID, ReentrantLock> gates = new ConcurrentHashMap<>();
    private final Map<ResourceID, Long> releasedEpochs = new ConcurrentHashMap<>();
    /** Each watch not synced yet, by what it watches: why (its last failure, or that it has not synced). */
    private final Map<String, String> blind = new ConcurrentHashMap<>();
    private final List<SharedIndexInformer<?>> started = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final List<SharedIndexInformer<ExecutionPolicy>> policies = new ArrayList<>();
    private final List<SharedIndexInformer<Namespace>> namespaces = new ArrayList<>();
    private final List<SharedIndexInformer<Pod>> pods = new ArrayList<>();
    private SharedIndexInformer<ExecutionSafety> global;
    private volatile boolean armed;

    private final Event<PolicyMetrics.PolicyDeleted> deletions;

    public KillSwitch(KubernetesClient client, Operator operator, CancelOrders cancelOrders, Clock clock,
            MeterRegistry registry, Event<PolicyMetrics.PolicyDeleted> deletions) {
        this.client = client;
        this.deletions = deletions;
        this.operator = operator;
        this.cancelOrders = cancelOrders;
        this.clock = clock;
        this.registry = registry;
        this.latency = Timer.builder("execution.safety.emergency.stop.latency")
                .description("From a stop being seen to zero replicas written on every target of one policy")
                .publishPercentileHistogram()
                .register(registry);
        Gauge.builder("execution.safety.kill.switch.blind", blind, Map::size)
                .description("Watches the kill switch could not start; 0 when it sees every stop").register(registry);
    }

    /** One stop of one policy: from being seen until the latch is released. */
    public static final class Stop {
        private final Instant seenAt;
        private final List<Trigger> seen;
        private final CompletableFuture<Void> zeroed = new CompletableFuture<>();
        private volatile Instant zeroedAt;
        private volatile List<String> failures = List.of();
        private volatile CompletableFuture<List<CancelOrders.Outcome>> cancels = CompletableFuture.completedFuture(List.of());

        Stop(Instant seenAt, List<Trigger> seen) {
            this.seenAt = seenAt;
            this.seen = List.copyOf(seen);
        }

        public Instant seenAt() {
            return seenAt;
        }

        /** The stop annotations in force when the stop was first seen: they latch even if removed at once. */
        public List<Trigger> seen() {
            return seen;
        }

        /** From seen to zero replicas written on every target; empty until then. */
        public Optional<Duration> latency() {
            return Optional.ofNullable(zeroedAt).map(z -> Duration.between(seenAt, z));
        }

        /** Targets that could not be written (the reconciler keeps trying). */
        public List<String> failures() {
            return failures;
        }

        /** The cancel-orders outcomes, once every call has answered or timed out. */
        public Optional<List<CancelOrders.Outcome>> cancelOutcomes() {
            return cancels.isDone() ? Optional.of(cancels.join()) : Optional.empty();
        }
    }

    /** Wakes the reconciler of a policy once its stop is written or its cancel-orders calls are back. */
    public SimpleInboundEventSource<ExecutionPolicy> eventSource() {
        return wake;
    }

    // ---------------------------------------------------------------- start-up

    void onStart(@Observes StartupEvent event) {
        Instant began = clock.instant();
        ControllerConfiguration<?> config = operator.getRegisteredControllers().stream()
                .map(c -> (ControllerConfiguration<?>) c.getConfiguration())
                .filter(c -> c.getResourceClass() == ExecutionPolicy.class)
                .findFirst().orElseThrow(() -> new IllegalStateException("no ExecutionPolicy controller registered"));
        String selector = config.getInformerConfig().getLabelSelector();
        Set<String> watched = config.getInformerConfig().watchAllNamespaces() ? Set.of() : config.getEffectiveNamespaces();
        startInformers(selector, watched);
        int stopped = sweep();
        armed = true;
        sweep(); // anything that arrived while the first sweep ran
        LOG.infof("kill switch armed: start-up sweep found %d stopped policies and zeroed them in %d ms; starting the operator",
                stopped, Duration.between(began, clock.instant()).toMillis());
        warmUp();
        operator.start();
    }

    /**
     * The first stop after start-up would otherwise also pay for the first run of its code (listing and
     * decoding workloads): measured, a first namespace stop of 500 workloads took about three times as long
     * as the next ones. One namespace's workloads are listed once in the background (a read, never a write).
     * A stop that comes later does not reuse this listing.
     */
    private void warmUp() {
        allPolicies().stream().filter(p -> p.getSpec() != null && p.getSpec().workloads != null && p.getSpec().workloads.selector != null)
                .map(p -> p.getMetadata().getNamespace()).findFirst()
                .ifPresent(ns -> stops.execute(() -> {
                    try {
                        workloadsIn(ns, clock.instant());
                    } catch (RuntimeException e) {
                        LOG.debugf("kill switch warm-up listing of %s failed: %s", ns, e.getMessage());
                    }
                }));
    }

    void onStop(@Observes ShutdownEvent event) {
        armed = false;
        // This class started the operator (QOSDK's own listener is not installed: see io.marketintel.safety.Main),
        // so it stops it: controllers, their executors and the leader-election lease. A no-op if never started.
        try {
            operator.stop();
        } catch (RuntimeException e) {
            LOG.infof("stopping the operator: %s", e.getMessage());
        }
        policies.forEach(SharedIndexInformer::close);
        namespaces.forEach(SharedIndexInformer::close);
        pods.forEach(SharedIndexInformer::close);
        if (global != null) {
            global.close();
        }
        stops.shutdownNow();
        writes.shutdownNow();
    }

    private void startInformers(String selector, Set<String> watched) {
        ResourceEventHandler<ExecutionPolicy> onPolicy = handler(this::check, p -> {
            forget(ResourceID.fromResource(p));
            deletions.fire(new PolicyMetrics.PolicyDeleted(p.getMetadata().getNamespace(), p.getMetadata().getName(),
                    p.getMetadata().getUid()));
        });
        ResourceEventHandler<Namespace> onNamespace = handler(n -> policiesIn(n.getMetadata().getName()).forEach(this::check), n -> {
        });
        // Created unstarted and started together below: inform() would list them one after the other.
        if (watched.isEmpty()) {
            var resources = client.resources(ExecutionPolicy.class).inAnyNamespace();
            policies.add((selector == null ? resources : resources.withLabelSelector(selector)).runnableInformer(0));
            namespaces.add(client.namespaces().runnableInformer(0));
            pods.add(client.pods().inAnyNamespace().withLabel(Markers.POLICY_LABEL).runnableInformer(0));
        } else {
            for (String ns : watched) {
                var resources = client.resources(ExecutionPolicy.class).inNamespace(ns);
                policies.add((selector == null ? resources : resources.withLabelSelector(selector)).runnableInformer(0));
                namespaces.add(client.namespaces().withName(ns).runnableInformer(0));
                pods.add(client.pods().inNamespace(ns).withLabel(Markers.POLICY_LABEL).runnableInformer(0));
            }
        }
        policies.forEach(i -> i.itemStore(new WithoutManagedFields<>()));
        namespaces.forEach(i -> i.itemStore(new WithoutManagedFields<>()));
        pods.forEach(i -> i.itemStore(new WithoutManagedFields<>()));
        policies.forEach(i -> i.addEventHandler(onPolicy));
        namespaces.forEach(i -> i.addEventHandler(onNamespace));
        global = client.resources(ExecutionSafety.class).withName(ExecutionSafety.SINGLETON_NAME).runnableInformer(0)
                .itemStore(new WithoutManagedFields<>());
        global.addEventHandler(handler(g -> allPolicies().forEach(this::check), g -> {
        }));
        for (var p : pods) {
            p.addIndexers(Map.of(POLICY_INDEX, pod -> List.of(pod.getMetadata().getNamespace() + "/"
                    + pod.getMetadata().getLabels().get(Markers.POLICY_LABEL))));
            p.addEventHandler(podsWakeTheirPolicy());
        }
        List<CompletableFuture<?>> synced = new ArrayList<>();
        policies.forEach(i -> synced.add(started(i, "ExecutionPolicies")));
        namespaces.forEach(i -> synced.add(started(i, "Namespaces (namespace-wide stops)")));
        pods.forEach(i -> synced.add(started(i, "Pods (cancel-orders hook, pod events of the reconciler)")));
        synced.add(started(global, "ExecutionSafety/global (cluster-wide stops)"));
        try {
            CompletableFuture.allOf(synced.toArray(CompletableFuture[]::new)).get(SYNC_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (Exception e) {
            // Still trying: each watch left is a blind spot until it syncs.
        }
        if (!blind.isEmpty()) {
            LOG.errorf("kill switch cannot watch: %s; escalations are refused until it can (still trying)",
                    String.join("; ", blindSpots()));
        }
    }

    /**
     * The reconciler's pod events come from this informer (one cache of pods in the operator, not two): a pod
     * created or deleted, or changed in a way {@link Relevance#pod} says the policy reads, wakes its policy.
     */
    private ResourceEventHandler<Pod> podsWakeTheirPolicy() {
        return new ResourceEventHandler<>() {
            @Override
            public void onAdd(Pod pod) {
                wake(pod);
            }

            @Override
            public void onUpdate(Pod before, Pod now) {
                if (Relevance.pod(now, before)) {
                    wake(now);
                }
            }

            @Override
            public void onDelete(Pod pod, boolean deletedFinalStateUnknown) {
                wake(pod);
            }

            private void wake(Pod pod) {
                String policy = pod.getMetadata().getLabels() == null ? null : pod.getMetadata().getLabels().get(Markers.POLICY_LABEL);
                if (policy != null) {
                    KillSwitch.this.wake.propagateEvent(new ResourceID(policy, pod.getMetadata().getNamespace()));
                }
            }
        };
    }

    /**
     * Starts an informer that never gives up: a watch that cannot start or that fails (RBAC missing, the API
     * server restarting) is retried with the client's back-off, never stopped, because a kill switch that stops
     * watching misses stops. Until it syncs it is a blind spot, not a crash; once it syncs it is not.
     */
    private CompletableFuture<?> started(SharedIndexInformer<?> informer, String what) {
        blind.put(what, "not synced yet");
        // Start-up waits until each watch has synced or failed once, not for the retries.
        CompletableFuture<Void> settled = new CompletableFuture<>();
        informer.exceptionHandler((wasStarted, e) -> {
            if (!wasStarted) {
                String why = e.getMessage() != null ? e.getMessage()
                        : e.getCause() != null && e.getCause().getMessage() != null ? e.getCause().getMessage() : e.toString();
                blind.put(what, why);
                settled.complete(null);
            }
            LOG.warnf("kill switch watch of %s failed, retrying: %s", what, e.getMessage());
            return true;
        });
        informer.start().toCompletableFuture().whenComplete((ok, e) -> {
            if (e == null) {
                started.add(informer);
                if (blind.remove(what) != null && armed) {
                    LOG.infof("kill switch watch of %s synced; it sees those stops again", what);
                }
            }
            settled.complete(null);
        });
        return settled;
    }

    /**
     * What the kill switch cannot see. Escalations are refused while it is blind (a stop it cannot see
     * cannot be applied); de-escalations and the stops it can see still work.
     */
    public List<String> blindSpots() {
        return blind.entrySet().stream().map(e -> e.getKey() + ": " + e.getValue()).sorted().toList();
    }

    /** Stops every policy whose stop is in force and waits for the zero writes; returns how many. */
    private int sweep() {
        List<Stop> started = new ArrayList<>();
        for (ExecutionPolicy p : allPolicies()) {
            Stop s = check(p);
            if (s != null) {
                started.add(s);
            }
        }
        for (Stop s : started) {
            try {
                s.zeroed.get(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.errorf("start-up sweep: a stop did not complete within %s: %s", STOP_TIMEOUT, e.getMessage());
            }
        }
        return started.size();
    }

    private <T extends HasMetadata> ResourceEventHandler<T> handler(Consumer<T> changed, Consumer<T> deleted) {
        return new ResourceEventHandler<>() {
            @Override
            public void onAdd(T obj) {
                if (armed) {
                    changed.accept(obj);
                }
            }

            @Override
            public void onUpdate(T oldObj, T newObj) {
                if (armed) {
                    changed.accept(newObj);
                }
            }

            @Override
            public void onDelete(T obj, boolean deletedFinalStateUnknown) {
                deleted.accept(obj);
            }
        };
    }

    // ---------------------------------------------------------------- what is in force

    /** Every stop annotation that applies to {@code policy}: on itself, its Namespace, the cluster singleton. */
    public List<Trigger> triggers(ExecutionPolicy policy) {
        List<Trigger> found = new ArrayList<>();
        String ns = policy.getMetadata().getNamespace();
        String name = policy.getMetadata().getName();
        trigger(policy, Scope.Policy, "ExecutionPolicy/" + name, "xp " + name + " -n " + ns).ifPresent(found::add);
        for (var informer : namespaces) {
            Namespace n = informer.getStore().getByKey(ns);
            if (n != null) {
                trigger(n, Scope.Namespace, "Namespace/" + ns, "namespace " + ns).ifPresent(found::add);
            }
        }
        if (global != null) {
            ExecutionSafety g = global.getStore().getByKey(ExecutionSafety.SINGLETON_NAME);
            if (g != null) {
                trigger(g, Scope.Cluster, "ExecutionSafety/" + ExecutionSafety.SINGLETON_NAME,
                        "executionsafety " + ExecutionSafety.SINGLETON_NAME).ifPresent(found::add);
            }
        }
        return found;
    }

    private static Optional<Trigger> trigger(HasMetadata o, Scope scope, String object, String target) {
        Map<String, String> a = o.getMetadata().getAnnotations();
        if (a == null || !a.containsKey(STOP_ANNOTATION)) {
            return Optional.empty();
        }
        String reason = a.get(STOP_ANNOTATION).isBlank() ? "(no reason given)" : a.get(STOP_ANNOTATION);
        return Optional.of(new Trigger(scope, object, target, reason, Optional.ofNullable(a.get(STOP_BY_ANNOTATION))));
    }

    /** A stop latched in status and not released since (a cached copy may predate the release). */
    private boolean latched(ExecutionPolicy p) {
        var stop = p.getStatus() == null ? null : p.getStatus().emergencyStop;
        if (stop == null || !Boolean.TRUE.equals(stop.active)) {
            return false;
        }
        Long released = releasedEpochs.get(ResourceID.fromResource(p));
        return released == null || stop.epoch == null || stop.epoch > released;
    }

    /**
     * Starts the stop of {@code p} if one is in force and not yet under way. Never forgets one by itself: a
     * stop annotation removed a moment after it was set still latches; only {@link #released} ends it.
     */
    private Stop check(ExecutionPolicy p) {
        List<Trigger> triggers = triggers(p);
        if (triggers.isEmpty() && !latched(p)) {
            return null;
        }
        return begin(p, triggers).orElse(null);
    }

    /** The new stop, or empty when one was already under way. */
    private Optional<Stop> begin(ExecutionPolicy p, List<Trigger> triggers) {
        boolean[] created = { false };
        Stop stop = ledger.computeIfAbsent(ResourceID.fromResource(p), k -> {
            created[0] = true;
            return new Stop(clock.instant(), triggers);
        });
        if (!created[0]) {
            return Optional.empty();
        }
        stops.execute(() -> execute(p, stop));
        return Optional.of(stop);
    }

    /** The reconciler recorded a re-arm of {@code epoch}: writes may scale up again. */
    public void released(ResourceID id, long epoch) {
        releasedEpochs.merge(id, epoch, Math::max);
        ledger.remove(id);
    }

    private void forget(ResourceID id) {
        ledger.remove(id);
        releasedEpochs.remove(id);
        gates.remove(id);
    }

    /**
     * The reconciler's entry point, called before it does anything else for a stopped policy: the stop under
     * way or done, started now if nobody has seen it yet; waits until its zero writes are done, and those of
     * every other stop in flight, so the reconciler's reads (a pod list per target) do not compete with the
     * zero writes of a namespace- or cluster-wide stop for the API server.
     */
    public Stop stopNow(ExecutionPolicy policy) {
        ResourceID id = ResourceID.fromResource(policy);
        begin(policy, triggers(policy));
        Stop stop = ledger.get(id);
        if (stop == null) { // released concurrently: nothing to wait for
            return new Stop(clock.instant(), List.of());
        }
        try {
            stop.zeroed.get(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.errorf("stop of %s did not complete within %s: %s", id, STOP_TIMEOUT, e.getMessage());
            return stop;
        }
        try {
            CompletableFuture.allOf(ledger.values().stream().map(s -> s.zeroed).toArray(CompletableFuture[]::new))
                    .get(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warnf("%s is zeroed; other stops still writing after %s, reconciling it anyway: %s", id, STOP_TIMEOUT,
                    e.getMessage());
        }
        return stop;
    }

    /** The stop of this policy, if one is in force as far as this operator has seen. */
    public Optional<Stop> stop(ResourceID id) {
        return Optional.ofNullable(ledger.get(id));
    }

    // ---------------------------------------------------------------- acting

    private void execute(ExecutionPolicy policy, Stop stop) {
        ResourceID id = ResourceID.fromResource(policy);
        String ns = policy.getMetadata().getNamespace();
        ReentrantLock gate = gates.computeIfAbsent(id, k -> new ReentrantLock());
        List<Pod> running = podsOf(ns, policy.getMetadata().getName());
        List<String> failures = new ArrayList<>();
        List<String> targets = new ArrayList<>();
        gate.lock();
        try {
            Map<String, CompletableFuture<String>> written = new LinkedHashMap<>();
            for (String[] target : targets(policy, stop.seenAt(), failures)) {
                targets.add(target[0] + "/" + target[1]);
                written.put(target[0] + "/" + target[1], CompletableFuture.supplyAsync(() -> zero(ns, target[0], target[1]), writes));
            }
            written.forEach((t, f) -> {
                String failure = f.join();
                if (failure != null) {
                    failures.add(t + ": " + failure);
                }
            });
            stop.zeroedAt = clock.instant();
            stop.failures = List.copyOf(failures);
        } catch (RuntimeException e) {
            stop.failures = List.of("could not apply the stop: " + e.getMessage());
            LOG.errorf(e, "emergency stop of %s failed; the reconciler keeps trying", id);
        } finally {
            gate.unlock();
            stop.zeroed.complete(null);
        }
        stop.latency().ifPresent(latency::record);
        LOG.infof("emergency stop policy=%s/%s targets=%d latencyMillis=%d failures=%d", ns, policy.getMetadata().getName(),
                targets.size(), stop.latency().map(Duration::toMillis).orElse(-1L), failures.size());
        ExecutionPolicySpec.CancelOrders hook = policy.getSpec() == null ? null : policy.getSpec().cancelOrders;
        if (hook != null && !running.isEmpty()) {
            String reason = triggers(policy).stream().map(Trigger::reason).findFirst().orElse("emergency stop");
            long epoch = policy.getStatus() != null && policy.getStatus().emergencyStop != null
                    && policy.getStatus().emergencyStop.epoch != null ? policy.getStatus().emergencyStop.epoch : 0;
            boolean latched = policy.getStatus() != null && policy.getStatus().emergencyStop != null
                    && Boolean.TRUE.equals(policy.getStatus().emergencyStop.active);
            stop.cancels = cancelOrders.call(policy, running.stream()
                    .map(p -> new CancelOrders.Target(p.getMetadata().getName(), p.getStatus() == null ? null : p.getStatus().getPodIP()))
                    .toList(), reason, latched ? epoch : epoch + 1);
            stop.cancels.whenComplete((r, e) -> wake.propagateEvent(id));
        }
        wake.propagateEvent(id);
    }

    /** Pods of the policy at the moment of the stop: they are the ones still holding orders at the venue. */
    private List<Pod> podsOf(String ns, String policy) {
        List<Pod> found = new ArrayList<>();
        for (var informer : pods) {
            found.addAll(informer.getIndexer().byIndex(POLICY_INDEX, ns + "/" + policy));
        }
        return found.stream().filter(p -> p.getMetadata().getDeletionTimestamp() == null).toList();
    }

    /** A listing of a namespace's Deployments and StatefulSets: {kind, name, labels}, and when it began. */
    private record Listing(Instant began, CompletableFuture<List<Workload>> workloads) {
    }

    private record Workload(String kind, String name, Map<String, String> labels) {
    }

    /**
     * Every Deployment and StatefulSet of {@code ns}, from a listing that began no earlier than {@code seenAt}:
     * it holds every workload that existed when the stop was seen (one created later is the reconciler's). The
     * stops of a namespace-wide stop, seen together, share one listing (two LISTs, not two per policy).
     */
    private List<Workload> workloadsIn(String ns, Instant seenAt) {
        Listing mine = new Listing(clock.instant(), new CompletableFuture<>());
        Listing used = listings.compute(ns, (k, last) -> last != null && !last.began().isBefore(seenAt)
                && !last.workloads().isCompletedExceptionally() ? last : mine);
        if (used == mine) {
            try {
                List<Workload> all = new ArrayList<>();
                client.apps().deployments().inNamespace(ns).list().getItems().forEach(d -> all.add(
                        new Workload("Deployment", d.getMetadata().getName(), labelsOf(d))));
                client.apps().statefulSets().inNamespace(ns).list().getItems().forEach(d -> all.add(
                        new Workload("StatefulSet", d.getMetadata().getName(), labelsOf(d))));
                mine.workloads().complete(List.copyOf(all));
            } catch (RuntimeException e) {
                mine.workloads().completeExceptionally(e);
            }
        }
        return used.workloads().join();
    }

    private static Map<String, String> labelsOf(HasMetadata o) {
        return o.getMetadata().getLabels() == null ? Map.of() : Map.copyOf(o.getMetadata().getLabels());
    }

    /** {kind, name} of every target: the listed ones without reading them, the selector's from a namespace listing. */
    private List<String[]> targets(ExecutionPolicy policy, Instant seenAt, List<String> failures) {
        Map<String, String[]> found = new LinkedHashMap<>();
        ExecutionPolicySpec.Workloads spec = policy.getSpec() == null ? null : policy.getSpec().workloads;
        String ns = policy.getMetadata().getNamespace();
        if (spec != null && spec.refs != null) {
            for (var ref : spec.refs) {
                String kind = ref.kind == ExecutionPolicySpec.WorkloadKind.DEPLOYMENT ? "Deployment" : "StatefulSet";
                found.putIfAbsent(kind + "/" + ref.name, new String[] { kind, ref.name });
            }
        }
        if (spec != null && spec.selector != null) {
            try {
                for (Workload w : workloadsIn(ns, seenAt)) {
                    if (LabelSelectors.matches(spec.selector, w.labels())) {
                        found.putIfAbsent(w.kind() + "/" + w.name(), new String[] { w.kind(), w.name() });
                    }
                }
            } catch (RuntimeException e) {
                failures.add("could not list the selector's workloads: " + e.getMessage());
            }
        }
        return List.copyOf(found.values());
    }

    /** replicas=0 by merge patch (no read first); null when done or the target does not exist, else why not. */
    private String zero(String ns, String kind, String name) {
        PatchContext patch = new PatchContext.Builder().withPatchType(PatchType.JSON_MERGE)
                .withFieldManager(Markers.FIELD_MANAGER).build();
        KubernetesClientException last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            try {
                // patch() on resource(stub) sends the PATCH alone; on withName(name) Fabric8 first GETs the object,
                // a second round trip per target (measured: 500 GETs for 500 zero writes).
                ObjectMeta target = new ObjectMetaBuilder().withName(name).withNamespace(ns).build();
                if ("Deployment".equals(kind)) {
                    client.apps().deployments().resource(new DeploymentBuilder().withMetadata(target).build()).patch(patch, ZERO);
                } else {
                    client.apps().statefulSets().resource(new StatefulSetBuilder().withMetadata(target).build()).patch(patch, ZERO);
                }
                return null;
            } catch (KubernetesClientException e) {
                if (e.getCode() == 404) {
                    return null; // nothing to stop; the reconciler reports the missing target
                }
                if (e.getCode() == 403 || e.getCode() == 422) {
                    return e.getCode() + " " + e.getMessage();
                }
                last = e;
            }
        }
        return last == null ? "unknown failure" : last.getMessage();
    }

    /**
     * Runs one reconciler write under the policy's gate. While a stop of the policy is in force only writes
     * to zero replicas pass; returns false for a write held back.
     */
    public boolean write(ResourceID policy, int replicas, Runnable write) {
        ReentrantLock gate = gates.computeIfAbsent(policy, k -> new ReentrantLock());
        gate.lock();
        try {
            if (replicas > 0 && ledger.containsKey(policy)) {
                return false;
            }
            write.run();
            return true;
        } finally {
            gate.unlock();
        }
    }

    /** Whether this operator has a stop of the policy in force (its own view, possibly ahead of status). */
    public boolean stopping(ResourceID policy) {
        return ledger.containsKey(policy);
    }

    /** ExecutionSafety/global as the kill switch's watch last saw it, if it exists. */
    public Optional<ExecutionSafety> global() {
        return global == null ? Optional.empty() : Optional.ofNullable(global.getStore().getByKey(ExecutionSafety.SINGLETON_NAME));
    }

    /** The policies the kill switch watches, as last seen (the cache of its watch, no request). */
    public Collection<ExecutionPolicy> watchedPolicies() {
        return allPolicies();
    }

    /** The cluster-wide stop annotation on {@code g}, if set. */
    public static Optional<ClusterStop.Annotation> clusterStop(ExecutionSafety g) {
        return trigger(g, Scope.Cluster, "", "").map(t -> new ClusterStop.Annotation(t.reason(), t.by()));
    }

    private Collection<ExecutionPolicy> allPolicies() {
        List<ExecutionPolicy> all = new ArrayList<>();
        policies.forEach(i -> all.addAll(i.getStore().list()));
        return all;
    }

    private List<ExecutionPolicy> policiesIn(String ns) {
        return allPolicies().stream().filter(p -> ns.equals(p.getMetadata().getNamespace())).toList();
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

    /** Armed: the start-up sweep is done and stops are being watched. */
    public boolean armed() {
        return armed;
    }

    /** Every watch that started is still running (one that never started is a blind spot, not a death). */
    public boolean watching() {
        return started.stream().allMatch(SharedIndexInformer::isRunning);
    }

    /** Counts a stop once, when the reconciler records it. */
    public void counted(Scope scope) {
        registry.counter("execution.safety.emergency.stops", "scope", scope.name()).increment();
    }
}
