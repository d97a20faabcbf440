package io.marketintel.safety.leadership;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/** The Lease's timing is checked at start-up: a leader must stop before a standby may lead (issue 22, item 5). */
class LeadershipTest {

    private static void election(String lease, String renew, String retry) {
        new Leadership(new SimpleMeterRegistry()).election(null, "lease", Optional.of("ops"), Optional.of("me"),
                Duration.parse(lease), Duration.parse(renew), Duration.parse(retry));
    }

    @Test
    void aFastLeaseIsAcceptedAndSettingsThatCouldMakeTwoLeadersAreRefused() {
        election("PT1.5S", "PT1S", "PT0.25S");
        election("PT15S", "PT10S", "PT1S");
        assertThatThrownBy(() -> election("PT10S", "PT10S", "PT1S")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("renew-deadline (PT10S) < lease-duration (PT10S)");
        assertThatThrownBy(() -> election("PT15S", "PT20S", "PT1S")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> election("PT15S", "PT1S", "PT1S")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("retry-period (PT1S)");
        assertThatThrownBy(() -> election("PT15S", "PT10S", "PT0S")).isInstanceOf(IllegalArgumentException.class);
    }
}
