package io.marketintel.safety.approval;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * The token an approval must name: a digest of the policy's identity, the generation and content of its
 * spec, the emergency-stop epoch, the pod templates of its targets ({@link TemplateDigest}) and, when the cluster sets
 * them, its approver caps
 * ({@code ExecutionSafety/global spec.allowedApprovers}). Any spec change (new generation), stop (new epoch), template change or change
 * of the caps yields a new token, so an approval can never be replayed for a later change, across a stop, or under
 * other caps than the API server checked it against; a recreated policy (new uid) never inherits one. The API server
 * accepts an approval only of the token status shows (execution-safety-identity), so every counted approval was
 * checked, by user and by group, against exactly the approver lists this token binds.
 */
public final class ApprovalToken {
    public static final int LENGTH = 12;

    private ApprovalToken() {
    }

    public static String of(String uid, long generation, String canonicalSpec, long stopEpoch) {
        return of(uid, generation, canonicalSpec, stopEpoch, null);
    }

    /** @param canonicalCaps the cluster's approver caps as canonical JSON; null or empty when it sets none */
    public static String of(String uid, long generation, String canonicalSpec, long stopEpoch, String canonicalCaps) {
        return of(uid, generation, canonicalSpec, stopEpoch, canonicalCaps, List.of());
    }

    /**
     * @param templates each target's {@code KIND/NAME@}{@link TemplateDigest}: an approval binds what would run, so a new
     *                  image, command, env value or container after it was given makes a new token (issue 21)
     */
    public static String of(String uid, long generation, String canonicalSpec, long stopEpoch, String canonicalCaps, List<String> templates) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            String caps = canonicalCaps == null || canonicalCaps.isEmpty() ? "" : "\ncaps " + canonicalCaps;
            String bound = templates.isEmpty() ? "" : "\ntemplates " + String.join(" ", templates.stream().sorted().toList());
            sha.update((uid + "\n" + generation + "\n" + stopEpoch + "\n" + canonicalSpec + caps + bound).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(sha.digest()).substring(0, LENGTH);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is always present", e);
        }
    }
}
