package io.marketintel.safety.reconciler;

import java.time.Clock;
import java.time.Instant;

import org.jboss.logging.Logger;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus;
import io.marketintel.safety.status.Conditions;

/**
 * Read → decide → act → report for one {@link ExecutionPolicy}. This first version observes the policy
 * and reports kstatus conditions stamped with the generation; transitions, guards, approvals and the
 * kill switch plug in at the "decide" and "act" steps.
 */
@ControllerConfiguration(name = ExecutionPolicyReconciler.NAME)
public class ExecutionPolicyReconciler implements Reconciler<ExecutionPolicy> {
    public static final String NAME = "executionpolicy";
    private static final Logger LOG = Logger.getLogger(ExecutionPolicyReconciler.class);

    private final Clock clock;
    private final KubernetesSerialization serialization;

    public ExecutionPolicyReconciler(Clock clock, KubernetesSerialization serialization) {
        this.clock = clock;
        this.serialization = serialization;
    }

    @Override
    public UpdateControl<ExecutionPolicy> reconcile(ExecutionPolicy policy, Context<ExecutionPolicy> context) {
        Instant now = clock.instant();
        long generation = policy.getMetadata().getGeneration() == null ? 0 : policy.getMetadata().getGeneration();
        ExecutionPolicyStatus before = policy.getStatus() == null ? new ExecutionPolicyStatus() : policy.getStatus();
        ExecutionPolicyStatus after = serialization.clone(before);

        after.observedGeneration = generation;
        after.phase = ExecutionPolicyStatus.Phase.Active;
        after.conditions = Conditions.set(after.conditions, Conditions.RECONCILING, false, "Observed",
                "generation " + generation + " observed", generation, now);
        after.conditions = Conditions.set(after.conditions, Conditions.STALLED, false, "Observed",
                "nothing is blocking this policy", generation, now);
        after.conditions = Conditions.set(after.conditions, Conditions.READY, true, "Observed",
                "policy observed at generation " + generation, generation, now);

        if (serialization.asJson(before).equals(serialization.asJson(after))) {
            return UpdateControl.noUpdate();
        }
        LOG.debugf("policy %s/%s: status updated for generation %d", policy.getMetadata().getNamespace(),
                policy.getMetadata().getName(), generation);
        ExecutionPolicy patch = new ExecutionPolicy();
        patch.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder()
                .withName(policy.getMetadata().getName())
                .withNamespace(policy.getMetadata().getNamespace())
                .build());
        patch.setStatus(after);
        return UpdateControl.patchStatus(patch);
    }
}
