package io.marketintel.safety.guard;

import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;

import io.marketintel.safety.actuation.LabelSelectors;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.GuardType;
import io.marketintel.safety.api.v1alpha1.ExecutionSafetySpec.EnvironmentRule;

/** Namespace rules of ExecutionSafety/global: a namespace they match may not run a mode riskier than maxMode. */
@ApplicationScoped
public class EnvironmentRuleGuard implements SafetyGuard {
    @Override
    public GuardType type() {
        return GuardType.EnvironmentRule;
    }

    @Override
    public GuardOutcome evaluate(GuardContext ctx) {
        List<EnvironmentRule> rules = ctx.global().map(g -> g.getSpec() == null ? null : g.getSpec().environmentRules)
                .orElse(null);
        if (rules == null || rules.isEmpty()) {
            return GuardOutcome.pass("no environment rules (ExecutionSafety/global environmentRules)");
        }
        for (EnvironmentRule rule : rules) {
            boolean applies;
            try {
                applies = LabelSelectors.matches(rule.namespaceSelector, ctx.namespaceLabels());
            } catch (IllegalArgumentException e) {
                return GuardOutcome.error("environment rule " + rule.name + ": " + e.getMessage());
            }
            if (applies && rule.maxMode != null && ctx.to().isRiskierThan(rule.maxMode)) {
                return GuardOutcome.fail("namespace " + ctx.namespace() + " matches environment rule " + rule.name
                        + ": at most " + rule.maxMode + " may run here, not " + ctx.to());
            }
        }
        return GuardOutcome.pass(ctx.to() + " is allowed in namespace " + ctx.namespace());
    }
}
