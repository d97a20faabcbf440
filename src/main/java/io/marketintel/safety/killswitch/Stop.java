package io.marketintel.safety.killswitch;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.marketintel.safety.killswitch.Latch.Trigger;

/** One stop of one policy: from being seen until the latch is released ({@link StopLedger} holds those in force). */
public final class Stop {
    private final Instant seenAt;
    private final List<Trigger> seen;
    private final long epoch;
    private final CompletableFuture<Void> zeroed = new CompletableFuture<>();
    private volatile Instant zeroedAt;
    private volatile List<String> failures = List.of();
    private volatile CompletableFuture<List<OrderCancellation.Outcome>> cancels = CompletableFuture.completedFuture(List.of());

    /**
     * @param epoch the epoch this stop is (or will be recorded as): see {@link StopLedger#epochOf}
     */
    Stop(Instant seenAt, List<Trigger> seen, long epoch) {
        this.seenAt = seenAt;
        this.seen = List.copyOf(seen);
        this.epoch = epoch;
    }

    /** The epoch this stop is, or will be recorded as; a re-arm of it or a later epoch in status ends it. */
    public long epoch() {
        return epoch;
    }

    public Instant seenAt() {
        return seenAt;
    }

    /** The stop annotations in force when the stop was first seen: they latch even if removed at once. */
    public List<Trigger> seen() {
        return seen;
    }

    /** From seen to zero replicas written on every target; empty until then. */
    public Optional<Duration> latency() {
        return Optional.ofNullable(zeroedAt).map(z -> Duration.between(seenAt, z));
    }

    /** Targets that could not be written (the reconciler keeps trying). */
    public List<String> failures() {
        return failures;
    }

    /** The cancel-orders outcomes, once every call has answered or timed out. */
    public Optional<List<OrderCancellation.Outcome>> cancelOutcomes() {
        return cancels.isDone() ? Optional.of(cancels.join()) : Optional.empty();
    }

    /** Done when the zero writes are (written or failed). */
    CompletableFuture<Void> zeroed() {
        return zeroed;
    }

    /** Waits until the zero writes are done; throws if they are not within {@code timeout}. */
    void awaitZeroed(Duration timeout) throws Exception {
        zeroed.get(timeout.toSeconds(), TimeUnit.SECONDS);
    }

    void written(Instant at, List<String> failures) {
        this.zeroedAt = at;
        this.failures = List.copyOf(failures);
    }

    void failed(String why) {
        this.failures = List.of(why);
    }

    void done() {
        zeroed.complete(null);
    }

    void cancels(CompletableFuture<List<OrderCancellation.Outcome>> cancels) {
        this.cancels = cancels;
    }

    CompletableFuture<List<OrderCancellation.Outcome>> cancels() {
        return cancels;
    }
}
