package io.marketintel.safety.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import io.marketintel.safety.api.v1alpha1.Durations;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

class DurationsTest {
    @ParameterizedTest
    @CsvSource({ "0,0", "250ms,250", "30s,30000", "5m,300000", "1h,3600000", "1h30m,5400000", "1.5h,5400000",
            "2h0m5s,7205000" })
    void parsesGoStyleDurations(String text, long millis) {
        assertThat(Durations.parse(text)).isEqualTo(Duration.ofMillis(millis));
    }

    @ParameterizedTest
    @ValueSource(strings = { "", "5", "5 m", "-5m", "5d", "m5", "1h-3m", "five minutes" })
    void rejectsWhatTheCrdPatternRejects(String text) {
        assertThat(text).doesNotMatch(Durations.PATTERN);
        assertThatThrownBy(() -> Durations.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(text);
    }

    @Property
    void hoursMinutesSecondsAddUp(@ForAll @IntRange(max = 1000) int h, @ForAll @IntRange(max = 59) int m,
            @ForAll @IntRange(max = 59) int s) {
        String text = h + "h" + m + "m" + s + "s";
        assertThat(text).matches(Durations.PATTERN);
        assertThat(Durations.parse(text)).isEqualTo(Duration.ofHours(h).plusMinutes(m).plusSeconds(s));
    }

    @org.junit.jupiter.api.Test
    void defaultAppliesOnlyWhenAbsent() {
        assertThat(Durations.parseOr(null, "5m")).isEqualTo(Duration.ofMinutes(5));
        assertThat(Durations.parseOr("10s", "5m")).isEqualTo(Duration.ofSeconds(10));
    }
}
