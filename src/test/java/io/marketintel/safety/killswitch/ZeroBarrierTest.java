package io.marketintel.safety.killswitch;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

/** "Every stop in flight now has written its zeros": exact, and linear in the stops, however many wait on it. */
class ZeroBarrierTest {
    private final ZeroBarrier barrier = new ZeroBarrier();

    private CompletableFuture<Void> start() {
        CompletableFuture<Void> zeroed = new CompletableFuture<>();
        barrier.started(zeroed);
        return zeroed;
    }

    @Test
    void withNoStopInFlightNothingIsWaitedFor() {
        assertThat(barrier.all()).isDone();
        CompletableFuture<Void> a = start();
        a.complete(null);
        assertThat(barrier.all()).isDone();
    }

    @Test
    void aWaitEndsWhenEveryStopStartedBeforeItHasWrittenAndNotBeforeWhateverStartedLater() {
        CompletableFuture<Void> a = start();
        CompletableFuture<Void> b = start();
        CompletableFuture<Void> first = barrier.all();
        CompletableFuture<Void> c = start();
        CompletableFuture<Void> second = barrier.all();

        b.complete(null);
        assertThat(first).as("a still writes").isNotDone();
        a.completeExceptionally(new IllegalStateException("a write failed: done all the same"));
        assertThat(first).as("a and b done; c started after this wait").isDone();
        assertThat(second).isNotDone();
        c.complete(null);
        assertThat(second).isDone();
        assertThat(barrier.pendingWaits()).isZero();
    }

    /** The cluster-wide stop that ran a replica out of heap: every stop waits for all the others. */
    @Test
    void aThousandStopsEachWaitingForAllAddOneDependentEach() {
        List<CompletableFuture<Void>> zeroed = IntStream.range(0, 1000).mapToObj(i -> start()).toList();
        List<CompletableFuture<Void>> waits = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            waits.add(barrier.all());
        }
        assertThat(barrier.pendingWaits()).as("callers of the same moment share one wait").isEqualTo(1);
        assertThat(zeroed).allSatisfy(z -> assertThat(z.getNumberOfDependents()).isEqualTo(1));

        List<CompletableFuture<Void>> order = new ArrayList<>(zeroed);
        Collections.shuffle(order, new Random(7));
        order.subList(0, 999).forEach(z -> z.complete(null));
        assertThat(waits).noneMatch(CompletableFuture::isDone);
        order.get(999).complete(null);
        assertThat(waits).allMatch(CompletableFuture::isDone);
    }

    /** Property: in any order of starts, waits and writes, a wait is done exactly when every stop before it has written. */
    @Test
    void anyInterleavingEndsEachWaitExactlyWhenItsStopsHaveWritten() {
        Random random = new Random(2026);
        for (int run = 0; run < 300; run++) {
            ZeroBarrier b = new ZeroBarrier();
            List<CompletableFuture<Void>> stops = new ArrayList<>();
            List<CompletableFuture<Void>> waits = new ArrayList<>();
            List<Integer> covers = new ArrayList<>();
            for (int step = 0; step < 40; step++) {
                int move = random.nextInt(3);
                if (move == 0) {
                    CompletableFuture<Void> z = new CompletableFuture<>();
                    b.started(z);
                    stops.add(z);
                } else if (move == 1) {
                    waits.add(b.all());
                    covers.add(stops.size());
                } else if (!stops.isEmpty()) {
                    stops.get(random.nextInt(stops.size())).complete(null);
                }
                for (int w = 0; w < waits.size(); w++) {
                    boolean due = stops.subList(0, covers.get(w)).stream().allMatch(CompletableFuture::isDone);
                    assertThat(waits.get(w).isDone()).as("run %d step %d wait %d", run, step, w).isEqualTo(due);
                }
            }
        }
    }
}
