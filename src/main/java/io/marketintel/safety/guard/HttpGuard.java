package io.marketintel.safety.guard;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import jakarta.enterprise.context.ApplicationScoped;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.marketintel.safety.api.v1alpha1.Durations;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.Defaults;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.GuardType;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.http.AllowedDestinations;
import io.marketintel.safety.http.CappedBody;
import io.marketintel.safety.http.Failures;
import io.marketintel.safety.http.JsonPost;

/**
 * Asks an external service. The policy context is POSTed as JSON to {@code http.url}; the guard passes only
 * on a 2xx reply whose body is a JSON object with {@code "allow": true}. Anything else fails: an explicit
 * denial, a redirect (never followed), an error status, a malformed reply. An endpoint that cannot be reached
 * within the guard's timeout is an Error. At most {@link #MAX_BODY} bytes of a reply are read.
 *
 * <p>
 * Only a destination listed in {@code ExecutionSafety/global} {@code spec.allowedDestinations} is called
 * ({@link AllowedDestinations}); any other URL is an Error and no request is sent: whoever may edit a policy must not
 * make the operator a proxy into the cluster. For the same reason a message never repeats what the endpoint sent
 * (no body, no {@code reason} field, no {@code Location} header): it says only which of a fixed set of outcomes
 * happened, and names the URL (its credentials hidden).
 *
 * <p>
 * Request body: {@code {"policy": {"namespace", "name", "uid", "generation"}, "from": "DryRun", "to": "Live",
 * "spec": {...}, "requester": "alice" | null}}.
 */
@ApplicationScoped
public class HttpGuard implements SafetyGuard {
    static final int MAX_BODY = 64 * 1024;
    /** Lets the client report its own timeout before the overall deadline cuts the call off. */
    private static final Duration GRACE = Duration.ofMillis(500);

    private final ObjectMapper json = new ObjectMapper();
    /**
     * One client for every call (each JDK client owns a selector thread, so one per timeout value would grow
     * with the policies). Each request carries the guard's timeout, and the call is also cut off at the
     * timeout plus a grace period, so the client's own connect timeout is only a backstop.
     */
    private final HttpClient client = HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(30))
            .followRedirects(HttpClient.Redirect.NEVER)
            .version(HttpClient.Version.HTTP_1_1)
            .build();

    @Override
    public GuardType type() {
        return GuardType.Http;
    }

    @Override
    public GuardOutcome evaluate(GuardContext ctx) throws Exception {
        ExecutionPolicySpec.Guard guard = ctx.guard();
        if (guard == null || guard.http == null) {
            return GuardOutcome.error("no http block: an Http guard needs http.url");
        }
        URI uri;
        try {
            uri = uri(guard.http.url);
        } catch (IllegalArgumentException e) {
            return GuardOutcome.error(e.getMessage());
        }
        String where = display(uri);
        var refused = AllowedDestinations.of(ctx.global()).refusal(uri);
        if (refused.isPresent()) {
            return GuardOutcome.error(where + " is not an allowed destination: " + refused.get());
        }
        Duration timeout;
        try {
            timeout = Durations.parseOr(guard.timeout, Defaults.GUARD_TIMEOUT);
        } catch (IllegalArgumentException e) {
            return GuardOutcome.error("bad timeout: " + e.getMessage());
        }
        if (timeout.isZero() || timeout.isNegative()) {
            return GuardOutcome.error("timeout " + guard.timeout + " leaves no time to call " + where);
        }

        byte[] body = json.writeValueAsBytes(requestBody(ctx));
        HttpRequest request = JsonPost.of(uri, timeout, body);

        CompletableFuture<HttpResponse<CappedBody.Reply>> call;
        try {
            call = client.sendAsync(request, r -> new CappedBody(MAX_BODY));
        } catch (RuntimeException e) {
            return GuardOutcome.error("could not reach " + where + ": " + Failures.describe(e, timeout));
        }
        HttpResponse<CappedBody.Reply> response;
        try {
            response = call.get(timeout.plus(GRACE).toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            call.cancel(true);
            return GuardOutcome.error("could not reach " + where + ": no reply within " + Failures.human(timeout));
        } catch (InterruptedException e) {
            call.cancel(true);
            throw e;
        } catch (ExecutionException e) {
            return GuardOutcome.error("could not reach " + where + ": " + Failures.describe(e.getCause(), timeout));
        }
        try {
            return judge(where, response);
        } catch (RuntimeException e) {
            // Whatever went wrong reading the reply, its text (which may quote the reply) is not repeated.
            return GuardOutcome.fail("malformed reply from " + where + ": " + e.getClass().getSimpleName());
        }
    }

    /** Only a fixed vocabulary of outcomes: nothing the endpoint sent is repeated (it may be any service's answer). */
    private GuardOutcome judge(String where, HttpResponse<CappedBody.Reply> response) {
        int status = response.statusCode();
        CappedBody.Reply body = response.body();
        if (status >= 300 && status < 400) {
            return GuardOutcome.fail("redirect refused (HTTP " + status + " from " + where + "; the guard never follows redirects)");
        }
        if (status < 200 || status >= 300) {
            return GuardOutcome.fail("HTTP " + status + " from " + where);
        }
        if (body.truncated()) {
            return GuardOutcome.fail("malformed reply from " + where + ": larger than " + (MAX_BODY / 1024) + " KiB");
        }
        JsonNode reply;
        try {
            reply = json.readTree(body.bytes());
        } catch (IOException e) {
            return GuardOutcome.fail("malformed reply from " + where + ": not JSON");
        }
        if (reply == null || reply.isMissingNode()) {
            return GuardOutcome.fail("malformed reply from " + where + ": not JSON (empty body)");
        }
        if (!reply.isObject()) {
            return GuardOutcome.fail("malformed reply from " + where + ": not a JSON object");
        }
        JsonNode allow = reply.get("allow");
        if (allow == null || !allow.isBoolean()) {
            return GuardOutcome.fail("malformed reply from " + where + ": \"allow\" missing or not a boolean");
        }
        return allow.booleanValue() ? GuardOutcome.pass("allowed by " + where) : GuardOutcome.fail("denied by " + where);
    }

    /** The JSON POSTed to the endpoint. */
    ObjectNode requestBody(GuardContext ctx) {
        ObjectNode root = json.createObjectNode();
        ObjectMeta meta = ctx.policy().getMetadata();
        ObjectNode policy = root.putObject("policy");
        policy.put("namespace", meta == null ? null : meta.getNamespace());
        policy.put("name", meta == null ? null : meta.getName());
        policy.put("uid", meta == null ? null : meta.getUid());
        policy.put("generation", meta == null ? null : meta.getGeneration());
        root.put("from", ctx.from() == null ? null : ctx.from().wireName());
        root.put("to", ctx.to() == null ? null : ctx.to().wireName());
        root.set("spec", json.valueToTree(ctx.policy().getSpec()));
        Map<String, String> annotations = meta == null ? null : meta.getAnnotations();
        root.put("requester", annotations == null ? null : annotations.get(MetadataNames.REQUESTED_BY_ANNOTATION));
        return root;
    }

    static URI uri(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("http.url is missing");
        }
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("http.url is not a URL: " + e.getReason());
        }
        String scheme = uri.getScheme();
        if (scheme == null || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https")) || uri.getHost() == null) {
            throw new IllegalArgumentException("http.url must be an absolute http or https URL, got " + display(uri));
        }
        return uri;
    }

    /** The URL as shown in messages: credentials in the user-info part are never repeated. */
    static String display(URI uri) {
        if (uri.getRawUserInfo() == null) {
            return uri.toString();
        }
        try {
            return new URI(uri.getScheme(), "***", uri.getHost(), uri.getPort(), uri.getPath(), uri.getQuery(), uri.getFragment())
                    .toString();
        } catch (URISyntaxException e) {
            return uri.getScheme() + "://***@" + uri.getHost();
        }
    }

}
