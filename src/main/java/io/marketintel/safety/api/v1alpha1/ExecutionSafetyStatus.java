package io.marketintel.safety.api.v1alpha1;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import io.fabric8.kubernetes.api.model.Condition;

/** Written by the operator (the leader): the cluster-wide emergency stop as the operator sees it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ExecutionSafetyStatus {
    @JsonPropertyDescription("The metadata.generation this status describes.")
    public Long observedGeneration;

    @JsonPropertyDescription("Ready (True while no cluster-wide stop holds) and EmergencyStopped.")
    public List<Condition> conditions = new ArrayList<>();

    @JsonPropertyDescription("The latest cluster-wide emergency stop: who, why, when, and which policies it still holds.")
    public ClusterStop emergencyStop;

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class ClusterStop {
        @JsonPropertyDescription("A cluster-wide stop holds: its annotation is on this object, or a policy it stopped is not re-armed yet.")
        public Boolean active;
        @JsonPropertyDescription("The stop annotation is on this object now.")
        public Boolean inForce;
        public String reason;
        @JsonPropertyDescription("Who set the stop annotation, as recorded by the API server.")
        public String stoppedBy;
        public String stoppedAt;
        @JsonPropertyDescription("Counts cluster-wide stops: 1 for the first. (Each policy has its own epoch, in its status, which its re-arm names.)")
        public Long epoch;
        @JsonPropertyDescription("Policies this stop holds at zero replicas until each is re-armed.")
        public Integer policiesLatched;
        @JsonPropertyDescription("Some of them (namespace/name), at most 20.")
        public List<String> latched;
        @JsonPropertyDescription("Who re-armed policies since this stop.")
        public List<String> rearmedBy;
        @JsonPropertyDescription("When the last policy this stop held was re-armed: the stop is over.")
        public String rearmedAt;
        public String message;
    }
}
