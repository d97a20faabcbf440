package io.marketintel.safety.bench;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.marketintel.safety.actuation.ObservedWorkload;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.GuardType;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus;
import io.marketintel.safety.api.v1alpha1.ExecutionSafety;
import io.marketintel.safety.api.v1alpha1.ExecutionSafetySpec;
import io.marketintel.safety.guard.ConfigurationGuard;
import io.marketintel.safety.guard.DryRunSoakGuard;
import io.marketintel.safety.guard.EnvironmentRuleGuard;
import io.marketintel.safety.guard.GuardContext;
import io.marketintel.safety.guard.GuardOutcome;
import io.marketintel.safety.guard.RiskLimitsGuard;
import io.marketintel.safety.guard.TradingWindowGuard;
import io.marketintel.safety.guard.WorkloadReadyGuard;
import io.marketintel.safety.policy.Decision;
import io.marketintel.safety.policy.GuardVerdict;
import io.marketintel.safety.policy.TransitionInput;
import io.marketintel.safety.policy.TransitionRules;

/**
 * Cost of one evaluation of each in-process guard (and of the transition decision) on a realistic
 * DryRun→Live escalation: 3 workloads, cluster caps and environment rules set, a weekday trading window.
 * Network guards (Http) and API reads (Configuration's ConfigMap/Secret lookups) are excluded: they are
 * dominated by I/O, not by this code.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class GuardBenchmarks {
    static final Instant NOW = Instant.parse("2026-11-26T15:00:00Z"); // Thu 10:00 New York

    WorkloadReadyGuard workloadReady = new WorkloadReadyGuard();
    RiskLimitsGuard riskLimits = new RiskLimitsGuard();
    DryRunSoakGuard dryRunSoak = new DryRunSoakGuard();
    EnvironmentRuleGuard environmentRule = new EnvironmentRuleGuard();
    TradingWindowGuard tradingWindow = new TradingWindowGuard();
    ConfigurationGuard configuration = new ConfigurationGuard(null);

    GuardContext readyCtx, limitsCtx, soakCtx, envCtx, windowCtx, imagesCtx;
    TransitionInput decision;

    @Setup
    public void setUp() {
        ExecutionPolicy p = new ExecutionPolicy();
        p.setMetadata(new ObjectMetaBuilder().withName("momentum").withNamespace("desk-fx").withUid("u").withGeneration(4L).build());
        p.setSpec(new ExecutionPolicySpec());
        p.getSpec().mode = ExecutionMode.LIVE;
        p.getSpec().dryRunSoak = "24h";
        var l = new ExecutionPolicySpec.RiskLimits();
        l.maxOrderNotional = 250_000.0;
        l.maxPosition = 2_000_000.0;
        l.maxDailyLoss = 50_000.0;
        l.maxOrdersPerSecond = 20.0;
        p.getSpec().riskLimits = l;
        p.setStatus(new ExecutionPolicyStatus());
        p.getStatus().mode = ExecutionMode.DRY_RUN;
        p.getStatus().modeSince = NOW.minus(Duration.ofHours(30)).toString();

        var caps = new ExecutionSafetySpec();
        caps.riskCaps = new ExecutionSafetySpec.RiskCaps();
        caps.riskCaps.maxOrderNotional = 5_000_000.0;
        caps.riskCaps.maxPosition = 50_000_000.0;
        caps.riskCaps.maxDailyLoss = 1_000_000.0;
        caps.riskCaps.maxOrdersPerSecond = 500.0;
        var rule = new ExecutionSafetySpec.EnvironmentRule();
        rule.name = "non-production-never-live";
        rule.maxMode = ExecutionMode.DRY_RUN;
        rule.namespaceSelector = new LabelSelectorBuilder().addToMatchLabels("environment", "non-production").build();
        caps.environmentRules = List.of(rule);
        ExecutionSafety global = new ExecutionSafety();
        global.setSpec(caps);

        List<ObservedWorkload> workloads = List.of(
                w("alpha", "registry.example.com/trading/alpha:1.4.2"),
                w("beta", "registry.example.com/trading/beta@sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"),
                w("gamma", "registry.example.com:5000/trading/gamma:2.0"));
        Map<String, String> labels = Map.of("environment", "production", "desk", "fx");

        var window = new ExecutionPolicySpec.TradingWindow();
        window.timeZone = "America/New_York";
        var open = new ExecutionPolicySpec.Window();
        open.days = List.of(ExecutionPolicySpec.Weekday.Mon, ExecutionPolicySpec.Weekday.Tue, ExecutionPolicySpec.Weekday.Wed,
                ExecutionPolicySpec.Weekday.Thu, ExecutionPolicySpec.Weekday.Fri);
        open.start = "09:30";
        open.end = "16:00";
        window.windows = List.of(open);
        window.holidays = List.of("2026-12-25", "2027-01-01");
        var windowGuard = guard(GuardType.TradingWindow);
        windowGuard.tradingWindow = window;
        var imagesGuard = guard(GuardType.Configuration);
        imagesGuard.configuration = new ExecutionPolicySpec.ConfigurationCheck();

        readyCtx = ctx(p, guard(GuardType.WorkloadReady), workloads, labels, global);
        limitsCtx = ctx(p, guard(GuardType.RiskLimits), workloads, labels, global);
        soakCtx = ctx(p, guard(GuardType.DryRunSoak), workloads, labels, global);
        envCtx = ctx(p, guard(GuardType.EnvironmentRule), workloads, labels, global);
        windowCtx = ctx(p, windowGuard, workloads, labels, global);
        imagesCtx = ctx(p, imagesGuard, workloads, labels, global);
        decision = new TransitionInput(ExecutionMode.LIVE, Optional.of(ExecutionMode.DRY_RUN), Optional.empty(),
                Optional.of(NOW.minus(Duration.ofHours(30))), GuardVerdict.pass(), 2, 2, false,
                Optional.of(Duration.ofHours(24)), Duration.ofMinutes(5), NOW);
    }

    static ObservedWorkload w(String name, String image) {
        return new ObservedWorkload(ExecutionPolicySpec.WorkloadKind.DEPLOYMENT, name, Optional.of(ExecutionMode.DRY_RUN), 2, 2,
                Optional.of(2), List.of(Optional.of(ExecutionMode.DRY_RUN), Optional.of(ExecutionMode.DRY_RUN)),
                List.of("strategy", "sidecar"), List.of(image, "registry.example.com/ops/sidecar:3.1"), List.of(), 2, "1");
    }

    static ExecutionPolicySpec.Guard guard(GuardType type) {
        var g = new ExecutionPolicySpec.Guard();
        g.name = type.name().toLowerCase();
        g.type = type;
        return g;
    }

    static GuardContext ctx(ExecutionPolicy p, ExecutionPolicySpec.Guard g, List<ObservedWorkload> workloads,
            Map<String, String> labels, ExecutionSafety global) {
        return new GuardContext(p, g, ExecutionMode.DRY_RUN, ExecutionMode.LIVE, workloads, labels, Optional.of(global), NOW);
    }

    @Benchmark
    public GuardOutcome workloadReady() {
        return workloadReady.evaluate(readyCtx);
    }

    @Benchmark
    public GuardOutcome riskLimits() {
        return riskLimits.evaluate(limitsCtx);
    }

    @Benchmark
    public GuardOutcome dryRunSoak() {
        return dryRunSoak.evaluate(soakCtx);
    }

    @Benchmark
    public GuardOutcome environmentRule() {
        return environmentRule.evaluate(envCtx);
    }

    @Benchmark
    public GuardOutcome tradingWindow() throws Exception {
        return tradingWindow.evaluate(windowCtx);
    }

    @Benchmark
    public GuardOutcome configurationPinnedImages() {
        return configuration.evaluate(imagesCtx);
    }

    @Benchmark
    public Decision transitionDecision() {
        return TransitionRules.decide(decision);
    }
}
