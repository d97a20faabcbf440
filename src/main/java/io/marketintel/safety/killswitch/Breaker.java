package io.marketintel.safety.killswitch;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * DESIGN §3.5: repeated failures within a window trip the breaker, which {@link Latch} then holds until a
 * re-arm. Pure: the reconciler feeds what it observed in one pass, and status carries the failures between
 * passes, so a restarted operator keeps counting.
 * <p>
 * A failure has a key, so the same failure seen on many passes counts once: a rolled-back escalation is keyed
 * by when it started, a crash loop by pod, container and restart count (each new crash counts).
 */
public final class Breaker {
    /** Failures kept in status at most, newest first; the count that trips is far lower. */
    static final int KEEP = 100;

    private Breaker() {
    }

    public record Failure(String key, Instant at, String reason, String message) {
    }

    /**
     * @param recent failures within the window, newest first
     * @param trips  the window holds at least {@code maxFailures}
     * @param added  failures not seen before this pass
     */
    public record Result(List<Failure> recent, boolean trips, List<Failure> added) {
    }

    public static Result record(List<Failure> previous, List<Failure> observed, Instant now, Duration window, int maxFailures) {
        Map<String, Failure> byKey = new LinkedHashMap<>();
        for (Failure f : previous) {
            byKey.putIfAbsent(f.key(), f);
        }
        List<Failure> added = new ArrayList<>();
        for (Failure f : observed) {
            if (!byKey.containsKey(f.key())) {
                byKey.put(f.key(), f);
                added.add(f);
            }
        }
        Instant since = now.minus(window);
        List<Failure> recent = byKey.values().stream()
                .filter(f -> f.at().isAfter(since))
                .sorted(Comparator.comparing(Failure::at).reversed())
                .limit(KEEP)
                .toList();
        return new Result(recent, !added.isEmpty() && recent.size() >= maxFailures, List.copyOf(added));
    }
}
