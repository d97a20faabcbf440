package io.marketintel.safety.killswitch;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;


import jakarta.enterprise.context.ApplicationScoped;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.marketintel.safety.api.v1alpha1.Durations;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.Defaults;
import io.marketintel.safety.http.AllowedDestinations;
import io.marketintel.safety.http.CappedBody;
import io.marketintel.safety.http.Failures;
import io.marketintel.safety.http.JsonPost;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;

/**
 * The cancel-orders hook of DESIGN §6. Scaling to zero does not cancel resting orders at the venue, so on an
 * emergency stop the operator first writes replicas=0 and then POSTs to each terminating pod (pods keep
 * running through {@code terminationGracePeriodSeconds}, which must therefore cover the timeout; the trading
 * app should also cancel on SIGTERM).
 *
 * <p>
 * Every pod is called at once, each bounded by {@code spec.cancelOrders.timeout}; the returned future always
 * completes normally, within the timeout plus {@link #GRACE}, with one outcome per pod in the order given. A
 * 2xx reply is a success; anything else (another status, a redirect, which is never followed, a refused or
 * timed-out connection, a pod without an IP, a bad spec) is a failure with a short message. At most
 * {@link #MAX_BODY} bytes of a reply are read, and nothing of it is repeated: a message says only which of a fixed
 * set of outcomes happened ({@code HTTP 503 from <url>}, {@code POST <url>: connection refused}).
 * Each pod's address and port must be listed in {@code ExecutionSafety/global} {@code spec.allowedDestinations}
 * (typically a {@code cidr} entry for the pod network, with the hook's port): a pod that is not is a failure with
 * that reason, and no request is sent to it. A timeout above {@link #MAX_TIMEOUT} is cut to it: a pod answers
 * only during its termination grace period, and a stop must not wait on a typo for hours.
 *
 * <p>
 * Request: {@code POST scheme://ip:port/path}, body {@code {"policy": {"namespace", "name", "uid"}, "pod",
 * "reason", "epoch"}}. The epoch lets the app ignore a repeated call for a stop it already handled. HTTPS uses
 * the JVM's trust store and checks the certificate against the pod IP, so a pod serving HTTPS needs a
 * certificate the operator trusts with the IP in its subject alternative names.
 */
@ApplicationScoped
public class OrderCancellation {
    static final int MAX_BODY = 4 * 1024;
    static final int MAX_MESSAGE = 200;
    /** Lets the client report its own timeout before the overall deadline cuts the call off. */
    static final Duration GRACE = Duration.ofMillis(500);
    /** A pod only answers during its termination grace period: waiting longer than this is a wrong setting. */
    static final Duration MAX_TIMEOUT = Duration.ofMinutes(10);
    private static final Pattern IPV4 = Pattern.compile("^[0-9]{1,3}(\\.[0-9]{1,3}){3}$");
    private static final Pattern IPV6 = Pattern.compile("^[0-9A-Fa-f:.]+$");

    public record Target(String pod, String ip) {
    }

    public record Outcome(String pod, Result result, String message, long durationMillis) {
        public enum Result {
            Succeeded, Failed
        }
    }

    private final ObjectMapper json = new ObjectMapper();
    /**
     * One client for every call: each JDK client owns a selector thread. Every request carries its own timeout
     * and is cut off at the timeout plus {@link #GRACE}, so the client's connect timeout is only a backstop.
     */
    private final HttpClient client = HttpClient.newBuilder()
            .connectTimeout(MAX_TIMEOUT)
            .followRedirects(HttpClient.Redirect.NEVER)
            .version(HttpClient.Version.HTTP_1_1)
            .build();

    /** Calls every pod's endpoint in parallel; the future never completes exceptionally. */
    public CompletableFuture<List<Outcome>> call(ExecutionPolicy policy, List<Target> pods, String reason, long epoch,
            AllowedDestinations allowed) {
        if (pods == null || pods.isEmpty()) {
            return CompletableFuture.completedFuture(List.of());
        }
        try {
            return callAll(policy, pods, reason, epoch, allowed);
        } catch (RuntimeException e) {
            // Defensive: a caller on the emergency path gets outcomes, never an exception.
            return CompletableFuture.completedFuture(allFailed(pods, "internal error: " + Failures.describe(e, Duration.ZERO)));
        }
    }

    private CompletableFuture<List<Outcome>> callAll(ExecutionPolicy policy, List<Target> pods, String reason, long epoch,
            AllowedDestinations allowed) {
        ExecutionPolicySpec.CancelOrders hook = policy.getSpec() == null ? null : policy.getSpec().cancelOrders;
        if (hook == null) {
            return CompletableFuture.completedFuture(allFailed(pods, "spec.cancelOrders is not set: no endpoint to call"));
        }
        Duration timeout;
        try {
            timeout = Durations.parseOr(hook.timeout, Defaults.CANCEL_ORDERS_TIMEOUT);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.completedFuture(allFailed(pods, "bad spec.cancelOrders.timeout: " + e.getMessage()));
        }
        if (timeout.isZero()) {
            return CompletableFuture.completedFuture(allFailed(pods, "spec.cancelOrders.timeout is 0: no time to call"));
        }
        if (timeout.compareTo(MAX_TIMEOUT) > 0) {
            timeout = MAX_TIMEOUT;
        }
        if (hook.port == null || hook.port < 1 || hook.port > 65535) {
            return CompletableFuture.completedFuture(allFailed(pods, "bad spec.cancelOrders.port: " + hook.port));
        }
        String path = hook.path == null ? Defaults.CANCEL_ORDERS_PATH : hook.path;
        if (!path.startsWith("/")) {
            return CompletableFuture.completedFuture(allFailed(pods, "bad spec.cancelOrders.path: must start with /"));
        }
        String scheme = (hook.scheme == null ? Defaults.CANCEL_ORDERS_SCHEME : hook.scheme) == ExecutionPolicySpec.Scheme.HTTPS
                ? "https" : "http";

        List<CompletableFuture<Outcome>> calls = new ArrayList<>(pods.size());
        for (Target target : pods) {
            calls.add(callOne(policy, target, scheme, hook.port, path, timeout, reason, epoch, allowed));
        }
        Duration bound = timeout;
        return CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new))
                .handle((ignored, error) -> {
                    List<Outcome> outcomes = new ArrayList<>(calls.size());
                    for (int i = 0; i < calls.size(); i++) {
                        Target t = pods.get(i);
                        outcomes.add(calls.get(i).getNow(failed(t, "internal error: no outcome", bound.toMillis())));
                    }
                    return List.copyOf(outcomes);
                });
    }

    private CompletableFuture<Outcome> callOne(ExecutionPolicy policy, Target target, String scheme, int port, String path,
            Duration timeout, String reason, long epoch, AllowedDestinations allowed) {
        long started = System.nanoTime();
        if (target == null) {
            return CompletableFuture.completedFuture(new Outcome(null, Outcome.Result.Failed, "no pod given", 0));
        }
        URI uri;
        try {
            uri = uri(scheme, target.ip(), port, path);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.completedFuture(failed(target, e.getMessage(), 0));
        }
        String where = uri.toString();
        var refused = allowed == null ? java.util.Optional.of("no allowed destinations given") : allowed.refusal(uri);
        if (refused.isPresent()) {
            return CompletableFuture.completedFuture(failed(target, where + " is not an allowed destination: " + refused.get(), 0));
        }
        byte[] body;
        try {
            body = json.writeValueAsBytes(requestBody(policy, target.pod(), reason, epoch));
        } catch (JsonProcessingException e) {
            return CompletableFuture.completedFuture(failed(target, "could not write the request: " + e.getOriginalMessage(), 0));
        }
        HttpRequest request = JsonPost.of(uri, timeout, body);

        CompletableFuture<HttpResponse<CappedBody.Reply>> send;
        try {
            send = client.sendAsync(request, r -> new CappedBody(MAX_BODY));
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(failed(target, "POST " + where + ": " + Failures.describe(e, timeout), elapsed(started)));
        }
        return send
                .handle((response, error) -> error == null
                        ? judge(target, where, response, elapsed(started))
                        : failed(target, "POST " + where + ": " + Failures.describe(unwrap(error), timeout), elapsed(started)))
                .orTimeout(timeout.plus(GRACE).toMillis(), TimeUnit.MILLISECONDS)
                .exceptionally(e -> {
                    send.cancel(true); // aborts the exchange (JDK 16+), frees the connection
                    Throwable cause = unwrap(e);
                    return failed(target, "POST " + where + ": " + (cause instanceof TimeoutException
                            ? "no reply within " + Failures.human(timeout)
                            : "internal error: " + Failures.describe(cause, timeout)), elapsed(started));
                });
    }

    /** Only the status: nothing the pod sent (body, Location header) is repeated. */
    private static Outcome judge(Target target, String where, HttpResponse<CappedBody.Reply> response, long millis) {
        int status = response.statusCode();
        if (status >= 200 && status < 300) {
            return new Outcome(target.pod(), Outcome.Result.Succeeded, clip("HTTP " + status + " from " + where), millis);
        }
        if (status >= 300 && status < 400) {
            return failed(target, "redirect refused (HTTP " + status + " from " + where + "; redirects are never followed)", millis);
        }
        return failed(target, "HTTP " + status + " from " + where, millis);
    }

    /** The JSON POSTed to each pod. */
    ObjectNode requestBody(ExecutionPolicy policy, String pod, String reason, long epoch) {
        ObjectNode root = json.createObjectNode();
        ObjectMeta meta = policy.getMetadata();
        ObjectNode p = root.putObject("policy");
        p.put("namespace", meta == null ? null : meta.getNamespace());
        p.put("name", meta == null ? null : meta.getName());
        p.put("uid", meta == null ? null : meta.getUid());
        root.put("pod", pod);
        root.put("reason", reason);
        root.put("epoch", epoch);
        return root;
    }

    /** {@code scheme://ip:port/path}, an IPv6 literal in brackets; only IP literals, never a name to resolve. */
    static URI uri(String scheme, String ip, int port, String path) {
        if (ip == null || ip.isBlank()) {
            throw new IllegalArgumentException("pod has no IP (not scheduled, or already gone): nothing to call");
        }
        String host;
        if (IPV4.matcher(ip).matches()) {
            host = ip;
        } else if (ip.indexOf(':') >= 0 && IPV6.matcher(ip).matches()) {
            host = "[" + ip + "]";
        } else {
            throw new IllegalArgumentException("pod IP " + clip(clean(ip)) + " is not an IP address");
        }
        try {
            URI uri = new URI(scheme + "://" + host + ":" + port + path);
            if (uri.getHost() == null) {
                throw new IllegalArgumentException("pod IP " + clip(clean(ip)) + " is not an IP address");
            }
            return uri;
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("bad spec.cancelOrders.path: " + e.getReason());
        }
    }

    private static List<Outcome> allFailed(List<Target> pods, String message) {
        return pods.stream().map(t -> t == null
                ? new Outcome(null, Outcome.Result.Failed, "no pod given", 0)
                : failed(t, message, 0)).toList();
    }

    private static Outcome failed(Target target, String message, long millis) {
        return new Outcome(target.pod(), Outcome.Result.Failed, clip(message), millis);
    }

    private static long elapsed(long startedNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos);
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }


    static String clean(String s) {
        return CappedBody.clean(s);
    }

    /** Status conditions and Events stay readable: every message is at most {@link #MAX_MESSAGE} characters. */
    static String clip(String s) {
        return s.length() <= MAX_MESSAGE ? s : s.substring(0, MAX_MESSAGE - 1) + "…";
    }
}
