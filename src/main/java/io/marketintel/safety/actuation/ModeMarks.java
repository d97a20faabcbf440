package io.marketintel.safety.actuation;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EphemeralContainer;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.MetadataNames;

/**
 * Reads the mode a pod (or pod template) runs in, as the kubelet will start it (issue 21). A mode counts only when the
 * annotation and what every container would read agree; anything else is "unknown", which the operator treats as a
 * wrong mode:
 * <ul>
 * <li>every app container carries exactly one entry named {@code envVar}, a literal equal to the annotation (the
 * kubelet uses the <em>last</em> of duplicate entries, so a second one could hide Live behind a first DryRun);</li>
 * <li>an init container (a native sidecar runs beside the app) or an ephemeral container carries one such entry too, or
 * none and no {@code envFrom} (it is then told no mode: an explicit entry wins over {@code envFrom}, so only a
 * container without one could read a mode from a ConfigMap or Secret);</li>
 * <li>no entry takes its value from {@code valueFrom}, or from a {@code $(VAR)} reference (only a mode's exact name
 * is a literal).</li>
 * </ul>
 */
public final class ModeMarks {
    private ModeMarks() {
    }

    public static Optional<ExecutionMode> modeOf(ObjectMeta meta, PodSpec spec, String envVar) {
        if (meta == null || spec == null) {
            return Optional.empty();
        }
        Map<String, String> annotations = meta.getAnnotations() == null ? Map.of() : meta.getAnnotations();
        Optional<ExecutionMode> annotated = parse(annotations.get(MetadataNames.MODE_ANNOTATION));
        if (annotated.isEmpty()) {
            return Optional.empty();
        }
        List<Container> containers = spec.getContainers() == null ? List.of() : spec.getContainers();
        if (containers.isEmpty()) {
            return Optional.empty();
        }
        String mode = annotated.get().wireName();
        boolean agree = containers.stream().allMatch(c -> tells(c.getEnv(), c.getEnvFrom(), envVar, mode, true))
                && (spec.getInitContainers() == null
                        || spec.getInitContainers().stream().allMatch(c -> tells(c.getEnv(), c.getEnvFrom(), envVar, mode, false)))
                && (spec.getEphemeralContainers() == null
                        || spec.getEphemeralContainers().stream().allMatch(c -> tells(c.getEnv(), c.getEnvFrom(), envVar, mode, false)));
        return agree ? annotated : Optional.empty();
    }

    /**
     * Whether a container reads {@code mode} (or, when {@code required} is false, possibly nothing at all) from
     * {@code envVar}: one literal entry with exactly that value, or no entry and no envFrom where none is required.
     */
    private static boolean tells(List<EnvVar> env, List<EnvFromSource> envFrom, String envVar, String mode, boolean required) {
        List<EnvVar> entries = env == null ? List.of() : env.stream().filter(e -> envVar.equals(e.getName())).toList();
        if (entries.isEmpty()) {
            return !required && (envFrom == null || envFrom.isEmpty());
        }
        return entries.size() == 1 && entries.get(0).getValueFrom() == null && mode.equals(entries.get(0).getValue());
    }

    public static Optional<ExecutionMode> parse(String wireName) {
        for (ExecutionMode m : ExecutionMode.values()) {
            if (m.wireName().equals(wireName)) {
                return Optional.of(m);
            }
        }
        return Optional.empty();
    }

    /**
     * Whether a pod (or pod template) carries a mode at all, right or wrong: the policy label, the mode annotation, or
     * an env entry of any container, init container or ephemeral container named after one of {@code envVars} (however it gets its value).
     * A namespace- or cluster-wide stop removes every pod that does (issue 20), governed by a policy or not.
     */
    public static boolean carriesMode(ObjectMeta meta, PodSpec spec, Set<String> envVars) {
        if (meta != null && meta.getLabels() != null && meta.getLabels().containsKey(MetadataNames.POLICY_LABEL)) {
            return true;
        }
        if (meta != null && meta.getAnnotations() != null && meta.getAnnotations().containsKey(MetadataNames.MODE_ANNOTATION)) {
            return true;
        }
        if (spec == null) {
            return false;
        }
        return envLists(spec).anyMatch(env -> env != null && env.stream().anyMatch(e -> envVars.contains(e.getName())));
    }

    /** The env lists of every container of a pod: app, init (native sidecars among them) and ephemeral. */
    public static Stream<List<EnvVar>> envLists(PodSpec spec) {
        return Stream.of(
                spec.getContainers() == null ? Stream.<List<EnvVar>> empty() : spec.getContainers().stream().map(Container::getEnv),
                spec.getInitContainers() == null ? Stream.<List<EnvVar>> empty() : spec.getInitContainers().stream().map(Container::getEnv),
                spec.getEphemeralContainers() == null ? Stream.<List<EnvVar>> empty()
                        : spec.getEphemeralContainers().stream().map(EphemeralContainer::getEnv))
                .flatMap(s -> s);
    }
}
