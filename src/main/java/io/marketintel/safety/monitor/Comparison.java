package io.marketintel.safety.monitor;

/** How a monitor's value is compared with its threshold; the breach is on the side the operator names. */
public enum Comparison {
    GreaterThan(">"),
    GreaterThanOrEqual(">="),
    LessThan("<"),
    LessThanOrEqual("<=");

    public final String symbol;

    Comparison(String symbol) {
        this.symbol = symbol;
    }

    /** Whether {@code value} breaches {@code threshold}: false for NaN (a NaN is no reading, never a breach by value). */
    public boolean holds(double value, double threshold) {
        return switch (this) {
            case GreaterThan -> value > threshold;
            case GreaterThanOrEqual -> value >= threshold;
            case LessThan -> value < threshold;
            case LessThanOrEqual -> value <= threshold;
        };
    }

    /** Of two values, the one further on the breaching side (the worst series decides). */
    public double worse(double a, double b) {
        return this == GreaterThan || this == GreaterThanOrEqual ? Math.max(a, b) : Math.min(a, b);
    }
}
