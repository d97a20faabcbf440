package io.marketintel.safety.killswitch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus;

/** The write gate and the ledger of stops in force, without a cluster. */
class WriteGateTest {
    static final ResourceID FX = new ResourceID("fx", "desk");

    final StopLedger ledger = new StopLedger();
    final WriteGate gate = new WriteGate(ledger);

    @Test
    void whileAStopIsInForceOnlyWritesToZeroPassUntilItIsReleased() {
        AtomicInteger written = new AtomicInteger();
        assertThat(gate.write(FX, 2, written::incrementAndGet)).isTrue();
        assertThat(ledger.enter(FX, () -> new Stop(Instant.EPOCH, List.of(), 1))).isPresent();
        assertThat(ledger.enter(FX, () -> new Stop(Instant.EPOCH, List.of(), 1))).as("one stop per policy").isEmpty();
        assertThat(gate.write(FX, 2, written::incrementAndGet)).as("scale-up held back").isFalse();
        assertThat(gate.write(FX, 0, written::incrementAndGet)).as("zero passes").isTrue();
        assertThat(gate.write(new ResourceID("rates", "desk"), 2, written::incrementAndGet)).as("another policy").isTrue();
        ledger.released(FX, 1);
        assertThat(gate.write(FX, 2, written::incrementAndGet)).isTrue();
        assertThat(written).hasValue(4);
    }

    @Test
    void aStopWaitsForAWriteInProgress() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Boolean> write = CompletableFuture.supplyAsync(() -> gate.write(FX, 2, () -> {
            entered.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        assertThat(entered.await(30, TimeUnit.SECONDS)).isTrue();
        AtomicBoolean stopped = new AtomicBoolean();
        CompletableFuture<Void> stop = CompletableFuture.runAsync(() -> gate.shut(FX, () -> stopped.set(true)));
        await("the stop waits").during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5)).until(() -> !stopped.get());
        release.countDown();
        await("the stop runs once the write is done").atMost(Duration.ofSeconds(30)).until(stopped::get);
        assertThat(write.get(30, TimeUnit.SECONDS)).isTrue();
        stop.get(30, TimeUnit.SECONDS);
    }

    @Test
    void aLatchedStatusIsInForceUntilItsEpochIsReleased() {
        ExecutionPolicy p = new ExecutionPolicy();
        p.setMetadata(new ObjectMetaBuilder().withName("fx").withNamespace("desk").build());
        assertThat(ledger.latched(p)).isFalse();
        p.setStatus(new ExecutionPolicyStatus());
        p.getStatus().emergencyStop = new ExecutionPolicyStatus.EmergencyStop();
        p.getStatus().emergencyStop.active = true;
        p.getStatus().emergencyStop.epoch = 2L;
        assertThat(ledger.latched(p)).isTrue();
        ledger.released(FX, 1);
        assertThat(ledger.latched(p)).as("an older re-arm releases nothing").isTrue();
        ledger.released(FX, 2);
        assertThat(ledger.latched(p)).as("a cached copy from before the re-arm").isFalse();
        ledger.forget(FX);
        assertThat(ledger.latched(p)).as("forgotten with the policy").isTrue();
    }
}
