package io.marketintel.safety.observability;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.awaitility.Awaitility;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.marketintel.safety.testing.Listeners;
import com.sun.net.httpserver.HttpServer;

/**
 * The alert path outside the operator, as a site runs it: Debian's Prometheus scraping the operator's {@code /q/metrics}
 * and evaluating a rules file, Debian's Alertmanager routing what fires to a webhook, and the webhook itself, a JDK HTTP
 * server in the test that records every alert of every notification with the time it arrived. Everything listens on
 * loopback; the two daemons are this JVM's children and are ended by {@link #close()}. Their configuration and logs
 * are written to {@code dir} (read them when a test fails); their storage is a temporary directory, deleted at the end.
 */
final class AlertPath implements AutoCloseable {
    static final String PROMETHEUS = "prometheus";
    static final String ALERTMANAGER = "prometheus-alertmanager";
    static final String INSTALL = "install Debian's packages with `apt-get update && apt-get install -y prometheus "
            + "prometheus-alertmanager` (as root; .ci/run does), or put binaries of those names on PATH";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One alert as the webhook received it: a notification carries one or more, each firing or resolved. */
    record Received(Instant at, String status, Map<String, String> labels, Map<String, String> annotations, String startsAt,
            String endsAt) {
        String name() {
            return labels.get("alertname");
        }

        @Override
        public String toString() {
            Map<String, String> shown = new TreeMap<>(labels);
            shown.remove("alertname");
            return at + " " + status + " " + name() + shown;
        }
    }

    private final Path dir;
    private final Path storage;
    private final List<Process> daemons = new ArrayList<>();
    private final List<Received> received = new CopyOnWriteArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private HttpServer webhook;
    private int prometheusPort;
    private int alertmanagerPort;

    private AlertPath(Path dir) throws IOException {
        this.dir = dir;
        this.storage = Files.createTempDirectory("alert-path-");
    }

    /** The binary named {@code name} on PATH; an AssertionError that names the packages when it is missing (tests fail, never skip). */
    static Path binary(String name) {
        return MonitoringAssetsTest.onPath(name).map(Path::of)
                .orElseThrow(() -> new AssertionError(name + " not found on PATH: " + INSTALL));
    }

    /**
     * Starts the webhook, then Alertmanager routing every alert to it on its own (grouped by all labels: one alert per
     * notification, so each arrival is timed), then Prometheus with {@code rules} (a plain rules file) scraping
     * {@code metricsTarget} (host:port) as job {@code job} every second.
     */
    static AlertPath start(Path dir, Path rules, String job, String metricsTarget) throws Exception {
        Path prometheus = binary(PROMETHEUS);
        Path alertmanager = binary(ALERTMANAGER);
        Files.createDirectories(dir);
        AlertPath path = new AlertPath(dir);
        try {
            path.startWebhook();
            path.startAlertmanager(alertmanager);
            path.startPrometheus(prometheus, rules, job, metricsTarget);
            return path;
        } catch (Exception | Error e) {
            path.close();
            throw e;
        }
    }

    private void startWebhook() throws IOException {
        webhook = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        webhook.createContext("/alerts", exchange -> {
            Instant at = Instant.now();
            byte[] body = exchange.getRequestBody().readAllBytes();
            try {
                JsonNode notification = JSON.readTree(body);
                for (JsonNode alert : notification.path("alerts")) {
                    received.add(new Received(at, alert.path("status").asText(), strings(alert.path("labels")),
                            strings(alert.path("annotations")), alert.path("startsAt").asText(), alert.path("endsAt").asText()));
                }
                Files.writeString(dir.resolve("notifications.jsonl"), at + " " + new String(body, UTF_8).strip() + "\n", UTF_8,
                        StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                exchange.sendResponseHeaders(200, -1);
            } catch (IOException e) {
                exchange.sendResponseHeaders(400, -1);
            } finally {
                exchange.close();
            }
        });
        webhook.start();
    }

    private static Map<String, String> strings(JsonNode object) {
        Map<String, String> map = new LinkedHashMap<>();
        object.fields().forEachRemaining(e -> map.put(e.getKey(), e.getValue().asText()));
        return map;
    }

    private void startAlertmanager(Path binary) throws Exception {
        alertmanagerPort = Listeners.freeLoopbackPort();
        Path config = dir.resolve("alertmanager.yml");
        // group_by '...': every alert is a group of its own. group_wait 0s and group_interval 1s: a new alert is sent at
        // once and a change (resolved) within a second, so what is measured is Prometheus and the operator, not batching.
        Files.writeString(config, """
                route:
                  receiver: test
                  group_by: ['...']
                  group_wait: 0s
                  group_interval: 1s
                  repeat_interval: 1m
                receivers:
                  - name: test
                    webhook_configs:
                      - url: http://127.0.0.1:%d/alerts
                        send_resolved: true
                """.formatted(webhook.getAddress().getPort()));
        daemons.add(new ProcessBuilder(binary.toString(), "--config.file=" + config,
                "--storage.path=" + storage.resolve("alertmanager"),
                "--web.listen-address=127.0.0.1:" + alertmanagerPort,
                "--cluster.listen-address=", // no gossip: a single instance, and no port beyond loopback
                "--log.level=debug")
                .redirectErrorStream(true).redirectOutput(dir.resolve("alertmanager.log").toFile()).start());
        awaitReady("Alertmanager", alertmanagerPort, dir.resolve("alertmanager.log"));
    }

    private void startPrometheus(Path binary, Path rules, String job, String target) throws Exception {
        prometheusPort = Listeners.freeLoopbackPort();
        Path config = dir.resolve("prometheus.yml");
        // honor_labels: the operator's own namespace label (the policy's) wins, as the chart's ServiceMonitor has it.
        Files.writeString(config, """
                global:
                  scrape_interval: 1s
                  scrape_timeout: 1s
                  evaluation_interval: 1s
                rule_files: ['%s']
                alerting:
                  alertmanagers:
                    - static_configs: [{targets: ['127.0.0.1:%d']}]
                scrape_configs:
                  - job_name: %s
                    honor_labels: true
                    metrics_path: /q/metrics
                    static_configs: [{targets: ['%s']}]
                """.formatted(rules.toAbsolutePath(), alertmanagerPort, job, target));
        daemons.add(new ProcessBuilder(binary.toString(), "--config.file=" + config,
                "--storage.tsdb.path=" + storage.resolve("prometheus"),
                "--web.listen-address=127.0.0.1:" + prometheusPort)
                .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start());
        awaitReady("Prometheus", prometheusPort, dir.resolve("prometheus.log"));
    }

    private void awaitReady(String what, int port, Path log) {
        Process process = daemons.get(daemons.size() - 1);
        HttpRequest ready = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/-/ready")).timeout(Duration.ofSeconds(5)).build();
        Awaitility.await(what + " ready on 127.0.0.1:" + port + " (log " + log + ")").atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(100)).ignoreExceptions()
                .failFast(what + " exited; log " + log, () -> !process.isAlive())
                .until(() -> http.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
    }


    /** The process ids of Alertmanager and Prometheus. */
    List<Long> pids() {
        return daemons.stream().map(Process::pid).toList();
    }

    /** Every alert the webhook received so far, in order of arrival. */
    List<Received> received() {
        return List.copyOf(received);
    }

    /** The last {@code n} alerts received, one a line: what a failed wait prints. */
    String lastReceived(int n) {
        List<Received> all = received();
        List<Received> tail = all.subList(Math.max(0, all.size() - n), all.size());
        return tail.isEmpty() ? "(none received)" : String.join("\n", tail.stream().map(Received::toString).toList());
    }

    /** GET on Prometheus' HTTP API ({@code /api/v1/...}), parsed. */
    JsonNode prometheusApi(String pathAndQuery) throws Exception {
        HttpRequest get = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + prometheusPort + pathAndQuery))
                .timeout(Duration.ofSeconds(10)).build();
        return JSON.readTree(http.send(get, HttpResponse.BodyHandlers.ofString()).body());
    }

    /** Prometheus' own view of its alerts (pending and firing), for a failure message. */
    String prometheusAlerts() {
        try {
            return prometheusApi("/api/v1/alerts").path("data").path("alerts").toString();
        } catch (Exception e) {
            return "(Prometheus did not answer: " + e + ")";
        }
    }

    /** The version line each daemon prints. */
    static String versions() {
        return Stream.of(PROMETHEUS, ALERTMANAGER).map(name -> {
            try {
                Process p = new ProcessBuilder(binary(name).toString(), "--version").redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), UTF_8);
                p.waitFor(10, TimeUnit.SECONDS);
                return out.lines().findFirst().orElse(name);
            } catch (IOException e) {
                return name + ": " + e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return name;
            }
        }).reduce((a, b) -> a + "; " + b).orElse("");
    }

    /** Ends Prometheus, then Alertmanager (SIGTERM, SIGKILL after 10 s), then the webhook; deletes their storage. */
    @Override
    public void close() {
        for (int i = daemons.size() - 1; i >= 0; i--) {
            Process p = daemons.get(i);
            p.destroy();
            try {
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    p.waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        if (webhook != null) {
            webhook.stop(0);
        }
        try (Stream<Path> files = Files.walk(storage)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // a temporary directory left behind is harmless
        }
    }
}
