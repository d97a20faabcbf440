package io.marketintel.safety.policy;

import java.time.Instant;
import java.util.Objects;

import io.marketintel.safety.api.v1alpha1.ExecutionMode;

/** A transition under way, as recorded in status (so it survives an operator restart). */
public record InFlight(ExecutionMode from, ExecutionMode to, Instant startedAt) {
    public InFlight {
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        Objects.requireNonNull(startedAt, "startedAt");
    }

    public boolean isEscalation() {
        return to.isRiskierThan(from);
    }
}
