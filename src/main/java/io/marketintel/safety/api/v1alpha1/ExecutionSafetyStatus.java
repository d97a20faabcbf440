package io.marketintel.safety.api.v1alpha1;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;

import io.fabric8.kubernetes.api.model.Condition;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class ExecutionSafetyStatus {
    public Long observedGeneration;
    public List<Condition> conditions = new ArrayList<>();
    public ExecutionPolicyStatus.EmergencyStop emergencyStop;
}
