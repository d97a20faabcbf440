package io.marketintel.safety.guard;

import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import io.marketintel.safety.actuation.ObservedWorkload;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.GuardType;

/** Every target runs all its replicas ready: no escalation from a system that is not healthy now. */
@ApplicationScoped
public class WorkloadReadyGuard implements SafetyGuard {
    @Override
    public GuardType type() {
        return GuardType.WorkloadReady;
    }

    @Override
    public GuardOutcome evaluate(GuardContext ctx) {
        if (ctx.workloads().isEmpty()) {
            return GuardOutcome.fail("no target workload found");
        }
        List<String> notReady = ctx.workloads().stream().filter(w -> w.readyReplicas() < w.replicas())
                .map(w -> w.id() + " " + w.readyReplicas() + "/" + w.replicas() + " ready").toList();
        if (!notReady.isEmpty()) {
            return GuardOutcome.fail("not ready: " + String.join(", ", notReady));
        }
        return GuardOutcome.pass("all " + ctx.workloads().size() + " workload(s) ready ("
                + String.join(", ", ctx.workloads().stream().map(ObservedWorkload::id).toList()) + ")");
    }
}
