package io.marketintel.safety.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.LocalTime;

import org.junit.jupiter.api.Test;

/** kube-api-test's start-up deadline wraps at midnight; a start that would straddle it waits for it (ControlPlane). */
class ControlPlaneMidnightTest {
    @Test
    void aStartWhoseDeadlineWouldWrapPastMidnightWaitsForIt() {
        assertThat(ControlPlane.waitForMidnight(LocalTime.of(23, 59, 36), 120_000)).isBetween(24_000L, 25_500L);
        assertThat(ControlPlane.waitForMidnight(LocalTime.of(23, 58, 30), 120_000)).isBetween(90_000L, 91_500L);
    }

    @Test
    void anyOtherStartDoesNotWait() {
        assertThat(ControlPlane.waitForMidnight(LocalTime.of(23, 57, 0), 120_000)).isZero();
        assertThat(ControlPlane.waitForMidnight(LocalTime.of(0, 0, 1), 120_000)).isZero();
        assertThat(ControlPlane.waitForMidnight(LocalTime.NOON, 120_000)).isZero();
    }
}
