package io.marketintel.safety.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Execution mode of a trading system, declared in order of risk: Backtest &lt; DryRun &lt; Live. */
public enum ExecutionMode {
    /** Replays historical data only; no live market connectivity. */
    @JsonProperty("Backtest")
    BACKTEST("Backtest"),
    /** Live market data; orders are simulated and logged, never sent. */
    @JsonProperty("DryRun")
    DRY_RUN("DryRun"),
    /** Real orders, real money. */
    @JsonProperty("Live")
    LIVE("Live");

    private final String wireName;

    ExecutionMode(String wireName) {
        this.wireName = wireName;
    }

    /** The spelling used in manifests, env vars and annotations. */
    public String wireName() {
        return wireName;
    }

    public boolean isRiskierThan(ExecutionMode other) {
        return compareTo(other) > 0;
    }

    public static ExecutionMode safest() {
        return BACKTEST;
    }

    @Override
    public String toString() {
        return wireName;
    }
}
