package io.marketintel.safety.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;

import io.marketintel.safety.bench.StopLatencyBench.Layout;
import io.marketintel.safety.bench.StopLatencyBench.Metric;
import io.marketintel.safety.bench.StopLatencyBench.Series;
import io.marketintel.safety.bench.StopLatencyBench.Variant;

/** The bench's arithmetic, without a cluster: percentiles with timeouts, the JSON record, the mixed layout. */
class StopLatencyBenchTest {
    @Test
    void percentilesAreNearestRankAndTheWarmUpRunIsApart() {
        Series s = new Series();
        s.add(0, 900.0);
        for (int i = 1; i <= 20; i++) {
            s.add(i, (double) i * 10);
        }
        assertThat(s.first).isEqualTo(900.0);
        assertThat(s.count()).isEqualTo(20);
        assertThat(s.p(0)).isEqualTo(10.0);
        assertThat(s.p(0.5)).isEqualTo(100.0);
        assertThat(s.p(0.95)).isEqualTo(190.0);
        assertThat(s.p(0.99)).isEqualTo(200.0);
    }

    @Test
    void aTimeoutRanksAboveEveryFigure() {
        Series s = new Series();
        s.add(0, null);
        s.add(1, 50.0);
        s.add(2, 40.0);
        s.add(3, null);
        assertThat(s.first).isInfinite();
        assertThat(s.count()).isEqualTo(3);
        assertThat(s.timeouts).isEqualTo(1);
        assertThat(s.p(0.5)).isEqualTo(50.0);
        assertThat(s.p(0.99)).isInfinite();
        assertThat(StopLatencyBench.ms(s.p(0.99))).isEqualTo("timeout");
        assertThat(StopLatencyBench.ms(s.p(0.5))).isEqualTo("50");
        assertThat(StopLatencyBench.ratio(s.p(0.99), 10.0)).isEqualTo("-");
    }

    @Test
    void aRecordHasNullForAPercentileThatTimedOut() {
        Series s = new Series();
        s.add(1, 12.4);
        s.add(2, null);
        Map<String, Object> r = StopLatencyBench.record(10, "unready", "operator", Metric.GONE, s);
        assertThat(r).containsEntry("size", 10).containsEntry("workloads", "unready").containsEntry("method", "operator")
                .containsEntry("metric", "pods-gone").containsEntry("runs", 2).containsEntry("timeouts", 1)
                .containsEntry("min", 12L).containsEntry("p50", 12L).containsEntry("p99", null).containsEntry("first", null);
    }

    @Test
    void aRowBecomesFiguresAsTheTablePrintsIt() {
        Series operator = new Series();
        operator.add(0, 300.0);
        operator.add(1, 100.0);
        operator.add(2, 200.0);
        Series scale = new Series();
        scale.add(0, null);
        scale.add(1, 400.0);
        scale.add(2, null);
        Figures f = new Figures("stop-latency");

        StopLatencyBench.figures(f, 10, "mixed", "operator", Metric.GONE, operator, null);
        StopLatencyBench.figures(f, 10, "mixed", "scale", Metric.GONE, scale, operator);

        assertThat(f.figures()).allSatisfy(fig -> assertThat(fig.name()).isEqualTo("pods-gone"));
        assertThat(f.figures()).extracting(fig -> fig.params().get("method") + " " + fig.params().get("stat") + " " + fig.value() + " "
                + fig.unit() + (fig.note() == null ? "" : " " + fig.note())).containsExactly(
                        "operator runs 2.0 count", "operator timeouts 0.0 count", "operator first 300.0 ms", "operator min 100.0 ms",
                        "operator p50 100.0 ms", "operator p95 200.0 ms", "operator p99 200.0 ms", "operator max 200.0 ms",
                        "scale runs 2.0 count", "scale timeouts 1.0 count", "scale first null ms timeout", "scale min 400.0 ms",
                        "scale p50 400.0 ms", "scale p95 null ms timeout", "scale p99 null ms timeout", "scale max null ms timeout",
                        // ratio p50 printed (4.00), ratio p99 printed "-": a timeout
                        "scale ratio-p50 4.0 x");
        assertThat(f.figures().get(0).params()).containsEntry("size", 10).containsEntry("workloads", "mixed");
    }

    @Test
    void aMixedSetHasEveryFifthWorkloadAStatefulSetOfTwoPods() {
        Layout one = new Layout(1, Variant.mixed);
        assertThat(one.statefulSets()).isZero();
        assertThat(one.name(0)).isEqualTo("d0");
        Layout ten = new Layout(10, Variant.mixed);
        assertThat(ten.statefulSets()).isEqualTo(2);
        assertThat(ten.name(4)).isEqualTo("s4");
        assertThat(ten.kind(9)).isEqualTo("statefulset");
        assertThat(ten.pods()).isEqualTo(12);
        assertThat(new Layout(500, Variant.unready).pods()).isEqualTo(600);
        assertThat(new Layout(500, Variant.deployments).pods()).isEqualTo(500);
        assertThat(new Layout(500, Variant.mixed).policies()).isEqualTo(50);
    }

    @Test
    void countsAreWrittenInTheSingularForOne() {
        assertThat(StopLatencyBench.count(1, "policy")).isEqualTo("1 policy");
        assertThat(StopLatencyBench.count(50, "policy")).isEqualTo("50 policies");
        assertThat(StopLatencyBench.count(0, "StatefulSet")).isEqualTo("0 StatefulSets");
    }
}
