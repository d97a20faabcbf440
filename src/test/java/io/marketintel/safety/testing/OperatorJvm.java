package io.marketintel.safety.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

/**
 * The JVM options a pod of the chart runs with: the chart's {@code jvmOptions} (given as JAVA_TOOL_OPTIONS) and
 * the options the image's {@code run-java.sh} (UBI OpenJDK runtime) puts on the command line from the
 * Dockerfile's ENV: its heap ratio, its collector with its heap-sizing flags, exit on OutOfMemoryError, and
 * JAVA_OPTS_APPEND. {@code -XX:MaxRAM} stands in for the container's memory limit, so a JVM started here sizes
 * its heap as the pod's would.
 */
public final class OperatorJvm {
    static final Path DOCKERFILE = Path.of("src", "main", "docker", "Dockerfile.jvm");
    static final Path VALUES = Path.of("helm", "execution-safety-operator", "values.yaml");
    private static final Pattern ENV = Pattern.compile("(?m)^ENV (\\w+)=\"([^\"]*)\"$");

    private OperatorJvm() {
    }

    /** The chart's default {@code jvmOptions}. */
    public static List<String> chartOptions() {
        return split(String.valueOf(values().get("jvmOptions")));
    }

    /** The chart's default memory limit of the operator container, in bytes. */
    public static long chartMemoryLimit() {
        Map<?, ?> limits = (Map<?, ?>) ((Map<?, ?>) values().get("resources")).get("limits");
        return Quantity.getAmountInBytes(new Quantity(String.valueOf(limits.get("memory")))).longValueExact();
    }

    /**
     * What the image's run-java.sh adds to the command line when JAVA_OPTS is not set
     * (jboss-container-images/openjdk, modules/jvm/bash/.../java-default-options), with the Dockerfile's ENV, in
     * a container limited to {@code memoryLimit} bytes.
     */
    public static List<String> imageOptions(long memoryLimit) {
        Map<String, String> env = dockerfileEnv();
        List<String> options = new ArrayList<>();
        options.add("-XX:MaxRAM=" + memoryLimit);
        String ratio = env.get("JAVA_MAX_MEM_RATIO");
        options.add("-XX:MaxRAMPercentage=" + (ratio == null ? "50" : ratio) + ".0");
        options.addAll(split(env.getOrDefault("GC_CONTAINER_OPTIONS", "-XX:+UseParallelGC")));
        options.addAll(List.of("-XX:MinHeapFreeRatio=10", "-XX:MaxHeapFreeRatio=20", "-XX:GCTimeRatio=4",
                "-XX:AdaptiveSizePolicyWeight=90", "-XX:+ExitOnOutOfMemoryError"));
        options.addAll(split(env.getOrDefault("JAVA_OPTS_APPEND", "")));
        return options;
    }

    /** The chart's options followed by the image's, under the chart's memory limit: one command line. */
    public static List<String> podOptions() {
        List<String> all = new ArrayList<>(chartOptions());
        all.addAll(imageOptions(chartMemoryLimit()));
        return all;
    }

    /** The Dockerfile's {@code ENV NAME="value"} lines. */
    public static Map<String, String> dockerfileEnv() {
        try {
            Map<String, String> env = new LinkedHashMap<>();
            Matcher m = ENV.matcher(Files.readString(DOCKERFILE));
            while (m.find()) {
                env.put(m.group(1), m.group(2));
            }
            return env;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Map<?, ?> values() {
        try {
            return new KubernetesSerialization().unmarshal(Files.readString(VALUES), Map.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> split(String options) {
        return Arrays.stream(options.trim().split("\\s+")).filter(o -> !o.isBlank()).toList();
    }
}
