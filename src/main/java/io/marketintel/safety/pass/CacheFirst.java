package io.marketintel.safety.pass;

import java.util.function.Function;

import io.marketintel.safety.actuation.Actuator;
import io.marketintel.safety.actuation.Convergence;

/**
 * Which read a pass decides from (issue 22). Most passes only wait, for pods to go, to start, to become ready, and read
 * the informers; their answer may lag the API server, never run ahead of it. A write that could start pods
 * ({@link Convergence.Write#onlyIfUnchanged}) is never decided from such an answer: a pod of the old mode created a
 * moment ago may not be in the informer yet, and stop-then-start (DESIGN §7) rests on seeing it. So a plan from the
 * informers that holds one is checked against the API server's answer, and planned again from that answer if it differs;
 * so is a plan that stops (its pod deletions, and when it says the stop is done).
 */
public final class CacheFirst {
    private CacheFirst() {
    }

    /** @param readTwice whether the API server was asked after a read from the informers */
    public record Decided(Observation observed, PassPlan plan, boolean readTwice) {
    }

    /**
     * @param fromApiServer whether the pass reads the API server first (a stop, an incomplete cache, due)
     * @param read          the pass's targets, from the API server ({@code true}) or the informers ({@code false})
     * @param observe       the observation of those targets (with the escalation's reads when one is in front)
     */
    public static Decided decide(boolean fromApiServer, Function<Boolean, Actuator.Resolution> read,
            Function<Actuator.Resolution, Observation> observe, PassPlanner planner) {
        Actuator.Resolution first = read.apply(fromApiServer);
        Observation observed = observe.apply(first);
        PassPlan plan = planner.plan(observed);
        if (fromApiServer || !actsOnPods(plan)) {
            return new Decided(observed, plan, false);
        }
        Actuator.Resolution asked = read.apply(true);
        if (asked.equals(first)) {
            return new Decided(observed, plan, true);
        }
        Observation again = observe.apply(asked);
        return new Decided(again, planner.plan(again), true);
    }

    /** A write that could start pods, or a stop's (whose pod deletions and "done" must rest on what is there now). */
    static boolean actsOnPods(PassPlan plan) {
        return plan.decision().action() == io.marketintel.safety.policy.Decision.Action.STOP
                || plan.writes().stream().anyMatch(Convergence.Write::onlyIfUnchanged);
    }
}
