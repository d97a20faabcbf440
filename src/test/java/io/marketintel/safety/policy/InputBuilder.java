package io.marketintel.safety.policy;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import io.marketintel.safety.api.v1alpha1.ExecutionMode;

/** A {@link TransitionInput} to tweak one field at a time; {@code null} means "absent" for optional fields. */
final class InputBuilder {
    private ExecutionMode desired = ExecutionMode.BACKTEST;
    private ExecutionMode effective;
    private InFlight inFlight;
    private Instant modeSince;
    private GuardVerdict guards = GuardVerdict.pass();
    private int validApprovals;
    private int requiredApprovals;
    private boolean stopped;
    private Duration dryRunSoak;
    private Duration timeout = Duration.ofMinutes(5);
    private Instant now = Instant.parse("2026-03-02T14:00:00Z");

    InputBuilder() {
    }

    static InputBuilder from(TransitionInput in) {
        InputBuilder b = new InputBuilder();
        b.desired = in.desired();
        b.effective = in.effective().orElse(null);
        b.inFlight = in.inFlight().orElse(null);
        b.modeSince = in.modeSince().orElse(null);
        b.guards = in.guards();
        b.validApprovals = in.validApprovals();
        b.requiredApprovals = in.requiredApprovals();
        b.stopped = in.emergencyStopped();
        b.dryRunSoak = in.dryRunSoak().orElse(null);
        b.timeout = in.transitionTimeout();
        b.now = in.now();
        return b;
    }

    InputBuilder desired(ExecutionMode m) {
        desired = m;
        return this;
    }

    InputBuilder effective(ExecutionMode m) {
        effective = m;
        return this;
    }

    InputBuilder inFlight(ExecutionMode from, ExecutionMode to, Instant startedAt) {
        inFlight = new InFlight(from, to, startedAt);
        return this;
    }

    InputBuilder noInFlight() {
        inFlight = null;
        return this;
    }

    InputBuilder modeSince(Instant since) {
        modeSince = since;
        return this;
    }

    InputBuilder guards(GuardVerdict g) {
        guards = g;
        return this;
    }

    InputBuilder approvals(int valid, int required) {
        validApprovals = valid;
        requiredApprovals = required;
        return this;
    }

    InputBuilder stopped(boolean s) {
        stopped = s;
        return this;
    }

    InputBuilder dryRunSoak(Duration soak) {
        dryRunSoak = soak;
        return this;
    }

    InputBuilder timeout(Duration t) {
        timeout = t;
        return this;
    }

    InputBuilder now(Instant n) {
        now = n;
        return this;
    }

    TransitionInput build() {
        return new TransitionInput(desired, Optional.ofNullable(effective), Optional.ofNullable(inFlight),
                Optional.ofNullable(modeSince), guards, validApprovals, requiredApprovals, stopped,
                Optional.ofNullable(dryRunSoak), timeout, now);
    }
}
