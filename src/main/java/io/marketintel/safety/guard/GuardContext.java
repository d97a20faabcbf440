package io.marketintel.safety.guard;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.marketintel.safety.actuation.ObservedWorkload;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;
import io.marketintel.safety.api.v1alpha1.ExecutionSafety;

/**
 * What a guard may look at for one escalation, read once by the reconciler.
 *
 * @param policy          the policy (spec, status, metadata)
 * @param guard           this guard's entry in spec.guards (name, type, timeout and its own settings)
 * @param from            the mode being left (Backtest when the policy has none yet)
 * @param to              the mode asked for
 * @param workloads       the targets as observed in this pass
 * @param namespaceLabels labels of the policy's namespace
 * @param global          the cluster singleton ExecutionSafety/global, if it exists
 * @param now             the clock
 */
public record GuardContext(ExecutionPolicy policy, ExecutionPolicySpec.Guard guard, ExecutionMode from, ExecutionMode to,
        List<ObservedWorkload> workloads, Map<String, String> namespaceLabels, Optional<ExecutionSafety> global,
        Instant now) {

    public GuardContext {
        workloads = List.copyOf(workloads);
        namespaceLabels = Map.copyOf(namespaceLabels);
    }

    public String namespace() {
        return policy.getMetadata().getNamespace();
    }
}
