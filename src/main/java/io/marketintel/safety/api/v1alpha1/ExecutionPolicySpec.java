package io.marketintel.safety.api.v1alpha1;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.LabelSelector;

@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "self.mode != 'Live' || has(self.riskLimits)",
        message = "riskLimits is required when mode is Live: limits are set before deployment (RTS 6 Art. 8)",
        fieldPath = ".riskLimits", reason = "FieldValueRequired")
public class ExecutionPolicySpec {

    @Required
    @JsonPropertyDescription("Wanted execution mode: Backtest (historical data only), DryRun (live data, simulated orders) or Live (real orders).")
    public ExecutionMode mode;

    @Required
    @JsonPropertyDescription("The Deployments/StatefulSets in this namespace that make up the trading system: an explicit list, a label selector, or both.")
    public Workloads workloads;

    @JsonPropertyDescription("Replicas per mode. A mode left unset runs the workload's own replica count, remembered before the operator first scales it.")
    public ModeReplicas replicas;

    @JsonPropertyDescription("How pods learn their mode: an env var on every container and the pod-template annotation " + MetadataNames.MODE_ANNOTATION + ".")
    public ModeInjection modeInjection;

    @JsonPropertyDescription("Four-eyes approval of escalations (to a riskier mode).")
    public Approval approval;

    @Size(max = 32)
    @ValidationRule(value = "self.all(g, self.filter(h, h.name == g.name).size() == 1)", message = "guard names must be unique")
    @JsonPropertyDescription("Safety guards that must all pass before an escalation. Never consulted for de-escalations or emergency stops.")
    public List<Guard> guards;

    @JsonPropertyDescription("Pre-trade risk limits. Required when mode is Live; checked against the cluster caps of ExecutionSafety/global.")
    public RiskLimits riskLimits;

    @Pattern(Durations.PATTERN)
    @JsonPropertyDescription("Minimum time spent healthy in DryRun before Live is allowed (RTS 6 Art. 7), e.g. 24h. Unset means no soak is required.")
    public String dryRunSoak;

    @Pattern(Durations.PATTERN)
    @Default("5m")
    @JsonPropertyDescription("An escalation not complete within this time is rolled back to the previous safer mode.")
    public String transitionTimeout;

    @JsonPropertyDescription("Repeated failures within the window trip the breaker: the policy goes to Backtest and stays there until re-armed.")
    public CircuitBreaker circuitBreaker;

    @Size(max = 64)
    @JsonPropertyDescription("Order-gateway destinations. In every non-Live mode a NetworkPolicy denies the workloads egress to them.")
    public List<EgressTarget> liveEgress;

    @JsonPropertyDescription("HTTP endpoint on each pod called on emergency stop to cancel resting orders at the venue.")
    public CancelOrders cancelOrders;

    /** Targets: explicit references and/or a label selector. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @ValidationRule(value = "has(self.refs) || has(self.selector)", message = "workloads needs refs, a selector, or both")
    public static class Workloads {
        @Size(max = 64)
        @ValidationRule(value = "self.all(r, self.filter(s, s.kind == r.kind && s.name == r.name).size() == 1)",
                message = "each workload may be listed once")
        @JsonPropertyDescription("Workloads by kind and name.")
        public List<WorkloadRef> refs;

        @JsonPropertyDescription("Deployments and StatefulSets in this namespace whose labels match.")
        public LabelSelector selector;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class WorkloadRef {
        @Required
        @JsonPropertyDescription("Deployment or StatefulSet.")
        public WorkloadKind kind;

        @Required
        @Size(min = 1, max = 253)
        @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
        @JsonPropertyDescription("Name of the workload in the policy's namespace.")
        public String name;

        public WorkloadRef() {
        }

        public WorkloadRef(WorkloadKind kind, String name) {
            this.kind = kind;
            this.name = name;
        }
    }

    public enum WorkloadKind {
        @JsonProperty("Deployment")
        DEPLOYMENT,
        @JsonProperty("StatefulSet")
        STATEFUL_SET
    }

    /** Replica counts per mode; an unset mode keeps the workload's original count. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class ModeReplicas {
        @Min(0)
        @Max(10000)
        public Integer backtest;
        @Min(0)
        @Max(10000)
        public Integer dryRun;
        @Min(0)
        @Max(10000)
        public Integer live;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class ModeInjection {
        @Default(ModeInjection.DEFAULT_ENV_VAR)
        @Size(min = 1, max = 128)
        @Pattern("^[A-Za-z_][A-Za-z0-9_]*$")
        @JsonPropertyDescription("Environment variable set to the mode on every container.")
        public String envVar;

        public static final String DEFAULT_ENV_VAR = "EXECUTION_MODE";
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Approval {
        @Min(0)
        @Max(10)
        @Default("2")
        @JsonPropertyDescription("Distinct approvals, none from the requester, needed to escalate to Live.")
        public Integer requiredForLive;

        @Min(0)
        @Max(10)
        @Default("0")
        @JsonPropertyDescription("Distinct approvals needed to escalate from Backtest to DryRun.")
        public Integer requiredForDryRun;

        @JsonPropertyDescription("Who may approve. Empty means anyone allowed by the cluster caps and RBAC.")
        public Approvers approvers;

        @Pattern(Durations.PATTERN)
        @Default("1h")
        @JsonPropertyDescription("How long an approval stays valid.")
        public String validity;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Approvers {
        @Size(max = 64)
        public List<String> users;
        @Size(max = 64)
        public List<String> groups;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @ValidationRule(value = "self.type != 'Http' || has(self.http)", message = "a guard of type Http needs the http block", fieldPath = ".http", reason = "FieldValueRequired")
    @ValidationRule(value = "self.type != 'TradingWindow' || has(self.tradingWindow)", message = "a guard of type TradingWindow needs the tradingWindow block", fieldPath = ".tradingWindow", reason = "FieldValueRequired")
    @ValidationRule(value = "self.type != 'Configuration' || has(self.configuration)", message = "a guard of type Configuration needs the configuration block", fieldPath = ".configuration", reason = "FieldValueRequired")
    public static class Guard {
        @Required
        @Size(min = 1, max = 63)
        @Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
        @JsonPropertyDescription("Unique name of this guard within the policy.")
        public String name;

        @Required
        public GuardType type;

        @Pattern(Durations.PATTERN)
        @Default("10s")
        @JsonPropertyDescription("A guard that has not answered within this time fails.")
        public String timeout;

        public TradingWindow tradingWindow;
        public HttpCheck http;
        public ConfigurationCheck configuration;
    }

    public enum GuardType {
        WorkloadReady, RiskLimits, Configuration, TradingWindow, DryRunSoak, EnvironmentRule, Http
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class TradingWindow {
        @Required
        @Size(min = 1, max = 64)
        @JsonPropertyDescription("IANA time zone the windows are written in, e.g. America/New_York.")
        public String timeZone;

        @Required
        @Size(min = 1, max = 16)
        public List<Window> windows;

        // No CEL here: list items cannot carry a maxLength, so a per-item regex busts the CEL cost budget.
        // The TradingWindow guard rejects malformed dates with a condition naming them.
        @Size(max = 366)
        @JsonPropertyDescription("Dates (YYYY-MM-DD, in timeZone) with no trading.")
        public List<String> holidays;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Window {
        @Required
        @Size(min = 1, max = 7)
        public List<Weekday> days;
        @Required
        @Pattern("^([01][0-9]|2[0-3]):[0-5][0-9]$")
        @JsonPropertyDescription("Opening time, HH:MM.")
        public String start;
        @Required
        @Pattern("^([01][0-9]|2[0-3]):[0-5][0-9]$")
        @JsonPropertyDescription("Closing time, HH:MM (exclusive).")
        public String end;
    }

    public enum Weekday {
        Mon, Tue, Wed, Thu, Fri, Sat, Sun
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class HttpCheck {
        @Required
        @Size(max = 2048)
        @ValidationRule(value = "isURL(self) && url(self).getScheme() in ['http', 'https']", message = "url must be an absolute http or https URL")
        @JsonPropertyDescription("The policy context is POSTed here as JSON; the guard passes only on an explicit {\"allow\": true}.")
        public String url;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class ConfigurationCheck {
        @Size(max = 64)
        public List<ObjectKeys> configMaps;
        @Size(max = 64)
        public List<ObjectKeys> secrets;
        @Default("true")
        @JsonPropertyDescription("Fail when a container image is not pinned by digest or a tag other than latest.")
        public Boolean requirePinnedImages;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class ObjectKeys {
        @Required
        @Size(min = 1, max = 253)
        public String name;
        @Size(max = 64)
        public List<String> keys;
    }

    /** Pre-trade limits (SEC 15c3-5, RTS 6 Art. 8); amounts are in {@link #currency}. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class RiskLimits {
        @Required
        @Min(value = 0, inclusive = false)
        public Double maxOrderNotional;
        @Required
        @Min(value = 0, inclusive = false)
        public Double maxPosition;
        @Required
        @Min(value = 0, inclusive = false)
        public Double maxDailyLoss;
        @Required
        @Min(value = 0, inclusive = false)
        public Double maxOrdersPerSecond;
        @Default("USD")
        @Pattern("^[A-Z]{3}$")
        @JsonPropertyDescription("ISO 4217 currency of the amounts.")
        public String currency;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class CircuitBreaker {
        @Min(1)
        @Max(100)
        @Default("3")
        public Integer maxFailures;
        @Pattern(Durations.PATTERN)
        @Default("1h")
        public String window;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class EgressTarget {
        @Required
        @Size(max = 64)
        @ValidationRule(value = "isCIDR(self)", message = "cidr must be a CIDR such as 203.0.113.0/24")
        public String cidr;
        @Size(max = 32)
        public List<EgressPort> ports;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class EgressPort {
        @Required
        @Min(1)
        @Max(65535)
        public Integer port;
        @Default("TCP")
        public Protocol protocol;
    }

    public enum Protocol {
        TCP, UDP, SCTP
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class CancelOrders {
        @Required
        @Min(1)
        @Max(65535)
        public Integer port;
        @Default("/cancel-orders")
        @Pattern("^/.*")
        @Size(max = 1024)
        public String path;
        @Default("HTTP")
        public Scheme scheme;
        @Pattern(Durations.PATTERN)
        @Default("5s")
        public String timeout;
    }

    public enum Scheme {
        HTTP, HTTPS
    }
}
