package io.marketintel.safety.guard;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;

import io.marketintel.safety.api.v1alpha1.Durations;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.GuardType;
import io.marketintel.safety.policy.Soak;
import io.marketintel.safety.policy.TransitionRules;

/**
 * Live only after spec.dryRunSoak spent in DryRun (RTS 6 Art. 7). The transition rules apply this whether or not the
 * guard is listed; the guard shows it as a row of status.guards. It decides nothing itself: it reads the spec and
 * status and asks {@link TransitionRules#dryRunSoakBlocker}, so its failure is the rules' blocker, word for word,
 * and the rules say it once.
 */
@ApplicationScoped
public class DryRunSoakGuard implements SafetyGuard {
    @Override
    public GuardType type() {
        return GuardType.DryRunSoak;
    }

    @Override
    public GuardOutcome evaluate(GuardContext ctx) {
        if (ctx.to() != ExecutionMode.LIVE) {
            return GuardOutcome.pass("the soak applies to Live only");
        }
        String text = ctx.policy().getSpec().dryRunSoak;
        if (text == null) {
            return GuardOutcome.pass("no soak required (spec.dryRunSoak unset)");
        }
        Duration required;
        try {
            required = Durations.parse(text);
        } catch (IllegalArgumentException e) {
            return GuardOutcome.error("spec.dryRunSoak: " + e.getMessage());
        }
        var status = ctx.policy().getStatus();
        Optional<Instant> since = Optional.empty();
        if (status != null && status.modeSince != null) {
            try {
                since = Optional.of(Instant.parse(status.modeSince));
            } catch (RuntimeException e) {
                return GuardOutcome.error("status.modeSince is not a timestamp: " + status.modeSince);
            }
        }
        Optional<String> blocker = TransitionRules.dryRunSoakBlocker(ctx.from(), ctx.to(), Optional.of(required), since, ctx.now());
        if (blocker.isPresent()) {
            return GuardOutcome.fail(blocker.get());
        }
        Duration soaked = Soak.soaked(ctx.from(), since, ctx.now());
        return GuardOutcome.pass("soaked " + TransitionRules.human(soaked) + " in DryRun (required " + TransitionRules.human(required) + ")");
    }
}
