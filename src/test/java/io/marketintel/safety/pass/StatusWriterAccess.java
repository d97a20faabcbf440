package io.marketintel.safety.pass;

import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus;
import io.marketintel.safety.killswitch.StopWatcher;

/** Test access to the package-private pure parts of {@link StatusWriter}. */
public final class StatusWriterAccess {
    private StatusWriterAccess() {
    }

    public static ExecutionPolicyStatus.StopsSeen stopsSeen(ExecutionPolicyStatus.StopsSeen seen, boolean stopped,
            StopWatcher.StopCounts counts, long seenInNamespace) {
        return StatusWriter.stopsSeen(seen, stopped, counts, seenInNamespace);
    }
}
