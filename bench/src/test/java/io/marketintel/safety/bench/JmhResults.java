package io.marketintel.safety.bench;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * JMH's own JSON results (an array, one element per benchmark and parameter set) as figures: the benchmark's name
 * without this package ({@code GuardBenchmarks.riskLimits}), parameters {@code mode} (avgt, thrpt, ...), JMH's
 * {@code @Param}s if any, and {@code stat}: {@code score} and {@code error} (the half-width of JMH's 99.9% confidence
 * interval; null with a note when JMH could not compute one, e.g. one iteration), in JMH's score unit (ns/op). A
 * secondary metric (a profiler's, {@code -prof gc}) is a figure {@code NAME:METRIC}. JMH's version and the forked
 * JVM go to the document's context.
 */
final class JmhResults {
    static final String PACKAGE = "io.marketintel.safety.bench.";

    private JmhResults() {
    }

    static void record(Figures f, JsonNode results) {
        for (JsonNode r : results) {
            String name = r.path("benchmark").asText();
            name = name.startsWith(PACKAGE) ? name.substring(PACKAGE.length()) : name;
            Map<String, Object> params = new LinkedHashMap<>();
            params.put("mode", r.path("mode").asText());
            for (Iterator<Map.Entry<String, JsonNode>> p = r.path("params").fields(); p.hasNext();) {
                Map.Entry<String, JsonNode> e = p.next();
                params.put(e.getKey(), e.getValue().asText());
            }
            metric(f, name, params, r.path("primaryMetric"));
            for (Iterator<Map.Entry<String, JsonNode>> m = r.path("secondaryMetrics").fields(); m.hasNext();) {
                Map.Entry<String, JsonNode> e = m.next();
                metric(f, name + ":" + e.getKey(), params, e.getValue());
            }
        }
        if (results.size() > 0) {
            JsonNode first = results.get(0);
            for (String key : new String[] { "jmhVersion", "jdkVersion", "vmName", "vmVersion", "jvm", "forks", "threads",
                    "warmupIterations", "warmupTime", "measurementIterations", "measurementTime" }) {
                if (first.has(key)) {
                    f.context(key, first.get(key).isNumber() ? first.get(key).numberValue() : first.get(key).asText());
                }
            }
            if (first.has("jvmArgs")) {
                f.context("jvmArgs", Figures.JSON.convertValue(first.get("jvmArgs"), java.util.List.class));
            }
        }
    }

    private static void metric(Figures f, String name, Map<String, Object> params, JsonNode metric) {
        String unit = metric.path("scoreUnit").asText();
        value(f, name, Figures.with(params, "stat", "score"), metric.path("score"), unit);
        value(f, name, Figures.with(params, "stat", "error"), metric.path("scoreError"), unit);
    }

    /** A number, or JMH's "NaN" (a string in its JSON): null with a note. */
    private static void value(Figures f, String name, Map<String, Object> params, JsonNode v, String unit) {
        if (v.isNumber()) {
            f.add(name, params, v.doubleValue(), unit);
        } else if (!v.isMissingNode()) {
            f.none(name, params, unit, "JMH gave " + v.asText());
        }
    }
}
