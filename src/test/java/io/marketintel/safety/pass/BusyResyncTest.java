package io.marketintel.safety.pass;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;

class BusyResyncTest {
    @Property
    void pollsEveryTwoSecondsAtFirstThenAQuarterOfTheWaitAtMostFifteen(@ForAll @LongRange(min = -60_000, max = 3_600_000) long ms) {
        Duration poll = Resync.busy(Duration.ofMillis(ms));
        assertThat(poll).isBetween(Duration.ofSeconds(2), Duration.ofSeconds(15));
        if (ms >= 8_000 && ms <= 60_000) {
            assertThat(poll).isEqualTo(Duration.ofMillis(ms).dividedBy(4));
        }
    }

    @org.junit.jupiter.api.Test
    void examples() {
        assertThat(Resync.busy(Duration.ZERO)).isEqualTo(Duration.ofSeconds(2));
        assertThat(Resync.busy(Duration.ofSeconds(20))).isEqualTo(Duration.ofSeconds(5));
        assertThat(Resync.busy(Duration.ofMinutes(10))).isEqualTo(Duration.ofSeconds(15));
    }
}
