package io.marketintel.safety.api.v1alpha1;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.generator.annotation.Default;
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

    @JsonPropertyDescription("Where the policies' risk monitors read their values (spec.monitors), and how often. Unset: every"
            + " monitor has no reading, and does what its onNoData says.")
    public Monitoring monitoring;

    /** The defaults of spec.monitoring, read by the CRD and by the code. */
    public static final class Defaults {
        /** spec.monitoring.interval. */
        public static final String MONITORING_INTERVAL = "15s";
        /** spec.monitoring.prometheus.timeout. */
        public static final String PROMETHEUS_TIMEOUT = "5s";
        /** spec.monitoring.prometheus.caSecret.key. */
        public static final String CA_KEY = "ca.crt";

        private Defaults() {
        }
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Monitoring {
        @Required
        public Prometheus prometheus;

        @Pattern(Durations.PATTERN)
        @Default(Defaults.MONITORING_INTERVAL)
        @ValidationRule(value = "!self.matches('^0$|^[0-9]+ms$|^0(\\\\.[0-9]+)?s$')", message = "interval must be at least 1s")
        @JsonPropertyDescription("How often every monitor due is evaluated (all in parallel). At least 1s.")
        public String interval;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Prometheus {
        @Required
        @Size(max = 2048)
        @ValidationRule(value = "isURL(self) && url(self).getScheme() in ['http', 'https']", message = "url must be an absolute http or https URL")
        @ValidationRule(value = "!self.contains('@') && !self.contains('?') && !self.contains('#')",
                message = "url must carry no credentials, query or fragment: use bearerTokenSecret or clientCertificateSecret")
        @JsonPropertyDescription("Base URL of the Prometheus HTTP API; queries go to <url>/api/v1/query. A path prefix is kept.")
        public String url;

        @JsonPropertyDescription("A Secret in the operator's namespace whose key holds a bearer token sent with every query.")
        public SecretKey bearerTokenSecret;

        @JsonPropertyDescription("A kubernetes.io/tls Secret in the operator's namespace (tls.crt, tls.key: an unencrypted PKCS#8"
                + " key) for mutual TLS; https only.")
        public SecretName clientCertificateSecret;

        @JsonPropertyDescription("A Secret in the operator's namespace whose key holds the PEM certificate authorities trusted for"
                + " Prometheus's certificate (only these then); https only. Unset: the JVM's default trust.")
        public CaSecret caSecret;

        @Pattern(Durations.PATTERN)
        @Default(Defaults.PROMETHEUS_TIMEOUT)
        @JsonPropertyDescription("The longest one query may take; a query that takes longer is no reading.")
        public String timeout;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class SecretKey {
        @Required
        @Size(min = 1, max = 253)
        public String name;
        @Required
        @Size(min = 1, max = 253)
        public String key;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class SecretName {
        @Required
        @Size(min = 1, max = 253)
        public String name;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class CaSecret {
        @Required
        @Size(min = 1, max = 253)
        public String name;
        @Size(min = 1, max = 253)
        @Default(Defaults.CA_KEY)
        public String key;
    }

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
