package io.marketintel.safety.testing;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.Resource;

/**
 * Read-modify-write edits made by the test harness, the benchmarks and {@code hack/} to objects that a controller
 * also writes (nodes: kwok; pods: kwok and the kubelet's stand-in; policies: the operator's status; Deployments and
 * StatefulSets: the controller-manager and the operator). Fabric8's {@code edit} sends the resourceVersion it read,
 * so a controller's write in between is a 409 Conflict; on a loaded 2-core CI machine that race is lost sooner or
 * later. Here an edit is read, changed and written again on 409 until a deadline. Writes that need no read (a merge
 * patch without resourceVersion, server-side apply, {@code scale}) cannot conflict and need none of this.
 * {@code WritesTest} keeps plain {@code edit}/{@code editStatus} calls out of the test tree.
 */
public final class Writes {
    /** Long enough to outlast any controller's burst of writes on a loaded machine. */
    static final Duration DEADLINE = Duration.ofSeconds(60);

    private Writes() {
    }

    /** {@code resource.edit(change)}, read and written again on 409 until {@link #DEADLINE}. */
    public static <T extends HasMetadata> T edit(Resource<T> resource, UnaryOperator<T> change) {
        return retryOnConflict(() -> resource.edit(change));
    }

    /** {@code resource.editStatus(change)}, read and written again on 409 until {@link #DEADLINE}. */
    public static <T extends HasMetadata> T editStatus(Resource<T> resource, UnaryOperator<T> change) {
        return retryOnConflict(() -> resource.editStatus(change));
    }

    /**
     * A PUT of {@code body} over the object as it is now (a GitOps controller's replace): sent with the resourceVersion
     * {@code current} reads, read and sent again on 409 until {@link #DEADLINE}; 404 when there is nothing to replace.
     */
    public static <T extends HasMetadata> T put(io.fabric8.kubernetes.client.KubernetesClient client, T body, Supplier<T> current) {
        return retryOnConflict(() -> {
            T now = current.get();
            if (now == null) {
                throw new KubernetesClientException("nothing to replace", 404, null);
            }
            body.getMetadata().setResourceVersion(now.getMetadata().getResourceVersion());
            return client.resource(body).update();
        });
    }

    /** Runs {@code write} again while it fails with 409 Conflict, with a short jittered backoff, until the deadline. */
    public static <R> R retryOnConflict(Supplier<R> write) {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        long backoffMillis = 10;
        for (int attempt = 1;; attempt++) {
            try {
                return write.get();
            } catch (KubernetesClientException e) {
                if (e.getCode() != 409 || System.nanoTime() > deadline) {
                    if (e.getCode() == 409) {
                        e.addSuppressed(new IllegalStateException("still 409 Conflict after " + attempt + " attempts in " + DEADLINE));
                    }
                    throw e;
                }
            }
            try {
                // A backoff between attempts of our own write, not a wait for the cluster to reach a state.
                Thread.sleep(backoffMillis + ThreadLocalRandom.current().nextLong(backoffMillis));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while retrying a conflicting write", e);
            }
            backoffMillis = Math.min(backoffMillis * 2, 500);
        }
    }
}
