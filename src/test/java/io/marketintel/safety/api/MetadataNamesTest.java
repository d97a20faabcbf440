package io.marketintel.safety.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import io.marketintel.safety.testing.JavaSource;

import org.junit.jupiter.api.Test;

import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.MetadataNames;

/**
 * {@link MetadataNames} is the one source of every annotation and label name: no other main class spells one out,
 * and the admission policies, chart templates and docs use no name it does not define.
 */
class MetadataNamesTest {
    /** {@code <anything>marketintel.io/<name>}: a name as it appears in a key, a kubectl command or a CEL expression. */
    private static final Pattern NAME = Pattern.compile("[a-z0-9.-]*marketintel\\.io/[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    /** API group references that are not annotation or label names: versions and resource plurals. */
    private static final Pattern NOT_A_NAME = Pattern.compile(
            "safety\\.marketintel\\.io/(v[0-9]+((alpha|beta)[0-9]+)?|executionpolicies|executionsafeties)");
    private static final Path MAIN = Path.of("src", "main", "java", "io", "marketintel", "safety");

    static Set<String> defined() throws IllegalAccessException {
        Set<String> names = new TreeSet<>();
        for (Field f : MetadataNames.class.getDeclaredFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == String.class) {
                names.add((String) f.get(null));
            }
        }
        return names;
    }

    @Test
    void everyOperatorNameIsUnderTheApiGroup() throws IllegalAccessException {
        assertThat(defined()).filteredOn(n -> n.contains("marketintel.io"))
                .isNotEmpty()
                .allSatisfy(n -> assertThat(n).startsWith(ExecutionPolicy.GROUP + "/").matches(NAME.pattern()));
    }

    @Test
    void noMainClassButMetadataNamesSpellsOutAName() throws IOException {
        List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(MAIN)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).sorted().toList()) {
                String where = MAIN.relativize(file).toString().replace('\\', '/');
                if (where.equals("api/v1alpha1/MetadataNames.java")) {
                    continue;
                }
                for (String literal : stringLiterals(Files.readString(file, StandardCharsets.UTF_8))) {
                    Matcher m = NAME.matcher(literal);
                    if (m.find() && !NOT_A_NAME.matcher(m.group()).matches()) {
                        found.add(where + " \"" + literal + "\"");
                    }
                }
            }
        }
        assertThat(found).as("names spelled out outside MetadataNames; refer to its constants").isEmpty();
    }

    @Test
    void shippedYamlAndDocsUseOnlyDefinedNames() throws IOException, IllegalAccessException {
        Set<String> defined = defined();
        Set<String> used = new TreeSet<>();
        List<String> unknown = new ArrayList<>();
        for (String root : List.of("k8s", "helm", "docs")) {
            try (Stream<Path> files = Files.walk(Path.of(root))) {
                for (Path file : files.filter(Files::isRegularFile).filter(MetadataNamesTest::text).sorted().toList()) {
                    Matcher m = NAME.matcher(Files.readString(file, StandardCharsets.UTF_8));
                    while (m.find()) {
                        String name = m.group();
                        if (NOT_A_NAME.matcher(name).matches()) {
                            continue;
                        }
                        used.add(name);
                        if (!defined.contains(name)) {
                            unknown.add(file + ": " + name);
                        }
                    }
                }
            }
        }
        assertThat(unknown).as("names in k8s/, helm/ or docs/ that MetadataNames does not define").isEmpty();
        // The scan is not vacuous: the admission policies use the names people and the API server write.
        assertThat(used).contains(MetadataNames.EMERGENCY_STOP_ANNOTATION, MetadataNames.EMERGENCY_STOP_BY_ANNOTATION,
                MetadataNames.APPROVE_ANNOTATION, MetadataNames.APPROVALS_ANNOTATION, MetadataNames.REQUESTED_BY_ANNOTATION,
                MetadataNames.REARM_ANNOTATION, MetadataNames.REARMED_BY_ANNOTATION);
    }

    @Test
    void theScannerFindsLiteralsAndSkipsComments() {
        String source = """
                /** {@code "safety.marketintel.io/in-javadoc"} */
                class X { // "safety.marketintel.io/in-comment"
                    String a = "safety.marketintel.io/one" + 'x' + "a \\"quoted\\" b";
                    char q = '"';
                    String b = \"""
                        text block "safety.marketintel.io/two"
                        \""";
                }
                """;
        assertThat(stringLiterals(source)).containsExactly("safety.marketintel.io/one", "a \\\"quoted\\\" b",
                "        text block \"safety.marketintel.io/two\"\n        ");
    }

    private static boolean text(Path file) {
        String name = file.getFileName().toString();
        return Stream.of(".yaml", ".yml", ".tpl", ".md", ".json", ".lua", ".txt").anyMatch(name::endsWith);
    }

    /** The string literals (and text blocks) of a Java source, raw as written, comments and char literals skipped. */
    static List<String> stringLiterals(String src) {
        return JavaSource.of(src).literals();
    }
}
