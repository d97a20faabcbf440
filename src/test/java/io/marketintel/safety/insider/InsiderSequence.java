package io.marketintel.safety.insider;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * A seeded sequence of 8 to 15 steps, each an actor and one write: the same (seed, index) always gives the same
 * steps, so a failure is replayed from its seed and index alone. Pure; no cluster.
 * <p>
 * Mostly an actor's allowed writes ({@link Move.Step#probe()} false); about one step in twelve is a probe of what its
 * roles do not allow. A request for Live is often followed by approvals and a stop by its release (unstop, re-arm),
 * so sequences reach Live and re-arm often enough to matter, not only by chance.
 */
public record InsiderSequence(long seed, int index, List<Move.Step> steps) {
    public static final int MIN_STEPS = 8;
    public static final int MAX_STEPS = 15;

    /** Actors by how often they act: the trader most. */
    private static final Actor[] WEIGHTED = { Actor.TRADER, Actor.TRADER, Actor.TRADER, Actor.TRADER, Actor.APPROVER,
            Actor.APPROVER, Actor.REQUESTER_APPROVER, Actor.REQUESTER_APPROVER, Actor.GITOPS, Actor.GITOPS,
            Actor.RISK_OFFICER };

    public static InsiderSequence of(long seed, int index) {
        return of(seed, index, Set.of());
    }

    /**
     * As {@link #of(long, int)}, never choosing what {@code leftOut} names: a move ({@code BARE_POD}) or one variant of
     * it ({@code REARM:next}). The same left-out set replays the same sequence.
     */
    public static InsiderSequence of(long seed, int index, Set<String> leftOut) {
        Random random = new Random(seed * 1_000_003L + index);
        int length = MIN_STEPS + random.nextInt(MAX_STEPS - MIN_STEPS + 1);
        List<Move.Step> steps = new ArrayList<>();
        while (steps.size() < length) {
            Actor actor = WEIGHTED[random.nextInt(WEIGHTED.length)];
            boolean probe = random.nextInt(12) == 0;
            List<Move> choices = Arrays.stream(Move.values())
                    .filter(m -> actor.holds(m.needs) != probe && !leftOut.contains(m.name()) && !variants(m, leftOut).isEmpty()).toList();
            Move move = choices.get(random.nextInt(choices.size()));
            List<String> variants = variants(move, leftOut);
            Move.Step step = new Move.Step(actor, move, variants.get(random.nextInt(variants.size())));
            steps.add(step);
            followUp(step, random, steps, leftOut);
        }
        return new InsiderSequence(seed, index, List.copyOf(steps.subList(0, Math.min(steps.size(), MAX_STEPS))));
    }

    /** The usual next steps of a request for Live (approvals) and of a stop (its release), each half the time. */
    private static List<String> variants(Move m, Set<String> leftOut) {
        return m.variants.stream().filter(v -> !leftOut.contains(m.name() + ":" + v)).toList();
    }

    private static void followUp(Move.Step step, Random random, List<Move.Step> steps, Set<String> leftOut) {
        boolean live = (step.move() == Move.SET_MODE || step.move() == Move.GITOPS_APPLY || step.move() == Move.CREATE_POLICY)
                && "Live".equals(step.variant()) && !step.probe();
        if (live && random.nextBoolean()) {
            steps.add(new Move.Step(Actor.APPROVER, Move.APPROVE, "current"));
            steps.add(new Move.Step(Actor.REQUESTER_APPROVER, Move.APPROVE, "current"));
        }
        boolean stop = (step.move() == Move.STOP_POLICY || step.move() == Move.STOP_NAMESPACE) && !step.probe();
        if (stop && random.nextBoolean()) {
            // Released as a person releases a stop: once status shows it (the re-arm names the epoch status shows). Without
            // that wait, whether a release happens at all was a race with the operator, and a loaded CI machine played
            // 500 sequences without one (the races stay: unstop and re-arm moves chosen at random do not wait).
            steps.add(new Move.Step(step.actor(), step.move() == Move.STOP_POLICY ? Move.UNSTOP_POLICY : Move.UNSTOP_NAMESPACE,
                    "seen"));
            steps.add(new Move.Step(random.nextBoolean() ? Actor.APPROVER : Actor.REQUESTER_APPROVER, Move.REARM,
                    random.nextInt(4) == 0 && !leftOut.contains("REARM:next") ? "next" : "current"));
        }
    }

    /** The replay key, as printed in every failure: {@code SEED:INDEX}. */
    public String key() {
        return seed + ":" + index;
    }

    @Override
    public String toString() {
        StringBuilder out = new StringBuilder("sequence " + key() + " (" + steps.size() + " steps):");
        for (int i = 0; i < steps.size(); i++) {
            out.append("\n  ").append(i + 1).append(". ").append(steps.get(i));
        }
        return out.toString();
    }
}
