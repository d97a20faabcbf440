package io.marketintel.safety.actuation;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.MetadataNames;

/**
 * Reads the mode a pod (or pod template) runs in. A mode counts only when the annotation and the env var
 * of every container agree; anything else (missing, edited, valueFrom, unknown value) is "unknown", which
 * the operator treats as a wrong mode.
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
        for (Container c : containers) {
            String value = c.getEnv() == null ? null
                    : c.getEnv().stream().filter(e -> envVar.equals(e.getName()) && e.getValueFrom() == null)
                            .map(EnvVar::getValue).filter(Objects::nonNull).findFirst().orElse(null);
            if (!annotated.get().wireName().equals(value)) {
                return Optional.empty();
            }
        }
        return annotated;
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
     * an env entry of any container or init container named after one of {@code envVars} (however it gets its value).
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
        return Stream.concat(spec.getContainers() == null ? Stream.empty() : spec.getContainers().stream(),
                spec.getInitContainers() == null ? Stream.empty() : spec.getInitContainers().stream())
                .anyMatch(c -> c.getEnv() != null && c.getEnv().stream().anyMatch(e -> envVars.contains(e.getName())));
    }
}
