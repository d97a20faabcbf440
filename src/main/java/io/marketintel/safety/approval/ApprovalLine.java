package io.marketintel.safety.approval;

import java.util.ArrayList;
import java.util.List;

import io.marketintel.safety.api.v1alpha1.MetadataNames;

/** One approval as the API server wrote it: {@code "<username> <token>"}. */
public record ApprovalLine(String user, String token) {

    /**
     * Alias of {@link MetadataNames#REQUESTED_BY_ANNOTATION}, kept only for ExecutionPolicyReconciler and the pass
     * package (rewritten on main meanwhile); delete once they refer to MetadataNames.
     */
    public static final String REQUESTED_BY_ANNOTATION = MetadataNames.REQUESTED_BY_ANNOTATION;
    /**
     * Alias of {@link MetadataNames#APPROVALS_ANNOTATION}, kept only because main's PassSimulationTest (written
     * meanwhile) uses it; delete once it refers to MetadataNames.
     */
    public static final String ANNOTATION = MetadataNames.APPROVALS_ANNOTATION;

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
