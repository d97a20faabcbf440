package io.marketintel.safety.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * Declares the wanted execution mode of one trading system (its Deployments/StatefulSets in this
 * namespace). Short name {@code xp}: {@code ep} is taken by Endpoints.
 */
@Group(ExecutionPolicy.GROUP)
@Version(ExecutionPolicy.VERSION)
@Plural("executionpolicies")
@ShortNames("xp")
@Categories("safety")
@AdditionalPrinterColumn(name = "Desired", jsonPath = ".spec.mode", type = AdditionalPrinterColumn.Type.STRING)
// What runs: the effective mode, or Stopped while emergency-stopped (status.mode keeps the mode the targets resume from).
@AdditionalPrinterColumn(name = "Effective", jsonPath = ".status.effective", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.conditions[?(@.type==\"Ready\")].status",
        type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class ExecutionPolicy extends CustomResource<ExecutionPolicySpec, ExecutionPolicyStatus> implements Namespaced {
    public static final String GROUP = "safety.marketintel.io";
    public static final String VERSION = "v1alpha1";

    @Override
    protected ExecutionPolicyStatus initStatus() {
        return new ExecutionPolicyStatus();
    }
}
