package io.marketintel.safety.api.v1alpha1;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Go-style durations as Kubernetes users write them ({@code 90s}, {@code 5m}, {@code 1h30m}). The CRD
 * restricts fields to {@link #PATTERN}, so parsing here only fails on objects that bypassed validation.
 */
public final class Durations {
    /** Used verbatim in the CRD schema: one or more number+unit groups, or a bare 0. */
    public static final String PATTERN = "^(0|([0-9]+(\\.[0-9]+)?(ms|s|m|h))+)$";

    private static final Pattern PART = Pattern.compile("([0-9]+(?:\\.[0-9]+)?)(ms|s|m|h)");
    private static final Pattern WHOLE = Pattern.compile(PATTERN);

    private Durations() {
    }

    public static Duration parse(String text) {
        if (text == null || !WHOLE.matcher(text).matches()) {
            throw new IllegalArgumentException("not a duration (want e.g. 30s, 5m, 1h30m): " + text);
        }
        if (text.equals("0")) {
            return Duration.ZERO;
        }
        double millis = 0;
        Matcher m = PART.matcher(text);
        while (m.find()) {
            double n = Double.parseDouble(m.group(1));
            millis += switch (m.group(2)) {
                case "ms" -> n;
                case "s" -> n * 1_000;
                case "m" -> n * 60_000;
                case "h" -> n * 3_600_000;
                default -> throw new IllegalStateException(m.group(2));
            };
        }
        return Duration.ofMillis(Math.round(millis));
    }

    /** The value of a duration field, or its documented default when absent. */
    public static Duration parseOr(String text, String defaultText) {
        return parse(text == null ? defaultText : text);
    }
}
