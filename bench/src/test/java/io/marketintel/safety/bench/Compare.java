package io.marketintel.safety.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * bench/compare.sh OLD.json NEW.json: every figure present in both (same benchmark, name and parameters, in any
 * order) with its old value, its new value and new / old; then how many were in one only, and the settings that
 * differ between the two runs of a benchmark. Either file a performance report (target/performance-report.json) or
 * one benchmark's document (target/bench/NAME.json). Prints; judges nothing.
 */
public final class Compare {
    private Compare() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: bench/compare.sh OLD.json NEW.json");
        }
        System.out.print(compare(args[0], PerformanceReport.read(Path.of(args[0])), args[1], PerformanceReport.read(Path.of(args[1]))));
    }

    /** Which figure this is: benchmark, name and the parameters sorted by name. */
    static String key(Figures.Figure f) {
        return f.benchmark() + "\u0000" + f.name() + "\u0000" + new TreeMap<>(f.params() == null ? Map.of() : f.params());
    }

    /** The figures of a report by {@link #key}, in their order; the last of two with one key wins. */
    static Map<String, Figures.Figure> figures(PerformanceReport.Report r) {
        Map<String, Figures.Figure> out = new LinkedHashMap<>();
        for (Figures.Document d : r.benchmarks()) {
            for (Figures.Figure f : d.figures() == null ? List.<Figures.Figure> of() : d.figures()) {
                out.put(key(f), f);
            }
        }
        return out;
    }

    static String compare(String oldName, PerformanceReport.Report old, String newName, PerformanceReport.Report now) {
        StringBuilder out = new StringBuilder();
        out.append("old: ").append(describe(oldName, old)).append('\n');
        out.append("new: ").append(describe(newName, now)).append('\n');
        Map<String, Figures.Figure> before = figures(old), after = figures(now);
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] { "benchmark", "figure", "params", "old", "new", "new/old", "unit" });
        int both = 0;
        for (var e : after.entrySet()) {
            Figures.Figure was = before.get(e.getKey());
            if (was == null) {
                continue;
            }
            both++;
            Figures.Figure is = e.getValue();
            String unit = Objects.equals(was.unit(), is.unit()) ? is.unit() : was.unit() + " -> " + is.unit();
            rows.add(new String[] { is.benchmark(), is.name(), params(is), value(was), value(is), ratio(was.value(), is.value()), unit });
        }
        out.append(table(rows));
        long onlyOld = before.keySet().stream().filter(k -> !after.containsKey(k)).count();
        long onlyNew = after.keySet().stream().filter(k -> !before.containsKey(k)).count();
        out.append("%d figures in both, %d only in old, %d only in new%n".formatted(both, onlyOld, onlyNew));
        for (Figures.Document n : now.benchmarks()) {
            old.benchmarks().stream().filter(o -> o.benchmark().equals(n.benchmark())).findFirst().ifPresent(o -> {
                String differ = settingsDiffer(o.settings(), n.settings());
                if (!differ.isEmpty()) {
                    out.append("settings of ").append(n.benchmark()).append(" differ: ").append(differ).append('\n');
                }
            });
            if (n.error() != null) {
                out.append("new ").append(n.benchmark()).append(" failed part-way: ").append(n.error()).append('\n');
            }
        }
        for (Figures.Document o : old.benchmarks()) {
            if (o.error() != null) {
                out.append("old ").append(o.benchmark()).append(" failed part-way: ").append(o.error()).append('\n');
            }
        }
        return out.toString();
    }

    private static String describe(String name, PerformanceReport.Report r) {
        String commit = r.commit() == null ? "unknown" : r.commit().substring(0, Math.min(12, r.commit().length()));
        Figures.Machine m = r.machine();
        return "%s (commit %s%s, %s%s; %s)".formatted(name, commit, Boolean.TRUE.equals(r.dirty()) ? " with local changes" : "",
                r.date(), m == null ? "" : ", %d cores, %s".formatted(m.cores(), m.cpu()),
                r.benchmarks().stream().map(Figures.Document::benchmark).collect(Collectors.joining(" ")));
    }

    static String params(Figures.Figure f) {
        return f.params() == null ? "" : f.params().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(" "));
    }

    /** A value as it compares: a few significant digits; its note (timeout) when it has none. */
    static String value(Figures.Figure f) {
        if (f.value() == null) {
            return f.note() == null ? "null" : f.note();
        }
        double v = f.value();
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return String.valueOf((long) v);
        }
        return Math.abs(v) >= 100 ? String.format(Locale.ROOT, "%.0f", v)
                : Math.abs(v) >= 1 ? String.format(Locale.ROOT, "%.2f", v) : String.format(Locale.ROOT, "%.3g", v);
    }

    /** new / old to two decimals; "-" when either is missing or old is 0. */
    static String ratio(Double old, Double now) {
        return old == null || now == null || old == 0 ? "-" : String.format(Locale.ROOT, "%.2f", now / old);
    }

    static String settingsDiffer(Map<String, Object> old, Map<String, Object> now) {
        Map<String, Object> o = old == null ? Map.of() : old, n = now == null ? Map.of() : now;
        TreeSet<String> names = new TreeSet<>(o.keySet());
        names.addAll(n.keySet());
        return names.stream().filter(k -> !Objects.equals(String.valueOf(o.get(k)), String.valueOf(n.get(k))))
                .map(k -> k + " " + o.get(k) + " -> " + n.get(k)).collect(Collectors.joining(", "));
    }

    /** Columns padded to their widest cell; the numbers right-aligned. */
    private static String table(List<String[]> rows) {
        int[] width = new int[rows.get(0).length];
        for (String[] r : rows) {
            for (int i = 0; i < r.length; i++) {
                width[i] = Math.max(width[i], r[i].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < r.length; i++) {
                boolean number = i >= 3 && i <= 5;
                line.append(number ? " ".repeat(width[i] - r[i].length()) + r[i] : r[i] + " ".repeat(width[i] - r[i].length()));
                line.append(i < r.length - 1 ? "  " : "");
            }
            sb.append(line.toString().stripTrailing()).append('\n');
        }
        return sb.toString();
    }
}
