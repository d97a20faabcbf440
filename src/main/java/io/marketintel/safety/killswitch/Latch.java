package io.marketintel.safety.killswitch;

import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.approval.ApprovalLine;

/**
 * The latch of the emergency stop and the circuit breaker, as one pure function of what is annotated now and
 * what status already records.
 * <ul>
 * <li>A stop annotation in force at any scope latches a stop. The latch outlives the annotation: removing it
 * resumes nothing.</li>
 * <li>A tripped circuit breaker latches too (the policy is held in the safest mode, Backtest), and so does a risk
 * monitor's breach with action DeEscalate (held in DryRun at most).</li>
 * <li>Every new latch opens a new <em>epoch</em>. Approvals are bound to the epoch, so none given before a stop
 * ever counts after it.</li>
 * <li>Only a re-arm naming the current epoch releases the latch, and only if no stop annotation is in force anywhere
 * when it is seen. A re-arm left over from an earlier epoch releases nothing.</li>
 * <li>A re-arm of the current epoch seen while a stop is in force is spent: the latch moves to a new epoch, to be
 * re-armed once the stop is removed. Otherwise a stop set after a re-arm was written, but before the operator acted
 * on it, was absorbed into the re-armed epoch and released with no re-arm after it (issue 19, found by the insider
 * tier); the operator cannot tell which came first, so it never lets a re-arm outlive a stop it meets.</li>
 * </ul>
 */
public final class Latch {
    private Latch() {
    }

    /** Where a stop comes from; the order is the width, narrowest first. */
    public enum Scope {
        Policy, Namespace, Cluster, Breaker
    }

    /**
     * A stop annotation found on an object.
     *
     * @param object  for people: {@code ExecutionPolicy/momentum}, {@code Namespace/trading}, {@code ExecutionSafety/global}
     * @param target  the same as kubectl arguments: {@code xp momentum -n trading}, {@code namespace trading}
     * @param by      who set it, as recorded by the API server (empty without the admission policies)
     * @param missed  not an annotation in force but a stop the API server counted and the policy has not recorded (its
     *                annotation removed meanwhile, {@code StopWatcher#missed}); its own reason is gone
     */
    public record Trigger(Scope scope, String object, String target, String reason, Optional<String> by, boolean missed) {
        public Trigger(Scope scope, String object, String target, String reason, Optional<String> by) {
            this(scope, object, target, reason, by, false);
        }
    }

    /** A re-arm as recorded by the API server: who, and the epoch they re-armed. */
    public record Rearm(String user, long epoch) {
    }

    /** What status records from earlier passes. */
    public record Recorded(boolean stopped, boolean breakerOpen, boolean held, long epoch) {
        public static final Recorded NONE = new Recorded(false, false, false, 0);

        public Recorded(boolean stopped, boolean breakerOpen, long epoch) {
            this(stopped, breakerOpen, false, epoch);
        }

        public boolean latched() {
            return stopped || breakerOpen || held;
        }
    }

    public enum Change {
        /** Nothing new. */
        NONE,
        /** A stop was latched in this pass (new epoch). */
        STOPPED,
        /** The circuit breaker tripped in this pass (new epoch). */
        BREAKER_TRIPPED,
        /** A risk monitor asked for a step back to DryRun in this pass (new epoch). */
        HELD,
        /** A re-arm released the latch in this pass. */
        REARMED,
        /** A re-arm of the current epoch met a stop in force: spent, the latch moved to a new epoch in this pass. */
        REARM_SPENT
    }

    /**
     * The outcome.
     *
     * @param stopped      every target is held at zero replicas
     * @param breakerOpen  the policy is held in Backtest
     * @param held         a risk monitor holds the policy in DryRun at most
     * @param epoch        the current epoch (approvals must be bound to it)
     * @param cause        the widest stop annotation in force, if any
     * @param change       what this pass changed
     * @param message      for people: why the latch holds, or what released it
     */
    public record State(boolean stopped, boolean breakerOpen, boolean held, long epoch, Optional<Trigger> cause, Change change,
            String message) {
        public State(boolean stopped, boolean breakerOpen, long epoch, Optional<Trigger> cause, Change change, String message) {
            this(stopped, breakerOpen, false, epoch, cause, change, message);
        }

        public boolean latched() {
            return stopped || breakerOpen || held;
        }
    }

    public static State evaluate(List<Trigger> inForce, boolean breakerTrips, Optional<Rearm> rearm, Recorded recorded) {
        return evaluate(inForce, breakerTrips, Optional.empty(), rearm, recorded);
    }

    /**
     * @param deEscalation a risk monitor's breach asking for a step back to DryRun (its reason), latched like the breaker:
     *                     a new epoch (no approval given before counts for Live again), released only by a re-arm
     */
    public static State evaluate(List<Trigger> inForce, boolean breakerTrips, Optional<String> deEscalation, Optional<Rearm> rearm,
            Recorded recorded) {
        Optional<Trigger> widest = inForce.stream().max(Comparator.comparing(Trigger::scope));
        long epoch = recorded.epoch();
        if (recorded.latched()) {
            if (!recorded.stopped() && widest.isPresent()) {
                // A stop on top of an open breaker or a monitor's hold is a new event with its own epoch.
                return new State(true, recorded.breakerOpen(), recorded.held(), epoch + 1, widest, Change.STOPPED,
                        stoppedMessage(widest.get()));
            }
            String what = recorded.stopped() ? "emergency stop" : recorded.breakerOpen() ? "circuit breaker" : "risk monitor's hold";
            if (rearm.isPresent() && rearm.get().epoch() == epoch) {
                if (widest.isPresent()) {
                    Trigger t = widest.get();
                    return new State(recorded.stopped(), recorded.breakerOpen(), recorded.held(), epoch + 1, widest, Change.REARM_SPENT,
                            "the re-arm of epoch " + epoch + " by " + rearm.get().user() + " met the emergency stop in force on "
                                    + t.object() + " and is spent: the latch holds as epoch " + (epoch + 1)
                                    + "; remove the stop first (kubectl annotate " + t.target() + " "
                                    + MetadataNames.EMERGENCY_STOP_ANNOTATION + "-), then re-arm epoch " + (epoch + 1));
                }
                return new State(false, false, epoch, Optional.empty(), Change.REARMED,
                        what + " of epoch " + epoch + " re-armed by " + rearm.get().user());
            }
            // A re-arm of an earlier epoch is what released an earlier stop (the annotation stays on the object):
            // history, not news about this stop, so it is not mentioned. (Whoever writes an old epoch by mistake
            // finds the right one in the resume command of this very message.) Only a re-arm naming an epoch that
            // was never reached is worth a word.
            String hint = rearm.isPresent() && rearm.get().epoch() > epoch
                    ? "; the re-arm by " + rearm.get().user() + " names epoch " + rearm.get().epoch()
                            + ", which does not exist yet: the current epoch is " + epoch
                    : "";
            String held = recorded.stopped()
                    ? "emergency stop latched (epoch " + epoch + ")" + widest.map(t -> "; in force on " + t.object())
                            .orElse("; removing the stop annotation does not resume, a re-arm does")
                    : recorded.breakerOpen() ? "circuit breaker open (epoch " + epoch + "): held in Backtest until re-armed"
                    : "a risk monitor breached (epoch " + epoch + "): held in DryRun at most until re-armed";
            return new State(recorded.stopped(), recorded.breakerOpen(), recorded.held(), epoch, widest, Change.NONE, held + hint);
        }
        if (widest.isPresent()) {
            return new State(true, false, epoch + 1, widest, Change.STOPPED, stoppedMessage(widest.get()));
        }
        if (breakerTrips) {
            return new State(false, true, epoch + 1, Optional.empty(), Change.BREAKER_TRIPPED,
                    "circuit breaker tripped: held in Backtest until re-armed");
        }
        if (deEscalation.isPresent()) {
            return new State(false, false, true, epoch + 1, Optional.empty(), Change.HELD,
                    deEscalation.get() + ": held in DryRun at most until re-armed");
        }
        return new State(false, false, epoch, Optional.empty(), Change.NONE, "no emergency stop");
    }

    private static String stoppedMessage(Trigger t) {
        return "emergency stop on " + t.object() + t.by().map(b -> " by " + b).orElse("") + ": " + t.reason();
    }

    /**
     * Parses {@code "<user> <epoch>"} as written by the admission policy: the user is everything before the last
     * space, nothing trimmed (user names may hold spaces: OIDC subjects, X.509 names), the epoch a decimal integer.
     * The same grammar as an approval line ({@link ApprovalLine#parseLine}); anything else is not a re-arm. Before, a
     * user name with a space made a re-arm the API server accepted silently count for nothing (issue 19).
     */
    public static Optional<Rearm> parseRearm(String line) {
        if (line == null) {
            return Optional.empty();
        }
        return ApprovalLine.parseLine(line).filter(l -> l.token().matches("[0-9]{1,18}"))
                .map(l -> new Rearm(l.user(), Long.parseLong(l.token())));
    }

    /** The moment a stop counts from, for the record: now for a new stop, else what status says. */
    public static Instant stoppedAt(State state, Optional<Instant> recorded, Instant now) {
        return state.change() == Change.STOPPED ? now : recorded.orElse(now);
    }
}
