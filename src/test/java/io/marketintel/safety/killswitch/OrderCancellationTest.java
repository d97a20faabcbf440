package io.marketintel.safety.killswitch;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;
import io.marketintel.safety.api.v1alpha1.ExecutionSafetySpec;
import io.marketintel.safety.http.AllowedDestinations;
import io.marketintel.safety.killswitch.OrderCancellation.Outcome;
import io.marketintel.safety.killswitch.OrderCancellation.Outcome.Result;
import io.marketintel.safety.killswitch.OrderCancellation.Target;

/** The cancel-orders caller against a real local HTTP server on 127.0.0.1; no Kubernetes needed. */
@Timeout(60)
class OrderCancellationTest {
    static HttpServer server;
    static ExecutorService executor;
    static int port;
    static final ConcurrentLinkedQueue<Recorded> recorded = new ConcurrentLinkedQueue<>();
    static final AtomicInteger inFlight = new AtomicInteger();
    static final AtomicInteger maxInFlight = new AtomicInteger();
    /** Holds the slow handler until the test is over; a sleep would outlive the test. */
    static volatile CountDownLatch release = new CountDownLatch(1);

    record Recorded(String method, String path, String contentType, String userAgent, String body) {
    }

    final OrderCancellation cancel = new OrderCancellation();
    /** What an administrator allows in these tests: the loopback pod network (kwok's in the ITs), any port. */
    static final AllowedDestinations LOOPBACK = AllowedDestinations.of(List.of(cidr("127.0.0.0/8")));

    @BeforeAll
    static void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 200);
        server.createContext("/cancel-orders", ex -> reply(ex, 200, "{\"cancelled\": 3}"));
        server.createContext("/no-content", ex -> reply(ex, 204, null));
        server.createContext("/fail", ex -> reply(ex, 500, "venue session down\n\tretry later " + "x".repeat(10_000)));
        server.createContext("/redirect", ex -> {
            ex.getResponseHeaders().add("Location", "http://127.0.0.1:" + port + "/cancel-orders");
            reply(ex, 302, null);
        });
        server.createContext("/slow", ex -> {
            record(ex); // on arrival: the reply comes after the test is over
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            send(ex, 200, "{}");
        });
        server.createContext("/busy", ex -> {
            int now = inFlight.incrementAndGet();
            maxInFlight.accumulateAndGet(now, Math::max);
            try {
                Thread.sleep(500); // each pod takes half a second: fifty in a row would take 25 s
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                inFlight.decrementAndGet();
            }
            reply(ex, 204, null);
        });
        executor = Executors.newCachedThreadPool();
        server.setExecutor(executor);
        server.start();
        port = server.getAddress().getPort();
    }

    @AfterAll
    static void stop() {
        release.countDown();
        server.stop(0);
        executor.shutdownNow();
    }

    @BeforeEach
    void clear() {
        recorded.clear();
    }

    @AfterEach
    void releaseSlow() {
        release.countDown();
        release = new CountDownLatch(1);
    }

    static void reply(HttpExchange ex, int status, String body) throws IOException {
        record(ex);
        send(ex, status, body);
    }

    static void record(HttpExchange ex) throws IOException {
        recorded.add(new Recorded(ex.getRequestMethod(), ex.getRequestURI().getPath(),
                ex.getRequestHeaders().getFirst("Content-Type"), ex.getRequestHeaders().getFirst("User-Agent"),
                new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)));
    }

    static void send(HttpExchange ex, int status, String body) throws IOException {
        byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            ex.getResponseBody().write(bytes);
        }
        ex.close();
    }

    // ---------------------------------------------------------------- replies

    @Test
    void successPostsTheStopToThePod() throws Exception {
        List<Outcome> outcomes = cancel.call(policy("/cancel-orders", "2s"), List.of(new Target("momentum-7f9c-abcde", "127.0.0.1")),
                "fat finger on desk A", 42, LOOPBACK).get(5, TimeUnit.SECONDS);

        assertThat(outcomes).hasSize(1);
        Outcome o = outcomes.get(0);
        assertThat(o.pod()).isEqualTo("momentum-7f9c-abcde");
        assertThat(o.result()).isEqualTo(Result.Succeeded);
        assertThat(o.message()).isEqualTo("HTTP 200 from http://127.0.0.1:" + port + "/cancel-orders");
        assertThat(o.durationMillis()).isBetween(0L, 2_000L);

        Recorded r = recorded.peek();
        assertThat(r.method()).isEqualTo("POST");
        assertThat(r.path()).isEqualTo("/cancel-orders");
        assertThat(r.contentType()).isEqualTo("application/json");
        assertThat(r.userAgent()).startsWith("execution-safety-operator");
        JsonNode body = new ObjectMapper().readTree(r.body());
        assertThat(body.path("policy").path("namespace").asText()).isEqualTo("desk-a");
        assertThat(body.path("policy").path("name").asText()).isEqualTo("momentum");
        assertThat(body.path("policy").path("uid").asText()).isEqualTo("0c2a6a8e-5b1f-4c1e-9d52-3f2f0f6d7a11");
        assertThat(body.path("pod").asText()).isEqualTo("momentum-7f9c-abcde");
        assertThat(body.path("reason").asText()).isEqualTo("fat finger on desk A");
        assertThat(body.path("epoch").isIntegralNumber()).isTrue();
        assertThat(body.path("epoch").asLong()).isEqualTo(42);
    }

    @Test
    void anyTwoHundredIsASuccess() throws Exception {
        Outcome o = one(policy("/no-content", "2s"), new Target("p", "127.0.0.1"));
        assertThat(o.result()).isEqualTo(Result.Succeeded);
        assertThat(o.message()).startsWith("HTTP 204");
    }

    @Test
    void serverErrorFailsWithTheStatusOnlyNeverTheReply() throws Exception {
        Outcome o = one(policy("/fail", "2s"), new Target("p", "127.0.0.1"));
        assertThat(o.result()).isEqualTo(Result.Failed);
        assertThat(o.message()).isEqualTo("HTTP 500 from http://127.0.0.1:" + port + "/fail");
    }

    @Test
    void redirectIsNotFollowedAndItsLocationNotRepeated() throws Exception {
        Outcome o = one(policy("/redirect", "2s"), new Target("p", "127.0.0.1"));
        assertThat(o.result()).isEqualTo(Result.Failed);
        assertThat(o.message()).isEqualTo("redirect refused (HTTP 302 from http://127.0.0.1:" + port
                + "/redirect; redirects are never followed)");
        assertThat(recorded).extracting(Recorded::path).containsExactly("/redirect");
    }

    // ---------------------------------------------------------------- allowed destinations

    @Test
    void aPodOutsideTheAllowedDestinationsFailsWithoutACall() throws Exception {
        var elsewhere = AllowedDestinations.of(List.of(cidr("10.244.0.0/16")));
        List<Outcome> outcomes = cancel.call(policy("/cancel-orders", "2s"),
                List.of(new Target("a", "127.0.0.1"), new Target("b", "127.0.0.2")), "stop", 1, elsewhere).get(5, TimeUnit.SECONDS);
        assertThat(outcomes).extracting(Outcome::result).containsExactly(Result.Failed, Result.Failed);
        assertThat(outcomes.get(0).message()).isEqualTo("http://127.0.0.1:" + port + "/cancel-orders is not an allowed destination: "
                + "ExecutionSafety/global spec.allowedDestinations does not list 127.0.0.1 port " + port
                + " (a cluster administrator adds it)");
        assertThat(outcomes).allSatisfy(o -> assertThat(o.durationMillis()).isZero());
        assertThat(recorded).isEmpty();
    }

    @Test
    void theAllowedPortMatters() throws Exception {
        var otherPort = AllowedDestinations.of(List.of(cidr("127.0.0.0/8", port == 65535 ? 1 : port + 1)));
        Outcome o = cancel.call(policy("/cancel-orders", "2s"), List.of(new Target("a", "127.0.0.1")), "stop", 1, otherPort)
                .get(5, TimeUnit.SECONDS).get(0);
        assertThat(o.result()).isEqualTo(Result.Failed);
        assertThat(o.message()).contains("is not an allowed destination");
        var thisPort = AllowedDestinations.of(List.of(cidr("127.0.0.0/8", port)));
        assertThat(cancel.call(policy("/cancel-orders", "2s"), List.of(new Target("a", "127.0.0.1")), "stop", 1, thisPort)
                .get(5, TimeUnit.SECONDS).get(0).result()).isEqualTo(Result.Succeeded);
        assertThat(recorded).hasSize(1);
    }

    @Test
    void withoutExecutionSafetyGlobalNoPodIsCalled() throws Exception {
        Outcome o = cancel.call(policy("/cancel-orders", "2s"), List.of(new Target("a", "127.0.0.1")), "stop", 1,
                AllowedDestinations.of(java.util.Optional.empty())).get(5, TimeUnit.SECONDS).get(0);
        assertThat(o.result()).isEqualTo(Result.Failed);
        assertThat(o.message()).contains("is not an allowed destination: ExecutionSafety/global does not exist");
        assertThat(recorded).isEmpty();
    }

    // ---------------------------------------------------------------- no reply

    @Test
    void slowPodFailsWithinTheTimeout() throws Exception {
        long start = System.nanoTime();
        CompletableFuture<List<Outcome>> f = cancel.call(policy("/slow", "500ms"), List.of(new Target("p", "127.0.0.1")), "stop", 1, LOOPBACK);
        // The deadline is the assertion: timeout + grace + scheduling slack, far below the server's 30 s.
        List<Outcome> outcomes = f.get(500 + OrderCancellation.GRACE.toMillis() + 1_500, TimeUnit.MILLISECONDS);
        long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertThat(outcomes.get(0).result()).isEqualTo(Result.Failed);
        assertThat(outcomes.get(0).message()).isEqualTo("POST http://127.0.0.1:" + port + "/slow: no reply within 500ms");
        assertThat(elapsed).isGreaterThanOrEqualTo(450);
        assertThat(outcomes.get(0).durationMillis()).isBetween(450L, 2_500L);
    }

    @Test
    void refusedConnectionFails() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            closed = s.getLocalPort();
        }
        ExecutionPolicy p = policy("/cancel-orders", "2s");
        p.getSpec().cancelOrders.port = closed;
        Outcome o = one(p, new Target("p", "127.0.0.1"));
        assertThat(o.result()).isEqualTo(Result.Failed);
        assertThat(o.message()).isEqualTo("POST http://127.0.0.1:" + closed + "/cancel-orders: connection refused");
    }

    @Test
    void podWithoutUsableIpFailsWithoutACall() throws Exception {
        List<Outcome> outcomes = cancel.call(policy("/cancel-orders", "2s"),
                List.of(new Target("pending", null), new Target("blank", " "), new Target("named", "gateway.example.com"),
                        new Target("ok", "127.0.0.1")),
                "stop", 1, LOOPBACK).get(5, TimeUnit.SECONDS);
        assertThat(outcomes).extracting(Outcome::pod).containsExactly("pending", "blank", "named", "ok");
        assertThat(outcomes).extracting(Outcome::result).containsExactly(Result.Failed, Result.Failed, Result.Failed, Result.Succeeded);
        assertThat(outcomes.get(0).message()).contains("pod has no IP");
        assertThat(outcomes.get(1).message()).contains("pod has no IP");
        assertThat(outcomes.get(2).message()).isEqualTo("pod IP gateway.example.com is not an IP address");
        assertThat(recorded).filteredOn(r -> r.path().equals("/cancel-orders")).hasSize(1);
    }

    // ---------------------------------------------------------------- many pods

    @Test
    void fiftyPodsAreCalledInParallel() throws Exception {
        maxInFlight.set(0);
        List<Target> pods = IntStream.range(0, 50).mapToObj(i -> new Target("pod-" + i, "127.0.0.1")).toList();
        long start = System.nanoTime();
        List<Outcome> outcomes = cancel.call(policy("/busy", "5s"), pods, "stop", 7, LOOPBACK).get(10, TimeUnit.SECONDS);
        long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertThat(outcomes).extracting(Outcome::pod).containsExactlyElementsOf(pods.stream().map(Target::pod).toList());
        assertThat(outcomes).allSatisfy(o -> assertThat(o.result()).as(o.message()).isEqualTo(Result.Succeeded));
        assertThat(elapsed).as("one round of 500 ms, not fifty").isLessThan(5_000);
        assertThat(maxInFlight.get()).as("pods handled at the same time").isGreaterThan(10);
        assertThat(recorded).extracting(r -> new ObjectMapper().readTree(r.body()).path("pod").asText())
                .containsExactlyInAnyOrderElementsOf(pods.stream().map(Target::pod).toList());
    }

    @Test
    void fiftySlowPodsAllFailWithinOneTimeout() throws Exception {
        List<Target> pods = IntStream.range(0, 50).mapToObj(i -> new Target("pod-" + i, "127.0.0.1")).toList();
        long start = System.nanoTime();
        List<Outcome> outcomes = cancel.call(policy("/slow", "1s"), pods, "stop", 7, LOOPBACK)
                .get(1_000 + OrderCancellation.GRACE.toMillis() + 2_000, TimeUnit.MILLISECONDS);
        long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertThat(outcomes).hasSize(50).allSatisfy(o -> {
            assertThat(o.result()).isEqualTo(Result.Failed);
            assertThat(o.message()).endsWith("no reply within 1s");
        });
        assertThat(elapsed).isGreaterThanOrEqualTo(950);
    }

    // ---------------------------------------------------------------- spec problems

    @Test
    void emptyListCompletesAtOnce() {
        CompletableFuture<List<Outcome>> f = cancel.call(policy("/cancel-orders", "2s"), List.of(), "stop", 1, LOOPBACK);
        assertThat(f).isCompletedWithValue(List.of());
        assertThat(cancel.call(policy("/cancel-orders", "2s"), null, "stop", 1, LOOPBACK)).isCompletedWithValue(List.of());
    }

    @Test
    void badTimeoutFailsEveryPodNamingTheField() {
        CompletableFuture<List<Outcome>> f = cancel.call(policy("/cancel-orders", "soon"),
                List.of(new Target("a", "127.0.0.1"), new Target("b", "127.0.0.1")), "stop", 1, LOOPBACK);
        assertThat(f).isDone();
        assertThat(f.join()).extracting(Outcome::pod).containsExactly("a", "b");
        assertThat(f.join()).allSatisfy(o -> {
            assertThat(o.result()).isEqualTo(Result.Failed);
            assertThat(o.message()).startsWith("bad spec.cancelOrders.timeout: ");
        });
        assertThat(recorded).filteredOn(r -> r.path().equals("/cancel-orders")).isEmpty();
    }

    @Test
    void missingHookFailsEveryPod() {
        ExecutionPolicy p = policy("/cancel-orders", "2s");
        p.getSpec().cancelOrders = null;
        assertThat(cancel.call(p, List.of(new Target("a", "127.0.0.1")), "stop", 1, LOOPBACK).join())
                .singleElement()
                .satisfies(o -> assertThat(o.message()).isEqualTo("spec.cancelOrders is not set: no endpoint to call"));
    }

    @Test
    void defaultsApply() throws Exception {
        ExecutionPolicy p = policy(null, null);
        assertThat(one(p, new Target("p", "127.0.0.1")).result()).isEqualTo(Result.Succeeded);
        assertThat(recorded).extracting(Recorded::path).containsExactly("/cancel-orders");
    }

    @Test
    void urls() {
        assertThat(OrderCancellation.uri("http", "10.244.1.7", 8080, "/cancel-orders")).hasToString("http://10.244.1.7:8080/cancel-orders");
        assertThat(OrderCancellation.uri("https", "fd00:10:244::7", 8443, "/v1/cancel?all=true"))
                .hasToString("https://[fd00:10:244::7]:8443/v1/cancel?all=true");
        assertThat(OrderCancellation.uri("http", "fd00::7", 80, "/x").getHost()).isEqualTo("[fd00::7]");
    }

    // ---------------------------------------------------------------- helpers

    Outcome one(ExecutionPolicy policy, Target target) throws Exception {
        List<Outcome> outcomes = cancel.call(policy, List.of(target), "stop", 1, LOOPBACK).get(10, TimeUnit.SECONDS);
        assertThat(outcomes).hasSize(1);
        return outcomes.get(0);
    }

    static ExecutionSafetySpec.AllowedDestination cidr(String cidr, Integer... ports) {
        var d = new ExecutionSafetySpec.AllowedDestination();
        d.cidr = cidr;
        d.ports = ports.length == 0 ? null : List.of(ports);
        return d;
    }

    static ExecutionPolicy policy(String path, String timeout) {
        ExecutionPolicy p = new ExecutionPolicy();
        p.setMetadata(new ObjectMetaBuilder().withName("momentum").withNamespace("desk-a")
                .withUid("0c2a6a8e-5b1f-4c1e-9d52-3f2f0f6d7a11").build());
        ExecutionPolicySpec spec = new ExecutionPolicySpec();
        spec.mode = ExecutionMode.DRY_RUN;
        spec.cancelOrders = new ExecutionPolicySpec.CancelOrders();
        spec.cancelOrders.port = port;
        spec.cancelOrders.path = path;
        spec.cancelOrders.timeout = timeout;
        p.setSpec(spec);
        return p;
    }
}
