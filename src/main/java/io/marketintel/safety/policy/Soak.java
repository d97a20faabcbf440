package io.marketintel.safety.policy;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import io.marketintel.safety.api.v1alpha1.ExecutionMode;

/** Time spent in DryRun towards the soak Live requires (RTS 6 Art. 7); shared by the rules and the guard. */
public final class Soak {
    private Soak() {
    }

    /** How long the system has run in DryRun: zero unless it is in DryRun now; a future start counts as zero. */
    public static Duration soaked(ExecutionMode current, Optional<Instant> modeSince, Instant now) {
        if (current != ExecutionMode.DRY_RUN) {
            return Duration.ZERO;
        }
        return modeSince.map(since -> Duration.between(since, now)).filter(d -> !d.isNegative()).orElse(Duration.ZERO);
    }

    public static boolean complete(Duration required, Duration soaked) {
        return soaked.compareTo(required) >= 0;
    }
}
