package io.marketintel.safety.actuation;

import java.util.List;
import java.util.Map;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;

/**
 * Kubernetes label-selector semantics (matchLabels AND every matchExpression); an empty selector matches all.
 * An unknown operator throws rather than quietly not matching.
 */
public final class LabelSelectors {
    private LabelSelectors() {
    }

    public static boolean matches(LabelSelector selector, Map<String, String> labels) {
        if (selector == null) {
            return false;
        }
        if (selector.getMatchLabels() != null) {
            for (var e : selector.getMatchLabels().entrySet()) {
                if (!e.getValue().equals(labels.get(e.getKey()))) {
                    return false;
                }
            }
        }
        for (LabelSelectorRequirement r : selector.getMatchExpressions() == null ? List.<LabelSelectorRequirement> of()
                : selector.getMatchExpressions()) {
            String value = labels.get(r.getKey());
            List<String> values = r.getValues() == null ? List.of() : r.getValues();
            boolean ok = switch (r.getOperator()) {
                case "In" -> value != null && values.contains(value);
                case "NotIn" -> value == null || !values.contains(value);
                case "Exists" -> labels.containsKey(r.getKey());
                case "DoesNotExist" -> !labels.containsKey(r.getKey());
                // Not "no match": for a restricting rule that would lift the restriction. The caller fails safe.
                default -> throw new IllegalArgumentException("unknown selector operator " + r.getOperator()
                        + " (In, NotIn, Exists, DoesNotExist)");
            };
            if (!ok) {
                return false;
            }
        }
        return true;
    }
}
