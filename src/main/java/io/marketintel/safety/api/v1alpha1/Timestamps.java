package io.marketintel.safety.api.v1alpha1;

import java.time.Instant;
import java.util.Optional;

/** RFC 3339 timestamps in status, as the operator writes them; anything unreadable is treated as absent. */
public final class Timestamps {
    private Timestamps() {
    }

    public static Optional<Instant> parse(String text) {
        try {
            return text == null ? Optional.empty() : Optional.of(Instant.parse(text));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }
}
