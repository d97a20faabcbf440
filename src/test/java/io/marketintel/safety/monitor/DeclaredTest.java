package io.marketintel.safety.monitor;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus;

/** Which monitors a policy declares, with their defaults, and when they are due (issue 23). */
class DeclaredTest {

    @Test
    void defaultsAreTheDocumentedOnes() {
        ExecutionPolicySpec spec = new ExecutionPolicySpec();
        spec.monitors = List.of(monitor("loss"));
        List<String> problems = new ArrayList<>();

        Declared d = Declared.of(spec, problems).get(0);

        assertThat(problems).isEmpty();
        assertThat(d.modes()).containsExactly(ExecutionMode.LIVE);
        assertThat(d.rule().holdFor()).isEqualTo(Duration.ZERO);
        assertThat(d.rule().action()).isEqualTo(MonitorRule.Action.EmergencyStop);
        assertThat(d.rule().onNoData()).isEqualTo(MonitorRule.OnNoData.Alert);
        assertThat(d.rule().failuresBeforeStop()).isEqualTo(3);
        assertThat(d.rule().staleAfter()).isEqualTo(Duration.ofMinutes(5));
    }

    @Test
    void everyFieldIsRead() {
        ExecutionPolicySpec.Monitor m = monitor("rate");
        m.comparison = ExecutionPolicySpec.MonitorComparison.LessThanOrEqual;
        m.holdFor = "1m30s";
        m.action = ExecutionPolicySpec.MonitorAction.DeEscalate;
        m.modes = List.of(ExecutionPolicySpec.MonitoredMode.DryRun, ExecutionPolicySpec.MonitoredMode.Live);
        m.staleAfter = "30s";
        m.onNoData = new ExecutionPolicySpec.OnNoData();
        m.onNoData.action = ExecutionPolicySpec.NoDataAction.Stop;
        m.onNoData.failuresBeforeStop = 2;
        ExecutionPolicySpec spec = new ExecutionPolicySpec();
        spec.monitors = List.of(m);

        Declared d = Declared.of(spec, new ArrayList<>()).get(0);

        assertThat(d.query()).isEqualTo("sum(loss)");
        assertThat(d.modes()).isEqualTo(Set.of(ExecutionMode.DRY_RUN, ExecutionMode.LIVE));
        assertThat(d.rule()).isEqualTo(new MonitorRule("rate", Comparison.LessThanOrEqual, 100.0, Duration.ofSeconds(90),
                MonitorRule.Action.DeEscalate, MonitorRule.OnNoData.Stop, 2, Duration.ofSeconds(30)));
    }

    @Test
    void aMonitorThatCannotBeReadIsNamedNotDropped() {
        ExecutionPolicySpec.Monitor bad = monitor("bad");
        bad.holdFor = "soon";
        ExecutionPolicySpec spec = new ExecutionPolicySpec();
        spec.monitors = List.of(bad, monitor("good"));
        List<String> problems = new ArrayList<>();

        assertThat(Declared.of(spec, problems)).extracting(d -> d.rule().name()).containsExactly("good");
        assertThat(problems).singleElement().asString().startsWith("spec.monitors[bad]: not a duration");
    }

    @Test
    void dueInTheModeRunningOrTheRiskierOneATransitionGoesTo() {
        assertThat(Declared.watchedMode(policy(ExecutionMode.LIVE, null))).contains(ExecutionMode.LIVE);
        assertThat(Declared.watchedMode(policy(ExecutionMode.DRY_RUN, ExecutionMode.LIVE))).contains(ExecutionMode.LIVE);
        assertThat(Declared.watchedMode(policy(ExecutionMode.LIVE, ExecutionMode.DRY_RUN))).contains(ExecutionMode.LIVE);
        assertThat(Declared.watchedMode(policy(null, ExecutionMode.BACKTEST))).contains(ExecutionMode.BACKTEST);
        assertThat(Declared.watchedMode(policy(ExecutionMode.BACKTEST, null))).contains(ExecutionMode.BACKTEST);
    }

    @Test
    void notDueWhileLatched() {
        ExecutionPolicy stopped = policy(ExecutionMode.LIVE, null);
        stopped.getStatus().emergencyStop = new ExecutionPolicyStatus.EmergencyStop();
        stopped.getStatus().emergencyStop.active = true;
        assertThat(Declared.watchedMode(stopped)).isEmpty();

        ExecutionPolicy held = policy(ExecutionMode.DRY_RUN, null);
        held.getStatus().monitorHold = new ExecutionPolicyStatus.MonitorHold();
        held.getStatus().monitorHold.active = true;
        assertThat(Declared.watchedMode(held)).isEmpty();

        Declared live = Declared.of(spec(monitor("x")), new ArrayList<>()).get(0);
        assertThat(live.dueIn(Optional.empty())).isFalse();
        assertThat(live.dueIn(Optional.of(ExecutionMode.DRY_RUN))).isFalse();
        assertThat(live.dueIn(Optional.of(ExecutionMode.LIVE))).isTrue();
    }

    private static ExecutionPolicySpec spec(ExecutionPolicySpec.Monitor m) {
        ExecutionPolicySpec spec = new ExecutionPolicySpec();
        spec.monitors = List.of(m);
        return spec;
    }

    private static ExecutionPolicySpec.Monitor monitor(String name) {
        var m = new ExecutionPolicySpec.Monitor();
        m.name = name;
        m.query = "sum(loss)";
        m.comparison = ExecutionPolicySpec.MonitorComparison.GreaterThan;
        m.threshold = 100.0;
        return m;
    }

    private static ExecutionPolicy policy(ExecutionMode mode, ExecutionMode to) {
        ExecutionPolicy p = new ExecutionPolicy();
        p.setMetadata(new ObjectMetaBuilder().withName("p").withNamespace("t").build());
        p.setSpec(new ExecutionPolicySpec());
        ExecutionPolicyStatus s = new ExecutionPolicyStatus();
        s.mode = mode;
        if (to != null) {
            s.transition = new ExecutionPolicyStatus.Transition();
            s.transition.to = to;
        }
        p.setStatus(s);
        return p;
    }
}
