package io.marketintel.safety.testing;

import java.util.ArrayList;
import java.util.List;

/**
 * A Java source split into its code and its string literals, for the tests that read the project's own sources
 * (package cycles, metadata names). Comments are dropped; string, character and text-block literals are replaced in the
 * code by empty ones ({@code ""}, {@code ''}, {@code """"}) and their raw text, as written, is kept for {@link #literals}
 * (string and text-block literals only).
 */
public record JavaSource(String code, List<String> literals) {

    public static JavaSource of(String source) {
        StringBuilder code = new StringBuilder(source.length());
        List<String> literals = new ArrayList<>();
        int i = 0;
        int n = source.length();
        while (i < n) {
            char c = source.charAt(i);
            if (source.startsWith("//", i)) {
                int end = source.indexOf('\n', i);
                i = end < 0 ? n : end;
            } else if (source.startsWith("/*", i)) {
                int end = source.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 2;
                code.append(' ');
            } else if (source.startsWith("\"\"\"", i)) {
                int start = Math.min(n, source.indexOf('\n', i) + 1);
                int j = start;
                while (j < n && !source.startsWith("\"\"\"", j)) {
                    j += source.charAt(j) == '\\' ? 2 : 1;
                }
                literals.add(source.substring(start, Math.min(j, n)));
                i = Math.min(n, j + 3);
                code.append("\"\"");
            } else if (c == '"' || c == '\'') {
                int j = i + 1;
                while (j < n && source.charAt(j) != c && source.charAt(j) != '\n') {
                    j += source.charAt(j) == '\\' ? 2 : 1;
                }
                if (c == '"') {
                    literals.add(source.substring(i + 1, Math.min(j, n)));
                }
                i = j + 1;
                code.append(c).append(c);
            } else {
                code.append(c);
                i++;
            }
        }
        return new JavaSource(code.toString(), List.copyOf(literals));
    }
}
