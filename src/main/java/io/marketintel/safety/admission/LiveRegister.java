package io.marketintel.safety.admission;

import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
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
     * Makes the register of {@code namespace} name {@code policy} or not. Answered from the watch when it already says so
     * (no request); otherwise a merge patch guarded by the resourceVersion it was computed from.
     *
     * @throws KubernetesClientException when the API server refuses the write (RBAC, admission), or conflicts persist
     */
    public void hold(String namespace, String policy, boolean live) {
        // One writer per namespace in this process: the policies of a namespace are reconciled in parallel, and each
        // would otherwise conflict with the others' writes; after a write the next one starts from its result.
        synchronized (locks.computeIfAbsent(namespace, n -> new Object())) {
            holdLocked(namespace, policy, live);
        }
    }

    private void holdLocked(String namespace, String policy, boolean live) {
        Optional<Namespace> seen = newer(watched.apply(namespace), Optional.ofNullable(written.get(namespace)));
        if (seen.isPresent() && updated(value(seen.get()), policy, live).isEmpty()) {
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
            if (next.isEmpty()) {
                return;
            }
            Map<String, Object> annotations = new java.util.HashMap<>();
            annotations.put(MetadataNames.LIVE_POLICIES_ANNOTATION, next.get().isEmpty() ? null : next.get());
            String patch = serialization.asJson(Map.of("metadata", Map.of("resourceVersion",
                    current.getMetadata().getResourceVersion(), "annotations", annotations)));
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

    static String value(Namespace namespace) {
        Map<String, String> annotations = namespace.getMetadata().getAnnotations();
        return annotations == null ? "" : annotations.getOrDefault(MetadataNames.LIVE_POLICIES_ANNOTATION, "");
    }
}
