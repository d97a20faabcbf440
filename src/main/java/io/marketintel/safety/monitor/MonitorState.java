package io.marketintel.safety.monitor;

import java.time.Instant;
import java.util.Optional;

/**
 * Where a monitor stands after its last evaluation.
 *
 * @param phase        {@link Phase}
 * @param holdingSince when the condition was first seen holding in the run of evaluations that still holds (Pending
 *                     and Breached), else empty
 * @param lastValue    the value of the last reading (the worst series), empty when it had none
 * @param declared     whether the action was asked for in this run of holding evaluations (kept across evaluations
 *                     without a reading, so a series that comes back does not ask twice)
 * @param withoutData  evaluations in a row without a reading
 * @param detail       why the last evaluation had no reading, empty when it had one
 */
public record MonitorState(Phase phase, Optional<Instant> holdingSince, Optional<Double> lastValue, boolean declared,
        int withoutData, Optional<String> detail) {

    public enum Phase {
        /** Not evaluated yet. */
        Unknown,
        /** The condition does not hold. */
        Ok,
        /** The condition holds, not yet for holdFor. */
        Pending,
        /** The condition has held for holdFor: the action was asked for once, on entering this phase. */
        Breached,
        /** The last evaluation had no reading (no series, NaN, stale, a failed query). */
        NoData
    }

    /** A monitor never evaluated (and one whose policy was re-armed: it must hold for holdFor again before it acts). */
    public static MonitorState initial() {
        return new MonitorState(Phase.Unknown, Optional.empty(), Optional.empty(), false, 0, Optional.empty());
    }

    /**
     * Where a monitor starts on a replica that takes over (a restart, a fail-over), from the phase status recorded and since
     * when: a run that was {@code Pending} goes on from the moment it began, since the time no replica evaluated counts as
     * evaluations without a reading, which never reset a run; its next reading decides as usual (one that does not hold
     * starts over). Anything else starts from scratch: a {@code Breached} monitor asked for its action already, and its
     * policy is latched (or was re-armed, which starts it over). The value status recorded is kept as the last one seen.
     */
    public static MonitorState resumed(String recordedPhase, Optional<Instant> recordedSince, Optional<Double> recordedValue) {
        if (Phase.Pending.name().equals(recordedPhase) && recordedSince.isPresent()) {
            return new MonitorState(Phase.Pending, recordedSince, recordedValue, false, 0, Optional.empty());
        }
        // The value is kept for what a latched policy's monitor shows until the re-arm (the breach that latched it).
        return new MonitorState(Phase.Unknown, Optional.empty(), recordedValue, false, 0, Optional.empty());
    }
}
