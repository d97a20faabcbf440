package io.marketintel.safety.observability;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

/**
 * The Argo CD health check (k8s/argocd/executionpolicy-health.lua) run by a real Lua 5.1 interpreter on
 * ExecutionPolicy objects recorded as {@code kubectl get xp -o json} prints them
 * (src/test/resources/argocd/statuses). The driver (src/test/resources/argocd/run-health.lua) gives the
 * script only what Argo CD gives a custom check: no string library, so a check that would fail in Argo CD
 * fails here. Needs {@code lua5.1} on PATH (Debian/Ubuntu: {@code apt-get install -y lua5.1}); without it
 * the tests fail, they never skip.
 */
class ArgoHealthCheckTest {
    static final Path SCRIPT = Path.of("k8s/argocd/executionpolicy-health.lua");
    static final Path CONFIG_MAP = Path.of("k8s/argocd/argocd-cm-health.yaml");
    static final String CONFIG_MAP_KEY = "resource.customizations.health.safety.marketintel.io_ExecutionPolicy";
    static final Path DRIVER = Path.of("src/test/resources/argocd/run-health.lua");
    static final Path FIXTURES = Path.of("src/test/resources/argocd/statuses");
    static final String LUA = "lua5.1";
    static final String INSTALL = "install it with `apt-get install -y lua5.1` (Debian/Ubuntu, as root; run "
            + "`apt-get update` first on a fresh machine), or put a Lua 5.1 interpreter named lua5.1 on PATH";
    static final ObjectMapper JSON = new ObjectMapper();

    record Expected(String health, Function<JsonNode, String> message) {
    }

    static Expected expect(String health, String message) {
        return new Expected(health, o -> message);
    }

    static Expected expect(String health, Function<JsonNode, String> message) {
        return new Expected(health, message);
    }

    /** The message of condition {@code type} in the recorded object. */
    static Function<JsonNode, String> condition(String type) {
        return o -> {
            for (JsonNode c : o.path("status").path("conditions")) {
                if (type.equals(c.path("type").asText())) {
                    return c.path("message").asText();
                }
            }
            throw new AssertionError("fixture has no " + type + " condition");
        };
    }

    static Function<JsonNode, String> stopCause(String cause) {
        return o -> cause + "; " + condition("Stalled").apply(o);
    }

    /** Fixture (file name without .json) → the health Argo CD must show. Every fixture has a line here. */
    static final Map<String, Expected> EXPECTED = new LinkedHashMap<>();
    static {
        // Not observed yet.
        EXPECTED.put("pending-no-status", expect("Progressing", "waiting for the operator to observe generation 1"));
        EXPECTED.put("stale-observed-generation",
                expect("Progressing", "waiting for the operator to observe generation 7"));
        // Between two decisions: adopted in Backtest, Live not refused yet (phase Pending).
        EXPECTED.put("pending-between-decisions", expect("Progressing", "phase Pending: every target runs in Backtest"));
        EXPECTED.put("transitioning-escalation", expect("Progressing", condition("Reconciling")));
        EXPECTED.put("transitioning-rollback", expect("Progressing", condition("Reconciling")));
        EXPECTED.put("active-live", expect("Healthy", "every target runs in Live"));
        // Waiting for people or for time: Suspended.
        EXPECTED.put("awaiting-approval", expect("Suspended", condition("Stalled")));
        EXPECTED.put("blocked-dryrun-soak-incomplete", expect("Suspended", condition("Stalled")));
        // Needs a fix: Degraded (the Stalled message says what is wrong; it wins over Reconciling=True).
        EXPECTED.put("blocked-guards-not-passing", expect("Degraded", condition("Stalled")));
        EXPECTED.put("blocked-backtest-to-live", expect("Degraded", condition("Stalled")));
        EXPECTED.put("blocked-circuit-breaker-open", expect("Degraded", condition("Stalled")));
        EXPECTED.put("blocked-actuation-failed", expect("Degraded", condition("Stalled")));
        EXPECTED.put("failed-targets-not-usable", expect("Degraded", condition("Stalled")));
        EXPECTED.put("operator-error", expect("Degraded", condition("Ready")));
        // The failed pass stamped Ready with generation 7 but not status.observedGeneration (still 6).
        EXPECTED.put("operator-error-new-generation", expect("Degraded", condition("Ready")));
        EXPECTED.put("operator-error-first-pass", expect("Degraded", condition("Ready")));
        // A stop whose pods are still there: in progress, naming each pod and why.
        EXPECTED.put("emergency-stopping-policy", expect("Progressing", condition("Reconciling")));
        // Emergency stops: Suspended, naming who and why and the commands that resume.
        EXPECTED.put("emergency-stopped-policy", expect("Suspended", condition("Stalled"))); // the latching pass says who/why itself
        EXPECTED.put("emergency-stopped-namespace", expect("Suspended",
                stopCause("emergency stop on Namespace/trading by kiran@marketintel.io: venue connectivity lost")));
        EXPECTED.put("emergency-stopped-cluster", expect("Suspended",
                stopCause("emergency stop on ExecutionSafety/global: market-wide halt (LULD pause on SPY)")));
        EXPECTED.put("emergency-stopped-latched", expect("Suspended",
                stopCause("emergency stop on ExecutionPolicy/momentum by bob: runaway quoting on NQ")));
    }

    static Stream<Arguments> fixtures() {
        return EXPECTED.keySet().stream().map(Arguments::of);
    }

    @Test
    void everyRecordedStatusHasAnExpectedHealth() throws IOException {
        try (Stream<Path> files = Files.list(FIXTURES)) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".json"))
                    .map(n -> n.substring(0, n.length() - ".json".length())))
                    .as("fixtures in %s and EXPECTED must name the same cases", FIXTURES)
                    .containsExactlyInAnyOrderElementsOf(EXPECTED.keySet());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void recordedStatusGetsTheExpectedHealth(String fixture) throws Exception {
        JsonNode object = JSON.readTree(FIXTURES.resolve(fixture + ".json").toFile());
        Expected expected = EXPECTED.get(fixture);

        Health health = run(SCRIPT, object);

        assertThat(health.status()).as("health of %s", fixture).isEqualTo(expected.health());
        assertThat(health.message()).as("message of %s", fixture).isEqualTo(expected.message().apply(object));
    }

    static Stream<Arguments> emergencyStops() {
        return EXPECTED.keySet().stream().filter(f -> f.startsWith("emergency-stopped-")).map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("emergencyStops")
    void emergencyStopsSayWhoWhyAndHowToResume(String fixture) throws Exception {
        JsonNode object = JSON.readTree(FIXTURES.resolve(fixture + ".json").toFile());
        assertThat(object.path("status").path("phase").asText()).isEqualTo("EmergencyStopped");
        String name = object.path("metadata").path("name").asText();
        String ns = object.path("metadata").path("namespace").asText();
        long epoch = object.path("status").path("emergencyStop").path("epoch").asLong();
        JsonNode stop = object.path("status").path("emergencyStop");

        Health health = run(SCRIPT, object);

        assertThat(health.message())
                .contains("kubectl annotate xp " + name + " -n " + ns + " safety.marketintel.io/rearm=" + epoch)
                .contains(stop.path("source").asText())
                .contains(stop.path("reason").asText());
        if (stop.has("stoppedBy")) {
            assertThat(health.message()).contains(" by " + stop.path("stoppedBy").asText() + ": ");
        }
    }

    /** Hand-made objects no operator writes: the check must still answer, never raise a Lua error. */
    static Stream<Arguments> malformed() {
        return Stream.of(
                Arguments.of("{}", "Progressing", "waiting for the operator to observe this policy"),
                Arguments.of("{\"metadata\": {\"generation\": 2}, \"status\": \"broken\"}",
                        "Progressing", "waiting for the operator to observe generation 2"),
                Arguments.of("{\"metadata\": {\"generation\": \"5\"}, \"status\": {\"observedGeneration\": 4,"
                        + " \"conditions\": [{\"type\": \"Ready\", \"status\": \"True\"}]}}",
                        "Progressing", "waiting for the operator to observe generation 5"),
                Arguments.of("{\"metadata\": {\"generation\": 3}, \"status\": {\"observedGeneration\": 3,"
                        + " \"phase\": \"Exploded\", \"conditions\": \"oops\"}}",
                        "Progressing", "phase Exploded: not Ready yet"),
                Arguments.of("{\"metadata\": {\"generation\": 3}, \"status\": {\"observedGeneration\": 3,"
                        + " \"conditions\": {\"type\": \"Ready\", \"status\": \"True\"}}}",
                        "Progressing", "not Ready yet"),
                Arguments.of("{\"metadata\": {\"generation\": 3}, \"status\": {\"observedGeneration\": 3, \"conditions\":"
                        + " [1, \"x\", null, true, [], {\"type\": \"Stalled\", \"status\": \"True\", \"message\": {\"a\": 1}}]}}",
                        "Degraded", "Stalled"),
                Arguments.of("{\"metadata\": {\"generation\": 3}, \"status\": {\"observedGeneration\": 3, \"conditions\":"
                        + " [{\"type\": \"Stalled\", \"status\": \"True\", \"reason\": \"GuardsNotPassing\", \"message\": 42}]}}",
                        "Degraded", "42"),
                Arguments.of("{\"metadata\": {\"generation\": 3}, \"status\": {\"observedGeneration\": 3, \"conditions\":"
                        + " [{\"type\": \"Stalled\", \"status\": \"True\", \"reason\": \"AwaitingApproval\"}]}}",
                        "Suspended", "waiting: AwaitingApproval"),
                Arguments.of("{\"metadata\": {\"generation\": 9}, \"status\": {\"phase\": \"EmergencyStopped\","
                        + " \"emergencyStop\": {\"active\": true, \"reason\": \"no source recorded\"}}}",
                        "Suspended", "emergency stop latched: every target is held at zero replicas until re-armed"),
                Arguments.of("{\"status\": {\"observedGeneration\": 1, \"conditions\": [{\"type\": \"EmergencyStopped\","
                        + " \"status\": \"True\", \"reason\": \"NamespaceStop\", \"message\": \"stopped\"}]}}",
                        "Suspended", "stopped"),
                Arguments.of("{\"metadata\": {\"generation\": 2}, \"status\": {\"observedGeneration\": 2, \"phase\": \"Blocked\"}}",
                        "Degraded", "phase Blocked (no conditions reported)"),
                Arguments.of("{\"metadata\": {\"generation\": 2}, \"status\": {\"observedGeneration\": 2, \"phase\": \"Active\"}}",
                        "Progressing", "phase Active: not Ready yet"),
                Arguments.of("{\"status\": {\"observedGeneration\": 1, \"conditions\": [{\"type\": \"Ready\", \"status\": \"True\"}]}}",
                        "Healthy", "every target runs in the desired mode"),
                Arguments.of("{\"metadata\": {\"generation\": 4}, \"status\": {\"observedGeneration\": 3, \"conditions\":"
                        + " [{\"type\": \"Ready\", \"status\": \"False\", \"reason\": \"OperatorError\", \"observedGeneration\": 3,"
                        + " \"message\": \"old error\"}]}}",
                        "Progressing", "waiting for the operator to observe generation 4"));
    }

    @ParameterizedTest(name = "{1}: {0}")
    @MethodSource("malformed")
    void malformedObjectsStillGetAnAnswer(String json, String status, String message) throws Exception {
        Health health = run(SCRIPT, JSON.readTree(json));
        assertThat(health.status()).isEqualTo(status);
        assertThat(health.message()).isEqualTo(message);
    }

    @Test
    void configMapCarriesTheScriptVerbatim() throws IOException {
        ConfigMap cm = new KubernetesSerialization().unmarshal(Files.readString(CONFIG_MAP), ConfigMap.class);
        assertThat(cm.getMetadata().getName()).isEqualTo("argocd-cm");
        assertThat(cm.getMetadata().getNamespace()).isEqualTo("argocd");
        assertThat(cm.getData()).containsOnlyKeys(CONFIG_MAP_KEY);
        assertThat(cm.getData().get(CONFIG_MAP_KEY))
                .as("%s must be a verbatim copy of %s: regenerate it from the .lua file", CONFIG_MAP, SCRIPT)
                .isEqualTo(Files.readString(SCRIPT));
    }

    // ---------------------------------------------------------------- the harness itself

    /** The driver must refuse what Argo CD refuses, or the tests above prove less than they claim. */
    @Test
    void harnessRefusesWhatArgoCdRefuses(@TempDir Path dir) throws Exception {
        Map<String, String> scripts = Map.of(
                "string library", "return {status = string.lower(\"Healthy\")}",
                "string method", "local s = \"Healthy\"\nreturn {status = s:sub(1)}",
                "math library", "return {status = \"Healthy\", message = tostring(math.floor(1.5))}",
                "io library", "io.write(\"x\")\nreturn {status = \"Healthy\"}",
                "unknown status", "return {status = \"Fine\"}",
                "no table", "return \"Healthy\"",
                "error", "error(\"boom\")");
        for (var e : scripts.entrySet()) {
            Path script = dir.resolve("check.lua");
            Files.writeString(script, e.getValue());
            Result r = exec(script, "return {}");
            assertThat(r.exit()).as("%s: %s", e.getKey(), r.stderr()).isEqualTo(2);
        }
        Path ok = dir.resolve("ok.lua");
        Files.writeString(ok, "local t = {}\ntable.insert(t, obj.a)\nreturn {status = \"Healthy\", message = t[1] .. tostring(#t)}");
        assertThat(run(ok, JSON.readTree("{\"a\": \"x\"}"))).isEqualTo(new Health("Healthy", "x1"));
    }

    @Test
    void stringsSurviveTheLuaLiteral(@TempDir Path dir) throws Exception {
        String tricky = "quote \" backslash \\ newline \n tab \t cr \r nul \0 bell \u0007 del \u007f "
                + "unicode \u2014 \u201chalt\u201d \u20ac \uD834\uDD1E <&> ]] [[ %s \\065 ";
        Path echo = dir.resolve("echo.lua");
        Files.writeString(echo, "return {status = \"Healthy\", message = obj.metadata[\"the key \\\"]]\"] .. \"|\""
                + " .. tostring(obj.n) .. \"|\" .. tostring(obj.f) .. \"|\" .. tostring(obj.b) .. \"|\" .. tostring(#obj.list)}");
        var node = JSON.createObjectNode();
        node.putObject("metadata").put("the key \"]]", tricky);
        node.put("n", 123456789012L).put("f", 0.25).put("b", false);
        node.putArray("list").add(1).addNull().add("two");
        assertThat(run(echo, node).message()).isEqualTo(tricky + "|123456789012|0.25|false|2");
    }

    record Health(String status, String message) {
    }

    record Result(int exit, String stdout, String stderr) {
    }

    /** Runs {@code script} on {@code object} as Argo CD would; a Lua error fails the test with Lua's message. */
    static Health run(Path script, JsonNode object) throws Exception {
        Result r = exec(script, "return " + LuaLiteral.of(object));
        if (r.exit() != 0) {
            fail("%s failed (exit %d): %s", script, r.exit(), r.stderr());
        }
        int tab = r.stdout().indexOf('\t');
        assertThat(tab).as("driver output %s", r.stdout()).isPositive();
        return new Health(r.stdout().substring(0, tab), r.stdout().substring(tab + 1));
    }

    static Result exec(Path script, String objectChunk) throws Exception {
        Process p = new ProcessBuilder(lua().toString(), DRIVER.toString(), script.toString()).start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(objectChunk.getBytes(UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), UTF_8);
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("%s %s did not finish within 20s", LUA, script);
        }
        return new Result(p.exitValue(), out, err);
    }

    /** lua5.1 from PATH; its absence is a failure that says how to install it, never a skip. */
    static Path lua() {
        Optional<Path> found = Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                .filter(d -> !d.isBlank())
                .map(d -> Path.of(d, LUA))
                .filter(Files::isExecutable)
                .findFirst();
        if (found.isEmpty()) {
            fail("%s is not on PATH, and these tests run the Argo CD health check with a real Lua 5.1: %s",
                    LUA, INSTALL);
        }
        return found.get();
    }

    /**
     * A JSON tree as a Lua table constructor, the way Argo CD hands an object to a check: objects and arrays
     * become tables, JSON null becomes nil (a null in an array is dropped, as gopher-lua's Append drops it),
     * numbers become Lua numbers. Strings are written byte by byte from their UTF-8 form, every byte outside
     * printable ASCII as a decimal escape, so any string survives exactly.
     */
    static final class LuaLiteral {
        private LuaLiteral() {
        }

        static String of(JsonNode node) {
            StringBuilder b = new StringBuilder();
            write(node, b);
            return b.toString();
        }

        private static void write(JsonNode node, StringBuilder b) {
            switch (node.getNodeType()) {
                case OBJECT -> {
                    b.append('{');
                    for (var it = node.fields(); it.hasNext();) {
                        var field = it.next();
                        if (field.getValue().isNull()) {
                            continue;
                        }
                        b.append('[');
                        string(field.getKey(), b);
                        b.append("]=");
                        write(field.getValue(), b);
                        b.append(',');
                    }
                    b.append('}');
                }
                case ARRAY -> {
                    b.append('{');
                    for (JsonNode item : node) {
                        if (item.isNull()) {
                            continue;
                        }
                        write(item, b);
                        b.append(',');
                    }
                    b.append('}');
                }
                case STRING -> string(node.textValue(), b);
                case NUMBER -> b.append(node.isIntegralNumber() ? node.bigIntegerValue().toString()
                        : Double.toString(node.doubleValue()));
                case BOOLEAN -> b.append(node.booleanValue());
                case NULL, MISSING -> b.append("nil");
                default -> throw new IllegalArgumentException("no Lua form for " + node.getNodeType());
            }
        }

        private static void string(String s, StringBuilder b) {
            b.append('"');
            for (byte raw : s.getBytes(UTF_8)) {
                int c = raw & 0xff;
                switch (c) {
                    case '"' -> b.append("\\\"");
                    case '\\' -> b.append("\\\\");
                    case '\n' -> b.append("\\n");
                    case '\r' -> b.append("\\r");
                    case '\t' -> b.append("\\t");
                    default -> {
                        if (c < 0x20 || c >= 0x7f) {
                            b.append('\\').append(String.format("%03d", c));
                        } else {
                            b.append((char) c);
                        }
                    }
                }
            }
            b.append('"');
        }
    }
}
