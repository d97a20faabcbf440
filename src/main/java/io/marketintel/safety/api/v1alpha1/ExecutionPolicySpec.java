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
    @Default(Defaults.TRANSITION_TIMEOUT)
    @JsonPropertyDescription("An escalation not complete within this time is rolled back to the previous safer mode.")
    public String transitionTimeout;

    @JsonPropertyDescription("Repeated failures within the window trip the breaker: the policy goes to Backtest and stays there until re-armed.")
    public CircuitBreaker circuitBreaker;

    @Size(max = 64)
    @JsonPropertyDescription("Order-gateway destinations. In every non-Live mode a NetworkPolicy denies the workloads egress to them.")
    public List<EgressTarget> liveEgress;

    @JsonPropertyDescription("HTTP endpoint on each pod called on emergency stop to cancel resting orders at the venue.")
    public CancelOrders cancelOrders;

    @Size(max = 16)
    @ValidationRule(value = "self.all(m, self.filter(n, n.name == m.name).size() == 1)", message = "monitor names must be unique")
    @JsonPropertyDescription("Risk monitors: PromQL queries against the Prometheus set in ExecutionSafety/global spec.monitoring,"
            + " evaluated while the system runs in one of each monitor's modes. A breach sets the emergency stop (or holds the"
            + " policy in DryRun), latched until re-armed.")
    public List<Monitor> monitors;

    /**
     * Every default of this spec, once: the CRD's {@code @Default} (what the API server fills in) and the code's
     * fallback for an object that reached the operator without it (a test fixture, an older CRD) read the same
     * constant. {@code @Default} needs a constant String, so a number or flag is written once as its typed value
     * and its {@code _TEXT} form is derived from it ({@code "" + 3} is a compile-time constant).
     */
    public static final class Defaults {
        /** spec.transitionTimeout. */
        public static final String TRANSITION_TIMEOUT = "5m";
        /** spec.dryRunSoak has no CRD default (unset: no soak needed); the code reads an unreadable one as this, and reports it. */
        public static final String DRY_RUN_SOAK = "0";
        /** spec.modeInjection.envVar. */
        public static final String MODE_ENV_VAR = "EXECUTION_MODE";
        /** spec.approval.requiredForLive. */
        public static final int APPROVALS_FOR_LIVE = 2;
        public static final String APPROVALS_FOR_LIVE_TEXT = "" + APPROVALS_FOR_LIVE;
        /** spec.approval.requiredForDryRun. */
        public static final int APPROVALS_FOR_DRY_RUN = 0;
        public static final String APPROVALS_FOR_DRY_RUN_TEXT = "" + APPROVALS_FOR_DRY_RUN;
        /** spec.approval.validity. */
        public static final String APPROVAL_VALIDITY = "1h";
        /** spec.guards[].timeout. */
        public static final String GUARD_TIMEOUT = "10s";
        /** spec.guards[].configuration.requirePinnedImages. */
        public static final boolean REQUIRE_PINNED_IMAGES = true;
        public static final String REQUIRE_PINNED_IMAGES_TEXT = "" + REQUIRE_PINNED_IMAGES;
        /** spec.riskLimits.currency. */
        public static final String CURRENCY = "USD";
        /** spec.circuitBreaker.maxFailures. */
        public static final int BREAKER_MAX_FAILURES = 3;
        public static final String BREAKER_MAX_FAILURES_TEXT = "" + BREAKER_MAX_FAILURES;
        /** spec.circuitBreaker.window. */
        public static final String BREAKER_WINDOW = "1h";
        /** spec.liveEgress[].ports[].protocol. */
        public static final String EGRESS_PROTOCOL_TEXT = "TCP";
        public static final Protocol EGRESS_PROTOCOL = Protocol.valueOf(EGRESS_PROTOCOL_TEXT);
        /** spec.cancelOrders.path. */
        public static final String CANCEL_ORDERS_PATH = "/cancel-orders";
        /** spec.cancelOrders.scheme. */
        public static final String CANCEL_ORDERS_SCHEME_TEXT = "HTTP";
        public static final Scheme CANCEL_ORDERS_SCHEME = Scheme.valueOf(CANCEL_ORDERS_SCHEME_TEXT);
        /** spec.cancelOrders.timeout. */
        public static final String CANCEL_ORDERS_TIMEOUT = "5s";
        /** spec.monitors[].for. */
        public static final String MONITOR_FOR = "0s";
        /** spec.monitors[].action. */
        public static final String MONITOR_ACTION_TEXT = "EmergencyStop";
        /** spec.monitors[].staleAfter. */
        public static final String MONITOR_STALE_AFTER = "5m";
        /** spec.monitors[].onNoData.action. */
        public static final String MONITOR_ON_NO_DATA_TEXT = "Alert";
        /** spec.monitors[].onNoData.failuresBeforeStop. */
        public static final int MONITOR_FAILURES_BEFORE_STOP = 3;
        public static final String MONITOR_FAILURES_BEFORE_STOP_TEXT = "" + MONITOR_FAILURES_BEFORE_STOP;

        private Defaults() {
        }
    }

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
        @Default(Defaults.MODE_ENV_VAR)
        @Size(min = 1, max = 128)
        @Pattern("^[A-Za-z_][A-Za-z0-9_]*$")
        @JsonPropertyDescription("Environment variable set to the mode on every container.")
        public String envVar;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Approval {
        @Min(0)
        @Max(10)
        @Default(Defaults.APPROVALS_FOR_LIVE_TEXT)
        @JsonPropertyDescription("Distinct approvals, none from the requester, needed to escalate to Live.")
        public Integer requiredForLive;

        @Min(0)
        @Max(10)
        @Default(Defaults.APPROVALS_FOR_DRY_RUN_TEXT)
        @JsonPropertyDescription("Distinct approvals needed to escalate from Backtest to DryRun.")
        public Integer requiredForDryRun;

        @JsonPropertyDescription("Who may approve. Empty means anyone allowed by the cluster caps and RBAC.")
        public Approvers approvers;

        @Pattern(Durations.PATTERN)
        @Default(Defaults.APPROVAL_VALIDITY)
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
        @Default(Defaults.GUARD_TIMEOUT)
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
        @Default(Defaults.REQUIRE_PINNED_IMAGES_TEXT)
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
        @Default(Defaults.CURRENCY)
        @Pattern("^[A-Z]{3}$")
        @JsonPropertyDescription("ISO 4217 currency of the amounts.")
        public String currency;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class CircuitBreaker {
        @Min(1)
        @Max(100)
        @Default(Defaults.BREAKER_MAX_FAILURES_TEXT)
        public Integer maxFailures;
        @Pattern(Durations.PATTERN)
        @Default(Defaults.BREAKER_WINDOW)
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
        @Default(Defaults.EGRESS_PROTOCOL_TEXT)
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
        @Default(Defaults.CANCEL_ORDERS_PATH)
        @Pattern("^/.*")
        @Size(max = 1024)
        public String path;
        @Default(Defaults.CANCEL_ORDERS_SCHEME_TEXT)
        public Scheme scheme;
        @Pattern(Durations.PATTERN)
        @Default(Defaults.CANCEL_ORDERS_TIMEOUT)
        public String timeout;
    }

    public enum Scheme {
        HTTP, HTTPS
    }

    /** One risk monitor (issue 23): a PromQL query, the side of a threshold that breaches, for how long, and what then. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Monitor {
        @Required
        @Size(min = 1, max = 63)
        @Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
        @JsonPropertyDescription("Unique name of this monitor within the policy; it names the monitor in the stop's reason, status and metrics.")
        public String name;

        @Required
        @Size(min = 1, max = 4096)
        @JsonPropertyDescription("A PromQL instant query. When it returns several series the worst one counts. The API server"
                + " cannot parse PromQL: a query Prometheus refuses is reported by the MonitorsReporting condition.")
        public String query;

        @Required
        @JsonPropertyDescription("The side of threshold that breaches: GreaterThan, GreaterThanOrEqual, LessThan, LessThanOrEqual.")
        public MonitorComparison comparison;

        @Required
        @JsonPropertyDescription("The value compared with the query's.")
        public Double threshold;

        @JsonProperty("for")
        @Pattern(Durations.PATTERN)
        @Default(Defaults.MONITOR_FOR)
        @JsonPropertyDescription("The condition must be seen holding at every evaluation for this long before it breaches.")
        public String holdFor;

        @Default(Defaults.MONITOR_ACTION_TEXT)
        @JsonPropertyDescription("EmergencyStop: the operator sets this policy's emergency-stop annotation (a latched stop, re-armed as any)."
                + " DeEscalate: the policy is held in DryRun until re-armed; Live then needs approvals again.")
        public MonitorAction action;

        @Size(min = 1, max = 2)
        @ValidationRule(value = "self.all(m, self.filter(n, n == m).size() == 1)", message = "each mode may be listed once")
        @JsonPropertyDescription("The modes in which this monitor is evaluated (the mode running, or the target of a transition under way). Default [Live].")
        public List<MonitoredMode> modes;

        @Pattern(Durations.PATTERN)
        @Default(Defaults.MONITOR_STALE_AFTER)
        @JsonPropertyDescription("A sample older than this is no reading.")
        public String staleAfter;

        @JsonPropertyDescription("What an evaluation without a reading does (no series, NaN, a stale sample, a failed query, no Prometheus set).")
        public OnNoData onNoData;
    }

    public enum MonitorComparison {
        GreaterThan, GreaterThanOrEqual, LessThan, LessThanOrEqual
    }

    public enum MonitorAction {
        EmergencyStop, DeEscalate
    }

    /** Monitors watch running systems: Backtest trades nothing. */
    public enum MonitoredMode {
        DryRun, Live
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class OnNoData {
        @Default(Defaults.MONITOR_ON_NO_DATA_TEXT)
        @JsonPropertyDescription("Hold: the condition and metric only. Alert: also a Warning Event and the metric the"
                + " ExecutionSafetyMonitorNoData alert reads. Stop: the emergency stop after failuresBeforeStop evaluations in a row without a reading.")
        public NoDataAction action;

        @Min(1)
        @Max(100)
        @Default(Defaults.MONITOR_FAILURES_BEFORE_STOP_TEXT)
        @JsonPropertyDescription("With action Stop: evaluations in a row without a reading before the stop.")
        public Integer failuresBeforeStop;
    }

    public enum NoDataAction {
        Hold, Alert, Stop
    }
}
