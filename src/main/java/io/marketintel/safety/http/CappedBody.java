package io.marketintel.safety.http;

import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/**
 * Reads a reply body up to a cap, then stops reading: a team's guard endpoint or a pod's cancel-orders
 * endpoint must never make the operator buffer an unbounded answer.
 */
public final class CappedBody implements HttpResponse.BodySubscriber<CappedBody.Reply> {
    private final int max;
    private final CompletableFuture<Reply> result = new CompletableFuture<>();
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    private Flow.Subscription subscription;

    public CappedBody(int max) {
        this.max = max;
    }

    /**
     * At most the cap's bytes of a reply, and whether there was more. Read by the caller to decide an outcome, never
     * repeated in a message (the reply may be any service's answer: {@code AllowedDestinations}).
     */
    public record Reply(byte[] bytes, boolean truncated) {
    }

    /** Control characters and runs of whitespace become single spaces. */
    public static String clean(String s) {
        return s.replaceAll("[\\p{Cntrl}\\s]+", " ").strip();
    }

    @Override
    public CompletionStage<Reply> getBody() {
        return result;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        s.request(1);
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
        if (result.isDone()) {
            return;
        }
        for (ByteBuffer b : items) {
            int n = Math.min(max - buffer.size(), b.remaining());
            byte[] chunk = new byte[n];
            b.get(chunk);
            buffer.write(chunk, 0, n);
            if (b.hasRemaining()) {
                subscription.cancel();
                result.complete(new Reply(buffer.toByteArray(), true));
                return;
            }
        }
        subscription.request(1);
    }

    @Override
    public void onError(Throwable t) {
        result.completeExceptionally(t);
    }

    @Override
    public void onComplete() {
        result.complete(new Reply(buffer.toByteArray(), false));
    }
}
