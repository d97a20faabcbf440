package io.marketintel.safety.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * A Live write refused because the API server's cache of the Namespace does not show yet the register the pass just wrote
 * is decided again, not reported as a write failure (TransitionIT saw the refusal on a loaded CI machine). Only that
 * refusal, for that policy.
 */
class RegisterLagTest {
    static final String REFUSAL = "deployments.apps \"gamma\" is forbidden: ValidatingAdmissionPolicy 'execution-safety-mode-integrity'"
            + " with binding 'execution-safety-mode-integrity' denied request: Deployment gamma's pod template carries mode Live, but"
            + " ExecutionPolicy gamma is not Live in Namespace trading (the Namespace's safety.marketintel.io/live-policies, which the"
            + " operator keeps, does not name it; a policy that does not exist never is): a trading system enters Live only through"
            + " its policy.";

    @Test
    void onlyTheRegistersRefusalOfThisPolicyIsDecidedAgain() {
        assertThat(ExecutionPolicyReconciler.notYetRegistered(refused(403, REFUSAL), "gamma")).isTrue();
        assertThat(ExecutionPolicyReconciler.notYetRegistered(refused(403, REFUSAL), "delta")).as("another policy's").isFalse();
        assertThat(ExecutionPolicyReconciler.notYetRegistered(refused(409, REFUSAL), "gamma")).as("not a refusal by admission").isFalse();
        assertThat(ExecutionPolicyReconciler.notYetRegistered(refused(403, "ValidatingAdmissionPolicy 'execution-safety-mode-integrity'"
                + " denied request: Deployment gamma has two EXECUTION_MODE entries"), "gamma")).as("another rule").isFalse();
    }

    private static KubernetesClientException refused(int code, String message) {
        return new KubernetesClientException(new StatusBuilder().withCode(code).withMessage(message).build());
    }
}
