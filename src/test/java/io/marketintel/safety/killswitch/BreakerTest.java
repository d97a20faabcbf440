package io.marketintel.safety.killswitch;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.marketintel.safety.killswitch.Breaker.Failure;
import io.marketintel.safety.killswitch.Breaker.Result;

class BreakerTest {
    static final Instant T0 = Instant.parse("2026-11-26T10:00:00Z");
    static final Duration HOUR = Duration.ofHours(1);

    static Failure crash(String key, Instant at) {
        return new Failure(key, at, "CrashLoop", key + " in CrashLoopBackOff");
    }

    @Test
    void tripsOnTheFailureThatReachesTheCountWithinTheWindow() {
        Result one = Breaker.record(List.of(), List.of(crash("a", T0)), T0, HOUR, 3);
        Result two = Breaker.record(one.recent(), List.of(crash("b", T0.plusSeconds(60))), T0.plusSeconds(60), HOUR, 3);
        assertThat(two.trips()).isFalse();
        Result three = Breaker.record(two.recent(), List.of(crash("c", T0.plusSeconds(120))), T0.plusSeconds(120), HOUR, 3);
        assertThat(three.trips()).isTrue();
        assertThat(three.recent()).extracting(Failure::key).containsExactly("c", "b", "a");
    }

    @Test
    void theSameFailureSeenOnManyPassesCountsOnce() {
        List<Failure> recorded = List.of();
        for (int pass = 0; pass < 10; pass++) {
            Result r = Breaker.record(recorded, List.of(crash("pod-1/app restart 4", T0.plusSeconds(pass))), T0.plusSeconds(pass), HOUR, 3);
            assertThat(r.trips()).isFalse();
            recorded = r.recent();
        }
        assertThat(recorded).hasSize(1);
        assertThat(recorded.get(0).at()).isEqualTo(T0); // first seen, not last seen
    }

    @Test
    void failuresOutsideTheWindowAreForgotten() {
        List<Failure> old = List.of(crash("a", T0), crash("b", T0.plusSeconds(10)));
        Result r = Breaker.record(old, List.of(crash("c", T0.plus(HOUR).plusSeconds(5))), T0.plus(HOUR).plusSeconds(5), HOUR, 3);
        assertThat(r.trips()).isFalse();
        assertThat(r.recent()).extracting(Failure::key).containsExactly("c", "b");
    }

    @Test
    void withoutANewFailureTheBreakerDoesNotTripAgain() {
        List<Failure> three = List.of(crash("a", T0), crash("b", T0), crash("c", T0));
        assertThat(Breaker.record(three, List.of(), T0.plusSeconds(1), HOUR, 3).trips()).isFalse();
        assertThat(Breaker.record(three, List.of(crash("a", T0)), T0.plusSeconds(1), HOUR, 3).trips()).isFalse();
    }

    @Test
    void statusKeepsABoundedNumberOfFailures() {
        List<Failure> many = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            many.add(crash("f" + i, T0.plusMillis(i)));
        }
        Result r = Breaker.record(List.of(), many, T0.plusSeconds(1), HOUR, 3);
        assertThat(r.recent()).hasSize(Breaker.KEEP);
        assertThat(r.recent().get(0).key()).isEqualTo("f499");
        assertThat(r.trips()).isTrue();
    }
}
