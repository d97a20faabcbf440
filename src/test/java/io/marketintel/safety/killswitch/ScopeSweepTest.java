package io.marketintel.safety.killswitch;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

/** When a namespace's sweep may start: never beside another of the same namespace, at most once a second. */
class ScopeSweepTest {
    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-12-07T12:00:00Z"));
    private final Clock clock = new Clock() {
        @Override
        public Instant instant() {
            return now.get();
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    };
    private final ScopeSweep sweep = new ScopeSweep(null, null, null, clock);

    private void later(Duration d) {
        now.set(now.get().plus(d));
    }

    @Test
    void aSlowSweepIsNeverJoinedByASecondOneOfTheSameNamespace() {
        assertThat(sweep.due("a")).isTrue();
        later(Duration.ofSeconds(5)); // still running, long past the interval
        assertThat(sweep.due("a")).as("the first one still runs").isFalse();
        assertThat(sweep.due("b")).as("another namespace is its own").isTrue();
        sweep.ended("a");
        assertThat(sweep.due("a")).as("the interval counts from the end").isFalse();
        later(ScopeSweep.MIN_INTERVAL.minusMillis(1));
        assertThat(sweep.due("a")).isFalse();
        later(Duration.ofMillis(1));
        assertThat(sweep.due("a")).isTrue();
        assertThat(sweep.due("a")).as("and counts as running again").isFalse();
    }

    @Test
    void aSweepThatNeverEndsDoesNotBlockTheNamespaceForever() {
        assertThat(sweep.due("a")).isTrue();
        later(ScopeSweep.LOST.minusMillis(1));
        assertThat(sweep.due("a")).isFalse();
        later(Duration.ofMillis(1));
        assertThat(sweep.due("a")).as("taken for lost").isTrue();
    }
}
