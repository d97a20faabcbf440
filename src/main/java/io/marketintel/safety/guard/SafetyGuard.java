package io.marketintel.safety.guard;

import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.GuardType;

/**
 * One kind of safety check. Implementations are {@code @ApplicationScoped} beans; the runner finds the one
 * whose {@link #type()} a policy's guard names. {@link #evaluate} may block (network, API reads): the runner
 * enforces the guard's timeout and turns exceptions into {@link GuardOutcome.Result#Error}.
 */
public interface SafetyGuard {
    GuardType type();

    GuardOutcome evaluate(GuardContext context) throws Exception;
}
