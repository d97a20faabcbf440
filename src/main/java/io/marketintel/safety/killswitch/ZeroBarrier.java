package io.marketintel.safety.killswitch;

import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;

/**
 * "Every stop in flight now has written its zeros", for the work that waits on it (a stop's pod deletions, a stopped
 * pass's reads: they must not compete with the zero writes of a namespace- or cluster-wide stop). Stops are numbered as
 * they start; a wait started after stop {@code n} ends once stops 1..n have all written, whatever started later.
 * <p>
 * One future per distinct wait, one dependent per stop: a barrier built from every stop in flight for each waiter
 * ({@code CompletableFuture.allOf}) was quadratic. With 1,000 stops of a cluster-wide stop it held about 100,000 pending
 * relays after 51 of them had written, and ran a replica with the default 128 MiB heap out of memory (issue 22).
 */
final class ZeroBarrier {
    private static final CompletableFuture<Void> OPEN = CompletableFuture.completedFuture(null);

    private long started;
    private final TreeSet<Long> writing = new TreeSet<>();
    /** Waits by the last stop each covers: done once no stop up to that number is writing. */
    private final TreeMap<Long, CompletableFuture<Void>> waits = new TreeMap<>();

    /** A stop starts; {@code zeroed} completes (normally or not) when its zero writes are done. */
    void started(CompletableFuture<Void> zeroed) {
        long n;
        synchronized (this) {
            n = ++started;
            writing.add(n);
        }
        zeroed.whenComplete((r, e) -> written(n));
    }

    /**
     * Done when every stop started before this call has written its zeros. Shared by the callers of the same moment:
     * never complete or time it out yourself (take a {@code copy()}).
     */
    synchronized CompletableFuture<Void> all() {
        if (writing.isEmpty()) {
            return OPEN;
        }
        return waits.computeIfAbsent(started, k -> new CompletableFuture<>());
    }

    /** How many distinct waits are pending (for tests). */
    synchronized int pendingWaits() {
        return waits.size();
    }

    private void written(long n) {
        List<CompletableFuture<Void>> done;
        synchronized (this) {
            writing.remove(n);
            long first = writing.isEmpty() ? Long.MAX_VALUE : writing.first();
            NavigableMap<Long, CompletableFuture<Void>> covered = waits.headMap(first, false);
            done = new ArrayList<>(covered.values());
            covered.clear();
        }
        done.forEach(f -> f.complete(null)); // outside the lock: dependents run here
    }
}
