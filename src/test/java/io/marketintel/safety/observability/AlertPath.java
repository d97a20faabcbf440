package io.marketintel.safety.observability;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;

import io.marketintel.safety.testing.Listeners;
import io.marketintel.safety.testing.LoopbackDaemon;
import io.marketintel.safety.testing.PrometheusServer;

/**
 * The alert path outside the operator, as a site runs it: Debian's Prometheus scraping the operator's {@code /q/metrics}
 * and evaluating a rules file, Debian's Alertmanager routing what fires to a webhook, and the webhook itself, a JDK HTTP
 * server in the test that records every alert of every notification with the time it arrived. Everything listens on
 * loopback; the two daemons are this JVM's children ({@link PrometheusServer}, {@link LoopbackDaemon}) and are ended by
 * {@link #close()}. Their configuration and logs are written to {@code dir} (read them when a test fails); their storage
 * is there too, deleted at the end.
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
    private final List<Received> received = new CopyOnWriteArrayList<>();
    private HttpServer webhook;
    private LoopbackDaemon alertmanager;
    private PrometheusServer prometheus;
    private int alertmanagerPort;

    private AlertPath(Path dir) {
        this.dir = dir;
    }

    /** The binary named {@code name} on PATH; an AssertionError that names the packages when it is missing (tests fail, never skip). */
    static Path binary(String name) {
        return LoopbackDaemon.binary(name, INSTALL);
    }

    /**
     * Starts the webhook, then Alertmanager routing every alert to it on its own (grouped by all labels: one alert per
     * notification, so each arrival is timed), then Prometheus with {@code rules} (a plain rules file) scraping
     * {@code metricsTarget} (host:port) as job {@code job} every second, listening on {@code prometheusPort} (0: a free port).
     */
    static AlertPath start(Path dir, Path rules, String job, String metricsTarget, int prometheusPort) throws Exception {
        binary(PROMETHEUS);
        Path alertmanager = binary(ALERTMANAGER);
        Files.createDirectories(dir);
        AlertPath path = new AlertPath(dir);
        try {
            path.startWebhook();
            path.startAlertmanager(alertmanager);
            // honor_labels: the operator's own namespace label (the policy's) wins, as the chart's ServiceMonitor has it.
            path.prometheus = PrometheusServer.config().port(prometheusPort).scrapeInterval(Duration.ofSeconds(1)).evaluationInterval(Duration.ofSeconds(1))
                    .rules(rules).alertmanager(path.alertmanagerTarget()).job(job, "/q/metrics", true, metricsTarget).start(dir);
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
        int port = Listeners.freeLoopbackPort();
        alertmanagerPort = port;
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
        Path storage = dir.resolve("alertmanager-data");
        LoopbackDaemon.deleteTree(storage);
        alertmanager = LoopbackDaemon.start("Alertmanager", List.of(binary.toString(), "--config.file=" + config,
                "--storage.path=" + storage,
                "--web.listen-address=127.0.0.1:" + port,
                "--cluster.listen-address=", // no gossip: a single instance, and no port beyond loopback
                "--log.level=debug"), dir.resolve("alertmanager.log"), URI.create("http://127.0.0.1:" + port + "/-/ready"),
                PrometheusServer.READY_DEADLINE);
    }

    private String alertmanagerTarget() {
        return "127.0.0.1:" + alertmanagerPort;
    }

    /** The process ids of Alertmanager and Prometheus. */
    List<Long> pids() {
        return List.of(alertmanager.pid(), prometheus.pid());
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
        return prometheus.api(pathAndQuery);
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
        return LoopbackDaemon.version(binary(PROMETHEUS)) + "; " + LoopbackDaemon.version(binary(ALERTMANAGER));
    }

    /** Ends Prometheus, then Alertmanager (SIGTERM, SIGKILL after 10 s), then the webhook; deletes their storage. */
    @Override
    public void close() {
        try {
            if (prometheus != null) {
                prometheus.close();
            }
            if (alertmanager != null) {
                alertmanager.close();
            }
        } finally {
            if (webhook != null) {
                webhook.stop(0);
            }
            LoopbackDaemon.deleteTree(dir.resolve("alertmanager-data"));
        }
    }
}
