package io.marketintel.safety.testing;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A real Prometheus server (Debian's {@code prometheus} package: {@code prometheus} on PATH, {@code /usr/bin/prometheus})
 * as the test's child process, on a free loopback port. {@link #config()} says what it scrapes (jobs of static targets),
 * how often, which rule files it evaluates and which Alertmanagers it notifies; {@link Config#start(Path)} writes
 * {@code prometheus.yml} into the given directory (under {@code target/}), keeps its TSDB in {@code data/} there (emptied
 * first) and its log in {@code prometheus.log}, and returns once {@code /-/ready} answers 200, within a deadline; a start
 * that fails throws with the end of the log. {@link #close()} ends it and deletes the TSDB; configuration and log stay.
 */
public final class PrometheusServer implements AutoCloseable {
    public static final String NAME = "prometheus";
    public static final String INSTALL = "install Debian's package with `apt-get update && apt-get install -y prometheus` (as root;"
            + " .ci/run does; the service it installs may stay stopped), or put a binary named prometheus on PATH";
    public static final Duration READY_DEADLINE = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One scrape job: static targets (host:port) read at {@code metricsPath}. */
    public record Job(String name, String metricsPath, boolean honorLabels, List<String> targets) {
    }

    /** What the server is told: scrape and rule-evaluation intervals, jobs, rule files, Alertmanagers. */
    public static final class Config {
        private Duration scrapeInterval = Duration.ofSeconds(1);
        private Duration evaluationInterval = Duration.ofSeconds(1);
        private final List<Job> jobs = new ArrayList<>();
        private final List<Path> ruleFiles = new ArrayList<>();
        private final List<String> alertmanagers = new ArrayList<>();
        private String logLevel = "info";
        private int port;

        private Config() {
        }

        /**
         * The loopback port to listen on (default 0: a free one), for a test that must name Prometheus' URL before it starts
         * (reserve it with {@link Listeners#freeLoopbackPort()}).
         */
        public Config port(int port) {
            this.port = port;
            return this;
        }

        /** How often every target is scraped (default 1 s); the scrape timeout is the same. */
        public Config scrapeInterval(Duration interval) {
            scrapeInterval = interval;
            return this;
        }

        /** How often the rule files are evaluated (default 1 s). */
        public Config evaluationInterval(Duration interval) {
            evaluationInterval = interval;
            return this;
        }

        /** A job scraping {@code targets} (host:port) at {@code /metrics}. */
        public Config job(String name, String... targets) {
            return job(name, "/metrics", false, targets);
        }

        /**
         * A job scraping {@code targets} at {@code metricsPath}; {@code honorLabels}: the target's own labels win over the
         * ones Prometheus attaches (the operator's {@code namespace} label, as the chart's ServiceMonitor has it).
         */
        public Config job(String name, String metricsPath, boolean honorLabels, String... targets) {
            jobs.add(new Job(name, metricsPath, honorLabels, List.of(targets)));
            return this;
        }

        /** A plain rules file (alerting or recording rules) to evaluate. */
        public Config rules(Path file) {
            ruleFiles.add(file.toAbsolutePath());
            return this;
        }

        /** An Alertmanager (host:port) that firing alerts go to. */
        public Config alertmanager(String target) {
            alertmanagers.add(target);
            return this;
        }

        /** Prometheus' --log.level (default info). */
        public Config logLevel(String level) {
            logLevel = level;
            return this;
        }

        /** The configuration file's text. */
        public String yaml() {
            StringBuilder y = new StringBuilder();
            y.append("global:\n");
            y.append("  scrape_interval: ").append(duration(scrapeInterval)).append('\n');
            y.append("  scrape_timeout: ").append(duration(scrapeInterval)).append('\n');
            y.append("  evaluation_interval: ").append(duration(evaluationInterval)).append('\n');
            if (!ruleFiles.isEmpty()) {
                y.append("rule_files: [").append(ruleFiles.stream().map(f -> "'" + f + "'").collect(Collectors.joining(", "))).append("]\n");
            }
            if (!alertmanagers.isEmpty()) {
                y.append("alerting:\n  alertmanagers:\n    - static_configs: [{targets: [")
                        .append(alertmanagers.stream().map(t -> "'" + t + "'").collect(Collectors.joining(", "))).append("]}]\n");
            }
            y.append("scrape_configs:\n");
            if (jobs.isEmpty()) {
                y.setLength(y.length() - 1);
                y.append(" []\n");
            }
            for (Job j : jobs) {
                y.append("  - job_name: ").append(j.name()).append('\n');
                if (j.honorLabels()) {
                    y.append("    honor_labels: true\n");
                }
                y.append("    metrics_path: ").append(j.metricsPath()).append('\n');
                y.append("    static_configs: [{targets: [").append(j.targets().stream().map(t -> "'" + t + "'")
                        .collect(Collectors.joining(", "))).append("]}]\n");
            }
            return y.toString();
        }

        /** Writes the configuration into {@code dir} and starts Prometheus with it; returns once it is ready. */
        public PrometheusServer start(Path dir) throws IOException {
            Path binary = binary();
            Path home = dir.toAbsolutePath();
            Files.createDirectories(home);
            Path config = home.resolve("prometheus.yml");
            Files.writeString(config, yaml());
            Path data = home.resolve("data");
            LoopbackDaemon.deleteTree(data);
            int port = this.port > 0 ? this.port : Listeners.freeLoopbackPort();
            String url = "http://127.0.0.1:" + port;
            LoopbackDaemon daemon = LoopbackDaemon.start("Prometheus", List.of(binary.toString(), "--config.file=" + config,
                    "--storage.tsdb.path=" + data, "--web.listen-address=127.0.0.1:" + port, "--log.level=" + logLevel),
                    home.resolve("prometheus.log"), URI.create(url + "/-/ready"), READY_DEADLINE);
            return new PrometheusServer(daemon, url, port, home, config, this);
        }
    }

    private final LoopbackDaemon daemon;
    private final String url;
    private final int port;
    private final Path dir;
    private final Path configFile;
    private final Config config;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private PrometheusServer(LoopbackDaemon daemon, String url, int port, Path dir, Path configFile, Config config) {
        this.daemon = daemon;
        this.url = url;
        this.port = port;
        this.dir = dir;
        this.configFile = configFile;
        this.config = config;
    }

    public static Config config() {
        return new Config();
    }

    /** The server binary; an AssertionError that says how to install it when it is missing. */
    public static Path binary() {
        Path debian = Path.of("/usr/bin/prometheus");
        try {
            return LoopbackDaemon.binary(NAME, INSTALL);
        } catch (AssertionError e) {
            if (Files.isExecutable(debian)) {
                return debian;
            }
            throw e;
        }
    }

    /** The version line of the binary, e.g. "prometheus, version 2.42.0+ds (branch: ...)". */
    public static String version() {
        return LoopbackDaemon.version(binary());
    }

    /** The base URL of its HTTP API, e.g. http://127.0.0.1:39123 (what spec.monitoring.prometheus.url takes). */
    public String url() {
        return url;
    }

    public int port() {
        return port;
    }

    public long pid() {
        return daemon.pid();
    }

    public boolean alive() {
        return daemon.alive();
    }

    /** The directory of its configuration, log and TSDB. */
    public Path dir() {
        return dir;
    }

    public Path log() {
        return daemon.log();
    }

    public Duration scrapeInterval() {
        return config.scrapeInterval;
    }

    /** GET on its HTTP API ({@code /api/v1/...}), parsed. */
    public JsonNode api(String pathAndQuery) throws IOException, InterruptedException {
        HttpRequest get = HttpRequest.newBuilder(URI.create(url + pathAndQuery)).timeout(Duration.ofSeconds(10)).build();
        return JSON.readTree(http.send(get, HttpResponse.BodyHandlers.ofString()).body());
    }

    /** An instant query's {@code data.result} (a JSON array of {metric, value}); empty for no series. */
    public JsonNode query(String promql) throws IOException, InterruptedException {
        return api("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8)).path("data").path("result");
    }

    /** Configuration file and the end of the log: what a failed test prints about it. */
    public String describe() {
        return "Prometheus at " + url + " (configuration " + configFile + ")\n" + daemon.logTail(30);
    }

    /** SIGTERM, SIGKILL after 10 s; true when it exited on the SIGTERM. The TSDB stays until {@link #close()}. */
    public boolean stop() {
        return daemon.stop();
    }

    /** Ends it and deletes its TSDB; the configuration and the log stay. */
    @Override
    public void close() {
        daemon.close();
        LoopbackDaemon.deleteTree(dir.resolve("data"));
    }

    /** A duration as Prometheus writes one: whole seconds as "5s", otherwise milliseconds ("500ms"). */
    public static String duration(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }
}
