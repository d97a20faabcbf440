package io.marketintel.safety.testing;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;
import net.jqwik.api.sessions.JqwikSession;

/**
 * Generators of hostile ExecutionPolicy manifests (issue 10): valid policies in every mode, wrong types,
 * missing and unknown fields, out-of-range numbers, huge strings and lists (near and beyond the API server's
 * limits), unicode (RTL, zero-width, emoji, NUL), malformed approval tokens, forged identity annotations,
 * thousands of approvals, bogus workload refs and selectors, and Live requested without approval. Each input
 * says what must happen to it: refused at admission with a message naming one of {@link HostileInput#phrases},
 * accepted and handled, or either (then, if accepted, the operator's condition must name one of the phrases).
 * Pure: no client; {@link #sample(long, int)} is reproducible from its seed.
 */
public final class HostilePolicies {
    public static final String API_VERSION = "safety.marketintel.io/v1alpha1";
    public static final String FUZZ_LABEL = "test.marketintel.io/fuzz";
    /** The admin user of the test control plane: every spec it writes is stamped as requested by it. */
    public static final String ADMIN = "kubeapitest";
    static final ObjectMapper JSON = new ObjectMapper();

    /** What must happen to an input. */
    public enum Expect {
        /** The API server accepts it; the operator handles it (a condition, never OperatorError). */
        ACCEPT,
        /** The API server refuses it, with a message naming one of the phrases. */
        REJECT,
        /** Refused with a message naming a phrase, or accepted and then reported in a condition naming one. */
        EITHER
    }

    /** Who sends it. */
    public enum Identity {
        ADMIN, EDITOR, APPROVER
    }

    /**
     * One generated input: the object (without name and namespace, which the runner assigns), who sends it,
     * and what must happen. {@code phrases} are matched case-insensitively against the refusal or condition.
     */
    public record HostileInput(String family, String variant, Identity as, Map<String, Object> object, Expect expect,
            List<String> phrases) {
        public String json(String name, String namespace) {
            Map<String, Object> copy = new LinkedHashMap<>(object);
            @SuppressWarnings("unchecked")
            Map<String, Object> meta = new LinkedHashMap<>((Map<String, Object>) copy.get("metadata"));
            meta.put("name", name);
            meta.put("namespace", namespace);
            copy.put("metadata", meta);
            try {
                return JSON.writeValueAsString(copy);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public String toString() {
            return family + "/" + variant + " as " + as + " expect " + expect + " " + phrases;
        }
    }

    private HostilePolicies() {
    }

    /** {@code count} inputs drawn from {@link #inputs()} with a generator seeded by {@code seed}. */
    public static List<HostileInput> sample(long seed, int count) {
        // Outside a jqwik property (the integration test is a Quarkus test): a session gives the generators
        // the context they memoize in; the values come only from this seeded Random.
        JqwikSession.start();
        try {
            Random random = new Random(seed);
            var generator = inputs().generator(1000);
            List<HostileInput> out = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                out.add(generator.next(random).value());
            }
            return out;
        } finally {
            JqwikSession.finish();
        }
    }

    public static Arbitrary<HostileInput> inputs() {
        return Arbitraries.frequencyOf(
                Tuple.of(20, valid()),
                Tuple.of(12, wrongType()),
                Tuple.of(8, outOfRange()),
                Tuple.of(8, missingOrInconsistent()),
                Tuple.of(4, unknownField()),
                Tuple.of(6, badEnum()),
                Tuple.of(12, badPattern()),
                Tuple.of(6, huge()),
                Tuple.of(8, annotations()),
                Tuple.of(8, approvals()),
                Tuple.of(5, selectors()),
                Tuple.of(3, identity()));
    }

    // ---------------------------------------------------------------- valid policies

    static final List<String> MODES = List.of("Backtest", "DryRun", "Live");

    /** Hostile strings: RTL overrides, zero-width, emoji, NUL and other control characters, combining marks. */
    public static Arbitrary<String> unicode() {
        Arbitrary<String> pieces = Arbitraries.of("\u202e", "\u200b", "\u200d", "\ufeff", "\u0000", "\u0007", "\u001b[31m",
                "😀", "🚀", "👨‍👩‍👧", "e\u0301", "ع", "ש", "\u2028", "\n", "\t", "\"", "\\", "'", "<script>", "${jndi:x}",
                "%s", "Live", "１", "ｍ", "а", " ", "\ud7ff", "\ue000", "\uffff");
        return pieces.list().ofMinSize(1).ofMaxSize(12).map(l -> String.join("", l));
    }

    static Arbitrary<String> dnsName() {
        return Arbitraries.strings().withCharRange('a', 'z').numeric().ofMinLength(1).ofMaxLength(20)
                .map(s -> "w" + s);
    }

    static Arbitrary<Map<String, Object>> workloads() {
        Arbitrary<Map<String, Object>> ref = Combinators.combine(Arbitraries.of("Deployment", "StatefulSet"), dnsName())
                .as((k, n) -> map("kind", k, "name", n));
        Arbitrary<Map<String, Object>> refs = ref.list().ofMinSize(1).ofMaxSize(4).uniqueElements(r -> r.get("kind") + "/" + r.get("name"))
                .map(l -> map("refs", new ArrayList<Object>(l)));
        Arbitrary<Map<String, Object>> selector = dnsName().map(v -> map("selector", map("matchLabels",
                map("app.kubernetes.io/part-of", v))));
        return Arbitraries.oneOf(refs, selector);
    }

    static Arbitrary<Map<String, Object>> guard() {
        return Arbitraries.of(
                map("type", "WorkloadReady"),
                map("type", "RiskLimits"),
                map("type", "DryRunSoak"),
                map("type", "EnvironmentRule", "timeout", "2s"),
                map("type", "TradingWindow", "tradingWindow", map("timeZone", "America/New_York", "windows",
                        List.of(map("days", List.of("Mon", "Tue"), "start", "09:30", "end", "16:00")), "holidays", List.of("2026-12-25"))),
                map("type", "Http", "timeout", "1s", "http", map("url", "http://127.0.0.1:9/allow")),
                map("type", "Configuration", "configuration", map("configMaps", List.of(map("name", "nope", "keys", List.of("k"))),
                        "requirePinnedImages", true)));
    }

    /** A valid spec: every field optional beyond mode and workloads, each drawn within its documented range. */
    public static Arbitrary<Map<String, Object>> validSpec() {
        Arbitrary<Map<String, Object>> replicas = Combinators.combine(Arbitraries.integers().between(0, 3),
                Arbitraries.integers().between(0, 3), Arbitraries.integers().between(0, 3))
                .as((b, d, l) -> map("backtest", b, "dryRun", d, "live", l)).injectNull(0.5);
        // requiredForLive never 0 and approvers never include a second real user: no generated input can carry
        // a legitimate four-eyes approval, so any Live anywhere is an escalation.
        Arbitrary<Map<String, Object>> approval = Combinators.combine(Arbitraries.integers().between(1, 10),
                Arbitraries.integers().between(0, 10), Arbitraries.of("1h", "30m", "90s", "1h30m"))
                .as((l, d, v) -> map("requiredForLive", l, "requiredForDryRun", d, "validity", v,
                        "approvers", map("groups", List.of("risk-officers"))))
                .injectNull(0.5);
        Arbitrary<List<Map<String, Object>>> guards = guard().list().ofMaxSize(3).uniqueElements(g -> g.get("type"))
                .map(l -> {
                    List<Map<String, Object>> named = new ArrayList<>();
                    for (int i = 0; i < l.size(); i++) {
                        Map<String, Object> g = new LinkedHashMap<>(l.get(i));
                        g.put("name", "g" + i);
                        named.add(g);
                    }
                    return named;
                }).injectNull(0.4);
        Arbitrary<Map<String, Object>> risk = Arbitraries.doubles().between(0.01, 1e9).list().ofSize(4)
                .map(d -> map("maxOrderNotional", d.get(0), "maxPosition", d.get(1), "maxDailyLoss", d.get(2),
                        "maxOrdersPerSecond", d.get(3), "currency", "EUR"));
        Arbitrary<Map<String, Object>> extras = Arbitraries.of(
                map(), map("dryRunSoak", "24h"), map("transitionTimeout", "90s"), map("circuitBreaker", map("maxFailures", 2, "window", "10m")),
                map("liveEgress", List.of(map("cidr", "203.0.113.0/24", "ports", List.of(map("port", 9878, "protocol", "TCP"))))),
                map("cancelOrders", map("port", 8081, "path", "/cancel", "scheme", "HTTP", "timeout", "2s")),
                map("modeInjection", map("envVar", "TRADING_MODE")));
        return Combinators.combine(Arbitraries.of(MODES), workloads(), replicas, approval, guards, risk, extras)
                .as((mode, w, r, a, g, rl, x) -> {
                    Map<String, Object> spec = map("mode", mode, "workloads", w);
                    put(spec, "replicas", r);
                    put(spec, "approval", a);
                    put(spec, "guards", g);
                    spec.put("riskLimits", rl);
                    spec.putAll(x);
                    return spec;
                });
    }

    static Map<String, Object> policy(Map<String, Object> spec, Map<String, Object> annotations) {
        Map<String, Object> meta = map("labels", map(FUZZ_LABEL, "true"));
        if (!annotations.isEmpty()) {
            meta.put("annotations", annotations);
        }
        return map("apiVersion", API_VERSION, "kind", "ExecutionPolicy", "metadata", meta, "spec", spec);
    }

    static Arbitrary<HostileInput> valid() {
        return validSpec().map(spec -> new HostileInput("valid", String.valueOf(spec.get("mode")), Identity.ADMIN,
                policy(spec, map()), Expect.ACCEPT, List.of()));
    }

    // ---------------------------------------------------------------- mutations of a valid spec

    /** A change to a valid spec at {@code path} (dotted, list indexes as [0]); the phrase is what must be named. */
    record Mutation(String variant, Function<Map<String, Object>, Map<String, Object>> apply, Expect expect, List<String> phrases) {
    }

    static Mutation set(String path, Object value, String... phrases) {
        return new Mutation(path + "=" + shown(value), spec -> setPath(spec, path, value), Expect.REJECT,
                phrases.length == 0 ? List.of("spec." + path) : List.of(phrases));
    }

    static Mutation remove(String path, String... phrases) {
        return new Mutation("-" + path, spec -> removePath(spec, path), Expect.REJECT, List.of(phrases));
    }

    static Arbitrary<HostileInput> mutated(String family, List<Mutation> mutations) {
        return Combinators.combine(validSpec(), Arbitraries.of(mutations)).as((spec, m) -> {
            Map<String, Object> changed = m.apply().apply(deepCopy(spec));
            return new HostileInput(family, m.variant(), Identity.ADMIN, policy(changed, map()), m.expect(), m.phrases());
        });
    }

    static Arbitrary<HostileInput> wrongType() {
        return mutated("wrongType", List.of(
                set("mode", 3), set("mode", true), set("mode", List.of("Live")), set("mode", map("value", "Live")),
                set("workloads", List.of()), set("workloads", "all"), set("workloads", 5),
                set("workloads.refs", map("kind", "Deployment", "name", "a")), set("workloads.refs", "a"),
                set("workloads.refs", List.of("Deployment/a")),
                set("workloads.selector", "app=x"), set("workloads.selector.matchLabels", List.of("app")),
                set("replicas", 3), set("replicas.live", "three"), set("replicas.live", 1.5), set("replicas.dryRun", true),
                set("approval.requiredForLive", "2"), set("approval.requiredForLive", List.of(2)),
                set("approval.approvers", "alice"), set("approval.approvers.users", "alice"),
                set("approval.approvers.groups", map("g", true)),
                set("guards", map("name", "g", "type", "WorkloadReady")), set("guards", "WorkloadReady"),
                set("riskLimits.maxPosition", "1e6"), set("riskLimits.maxPosition", map("v", 1)),
                set("riskLimits.maxOrderNotional", List.of(1)),
                set("dryRunSoak", 3600), set("transitionTimeout", List.of("5m")),
                set("circuitBreaker.maxFailures", "3"), set("liveEgress", map("cidr", "10.0.0.0/8")),
                set("cancelOrders", 8081), set("modeInjection.envVar", 7)));
    }

    static Arbitrary<HostileInput> outOfRange() {
        return mutated("outOfRange", List.of(
                set("replicas.live", -1), set("replicas.backtest", 10001), set("replicas.dryRun", 2147483648L),
                set("replicas.live", Long.MAX_VALUE),
                set("approval.requiredForLive", 11), set("approval.requiredForLive", -1), set("approval.requiredForDryRun", 99),
                set("riskLimits.maxPosition", 0), set("riskLimits.maxPosition", -5), set("riskLimits.maxDailyLoss", -1e308),
                set("riskLimits.maxOrdersPerSecond", -0.0),
                set("circuitBreaker", map("maxFailures", 0)), set("circuitBreaker", map("maxFailures", 101)),
                set("cancelOrders", map("port", 0)), set("cancelOrders", map("port", 65536)),
                set("liveEgress", List.of(map("cidr", "10.0.0.0/8", "ports", List.of(map("port", 70000))))),
                set("liveEgress", List.of(map("cidr", "10.0.0.0/8", "ports", List.of(map("port", -1)))))));
    }

    static Arbitrary<HostileInput> missingOrInconsistent() {
        return mutated("missing", List.of(
                remove("mode", "spec.mode"), remove("workloads", "spec.workloads"),
                set("workloads", map(), "workloads needs refs, a selector, or both"),
                set("workloads", map("refs", List.of(map("kind", "Deployment"))), "spec.workloads.refs[0].name"),
                set("workloads", map("refs", List.of(map("name", "a"))), "spec.workloads.refs[0].kind"),
                set("workloads", map("refs", List.of(map("kind", "Deployment", "name", "a"), map("kind", "Deployment", "name", "a"))),
                        "each workload may be listed once"),
                new Mutation("Live without riskLimits", spec -> {
                    spec.put("mode", "Live");
                    spec.remove("riskLimits");
                    return spec;
                }, Expect.REJECT, List.of("riskLimits is required when mode is Live")),
                set("riskLimits", map("maxPosition", 1), "spec.riskLimits.maxOrderNotional"),
                set("guards", List.of(map("name", "h", "type", "Http")), "needs the http block"),
                set("guards", List.of(map("name", "t", "type", "TradingWindow")), "needs the tradingWindow block"),
                set("guards", List.of(map("name", "c", "type", "Configuration")), "needs the configuration block"),
                set("guards", List.of(map("name", "a", "type", "RiskLimits"), map("name", "a", "type", "WorkloadReady")),
                        "guard names must be unique"),
                set("guards", List.of(map("type", "RiskLimits")), "spec.guards[0].name"),
                set("liveEgress", List.of(map("ports", List.of(map("port", 1)))), "spec.liveEgress[0].cidr"),
                set("cancelOrders", map("path", "/x"), "spec.cancelOrders.port"),
                set("guards", List.of(map("name", "t", "type", "TradingWindow", "tradingWindow", map("timeZone", "UTC", "windows", List.of()))),
                        "spec.guards[0].tradingWindow.windows")));
    }

    static Arbitrary<HostileInput> unknownField() {
        return mutated("unknownField", List.of(
                set("fooBar", 1, "unknown field \"spec.fooBar\""),
                set("workloads.refs", List.of(map("kind", "Deployment", "name", "a", "namespace", "kube-system")),
                        "unknown field \"spec.workloads.refs[0].namespace\""),
                set("approval", map("approved", true, "requiredForLive", 2), "unknown field \"spec.approval.approved\""),
                set("riskLimits.maxLeverage", 100, "unknown field \"spec.riskLimits.maxLeverage\""),
                set("emergencyStop", false, "unknown field \"spec.emergencyStop\"")));
    }

    static Arbitrary<HostileInput> badEnum() {
        return mutated("badEnum", List.of(
                set("mode", "live", "spec.mode"), set("mode", "LIVE", "spec.mode"), set("mode", "Live ", "spec.mode"),
                set("mode", "Liv\u0435", "spec.mode"), set("mode", "L\u200bive", "spec.mode"), set("mode", "", "spec.mode"),
                set("mode", "Paper", "spec.mode"), set("mode", "\u202eeviL", "spec.mode"),
                set("workloads", map("refs", List.of(map("kind", "Pod", "name", "a"))), "spec.workloads.refs[0].kind"),
                set("workloads", map("refs", List.of(map("kind", "CronJob", "name", "a"))), "spec.workloads.refs[0].kind"),
                set("guards", List.of(map("name", "g", "type", "Shell")), "spec.guards[0].type"),
                set("liveEgress", List.of(map("cidr", "10.0.0.0/8", "ports", List.of(map("port", 1, "protocol", "ICMP"))))),
                set("cancelOrders", map("port", 1, "scheme", "gopher"), "spec.cancelOrders.scheme")));
    }

    static Arbitrary<HostileInput> badPattern() {
        Arbitrary<String> u = unicode();
        List<String> durationFields = List.of("transitionTimeout", "dryRunSoak", "approval.validity", "circuitBreaker.window");
        Arbitrary<HostileInput> unicodeFields = Combinators.combine(validSpec(), u, Arbitraries.of(
                "workloads.refs[0].name", "guards[0].name", "modeInjection.envVar", "transitionTimeout", "dryRunSoak",
                "riskLimits.currency", "liveEgress[0].cidr", "cancelOrders.path", "approval.validity"))
                .as((spec, raw, field) -> {
                    // Never a string the field's pattern could accept by chance ("Live" is a fine env var name).
                    String s = raw.matches("[A-Za-z0-9_]*") ? raw + "\u200b" : raw;
                    Map<String, Object> changed = deepCopy(spec);
                    if (field.startsWith("workloads")) {
                        changed.put("workloads", map("refs", List.of(map("kind", "Deployment", "name", s))));
                    } else if (field.startsWith("guards")) {
                        changed.put("guards", List.of(map("name", s, "type", "WorkloadReady")));
                    } else if (field.startsWith("liveEgress")) {
                        changed.put("liveEgress", List.of(map("cidr", s)));
                    } else if (field.startsWith("cancelOrders")) {
                        changed.put("cancelOrders", map("port", 8081, "path", "relative" + s));
                    } else {
                        setPath(changed, field, s);
                    }
                    String path = "spec." + field;
                    return new HostileInput("badPattern", field + "=" + shown(s), Identity.ADMIN, policy(changed, map()),
                            Expect.REJECT, List.of(path));
                });
        List<Mutation> fixed = new ArrayList<>();
        for (String d : List.of("5 m", "-5m", "5min", "1h\u200b", "\uff11h", "", "P1D", "5m\n", "1e3s", "1d")) {
            for (String f : durationFields) {
                fixed.add(set(f, d));
            }
        }
        fixed.addAll(List.of(
                set("workloads", map("refs", List.of(map("kind", "Deployment", "name", "Momentum"))), "spec.workloads.refs[0].name"),
                set("workloads", map("refs", List.of(map("kind", "Deployment", "name", "a".repeat(254)))), "spec.workloads.refs[0].name"),
                set("workloads", map("refs", List.of(map("kind", "Deployment", "name", ""))), "spec.workloads.refs[0].name"),
                set("workloads", map("refs", List.of(map("kind", "Deployment", "name", "../kube-system/x"))), "spec.workloads.refs[0].name"),
                set("riskLimits.currency", "usd"), set("riskLimits.currency", "\u20acUR"),
                set("liveEgress", List.of(map("cidr", "300.0.0.0/8")), "cidr must be a CIDR"),
                set("liveEgress", List.of(map("cidr", "10.0.0.0/33")), "cidr must be a CIDR"),
                set("liveEgress", List.of(map("cidr", "10.0.0.1")), "cidr must be a CIDR"),
                set("guards", List.of(map("name", "h", "type", "Http", "http", map("url", "javascript:alert(1)"))), "url must be an absolute http or https URL"),
                set("guards", List.of(map("name", "h", "type", "Http", "http", map("url", "file:///etc/passwd"))), "url must be an absolute http or https URL"),
                set("guards", List.of(map("name", "h", "type", "Http", "http", map("url", "http//x"))), "url must be an absolute http or https URL"),
                set("guards", List.of(map("name", "t", "type", "TradingWindow", "tradingWindow", map("timeZone", "UTC", "windows",
                        List.of(map("days", List.of("Mon"), "start", "24:00", "end", "09:00"))))), "spec.guards[0].tradingWindow.windows[0].start"),
                set("guards", List.of(map("name", "t", "type", "TradingWindow", "tradingWindow", map("timeZone", "UTC", "windows",
                        List.of(map("days", List.of("Monday"), "start", "09:00", "end", "10:00"))))), "spec.guards[0].tradingWindow.windows[0].days[0]"),
                set("modeInjection.envVar", "EXECUTION-MODE"), set("modeInjection.envVar", "1X"), set("modeInjection.envVar", ""),
                set("cancelOrders", map("port", 1, "path", "/" + "p".repeat(1100)), "spec.cancelOrders.path")));
        // Accepted by the schema but meaningless to the operator: it must say so in a condition.
        fixed.addAll(List.of(
                new Mutation("tradingWindow.timeZone=Mars/Olympus", spec -> {
                    spec.put("mode", "DryRun");
                    spec.put("guards", List.of(map("name", "t", "type", "TradingWindow", "tradingWindow", map("timeZone", "Mars/Olympus",
                            "windows", List.of(map("days", List.of("Mon"), "start", "09:00", "end", "10:00"))))));
                    return spec;
                }, Expect.ACCEPT, List.of()),
                new Mutation("holidays=garbage", spec -> {
                    spec.put("mode", "DryRun");
                    spec.put("guards", List.of(map("name", "t", "type", "TradingWindow", "tradingWindow", map("timeZone", "UTC",
                            "windows", List.of(map("days", List.of("Mon"), "start", "09:00", "end", "10:00")), "holidays",
                            List.of("2026-13-45", "\u202e52-21-6202")))));
                    return spec;
                }, Expect.ACCEPT, List.of())));
        return Arbitraries.oneOf(unicodeFields, mutated("badPattern", fixed));
    }

    static Arbitrary<HostileInput> huge() {
        List<Object> manyRefs = new ArrayList<>();
        for (int i = 0; i < 65; i++) {
            manyRefs.add(map("kind", "Deployment", "name", "w" + i));
        }
        List<Object> manyGuards = new ArrayList<>();
        for (int i = 0; i < 33; i++) {
            manyGuards.add(map("name", "g" + i, "type", "WorkloadReady"));
        }
        List<Object> manyUsers = new ArrayList<>();
        for (int i = 0; i < 65; i++) {
            manyUsers.add("user" + i);
        }
        return mutated("huge", List.of(
                set("workloads", map("refs", manyRefs), "spec.workloads.refs"),
                set("guards", manyGuards, "spec.guards"),
                set("approval", map("approvers", map("users", manyUsers)), "spec.approval.approvers.users"),
                set("guards", List.of(map("name", "g".repeat(64), "type", "WorkloadReady")), "spec.guards[0].name"),
                set("guards", List.of(map("name", "h", "type", "Http", "http", map("url", "http://x/" + "a".repeat(3000)))),
                        "spec.guards[0].http.url"),
                set("riskLimits.currency", "U".repeat(100_000)),
                set("workloads", map("selector", map("matchLabels", map("app", "v".repeat(1_600_000)))),
                        "too large", "Too long", "spec.workloads.selector", "request entity"),
                // Near the limits: accepted, and the operator must still report it without failing its own writes.
                new Mutation("holidays 366x1KiB", spec -> {
                    spec.put("mode", "DryRun");
                    List<String> days = new ArrayList<>();
                    for (int i = 0; i < 366; i++) {
                        days.add("d" + i + "x".repeat(1024));
                    }
                    spec.put("guards", List.of(map("name", "t", "type", "TradingWindow", "tradingWindow", map("timeZone", "UTC",
                            "windows", List.of(map("days", List.of("Mon"), "start", "09:00", "end", "10:00")), "holidays", days))));
                    return spec;
                }, Expect.ACCEPT, List.of()),
                new Mutation("approvers 64x4KiB", spec -> {
                    List<String> users = new ArrayList<>();
                    for (int i = 0; i < 64; i++) {
                        users.add("u" + i + "\u202e".repeat(4 * 1024));
                    }
                    spec.put("approval", map("requiredForLive", 2, "approvers", map("users", users)));
                    return spec;
                }, Expect.ACCEPT, List.of()),
                new Mutation("approvers 64x16KiB (3 MiB request)", spec -> {
                    List<String> users = new ArrayList<>();
                    for (int i = 0; i < 64; i++) {
                        users.add("u" + i + "\u202e".repeat(16 * 1024));
                    }
                    spec.put("approval", map("requiredForLive", 2, "approvers", map("users", users)));
                    return spec;
                }, Expect.REJECT, List.of("too large"))));
    }

    // ---------------------------------------------------------------- annotations and approvals

    static final String PREFIX = "safety.marketintel.io/";

    static Arbitrary<HostileInput> annotated(String family, Arbitrary<Map<String, Object>> annotations, Expect expect,
            Function<Map<String, Object>, List<String>> phrases, Function<Map<String, Object>, String> variant) {
        return Combinators.combine(validSpec(), annotations).as((spec, a) -> {
            Map<String, Object> s = spec;
            if (a.containsKey(PREFIX + "approvals") && expect == Expect.ACCEPT) {
                s = deepCopy(spec);
                s.remove("approval"); // approvers naming a group the admin is not in would refuse its approval lines
            }
            return new HostileInput(family, variant.apply(a), Identity.ADMIN, policy(s, a), expect, phrases.apply(a));
        });
    }

    static Arbitrary<HostileInput> annotations() {
        Arbitrary<String> u = unicode();
        Arbitrary<HostileInput> stop = annotated("annotations", u.map(r -> map(PREFIX + "emergency-stop", r)), Expect.ACCEPT,
                a -> List.of("emergency stop"), a -> "emergency-stop=" + shown(a.values().iterator().next()));
        Arbitrary<HostileInput> hugeStop = annotated("annotations", Arbitraries.of(map(PREFIX + "emergency-stop", "\u202e" + "x".repeat(200_000))),
                Expect.ACCEPT, a -> List.of("emergency stop"), a -> "emergency-stop=200KiB");
        Arbitrary<HostileInput> tooBig = annotated("annotations", Arbitraries.of(map("note", "n".repeat(300_000))),
                Expect.REJECT, a -> List.of("metadata.annotations"), a -> "note=300KiB");
        Arbitrary<HostileInput> badKey = annotated("annotations", u.map(k -> map(PREFIX + k + "\u200b", "x")), Expect.REJECT,
                a -> List.of("metadata.annotations"), a -> "key=" + shown(a.keySet().iterator().next()));
        Arbitrary<HostileInput> stray = annotated("annotations", u.map(v -> map(PREFIX + "mode", "Live", PREFIX + "policy", v, "x", v)),
                Expect.ACCEPT, a -> List.of(), a -> "stray Live mode annotation, value " + shown(a.get("x")));
        Arbitrary<HostileInput> stopBy = annotated("annotations", u.map(v -> map(PREFIX + "emergency-stop-by", "alice" + v)), Expect.REJECT,
                a -> List.of("emergency-stop-by"), a -> "forged emergency-stop-by");
        Arbitrary<HostileInput> rearmedBy = annotated("annotations", Arbitraries.of(map(PREFIX + "rearmed-by", "alice 1")), Expect.REJECT,
                a -> List.of("rearmed-by"), a -> "forged rearmed-by");
        Arbitrary<HostileInput> rearm = annotated("annotations", u.map(v -> map(PREFIX + "rearm", v)), Expect.REJECT,
                a -> List.of("decimal integer"), a -> "rearm=" + shown(a.values().iterator().next()));
        Arbitrary<HostileInput> requester = annotated("annotations", u.map(v -> map(PREFIX + "requested-by", "alice" + v)), Expect.ACCEPT,
                a -> List.of(), a -> "forged requested-by");
        return Arbitraries.oneOf(stop, hugeStop, tooBig, badKey, stray, stopBy, rearmedBy, rearm, requester);
    }

    /** A value of {@code approve} that makes no line of ApprovalLine's grammar: empty, or with a space. */
    private static boolean malformedToken(String t) {
        return t.isEmpty() || t.contains(" ");
    }

    static Arbitrary<HostileInput> approvals() {
        Arbitrary<String> u = unicode();
        Arbitrary<String> token = Arbitraries.oneOf(u, Arbitraries.strings().withChars("0123456789abcdef").ofMinLength(0).ofMaxLength(40),
                Arbitraries.of("", " ", "0".repeat(100_000), "055bfb3bfe3b 055bfb3bfe3b"));
        // The approve command as the admin (who is the requester): the API server names the admin; never counts.
        Arbitrary<HostileInput> approve = Combinators.combine(validSpec(), token.filter(t -> !t.contains("\n")))
                .as((spec, t) -> {
                    // With spec.approval.approvers naming only a group the admin is not in, the API server
                    // refuses the approval (that case is below); here anyone may approve.
                    Map<String, Object> open = deepCopy(spec);
                    open.remove("approval");
                    // A token that is empty or holds a space would leave a line whose identity is not its writer's
                    // (ApprovalLine's grammar): refused.
                    return malformedToken(t)
                            ? new HostileInput("approvals", "approve=" + shown(t), Identity.ADMIN, policy(open, map(PREFIX + "approve", t)),
                                    Expect.REJECT, List.of("with no space in the token"))
                            // A new policy awaits no approval (no status.approval.token yet): an approval is refused (issue 19).
                            : new HostileInput("approvals", "approve=" + shown(t), Identity.ADMIN,
                                    policy(open, map(PREFIX + "approve", t)), Expect.REJECT, List.of("awaits no approval"));
                });
        Arbitrary<HostileInput> notAllowed = Combinators.combine(validSpec(), token.filter(t -> !t.contains("\n")))
                .as((spec, t) -> {
                    Map<String, Object> closed = deepCopy(spec);
                    closed.put("approval", map("approvers", map("groups", List.of("risk-officers"))));
                    return new HostileInput("approvals", "approve by a non-approver=" + shown(t), Identity.ADMIN,
                            policy(closed, map(PREFIX + "approve", t)), Expect.REJECT,
                            malformedToken(t) ? List.of("with no space in the token") : List.of("is not an allowed approver", "awaits no approval"));
                });
        Arbitrary<HostileInput> smuggled = annotated("approvals", token.map(t -> map(PREFIX + "approve", "x\nalice " + t)), Expect.REJECT,
                a -> List.of("may not add \"alice"), a -> "approve smuggling a second line");
        Arbitrary<HostileInput> forged = annotated("approvals", Combinators.combine(Arbitraries.of("alice", "carol", "system:admin", "",
                " kubeapitest", "kubeapitest\u200b"), token).as((who, t) -> map(PREFIX + "approvals", who + " " + t)), Expect.REJECT,
                a -> List.of("an approval must be written by the approver it names"), a -> "forged approvals line");
        Arbitrary<HostileInput> thousands = annotated("approvals", Arbitraries.integers().between(1000, 6000).map(n -> {
            // (the spec's approvers are dropped below: the admin may approve, as itself, any number of times)
            StringBuilder lines = new StringBuilder();
            for (int i = 0; i < n; i++) {
                lines.append(i == 0 ? "" : "\n").append(ADMIN).append(' ').append(String.format("%012x", i));
            }
            return map(PREFIX + "approvals", lines.toString());
        }), Expect.REJECT, a -> List.of("awaits no approval"), a -> "self-approvals x" + a.get(PREFIX + "approvals").toString().split("\n").length);
        return Arbitraries.oneOf(approve, notAllowed, smuggled, forged, thousands);
    }

    static Arbitrary<HostileInput> selectors() {
        return mutated("selectors", List.of(
                sel("operator Foo", map("matchExpressions", List.of(map("key", "app", "operator", "Foo", "values", List.of("x"))))),
                sel("In without values", map("matchExpressions", List.of(map("key", "app", "operator", "In")))),
                sel("Exists with values", map("matchExpressions", List.of(map("key", "app", "operator", "Exists", "values", List.of("x"))))),
                sel("bad label key", map("matchLabels", map("bad key!", "x"))),
                sel("bad label value", map("matchLabels", map("app", "a b"))),
                sel("label value 64", map("matchLabels", map("app", "v".repeat(64)))),
                sel("unicode label value", map("matchLabels", map("app", "\u202e\u200b"))),
                sel("empty key", map("matchExpressions", List.of(map("key", "", "operator", "Exists"))))));
    }

    static Mutation sel(String variant, Map<String, Object> selector) {
        return new Mutation("selector " + variant, spec -> {
            spec.put("workloads", map("selector", selector));
            return spec;
        }, Expect.EITHER, List.of("selector"));
    }

    static Arbitrary<HostileInput> identity() {
        Arbitrary<HostileInput> editor = validSpec().map(spec -> new HostileInput("identity", "editor creates", Identity.EDITOR,
                policy(spec, map()), Expect.ACCEPT, List.of()));
        Arbitrary<HostileInput> editorForges = validSpec().map(spec -> new HostileInput("identity", "editor forges alice's approval",
                Identity.EDITOR, policy(spec, map(PREFIX + "approvals", "alice 055bfb3bfe3b")), Expect.REJECT,
                List.of("bob may not add \"alice 055bfb3bfe3b\"")));
        Arbitrary<HostileInput> approverCreates = validSpec().map(spec -> new HostileInput("identity", "approver creates", Identity.APPROVER,
                policy(spec, map()), Expect.REJECT, List.of("alice may not change the spec", "forbidden")));
        Arbitrary<HostileInput> approverSelf = validSpec().map(spec -> new HostileInput("identity", "approver creates with own approval",
                Identity.APPROVER, policy(spec, map(PREFIX + "approve", "055bfb3bfe3b")), Expect.REJECT,
                List.of("alice may not change the spec", "forbidden")));
        return Arbitraries.oneOf(editor, editorForges, approverCreates, approverSelf);
    }

    // ---------------------------------------------------------------- plumbing

    @SafeVarargs
    static <V> Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    static void put(Map<String, Object> m, String key, Object value) {
        if (value != null) {
            m.put(key, value);
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> deepCopy(Map<String, Object> m) {
        try {
            return JSON.readValue(JSON.writeValueAsString(m), LinkedHashMap.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Sets a dotted path, creating maps on the way; {@code name[0]} creates a one-element list. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> setPath(Map<String, Object> spec, String path, Object value) {
        String[] parts = path.split("\\.");
        Map<String, Object> at = spec;
        for (int i = 0; i < parts.length - 1; i++) {
            Object next = at.get(parts[i]);
            if (!(next instanceof Map)) {
                next = new LinkedHashMap<String, Object>();
                at.put(parts[i], next);
            }
            at = (Map<String, Object>) next;
        }
        at.put(parts[parts.length - 1], value);
        return spec;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> removePath(Map<String, Object> spec, String path) {
        String[] parts = path.split("\\.");
        Map<String, Object> at = spec;
        for (int i = 0; i < parts.length - 1; i++) {
            at = (Map<String, Object>) at.get(parts[i]);
        }
        at.remove(parts[parts.length - 1]);
        return spec;
    }

    /** A short, printable rendering of a value for reports. */
    public static String shown(Object value) {
        String s;
        try {
            s = JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            s = String.valueOf(value);
        }
        return s.length() > 60 ? s.substring(0, 57) + "...(" + s.length() + " chars)" : s;
    }
}
