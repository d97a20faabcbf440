package io.marketintel.safety.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;

/** {@link GaugeExporter} and {@link PrometheusServer.Config} without a Prometheus (their ITs run the real one). */
class PrometheusHelpersTest {
    static String get(GaugeExporter exporter) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://" + exporter.target() + "/metrics"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4");
        return r.body();
    }

    @Test
    void servesEachFamilyTogetherWithItsTypeAndTimesTheFirstScrapeOfAChange() throws Exception {
        try (GaugeExporter exporter = GaugeExporter.start().help("loss", "Loss so far.")) {
            assertThat(exporter.target()).startsWith("127.0.0.1:");
            GaugeExporter.Change first = exporter.set("loss{desk=\"a\"}", 1.5);
            exporter.set("rate", "NaN");
            GaugeExporter.Change last = exporter.set("loss{desk=\"b\"}", "+Inf");
            assertThat(exporter.firstScrapeOf(first)).isEmpty();
            long before = System.nanoTime();
            assertThat(get(exporter)).isEqualTo("""
                    # HELP loss Loss so far.
                    # TYPE loss gauge
                    loss{desk="a"} 1.5
                    loss{desk="b"} +Inf
                    # TYPE rate gauge
                    rate NaN
                    """);
            assertThat(exporter.firstScrapeOf(last).orElseThrow()).isGreaterThanOrEqualTo(before);
            assertThat(exporter.firstScrapeOf(first)).as("a change served only with a later one").isEqualTo(exporter.firstScrapeOf(last));

            GaugeExporter.Change removed = exporter.remove("loss{desk=\"a\"}");
            assertThat(removed.version()).isGreaterThan(last.version());
            assertThat(exporter.firstScrapeOf(removed)).isEmpty();
            assertThat(get(exporter)).doesNotContain("desk=\"a\"").contains("loss{desk=\"b\"} +Inf");
            assertThat(exporter.firstScrapeOf(removed)).isPresent();
            assertThat(exporter.scrapes()).isEqualTo(2);
        }
    }

    @Test
    void prometheusConfigurationNamesJobsRulesAndAlertmanagers() {
        String yaml = PrometheusServer.config().scrapeInterval(Duration.ofMillis(500)).evaluationInterval(Duration.ofSeconds(2))
                .job("trading", "127.0.0.1:1").job("operator", "/q/metrics", true, "127.0.0.1:2", "127.0.0.1:3")
                .rules(Path.of("/tmp/rules.yaml")).alertmanager("127.0.0.1:4").yaml();
        assertThat(yaml).isEqualTo("""
                global:
                  scrape_interval: 500ms
                  scrape_timeout: 500ms
                  evaluation_interval: 2s
                rule_files: ['/tmp/rules.yaml']
                alerting:
                  alertmanagers:
                    - static_configs: [{targets: ['127.0.0.1:4']}]
                scrape_configs:
                  - job_name: trading
                    metrics_path: /metrics
                    static_configs: [{targets: ['127.0.0.1:1']}]
                  - job_name: operator
                    honor_labels: true
                    metrics_path: /q/metrics
                    static_configs: [{targets: ['127.0.0.1:2', '127.0.0.1:3']}]
                """);
        assertThat(PrometheusServer.config().yaml()).endsWith("scrape_configs: []\n");
    }
}
