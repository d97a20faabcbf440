package io.marketintel.safety.approval;

import java.util.ArrayList;
import java.util.List;

/** One approval as the API server wrote it: {@code "<username> <token>"}. */
public record ApprovalLine(String user, String token) {

    /** Parses the annotation; the token is the last word (usernames may contain spaces). Blank lines are skipped. */
    public static List<ApprovalLine> parse(String annotation) {
        List<ApprovalLine> lines = new ArrayList<>();
        if (annotation == null) {
            return lines;
        }
        for (String raw : annotation.split("\n")) {
            String line = raw.strip();
            int space = line.lastIndexOf(' ');
            if (space <= 0 || space == line.length() - 1) {
                continue;
            }
            lines.add(new ApprovalLine(line.substring(0, space), line.substring(space + 1)));
        }
        return lines;
    }
}
