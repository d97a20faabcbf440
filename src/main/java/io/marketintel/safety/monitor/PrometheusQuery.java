package io.marketintel.safety.monitor;

import java.io.EOFException;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.marketintel.safety.http.CappedBody;
import io.marketintel.safety.http.Failures;
import io.marketintel.safety.http.JsonPost;

/**
 * One instant query to Prometheus' HTTP API ({@code GET <url>/api/v1/query?query=...&time=...&timeout=...}), turned
 * into a {@link Reading}. The imperative shell of the risk monitors: {@link MonitorEvaluation} decides on what this
 * returns; {@link MonitorScheduler} sends the queries.
 *
 * <p>
 * The answer, by Prometheus' {@code resultType}:
 * <ul>
 * <li>{@code vector}: one {@link Reading.Sample} per series, at the time Prometheus gives for it; an empty vector is
 * {@link Reading.Samples} with no sample (a missing series, which the evaluation handles).</li>
 * <li>{@code scalar}: one sample.</li>
 * <li>{@code matrix} (a range selector such as {@code x[5m]}) and {@code string}: {@link Reading.Failed}, since
 * neither can be compared with a threshold.</li>
 * </ul>
 * Values are Prometheus' strings: decimal numbers, {@code NaN}, {@code +Inf}, {@code -Inf}. Prometheus'
 * {@code warnings} are ignored.
 *
 * <p>
 * Every failure is a {@link Reading.Failed}, never an exception: {@code status: error} (its {@code errorType} and
 * {@code error} text, whitespace and control characters collapsed, at most {@value #MAX_ERROR_TEXT} characters: that
 * is how a query that does not parse shows, {@code bad_data: 1:5: parse error: ...}), any other non-2xx status (no
 * body repeated), a redirect (never followed), a reply over {@value #MAX_BODY} bytes (no more is read), a reply that is
 * not the API's JSON, a connection closed without a reply, and other transport failures in {@link Failures}' words
 * (connection refused, timeout, TLS). The
 * returned future always completes normally, at the latest {@link #GRACE} after the endpoint's timeout, and a call
 * still running then is cancelled. The bearer token is only ever in the request header.
 *
 * <p>
 * Each instance owns one JDK {@link HttpClient} (a selector thread, TLS sessions, pooled connections): build one per
 * endpoint setting and share it between monitors; queries may run in parallel.
 */
public final class PrometheusQuery {
    /** Largest reply read: about 10,000 series of a vector. */
    static final int MAX_BODY = 1024 * 1024;
    /** Longest piece of Prometheus' error text repeated in a message. */
    static final int MAX_ERROR_TEXT = 300;
    /** Lets the client report its own timeout before the overall deadline cuts the call off. */
    static final Duration GRACE = Duration.ofMillis(500);

    /** Go's strconv.FormatFloat output, which is what Prometheus writes for a finite value. */
    private static final Pattern NUMBER = Pattern.compile("[-+]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][-+]?\\d+)?");

    private final PrometheusEndpoint endpoint;
    private final URI queryUrl;
    private final HttpClient client;
    // Timestamps as exact decimals: seconds with millisecond fractions would lose the last digit as doubles.
    private final ObjectMapper json = new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    /**
     * @throws IllegalArgumentException when the client certificate, its key or the CA bundle cannot be used (see
     *                                  {@link PemTls}); the message names the setting, never its content
     */
    public PrometheusQuery(PrometheusEndpoint endpoint) {
        this.endpoint = endpoint;
        URI url = endpoint.url();
        String path = url.getRawPath() == null ? "" : url.getRawPath().replaceAll("/+$", "");
        this.queryUrl = URI.create(url.getScheme() + "://" + url.getRawAuthority() + path + "/api/v1/query");
        HttpClient.Builder builder = HttpClient.newBuilder()
                .connectTimeout(endpoint.timeout())
                .followRedirects(HttpClient.Redirect.NEVER)
                .version(HttpClient.Version.HTTP_1_1);
        if (endpoint.clientCertificate().isPresent() || endpoint.caBundlePem().isPresent()) {
            builder.sslContext(PemTls.context(endpoint.clientCertificate(), endpoint.caBundlePem()));
        }
        this.client = builder.build();
    }

    public PrometheusEndpoint endpoint() {
        return endpoint;
    }

    /**
     * Evaluates {@code promql} at {@code at}. The future completes normally within the endpoint's timeout plus
     * {@link #GRACE}, with {@link Reading.Samples} or {@link Reading.Failed}.
     */
    public CompletableFuture<Reading> query(String promql, Instant at) {
        if (promql == null || promql.isBlank()) {
            return CompletableFuture.completedFuture(new Reading.Failed("the query is empty"));
        }
        Duration timeout = endpoint.timeout();
        HttpRequest.Builder request = HttpRequest.newBuilder(request(promql, at))
                .timeout(timeout)
                .header("Accept", "application/json")
                .header("User-Agent", JsonPost.USER_AGENT)
                .GET();
        endpoint.bearerToken().ifPresent(token -> request.header("Authorization", "Bearer " + token));
        CompletableFuture<HttpResponse<CappedBody.Reply>> call;
        try {
            call = client.sendAsync(request.build(), r -> new CappedBody(MAX_BODY));
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(failed(Failures.describe(e, timeout)));
        }
        CompletableFuture<Reading> reading = call.handle((response, failure) -> failure == null ? judgeSafely(response)
                : failed(describe(cause(failure), timeout)));
        // The request timeout ends at the response headers; a body that stalls is cut off here.
        reading.completeOnTimeout(failed("no reply within " + Failures.human(timeout)), timeout.plus(GRACE).toMillis(),
                TimeUnit.MILLISECONDS);
        reading.whenComplete((r, t) -> call.cancel(true));
        return reading;
    }

    /** The query URL; the time in seconds with milliseconds, Prometheus' resolution. */
    URI request(String promql, Instant at) {
        return URI.create(queryUrl + "?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8) + "&time="
                + BigDecimal.valueOf(at.toEpochMilli(), 3).toPlainString() + "&timeout=" + Failures.human(endpoint.timeout()));
    }

    private Reading judgeSafely(HttpResponse<CappedBody.Reply> response) {
        try {
            return judge(response.statusCode(), response.body());
        } catch (RuntimeException e) {
            // Whatever went wrong reading the reply, its text (which may quote the reply) is not repeated.
            return failed("malformed reply (" + e.getClass().getSimpleName() + ")");
        }
    }

    /** The reading for a reply with this status and body. */
    Reading judge(int status, CappedBody.Reply body) {
        boolean ok = status >= 200 && status < 300;
        if (status >= 300 && status < 400) {
            return failed("redirect refused (HTTP " + status + "; redirects are never followed)");
        }
        if (body.truncated()) {
            return failed(ok ? "reply larger than " + (MAX_BODY / 1024) + " KiB (a query over many series: aggregate it, e.g. with max)"
                    : "HTTP " + status);
        }
        JsonNode root;
        try {
            root = json.readTree(body.bytes());
        } catch (IOException e) {
            root = null;
        }
        if (root != null && root.isObject() && "error".equals(root.path("status").asText(null))) {
            // Prometheus answers a query it refuses with status error and a non-2xx code (400 bad_data, 422 execution, 503 timeout).
            return new Reading.Failed("Prometheus at " + endpoint.display() + " answered " + text(root.path("errorType"), 40) + ": "
                    + text(root.path("error"), MAX_ERROR_TEXT));
        }
        if (!ok) {
            return failed("HTTP " + status + (status == 401 || status == 403 ? " (credentials refused)" : ""));
        }
        if (root == null || !root.isObject()) {
            return failed("malformed reply (not a JSON object)");
        }
        if (!"success".equals(root.path("status").asText(null))) {
            return failed("malformed reply (status is neither success nor error)");
        }
        JsonNode data = root.path("data");
        JsonNode result = data.path("result");
        String type = data.path("resultType").asText("");
        switch (type) {
            case "vector" -> {
                if (!result.isArray()) {
                    return failed("malformed reply (a vector without a result list)");
                }
                List<Reading.Sample> samples = new ArrayList<>();
                for (JsonNode series : result) {
                    samples.add(sample(series.path("value")));
                }
                return new Reading.Samples(samples);
            }
            case "scalar" -> {
                return new Reading.Samples(List.of(sample(result)));
            }
            case "matrix" -> {
                return new Reading.Failed("the query gives a range vector (resultType matrix), which cannot be compared with a threshold;"
                        + " a monitor needs an instant vector or a scalar (drop the [range] or wrap it, e.g. in max_over_time)");
            }
            case "string" -> {
                return new Reading.Failed("the query gives a string (resultType string), which cannot be compared with a threshold");
            }
            default -> {
                return failed("malformed reply (an unknown resultType)");
            }
        }
    }

    /** {@code [<unix seconds>, "<value>"]}. */
    static Reading.Sample sample(JsonNode pair) {
        if (!pair.isArray() || pair.size() != 2 || !pair.get(0).isNumber() || !pair.get(1).isTextual()) {
            throw new IllegalArgumentException("not a [time, value] pair");
        }
        return new Reading.Sample(value(pair.get(1).asText()), instant(pair.get(0).decimalValue()));
    }

    /** Prometheus' text form of a float. */
    static double value(String text) {
        return switch (text) {
            case "NaN" -> Double.NaN;
            case "+Inf", "Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            default -> {
                if (!NUMBER.matcher(text).matches()) {
                    throw new NumberFormatException("not a Prometheus value");
                }
                yield Double.parseDouble(text);
            }
        };
    }

    static Instant instant(BigDecimal seconds) {
        BigDecimal whole = seconds.setScale(0, RoundingMode.FLOOR);
        long nanos = seconds.subtract(whole).movePointRight(9).setScale(0, RoundingMode.HALF_EVEN).longValueExact();
        return Instant.ofEpochSecond(whole.longValueExact(), nanos);
    }

    /** Prometheus' own text (the administrator's trusted endpoint), still on one line and bounded. */
    private static String text(JsonNode node, int max) {
        String s = node.isTextual() ? CappedBody.clean(node.asText()) : "";
        if (s.isEmpty()) {
            return "(no text)";
        }
        return s.length() <= max ? s : s.substring(0, max) + "...";
    }

    private Reading.Failed failed(String why) {
        return new Reading.Failed("Prometheus at " + endpoint.display() + ": " + why);
    }

    /**
     * {@link Failures}' words, and words for a connection closed or reset before any reply, which the JDK client reports
     * as a bare IOException with an EOFException or a SocketException ("Connection reset") inside.
     */
    private String describe(Throwable failure, Duration timeout) {
        for (Throwable c = failure; c != null && c.getCause() != c; c = c.getCause()) {
            if (c instanceof ConnectException || c instanceof NoRouteToHostException) {
                break; // refused or unreachable: Failures has words for those
            }
            if (c instanceof EOFException || c instanceof SocketException) {
                return "connection closed without a reply" + (endpoint.url().getScheme().equalsIgnoreCase("https")
                        ? " (also how a TLS 1.3 server refuses a missing or untrusted client certificate)" : "");
            }
        }
        return Failures.describe(failure, timeout);
    }

    private static Throwable cause(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
