package io.marketintel.safety.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.marketintel.safety.actuation.Markers;

/**
 * Records every Pod event in a namespace and checks, after each one, that the pods that exist at that
 * moment all run in one mode (a pod with no mode counts as its own "none" mode). Violations are kept,
 * not thrown, so the test asserts them at the end with the full event trail.
 */
public final class PodModeWatcher implements AutoCloseable {
    private final SharedIndexInformer<Pod> informer;
    private final Map<String, String> live = new ConcurrentHashMap<>();
    private final List<String> trail = new ArrayList<>();
    private final List<String> violations = new ArrayList<>();
    private final Map<String, Integer> maxAlive = new TreeMap<>();

    public PodModeWatcher(KubernetesClient client, String namespace) {
        informer = client.pods().inNamespace(namespace).inform(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Pod pod) {
                seen("ADDED", pod, false);
            }

            @Override
            public void onUpdate(Pod old, Pod pod) {
                seen("MODIFIED", pod, false);
            }

            @Override
            public void onDelete(Pod pod, boolean unknownFinalState) {
                seen("DELETED", pod, true);
            }
        });
    }

    private synchronized void seen(String type, Pod pod, boolean gone) {
        String mode = pod.getMetadata().getAnnotations() == null ? null
                : pod.getMetadata().getAnnotations().get(Markers.MODE_ANNOTATION);
        mode = mode == null ? "none" : mode;
        if (gone) {
            live.remove(pod.getMetadata().getName());
        } else {
            live.put(pod.getMetadata().getName(), mode);
        }
        var modes = new java.util.TreeSet<>(live.values());
        trail.add(type + " " + pod.getMetadata().getName() + " mode=" + mode + " -> alive " + new TreeMap<>(live));
        maxAlive.merge(mode, (int) live.values().stream().filter(mode::equals).count(), Math::max);
        if (modes.size() > 1) {
            violations.add("after " + type + " " + pod.getMetadata().getName() + ": modes " + modes + " coexist: "
                    + new TreeMap<>(live));
        }
    }

    public synchronized List<String> violations() {
        return List.copyOf(violations);
    }

    public synchronized String trail() {
        return String.join("\n", trail);
    }

    /** Largest number of pods of each mode alive at one moment. */
    public synchronized Map<String, Integer> maxAlive() {
        return new TreeMap<>(maxAlive);
    }

    public synchronized Map<String, String> alive() {
        return new TreeMap<>(live);
    }

    @Override
    public void close() {
        informer.close();
    }
}
