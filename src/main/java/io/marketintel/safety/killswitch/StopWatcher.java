package io.marketintel.safety.killswitch;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;

import org.jboss.logging.Logger;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.actuation.Relevance;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;
import io.marketintel.safety.api.v1alpha1.ExecutionSafety;
import io.marketintel.safety.cache.WithoutManagedFields;
import io.marketintel.safety.killswitch.Latch.Scope;
import io.marketintel.safety.killswitch.Latch.Trigger;
import io.marketintel.safety.observability.PolicyMetrics;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The kill switch's eyes: its own informers of ExecutionPolicies, Namespaces, {@code ExecutionSafety/global} and
 * the policies' pods, never behind the reconciler's. It says which stop annotations are in force for a policy
 * at the three scopes ({@link #triggers}), hands every change that may carry one to the {@link StopExecutor},
 * and reports what it cannot see (its blind spots). Its pod cache also serves the cancel-orders hook and wakes
 * the reconciler on pod events; a deleted policy is announced for its metrics to be removed.
 */
@ApplicationScoped
public class StopWatcher {
    static final String POLICY_INDEX = "policy";
    static final Duration SYNC_TIMEOUT = Duration.ofMinutes(2);
    private static final Logger LOG = Logger.getLogger(StopWatcher.class);

    private final KubernetesClient client;
    private final Event<PolicyMetrics.PolicyDeleted> deletions;
    private final SimpleInboundEventSource<ExecutionPolicy> wake = new SimpleInboundEventSource<>("kill-switch");
    /** Each watch not synced yet, by what it watches: why (its last failure, or that it has not synced). */
    private final Map<String, String> blind = new ConcurrentHashMap<>();
    private final List<SharedIndexInformer<?>> started = new CopyOnWriteArrayList<>();
    private final List<SharedIndexInformer<ExecutionPolicy>> policies = new ArrayList<>();
    private final List<SharedIndexInformer<Namespace>> namespaces = new ArrayList<>();
    private final List<SharedIndexInformer<Pod>> pods = new ArrayList<>();
    private SharedIndexInformer<ExecutionSafety> global;
    private volatile boolean armed;

    public StopWatcher(KubernetesClient client, MeterRegistry registry, Event<PolicyMetrics.PolicyDeleted> deletions) {
        this.client = client;
        this.deletions = deletions;
        Gauge.builder("execution.safety.kill.switch.blind", blind, Map::size)
                .description("Watches the kill switch could not start; 0 when it sees every stop").register(registry);
    }

    /** Wakes the reconciler of a policy once its stop is written or its cancel-orders calls are back, and on pod events. */
    public SimpleInboundEventSource<ExecutionPolicy> eventSource() {
        return wake;
    }

    /** Wakes the reconciler of {@code policy}. */
    public void wake(ResourceID policy) {
        wake.propagateEvent(policy);
    }

    // ---------------------------------------------------------------- watching

    /**
     * Starts every watch and waits until each has synced or failed once. Once {@link #arm armed}, each change that
     * may carry a stop (a policy, its Namespace, the cluster singleton) goes to {@code mayStop} for every policy
     * it concerns; a deleted policy goes to {@code deleted}.
     */
    public void start(String selector, Set<String> watched, Consumer<ExecutionPolicy> mayStop, Consumer<ResourceID> deleted,
            Consumer<String> scopeStopped) {
        ResourceEventHandler<ExecutionPolicy> onPolicy = handler(mayStop, p -> {
            deleted.accept(ResourceID.fromResource(p));
            deletions.fire(new PolicyMetrics.PolicyDeleted(p.getMetadata().getNamespace(), p.getMetadata().getName(),
                    p.getMetadata().getUid()));
        });
        ResourceEventHandler<Namespace> onNamespace = handler(n -> {
            policiesIn(n.getMetadata().getName()).forEach(mayStop);
            if (stopped(n)) {
                scopeStopped.accept(n.getMetadata().getName());
            }
        }, n -> {
        });
        // Created unstarted and started together below: inform() would list them one after the other.
        if (watched.isEmpty()) {
            var resources = client.resources(ExecutionPolicy.class).inAnyNamespace();
            policies.add((selector == null ? resources : resources.withLabelSelector(selector)).runnableInformer(0));
            namespaces.add(client.namespaces().runnableInformer(0));
            pods.add(client.pods().inAnyNamespace().withLabel(MetadataNames.POLICY_LABEL).runnableInformer(0));
        } else {
            for (String ns : watched) {
                var resources = client.resources(ExecutionPolicy.class).inNamespace(ns);
                policies.add((selector == null ? resources : resources.withLabelSelector(selector)).runnableInformer(0));
                namespaces.add(client.namespaces().withName(ns).runnableInformer(0));
                pods.add(client.pods().inNamespace(ns).withLabel(MetadataNames.POLICY_LABEL).runnableInformer(0));
            }
        }
        policies.forEach(i -> i.itemStore(new WithoutManagedFields<>()));
        namespaces.forEach(i -> i.itemStore(new WithoutManagedFields<>()));
        pods.forEach(i -> i.itemStore(new WithoutManagedFields<>()));
        policies.forEach(i -> i.addEventHandler(onPolicy));
        namespaces.forEach(i -> i.addEventHandler(onNamespace));
        global = client.resources(ExecutionSafety.class).withName(ExecutionSafety.SINGLETON_NAME).runnableInformer(0)
                .itemStore(new WithoutManagedFields<>());
        global.addEventHandler(handler(g -> {
            watchedPolicies().forEach(mayStop);
            if (stopped(g)) {
                stoppedNamespaces().forEach(scopeStopped);
            }
        }, g -> {
        }));
        for (var p : pods) {
            p.addIndexers(Map.of(POLICY_INDEX, pod -> List.of(pod.getMetadata().getNamespace() + "/"
                    + pod.getMetadata().getLabels().get(MetadataNames.POLICY_LABEL))));
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

    /** From now on every change is handed on (the start-up sweep is done). */
    public void arm() {
        armed = true;
    }

    /** Shutting down: changes are no longer handed on. */
    public void disarm() {
        armed = false;
    }

    /** Armed: the start-up sweep is done and stops are being watched. */
    public boolean armed() {
        return armed;
    }

    public void close() {
        policies.forEach(SharedIndexInformer::close);
        namespaces.forEach(SharedIndexInformer::close);
        pods.forEach(SharedIndexInformer::close);
        if (global != null) {
            global.close();
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
                String policy = pod.getMetadata().getLabels() == null ? null : pod.getMetadata().getLabels().get(MetadataNames.POLICY_LABEL);
                if (policy != null) {
                    StopWatcher.this.wake.propagateEvent(new ResourceID(policy, pod.getMetadata().getNamespace()));
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

    /** Every watch that started is still running (one that never started is a blind spot, not a death). */
    public boolean watching() {
        return started.stream().allMatch(SharedIndexInformer::isRunning);
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

    /**
     * Every stop that applies to {@code policy}: the stop annotations on itself, its Namespace and the cluster singleton,
     * and a stop of the Namespace or the cluster that the policy's status has not seen although its annotation is gone
     * ({@link #missed}).
     */
    public List<Trigger> triggers(ExecutionPolicy policy) {
        return triggers(policy, namespace(policy.getMetadata().getNamespace()), global());
    }

    /**
     * {@link #triggers} and the stop counts of the policy's Namespace and of the cluster singleton
     * ({@code emergency-stop-count}), as the watches show them now (no request).
     */
    public Read cached(ExecutionPolicy policy) {
        Optional<Namespace> n = namespace(policy.getMetadata().getNamespace());
        Optional<ExecutionSafety> g = global();
        return new Read(triggers(policy, n, g), counts(n, g));
    }

    /**
     * {@link #cached} from the API server itself: the policy's Namespace and
     * {@code ExecutionSafety/global} read now (two GETs), not from the watches. Only a release asks for it: a watch may
     * deliver a stop set a moment ago after the re-arm that would release the latch, and a release decided from that
     * older copy would let the new stop go unseen by this pass (insider tier, seed 1796554711347:104). A read made
     * after the pass began shows every stop written before it. Throws when either cannot be read: no release then.
     */
    public Read read(ExecutionPolicy policy) {
        Optional<Namespace> n = Optional.ofNullable(client.namespaces().withName(policy.getMetadata().getNamespace()).get());
        Optional<ExecutionSafety> g = Optional.ofNullable(
                client.resources(ExecutionSafety.class).withName(ExecutionSafety.SINGLETON_NAME).get());
        return new Read(triggers(policy, n, g), counts(n, g));
    }

    /** The stops in force for a policy and the stop counts, as one read shows them. */
    public record Read(List<Trigger> triggers, StopCounts counts) {
    }

    private static List<Trigger> triggers(ExecutionPolicy policy, Optional<Namespace> namespace, Optional<ExecutionSafety> cluster) {
        List<Trigger> found = new ArrayList<>();
        String ns = policy.getMetadata().getNamespace();
        String name = policy.getMetadata().getName();
        var seen = policy.getStatus() == null ? null : policy.getStatus().stopsSeen;
        long seenInNamespace = namespaceStopsSeen(seen, policy);
        trigger(policy, Scope.Policy, "ExecutionPolicy/" + name, "xp " + name + " -n " + ns).ifPresent(found::add);
        namespace.ifPresent(n -> trigger(n, Scope.Namespace, "Namespace/" + ns, "namespace " + ns)
                .or(() -> missed(n, Scope.Namespace, "Namespace/" + ns, "namespace " + ns, seenInNamespace))
                .ifPresent(found::add));
        cluster.ifPresent(g -> trigger(g, Scope.Cluster, "ExecutionSafety/" + ExecutionSafety.SINGLETON_NAME,
                "executionsafety " + ExecutionSafety.SINGLETON_NAME)
                .or(() -> missed(g, Scope.Cluster, "ExecutionSafety/" + ExecutionSafety.SINGLETON_NAME,
                        "executionsafety " + ExecutionSafety.SINGLETON_NAME, seen == null ? null : seen.cluster))
                .ifPresent(found::add));
        return found;
    }

    private static StopCounts counts(Optional<Namespace> namespace, Optional<ExecutionSafety> cluster) {
        return new StopCounts(namespace.map(StopWatcher::count).orElse(0L), cluster.map(StopWatcher::count).orElse(0L));
    }

    /** The stop counts a policy's status records as seen ({@code status.stopsSeen}). */
    public record StopCounts(long namespace, long cluster) {
    }

    /** The Namespace as the kill switch's watch shows it now (no request); empty when it is not watched or not seen yet. */
    public Optional<Namespace> namespace(String ns) {
        return namespaces.stream().map(i -> i.getStore().getByKey(ns)).filter(Objects::nonNull).findFirst();
    }

    /**
     * The Namespace stops a policy has seen: what its status records, else the Namespace's count the API server stamped
     * when it was created, else none (0: every stop counted is one it has not seen). The last happens only when the
     * stamp was dropped (a GitOps replace) before the first status write, or the policy was created without the
     * admission policies: the safe side is to latch on any stop counted.
     */
    public static long namespaceStopsSeen(ExecutionPolicyStatus.StopsSeen seen, ExecutionPolicy policy) {
        if (seen != null && seen.namespace != null) {
            return seen.namespace;
        }
        String c = policy.getMetadata().getAnnotations() == null ? null
                : policy.getMetadata().getAnnotations().get(MetadataNames.NAMESPACE_STOPS_AT_CREATION_ANNOTATION);
        return c != null && c.matches("[0-9]{1,18}") ? Long.parseLong(c) : 0L;
    }

    /** The API server's count of stops set on {@code o}; 0 when none was (or the annotation is not a count). */
    public static long count(HasMetadata o) {
        String c = o.getMetadata().getAnnotations() == null ? null
                : o.getMetadata().getAnnotations().get(MetadataNames.EMERGENCY_STOP_COUNT_ANNOTATION);
        return c != null && c.matches("[0-9]{1,18}") ? Long.parseLong(c) : 0L;
    }

    /**
     * A stop of a Namespace or of the cluster that a policy has not seen: the API server counted more stops there
     * ({@code emergency-stop-count}) than the policy's status has seen, although no stop annotation is there now (it
     * was removed before this policy recorded it, e.g. while the operator was down). The stamp
     * {@code emergency-stop-by} says who set the last one. A policy that has seen nothing yet ({@code seen} null: new,
     * or written by an older operator) takes the count as it finds it.
     */
    static Optional<Trigger> missed(HasMetadata o, Scope scope, String object, String target, Long seen) {
        long count = count(o);
        if (seen == null || count <= seen) {
            return Optional.empty();
        }
        Map<String, String> a = o.getMetadata().getAnnotations();
        return Optional.of(new Trigger(scope, object, target, "stop #" + count + " of " + object
                + " was removed before this policy recorded it (the API server counted it)",
                Optional.ofNullable(a.get(MetadataNames.EMERGENCY_STOP_BY_ANNOTATION)), true));
    }

    private static Optional<Trigger> trigger(HasMetadata o, Scope scope, String object, String target) {
        Map<String, String> a = o.getMetadata().getAnnotations();
        if (a == null || !a.containsKey(MetadataNames.EMERGENCY_STOP_ANNOTATION)) {
            return Optional.empty();
        }
        String reason = a.get(MetadataNames.EMERGENCY_STOP_ANNOTATION).isBlank() ? "(no reason given)" : a.get(MetadataNames.EMERGENCY_STOP_ANNOTATION);
        return Optional.of(new Trigger(scope, object, target, reason, Optional.ofNullable(a.get(MetadataNames.EMERGENCY_STOP_BY_ANNOTATION))));
    }

    private static boolean stopped(HasMetadata o) {
        return o.getMetadata().getAnnotations() != null && o.getMetadata().getAnnotations().containsKey(MetadataNames.EMERGENCY_STOP_ANNOTATION);
    }

    /**
     * The namespaces a namespace- or cluster-wide stop annotation is on now, from the watches (no request): every
     * watched namespace while the cluster is stopped.
     */
    public List<String> stoppedNamespaces() {
        boolean cluster = global().map(StopWatcher::stopped).orElse(false);
        List<String> found = new ArrayList<>();
        namespaces.forEach(i -> i.getStore().list().stream().filter(n -> cluster || stopped(n)).map(n -> n.getMetadata().getName())
                .forEach(found::add));
        return found;
    }

    /** The cluster-wide stop annotation on {@code g}, if set. */
    public static Optional<ClusterStopStatus.Annotation> clusterStop(ExecutionSafety g) {
        return trigger(g, Scope.Cluster, "", "").map(t -> new ClusterStopStatus.Annotation(t.reason(), t.by()));
    }

    /** ExecutionSafety/global as the kill switch's watch last saw it, if it exists. */
    public Optional<ExecutionSafety> global() {
        return global == null ? Optional.empty() : Optional.ofNullable(global.getStore().getByKey(ExecutionSafety.SINGLETON_NAME));
    }

    /** The policies the kill switch watches, as last seen (the cache of its watch, no request). */
    public Collection<ExecutionPolicy> watchedPolicies() {
        List<ExecutionPolicy> all = new ArrayList<>();
        policies.forEach(i -> all.addAll(i.getStore().list()));
        return all;
    }

    /**
     * The {@code spec.workloads} of ExecutionPolicy {@code name} in {@code namespace}, from the cache (no request);
     * empty when it does not exist. A policy this operator does not watch (another label selector) counts as
     * absent: its workloads are then stopped too.
     */
    public Optional<ExecutionPolicySpec.Workloads> policyWorkloads(String namespace, String name) {
        return cached(namespace, name).map(p -> p.getSpec() == null ? null : p.getSpec().workloads);
    }

    /** Whether the cache holds ExecutionPolicy {@code name} in {@code namespace} (no request). */
    public boolean watches(String namespace, String name) {
        return cached(namespace, name).isPresent();
    }

    private Optional<ExecutionPolicy> cached(String namespace, String name) {
        String key = namespace + "/" + name;
        return policies.stream().map(i -> i.getStore().getByKey(key)).filter(Objects::nonNull).findFirst();
    }

    private List<ExecutionPolicy> policiesIn(String ns) {
        return watchedPolicies().stream().filter(p -> ns.equals(p.getMetadata().getNamespace())).toList();
    }

    /** Pods of the policy at the moment of the stop: they are the ones still holding orders at the venue. */
    public List<Pod> podsOf(String ns, String policy) {
        return podsLabelled(ns, policy).stream().filter(p -> p.getMetadata().getDeletionTimestamp() == null).toList();
    }

    /** Every pod labelled for the policy, terminating ones included (no request). */
    public List<Pod> podsLabelled(String ns, String policy) {
        List<Pod> found = new ArrayList<>();
        for (var informer : pods) {
            found.addAll(informer.getIndexer().byIndex(POLICY_INDEX, ns + "/" + policy));
        }
        return found;
    }
}
