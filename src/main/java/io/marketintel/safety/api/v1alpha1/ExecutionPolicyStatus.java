package io.marketintel.safety.api.v1alpha1;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.kubernetes.api.model.Condition;

/**
 * Everything the operator knows about a policy lives here, not in memory, so a restarted operator resumes
 * any step (DESIGN §7) and the last safe state is a data question (Flink operator style).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ExecutionPolicyStatus {
    @JsonPropertyDescription("The metadata.generation this status describes.")
    public Long observedGeneration;

    @JsonPropertyDescription("Effective mode: the last mode every target fully reached; their pod templates carry it. While"
            + " emergency-stopped the targets are held at zero replicas and nothing runs: see effective and phase.")
    public ExecutionMode mode;

    @JsonPropertyDescription("What runs, for people (the EFFECTIVE column): the effective mode, or Stopped while an emergency"
            + " stop holds every target at zero replicas.")
    public String effective;

    public Phase phase;

    @JsonPropertyDescription("kstatus conditions (Ready, Reconciling, Stalled) and domain ones (Approved, GuardsPassed, EmergencyStopped;"
            + " MonitorsReporting while the policy declares monitors).")
    public List<Condition> conditions = new ArrayList<>();

    @JsonPropertyDescription("The transition in flight, if any.")
    public Transition transition;

    @JsonPropertyDescription("Per-workload state.")
    public List<WorkloadState> workloads;

    @JsonPropertyDescription("What an escalation is waiting for: the token approvals must name, and who has approved.")
    public ApprovalState approval;

    @JsonPropertyDescription("Latest guard results.")
    public List<GuardResult> guards;

    public EmergencyStop emergencyStop;

    public CircuitBreakerState circuitBreaker;

    @JsonPropertyDescription("Each risk monitor (spec.monitors) as the last evaluation left it.")
    public List<MonitorStatus> monitors;

    @JsonPropertyDescription("A risk monitor with action DeEscalate breached: the policy is held in DryRun until re-armed.")
    public MonitorHold monitorHold;

    @JsonPropertyDescription("When the effective mode was last reached; the DryRun soak is measured from here.")
    public String modeSince;

    @JsonPropertyDescription("The most recent transitions, newest first.")
    public List<TransitionRecord> history;

    /** {@link #effective} while an emergency stop holds every target at zero replicas. */
    public static final String STOPPED = "Stopped";
    /** {@link #effective} while a stop is in force and pods of the system still run. */
    public static final String STOPPING = "Stopping";

    public enum Phase {
        /** Not evaluated yet. */
        Pending,
        /** Targets are being reconfigured. */
        Transitioning,
        /** Every target runs in the desired mode. */
        Active,
        /** An escalation waits for approvals. */
        AwaitingApproval,
        /** An escalation is refused, a guard fails, or the circuit breaker is open; a person must act. */
        Blocked,
        /** An emergency stop is in force and pods of the system still run: the operator is removing them. */
        Stopping,
        /** Latched emergency stop: every target held at zero replicas and no pod of the system left, until re-armed. */
        EmergencyStopped,
        /** The operator cannot act on this policy (bad reference, conflict); see conditions. */
        Failed
    }

    @JsonPropertyDescription("The stop counts (annotation " + MetadataNames.EMERGENCY_STOP_COUNT_ANNOTATION + ") of the Namespace and of"
            + " ExecutionSafety/global this policy has taken into account: a higher count there is a stop it has not seen,"
            + " applied even if its annotation was removed meanwhile.")
    public StopsSeen stopsSeen;

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class StopsSeen {
        public Long namespace;
        public Long cluster;
        @JsonPropertyDescription("The " + MetadataNames.EMERGENCY_STOP_ID_ANNOTATION + " of the policy's own stop annotation this"
                + " policy has seen: the API server lets that annotation be removed only once it is recorded here.")
        public String policy;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Transition {
        public ExecutionMode from;
        public ExecutionMode to;
        @JsonPropertyDescription("Actuation step reached: ScalingDown, Draining, Reconfiguring, ScalingUp, Converged.")
        public String step;
        public String startedAt;
        public String requester;
        public List<String> approvers;
        public String trigger;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class WorkloadState {
        public String kind;
        public String name;
        public ExecutionMode mode;
        @JsonPropertyDescription("Replica count before the operator first scaled this workload; restored when a mode has no count of its own.")
        public Integer originalReplicas;
        public Integer replicas;
        public Integer readyReplicas;
        public String message;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class ApprovalState {
        @JsonPropertyDescription("Approvals must name this token; it is bound to the exact spec, the stop epoch and the pod templates listed in templates.")
        public String token;
        @JsonPropertyDescription("What the token binds of the workloads: KIND/NAME@DIGEST of each target's pod template (canonical, without the operator's own fields). A template change makes a new token.")
        public List<String> templates;
        public Integer required;
        public String requester;
        public List<Approver> approvedBy;
        @JsonPropertyDescription("Approvals present but not counted, each with the reason.")
        public List<Approver> rejected;
        @JsonPropertyDescription("When the first counted approval lapses.")
        public String expiresAt;
        @JsonPropertyDescription("The command an approver runs.")
        public String command;
        @JsonPropertyDescription("Per approver, how many approvals of this token and when the latest was first seen (validity runs from there).")
        public List<Approver> seen;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Approver {
        public String user;
        public String at;
        public String reason;
        public Integer lines;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class GuardResult {
        public String name;
        public String type;
        @JsonPropertyDescription("Pass, Fail or Error.")
        public String result;
        public String message;
        public Long durationMillis;
        public String evaluatedAt;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class EmergencyStop {
        @JsonPropertyDescription("Every target is held at zero replicas until re-armed.")
        public Boolean active;
        @JsonPropertyDescription("Where the stop came from: Policy, Namespace or Cluster.")
        public String scope;
        @JsonPropertyDescription("The object carrying the stop annotation, e.g. Namespace/trading.")
        public String source;
        public String reason;
        @JsonPropertyDescription("Who set the stop annotation, as recorded by the API server.")
        public String stoppedBy;
        public String stoppedAt;
        @JsonPropertyDescription("Increments on every stop and breaker trip; approvals and re-arms from an earlier epoch never count again.")
        public Long epoch;
        @JsonPropertyDescription("From the stop being seen to zero replicas written on every target.")
        public Long latencyMillis;
        @JsonPropertyDescription("Pods of the stopped system that still exist (running, or terminating within their grace"
                + " period); the stop is complete at 0.")
        public Integer podsRunning;
        @JsonPropertyDescription("What still runs of the stopped system, one entry per pod with why (at most 20 listed).")
        public List<String> running;
        @JsonPropertyDescription("From the stop being seen to no pod of the system left: the stop is complete.")
        public Long completedMillis;
        @JsonPropertyDescription("Why the latch holds, or what released it.")
        public String message;
        public String rearmedBy;
        public String rearmedAt;
        @JsonPropertyDescription("The cancel-orders call to each pod that was running when the stop was applied.")
        public List<CancelOrdersOutcome> cancelOrders;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class CancelOrdersOutcome {
        public String pod;
        @JsonPropertyDescription("Succeeded or Failed.")
        public String result;
        public String message;
        public Long durationMillis;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class CircuitBreakerState {
        /** The values of {@link #state}. */
        public enum Position {
            Open, Closed
        }

        @JsonPropertyDescription("Closed, or Open: held in Backtest until re-armed.")
        public String state;

        /** Whether {@code status} records an open breaker. */
        public static boolean open(ExecutionPolicyStatus status) {
            return status.circuitBreaker != null && Position.Open.name().equals(status.circuitBreaker.state);
        }
        @JsonPropertyDescription("Failures within spec.circuitBreaker.window, newest first.")
        public List<BreakerFailure> failures;
        public String openedAt;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class BreakerFailure {
        public String at;
        @JsonPropertyDescription("TransitionTimedOut or CrashLoop.")
        public String reason;
        public String message;
        @JsonPropertyDescription("Identifies the failure, so one failure seen on many passes counts once.")
        public String key;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class TransitionRecord {
        public ExecutionMode from;
        public ExecutionMode to;
        public String at;
        public String trigger;
        public String outcome;
        public String requester;
        public List<String> approvers;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class MonitorStatus {
        public String name;
        @JsonPropertyDescription("NotEvaluated (not in one of its modes, or the policy is latched), Unknown (not evaluated yet),"
                + " Ok, Pending (the condition holds, not yet for its for), Breached, NoData.")
        public String phase;
        @JsonPropertyDescription("When the monitor entered this phase.")
        public String since;
        @JsonPropertyDescription("The value and threshold at that moment, or why there is no reading.")
        public String message;
        @JsonPropertyDescription("The value at that moment (the worst series); absent without a reading.")
        public Double value;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class MonitorHold {
        public Boolean active;
        @JsonPropertyDescription("The monitor that breached.")
        public String monitor;
        @JsonPropertyDescription("The monitor, its value and threshold.")
        public String reason;
        public String since;

        public static boolean active(ExecutionPolicyStatus status) {
            return status.monitorHold != null && Boolean.TRUE.equals(status.monitorHold.active);
        }
    }
}
