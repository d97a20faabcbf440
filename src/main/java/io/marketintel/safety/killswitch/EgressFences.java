package io.marketintel.safety.killswitch;

import java.util.Objects;
import java.util.Optional;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;

import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;

/**
 * Keeps a policy's {@link EgressFence} in place or removes it; decides nothing. It reads the fence from the
 * reconciler's informer of fences (no request), and writes only when the fence is missing or differs
 * (hand-edited, or liveEgress changed). A fence edited or deleted by hand wakes its policy at once.
 */
@ApplicationScoped
public class EgressFences {
    private final KubernetesClient client;

    public EgressFences(KubernetesClient client) {
        this.client = client;
    }

    /** The informer of every fence the operator made, each mapped to its policy (its stores: {@link io.marketintel.safety.cache.StorePerInformer}). */
    public static InformerEventSourceConfiguration<NetworkPolicy> eventSource() {
        return InformerEventSourceConfiguration.from(NetworkPolicy.class, ExecutionPolicy.class)
                .withName("egressfence")
                .withLabelSelector(MetadataNames.MANAGED_BY_LABEL + "=" + MetadataNames.MANAGED_BY + "," + MetadataNames.POLICY_LABEL)
                .withSecondaryToPrimaryMapper(f -> Set.of(new ResourceID(
                        f.getMetadata().getLabels().get(MetadataNames.POLICY_LABEL), f.getMetadata().getNamespace())))
                .build();
    }

    /**
     * @param wanted the policy is not (yet) Live and approved, so its pods must not reach the gateways
     * @param current the fence as the informer has it, if any. A stale view costs at most one write more:
     *        the apply is idempotent, and a delete of a fence already gone counts as done.
     * @return what went wrong, for a condition; empty when the fence is as wanted
     */
    public Optional<String> converge(ExecutionPolicy policy, boolean wanted, Optional<NetworkPolicy> current) {
        String ns = policy.getMetadata().getNamespace();
        String name = EgressFence.name(policy.getMetadata().getName());
        Optional<NetworkPolicy> desired = wanted ? EgressFence.fence(policy) : Optional.empty();
        Optional<NetworkPolicy> mine = current.filter(f -> name.equals(f.getMetadata().getName()));
        try {
            if (desired.isEmpty()) {
                if (mine.isPresent()) {
                    client.network().v1().networkPolicies().inNamespace(ns).withName(name).delete();
                }
                return Optional.empty();
            }
            if (mine.isEmpty() || !Objects.equals(mine.get().getSpec(), desired.get().getSpec())) {
                client.network().v1().networkPolicies().inNamespace(ns).resource(desired.get())
                        .fieldManager(MetadataNames.FIELD_MANAGER).forceConflicts().serverSideApply();
            }
            return Optional.empty();
        } catch (KubernetesClientException e) {
            return Optional.of("could not " + (wanted ? "keep" : "remove") + " the egress fence NetworkPolicy/" + name + ": "
                    + (e.getStatus() != null && e.getStatus().getMessage() != null ? e.getStatus().getMessage() : e.getMessage()));
        }
    }
}
