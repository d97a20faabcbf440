package io.marketintel.safety.killswitch;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.http.HttpClient;
import io.fabric8.kubernetes.client.http.HttpResponse;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.actuation.Targets;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.WorkloadKind;

/**
 * Writes {@code replicas: 0} to the targets of one stop, all at once, each by a server-side apply to its {@code scale}
 * subresource retried up to three times;
 * then deletes the system's pods directly, all at once: a stop is done when the pods are gone, and a controller may
 * never remove them (a StatefulSet with OrderedReady deletes nothing while two or more pods are unready) or do it
 * slowly (its own client rate limit).
 */
final class ZeroWrites {
    /**
     * Server-side apply, forced, of {@code replicas: 0} to the scale subresource (JSON is YAML). Apply, not a merge patch:
     * measured on kube-apiserver 1.36, a merge patch of {@code scale} whose replicas another manager's update owned left
     * the field with no owner at all, so GitOps settings that ignore the operator's fields would not have ignored it;
     * an apply records it under {@link MetadataNames#FIELD_MANAGER} (subresource {@code scale}). Forced: a GitOps tool's
     * apply may own the field, and a stop does not yield to it.
     */
    private static final String ZERO = "{\"apiVersion\":\"autoscaling/v1\",\"kind\":\"Scale\",\"metadata\":"
            + "{\"name\":\"%s\",\"namespace\":\"%s\"},\"spec\":{\"replicas\":0}}";
    /** As the client's own request timeout (10 s): three attempts stay within a stop's 60 s. */
    private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(10);

    private final KubernetesClient client;
    private final ExecutorService writes;

    /** @param writes where the writes run (each thread mostly waits on the API server) */
    ZeroWrites(KubernetesClient client, ExecutorService writes) {
        this.client = client;
        this.writes = writes;
    }

    /** Writes zero to every target in parallel and waits for all: {@code kind/name: why} for each one not written. */
    List<String> zero(String ns, List<Targets.Workload> targets) {
        Map<String, CompletableFuture<String>> written = new LinkedHashMap<>();
        for (Targets.Workload target : targets) {
            written.put(target.id(), CompletableFuture.supplyAsync(() -> zero(ns, target.kind(), target.name()), writes));
        }
        List<String> failures = new ArrayList<>();
        written.forEach((t, f) -> {
            String failure = f.join();
            if (failure != null) {
                failures.add(t + ": " + failure);
            }
        });
        return failures;
    }

    /**
     * Deletes the named pods in parallel and waits for all (each keeps its grace period): {@code Pod/name: why} for each
     * one the API server refused; one already gone is fine.
     */
    List<String> deletePods(String ns, List<String> pods) {
        Map<String, CompletableFuture<String>> deleted = new LinkedHashMap<>();
        for (String pod : pods) {
            deleted.put(pod, CompletableFuture.supplyAsync(() -> {
                try {
                    client.pods().inNamespace(ns).withName(pod).delete();
                    return null;
                } catch (KubernetesClientException e) {
                    return e.getCode() == 404 ? null : e.getCode() + " " + e.getMessage();
                }
            }, writes));
        }
        List<String> failures = new ArrayList<>();
        deleted.forEach((p, f) -> {
            String failure = f.join();
            if (failure != null) {
                failures.add("Pod/" + p + ": " + failure);
            }
        });
        return failures;
    }

    /**
     * replicas=0 by a server-side apply to the workload's {@code scale} subresource (no read first); null when done or the
     * target does not exist, else why not. The subresource, not the workload: a write of the workload itself is
     * evaluated by every admission policy on Deployments and StatefulSets, and {@code execution-safety-detach} takes
     * each ExecutionPolicy of the namespace as a parameter. Measured with 50 policies: 500 writes of the workload took
     * 9.4 s, 500 of {@code scale} 3.1 s (the same as with no admission policy at all). A {@code scale} write cannot
     * change a label, which is all that policy guards.
     */
    private String zero(String ns, WorkloadKind kind, String name) {
        String url = client.getMasterUrl().toString().replaceAll("/+$", "") + "/apis/apps/v1/namespaces/" + ns + "/"
                + (kind == WorkloadKind.DEPLOYMENT ? "deployments" : "statefulsets") + "/" + name + "/scale?fieldManager="
                + MetadataNames.FIELD_MANAGER + "&force=true";
        String zero = ZERO.formatted(name, ns);
        HttpClient http = client.getHttpClient();
        String last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            try {
                HttpResponse<String> answer = http.sendAsync(http.newHttpRequestBuilder().uri(url)
                        .method("PATCH", "application/apply-patch+yaml", zero).build(), String.class)
                        .get(WRITE_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                int code = answer.code();
                if (answer.isSuccessful() || code == 404) {
                    return null; // 404: nothing to stop; the reconciler reports the missing target
                }
                last = code + " " + brief(answer.body());
                if (code == 403 || code == 422) {
                    return last;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "interrupted";
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                last = e.toString();
            }
        }
        return last == null ? "unknown failure" : last;
    }

    /** The API server's message from its Status answer, else the answer's start. */
    private String brief(String body) {
        if (body == null) {
            return "";
        }
        String text = body;
        try {
            Status status = client.getKubernetesSerialization().unmarshal(body, Status.class);
            if (status != null && status.getMessage() != null) {
                text = status.getMessage();
            }
        } catch (RuntimeException e) {
            // not a Status: the body as it is
        }
        return text.length() > 300 ? text.substring(0, 300) + "..." : text;
    }
}
