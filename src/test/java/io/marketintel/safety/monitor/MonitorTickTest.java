package io.marketintel.safety.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;

import org.junit.jupiter.api.Test;

/**
 * The monitors' ticker looks every second whether an evaluation is due, so an interval changed in ExecutionSafety/global
 * (or monitoring set for the first time, after the 15 s default) applies within a second, not after the interval in force
 * when the last evaluation ran (AlertPathIT's helper saw a first evaluation 15 s late).
 */
class MonitorTickTest {
    static final Instant T0 = Instant.parse("2026-12-07T08:00:00Z");

    @Test
    void aShorterIntervalAppliesAtTheNextTickNotAfterTheOldOne() {
        Duration fifteen = Duration.ofSeconds(15);
        assertThat(MonitorScheduler.due(null, T0, fifteen)).as("the first").isTrue();
        assertThat(MonitorScheduler.due(T0, T0.plusSeconds(2), fifteen)).isFalse();
        assertThat(MonitorScheduler.nextTick(T0, T0.plusSeconds(2), fifteen)).as("sleeps a tick, not 13 s").isEqualTo(Duration.ofSeconds(1));
        // Monitoring set to every second at T0 + 2 s: due at the next tick.
        assertThat(MonitorScheduler.due(T0, T0.plusSeconds(3), Duration.ofSeconds(1))).isTrue();
        assertThat(MonitorScheduler.due(T0, T0.plusSeconds(15), fifteen)).isTrue();
        assertThat(MonitorScheduler.due(T0, T0.plusMillis(14_990), fifteen)).as("within the slack of due").isTrue();
        assertThat(MonitorScheduler.due(T0, T0.plusMillis(14_900), fifteen)).isFalse();
    }

    @Test
    void atAOneSecondIntervalTheTickerSleepsUntilTheNextEvaluation() {
        Duration one = Duration.ofSeconds(1);
        assertThat(MonitorScheduler.nextTick(T0, T0.plusMillis(300), one)).isEqualTo(Duration.ofMillis(700));
        assertThat(MonitorScheduler.nextTick(T0, T0.plusMillis(1_300), one)).as("late: at once").isZero();
    }
}
