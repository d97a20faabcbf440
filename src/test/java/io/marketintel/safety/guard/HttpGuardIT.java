package io.marketintel.safety.guard;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;
import io.marketintel.safety.api.v1alpha1.ExecutionSafety;
import io.marketintel.safety.api.v1alpha1.ExecutionSafetySpec;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.GuardType;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.guard.GuardOutcome.Result;

/**
 * The Http guard against a real local HTTP server; no Kubernetes needed. The server's replies carry text
 * ({@link #SECRET}) that must never reach a message: the guard reports a fixed vocabulary of outcomes only.
 */
@Timeout(60)
class HttpGuardIT {
    static final Instant NOW = Instant.parse("2026-11-30T15:00:00Z");

    static HttpServer server;
    static ExecutorService executor;
    static String base;
    static final AtomicReference<Recorded> recorded = new AtomicReference<>();
    static final AtomicInteger redirectTargetHits = new AtomicInteger();
    static final AtomicInteger requests = new AtomicInteger();
    /** In every reply body, reason and Location: if it shows up in a message, the guard leaked the reply. */
    static final String SECRET = "internal-token-7f3a";

    record Recorded(String method, String contentType, String userAgent, String body) {
    }

    final HttpGuard guard = new HttpGuard();

    @BeforeAll
    static void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/allow", ex -> reply(ex, 200, "{\"allow\": true, \"reason\": \"risk desk ok " + SECRET + "\"}"));
        server.createContext("/allow-bare", ex -> reply(ex, 200, "{\"allow\": true}"));
        server.createContext("/deny", ex -> reply(ex, 200, "{\"allow\": false, \"reason\": \"desk closed " + SECRET + "\"}"));
        server.createContext("/slow", ex -> {
            try {
                Thread.sleep(8_000); // the slow server under test; the guard must give up at its own timeout
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            reply(ex, 200, "{\"allow\": true}");
        });
        server.createContext("/stalled-body", ex -> {
            ex.getRequestBody().readAllBytes();
            ex.sendResponseHeaders(200, 100);
            var out = ex.getResponseBody();
            out.write("{\"allow\": ".getBytes(StandardCharsets.UTF_8));
            out.flush();
            try {
                Thread.sleep(8_000); // headers sent, body stalls: the guard must still give up in time
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ex.close();
        });
        server.createContext("/error", ex -> reply(ex, 503, "risk engine down " + SECRET + "\n" + "x".repeat(1000)));
        server.createContext("/garbage", ex -> reply(ex, 200, "<html>" + SECRET + "</html>"));
        server.createContext("/empty", ex -> reply(ex, 200, ""));
        server.createContext("/string-allow", ex -> reply(ex, 200, "{\"allow\": \"" + SECRET + "\"}"));
        server.createContext("/no-allow", ex -> reply(ex, 200, "{\"allowed\": true, \"" + SECRET + "\": 1}"));
        server.createContext("/array", ex -> reply(ex, 200, "[\"" + SECRET + "\"]"));
        server.createContext("/huge", ex -> reply(ex, 200, "{\"allow\": true, \"pad\": \"" + "p".repeat(100_000) + "\"}"));
        server.createContext("/redirect", ex -> {
            ex.getResponseHeaders().add("Location", base + "/redirect-target?" + SECRET);
            ex.sendResponseHeaders(302, -1);
            ex.close();
        });
        server.createContext("/redirect-target", ex -> {
            redirectTargetHits.incrementAndGet();
            reply(ex, 200, "{\"allow\": true}");
        });
        server.createContext("/record", ex -> {
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            recorded.set(new Recorded(ex.getRequestMethod(), ex.getRequestHeaders().getFirst("Content-Type"),
                    ex.getRequestHeaders().getFirst("User-Agent"), body));
            reply(ex, 200, "{\"allow\": true}");
        });
        executor = Executors.newCachedThreadPool();
        server.setExecutor(executor);
        server.start();
        base = "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterAll
    static void stop() {
        server.stop(0);
        executor.shutdownNow();
    }

    static void reply(HttpExchange ex, int status, String body) throws IOException {
        requests.incrementAndGet();
        ex.getRequestBody().readAllBytes();
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        try (var out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    static ExecutionPolicySpec.Guard http(String url, String timeout) {
        var g = new ExecutionPolicySpec.Guard();
        g.name = "risk-desk";
        g.type = GuardType.Http;
        g.timeout = timeout;
        g.http = new ExecutionPolicySpec.HttpCheck();
        g.http.url = url;
        return g;
    }

    /** What an administrator allows in these tests: loopback, any port (the server's port is random). */
    static ExecutionSafety loopbackAllowed() {
        var loopback = new ExecutionSafetySpec.AllowedDestination();
        loopback.cidr = "127.0.0.0/8";
        return global(List.of(loopback));
    }

    static ExecutionSafety global(List<ExecutionSafetySpec.AllowedDestination> allowed) {
        var g = new ExecutionSafety();
        g.setMetadata(new ObjectMetaBuilder().withName("global").build());
        g.setSpec(new ExecutionSafetySpec());
        g.getSpec().allowedDestinations = allowed;
        return g;
    }

    static GuardContext allowed(ExecutionPolicySpec.Guard g) {
        return allowed(GuardContexts.policy(g, Map.of()), g);
    }

    static GuardContext allowed(io.marketintel.safety.api.v1alpha1.ExecutionPolicy policy, ExecutionPolicySpec.Guard g) {
        return new GuardContext(policy, g, ExecutionMode.DRY_RUN, ExecutionMode.LIVE, List.of(), Map.of(),
                Optional.of(loopbackAllowed()), NOW);
    }

    GuardOutcome call(String path) throws Exception {
        return evaluate(http(base + path, "5s"));
    }

    GuardOutcome evaluate(ExecutionPolicySpec.Guard g) throws Exception {
        GuardOutcome out = guard.evaluate(allowed(g));
        assertThat(out.message()).as("nothing the endpoint sent is repeated").doesNotContain(SECRET);
        return out;
    }

    @Test
    void allowPassesAndRepeatsNoReason() throws Exception {
        var out = call("/allow");
        assertThat(out.result()).isEqualTo(Result.Pass);
        assertThat(out.message()).isEqualTo("allowed by " + base + "/allow");
        assertThat(call("/allow-bare").message()).isEqualTo("allowed by " + base + "/allow-bare");
    }

    @Test
    void denyFailsWithoutRepeatingTheReason() throws Exception {
        var out = call("/deny");
        assertThat(out.result()).isEqualTo(Result.Fail);
        assertThat(out.message()).isEqualTo("denied by " + base + "/deny");
    }

    @Test
    void aSlowEndpointIsCutOffByTheGuardsOwnTimeout() throws Exception {
        long t0 = System.nanoTime();
        var out = evaluate(http(base + "/slow", "1s"));
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertThat(out.result()).isEqualTo(Result.Error);
        assertThat(out.message()).isEqualTo("could not reach " + base + "/slow: no reply within 1s");
        // The server sleeps 8s: the guard returned on its own clock (1s, plus slack for a busy machine).
        assertThat(took).isGreaterThanOrEqualTo(Duration.ofMillis(900)).isLessThan(Duration.ofMillis(4_000));
    }

    @Test
    void aBodyThatStallsAfterTheHeadersIsCutOffToo() throws Exception {
        long t0 = System.nanoTime();
        var out = evaluate(http(base + "/stalled-body", "1s"));
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertThat(out.result()).isEqualTo(Result.Error);
        assertThat(out.message()).isEqualTo("could not reach " + base + "/stalled-body: no reply within 1s");
        assertThat(took).isLessThan(Duration.ofMillis(4_000));
    }

    @Test
    void serverErrorFailsWithTheStatusOnly() throws Exception {
        var out = call("/error");
        assertThat(out.result()).isEqualTo(Result.Fail);
        assertThat(out.message()).isEqualTo("HTTP 503 from " + base + "/error");
    }

    @Test
    void garbageIsMalformed() throws Exception {
        var out = call("/garbage");
        assertThat(out.result()).isEqualTo(Result.Fail);
        assertThat(out.message()).isEqualTo("malformed reply from " + base + "/garbage: not JSON");
        assertThat(call("/empty").message()).isEqualTo("malformed reply from " + base + "/empty: not JSON (empty body)");
    }

    @Test
    void allowMustBeABooleanInAnObject() throws Exception {
        var string = call("/string-allow");
        assertThat(string.result()).isEqualTo(Result.Fail);
        assertThat(string.message()).isEqualTo("malformed reply from " + base + "/string-allow: \"allow\" missing or not a boolean");
        var missing = call("/no-allow");
        assertThat(missing.result()).isEqualTo(Result.Fail);
        assertThat(missing.message()).isEqualTo("malformed reply from " + base + "/no-allow: \"allow\" missing or not a boolean");
        var array = call("/array");
        assertThat(array.result()).isEqualTo(Result.Fail);
        assertThat(array.message()).isEqualTo("malformed reply from " + base + "/array: not a JSON object");
    }

    @Test
    void anOversizedReplyIsNotReadToTheEnd() throws Exception {
        var out = call("/huge");
        assertThat(out.result()).isEqualTo(Result.Fail);
        assertThat(out.message()).isEqualTo("malformed reply from " + base + "/huge: larger than 64 KiB");
    }

    @Test
    void redirectsAreRefusedNotFollowedAndTheirLocationNotRepeated() throws Exception {
        var out = call("/redirect");
        assertThat(out.result()).isEqualTo(Result.Fail);
        assertThat(out.message()).isEqualTo("redirect refused (HTTP 302 from " + base + "/redirect; the guard never follows redirects)");
        assertThat(redirectTargetHits).hasValue(0);
    }

    // ---------------------------------------------------------------- allowed destinations

    @Test
    void aDestinationNotAllowedIsAnErrorAndNoRequestIsSent() throws Exception {
        int before = requests.get();
        String url = base + "/allow";
        int port = server.getAddress().getPort();
        var elsewhere = new ExecutionSafetySpec.AllowedDestination();
        elsewhere.cidr = "10.96.0.0/12";
        var g = http(url, "5s");
        var policy = GuardContexts.policy(g, Map.of());
        for (Optional<ExecutionSafety> global : List.of(Optional.of(global(List.of(elsewhere))), Optional.of(global(null)))) {
            var out = guard.evaluate(new GuardContext(policy, g, ExecutionMode.DRY_RUN, ExecutionMode.LIVE, List.of(), Map.of(), global, NOW));
            assertThat(out.result()).isEqualTo(Result.Error);
            assertThat(out.message()).isEqualTo(url + " is not an allowed destination: ExecutionSafety/global spec.allowedDestinations"
                    + " does not list 127.0.0.1 port " + port + " (a cluster administrator adds it)");
        }
        var none = guard.evaluate(GuardContexts.context(g, NOW)); // no ExecutionSafety/global at all
        assertThat(none.result()).isEqualTo(Result.Error);
        assertThat(none.message()).startsWith(url + " is not an allowed destination: ExecutionSafety/global does not exist");

        var otherPort = new ExecutionSafetySpec.AllowedDestination();
        otherPort.cidr = "127.0.0.1/32";
        otherPort.ports = List.of(port == 65535 ? 1 : port + 1);
        var wrongPort = guard.evaluate(new GuardContext(policy, g, ExecutionMode.DRY_RUN, ExecutionMode.LIVE, List.of(), Map.of(),
                Optional.of(global(List.of(otherPort))), NOW));
        assertThat(wrongPort.result()).isEqualTo(Result.Error);
        assertThat(wrongPort.message()).contains("is not an allowed destination");
        assertThat(requests).as("the server saw no request").hasValue(before);

        otherPort.ports = List.of(port);
        var rightPort = guard.evaluate(new GuardContext(policy, g, ExecutionMode.DRY_RUN, ExecutionMode.LIVE, List.of(), Map.of(),
                Optional.of(global(List.of(otherPort))), NOW));
        assertThat(rightPort.result()).isEqualTo(Result.Pass);
        assertThat(requests).hasValue(before + 1);
    }

    @Test
    void aNameIsNeverResolvedToMatchACidr() throws Exception {
        int before = requests.get();
        String url = "http://localhost:" + server.getAddress().getPort() + "/allow";
        var out = evaluate(http(url, "5s"));
        assertThat(out.result()).isEqualTo(Result.Error);
        assertThat(out.message()).startsWith(url + " is not an allowed destination: ExecutionSafety/global spec.allowedDestinations"
                + " does not list localhost port ");
        assertThat(requests).hasValue(before);
    }

    // ---------------------------------------------------------------- the request

    @Test
    void thePolicyContextIsPostedAsJson() throws Exception {
        var g = http(base + "/record", "5s");
        var policy = GuardContexts.policy(g, Map.of(MetadataNames.REQUESTED_BY_ANNOTATION, "bob"));
        var out = guard.evaluate(allowed(policy, g));
        assertThat(out.result()).isEqualTo(Result.Pass);

        Recorded r = recorded.get();
        assertThat(r).isNotNull();
        assertThat(r.method()).isEqualTo("POST");
        assertThat(r.contentType()).isEqualTo("application/json");
        assertThat(r.userAgent()).isEqualTo("execution-safety-operator");
        JsonNode body = new ObjectMapper().readTree(r.body());
        assertThat(body.at("/policy/namespace").asText()).isEqualTo("desk-fx");
        assertThat(body.at("/policy/name").asText()).isEqualTo("momentum");
        assertThat(body.at("/policy/uid").asText()).isEqualTo("0b7c2f7e-5d4a-4c1e-9a57-2f1d3c4b5a69");
        assertThat(body.at("/policy/generation").asLong()).isEqualTo(7L);
        assertThat(body.get("from").asText()).isEqualTo("DryRun");
        assertThat(body.get("to").asText()).isEqualTo("Live");
        assertThat(body.get("requester").asText()).isEqualTo("bob");
        assertThat(body.at("/spec/mode").asText()).isEqualTo("Live");
        assertThat(body.at("/spec/workloads/refs/0/kind").asText()).isEqualTo("Deployment");
        assertThat(body.at("/spec/guards/0/http/url").asText()).isEqualTo(base + "/record");
    }

    @Test
    void noRequesterIsNull() throws Exception {
        evaluate(http(base + "/record", "5s"));
        JsonNode body = new ObjectMapper().readTree(recorded.get().body());
        assertThat(body.has("requester")).isTrue();
        assertThat(body.get("requester").isNull()).isTrue();
    }

    @Test
    void connectionRefusedIsAnError() throws Exception {
        int port;
        try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        String url = "http://127.0.0.1:" + port + "/check";
        var out = evaluate(http(url, "5s"));
        assertThat(out.result()).isEqualTo(Result.Error);
        assertThat(out.message()).isEqualTo("could not reach " + url + ": connection refused");
    }

    @Test
    void somethingThatIsNotHttpIsNotRepeatedEither() throws Exception {
        // A service that is not HTTP answers with a line of its own: the JDK puts it into its exception message.
        try (var socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread speaker = new Thread(() -> {
                try (var s = socket.accept()) {
                    s.getOutputStream().write(("-ERR " + SECRET + "\r\n").getBytes(StandardCharsets.UTF_8));
                    s.getOutputStream().flush();
                    s.getInputStream().read(new byte[4096]);
                } catch (IOException e) {
                    // the guard hung up: the test's assertions are on the guard's answer
                }
            });
            speaker.start();
            String url = "http://127.0.0.1:" + socket.getLocalPort() + "/check";
            var out = evaluate(http(url, "5s"));
            assertThat(out.result()).isEqualTo(Result.Error);
            assertThat(out.message()).isEqualTo("could not reach " + url + ": not an HTTP reply");
            speaker.join(5_000);
        }
    }

    @Test
    void badConfigurationIsAnError() throws Exception {
        var noBlock = http(base + "/allow", "5s");
        noBlock.http = null;
        var out = guard.evaluate(allowed(noBlock));
        assertThat(out.result()).isEqualTo(Result.Error);
        assertThat(out.message()).startsWith("no http block");

        var ftp = guard.evaluate(allowed(http("ftp://example.com/x", "5s")));
        assertThat(ftp.result()).isEqualTo(Result.Error);
        assertThat(ftp.message()).isEqualTo("http.url must be an absolute http or https URL, got ftp://example.com/x");

        var relative = guard.evaluate(allowed(http("/check", "5s")));
        assertThat(relative.result()).isEqualTo(Result.Error);
        assertThat(relative.message()).startsWith("http.url must be an absolute http or https URL");

        var spaces = guard.evaluate(allowed(http("http://a b/", "5s")));
        assertThat(spaces.result()).isEqualTo(Result.Error);
        assertThat(spaces.message()).startsWith("http.url is not a URL");
    }

    @Test
    void credentialsInTheUrlAreNotRepeated() throws Exception {
        String url = "http://svc:s3cret@127.0.0.1:" + server.getAddress().getPort() + "/deny";
        var out = evaluate(http(url, "5s"));
        assertThat(out.result()).isEqualTo(Result.Fail);
        assertThat(out.message()).doesNotContain("s3cret").startsWith("denied by http://***@127.0.0.1:");
        var refused = guard.evaluate(GuardContexts.context(http(url, "5s"), NOW));
        assertThat(refused.message()).doesNotContain("s3cret").startsWith("http://***@127.0.0.1:");
    }

    @Test
    void typeIsHttp() {
        assertThat(guard.type()).isEqualTo(GuardType.Http);
    }
}
