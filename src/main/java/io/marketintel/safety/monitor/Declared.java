package io.marketintel.safety.monitor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import io.marketintel.safety.api.v1alpha1.Durations;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.Defaults;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus;

/**
 * The monitors a policy declares, as the evaluation reads them, and which are due now. Pure.
 * <p>
 * A monitor is due while its policy runs in one of its modes (the effective mode, or the target of a transition under
 * way: a system on its way to Live is watched from the first Live pod) and nothing latches the policy: a stopped system
 * has nothing left to stop, and a re-armed one starts its monitors from scratch ({@code for} must hold again).
 *
 * @param rule  the pure rule
 * @param query the PromQL query
 * @param modes the modes it is evaluated in
 */
public record Declared(MonitorRule rule, String query, Set<ExecutionMode> modes) {

    /** The monitors of a spec; one that cannot be read is left out and named in {@code problems} (fail visible). */
    public static List<Declared> of(ExecutionPolicySpec spec, List<String> problems) {
        List<Declared> all = new ArrayList<>();
        if (spec == null || spec.monitors == null) {
            return all;
        }
        for (ExecutionPolicySpec.Monitor m : spec.monitors) {
            if (m == null || m.name == null || m.query == null || m.comparison == null || m.threshold == null) {
                problems.add("spec.monitors: a monitor without name, query, comparison or threshold is not evaluated");
                continue;
            }
            try {
                Set<ExecutionMode> modes = EnumSet.noneOf(ExecutionMode.class);
                if (m.modes == null || m.modes.isEmpty()) {
                    modes.add(ExecutionMode.LIVE);
                } else {
                    m.modes.forEach(x -> modes.add(x == ExecutionPolicySpec.MonitoredMode.Live ? ExecutionMode.LIVE : ExecutionMode.DRY_RUN));
                }
                ExecutionPolicySpec.OnNoData noData = m.onNoData;
                MonitorRule.OnNoData onNoData = noData == null || noData.action == null
                        ? MonitorRule.OnNoData.valueOf(Defaults.MONITOR_ON_NO_DATA_TEXT)
                        : MonitorRule.OnNoData.valueOf(noData.action.name());
                int failures = noData == null || noData.failuresBeforeStop == null ? Defaults.MONITOR_FAILURES_BEFORE_STOP
                        : noData.failuresBeforeStop;
                MonitorRule rule = new MonitorRule(m.name, Comparison.valueOf(m.comparison.name()), m.threshold,
                        duration(m.holdFor, Defaults.MONITOR_FOR), m.action == null
                                ? MonitorRule.Action.valueOf(Defaults.MONITOR_ACTION_TEXT) : MonitorRule.Action.valueOf(m.action.name()),
                        onNoData, failures, duration(m.staleAfter, Defaults.MONITOR_STALE_AFTER));
                all.add(new Declared(rule, m.query, Set.copyOf(modes)));
            } catch (IllegalArgumentException e) {
                problems.add("spec.monitors[" + m.name + "]: " + e.getMessage() + "; not evaluated");
            }
        }
        return all;
    }

    /** The mode the monitors watch: the target of a transition under way, else the effective mode; none while latched. */
    public static Optional<ExecutionMode> watchedMode(ExecutionPolicy policy) {
        ExecutionPolicyStatus status = policy.getStatus();
        if (status == null || latched(status)) {
            return Optional.empty();
        }
        ExecutionMode to = status.transition == null ? null : status.transition.to;
        if (to != null && (status.mode == null || to.isRiskierThan(status.mode))) {
            return Optional.of(to); // the riskier of the two runs, or is about to
        }
        return Optional.ofNullable(status.mode);
    }

    /** Stopped, breaker open, or held in DryRun by a monitor: nothing to watch until a re-arm. */
    public static boolean latched(ExecutionPolicyStatus status) {
        return status.emergencyStop != null && Boolean.TRUE.equals(status.emergencyStop.active)
                || ExecutionPolicyStatus.CircuitBreakerState.open(status) || ExecutionPolicyStatus.MonitorHold.active(status);
    }

    /** Whether this monitor is evaluated while the policy is in {@code mode}. */
    public boolean dueIn(Optional<ExecutionMode> mode) {
        return mode.filter(modes::contains).isPresent();
    }

    private static Duration duration(String text, String fallback) {
        return Durations.parseOr(text, fallback);
    }
}
