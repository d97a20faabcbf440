package io.marketintel.safety.monitor;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import io.marketintel.safety.monitor.MonitorState.Phase;

/**
 * One evaluation of a monitor, as a pure function: the rule, the state before, what the query returned, and the time.
 * <ul>
 * <li>A reading is the worst of the fresh samples that are numbers (the highest for "greater", the lowest for "less"): one series
 * in breach is enough. Samples older than {@code staleAfter} and NaN are no reading; infinities are values.</li>
 * <li>The condition must be seen holding at every evaluation from the first one that saw it until {@code holdFor} has
 * passed; one evaluation that sees it not holding starts over (a value that flaps never breaches by waiting it out).
 * An evaluation without a reading does not reset that run (the time without readings counts), and declares no breach by
 * value: a breach is declared only on a reading that holds, and a series that disappears cannot reset a pending breach.</li>
 * <li>The action is asked for once per run, when the monitor enters Breached; it stays Breached while the condition holds,
 * also across evaluations without a reading.</li>
 * <li>Without a reading: {@link MonitorRule.OnNoData#Stop} asks for the emergency stop at the
 * {@code failuresBeforeStop}-th evaluation in a row without one (once); Hold and Alert ask for nothing.</li>
 * </ul>
 */
public final class MonitorEvaluation {
    private MonitorEvaluation() {
    }

    /** The state after this evaluation, and the breach it declares, if any. */
    public record Step(MonitorState state, Optional<Breach> breach) {
    }

    /** A breach: the action, and the sentence that names the monitor, the value and the threshold. */
    public record Breach(MonitorRule.Action action, String reason) {
    }

    public static Step next(MonitorRule rule, MonitorState before, Reading reading, Instant now) {
        Optional<Double> value = value(rule, reading, now);
        if (value.isEmpty()) {
            int withoutData = before.withoutData() + 1;
            String detail = noData(rule, reading, now);
            MonitorState state = new MonitorState(Phase.NoData, before.holdingSince(), Optional.empty(), before.declared(), withoutData,
                    Optional.of(detail));
            Optional<Breach> breach = rule.onNoData() == MonitorRule.OnNoData.Stop && withoutData == rule.failuresBeforeStop()
                    ? Optional.of(new Breach(MonitorRule.Action.EmergencyStop, "monitor " + rule.name() + " had no reading in "
                            + withoutData + " evaluation(s) in a row (" + detail + "); its policy stops when it cannot be watched"))
                    : Optional.empty();
            return new Step(state, breach);
        }
        double v = value.get();
        if (!rule.comparison().holds(v, rule.threshold())) {
            return new Step(new MonitorState(Phase.Ok, Optional.empty(), value, false, 0, Optional.empty()), Optional.empty());
        }
        Instant since = before.holdingSince().orElse(now);
        boolean held = !Duration.between(since, now).minus(rule.holdFor()).isNegative();
        if (!held) {
            return new Step(new MonitorState(Phase.Pending, Optional.of(since), value, false, 0, Optional.empty()), Optional.empty());
        }
        MonitorState state = new MonitorState(Phase.Breached, Optional.of(since), value, true, 0, Optional.empty());
        if (before.declared()) {
            return new Step(state, Optional.empty());
        }
        return new Step(state, Optional.of(new Breach(rule.action(), "monitor " + rule.name() + ": " + format(v) + " "
                + rule.comparison().symbol + " " + format(rule.threshold()) + " for " + rule.holdFor().toSeconds() + " s")));
    }

    /**
     * Whether this monitor lets its policy enter a mode it watches: empty when it does, else why not. Its query must answer
     * (a monitor that cannot be queried could never act: no Prometheus set, one that cannot be reached, a query it
     * refuses), and a value it reads must not breach now. No series, NaN or a stale sample holds nothing back: many series
     * exist only once the system runs in that mode, and from its first evaluation on the monitor's onNoData decides.
     */
    public static Optional<String> preflight(MonitorRule rule, Reading reading, Instant now) {
        if (reading instanceof Reading.Failed failed) {
            return Optional.of("monitor " + rule.name() + " cannot be queried: " + failed.detail());
        }
        return value(rule, reading, now).filter(v -> rule.comparison().holds(v, rule.threshold()))
                .map(v -> "monitor " + rule.name() + " is in breach now: " + format(v) + " " + rule.comparison().symbol + " "
                        + format(rule.threshold()));
    }

    /** The worst fresh sample that is a number (infinities included, NaN not); empty when there is none. */
    static Optional<Double> value(MonitorRule rule, Reading reading, Instant now) {
        if (!(reading instanceof Reading.Samples samples)) {
            return Optional.empty();
        }
        return samples.samples().stream().filter(s -> !Double.isNaN(s.value()) && fresh(rule, s, now))
                .map(Reading.Sample::value).reduce(rule.comparison()::worse);
    }

    private static boolean fresh(MonitorRule rule, Reading.Sample s, Instant now) {
        return Duration.between(s.at(), now).compareTo(rule.staleAfter()) <= 0;
    }

    private static String noData(MonitorRule rule, Reading reading, Instant now) {
        if (reading instanceof Reading.Failed failed) {
            return "query failed: " + failed.detail();
        }
        var samples = ((Reading.Samples) reading).samples();
        if (samples.isEmpty()) {
            return "no series";
        }
        return samples.stream().allMatch(s -> Double.isNaN(s.value())) ? "NaN"
                : "stale: the newest sample is older than " + rule.staleAfter().toSeconds() + " s";
    }

    /** A value as messages show it: whole numbers without ".0", no value as "none". */
    static String format(double v) {
        return Double.isNaN(v) ? "none" : v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }
}
