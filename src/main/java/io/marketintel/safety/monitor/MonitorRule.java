package io.marketintel.safety.monitor;

import java.time.Duration;
import java.util.Objects;

/**
 * One monitor as its policy declares it: breach when the query's value compares with {@code threshold} as
 * {@code comparison} says, at every evaluation for {@code holdFor}; then {@code action}. A sample older than
 * {@code staleAfter} is no reading. When there is no reading (no series, NaN, stale, a failed query), {@code onNoData}
 * decides; with {@link OnNoData#Stop} the action is taken after {@code failuresBeforeStop} such evaluations in a row.
 */
public record MonitorRule(String name, Comparison comparison, double threshold, Duration holdFor, Action action,
        OnNoData onNoData, int failuresBeforeStop, Duration staleAfter) {

    /** What a breach asks for. */
    public enum Action {
        /** The latched emergency stop, re-armed like any other. */
        EmergencyStop,
        /** A step back to DryRun (the policy then needs approvals for Live again). */
        DeEscalate
    }

    /** What an evaluation without a reading does. */
    public enum OnNoData {
        /** Nothing but the monitor's condition and metric: the state is kept. */
        Hold,
        /** As Hold, and the monitor's condition is a warning a person must see (an alert fires on its metric). */
        Alert,
        /** The emergency stop after {@code failuresBeforeStop} evaluations in a row without a reading. */
        Stop
    }

    public MonitorRule {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(comparison, "comparison");
        Objects.requireNonNull(holdFor, "holdFor");
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(onNoData, "onNoData");
        Objects.requireNonNull(staleAfter, "staleAfter");
        if (Double.isNaN(threshold) || Double.isInfinite(threshold)) {
            throw new IllegalArgumentException("monitor " + name + ": the threshold must be a finite number, not " + threshold);
        }
        if (holdFor.isNegative() || staleAfter.isNegative() || staleAfter.isZero()) {
            throw new IllegalArgumentException("monitor " + name + ": holdFor must not be negative and staleAfter must be positive");
        }
        if (onNoData == OnNoData.Stop && failuresBeforeStop < 1) {
            throw new IllegalArgumentException("monitor " + name + ": failuresBeforeStop must be at least 1 with onNoData Stop");
        }
    }
}
