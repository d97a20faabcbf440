package io.marketintel.safety.actuation;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;

/**
 * Whether a label selector is one the API server can list with (Kubernetes' label key and value rules and
 * the four operators). The CRD's selector schema (metav1.LabelSelector) checks only types, so a selector with
 * an invalid key, value or operator is admitted; listing with it is refused (400), which made every pass of
 * such a policy fail with OperatorError. Checked here instead, before any read, and reported as a target
 * problem that names the field. Pure.
 */
public final class SelectorRules {
    private static final Pattern NAME = Pattern.compile("^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$");
    private static final Pattern DNS_SUBDOMAIN = Pattern.compile("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
    private static final Pattern VALUE = Pattern.compile("^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$");
    private static final int SHOWN = 70;

    private SelectorRules() {
    }

    /** What is wrong with {@code selector}, each naming its field under {@code spec.workloads.selector}; empty if valid. */
    public static List<String> problems(LabelSelector selector) {
        List<String> problems = new ArrayList<>();
        if (selector == null) {
            return problems;
        }
        String at = "spec.workloads.selector";
        if (selector.getMatchLabels() != null) {
            selector.getMatchLabels().forEach((k, v) -> {
                key(k, at + ".matchLabels", problems);
                value(v, at + ".matchLabels[" + shown(k) + "]", problems);
            });
        }
        List<LabelSelectorRequirement> expressions = selector.getMatchExpressions() == null ? List.of() : selector.getMatchExpressions();
        for (int i = 0; i < expressions.size(); i++) {
            LabelSelectorRequirement r = expressions.get(i);
            String here = at + ".matchExpressions[" + i + "]";
            key(r.getKey(), here + ".key", problems);
            List<String> values = r.getValues() == null ? List.of() : r.getValues();
            String op = r.getOperator();
            if ("In".equals(op) || "NotIn".equals(op)) {
                if (values.isEmpty()) {
                    problems.add(here + ".values: operator " + op + " needs at least one value");
                }
            } else if ("Exists".equals(op) || "DoesNotExist".equals(op)) {
                if (!values.isEmpty()) {
                    problems.add(here + ".values: operator " + op + " takes no values");
                }
            } else {
                problems.add(here + ".operator: " + shown(op) + " is not one of In, NotIn, Exists, DoesNotExist");
            }
            for (int j = 0; j < values.size(); j++) {
                value(values.get(j), here + ".values[" + j + "]", problems);
            }
        }
        return problems.stream().map(p -> "the selector is not valid: " + p).toList();
    }

    private static void key(String key, String at, List<String> problems) {
        String k = key == null ? "" : key;
        int slash = k.indexOf('/');
        String prefix = slash < 0 ? null : k.substring(0, slash);
        String name = slash < 0 ? k : k.substring(slash + 1);
        boolean ok = name.length() <= 63 && NAME.matcher(name).matches()
                && (prefix == null || prefix.length() <= 253 && DNS_SUBDOMAIN.matcher(prefix).matches());
        if (!ok) {
            problems.add(at + ": key " + shown(k) + " is not a label key (an optional DNS-subdomain prefix and /, then at most 63 of"
                    + " A-Z a-z 0-9 - _ . starting and ending alphanumeric)");
        }
    }

    private static void value(String value, String at, List<String> problems) {
        String v = value == null ? "" : value;
        if (v.length() > 63 || !VALUE.matcher(v).matches()) {
            problems.add(at + ": value " + shown(v) + " is not a label value (at most 63 of A-Z a-z 0-9 - _ . starting and ending"
                    + " alphanumeric, or empty)");
        }
    }

    /** Quoted, with anything outside printable ASCII escaped and long text cut, so a message shows what was there. */
    static String shown(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length() && b.length() < SHOWN; i++) {
            char c = s.charAt(i);
            b.append(c >= 0x20 && c < 0x7f && c != '"' && c != '\\' ? String.valueOf(c) : String.format("\\u%04x", (int) c));
        }
        return b.append(b.length() >= SHOWN && s.length() > SHOWN ? "...(" + s.length() + " chars)\"" : "\"").toString();
    }
}
