package io.marketintel.safety.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.OperatorException;

/** A status write refused by the optimistic lock is a retry, not an OperatorError, however the SDK wraps it. */
class ConflictTest {

    @Test
    void aConflictIsRecognisedWrappedOrNot() {
        KubernetesClientException conflict = new KubernetesClientException("the object has been modified", 409, null);
        assertThat(ExecutionPolicyReconciler.conflict(conflict)).isTrue();
        assertThat(ExecutionPolicyReconciler.conflict(new OperatorException("status write", conflict))).isTrue();
        assertThat(ExecutionPolicyReconciler.conflict(new KubernetesClientException("not found", 404, null))).isFalse();
        assertThat(ExecutionPolicyReconciler.conflict(new OperatorException("other", new IllegalStateException("x")))).isFalse();
    }
}
