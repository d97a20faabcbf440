package io.marketintel.safety.guard;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
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

import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.GuardType;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.guard.GuardOutcome.Result;

/** The Http guard against a real local HTTP server; no Kubernetes needed. */
@Timeout(60)
class HttpGuardIT {
    static final Instant NOW = Instant.parse("2026-11-30T15:00:00Z");

    static HttpServer server;
    static ExecutorService executor;
    static String base;
    static final AtomicReference<Recorded> recorded = new AtomicReference<>();
    static final AtomicInteger redirectTargetHits = new AtomicInteger();

    record Recorded(String method, String contentType, String userAgent, String body) {
    }

    final HttpGuard guard = new HttpGuard();

    @BeforeAll
    static void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/allow", ex -> reply(ex, 200, "{\"allow\": true, \"reason\": \"risk desk ok\"}"));
        server.createContext("/allow-bare", ex -> reply(ex, 200, "{\"allow\": true}"));
        server.createContext("/deny", ex -> reply(ex, 200, "{\"allow\": false, \"reason\": \"desk closed for audit\"}"));
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
        server.createContext("/error", ex -> reply(ex, 503, "risk engine down\n" + "x".repeat(1000)));
        server.createContext("/garbage", ex -> reply(ex, 200, "<html>hello</html>"));
        server.createContext("/string-allow", ex -> reply(ex, 200, "{\"allow\": \"true\"}"));
        server.createContext("/no-allow", ex -> reply(ex, 200, "{\"allowed\": true}"));
        server.createContext("/array", ex -> reply(ex, 200, "[true]"));
        server.createContext("/huge", ex -> reply(ex, 200, "{\"allow\": true, \"pad\": \"" + "p".repeat(100_000) + "\"}"));
        server.createContext("/redirect", ex -> {
            ex.getResponseHeaders().add("Location", base + "/redirect-target");
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
        ex.getRequestBody().readAllBytes();
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
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

    GuardOutcome call(String path) throws Exception {
        return guard.evaluate(GuardContexts.context(http(base + path, "5s"), NOW));
    }

    @Test
    void allowPasses() throws Exception {
        var out = call("/allow");
        assertThat(out.result()).isEqualTo(Result.Pass);
        assertThat(out.message()).isEqualTo("allowed by " + base + "/allow: risk desk ok");
        assertThat(call("/allow-bare").message()).isEqualTo("allowed by " + base + "/allow-bare");
    }

    @Test
    void denyFailsWithTheReason() throws Exception {
        var out = call("/deny");
        assertThat(out.result()).isEqualTo(Result.Fail);
        assertThat(out.message()).isEqualTo("denied by " + base + "/deny: desk closed for audit");
    }

    @Test
    void aSlowEndpointIsCutOffByTheGuardsOwnTimeout() throws Exception {
        long t0 = System.nanoTime();
        var out = guard.evaluate(GuardContexts.context(http(base + "/slow", "1s"), NOW));
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertThat(out.result()).isEqualTo(Result.Error);
        assertThat(out.message()).isEqualTo("could not reach " + base + "/slow: no reply within 1s");
        // The server sleeps 8s: the guard returned on its own clock (1s, plus slack for a busy machine).
        assertThat(took).isGreaterThanOrEqualTo(Duration.ofMillis(900)).isLessThan(Duration.ofMillis(4_000));
    }

    @Test
    void aBodyThatStallsAfterTheHeadersIsCutOffToo() throws Exception {
        long t0 = System.nanoTime();
        var out = guard.evaluate(GuardContexts.context(http(base + "/stalled-body", "1s"), NOW));
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertThat(out.result()).isEqualTo(Result.Error);
        assertThat(out.message()).isEqualTo("could not reach " + base + "/stalled-body: no reply within 1s");
        assertThat(took).isLessThan(Duration.ofMillis(4_000));
    }

    @Test
    void serverErrorFailsWithAShortExcerpt() throws Exception {
        var out = call("/error");
        assertThat(out.result()).isEqualTo(Result.Fail);
        assertThat(out.message()).startsWith("HTTP 503 from " + base + "/error: risk engine down xxx").endsWith("…");
        assertThat(out.message().length()).isLessThan(300);
    }

    @Test
    void garbageIsMalformed() throws Exception {
        var out = call("/garbage");
        assertThat(out.result()).isEqualTo(Result.Fail);
        assertThat(out.message()).isEqualTo("malformed reply from " + base + "/garbage: not JSON: <html>hello</html>");
    }

    @Test
    void allowMustBeABooleanInAnObject() throws Exception {
        var string = call("/string-allow");
        assertThat(string.result()).isEqualTo(Result.Fail);
        assertThat(string.message()).isEqualTo(
                "malformed reply from " + base + "/string-allow: \"allow\" is not a boolean (\"true\"), want true or false");
        var missing = call("/no-allow");
        assertThat(missing.result()).isEqualTo(Result.Fail);
        assertThat(missing.message()).isEqualTo(
                "malformed reply from " + base + "/no-allow: \"allow\" is missing, want true or false");
        var array = call("/array");
        assertThat(array.result()).isEqualTo(Result.Fail);
        assertThat(array.message()).startsWith("malformed reply from " + base + "/array: want a JSON object");
    }

    @Test
    void anOversizedReplyIsNotReadToTheEnd() throws Exception {
        var out = call("/huge");
        assertThat(out.result()).isEqualTo(Result.Fail);
        assertThat(out.message()).isEqualTo("malformed reply from " + base + "/huge: body larger than 64 KiB");
    }

    @Test
    void redirectsAreRefusedNotFollowed() throws Exception {
        var out = call("/redirect");
        assertThat(out.result()).isEqualTo(Result.Fail);
        assertThat(out.message()).startsWith("redirect to " + base + "/redirect-target refused (HTTP 302 from " + base + "/redirect");
        assertThat(redirectTargetHits).hasValue(0);
    }

    @Test
    void thePolicyContextIsPostedAsJson() throws Exception {
        var g = http(base + "/record", "5s");
        var policy = GuardContexts.policy(g, Map.of(MetadataNames.REQUESTED_BY_ANNOTATION, "bob"));
        var out = guard.evaluate(GuardContexts.context(policy, g, NOW));
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
        var g = http(base + "/record", "5s");
        guard.evaluate(GuardContexts.context(g, NOW));
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
        var out = guard.evaluate(GuardContexts.context(http(url, "5s"), NOW));
        assertThat(out.result()).isEqualTo(Result.Error);
        assertThat(out.message()).startsWith("could not reach " + url + ": connection refused");
    }

    @Test
    void badConfigurationIsAnError() throws Exception {
        var noBlock = http(base + "/allow", "5s");
        noBlock.http = null;
        var out = guard.evaluate(GuardContexts.context(noBlock, NOW));
        assertThat(out.result()).isEqualTo(Result.Error);
        assertThat(out.message()).startsWith("no http block");

        var ftp = guard.evaluate(GuardContexts.context(http("ftp://example.com/x", "5s"), NOW));
        assertThat(ftp.result()).isEqualTo(Result.Error);
        assertThat(ftp.message()).isEqualTo("http.url must be an absolute http or https URL, got ftp://example.com/x");

        var relative = guard.evaluate(GuardContexts.context(http("/check", "5s"), NOW));
        assertThat(relative.result()).isEqualTo(Result.Error);
        assertThat(relative.message()).startsWith("http.url must be an absolute http or https URL");

        var spaces = guard.evaluate(GuardContexts.context(http("http://a b/", "5s"), NOW));
        assertThat(spaces.result()).isEqualTo(Result.Error);
        assertThat(spaces.message()).startsWith("http.url is not a URL");
    }

    @Test
    void credentialsInTheUrlAreNotRepeated() throws Exception {
        String url = "http://svc:s3cret@127.0.0.1:" + server.getAddress().getPort() + "/deny";
        var out = guard.evaluate(GuardContexts.context(http(url, "5s"), NOW));
        assertThat(out.result()).isEqualTo(Result.Fail);
        assertThat(out.message()).doesNotContain("s3cret").startsWith("denied by http://***@127.0.0.1:");
    }

    @Test
    void typeIsHttp() {
        assertThat(guard.type()).isEqualTo(GuardType.Http);
    }
}
