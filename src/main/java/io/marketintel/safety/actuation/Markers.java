package io.marketintel.safety.actuation;

/** Names the operator writes on workloads and pod templates. */
public final class Markers {
    /** Field manager of every server-side apply: GitOps tools can ignore exactly these fields. */
    public static final String FIELD_MANAGER = "execution-safety-operator";
    /** Label on a workload and its pod template: the ExecutionPolicy that governs it. */
    public static final String POLICY_LABEL = "safety.marketintel.io/policy";
    /** Pod-template annotation carrying the mode; pods inherit it. */
    public static final String MODE_ANNOTATION = "safety.marketintel.io/mode";
    /** Workload annotation: replica count before the operator first scaled it. */
    public static final String ORIGINAL_REPLICAS_ANNOTATION = "safety.marketintel.io/original-replicas";

    private Markers() {
    }
}
