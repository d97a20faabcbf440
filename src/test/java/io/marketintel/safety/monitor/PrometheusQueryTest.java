package io.marketintel.safety.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;

/**
 * The Prometheus query client against local servers that answer as Prometheus' HTTP API does (or does not): every
 * answer shape, the bearer header, timeouts, a reply over the cap, and mutual TLS with a PKI made by openssl. The real
 * Prometheus is in {@code PrometheusQueryIT}.
 */
@Timeout(60)
class PrometheusQueryTest {
    static final Instant AT = Instant.parse("2026-12-07T09:30:00.250Z");
    static final Duration TIMEOUT = Duration.ofMillis(500);
    /** The bearer token, also in a reply body: it must never reach a message. */
    static final String TOKEN = "prom-token-5e1f";

    @TempDir
    static Path tmp;
    static TestPki pki;
    static HttpServer server;
    static HttpsServer https;
    static ExecutorService executor;
    static String base;
    static String httpsBase;
    /** Released when the tests end: the handlers that never answer wait on it. */
    static final CountDownLatch released = new CountDownLatch(1);
    static final AtomicReference<HttpExchange> recorded = new AtomicReference<>();
    static final AtomicReference<String> clientPrincipal = new AtomicReference<>();

    static final String VECTOR = """
            {"status":"success","data":{"resultType":"vector","result":[
              {"metric":{"strategy":"momentum"},"value":[1796635800.123,"1234.5"]},
              {"metric":{"strategy":"carry"},"value":[1796635801,"-Inf"]},
              {"metric":{"strategy":"basis"},"value":[1796635802.5,"+Inf"]},
              {"metric":{"strategy":"arb"},"value":[1796635803.001,"NaN"]},
              {"metric":{"strategy":"mm"},"value":[1796635804.999,"-1.5e-3"]}]}}
            """;

    @BeforeAll
    static void start() throws Exception {
        executor = Executors.newCachedThreadPool();
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        Map<String, String[]> fixed = new LinkedHashMap<>();
        fixed.put("vector", new String[] { "200", VECTOR });
        fixed.put("scalar", new String[] { "200", "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1796635800,\"42\"]}}" });
        fixed.put("empty", new String[] { "200", "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}" });
        fixed.put("matrix", new String[] { "200", "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{\"metric\":{},"
                + "\"values\":[[1796635800,\"1\"],[1796635801,\"2\"]]}]}}" });
        fixed.put("string", new String[] { "200", "{\"status\":\"success\",\"data\":{\"resultType\":\"string\",\"result\":[1796635800,\"x\"]}}" });
        fixed.put("bad-data", new String[] { "400", "{\"status\":\"error\",\"errorType\":\"bad_data\","
                + "\"error\":\"invalid parameter \\\"query\\\": 1:24: parse error: unexpected <EOF>\"}" });
        fixed.put("long-error", new String[] { "422", "{\"status\":\"error\",\"errorType\":\"execution\",\"error\":\"line one\\n\\tline\\u0007two "
                + "x".repeat(5_000) + "\"}" });
        fixed.put("http-500", new String[] { "500", "upstream broke " + TOKEN });
        fixed.put("unauthorised", new String[] { "401", "bad token " + TOKEN });
        fixed.put("not-json", new String[] { "200", "<html>" + TOKEN + "</html>" });
        fixed.put("bad-value", new String[] { "200", "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
                + "{\"metric\":{},\"value\":[1796635800,\"12 " + TOKEN + "\"]}]}}" });
        fixed.put("unknown-type", new String[] { "200", "{\"status\":\"success\",\"data\":{\"resultType\":\"" + TOKEN + "\",\"result\":[]}}" });
        fixed.forEach((name, reply) -> server.createContext("/" + name + "/", ex -> reply(ex, Integer.parseInt(reply[0]), reply[1])));
        server.createContext("/redirect/", ex -> {
            ex.getResponseHeaders().add("Location", "http://127.0.0.1:1/" + TOKEN);
            reply(ex, 302, "");
        });
        server.createContext("/record/", ex -> {
            recorded.set(ex);
            reply(ex, 200, "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}");
        });
        server.createContext("/huge/", ex -> {
            ex.sendResponseHeaders(200, 0);
            try (OutputStream out = ex.getResponseBody()) {
                out.write("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[".getBytes(StandardCharsets.US_ASCII));
                byte[] series = "{\"metric\":{\"strategy\":\"s\"},\"value\":[1796635800,\"1\"]},".getBytes(StandardCharsets.US_ASCII);
                for (int written = 0; written < 2 * PrometheusQuery.MAX_BODY; written += series.length) {
                    out.write(series);
                }
            } catch (IOException e) {
                // the client stops reading at the cap and hangs up: expected
            }
        });
        server.createContext("/never/", ex -> await(ex));
        server.createContext("/stalled-body/", ex -> {
            ex.sendResponseHeaders(200, 1000);
            ex.getResponseBody().write("{\"status\":\"success\",".getBytes(StandardCharsets.US_ASCII));
            ex.getResponseBody().flush();
            await(ex);
        });
        server.setExecutor(executor);
        server.start();
        base = "http://127.0.0.1:" + server.getAddress().getPort();

        pki = new TestPki(Files.createDirectories(tmp.resolve("pki")));
        https = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        SSLContext tls = serverTls();
        https.setHttpsConfigurator(new HttpsConfigurator(tls) {
            @Override
            public void configure(HttpsParameters params) {
                SSLParameters p = tls.getDefaultSSLParameters();
                p.setNeedClientAuth(true);
                params.setSSLParameters(p);
            }
        });
        https.createContext("/", ex -> {
            clientPrincipal.set(((HttpsExchange) ex).getSSLSession().getPeerPrincipal().getName());
            reply(ex, 200, VECTOR);
        });
        https.setExecutor(executor);
        https.start();
        httpsBase = "https://127.0.0.1:" + https.getAddress().getPort();
    }

    @AfterAll
    static void stop() {
        released.countDown();
        if (server != null) {
            server.stop(0);
        }
        if (https != null) {
            https.stop(0);
        }
        if (executor != null) {
            executor.shutdownNow();
        }
    }

    /** A generous timeout for servers that answer (the machine may be loaded); {@link #TIMEOUT} for those that do not. */
    static PrometheusQuery at(String path) {
        return new PrometheusQuery(PrometheusEndpoint.of(URI.create(base + "/" + path), Duration.ofSeconds(10)));
    }

    static PrometheusQuery silent(String path) {
        return new PrometheusQuery(PrometheusEndpoint.of(URI.create(base + "/" + path), TIMEOUT));
    }

    static Reading read(PrometheusQuery q) {
        return q.query("sum(trading_daily_loss_usd)", AT).join();
    }

    static String failure(Reading r) {
        assertThat(r).isInstanceOf(Reading.Failed.class);
        String detail = ((Reading.Failed) r).detail();
        assertThat(detail).doesNotContain(TOKEN);
        return detail;
    }

    // ---------------------------------------------------------------- answer shapes

    @Test
    void aVectorGivesOneSamplePerSeriesWithPrometheusTimeAndSpecialValues() {
        Reading r = read(at("vector"));
        assertThat(r).isInstanceOf(Reading.Samples.class);
        List<Reading.Sample> s = ((Reading.Samples) r).samples();
        assertThat(s).hasSize(5);
        assertThat(s.get(0)).isEqualTo(new Reading.Sample(1234.5, Instant.parse("2026-12-07T09:30:00.123Z")));
        assertThat(s.get(1)).isEqualTo(new Reading.Sample(Double.NEGATIVE_INFINITY, Instant.parse("2026-12-07T09:30:01Z")));
        assertThat(s.get(2)).isEqualTo(new Reading.Sample(Double.POSITIVE_INFINITY, Instant.parse("2026-12-07T09:30:02.500Z")));
        assertThat(s.get(3).value()).isNaN();
        assertThat(s.get(3).at()).isEqualTo(Instant.parse("2026-12-07T09:30:03.001Z"));
        assertThat(s.get(4)).isEqualTo(new Reading.Sample(-0.0015, Instant.parse("2026-12-07T09:30:04.999Z")));
    }

    @Test
    void aScalarIsOneSample() {
        assertThat(read(at("scalar"))).isEqualTo(new Reading.Samples(List.of(new Reading.Sample(42, Instant.parse("2026-12-07T09:30:00Z")))));
    }

    @Test
    void anEmptyVectorIsNoSampleNotAFailure() {
        assertThat(read(at("empty"))).isEqualTo(new Reading.Samples(List.of()));
    }

    @Test
    void aRangeOrAStringResultCannotBeCompared() {
        assertThat(failure(read(at("matrix")))).startsWith("the query gives a range vector (resultType matrix), which cannot be compared");
        assertThat(failure(read(at("string")))).startsWith("the query gives a string (resultType string), which cannot be compared");
    }

    @Test
    void anErrorAnswerNamesPrometheusErrorTypeAndText() {
        assertThat(failure(read(at("bad-data")))).isEqualTo("Prometheus at " + base + "/bad-data answered bad_data: invalid parameter"
                + " \"query\": 1:24: parse error: unexpected <EOF>");
    }

    @Test
    void anErrorTextIsCleanedAndCapped() {
        String detail = failure(read(at("long-error")));
        assertThat(detail).startsWith("Prometheus at " + base + "/long-error answered execution: line one line two xxx").endsWith("...")
                .doesNotContain("\n", "\t", "\u0007");
        assertThat(detail.length()).isLessThan(("Prometheus at " + base + "/long-error answered execution: ").length()
                + PrometheusQuery.MAX_ERROR_TEXT + 4);
    }

    @Test
    void otherRepliesAreFailuresThatNeverRepeatTheBody() {
        assertThat(failure(read(at("http-500")))).isEqualTo("Prometheus at " + base + "/http-500: HTTP 500");
        assertThat(failure(read(at("unauthorised")))).isEqualTo("Prometheus at " + base + "/unauthorised: HTTP 401 (credentials refused)");
        assertThat(failure(read(at("redirect")))).isEqualTo("Prometheus at " + base
                + "/redirect: redirect refused (HTTP 302; redirects are never followed)");
        assertThat(failure(read(at("not-json")))).isEqualTo("Prometheus at " + base + "/not-json: malformed reply (not a JSON object)");
        assertThat(failure(read(at("bad-value")))).isEqualTo("Prometheus at " + base + "/bad-value: malformed reply (NumberFormatException)");
        assertThat(failure(read(at("unknown-type")))).isEqualTo("Prometheus at " + base + "/unknown-type: malformed reply (an unknown resultType)");
    }

    @Test
    void aReplyOverTheCapIsAFailureAndIsNotReadToTheEnd() {
        assertThat(failure(read(at("huge")))).isEqualTo("Prometheus at " + base
                + "/huge: reply larger than 1024 KiB (a query over many series: aggregate it, e.g. with max)");
    }

    @Test
    void prometheusValuesAreParsedStrictly() {
        assertThat(PrometheusQuery.value("1e+06")).isEqualTo(1e6);
        assertThat(PrometheusQuery.value("-0")).isEqualTo(-0.0);
        for (String bad : List.of("Infinity", "0x1p3", "1d", "", " 1", "inf")) {
            assertThatThrownBy(() -> PrometheusQuery.value(bad)).as(bad).isInstanceOf(NumberFormatException.class);
        }
    }

    // ---------------------------------------------------------------- the request

    @Test
    void theRequestCarriesTheQueryTheTimeTheTimeoutAndTheBearerToken() {
        var q = new PrometheusQuery(PrometheusEndpoint.of(URI.create(base + "/record/"), Duration.ofMillis(9500)).withBearerToken(TOKEN));
        String promql = "max(trading_daily_loss_usd{strategy=~\"mom.*\"}) + 1 > 0 & 2";
        assertThat(q.query(promql, AT).join()).isEqualTo(new Reading.Samples(List.of()));
        HttpExchange ex = recorded.get();
        assertThat(ex.getRequestMethod()).isEqualTo("GET");
        assertThat(ex.getRequestURI().getRawPath()).isEqualTo("/record/api/v1/query");
        assertThat(params(ex.getRequestURI().getRawQuery())).containsExactly(Map.entry("query", promql), Map.entry("time", "1796635800.250"),
                Map.entry("timeout", "9500ms"));
        assertThat(ex.getRequestHeaders().getFirst("Authorization")).isEqualTo("Bearer " + TOKEN);
        assertThat(ex.getRequestHeaders().getFirst("Accept")).isEqualTo("application/json");
    }

    @Test
    void withoutATokenNoAuthorizationHeaderIsSent() {
        assertThat(read(at("record"))).isEqualTo(new Reading.Samples(List.of()));
        assertThat(recorded.get().getRequestHeaders().containsKey("Authorization")).isFalse();
    }

    @Test
    void anEmptyQueryIsAFailureWithoutARequest() {
        assertThat(silent("never").query(" ", AT).join()).isEqualTo(new Reading.Failed("the query is empty"));
    }

    // ---------------------------------------------------------------- transport

    @Test
    void aServerThatNeverAnswersIsAFailureWithinTheTimeout() {
        long start = System.nanoTime();
        String detail = failure(read(silent("never")));
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(detail).isEqualTo("Prometheus at " + base + "/never: no reply within 500ms");
        assertThat(took).isLessThan(TIMEOUT.plus(PrometheusQuery.GRACE).plusSeconds(1));
    }

    @Test
    void aBodyThatStallsIsCutOffAtTheDeadline() {
        long start = System.nanoTime();
        String detail = failure(read(silent("stalled-body")));
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(detail).isEqualTo("Prometheus at " + base + "/stalled-body: no reply within 500ms");
        assertThat(took).isGreaterThanOrEqualTo(TIMEOUT).isLessThan(TIMEOUT.plus(PrometheusQuery.GRACE).plusSeconds(1));
    }

    @Test
    void aClosedPortIsConnectionRefused() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        var q = new PrometheusQuery(PrometheusEndpoint.of(URI.create("http://127.0.0.1:" + port), Duration.ofSeconds(10)).withBearerToken(TOKEN));
        assertThat(failure(read(q))).isEqualTo("Prometheus at http://127.0.0.1:" + port + ": connection refused");
    }

    @Test
    void aServerThatHangsUpIsAConnectionClosedWithoutAReply() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            executor.submit(() -> {
                while (!s.isClosed()) { // the JDK client tries a GET twice
                    try (var c = s.accept()) {
                        c.getInputStream().read(); // the request has begun; hang up without a reply
                    }
                }
                return null;
            });
            var q = new PrometheusQuery(PrometheusEndpoint.of(URI.create("http://127.0.0.1:" + s.getLocalPort()), Duration.ofSeconds(10)));
            assertThat(failure(read(q))).isEqualTo("Prometheus at http://127.0.0.1:" + s.getLocalPort() + ": connection closed without a reply");
        }
    }

    // ---------------------------------------------------------------- TLS

    PrometheusEndpoint tls() throws IOException {
        return PrometheusEndpoint.of(URI.create(httpsBase), Duration.ofSeconds(10)).withCaBundle(pki.pem("ca.crt"))
                .withClientCertificate(pki.pem("client.crt"), pki.pem("client.key"));
    }

    @Test
    void mutualTlsWithTheCaBundleAndAClientCertificateReads() throws IOException {
        Reading r = read(new PrometheusQuery(tls()));
        assertThat(r).isInstanceOf(Reading.Samples.class);
        assertThat(((Reading.Samples) r).samples()).hasSize(5);
        assertThat(clientPrincipal.get()).isEqualTo("CN=execution-safety-operator");
    }

    @Test
    void aCaBundleOfSeveralCertificatesTrustsEach() throws IOException {
        var endpoint = tls().withCaBundle(pki.pem("other-ca.crt") + pki.pem("ca.crt"));
        assertThat(read(new PrometheusQuery(endpoint))).isInstanceOf(Reading.Samples.class);
    }

    @Test
    void aWrongCaIsATlsFailure() throws IOException {
        var endpoint = tls().withCaBundle(pki.pem("other-ca.crt"));
        assertThat(failure(read(new PrometheusQuery(endpoint)))).isEqualTo("Prometheus at " + httpsBase + ": TLS failed (SSLHandshakeException)");
    }

    @Test
    void withoutACaBundleTheJvmTrustDoesNotKnowThePrivateCa() throws IOException {
        var endpoint = new PrometheusEndpoint(URI.create(httpsBase), java.util.Optional.empty(), tls().clientCertificate(),
                java.util.Optional.empty(), Duration.ofSeconds(10));
        assertThat(failure(read(new PrometheusQuery(endpoint)))).isEqualTo("Prometheus at " + httpsBase + ": TLS failed (SSLHandshakeException)");
    }

    @Test
    void withoutAClientCertificateTheServerRefuses() throws IOException {
        var endpoint = PrometheusEndpoint.of(URI.create(httpsBase), Duration.ofSeconds(10)).withCaBundle(pki.pem("ca.crt"));
        // TLS 1.3: the server refuses after the client's side of the handshake is done, so the client usually sees the
        // connection end, as an EOF or a reset; when the server's alert arrives while the client still reads the
        // handshake, it is a handshake failure (seen on a loaded machine). Either is a refusal; tried 10 times.
        var query = new PrometheusQuery(endpoint);
        Set<String> details = new TreeSet<>();
        for (int i = 0; i < 10; i++) {
            details.add(failure(read(query)));
        }
        assertThat(details).isNotEmpty().isSubsetOf("Prometheus at " + httpsBase + ": connection closed without a reply (also how a TLS 1.3"
                + " server refuses a missing or untrusted client certificate)", "Prometheus at " + httpsBase + ": TLS failed (SSLHandshakeException)");
    }

    // ---------------------------------------------------------------- settings refused when built

    @Test
    void keyFormatsOtherThanUnencryptedPkcs8AreRefusedByName() throws IOException {
        var endpoint = tls();
        assertThatThrownBy(() -> new PrometheusQuery(endpoint.withClientCertificate(pki.pem("client.crt"), pki.pem("client-sec1.key"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("SEC1 EC key").hasMessageContaining("openssl pkcs8 -topk8");
        assertThatThrownBy(() -> new PrometheusQuery(endpoint.withClientCertificate(pki.pem("server.crt"), pki.pem("server-pkcs1.key"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PKCS#1 RSA key");
        assertThatThrownBy(() -> new PrometheusQuery(endpoint.withClientCertificate(pki.pem("client.crt"), pki.pem("client-encrypted.key"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("the client key is encrypted");
        assertThatThrownBy(() -> new PrometheusQuery(endpoint.withClientCertificate(pki.pem("client.crt"), "not a key")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("exactly one PEM private key");
    }

    @Test
    void anRsaPkcs8KeyIsAcceptedAndAKeyOfAnotherCertificateIsRefused() throws IOException {
        var endpoint = tls();
        new PrometheusQuery(endpoint.withClientCertificate(pki.pem("server.crt"), pki.pem("server.key")));
        assertThatThrownBy(() -> new PrometheusQuery(endpoint.withClientCertificate(pki.pem("server.crt"), pki.pem("ca.key"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not belong to the client certificate");
        assertThatThrownBy(() -> new PrometheusQuery(endpoint.withClientCertificate(pki.pem("server.crt"), pki.pem("client.key"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("the client key is not a valid PKCS#8 RSA key (the certificate's key is RSA)");
    }

    @Test
    void aCaBundleWithoutCertificatesIsRefused() throws IOException {
        var endpoint = tls();
        assertThatThrownBy(() -> new PrometheusQuery(endpoint.withCaBundle(pki.pem("client.key"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("the CA bundle has no PEM certificate (-----BEGIN CERTIFICATE-----)");
        assertThatThrownBy(() -> new PrometheusQuery(endpoint.withCaBundle("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("the CA bundle: certificate 1 is not a valid PEM X.509 certificate");
    }

    @Test
    void endpointSettingsThatCannotWorkAreRefusedWithoutShowingCredentials() {
        Duration t = Duration.ofSeconds(1);
        assertThatThrownBy(() -> PrometheusEndpoint.of(URI.create("ftp://prometheus:9090"), t)).hasMessageContaining("http or https");
        assertThatThrownBy(() -> PrometheusEndpoint.of(URI.create("http://admin:" + TOKEN + "@prometheus:9090"), t))
                .hasMessageContaining("must not carry credentials").message().doesNotContain(TOKEN);
        assertThatThrownBy(() -> PrometheusEndpoint.of(URI.create("http://prometheus:9090/?token=" + TOKEN), t))
                .hasMessageContaining("query").message().doesNotContain(TOKEN);
        assertThatThrownBy(() -> PrometheusEndpoint.of(URI.create("http://prometheus:9090"), t).withCaBundle("x"))
                .hasMessageContaining("needs an https Prometheus URL");
        assertThatThrownBy(() -> PrometheusEndpoint.of(URI.create("http://prometheus:9090"), t).withBearerToken(TOKEN + "\n"))
                .hasMessageContaining("trailing newline").message().doesNotContain(TOKEN);
        assertThatThrownBy(() -> PrometheusEndpoint.of(URI.create("http://prometheus:9090"), Duration.ZERO)).hasMessageContaining("positive");
    }

    @Test
    void theEndpointNeverShowsItsTokenOrKey() throws IOException {
        String shown = tls().withBearerToken(TOKEN).toString();
        assertThat(shown).doesNotContain(TOKEN, "PRIVATE KEY").contains("bearerToken=(hidden)", "clientCertificate=yes", "caBundle=yes");
        assertThat(tls().clientCertificate().get().toString()).doesNotContain("PRIVATE KEY");
    }

    // ---------------------------------------------------------------- helpers

    static SSLContext serverTls() throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(pki.dir.resolve("server.p12"))) {
            keys.load(in, "changeit".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keys, "changeit".toCharArray());
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(pki.dir.resolve("ca.crt"))) {
            trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return context;
    }

    static Map<String, String> params(String rawQuery) {
        Map<String, String> out = new LinkedHashMap<>();
        Arrays.stream(rawQuery.split("&")).map(p -> p.split("=", 2))
                .forEach(kv -> out.put(kv[0], URLDecoder.decode(kv[1], StandardCharsets.UTF_8)));
        return out;
    }

    static void reply(HttpExchange ex, int status, String body) throws IOException {
        ex.getRequestBody().readAllBytes();
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    /** Holds the exchange open until the tests end: a server that never answers. */
    static void await(HttpExchange ex) {
        try {
            released.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        ex.close();
    }
}
