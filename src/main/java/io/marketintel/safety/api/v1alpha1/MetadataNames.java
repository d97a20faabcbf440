package io.marketintel.safety.api.v1alpha1;

/**
 * Every annotation and label name the operator, its admission policies (k8s/admission, the Helm chart) and its
 * users share, in one place. Code refers to these constants; {@code MetadataNamesTest} fails when a
 * {@code safety.marketintel.io/...} literal appears anywhere else in src/main/java, or when the shipped YAML and
 * docs use a name that is not defined here. The names are spelled out in full so that grepping for one finds it.
 */
public final class MetadataNames {
    // --- Written by people (kubectl annotate); read by the operator and the admission policies.

    /** Person, on an ExecutionPolicy, Namespace or ExecutionSafety/global: emergency stop, value = reason (DESIGN §6). */
    public static final String EMERGENCY_STOP_ANNOTATION = "safety.marketintel.io/emergency-stop";
    /** Person (an approver), on an ExecutionPolicy: the approval token; admission turns it into a line of {@link #APPROVALS_ANNOTATION}. */
    public static final String APPROVE_ANNOTATION = "safety.marketintel.io/approve";
    /** Person (designated staff), on an ExecutionPolicy: re-arm of a latched stop, value = epoch; admission turns it into {@link #REARMED_BY_ANNOTATION}. */
    public static final String REARM_ANNOTATION = "safety.marketintel.io/rearm";

    // --- Written only by the admission policies (the API server), from request.userInfo; read by the operator.

    /** Admission, on an ExecutionPolicy: who stopped it, so status names the authenticated user, not annotation text. */
    public static final String EMERGENCY_STOP_BY_ANNOTATION = "safety.marketintel.io/emergency-stop-by";
    /**
     * How many times a stop was set (or its reason changed) on a Namespace or ExecutionSafety/global, counted by the API
     * server (MutatingAdmissionPolicy execution-safety-stopper): a policy whose status has seen fewer missed one, even
     * if the annotation was removed before the operator saw it (issue 20).
     */
    public static final String EMERGENCY_STOP_COUNT_ANNOTATION = "safety.marketintel.io/emergency-stop-count";
    /**
     * Which stop a policy's own stop annotation is, stamped by the API server (execution-safety-stopper: the resourceVersion
     * the stop was set on) each time the stop is set or its reason changed. The annotation can be removed only once status
     * records this id ({@code status.stopsSeen.policy}): "status shows a stop active" alone let a second stop, set while
     * an earlier one was still latched, be removed unseen and released by the earlier stop's re-arm (found by the
     * insider tier).
     */
    public static final String EMERGENCY_STOP_ID_ANNOTATION = "safety.marketintel.io/emergency-stop-id";
    /**
     * The policy's Namespace's {@link #EMERGENCY_STOP_COUNT_ANNOTATION} when the policy was created, stamped by the API
     * server: what a policy whose status has recorded no count yet has seen.
     */
    public static final String NAMESPACE_STOPS_AT_CREATION_ANNOTATION = "safety.marketintel.io/namespace-stops-at-creation";
    /** Admission, on an ExecutionPolicy: {@code "<user> <epoch>"} of the last re-arm, so only the named user re-arms. */
    public static final String REARMED_BY_ANNOTATION = "safety.marketintel.io/rearmed-by";
    /** Admission, on an ExecutionPolicy: one {@code "<user> <token>"} line per approval, user as authenticated (DESIGN §4). */
    public static final String APPROVALS_ANNOTATION = "safety.marketintel.io/approvals";
    /** Admission, on an ExecutionPolicy: the user who asked for the escalation, who may not approve it. */
    public static final String REQUESTED_BY_ANNOTATION = "safety.marketintel.io/requested-by";

    // --- Written by the operator on what it governs.

    /** Operator, label on workloads, their pod templates and egress-fence NetworkPolicies: the governing ExecutionPolicy. */
    public static final String POLICY_LABEL = "safety.marketintel.io/policy";
    /** Operator, pod-template annotation: the execution mode, so pods (and their readers) see it. */
    public static final String MODE_ANNOTATION = "safety.marketintel.io/mode";
    /** Operator, workload annotation: the replica count before the operator first scaled it, restored later. */
    public static final String ORIGINAL_REPLICAS_ANNOTATION = "safety.marketintel.io/original-replicas";
    /**
     * Operator, on a Namespace: the policies of that namespace that may run Live now, a sorted comma list. The API
     * server admits a Live pod or pod template labelled for a policy only when this names it
     * (execution-safety-mode-integrity), so a label naming a policy that does not exist, or no longer does, never runs
     * Live; only the operator adds a name (execution-safety-live-register). The operator adds a policy once its status
     * allows Live and removes it before it writes a status that does not (issue 21).
     */
    public static final String LIVE_POLICIES_ANNOTATION = "safety.marketintel.io/live-policies";
    /**
     * Operator, on a Namespace: the env var of each policy of that namespace that names its own
     * ({@code spec.modeInjection.envVar} other than EXECUTION_MODE), "NAME=VAR" entries in a sorted comma list. The API
     * server checks that env var on the policy's pods and pod templates from here (execution-safety-policy-mode), one
     * evaluation per write however many policies the namespace has; only the operator adds or changes an entry
     * (execution-safety-live-register), before it configures a template (issue 22).
     */
    public static final String MODE_ENV_VARS_ANNOTATION = "safety.marketintel.io/mode-env-vars";
    /**
     * Operator, on a Namespace: the replica ceiling of every workload a policy of that namespace governs, the count the
     * operator sets for the mode the policy is in or heading to, "KIND/NAME=REPLICAS:POLICY:MODE" entries in a sorted comma
     * list. The API server refuses anyone but the operator a raise above it, by the workload or its scale subresource
     * (execution-safety-replicas), one evaluation per raise however many policies the namespace has; nobody but the
     * operator changes it (execution-safety-live-register). Written with the other registers of the Namespace, before the
     * workloads are (issue 22).
     */
    public static final String REPLICA_CEILINGS_ANNOTATION = "safety.marketintel.io/replica-ceilings";
    /**
     * Label on an ExecutionPolicy whose stop is in force, value "true" (issue 22). The admission policies that judge a pod
     * or a workload by its policy's stop take only the policies so labelled as parameters, so a write costs one
     * evaluation per stopped policy of its namespace, not one per policy. Admission sets it with the stop annotation and
     * keeps it against anyone but the operator (execution-safety-stopped-label); the operator sets it before it records
     * any other latch and removes it once the policy is released.
     */
    public static final String STOPPED_LABEL = "safety.marketintel.io/stopped";
    /**
     * Operator, on a Namespace: the lowest count of the Namespace's stops that every policy of it has recorded in
     * {@code status.stopsSeen.namespace}. While {@link #EMERGENCY_STOP_COUNT_ANNOTATION} is higher, the API server refuses
     * every labelled pod of the Namespace (execution-safety-stopped-namespace-pods): a stop set and removed while the
     * operator was down still holds. Only the operator raises it (execution-safety-live-register).
     */
    public static final String EMERGENCY_STOPS_RECORDED_ANNOTATION = "safety.marketintel.io/emergency-stops-recorded";
    /**
     * Operator, label on a Namespace, value "true": the operator has seen an ExecutionPolicy there (issue 22). The API
     * server then judges a pod or pod template that carries a mode without the policy label there with no parameter
     * (binding execution-safety-unowned-live-governed) instead of once per policy of the namespace; elsewhere it still
     * takes the namespace's policies as parameters. It stays after the last policy is deleted (the namespace stays
     * governed) until someone removes it; removing it where policies remain changes nothing but the cost.
     */
    public static final String GOVERNED_LABEL = "safety.marketintel.io/governed";
    /** Operator: field manager of every server-side apply, so GitOps tools can ignore exactly these fields (DESIGN §7). */
    public static final String FIELD_MANAGER = "execution-safety-operator";
    /** Operator, label on the objects it creates itself (egress fences), with value {@link #MANAGED_BY}. */
    public static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
    /** Operator: value of {@link #MANAGED_BY_LABEL} on the objects it creates. */
    public static final String MANAGED_BY = FIELD_MANAGER;

    private MetadataNames() {
    }
}
