package io.marketintel.safety.observability;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/** The mode gauge says what the EFFECTIVE column says: no mode runs while emergency-stopped (issue 17). */
class PolicyMetricsTest {
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final PolicyMetrics metrics = new PolicyMetrics(registry);

    double mode(String mode) {
        return registry.get("execution.safety.policy.mode").tag("policy", "fx").tag("mode", mode).gauge().value();
    }

    @Test
    void aRunningPolicyCountsInItsMode() {
        var s = new ExecutionPolicyStatus();
        s.mode = ExecutionMode.LIVE;
        s.effective = "Live";
        metrics.observe("t", "fx", "uid", s, 0);
        assertThat(mode("Live")).isEqualTo(1);
        assertThat(mode("DryRun")).isZero();
    }

    @Test
    void aStoppedPolicyCountsInNoModeAndAsStopped() {
        var s = new ExecutionPolicyStatus();
        s.mode = ExecutionMode.LIVE; // the mode it resumes from
        s.effective = ExecutionPolicyStatus.STOPPED;
        s.emergencyStop = new ExecutionPolicyStatus.EmergencyStop();
        s.emergencyStop.active = true;
        metrics.observe("t", "fx", "uid", s, 0);
        assertThat(mode("Live")).isZero();
        assertThat(mode("DryRun")).isZero();
        assertThat(mode("Backtest")).isZero();
        assertThat(registry.get("execution.safety.emergency.stop.active").tag("policy", "fx").gauge().value()).isEqualTo(1);
    }
}
