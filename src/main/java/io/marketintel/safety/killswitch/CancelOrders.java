package io.marketintel.safety.killswitch;

import java.util.List;
import java.util.concurrent.CompletableFuture;

import jakarta.enterprise.context.ApplicationScoped;

import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;

/** Placeholder with the agreed API; replaced by the real caller from branch fence-cancel. */
@ApplicationScoped
public class CancelOrders {
    public record Target(String pod, String ip) {
    }

    public record Outcome(String pod, Result result, String message, long durationMillis) {
        public enum Result {
            Succeeded, Failed
        }
    }

    public CompletableFuture<List<Outcome>> call(ExecutionPolicy policy, List<Target> pods, String reason, long epoch) {
        return CompletableFuture.completedFuture(List.of());
    }
}
