package io.marketintel.safety.observability;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.enterprise.context.ApplicationScoped;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;

/**
 * The risk monitors' series (issue 23): per policy and monitor its last value and threshold, whether it is breached,
 * whether it has no reading (with what its policy does then), and the breaches counted by action. A monitor has at most
 * 16 siblings and its series go with it (monitor removed, policy deleted, this replica no longer leading), so
 * cardinality is bounded by the policies' monitors. Query durations carry no policy label.
 */
@ApplicationScoped
public class MonitorMetrics {
    private final MeterRegistry registry;
    private final Timer evaluation;
    private final Map<String, Series> monitors = new ConcurrentHashMap<>();

    public MonitorMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.evaluation = Timer.builder("execution.safety.monitor.evaluation")
                .description("One risk monitor's query to Prometheus, answered or not").publishPercentileHistogram().register(registry);
    }

    /** The values behind one monitor's gauges (gauges hold weak references: these keep them alive). */
    private static final class Series {
        volatile double value = Double.NaN;
        volatile double threshold = Double.NaN;
        final AtomicInteger breached = new AtomicInteger();
        final AtomicInteger noData = new AtomicInteger();
        final List<Meter.Id> ids = new ArrayList<>();
        final String onNoData;

        Series(String onNoData) {
            this.onNoData = onNoData;
        }
    }

    /** One evaluation's outcome: the value (NaN when there was no reading), the threshold, breached, no reading. */
    public void observe(String namespace, String policy, String monitor, String onNoData, double value, double threshold,
            boolean breached, boolean noData) {
        Series s = monitors.compute(key(namespace, policy, monitor), (k, old) -> {
            if (old != null && old.onNoData.equals(onNoData)) {
                return old;
            }
            if (old != null) {
                old.ids.forEach(registry::remove);
            }
            return register(namespace, policy, monitor, onNoData);
        });
        s.value = value;
        s.threshold = threshold;
        s.breached.set(breached ? 1 : 0);
        s.noData.set(noData ? 1 : 0);
    }

    /** A breach that asked for its action ({@code EmergencyStop}, {@code DeEscalate}, or {@code NoDataStop}). */
    public void breach(String namespace, String policy, String monitor, String action) {
        Counter.builder("execution.safety.monitor.breaches").description("Risk monitor breaches that asked for their action")
                .tags(Tags.of("namespace", namespace, "policy", policy, "monitor", monitor, "action", action)).register(registry)
                .increment();
    }

    public Timer evaluation() {
        return evaluation;
    }

    /** The monitor is not evaluated now (its policy is in none of its modes): its gauges go, its breach count stays. */
    public void forget(String namespace, String policy, String monitor) {
        Series s = monitors.remove(key(namespace, policy, monitor));
        if (s != null) {
            s.ids.forEach(registry::remove);
        }
    }

    /** The monitor is gone (removed from its policy, the policy deleted, this replica not leading): every series goes. */
    public void removed(String namespace, String policy, String monitor) {
        forget(namespace, policy, monitor);
        registry.find("execution.safety.monitor.breaches").tags("namespace", namespace, "policy", policy, "monitor", monitor)
                .counters().forEach(registry::remove);
    }

    private Series register(String namespace, String policy, String monitor, String onNoData) {
        Series s = new Series(onNoData);
        Tags tags = Tags.of("namespace", namespace, "policy", policy, "monitor", monitor);
        s.ids.add(Gauge.builder("execution.safety.monitor.value", s, x -> x.value).tags(tags)
                .description("The risk monitor's last value (the worst series); NaN without a reading").register(registry).getId());
        s.ids.add(Gauge.builder("execution.safety.monitor.threshold", s, x -> x.threshold).tags(tags)
                .description("The risk monitor's threshold").register(registry).getId());
        s.ids.add(Gauge.builder("execution.safety.monitor.breached", s.breached, AtomicInteger::get).tags(tags)
                .description("1 while the risk monitor's condition has held for its for").register(registry).getId());
        s.ids.add(Gauge.builder("execution.safety.monitor.no.data", s.noData, AtomicInteger::get).tags(tags.and("on_no_data", onNoData))
                .description("1 while the risk monitor's last evaluation had no reading").register(registry).getId());
        return s;
    }

    private static String key(String namespace, String policy, String monitor) {
        return namespace + "/" + policy + "/" + monitor;
    }
}
