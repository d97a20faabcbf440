package io.marketintel.safety.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * Cluster-wide safety settings: risk caps, allowed approvers, environment rules, and (by annotation) the
 * cluster-wide emergency stop. A singleton: the only accepted name is {@value #SINGLETON_NAME}.
 */
@Group(ExecutionPolicy.GROUP)
@Version(ExecutionPolicy.VERSION)
@Plural("executionsafeties")
@ShortNames("xsafety")
@Categories("safety")
// fieldPath cannot point into metadata, so the message names the field itself.
@ValidationRule(value = "self.metadata.name == 'global'",
        message = "metadata.name must be 'global': ExecutionSafety is a cluster singleton")
@AdditionalPrinterColumn(name = "Stopped", jsonPath = ".status.emergencyStop.active", type = AdditionalPrinterColumn.Type.BOOLEAN)
@AdditionalPrinterColumn(name = "By", jsonPath = ".status.emergencyStop.stoppedBy", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Epoch", jsonPath = ".status.emergencyStop.epoch", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Latched", jsonPath = ".status.emergencyStop.policiesLatched", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.conditions[?(@.type==\"Ready\")].status",
        type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
@AdditionalPrinterColumn(name = "Reason", jsonPath = ".status.emergencyStop.reason", type = AdditionalPrinterColumn.Type.STRING)
public class ExecutionSafety extends CustomResource<ExecutionSafetySpec, ExecutionSafetyStatus> {
    public static final String SINGLETON_NAME = "global";

    @Override
    protected ExecutionSafetyStatus initStatus() {
        return new ExecutionSafetyStatus();
    }
}
