package io.marketintel.safety.killswitch;

import java.util.Objects;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;

import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.marketintel.safety.actuation.Markers;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;

/**
 * Keeps a policy's {@link EgressFence} in place or removes it; decides nothing. One read per call, and a
 * write only when the fence is missing or differs (hand-edited, or liveEgress changed).
 */
@ApplicationScoped
public class EgressFences {
    private final KubernetesClient client;

    public EgressFences(KubernetesClient client) {
        this.client = client;
    }

    /**
     * @param wanted the policy is not (yet) Live and approved, so its pods must not reach the gateways
     * @return what went wrong, for a condition; empty when the fence is as wanted
     */
    public Optional<String> converge(ExecutionPolicy policy, boolean wanted) {
        String ns = policy.getMetadata().getNamespace();
        String name = EgressFence.name(policy.getMetadata().getName());
        Optional<NetworkPolicy> desired = wanted ? EgressFence.fence(policy) : Optional.empty();
        try {
            var resource = client.network().v1().networkPolicies().inNamespace(ns).withName(name);
            NetworkPolicy current = resource.get();
            if (desired.isEmpty()) {
                if (current != null) {
                    resource.delete();
                }
                return Optional.empty();
            }
            if (current == null || !Objects.equals(current.getSpec(), desired.get().getSpec())) {
                client.network().v1().networkPolicies().inNamespace(ns).resource(desired.get())
                        .fieldManager(Markers.FIELD_MANAGER).forceConflicts().serverSideApply();
            }
            return Optional.empty();
        } catch (KubernetesClientException e) {
            return Optional.of("could not " + (wanted ? "keep" : "remove") + " the egress fence NetworkPolicy/" + name + ": "
                    + (e.getStatus() != null && e.getStatus().getMessage() != null ? e.getStatus().getMessage() : e.getMessage()));
        }
    }
}
