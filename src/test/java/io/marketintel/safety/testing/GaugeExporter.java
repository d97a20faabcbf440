package io.marketintel.safety.testing;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;

import com.sun.net.httpserver.HttpServer;

/**
 * A loopback exporter whose gauges the test sets: a JDK HTTP server answering {@code GET /metrics} in Prometheus' text
 * exposition format (0.0.4). A series is written as in the format, {@code name{label="value",...}}, its value as text
 * (so {@code NaN} and {@code +Inf} are shown as given). Every change is numbered ({@link Change}); each scrape records
 * the number it served and when, so a test can time a change from the moment it was made to the first scrape that
 * carried it ({@link #firstScrapeOf}). Removing a series makes Prometheus mark it stale at its next scrape.
 */
public final class GaugeExporter implements AutoCloseable {
    /** A change of what the exporter shows: its number, and when it was made ({@link System#nanoTime()}). */
    public record Change(long version, long nanos) {
    }

    private final HttpServer server;
    private final Map<String, String> series = new LinkedHashMap<>();
    private final Map<String, String> help = new LinkedHashMap<>();
    /** By the version served, the first scrape that served it (nanoTime). */
    private final TreeMap<Long, Long> scrapes = new TreeMap<>();
    private long version;
    private long scrapeCount;

    private GaugeExporter(HttpServer server) {
        this.server = server;
    }

    /** Listening on a free loopback port. */
    public static GaugeExporter start() throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        GaugeExporter exporter = new GaugeExporter(server);
        server.createContext("/metrics", exchange -> {
            byte[] body = exporter.scrape().getBytes(UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "text/plain; version=0.0.4");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        return exporter;
    }

    /** What Prometheus scrapes, host:port. */
    public String target() {
        return "127.0.0.1:" + port();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** The HELP text of metric {@code name} (optional). */
    public synchronized GaugeExporter help(String name, String text) {
        help.put(name, text);
        return this;
    }

    /** Shows {@code series} (e.g. {@code trading_daily_loss_usd{desk="fx"}}) with {@code value} from the next scrape on. */
    public synchronized Change set(String series, String value) {
        this.series.put(series, value);
        return new Change(++version, System.nanoTime());
    }

    public Change set(String series, double value) {
        return set(series, Double.toString(value));
    }

    /** Stops showing {@code series} from the next scrape on. */
    public synchronized Change remove(String series) {
        this.series.remove(series);
        return new Change(++version, System.nanoTime());
    }

    /** When the first scrape that served {@code change} (or a later one) began; empty while none has. */
    public synchronized OptionalLong firstScrapeOf(Change change) {
        Map.Entry<Long, Long> first = scrapes.ceilingEntry(change.version());
        return first == null ? OptionalLong.empty() : OptionalLong.of(first.getValue());
    }

    /** How many scrapes it has answered. */
    public synchronized long scrapes() {
        return scrapeCount;
    }

    /** The exposition text of the current series, one family (HELP, TYPE gauge, samples) after another. */
    synchronized String scrape() {
        scrapeCount++;
        scrapes.putIfAbsent(version, System.nanoTime());
        Map<String, StringBuilder> families = new LinkedHashMap<>();
        series.forEach((s, v) -> {
            int brace = s.indexOf('{');
            String name = brace < 0 ? s : s.substring(0, brace);
            families.computeIfAbsent(name, n -> new StringBuilder(
                    (help.containsKey(n) ? "# HELP " + n + " " + help.get(n) + "\n" : "") + "# TYPE " + n + " gauge\n"))
                    .append(s).append(' ').append(v).append('\n');
        });
        return String.join("", families.values());
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
