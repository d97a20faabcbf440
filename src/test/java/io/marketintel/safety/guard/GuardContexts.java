package io.marketintel.safety.guard;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.marketintel.safety.actuation.ObservedWorkload;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.GuardType;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.WorkloadKind;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus;
import io.marketintel.safety.api.v1alpha1.ExecutionSafety;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;

/** Builds guard contexts without a cluster. */
final class GuardContexts {
    private GuardContexts() {
    }

    static ExecutionPolicy policy(ExecutionPolicySpec.Guard guard, Map<String, String> annotations) {
        var spec = new ExecutionPolicySpec();
        spec.mode = ExecutionMode.LIVE;
        spec.workloads = new ExecutionPolicySpec.Workloads();
        spec.workloads.refs = List.of(new ExecutionPolicySpec.WorkloadRef(ExecutionPolicySpec.WorkloadKind.DEPLOYMENT, "momentum"));
        spec.guards = List.of(guard);
        var policy = new ExecutionPolicy();
        policy.setMetadata(new ObjectMetaBuilder().withNamespace("desk-fx").withName("momentum")
                .withUid("0b7c2f7e-5d4a-4c1e-9a57-2f1d3c4b5a69").withGeneration(7L)
                .withAnnotations(annotations).build());
        policy.setSpec(spec);
        return policy;
    }

    static GuardContext context(ExecutionPolicySpec.Guard guard, Instant now) {
        return context(policy(guard, Map.of()), guard, now);
    }

    static GuardContext context(ExecutionPolicy policy, ExecutionPolicySpec.Guard guard, Instant now) {
        return new GuardContext(policy, guard, ExecutionMode.DRY_RUN, ExecutionMode.LIVE, List.of(), Map.of(),
                Optional.empty(), now);
    }

    static final Instant NOW = Instant.parse("2026-11-26T15:00:00Z");

    static ExecutionPolicy policy(ExecutionMode mode) {
        ExecutionPolicy p = new ExecutionPolicy();
        p.setMetadata(new ObjectMetaBuilder().withName("fx").withNamespace("desk-a").withUid("uid-1").withGeneration(3L).build());
        p.setSpec(new ExecutionPolicySpec());
        p.getSpec().mode = mode;
        p.setStatus(new ExecutionPolicyStatus());
        return p;
    }

    static ExecutionPolicySpec.Guard guard(String name, GuardType type, String timeout) {
        var g = new ExecutionPolicySpec.Guard();
        g.name = name;
        g.type = type;
        g.timeout = timeout;
        return g;
    }

    static ObservedWorkload workload(String name, int replicas, int ready, String... images) {
        return new ObservedWorkload(WorkloadKind.DEPLOYMENT, name, Optional.of(ExecutionMode.DRY_RUN), replicas, ready,
                Optional.empty(), List.of(), List.of("strategy"), List.of(images), List.of(), replicas, "1");
    }

    static GuardContext context(ExecutionPolicy p, ExecutionPolicySpec.Guard g, ExecutionMode from, ExecutionMode to,
            List<ObservedWorkload> workloads, Map<String, String> labels, ExecutionSafety global) {
        return new GuardContext(p, g, from, to, workloads, labels, Optional.ofNullable(global), NOW);
    }
}
