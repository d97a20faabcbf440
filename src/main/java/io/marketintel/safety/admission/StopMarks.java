package io.marketintel.safety.admission;

import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.killswitch.StopWatcher;

/**
 * What the API server reads to refuse the pods of stopped trading systems without taking every policy of a namespace
 * as a parameter (issue 22: that made every pod write cost one evaluation per policy of its namespace).
 * <ul>
 * <li>{@link MetadataNames#STOPPED_LABEL} on a policy whose stop is in force: execution-safety-stopped-pods and
 * execution-safety-detach-stopped take only the policies so labelled. Admission sets it with the stop annotation
 * (execution-safety-stopped-label, which also keeps it against anyone but the operator); the operator sets it before it
 * writes a status that latches a stop of any other kind (the Namespace's, the cluster's, a missed one), and removes it
 * once the policy is released and carries no stop annotation.</li>
 * <li>{@link MetadataNames#EMERGENCY_STOPS_RECORDED_ANNOTATION} on a Namespace: the lowest count of the Namespace's stops
 * any of its policies has recorded ({@code status.stopsSeen.namespace}, else its creation stamp). While the API server
 * has counted more stops, execution-safety-stopped-namespace-pods refuses every labelled pod of the Namespace: a stop set
 * and removed while the operator was down still holds until every policy has latched it. Every policy of the Namespace
 * counts, also one this operator does not reconcile (a label selector in its configuration): until something records the
 * stop on that one too, the Namespace's labelled pods stay refused (the safe side).</li>
 * </ul>
 */
@ApplicationScoped
public class StopMarks {
    private static final Logger LOG = Logger.getLogger(StopMarks.class);
    static final int ATTEMPTS = 5;

    private final KubernetesClient client;
    private final KubernetesSerialization serialization;
    private final StopWatcher watcher;

    @Inject
    public StopMarks(KubernetesClient client, KubernetesSerialization serialization, StopWatcher watcher) {
        this.client = client;
        this.serialization = serialization;
        this.watcher = watcher;
    }

    /** Whether the policy carries the label. */
    public static boolean labelled(ExecutionPolicy policy) {
        Map<String, String> labels = policy.getMetadata().getLabels();
        return labels != null && "true".equals(labels.get(MetadataNames.STOPPED_LABEL));
    }

    /** Whether the policy must carry the label before {@code next} is written: a stop latched, and no label yet. */
    public static boolean labelDue(ExecutionPolicy policy, ExecutionPolicyStatus next) {
        return latched(next) && !labelled(policy);
    }

    /**
     * Whether the label can go once {@code written} is the policy's status: released, and no stop annotation (with one,
     * admission would put it back). A label left behind refuses nothing; it only costs one evaluation per pod.
     */
    public static boolean labelSpare(ExecutionPolicy policy, ExecutionPolicyStatus written) {
        Map<String, String> annotations = policy.getMetadata().getAnnotations();
        return labelled(policy) && !latched(written)
                && (annotations == null || !annotations.containsKey(MetadataNames.EMERGENCY_STOP_ANNOTATION));
    }

    /** Whether a status latches a stop ({@code emergencyStop.active}). */
    public static boolean latched(ExecutionPolicyStatus status) {
        return status != null && status.emergencyStop != null && Boolean.TRUE.equals(status.emergencyStop.active);
    }

    /**
     * Labels the policy, guarded by the resourceVersion it was read at (a 409 means someone changed it since: the pass
     * is decided again). Returns the policy as the API server now has it, whose resourceVersion the status write carries.
     */
    public ExecutionPolicy label(ExecutionPolicy policy) {
        return patchLabel(policy, "true", policy.getMetadata().getResourceVersion());
    }

    /**
     * Removes the label, guarded by the resourceVersion of {@code policy} (the copy the released status was written to):
     * a write since (another replica's latch during a fail-over, a stop annotation) makes it a 409, and the next pass
     * decides again.
     */
    public void unlabel(ExecutionPolicy policy) {
        patchLabel(policy, null, policy.getMetadata().getResourceVersion());
    }

    private ExecutionPolicy patchLabel(ExecutionPolicy policy, String value, String resourceVersion) {
        Map<String, Object> labels = new HashMap<>();
        labels.put(MetadataNames.STOPPED_LABEL, value);
        Map<String, Object> metadata = new HashMap<>();
        metadata.put("labels", labels);
        if (resourceVersion != null) {
            metadata.put("resourceVersion", resourceVersion);
        }
        return client.resources(ExecutionPolicy.class).inNamespace(policy.getMetadata().getNamespace())
                .withName(policy.getMetadata().getName())
                .patch(new PatchContext.Builder().withPatchType(PatchType.JSON_MERGE).withFieldManager(MetadataNames.FIELD_MANAGER)
                        .build(), serialization.asJson(Map.of("metadata", metadata)));
    }

    /**
     * The value the Namespace's recorded count may be raised to: the lowest count any policy has seen, at most the
     * Namespace's count; empty when nothing is to be raised ({@code recorded} already there, or a policy has not recorded
     * the last stop yet).
     */
    public static OptionalLong raise(long count, long recorded, Stream<ExecutionPolicy> policies) {
        if (count <= recorded) {
            return OptionalLong.empty();
        }
        long lowest = policies.mapToLong(p -> StopWatcher.namespaceStopsSeen(p.getStatus() == null ? null : p.getStatus().stopsSeen, p))
                .reduce(count, Math::min);
        return lowest > recorded ? OptionalLong.of(lowest) : OptionalLong.empty();
    }

    /** The Namespace's recorded count; 0 when there is none (or it is not a count). */
    public static long recorded(HasMetadata namespace) {
        Map<String, String> annotations = namespace.getMetadata().getAnnotations();
        String v = annotations == null ? null : annotations.get(MetadataNames.EMERGENCY_STOPS_RECORDED_ANNOTATION);
        return v != null && v.matches("[0-9]{1,9}") ? Long.parseLong(v) : 0L;
    }

    /**
     * Raises the Namespace's recorded count as far as every policy of it has recorded the Namespace's stops. Looked at
     * from the watch and {@code cached} (the operator's cache of the namespace's policies: no request while nothing is
     * to be raised); a raise is decided again from the API server itself (the Namespace, then a list of its policies:
     * a policy created after that list carries the count at its creation) and written guarded by the Namespace's
     * resourceVersion. Never lowers it.
     *
     * @throws KubernetesClientException when the API server refuses the write, or conflicts persist
     */
    public void recordNamespaceStops(String ns, Stream<ExecutionPolicy> cached) {
        Namespace seen = watcher.namespace(ns).orElse(null);
        if (seen == null || raise(StopWatcher.count(seen), recorded(seen), cached).isEmpty()) {
            return;
        }
        for (int attempt = 1;; attempt++) {
            Namespace current = client.namespaces().withName(ns).get();
            if (current == null) {
                return;
            }
            OptionalLong to = raise(StopWatcher.count(current), recorded(current),
                    client.resources(ExecutionPolicy.class).inNamespace(ns).list().getItems().stream());
            if (to.isEmpty()) {
                return;
            }
            String patch = serialization.asJson(Map.of("metadata", Map.of("resourceVersion", current.getMetadata().getResourceVersion(),
                    "annotations", Map.of(MetadataNames.EMERGENCY_STOPS_RECORDED_ANNOTATION, Long.toString(to.getAsLong())))));
            try {
                client.namespaces().withName(ns).patch(new PatchContext.Builder().withPatchType(PatchType.JSON_MERGE)
                        .withFieldManager(MetadataNames.FIELD_MANAGER).build(), patch);
                LOG.debugf("Namespace %s: stops recorded on every policy raised to %d", ns, to.getAsLong());
                return;
            } catch (KubernetesClientException e) {
                if (e.getCode() != 409 || attempt >= ATTEMPTS) {
                    throw e;
                }
                pause(attempt, e);
            }
        }
    }

    private static void pause(int attempt, KubernetesClientException e) {
        try {
            Thread.sleep(ThreadLocalRandom.current().nextLong(5, 25) * attempt);
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            throw e;
        }
    }
}
