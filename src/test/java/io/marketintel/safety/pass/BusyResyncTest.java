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

    /**
     * A wait a watch reports is looked at again at rest's pace, never later than a second past the transition's deadline,
     * and never in a hot loop once the deadline has passed.
     */
    @Property
    void aWatchedWaitIsLookedAtByTheDeadlineAtTheLatest(@ForAll @LongRange(min = -600_000, max = 3_600_000) long leftMs) {
        Duration left = Duration.ofMillis(leftMs);
        Duration poll = Resync.watched(java.util.Optional.of(left));
        assertThat(poll).isBetween(Resync.BUSY, Resync.IDLE);
        if (left.plusSeconds(1).compareTo(Resync.BUSY) >= 0) {
            assertThat(poll).isLessThanOrEqualTo(left.plusSeconds(1));
        }
        assertThat(Resync.watched(java.util.Optional.empty())).isEqualTo(Resync.IDLE);
    }
}
