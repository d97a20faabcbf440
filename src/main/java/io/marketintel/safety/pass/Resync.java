package io.marketintel.safety.pass;

import java.time.Duration;
import java.util.Optional;

/** When a policy is looked at again if no event wakes it first. */
public final class Resync {
    /** Re-decide at once: a transition just completed, or a write was held back, and the wanted mode may be further on. */
    public static final Duration NEXT_DECISION = Duration.ofMillis(100);
    /** Targets are moving: poll besides the pod and workload events (see {@link #busy}). */
    public static final Duration BUSY = Duration.ofSeconds(2);
    /**
     * The slowest poll of a long transition, and the only one after writes that all landed: the watches report what the
     * workloads' controllers make of them (their observed generation, counts, pods), and wake the policy at once.
     */
    public static final Duration BUSY_MAX = Duration.ofSeconds(15);
    /** Waiting on a person or on time (soak): re-evaluate now and then. */
    public static final Duration STALLED = Duration.ofSeconds(10);
    /** Steady: drift is caught by events, this is the safety net. */
    public static final Duration IDLE = Duration.ofSeconds(60);

    private Resync() {
    }

    /**
     * How soon to look again at a wait whose end a watch reports ({@code Convergence.Plan#watched}: the controller's count
     * or observed generation, the policy's own pods, ready replicas): the watch wakes the policy when it ends, so only the
     * safety net of a policy at rest, but no later than just past the transition's deadline, where no event may come (a
     * rollout that never becomes ready) and the pass must roll it back. A rollout that takes a minute on a loaded cluster
     * was polled every 15 s before (issue 22: the most passes of a thousand adoptions that found nothing new).
     *
     * @param untilDeadline the time left until the transition in flight times out; empty without one
     */
    public static Duration watched(Optional<Duration> untilDeadline) {
        Duration due = untilDeadline.map(left -> left.plusSeconds(1)).filter(d -> d.compareTo(IDLE) < 0).orElse(IDLE);
        return due.compareTo(BUSY) < 0 ? BUSY : due;
    }

    /**
     * How soon to look again at targets that are moving, {@code elapsed} into the transition. Workload and pod events
     * wake the policy as they happen, so the poll is only a safety net for what sends no event (an unlabelled pod of the
     * workload before adoption finishing its termination): every 2 s at first, then a quarter of the time elapsed, at
     * most 15 s. A transition that waits on a slow rollout is not re-read every 2 s for minutes, which with a thousand
     * policies is most of the operator's work.
     */
    public static Duration busy(Duration elapsed) {
        Duration quarter = elapsed.isNegative() ? Duration.ZERO : elapsed.dividedBy(4);
        return quarter.compareTo(BUSY) < 0 ? BUSY : quarter.compareTo(BUSY_MAX) > 0 ? BUSY_MAX : quarter;
    }
}
