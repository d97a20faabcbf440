package io.marketintel.safety.api.v1alpha1;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.kubernetes.api.model.LabelSelector;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class ExecutionSafetySpec {

    @JsonPropertyDescription("Upper bounds every policy's riskLimits must stay within.")
    public RiskCaps riskCaps;

    @JsonPropertyDescription("If set, only these users/groups may ever approve, whatever a policy says.")
    public ExecutionPolicySpec.Approvers allowedApprovers;

    @Min(0)
    @Max(10)
    @JsonPropertyDescription("Floor on approvals for Live: a policy asking for fewer is raised to this.")
    public Integer minLiveApprovals;

    @Size(max = 64)
    @JsonPropertyDescription("Namespace rules, e.g. namespaces labelled environment=non-production may never be Live.")
    public List<EnvironmentRule> environmentRules;

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class RiskCaps {
        @Min(value = 0, inclusive = false)
        public Double maxOrderNotional;
        @Min(value = 0, inclusive = false)
        public Double maxPosition;
        @Min(value = 0, inclusive = false)
        public Double maxDailyLoss;
        @Min(value = 0, inclusive = false)
        public Double maxOrdersPerSecond;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class EnvironmentRule {
        @Required
        @Size(min = 1, max = 63)
        public String name;
        @Required
        @JsonPropertyDescription("Namespaces whose labels match.")
        public LabelSelector namespaceSelector;
        @Required
        @JsonPropertyDescription("The riskiest mode a policy in those namespaces may run.")
        public ExecutionMode maxMode;
    }
}
