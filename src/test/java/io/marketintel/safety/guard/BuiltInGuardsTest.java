package io.marketintel.safety.guard;

import static io.marketintel.safety.guard.GuardContexts.NOW;
import static io.marketintel.safety.guard.GuardContexts.context;
import static io.marketintel.safety.guard.GuardContexts.guard;
import static io.marketintel.safety.guard.GuardContexts.policy;
import static io.marketintel.safety.guard.GuardContexts.workload;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.GuardType;
import io.marketintel.safety.api.v1alpha1.ExecutionSafety;
import io.marketintel.safety.api.v1alpha1.ExecutionSafetySpec;
import io.marketintel.safety.guard.GuardOutcome.Result;
import io.marketintel.safety.policy.TransitionRules;

/** Pass, fail and bad-configuration cases of the in-process built-ins (timeouts: GuardRunnerTest). */
class BuiltInGuardsTest {
    static final ExecutionMode DRY = ExecutionMode.DRY_RUN;
    static final ExecutionMode LIVE = ExecutionMode.LIVE;

    static ExecutionSafety global(ExecutionSafetySpec spec) {
        ExecutionSafety g = new ExecutionSafety();
        g.setSpec(spec);
        return g;
    }

    @Test
    void workloadReady() {
        var g = new WorkloadReadyGuard();
        var p = policy(LIVE);
        var ready = g.evaluate(context(p, guard("r", GuardType.WorkloadReady, null), DRY, LIVE,
                List.of(workload("alpha", 2, 2), workload("beta", 0, 0)), Map.of(), null));
        assertThat(ready.result()).isEqualTo(Result.Pass);
        var notReady = g.evaluate(context(p, guard("r", GuardType.WorkloadReady, null), DRY, LIVE,
                List.of(workload("alpha", 2, 1)), Map.of(), null));
        assertThat(notReady.result()).isEqualTo(Result.Fail);
        assertThat(notReady.message()).isEqualTo("not ready: Deployment/alpha 1/2 ready");
        assertThat(g.evaluate(context(p, guard("r", GuardType.WorkloadReady, null), DRY, LIVE, List.of(), Map.of(), null)).message())
                .isEqualTo("no target workload found");
    }

    static ExecutionPolicySpec.RiskLimits limits(double notional) {
        var l = new ExecutionPolicySpec.RiskLimits();
        l.maxOrderNotional = notional;
        l.maxPosition = 1_000_000.0;
        l.maxDailyLoss = 50_000.0;
        l.maxOrdersPerSecond = 20.0;
        return l;
    }

    @Test
    void riskLimits() {
        var g = new RiskLimitsGuard();
        var p = policy(LIVE);
        var gd = guard("l", GuardType.RiskLimits, null);
        assertThat(g.evaluate(context(p, gd, DRY, LIVE, List.of(), Map.of(), null)).message()).contains("spec.riskLimits is not set");

        p.getSpec().riskLimits = limits(250_000);
        assertThat(g.evaluate(context(p, gd, DRY, LIVE, List.of(), Map.of(), null)).result()).isEqualTo(Result.Pass);

        var caps = new ExecutionSafetySpec();
        caps.riskCaps = new ExecutionSafetySpec.RiskCaps();
        caps.riskCaps.maxOrderNotional = 100_000.0;
        var over = g.evaluate(context(p, gd, DRY, LIVE, List.of(), Map.of(), global(caps)));
        assertThat(over.result()).isEqualTo(Result.Fail);
        assertThat(over.message()).isEqualTo("above the cluster caps: maxOrderNotional 250000 > cap 100000");

        p.getSpec().riskLimits.maxDailyLoss = null; // bypassed the CRD somehow: incomplete, not a crash
        assertThat(g.evaluate(context(p, gd, DRY, LIVE, List.of(), Map.of(), null)).message())
                .contains("incomplete: maxDailyLoss must be a positive number");
    }

    @Test
    void dryRunSoak() {
        var g = new DryRunSoakGuard();
        var p = policy(LIVE);
        var gd = guard("s", GuardType.DryRunSoak, null);
        assertThat(g.evaluate(context(p, gd, DRY, LIVE, List.of(), Map.of(), null)).message()).contains("no soak required");
        p.getSpec().dryRunSoak = "24h";
        p.getStatus().modeSince = NOW.minus(Duration.ofHours(3)).toString();
        var short3h = g.evaluate(context(p, gd, DRY, LIVE, List.of(), Map.of(), null));
        assertThat(short3h.result()).isEqualTo(Result.Fail);
        assertThat(short3h.message()).isEqualTo("DryRun soak incomplete: 3h of 24h done, 21h left")
                .as("the transition rules' own blocker, word for word: they decide, the guard only shows it")
                .isEqualTo(TransitionRules.dryRunSoakBlocker(DRY, LIVE, Optional.of(Duration.ofHours(24)),
                        Optional.of(NOW.minus(Duration.ofHours(3))), NOW).orElseThrow());
        p.getStatus().modeSince = NOW.minus(Duration.ofHours(25)).toString();
        assertThat(g.evaluate(context(p, gd, DRY, LIVE, List.of(), Map.of(), null)).result()).isEqualTo(Result.Pass);
        assertThat(g.evaluate(context(p, gd, ExecutionMode.BACKTEST, DRY, List.of(), Map.of(), null)).message())
                .isEqualTo("the soak applies to Live only");
        p.getStatus().modeSince = "yesterday";
        assertThat(g.evaluate(context(p, gd, DRY, LIVE, List.of(), Map.of(), null)).result()).isEqualTo(Result.Error);
        p.getSpec().dryRunSoak = "a day";
        assertThat(g.evaluate(context(p, gd, DRY, LIVE, List.of(), Map.of(), null)).message()).startsWith("spec.dryRunSoak:");
    }

    static ExecutionSafety rules(String operator) {
        var spec = new ExecutionSafetySpec();
        var rule = new ExecutionSafetySpec.EnvironmentRule();
        rule.name = "non-production-never-live";
        rule.maxMode = DRY;
        rule.namespaceSelector = new LabelSelectorBuilder().addNewMatchExpression().withKey("environment")
                .withOperator(operator).withValues("non-production", "research").endMatchExpression().build();
        spec.environmentRules = List.of(rule);
        return global(spec);
    }

    @Test
    void environmentRule() {
        var g = new EnvironmentRuleGuard();
        var p = policy(LIVE);
        var gd = guard("e", GuardType.EnvironmentRule, null);
        assertThat(g.evaluate(context(p, gd, DRY, LIVE, List.of(), Map.of(), null)).result()).isEqualTo(Result.Pass);
        var nonProd = g.evaluate(context(p, gd, DRY, LIVE, List.of(), Map.of("environment", "research"), rules("In")));
        assertThat(nonProd.result()).isEqualTo(Result.Fail);
        assertThat(nonProd.message()).contains("namespace desk-a matches environment rule non-production-never-live")
                .contains("at most DryRun may run here, not Live");
        assertThat(g.evaluate(context(p, gd, ExecutionMode.BACKTEST, DRY, List.of(), Map.of("environment", "research"), rules("In")))
                .result()).as("DryRun is within the cap").isEqualTo(Result.Pass);
        assertThat(g.evaluate(context(p, gd, DRY, LIVE, List.of(), Map.of("environment", "production"), rules("In"))).result())
                .isEqualTo(Result.Pass);
        var typo = g.evaluate(context(p, gd, DRY, LIVE, List.of(), Map.of("environment", "research"), rules("in")));
        assertThat(typo.result()).as("an unknown operator never lifts a rule").isEqualTo(Result.Error);
        assertThat(typo.message()).contains("unknown selector operator in");
    }

    @ParameterizedTest
    @CsvSource({ "registry.example.com/trading/momentum:1.4.2,true", "momentum:latest,false", "momentum,false",
            "registry.example.com:5000/momentum,false", "registry.example.com:5000/momentum:2.0,true",
            "repo/momentum@sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945,true" })
    void pinnedImages(String image, boolean pinned) {
        assertThat(ConfigurationGuard.pinned(image)).isEqualTo(pinned);
    }

    @Test
    void configurationWithoutItsBlockIsAnError() {
        var g = new ConfigurationGuard(null);
        var out = g.evaluate(context(policy(LIVE), guard("c", GuardType.Configuration, null), DRY, LIVE, List.of(), Map.of(), null));
        assertThat(out.result()).isEqualTo(Result.Error);
    }

    @Test
    void configurationFailsOnUnpinnedImagesWithoutReadingTheCluster() {
        var g = new ConfigurationGuard(null);
        var gd = guard("c", GuardType.Configuration, null);
        gd.configuration = new ExecutionPolicySpec.ConfigurationCheck();
        var out = g.evaluate(context(policy(LIVE), gd, DRY, LIVE,
                List.of(workload("alpha", 1, 1, "registry.example/alpha:1.0", "registry.example/sidecar:latest")), Map.of(), null));
        assertThat(out.result()).isEqualTo(Result.Fail);
        assertThat(out.message()).isEqualTo("Deployment/alpha image registry.example/sidecar:latest is not pinned (use a digest or a tag other than latest)");
    }
}
