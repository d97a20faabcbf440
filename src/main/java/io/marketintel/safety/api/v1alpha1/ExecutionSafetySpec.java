package io.marketintel.safety.api.v1alpha1;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
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

    @Size(max = 64)
    @JsonPropertyDescription("The only destinations the operator calls on a team's behalf: an Http guard's http.url and each"
            + " pod's cancel-orders endpoint. Unset or empty: no such call is made (the guard errors, the hook fails for"
            + " every pod). A DNS name is matched by a host entry only, an IP address by a cidr entry only; names are"
            + " never resolved to be matched.")
    public List<AllowedDestination> allowedDestinations;

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

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @ValidationRule(value = "has(self.host) != has(self.cidr)", message = "an allowed destination has exactly one of host or cidr")
    public static class AllowedDestination {
        @Size(max = 253)
        @ValidationRule(value = "!self.matches('(^|\\\\.)[0-9]+$')", message = "host is a DNS name: an IP address goes in cidr")
        @Pattern("^(\\*\\.)?[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*$")
        @JsonPropertyDescription("A DNS name matched exactly (case-insensitive), or *.suffix: any name ending in .suffix"
                + " (one label or more before it; never the suffix itself).")
        public String host;

        @Size(max = 64)
        @ValidationRule(value = "isCIDR(self)", message = "cidr must be a CIDR such as 10.244.0.0/16 or fd00::/8")
        @JsonPropertyDescription("IPv4 or IPv6 addresses, as a CIDR; matches a URL or pod whose address is an IP literal inside it.")
        public String cidr;

        @Size(max = 32)
        @ValidationRule(value = "self.all(p, p >= 1 && p <= 65535)", message = "ports are 1 to 65535")
        @JsonPropertyDescription("TCP ports allowed (the scheme's default, 80 or 443, when a URL names none). Unset: any port.")
        public List<Integer> ports;
    }
}
