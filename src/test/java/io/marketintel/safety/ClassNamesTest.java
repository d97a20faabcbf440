package io.marketintel.safety;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus;
import io.marketintel.safety.api.v1alpha1.ExecutionSafety;
import io.marketintel.safety.api.v1alpha1.ExecutionSafetySpec;
import io.marketintel.safety.api.v1alpha1.ExecutionSafetyStatus;

/**
 * No class of the operator shares its simple name with a type of the API (a nested spec or status type): reading
 * {@code CircuitBreaker} or {@code Workloads} in a file should never leave a doubt which one is meant.
 */
class ClassNamesTest {
    private static final Path MAIN = Path.of("src", "main", "java", "io", "marketintel", "safety");

    @Test
    void noServiceClassIsNamedLikeAnApiType() throws IOException {
        Set<String> api = new TreeSet<>();
        for (Class<?> type : new Class<?>[] { ExecutionPolicy.class, ExecutionPolicySpec.class, ExecutionPolicyStatus.class,
                ExecutionSafety.class, ExecutionSafetySpec.class, ExecutionSafetyStatus.class }) {
            nested(type, api);
        }
        Set<String> services = new TreeSet<>();
        try (Stream<Path> files = Files.walk(MAIN)) {
            files.filter(f -> f.toString().endsWith(".java") && !f.startsWith(MAIN.resolve("api")))
                    .forEach(f -> services.add(f.getFileName().toString().replace(".java", "")));
        }
        assertThat(api).as("nested API types").contains("CircuitBreaker", "Workloads", "WorkloadState");
        assertThat(services).as("operator classes named like an API type").doesNotContainAnyElementsOf(api);
    }

    private static void nested(Class<?> type, Set<String> names) {
        for (Class<?> inner : type.getDeclaredClasses()) {
            names.add(inner.getSimpleName());
            nested(inner, names);
        }
    }
}
