package io.marketintel.safety.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.marketintel.safety.testing.OperatorJvm;

/**
 * The chart gives the JVM its options as JAVA_TOOL_OPTIONS and the image's run-java.sh adds its own on the
 * command line. Both reach one JVM, which refuses some combinations outright: this starts a real JVM with the
 * two sets, as a pod of the chart would, and reads the settings it ended up with.
 */
class ImageJvmOptionsTest {
    record Jvm(int exitCode, String output) {
    }

    @Test
    void thePodsJvmStartsWithTheChartsAndTheImagesOptionsTogether() throws Exception {
        Jvm jvm = start(OperatorJvm.chartOptions(), OperatorJvm.imageOptions(OperatorJvm.chartMemoryLimit()));
        assertThat(jvm.exitCode()).as(jvm.output()).isZero();
        assertThat(jvm.output()).containsPattern("bool UseSerialGC\\s+= true")
                .containsPattern("bool ExitOnOutOfMemoryError\\s+= true")
                .as("a quarter of the chart's 512 MiB limit").containsPattern("size_t MaxHeapSize\\s+= 134217728 ");
    }

    /** Why the image names the collector: its script's default, with the chart's options, is a JVM that never starts. */
    @Test
    void withTheImageScriptsDefaultCollectorThePodsJvmWouldNotStart() throws Exception {
        List<String> image = new ArrayList<>(OperatorJvm.imageOptions(OperatorJvm.chartMemoryLimit()));
        image.replaceAll(o -> o.equals("-XX:+UseSerialGC") ? "-XX:+UseParallelGC" : o);
        Jvm jvm = start(OperatorJvm.chartOptions(), image);
        assertThat(jvm.exitCode()).isNotZero();
        assertThat(jvm.output()).contains("Multiple garbage collectors selected");
    }

    static Jvm start(List<String> toolOptions, List<String> commandLine) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(commandLine);
        command.addAll(List.of("-XX:+PrintFlagsFinal", "-version"));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("JAVA_TOOL_OPTIONS", String.join(" ", toolOptions));
        Process p = builder.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Jvm(p.exitValue(), output);
    }
}
