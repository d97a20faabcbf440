package io.marketintel.safety.approval;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The token an approval must name: a digest of the policy's identity, the generation and content of its
 * spec, and the emergency-stop epoch. Any spec change (new generation) or stop (new epoch) yields a new
 * token, so an approval can never be replayed for a later change or across a stop; a recreated policy
 * (new uid) never inherits one.
 */
public final class ApprovalToken {
    public static final int LENGTH = 12;

    private ApprovalToken() {
    }

    public static String of(String uid, long generation, String canonicalSpec, long stopEpoch) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update((uid + "\n" + generation + "\n" + stopEpoch + "\n" + canonicalSpec).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(sha.digest()).substring(0, LENGTH);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is always present", e);
        }
    }
}
