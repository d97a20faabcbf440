package io.marketintel.safety.monitor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import io.marketintel.safety.testing.GaugeExporter;
import io.marketintel.safety.testing.Listeners;
import io.marketintel.safety.testing.PrometheusServer;

/**
 * {@link PrometheusQuery} against a real Prometheus ({@link PrometheusServer}: Debian's {@code prometheus} package, 2.42
 * when written) scraping, every second, a loopback exporter whose value the test sets ({@link GaugeExporter}). Proves what the
 * client makes of Prometheus' own answers: a scraped value, a change (the time until a query sees it is measured and
 * written to {@code target/prometheus-query/summary.txt}), an aggregate, one sample per series, NaN and +Inf as
 * exposed, a missing series, a query that does not parse, a range vector, and a Prometheus that is gone. No Kubernetes.
 */
@Timeout(120)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PrometheusQueryIT {
    static final Path OUT = Path.of("target", "prometheus-query");
    static final String MOMENTUM = "trading_daily_loss_usd{strategy=\"momentum\"}";
    static final int CHANGES = 5;

    static GaugeExporter exporter;
    static PrometheusServer prometheus;
    static PrometheusQuery query;
    static String url;

    @BeforeAll
    static void start() throws Exception {
        PrometheusServer.binary(); // fails (never skips) at once, saying how to install it
        exporter = GaugeExporter.start().help("trading_daily_loss_usd", "Loss of the trading day so far, per strategy.");
        // The momentum strategy's daily loss, which the test changes; the carry strategy's stays at 10.
        exporter.set(MOMENTUM, "1234.5");
        exporter.set("trading_daily_loss_usd{strategy=\"carry\"}", "10");
        exporter.set("trading_fill_ratio{strategy=\"momentum\"}", "NaN");
        exporter.set("trading_order_limit{strategy=\"momentum\"}", "+Inf");
        prometheus = PrometheusServer.config().scrapeInterval(Duration.ofSeconds(1)).logLevel("warn")
                .job("trading", exporter.target()).start(OUT);
        url = prometheus.url();
        query = new PrometheusQuery(PrometheusEndpoint.of(URI.create(url), Duration.ofSeconds(5)));
    }

    @AfterAll
    static void stop() {
        if (prometheus != null) {
            prometheus.close();
        }
        if (exporter != null) {
            exporter.close();
        }
    }

    static Reading read(String promql) {
        return query.query(promql, Instant.now()).join();
    }

    static List<Double> values(Reading r) {
        assertThat(r).as("a reading with samples").isInstanceOf(Reading.Samples.class);
        return ((Reading.Samples) r).samples().stream().map(Reading.Sample::value).toList();
    }

    @Test
    @Order(1)
    void theScrapedValueIsReadAtTheTimeOfItsScrape() {
        await("Prometheus serves the exporter's value (log: " + prometheus.log() + ")").atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(200)).until(() -> read(MOMENTUM) instanceof Reading.Samples s && s.samples().size() == 1
                        && s.samples().get(0).value() == 1234.5);
        Instant now = Instant.now();
        Reading.Sample sample = ((Reading.Samples) read(MOMENTUM)).samples().get(0);
        // The sample's time is its scrape's, at most a scrape interval (and a loaded machine's delay) ago.
        assertThat(sample.at()).isBetween(now.minusSeconds(10), now.plusSeconds(1));
        assertThat(Listeners.beyondLoopback(prometheus.pid())).as("Prometheus listens on loopback only").isEmpty();
    }

    @Test
    @Order(2)
    void aChangedValueIsReadWithinAboutAScrapeInterval() throws IOException {
        List<Long> changeToQuery = new ArrayList<>();
        List<Long> changeToScrape = new ArrayList<>();
        List<Long> scrapeToQuery = new ArrayList<>();
        for (int i = 1; i <= CHANGES; i++) {
            double next = 2000 + i * 111.25;
            GaugeExporter.Change change = exporter.set(MOMENTUM, next);
            await().atMost(Duration.ofSeconds(15)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(25))
                    .until(() -> values(read(MOMENTUM)).equals(List.of(next)));
            long seen = System.nanoTime();
            long scraped = exporter.firstScrapeOf(change).orElseThrow();
            changeToQuery.add(TimeUnit.NANOSECONDS.toMillis(seen - change.nanos()));
            changeToScrape.add(TimeUnit.NANOSECONDS.toMillis(scraped - change.nanos()));
            scrapeToQuery.add(TimeUnit.NANOSECONDS.toMillis(seen - scraped));
        }
        String summary = "PrometheusQueryIT: " + CHANGES + " changes of the exporter's value, Prometheus "
                + PrometheusServer.version().replace("prometheus, version ", "") + ", scrape_interval 1s, polled every 25 ms\n"
                + "  change -> first scrape that served it (ms): " + changeToScrape
                + " (after the first, each change follows a scrape closely: the previous one was seen just after it)\n"
                + "  that scrape -> first query that returned it (ms): " + scrapeToQuery + " (median " + median(scrapeToQuery) + ", max "
                + Collections.max(scrapeToQuery) + ")\n"
                + "  change -> first query that returned it (ms): " + changeToQuery + " (median " + median(changeToQuery) + ", max "
                + Collections.max(changeToQuery) + ")\n";
        System.out.print(summary);
        Files.writeString(OUT.resolve("summary.txt"), summary);
        // A scrape every second; the rest is the machine's load. Not a performance bound, a sanity one.
        assertThat(changeToQuery).allMatch(ms -> ms < 10_000);
    }

    @Test
    @Order(3)
    void anAggregateIsOneSampleAndAPlainSelectorOnePerSeries() {
        double momentumNow = values(read(MOMENTUM)).get(0);
        assertThat(values(read("max(trading_daily_loss_usd)"))).containsExactly(momentumNow);
        assertThat(values(read("trading_daily_loss_usd"))).containsExactlyInAnyOrder(momentumNow, 10.0);
        assertThat(values(read("scalar(min(trading_daily_loss_usd))"))).containsExactly(10.0);
    }

    @Test
    @Order(4)
    void nanAndInfinityAreReadAsExposed() {
        assertThat(values(read("trading_fill_ratio"))).singleElement().satisfies(v -> assertThat(v).isNaN());
        assertThat(values(read("trading_order_limit"))).containsExactly(Double.POSITIVE_INFINITY);
        assertThat(values(read("-trading_order_limit"))).containsExactly(Double.NEGATIVE_INFINITY);
    }

    @Test
    @Order(5)
    void aMissingSeriesIsNoSample() {
        assertThat(read("trading_daily_loss_usd{strategy=\"absent\"}")).isEqualTo(new Reading.Samples(List.of()));
    }

    @Test
    @Order(6)
    void aQueryThatDoesNotParseNamesPrometheusParseError() {
        Reading r = read("max(trading_daily_loss_usd");
        assertThat(r).isInstanceOf(Reading.Failed.class);
        String detail = ((Reading.Failed) r).detail();
        System.out.println("PrometheusQueryIT: a query that does not parse: " + detail);
        assertThat(detail).startsWith("Prometheus at " + url + " answered bad_data: ").contains("parse error");
    }

    @Test
    @Order(7)
    void aRangeVectorCannotBeCompared() {
        Reading r = read("trading_daily_loss_usd[1m]");
        assertThat(r).isInstanceOf(Reading.Failed.class);
        assertThat(((Reading.Failed) r).detail()).startsWith("the query gives a range vector (resultType matrix)");
    }

    @Test
    @Order(8)
    void aPrometheusThatIsGoneIsConnectionRefused() throws InterruptedException {
        assertThat(prometheus.stop()).as("Prometheus stops on SIGTERM").isTrue();
        assertThat(read(MOMENTUM)).isEqualTo(new Reading.Failed("Prometheus at " + url + ": connection refused"));
    }

    static long median(List<Long> values) {
        List<Long> sorted = values.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }

}
