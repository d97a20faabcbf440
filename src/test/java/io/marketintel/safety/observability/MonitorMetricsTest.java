package io.marketintel.safety.observability;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/** The risk monitors' series: set by each evaluation, hidden while not evaluated, gone with the monitor. */
class MonitorMetricsTest {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final MonitorMetrics metrics = new MonitorMetrics(registry);

    @Test
    void anEvaluationSetsEveryGaugeAndABreachIsCounted() {
        metrics.observe("t", "p", "loss", "Stop", 120.5, 100, true, false);
        metrics.breach("t", "p", "loss", "EmergencyStop");

        assertThat(gauge("execution.safety.monitor.value")).isEqualTo(120.5);
        assertThat(gauge("execution.safety.monitor.threshold")).isEqualTo(100);
        assertThat(gauge("execution.safety.monitor.breached")).isEqualTo(1);
        assertThat(registry.get("execution.safety.monitor.no.data").tag("on_no_data", "Stop").gauge().value()).isZero();
        assertThat(registry.get("execution.safety.monitor.breaches").tag("action", "EmergencyStop").counter().count()).isEqualTo(1);
    }

    @Test
    void notEvaluatedHidesTheGaugesAndKeepsTheCountRemovedTakesAll() {
        metrics.observe("t", "p", "loss", "Alert", 1, 100, false, false);
        metrics.breach("t", "p", "loss", "DeEscalate");

        metrics.forget("t", "p", "loss");
        assertThat(registry.find("execution.safety.monitor.value").gauges()).isEmpty();
        assertThat(registry.find("execution.safety.monitor.breaches").counters()).hasSize(1);

        metrics.observe("t", "p", "loss", "Alert", 1, 100, false, false);
        metrics.observe("t", "p", "rate", "Alert", 1, 100, false, false);
        metrics.removed("t", "p", "loss");
        assertThat(registry.find("execution.safety.monitor.value").gauges()).singleElement()
                .satisfies(g -> assertThat(g.getId().getTag("monitor")).isEqualTo("rate"));
        assertThat(registry.find("execution.safety.monitor.breaches").counters()).isEmpty();
    }

    @Test
    void aChangedOnNoDataReplacesTheSeriesNotDuplicatesIt() {
        metrics.observe("t", "p", "loss", "Alert", 1, 100, false, true);
        metrics.observe("t", "p", "loss", "Stop", 1, 100, false, true);

        assertThat(registry.find("execution.safety.monitor.no.data").gauges()).singleElement()
                .satisfies(g -> assertThat(g.getId().getTag("on_no_data")).isEqualTo("Stop"));
    }

    private double gauge(String name) {
        return registry.get(name).tag("monitor", "loss").gauge().value();
    }
}
