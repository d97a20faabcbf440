package io.marketintel.safety.admission;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.Queue;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.function.BiPredicate;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.killswitch.StopWatcher;
import io.marketintel.safety.observability.PolicyMetrics;

/**
 * The register of the policies that may run Live in a Namespace ({@link MetadataNames#LIVE_POLICIES_ANNOTATION}, on the
 * Namespace). The API server admits a Live pod or pod template labelled for a policy only when the register names it
 * (execution-safety-mode-integrity), and only the operator may add a name (execution-safety-live-register): a label
 * that names a policy which does not exist, or no longer does, never starts Live — no parameter lookup can say "this
 * policy does not exist", a list can.
 * <p>
 * The register never allows more than a status does: a policy is added once its status (already written) allows Live,
 * and removed before the operator writes a status that does not. Writes carry the Namespace's resourceVersion, so two
 * policies of one namespace never lose each other's names; this process writes one namespace's register at a time, and
 * a conflict with another writer is read again and retried.
 * <p>
 * The Namespace is labelled {@link MetadataNames#GOVERNED_LABEL} in the same write, the first time any policy of it
 * passes: from then on the API server judges pods and templates there that carry a mode without the policy label with
 * no parameter (execution-safety-unowned-live-governed), instead of once per policy of the namespace.
 * <p>
 * Beside it, the register of the env var each policy writes its mode in, when that is not EXECUTION_MODE
 * ({@link MetadataNames#MODE_ENV_VARS_ANNOTATION}): the API server checks that env var from there instead of taking every
 * policy of the namespace as a parameter (issue 22). Written with the first, before any template is configured.
 * <p>
 * And the register of replica ceilings ({@link ReplicaCeilings}, {@link MetadataNames#REPLICA_CEILINGS_ANNOTATION}): the
 * count of each governed workload that nobody but the operator may raise it above (execution-safety-replicas), written
 * before the workloads are, so that a lower count holds before the operator scales to it.
 */
@ApplicationScoped
public class LiveRegister {
    private static final Logger LOG = Logger.getLogger(LiveRegister.class);
    static final int ATTEMPTS = 5;

    private final KubernetesClient client;
    private final KubernetesSerialization serialization;
    private final Function<String, Optional<Namespace>> watched;
    /** Whether the operator's cache holds a policy (namespace, name). */
    private final BiPredicate<String, String> present;
    /** The Namespace as our own last write returned it: the watch may not show it yet, and a removal must not trust that. */
    private final Map<String, Namespace> written = new ConcurrentHashMap<>();
    private final Map<String, Object> locks = new ConcurrentHashMap<>();
    private final Map<String, Queue<Pending>> queues = new ConcurrentHashMap<>();
    /** Namespaces whose register this process has written or checked once: the first time, gone policies are swept. */
    private final Set<String> swept = ConcurrentHashMap.newKeySet();
    /** One thread of its own for the deletions (the common pool has one thread on 2 cores, and others block in it). */
    private static final Executor FORGETTING = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "register-forget");
        t.setDaemon(true);
        return t;
    });

    @Inject
    public LiveRegister(KubernetesClient client, KubernetesSerialization serialization, StopWatcher watcher) {
        this(client, serialization, watcher::namespace, watcher::watches);
    }

    LiveRegister(KubernetesClient client, KubernetesSerialization serialization, Function<String, Optional<Namespace>> watched) {
        this(client, serialization, watched, (ns, name) -> true);
    }

    LiveRegister(KubernetesClient client, KubernetesSerialization serialization, Function<String, Optional<Namespace>> watched,
            BiPredicate<String, String> present) {
        this.client = client;
        this.serialization = serialization;
        this.watched = watched;
        this.present = present;
    }

    /**
     * A deleted policy has no pass of its own: its replica ceilings are dropped here, off the watch's thread, unless a
     * policy of that name is back in the cache by then (deleted and created again, as a GitOps replace does). A pass of
     * the policy still under way when it was deleted cannot put them back: {@link #hold} writes ceilings only for a policy
     * the cache holds at the moment of the write, and this runs after the cache has lost it.
     */
    void deleted(@Observes PolicyMetrics.PolicyDeleted deleted) {
        FORGETTING.execute(() -> {
            if (present.test(deleted.namespace(), deleted.name())) {
                return;
            }
            try {
                forget(deleted.namespace(), deleted.name());
            } catch (RuntimeException e) {
                LOG.warnf("could not drop the replica ceilings of deleted ExecutionPolicy %s/%s from its Namespace's %s (raises of"
                        + " its former workloads stay refused to all but the operator until a policy there changes its own): %s",
                        deleted.namespace(), deleted.name(), MetadataNames.REPLICA_CEILINGS_ANNOTATION, e.getMessage());
            }
        });
    }

    /** The names a register value lists (blank entries dropped). */
    public static TreeSet<String> names(String value) {
        TreeSet<String> names = new TreeSet<>();
        if (value != null) {
            Arrays.stream(value.split(",")).map(String::trim).filter(n -> !n.isEmpty()).forEach(names::add);
        }
        return names;
    }

    /**
     * The register value once {@code policy} is in it ({@code live}) or not: empty when {@code current} already says so,
     * else the new value, "" meaning no annotation at all.
     */
    public static Optional<String> updated(String current, String policy, boolean live) {
        TreeSet<String> names = names(current);
        boolean changed = live ? names.add(policy) : names.remove(policy);
        return changed ? Optional.of(String.join(",", names)) : Optional.empty();
    }

    /**
     * The env var register's value once {@code policy}'s entry is {@code envVar} (none when null or EXECUTION_MODE): empty
     * when {@code current} already says so, else the new value, "" meaning no annotation at all. Entries sorted by policy.
     */
    public static Optional<String> updatedEnvVars(String current, String policy, String envVar) {
        return updatedEnvVars(current, policy, envVar, null);
    }

    /**
     * As {@link #updatedEnvVars(String, String, String)}, also dropping the entries of policies that {@code exists} (whether
     * the operator's cache has a policy of that name in the namespace; null: not known) denies: a deleted policy gets no pass
     * of its own (no finalizer holds a deletion), so the next pass of another policy of its namespace clears its entry.
     */
    public static Optional<String> updatedEnvVars(String current, String policy, String envVar, Predicate<String> exists) {
        TreeMap<String, String> entries = envVars(current);
        boolean pruned = exists != null && entries.keySet().removeIf(p -> !p.equals(policy) && !exists.test(p));
        String want = envVar == null || envVar.equals(ExecutionPolicySpec.Defaults.MODE_ENV_VAR)
                ? null : envVar;
        if (Objects.equals(entries.get(policy), want) && !pruned) {
            return Optional.empty();
        }
        if (want == null) {
            entries.remove(policy);
        } else {
            entries.put(policy, want);
        }
        return Optional.of(String.join(",", entries.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList()));
    }

    /** The entries an env var register value lists, by policy (malformed entries dropped: they name nothing). */
    public static TreeMap<String, String> envVars(String value) {
        TreeMap<String, String> entries = new TreeMap<>();
        if (value != null) {
            for (String entry : value.split(",")) {
                int eq = entry.indexOf('=');
                if (eq > 0 && eq < entry.length() - 1) {
                    entries.putIfAbsent(entry.substring(0, eq).trim(), entry.substring(eq + 1).trim());
                }
            }
        }
        return entries;
    }

    /** {@link #hold(String, String, boolean, String, Predicate)} for a policy whose env var is EXECUTION_MODE (or that is gone). */
    public void hold(String namespace, String policy, boolean live) {
        hold(namespace, policy, live, null, null);
    }

    /** {@link #hold(String, String, boolean, String, Predicate, Optional)} leaving the policy's replica ceilings as they are. */
    public void hold(String namespace, String policy, boolean live, String envVar, Predicate<String> exists) {
        hold(namespace, policy, live, envVar, exists, Optional.empty());
    }

    /**
     * Makes the register of {@code namespace} name {@code policy} or not, its env var register hold {@code envVar} for it
     * (no entry for null or EXECUTION_MODE), dropping the env var entries of policies {@code exists} denies (null: keep
     * them; asked only for the entries there are, usually none), and, when {@code ceilings} is present, its register of
     * replica ceilings list exactly those for the policy ({@link ReplicaCeilings}). Answered from the watch when all
     * already say so (no request); otherwise one merge patch guarded by the resourceVersion it was computed from, shared
     * with the other policies of the namespace waiting to write at the same moment. A policy created a moment ago that a
     * lagging cache does not show yet may lose its env var entry: that only makes its objects judged by EXECUTION_MODE
     * (stricter) until its next pass. Replica ceilings of other policies are dropped only for a policy that is gone: when
     * the operator sees it deleted ({@link #forget}), or when a write finds one the cache does not hold and the API server
     * does not list either (a policy deleted while no operator ran; the first write of a namespace in this process looks).
     *
     * @throws KubernetesClientException when the API server refuses the write (RBAC, admission), or conflicts persist
     */
    public void hold(String namespace, String policy, boolean live, String envVar, Predicate<String> exists,
            Optional<List<ReplicaCeilings.Ceiling>> ceilings) {
        // Ceilings only for a policy the cache holds when the edit is applied (under the namespace's lock, at the write):
        // a pass still running for a policy deleted meanwhile must not put back what forget() took out.
        commit(namespace, r -> new Registers(updated(r.live(), policy, live).orElse(r.live()),
                updatedEnvVars(r.envVars(), policy, envVar, exists).orElse(r.envVars()),
                ceilings.map(c -> present.test(namespace, policy) ? c : List.<ReplicaCeilings.Ceiling> of())
                        .flatMap(c -> ReplicaCeilings.updated(r.ceilings(), policy, c, null)).orElse(r.ceilings())));
    }

    /**
     * A policy of {@code namespace} is gone: its replica ceilings leave the register, so that its former workloads may be
     * scaled by others again. Other entries are left to the passes of the policies there.
     *
     * @throws KubernetesClientException when the API server refuses the write, or conflicts persist
     */
    public void forget(String namespace, String policy) {
        commit(namespace, r -> r.withCeilings(ReplicaCeilings.updated(r.ceilings(), policy, List.of(), null).orElse(r.ceilings())));
    }

    /** The three registers of one Namespace, as annotation values ("" for none). */
    record Registers(String live, String envVars, String ceilings) {
        static Registers of(Namespace namespace) {
            return new Registers(value(namespace), envVarsValue(namespace),
                    annotation(namespace, MetadataNames.REPLICA_CEILINGS_ANNOTATION));
        }

        Registers withCeilings(String value) {
            return new Registers(live, envVars, value);
        }
    }

    /** One caller's change to the registers, waiting for the write that carries it. */
    private record Pending(UnaryOperator<Registers> edit, CompletableFuture<Void> written) {
    }

    /**
     * Group commit: the policies of a namespace are reconciled in parallel, and each would otherwise write the Namespace
     * in turn (or conflict with the others). Each caller queues its edit; whoever holds the namespace's lock writes every
     * edit queued by then in one patch, and the others find theirs written when they get the lock. If a shared write
     * fails for another reason than a conflict, each edit is written alone, so that one policy's refused entry (too large,
     * say) does not fail the others.
     */
    private void commit(String namespace, UnaryOperator<Registers> edit) {
        Optional<Namespace> seen = newer(watched.apply(namespace), Optional.ofNullable(written.get(namespace)));
        // The first time in this process, the write path runs, which sweeps the ceilings of policies deleted while no
        // operator ran (no deletion was seen for them).
        boolean first = swept.add(namespace);
        if (!first && seen.isPresent() && governed(seen.get())) {
            Registers now = Registers.of(seen.get());
            if (edit.apply(now).equals(now)) {
                return;
            }
        }
        Pending mine = new Pending(edit, new CompletableFuture<>());
        Queue<Pending> queue = queues.computeIfAbsent(namespace, n -> new ConcurrentLinkedQueue<>());
        queue.add(mine);
        synchronized (locks.computeIfAbsent(namespace, n -> new Object())) {
            if (!mine.written().isDone()) {
                List<Pending> batch = new ArrayList<>();
                for (Pending p; (p = queue.poll()) != null;) {
                    batch.add(p);
                }
                try {
                    write(namespace, batch.stream().map(Pending::edit).toList());
                    batch.forEach(p -> p.written().complete(null));
                } catch (RuntimeException shared) {
                    for (Pending p : batch) {
                        if (batch.size() == 1) {
                            p.written().completeExceptionally(shared);
                            continue;
                        }
                        try {
                            write(namespace, List.of(p.edit()));
                            p.written().complete(null);
                        } catch (RuntimeException alone) {
                            p.written().completeExceptionally(alone);
                        }
                    }
                } finally {
                    // Nobody waits forever on a write that ended some other way (an Error).
                    batch.forEach(p -> p.written().completeExceptionally(new IllegalStateException(
                            "the write of Namespace " + namespace + "'s registers did not finish")));
                }
            }
        }
        try {
            mine.written().join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    private void write(String namespace, List<UnaryOperator<Registers>> edits) {
        Namespace current = newer(watched.apply(namespace), Optional.ofNullable(written.get(namespace))).orElse(null);
        for (int attempt = 1;; attempt++) {
            if (current == null) {
                current = client.namespaces().withName(namespace).get();
                if (current == null) {
                    return; // no namespace, no pods to admit
                }
            }
            Registers before = Registers.of(current);
            Registers after = before;
            for (UnaryOperator<Registers> edit : edits) {
                after = edit.apply(after);
            }
            after = withoutGone(namespace, after);
            if (after.equals(before) && governed(current)) {
                return;
            }
            Map<String, Object> annotations = new java.util.HashMap<>();
            changed(annotations, MetadataNames.LIVE_POLICIES_ANNOTATION, before.live(), after.live());
            changed(annotations, MetadataNames.MODE_ENV_VARS_ANNOTATION, before.envVars(), after.envVars());
            changed(annotations, MetadataNames.REPLICA_CEILINGS_ANNOTATION, before.ceilings(), after.ceilings());
            String patch = serialization.asJson(Map.of("metadata", Map.of("resourceVersion",
                    current.getMetadata().getResourceVersion(), "annotations", annotations,
                    "labels", Map.of(MetadataNames.GOVERNED_LABEL, "true"))));
            try {
                written.put(namespace, client.namespaces().withName(namespace)
                        .patch(new PatchContext.Builder().withPatchType(PatchType.JSON_MERGE)
                                .withFieldManager(MetadataNames.FIELD_MANAGER).build(), patch));
                return;
            } catch (KubernetesClientException e) {
                if (e.getCode() != 409 || attempt >= ATTEMPTS) {
                    throw e;
                }
                // Another writer (a risk officer, an operator replica that was leader a moment ago) or a watch that was
                // behind: read it again, after a short jittered pause so that two writers do not collide again.
                current = null;
                try {
                    Thread.sleep(java.util.concurrent.ThreadLocalRandom.current().nextLong(5, 25) * attempt);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    /**
     * The registers without the replica ceilings of policies that no longer exist: those the cache does not hold are
     * looked up in one LIST of the namespace's policies (a policy this operator does not watch, or one created a moment
     * ago, is listed and kept); only a policy the API server does not list is swept. No request when the cache holds
     * every policy the register names, which is the rule.
     */
    private Registers withoutGone(String namespace, Registers r) {
        Set<String> unknown = new HashSet<>();
        for (String p : ReplicaCeilings.policies(r.ceilings())) {
            if (!present.test(namespace, p)) {
                unknown.add(p);
            }
        }
        if (unknown.isEmpty()) {
            return r;
        }
        client.resources(ExecutionPolicy.class).inNamespace(namespace).list().getItems()
                .forEach(p -> unknown.remove(p.getMetadata().getName()));
        return unknown.isEmpty() ? r : r.withCeilings(ReplicaCeilings.without(r.ceilings(), unknown));
    }

    /** Puts {@code name} into a merge patch's annotations when its value changes ("" removes it). */
    private static void changed(Map<String, Object> annotations, String name, String before, String after) {
        if (!after.equals(before)) {
            annotations.put(name, after.isEmpty() ? null : after);
        }
    }

    /** Of two copies of one Namespace, the later (resourceVersions of one object increase). */
    static Optional<Namespace> newer(Optional<Namespace> a, Optional<Namespace> b) {
        if (a.isEmpty() || b.isEmpty()) {
            return a.isPresent() ? a : b;
        }
        try {
            return Long.parseLong(b.get().getMetadata().getResourceVersion()) > Long.parseLong(a.get().getMetadata().getResourceVersion())
                    ? b : a;
        } catch (NumberFormatException e) {
            return Optional.empty(); // not comparable: read it from the API server
        }
    }

    /** Whether the Namespace carries {@link MetadataNames#GOVERNED_LABEL}. */
    static boolean governed(Namespace namespace) {
        Map<String, String> labels = namespace.getMetadata().getLabels();
        return labels != null && "true".equals(labels.get(MetadataNames.GOVERNED_LABEL));
    }

    static String value(Namespace namespace) {
        return annotation(namespace, MetadataNames.LIVE_POLICIES_ANNOTATION);
    }

    static String envVarsValue(Namespace namespace) {
        return annotation(namespace, MetadataNames.MODE_ENV_VARS_ANNOTATION);
    }

    private static String annotation(Namespace namespace, String name) {
        Map<String, String> annotations = namespace.getMetadata().getAnnotations();
        return annotations == null ? "" : annotations.getOrDefault(name, "");
    }
}
