package io.marketintel.safety.admission;

import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Predicate;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.killswitch.StopWatcher;

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
 */
@ApplicationScoped
public class LiveRegister {
    static final int ATTEMPTS = 5;

    private final KubernetesClient client;
    private final KubernetesSerialization serialization;
    private final Function<String, Optional<Namespace>> watched;
    /** The Namespace as our own last write returned it: the watch may not show it yet, and a removal must not trust that. */
    private final Map<String, Namespace> written = new ConcurrentHashMap<>();
    private final Map<String, Object> locks = new ConcurrentHashMap<>();

    @Inject
    public LiveRegister(KubernetesClient client, KubernetesSerialization serialization, StopWatcher watcher) {
        this(client, serialization, watcher::namespace);
    }

    LiveRegister(KubernetesClient client, KubernetesSerialization serialization, Function<String, Optional<Namespace>> watched) {
        this.client = client;
        this.serialization = serialization;
        this.watched = watched;
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

    /**
     * Makes the register of {@code namespace} name {@code policy} or not, and its env var register hold {@code envVar}
     * for it (no entry for null or EXECUTION_MODE), dropping the env var entries of policies {@code exists} denies (null:
     * keep them; asked only for the entries there are, usually none). Answered from the watch when both already say so (no request); otherwise one merge patch
     * guarded by the resourceVersion it was computed from. A policy created a moment ago that a lagging cache does not
     * show yet may lose its entry: that only makes its objects judged by EXECUTION_MODE (stricter) until its next pass.
     *
     * @throws KubernetesClientException when the API server refuses the write (RBAC, admission), or conflicts persist
     */
    public void hold(String namespace, String policy, boolean live, String envVar, Predicate<String> exists) {
        // One writer per namespace in this process: the policies of a namespace are reconciled in parallel, and each
        // would otherwise conflict with the others' writes; after a write the next one starts from its result.
        synchronized (locks.computeIfAbsent(namespace, n -> new Object())) {
            holdLocked(namespace, policy, live, envVar, exists);
        }
    }

    private void holdLocked(String namespace, String policy, boolean live, String envVar, Predicate<String> exists) {
        Optional<Namespace> seen = newer(watched.apply(namespace), Optional.ofNullable(written.get(namespace)));
        if (seen.isPresent() && updated(value(seen.get()), policy, live).isEmpty()
                && updatedEnvVars(envVarsValue(seen.get()), policy, envVar, exists).isEmpty() && governed(seen.get())) {
            return;
        }
        Namespace current = seen.orElse(null);
        for (int attempt = 1;; attempt++) {
            if (current == null) {
                current = client.namespaces().withName(namespace).get();
                if (current == null) {
                    return; // no namespace, no pods to admit
                }
            }
            Optional<String> next = updated(value(current), policy, live);
            Optional<String> nextEnvVars = updatedEnvVars(envVarsValue(current), policy, envVar, exists);
            if (next.isEmpty() && nextEnvVars.isEmpty() && governed(current)) {
                return;
            }
            Map<String, Object> annotations = new java.util.HashMap<>();
            next.ifPresent(v -> annotations.put(MetadataNames.LIVE_POLICIES_ANNOTATION, v.isEmpty() ? null : v));
            nextEnvVars.ifPresent(v -> annotations.put(MetadataNames.MODE_ENV_VARS_ANNOTATION, v.isEmpty() ? null : v));
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
