package io.marketintel.safety.guard;

import java.util.ArrayList;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.GuardType;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.RiskLimits;
import io.marketintel.safety.api.v1alpha1.ExecutionSafetySpec.RiskCaps;

/** Pre-trade limits are set (RTS 6 Art. 8, SEC 15c3-5) and within the cluster caps of ExecutionSafety/global. */
@ApplicationScoped
public class RiskLimitsGuard implements SafetyGuard {
    @Override
    public GuardType type() {
        return GuardType.RiskLimits;
    }

    @Override
    public GuardOutcome evaluate(GuardContext ctx) {
        RiskLimits limits = ctx.policy().getSpec().riskLimits;
        if (limits == null) {
            return GuardOutcome.fail("spec.riskLimits is not set: limits are set before trading (RTS 6 Art. 8)");
        }
        List<String> missing = new ArrayList<>();
        check(missing, "maxOrderNotional", limits.maxOrderNotional);
        check(missing, "maxPosition", limits.maxPosition);
        check(missing, "maxDailyLoss", limits.maxDailyLoss);
        check(missing, "maxOrdersPerSecond", limits.maxOrdersPerSecond);
        if (!missing.isEmpty()) {
            return GuardOutcome.fail("spec.riskLimits incomplete: " + String.join(", ", missing));
        }
        RiskCaps caps = ctx.global().map(g -> g.getSpec() == null ? null : g.getSpec().riskCaps).orElse(null);
        if (caps == null) {
            return GuardOutcome.pass("risk limits set; no cluster caps (ExecutionSafety/global riskCaps) to check against");
        }
        List<String> over = new ArrayList<>();
        cap(over, "maxOrderNotional", limits.maxOrderNotional, caps.maxOrderNotional);
        cap(over, "maxPosition", limits.maxPosition, caps.maxPosition);
        cap(over, "maxDailyLoss", limits.maxDailyLoss, caps.maxDailyLoss);
        cap(over, "maxOrdersPerSecond", limits.maxOrdersPerSecond, caps.maxOrdersPerSecond);
        if (!over.isEmpty()) {
            return GuardOutcome.fail("above the cluster caps: " + String.join(", ", over));
        }
        return GuardOutcome.pass("risk limits set and within the cluster caps");
    }

    private static void check(List<String> missing, String field, Double value) {
        if (value == null || value.isNaN() || value <= 0) {
            missing.add(field + " must be a positive number");
        }
    }

    private static void cap(List<String> over, String field, double value, Double cap) {
        if (cap != null && value > cap) {
            over.add(field + " " + plain(value) + " > cap " + plain(cap));
        }
    }

    private static String plain(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }
}
