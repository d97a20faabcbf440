package io.marketintel.safety.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

/**
 * The pinned helm of {@code hack/build-tools.sh} (built from Go modules on first use, like the control-plane
 * binaries) run on the project's chart, and the objects it renders.
 */
public final class Helm {
    public static final Path CHART = Path.of("helm", "execution-safety-operator");
    /** Release and namespace of the plain manifests (k8s/operator) and of the docs. */
    public static final String RELEASE = "execution-safety-operator";
    public static final String NAMESPACE = "execution-safety";
    private static final YAMLMapper YAML = new YAMLMapper();
    private static Path binary;

    private Helm() {
    }

    public record Result(int exitCode, String stdout, String stderr) {
        public String output() {
            return stdout + stderr;
        }
    }

    /** The helm binary; hack/build-tools.sh is idempotent and prints the tools directory last. */
    public static synchronized Path binary() {
        if (binary == null) {
            Result tools = exec(List.of("bash", "hack/build-tools.sh"), 45);
            if (tools.exitCode() != 0) {
                throw new IllegalStateException("bash hack/build-tools.sh (builds helm from pinned Go modules; needs Go):\n"
                        + tools.stderr());
            }
            List<String> lines = tools.stdout().lines().filter(l -> !l.isBlank()).toList();
            Path helm = Path.of(lines.get(lines.size() - 1).strip(), "helm");
            if (!Files.isExecutable(helm)) {
                throw new IllegalStateException(helm + " is not executable");
            }
            binary = helm;
        }
        return binary;
    }

    /** {@code helm ARGS...}. */
    public static Result run(String... args) {
        List<String> command = new ArrayList<>();
        command.add(binary().toString());
        command.addAll(List.of(args));
        return exec(command, 2);
    }

    /** {@code helm template RELEASE CHART --namespace NAMESPACE ARGS...}; fails unless helm succeeds. */
    public static String template(String release, String namespace, String... args) {
        List<String> all = new ArrayList<>(List.of("template", release, CHART.toString(), "--namespace", namespace));
        all.addAll(List.of(args));
        Result r = run(all.toArray(String[]::new));
        if (r.exitCode() != 0) {
            throw new AssertionError("helm " + String.join(" ", all) + " failed:\n" + r.stderr());
        }
        return r.stdout();
    }

    /** The objects of {@link #template} with the docs' release and namespace. */
    public static List<JsonNode> objects(String... args) {
        return parse(template(RELEASE, NAMESPACE, args));
    }

    /** Every non-empty document of a multi-document YAML stream. */
    public static List<JsonNode> parse(String yaml) {
        List<JsonNode> objects = new ArrayList<>();
        try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(yaml)) {
            while (it.hasNext()) {
                JsonNode o = it.next();
                if (o != null && o.isObject() && !o.isEmpty()) {
                    objects.add(o);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("not YAML: " + e.getMessage(), e);
        }
        return objects;
    }

    private static Result exec(List<String> command, int timeoutMinutes) {
        try {
            Path out = Files.createTempFile("helm-", ".out");
            Path err = Files.createTempFile("helm-", ".err");
            try {
                Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
                if (!p.waitFor(timeoutMinutes, TimeUnit.MINUTES)) {
                    p.destroyForcibly();
                    throw new IllegalStateException(String.join(" ", command) + " did not finish within " + timeoutMinutes + "m");
                }
                return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                        Files.readString(err, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
