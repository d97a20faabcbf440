package io.marketintel.safety;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import io.marketintel.safety.testing.JavaSource;

import org.junit.jupiter.api.Test;

/**
 * No cycle between the packages under {@code io.marketintel.safety} (issue 18): a cycle makes two packages one
 * unit in all but name, and the kill switch, which must stay small and readable, grew one with the reconciler.
 * The graph is built from the main sources: every {@code io.marketintel.safety.<package>.<Type>} they name in
 * code (imports and fully qualified names; comments and string literals do not count). Each directory is its
 * own package ({@code api.v1alpha1} included).
 */
class PackageCyclesTest {
    private static final String ROOT = "io.marketintel.safety";
    private static final Path SOURCES = Path.of("src/main/java/io/marketintel/safety");
    /** A package name (lower-case segments) followed by a type name (upper case). */
    private static final Pattern REFERENCE = Pattern.compile("\\bio\\.marketintel\\.safety((?:\\.[a-z_][a-z0-9_]*)*)\\.[A-Z]");
    private static final Pattern PACKAGE = Pattern.compile("^\\s*package\\s+([a-z0-9_.]+)\\s*;", Pattern.MULTILINE);

    @Test
    void noPackageDependsOnItselfThroughAnother() {
        Map<String, Set<String>> graph = graph(SOURCES);
        assertThat(graph).as("the main sources were found").containsKeys("killswitch", "reconciler", "actuation", "api.v1alpha1");
        assertThat(cycles(graph)).as("package cycles (each: a path back to where it starts); package graph: %s", graph).isEmpty();
    }

    @Test
    void theKillSwitchDoesNotDependOnTheReconciler() {
        assertThat(graph(SOURCES).get("killswitch")).doesNotContain("reconciler");
    }

    @Test
    void aCycleIsFound() {
        Map<String, Set<String>> graph = new TreeMap<>();
        graph.put("a", new TreeSet<>(Set.of("b")));
        graph.put("b", new TreeSet<>(Set.of("c")));
        graph.put("c", new TreeSet<>(Set.of("a")));
        graph.put("d", new TreeSet<>(Set.of("a")));
        assertThat(cycles(graph)).containsExactly(List.of("a", "b", "c", "a"));
        graph.get("c").clear();
        assertThat(cycles(graph)).isEmpty();
    }

    @Test
    void referencesInCodeCountAndCommentsAndStringsDoNot() {
        String source = """
                package io.marketintel.safety.a;
                import io.marketintel.safety.b.Thing;
                import static io.marketintel.safety.api.v1alpha1.Kind.VALUE;
                /** See {@link io.marketintel.safety.c.Doc}. */
                class X { // io.marketintel.safety.d.Line
                    Object y = new io.marketintel.safety.e.Inline();
                    String z = "io.marketintel.safety.f.Text";
                }
                """;
        assertThat(referenced(strip(source))).containsExactlyInAnyOrder("b", "api.v1alpha1", "e");
    }

    /** Package (relative to the root, "" for the root) to the packages its sources name, itself excluded. */
    static Map<String, Set<String>> graph(Path sources) {
        Map<String, Set<String>> graph = new TreeMap<>();
        try (Stream<Path> files = Files.walk(sources)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                String code = strip(Files.readString(file));
                Matcher m = PACKAGE.matcher(code);
                if (!m.find()) {
                    continue;
                }
                String pkg = relative(m.group(1));
                Set<String> to = graph.computeIfAbsent(pkg, k -> new TreeSet<>());
                referenced(code).stream().filter(p -> !p.equals(pkg)).forEach(to::add);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return graph;
    }

    private static String relative(String pkg) {
        return pkg.equals(ROOT) ? "" : pkg.substring(ROOT.length() + 1);
    }

    static Set<String> referenced(String code) {
        Set<String> found = new TreeSet<>();
        Matcher m = REFERENCE.matcher(code);
        while (m.find()) {
            found.add(m.group(1).isEmpty() ? "" : m.group(1).substring(1));
        }
        return found;
    }

    /** The code without comments, string and character literals and text blocks. */
    static String strip(String source) {
        return JavaSource.of(source).code();
    }

    /** One cycle per package that lies on one (the first found from it), each listed from its smallest package. */
    static List<List<String>> cycles(Map<String, Set<String>> graph) {
        Set<List<String>> found = new java.util.LinkedHashSet<>();
        for (String start : graph.keySet()) {
            List<String> cycle = pathBack(graph, start);
            if (cycle != null) {
                found.add(normalised(cycle));
            }
        }
        return new ArrayList<>(found);
    }

    /** A shortest path start → … → start, or null (breadth first). */
    private static List<String> pathBack(Map<String, Set<String>> graph, String start) {
        Map<String, String> parent = new HashMap<>();
        Deque<String> queue = new ArrayDeque<>(List.of(start));
        while (!queue.isEmpty()) {
            String at = queue.poll();
            for (String next : graph.getOrDefault(at, Set.of())) {
                if (next.equals(start)) {
                    List<String> path = new ArrayList<>(List.of(start));
                    for (String p = at; p != null && !p.equals(start); p = parent.get(p)) {
                        path.add(1, p);
                    }
                    path.add(start);
                    return path;
                }
                if (!parent.containsKey(next)) {
                    parent.put(next, at);
                    queue.add(next);
                }
            }
        }
        return null;
    }

    private static List<String> normalised(List<String> cycle) {
        List<String> ring = cycle.subList(0, cycle.size() - 1);
        int min = 0;
        for (int i = 1; i < ring.size(); i++) {
            if (ring.get(i).compareTo(ring.get(min)) < 0) {
                min = i;
            }
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < ring.size(); i++) {
            out.add(ring.get((min + i) % ring.size()));
        }
        out.add(out.get(0));
        return out;
    }
}
