package io.marketintel.safety.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.client.KubernetesClientException;

/** The listener is installed for the whole run (through the service file), not only in tests that ask for it. */
class TransientReadsTest {
    @Test
    void anAwaitPollsAgainAfterAReadOfAMissingStatusOrABusyApiServer() {
        AtomicInteger reads = new AtomicInteger();
        await("status written").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10)).until(() -> {
            int n = reads.incrementAndGet();
            if (n == 1) {
                throw new KubernetesClientException("the server is currently unable to handle the request", 503, null);
            }
            if (n == 2) {
                Object status = null;
                return status.hashCode() > 0; // what reading .getStatus().getConditions() too early does
            }
            return true;
        });
        assertThat(reads).hasValue(3);
    }

    @Test
    void anAssertionStillEndsAnAwaitAtOnce() {
        AtomicInteger reads = new AtomicInteger();
        assertThatThrownBy(() -> await("never").atMost(Duration.ofSeconds(10)).until(() -> {
            reads.incrementAndGet();
            throw new AssertionError("a verdict, not a transient read");
        })).isInstanceOf(AssertionError.class).hasMessageContaining("a verdict");
        assertThat(reads).hasValue(1);
    }
}
