package io.marketintel.safety.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;

import io.fabric8.generator.annotation.Default;
import io.marketintel.safety.api.v1alpha1.Durations;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.Defaults;
import io.marketintel.safety.api.v1alpha1.ExecutionSafetySpec;

/**
 * Each CRD default and the code's fallback for the same field are one constant in
 * {@link ExecutionPolicySpec.Defaults}: every {@code @Default} of the API types is listed here with the constant the
 * code reads, so a new {@code @Default("...")} literal, or a default that drifts from the code's, fails.
 */
class SpecDefaultsTest {
    /** Field (Class.field) → the value code falls back to, as the CRD must spell it. */
    static final Map<String, String> EXPECTED = Map.ofEntries(
            Map.entry("ExecutionPolicySpec.transitionTimeout", Defaults.TRANSITION_TIMEOUT),
            Map.entry("ModeInjection.envVar", Defaults.MODE_ENV_VAR),
            Map.entry("Approval.requiredForLive", Integer.toString(Defaults.APPROVALS_FOR_LIVE)),
            Map.entry("Approval.requiredForDryRun", Integer.toString(Defaults.APPROVALS_FOR_DRY_RUN)),
            Map.entry("Approval.validity", Defaults.APPROVAL_VALIDITY),
            Map.entry("Guard.timeout", Defaults.GUARD_TIMEOUT),
            Map.entry("ConfigurationCheck.requirePinnedImages", Boolean.toString(Defaults.REQUIRE_PINNED_IMAGES)),
            Map.entry("RiskLimits.currency", Defaults.CURRENCY),
            Map.entry("CircuitBreaker.maxFailures", Integer.toString(Defaults.BREAKER_MAX_FAILURES)),
            Map.entry("CircuitBreaker.window", Defaults.BREAKER_WINDOW),
            Map.entry("EgressPort.protocol", Defaults.EGRESS_PROTOCOL.name()),
            Map.entry("CancelOrders.path", Defaults.CANCEL_ORDERS_PATH),
            Map.entry("CancelOrders.scheme", Defaults.CANCEL_ORDERS_SCHEME.name()),
            Map.entry("CancelOrders.timeout", Defaults.CANCEL_ORDERS_TIMEOUT),
            Map.entry("Monitor.holdFor", Defaults.MONITOR_FOR),
            Map.entry("Monitor.action", Defaults.MONITOR_ACTION_TEXT),
            Map.entry("Monitor.staleAfter", Defaults.MONITOR_STALE_AFTER),
            Map.entry("OnNoData.action", Defaults.MONITOR_ON_NO_DATA_TEXT),
            Map.entry("OnNoData.failuresBeforeStop", Integer.toString(Defaults.MONITOR_FAILURES_BEFORE_STOP)),
            Map.entry("Monitoring.interval", ExecutionSafetySpec.Defaults.MONITORING_INTERVAL),
            Map.entry("Prometheus.timeout", ExecutionSafetySpec.Defaults.PROMETHEUS_TIMEOUT),
            Map.entry("CaSecret.key", ExecutionSafetySpec.Defaults.CA_KEY));

    @Test
    void everyCrdDefaultIsTheCodesConstant() {
        Map<String, String> found = new TreeMap<>();
        collect(ExecutionPolicySpec.class, found);
        collect(ExecutionSafetySpec.class, found);
        assertThat(found).isEqualTo(new TreeMap<>(EXPECTED));
    }

    @Test
    void theDefaultsParse() {
        for (String duration : new String[] { Defaults.TRANSITION_TIMEOUT, Defaults.DRY_RUN_SOAK, Defaults.APPROVAL_VALIDITY,
                Defaults.GUARD_TIMEOUT, Defaults.BREAKER_WINDOW, Defaults.CANCEL_ORDERS_TIMEOUT, Defaults.MONITOR_FOR,
                Defaults.MONITOR_STALE_AFTER, ExecutionSafetySpec.Defaults.MONITORING_INTERVAL, ExecutionSafetySpec.Defaults.PROMETHEUS_TIMEOUT }) {
            assertThat(Durations.parse(duration).isNegative()).as(duration).isFalse();
        }
        assertThat(Durations.parse(Defaults.DRY_RUN_SOAK)).isZero();
    }

    private static void collect(Class<?> type, Map<String, String> found) {
        for (Field f : type.getDeclaredFields()) {
            Default d = f.getAnnotation(Default.class);
            if (d != null) {
                found.put(type.getSimpleName() + "." + f.getName(), d.value());
            }
        }
        for (Class<?> nested : type.getDeclaredClasses()) {
            if (Modifier.isStatic(nested.getModifiers())) {
                collect(nested, found);
            }
        }
    }
}
