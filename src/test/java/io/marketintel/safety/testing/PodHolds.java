package io.marketintel.safety.testing;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * A test finalizer on pods: a deleted pod stays Terminating until it is released, so a transition can be held in
 * flight (at Draining) for as long as a test needs. Added and removed through {@link Writes}: kwok writes the same
 * pods.
 */
public final class PodHolds {
    public static final String HOLD = "test.marketintel.io/hold";

    private PodHolds() {
    }

    /** Holds every pod in {@code ns} labelled {@code app=<app>}, or every pod in it when {@code app} is null. */
    public static void hold(KubernetesClient client, String ns, String app) {
        var pods = client.pods().inNamespace(ns);
        for (Pod pod : (app == null ? pods.list() : pods.withLabel("app", app).list()).getItems()) {
            Writes.edit(pods.withName(pod.getMetadata().getName()), p -> {
                p.getMetadata().getFinalizers().add(HOLD);
                return p;
            });
        }
    }

    /** Releases every held pod in {@code ns}; a pod gone meanwhile is fine. */
    public static void release(KubernetesClient client, String ns) {
        var pods = client.pods().inNamespace(ns);
        for (Pod pod : pods.list().getItems()) {
            if (!pod.getMetadata().getFinalizers().contains(HOLD)) {
                continue;
            }
            try {
                Writes.edit(pods.withName(pod.getMetadata().getName()), p -> {
                    p.getMetadata().getFinalizers().remove(HOLD);
                    return p;
                });
            } catch (KubernetesClientException e) {
                if (e.getCode() != 404) {
                    throw e;
                }
            }
        }
    }
}
