package io.marketintel.safety.approval;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One approval as the API server wrote it. The grammar, defined once here and enforced by the admission policy
 * {@code execution-safety-identity} on every line a request adds ({@code variables.forged}):
 *
 * <pre>
 * approvals = line *( LF line )
 * line      = identity SP token        ; exactly as written, nothing trimmed
 * identity  = the user name of the request that added the line (any characters but LF, spaces included)
 * token     = 1*( any character but SP and LF )
 * </pre>
 *
 * The identity is therefore everything before the line's last space: admission accepts a line only when that is
 * exactly the writer's user name, and {@link #parse} reads exactly that, so a line can never count for anyone but
 * the user who wrote it ({@code "alice bob <token>"} written by alice is refused; before, it counted as "alice bob").
 * Empty lines are skipped; a line without a space, or ending in one, is not an approval.
 */
public record ApprovalLine(String user, String token) {

    /** The lines of the annotation, as {@link ApprovalLine the grammar} reads them. */
    public static List<ApprovalLine> parse(String annotation) {
        List<ApprovalLine> lines = new ArrayList<>();
        if (annotation == null) {
            return lines;
        }
        for (String line : annotation.split("\n")) {
            parseLine(line).ifPresent(lines::add);
        }
        return lines;
    }

    /**
     * One line of {@link ApprovalLine the grammar}: the identity is everything before the last space, nothing trimmed;
     * empty without a space, with nothing before it, or ending in one. {@code rearmed-by} ({@code "<user> <epoch>"})
     * is read by the same rule.
     */
    public static Optional<ApprovalLine> parseLine(String line) {
        int space = line.lastIndexOf(' ');
        if (space <= 0 || space == line.length() - 1 || line.indexOf('\n') >= 0) {
            return Optional.empty();
        }
        return Optional.of(new ApprovalLine(line.substring(0, space), line.substring(space + 1)));
    }

    /**
     * Whether admission accepts {@code line} as added by {@code user}: the Java twin of the admission policy's rule,
     * for the property that every accepted line parses to exactly its writer (kept equal to the CEL by
     * {@code ApprovalLineTest}).
     */
    public static boolean acceptedFrom(String user, String line) {
        return line.startsWith(user + " ") && line.length() > user.length() + 1 && !line.substring(user.length() + 1).contains(" ");
    }
}
