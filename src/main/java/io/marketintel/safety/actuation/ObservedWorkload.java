package io.marketintel.safety.actuation;

import java.util.List;
import java.util.Optional;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.WorkloadKind;

/**
 * What the operator observed of one workload in one pass.
 *
 * @param templateMode      the template's mode, present only when annotation, every container's env var and
 *                          the policy label agree (i.e. the operator configured it)
 * @param replicas          spec.replicas
 * @param readyReplicas     status.readyReplicas
 * @param originalReplicas  the remembered pre-operator count, if recorded
 * @param podModes          the mode of every existing pod, terminating ones included (empty = unknown)
 * @param containers        container names of the template, for env injection
 * @param images            container images of the template (init containers included)
 * @param crashLoops        one entry per container in CrashLoopBackOff: {@code pod/container restart N}, so
 *                          each new crash is a distinct circuit-breaker failure
 * @param countedReplicas   status.replicas: the pods its controller counts, which may include one it is
 *                          creating that a pod listing does not show yet; -1 while its controller has not
 *                          observed the workload's current generation (it may still act on an older spec,
 *                          creating pods from the old template, the count is not yet known)
 * @param resourceVersion   the version read, so a write that could start pods is refused if it changed since
 * @param pods              every existing pod by name, terminating ones included, in the order of {@code podModes}
 *                          (empty when only the modes are known): what an emergency stop still has to remove
 * @param initContainers    init container names of the template (native sidecars among them): they get the env var too,
 *                          so none can read a mode from envFrom
 * @param templateDigest    {@link io.marketintel.safety.approval.TemplateDigest} of the pod template: what an approval of
 *                          this trading system binds (empty when not known)
 */
public record ObservedWorkload(WorkloadKind kind, String name, Optional<ExecutionMode> templateMode, int replicas,
        int readyReplicas, Optional<Integer> originalReplicas, List<Optional<ExecutionMode>> podModes,
        List<String> containers, List<String> images, List<String> crashLoops, int countedReplicas,
        String resourceVersion, List<ObservedPod> pods, List<String> initContainers, String templateDigest) {

    public ObservedWorkload {
        templateDigest = templateDigest == null ? "" : templateDigest;
        initContainers = List.copyOf(initContainers);
        crashLoops = List.copyOf(crashLoops);
        podModes = List.copyOf(podModes);
        containers = List.copyOf(containers);
        images = List.copyOf(images);
        pods = List.copyOf(pods);
    }

    /** A workload whose template has no init container. */
    public ObservedWorkload(WorkloadKind kind, String name, Optional<ExecutionMode> templateMode, int replicas,
            int readyReplicas, Optional<Integer> originalReplicas, List<Optional<ExecutionMode>> podModes,
            List<String> containers, List<String> images, List<String> crashLoops, int countedReplicas,
            String resourceVersion, List<ObservedPod> pods) {
        this(kind, name, templateMode, replicas, readyReplicas, originalReplicas, podModes, containers, images, crashLoops,
                countedReplicas, resourceVersion, pods, List.of(), "");
    }

    /** A workload whose pods are known only by their modes (tests, simulations). */
    public ObservedWorkload(WorkloadKind kind, String name, Optional<ExecutionMode> templateMode, int replicas,
            int readyReplicas, Optional<Integer> originalReplicas, List<Optional<ExecutionMode>> podModes,
            List<String> containers, List<String> images, List<String> crashLoops, int countedReplicas,
            String resourceVersion) {
        this(kind, name, templateMode, replicas, readyReplicas, originalReplicas, podModes, containers, images, crashLoops,
                countedReplicas, resourceVersion, List.of());
    }

    public String id() {
        return kindName(kind) + "/" + name;
    }

    public static String kindName(WorkloadKind kind) {
        return kind == WorkloadKind.DEPLOYMENT ? "Deployment" : "StatefulSet";
    }

    /** The Fabric8 model of a workload of that kind. */
    public static Class<? extends HasMetadata> type(WorkloadKind kind) {
        return kind == WorkloadKind.DEPLOYMENT ? Deployment.class : StatefulSet.class;
    }

    /** Pods that do not run in {@code mode}: unknown counts as wrong. */
    public long podsNotIn(ExecutionMode mode) {
        return podModes.stream().filter(m -> m.isEmpty() || m.get() != mode).count();
    }
}
