package io.marketintel.safety.actuation;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.ToIntFunction;

import io.marketintel.safety.api.v1alpha1.ExecutionMode;

/**
 * Stop-then-start (DESIGN §7) as a pure, level-based plan: from what is observed now, the next writes.
 * Because it never relies on memory, an operator restarted at any step computes the same next step.
 * <ol>
 * <li>ScalingDown: every workload with a pod or template not in the target mode goes to zero (its template
 * untouched).</li>
 * <li>Draining: wait until no pod of another mode remains anywhere in the trading system.</li>
 * <li>Reconfiguring: with nothing running, templates get the target mode (env var, annotation, label); a trading
 * system of one workload gets the target mode's count in the same write.</li>
 * <li>ScalingUp: replicas to the target mode's count; done when every workload is ready.</li>
 * </ol>
 * A new-mode pod is therefore never created while an old-mode pod exists in any workload of the system. The
 * system includes the <em>retired</em> workloads: ones that carry the policy's mark but that the spec no longer
 * names (a retargeted or re-created policy). They are held at zero before another mode starts, and never started
 * again: the spec no longer asks for them.
 */
public final class Convergence {
    private Convergence() {
    }

    public enum Step {
        ScalingDown, Draining, Reconfiguring, ScalingUp, Converged
    }

    /**
     * One write: server-side apply of {@code replicas}, and of the template mode when {@code templateMode} is
     * present (otherwise template fields are left as they are).
     */
    public record Write(ObservedWorkload workload, int replicas, Optional<ExecutionMode> templateMode, String why) {
        /**
         * Whether this write could start a pod (replicas above zero, or a template in another mode): it was
         * decided from what one pass read, so it must not land if the workload changed since (someone scaled
         * it up in between, and pods of the old mode are starting). Scaling down never waits on that.
         */
        public boolean onlyIfUnchanged() {
            return replicas > 0 || !templateMode.equals(workload.templateMode());
        }

        /**
         * Whether this write configures a template for Live or scales a Live one up: the API server admits it only once
         * the Namespace's register names the policy (execution-safety-mode-integrity), which the operator does once the
         * policy's status shows Live allowed, so it waits for the pass after the one that records an approved escalation
         * to Live.
         */
        public boolean startsLive() {
            return templateMode.filter(m -> m == ExecutionMode.LIVE).isPresent()
                    && (replicas > 0 || !templateMode.equals(workload.templateMode()));
        }

        /** A status that lets Live pods run: an escalation to Live under way, or Live and staying (the register follows it). */
        public static boolean liveAllowedBy(Optional<ExecutionMode> statusMode, Optional<ExecutionMode> transitionTo) {
            return transitionTo.map(t -> t == ExecutionMode.LIVE)
                    .orElse(statusMode.filter(m -> m == ExecutionMode.LIVE).isPresent());
        }

        /** {@link #liveAllowedBy(Optional, Optional)} of a policy's status; false without one. */
        public static boolean liveAllowedBy(io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus status) {
            return status != null && liveAllowedBy(Optional.ofNullable(status.mode), Optional.ofNullable(status.transition).map(t -> t.to));
        }
    }

    /**
     * @param deletions pods to delete directly (an emergency stop only): every pod of a stopped system that nobody has
     *                  deleted yet; its controller may never do it (a StatefulSet with OrderedReady waits for unready pods)
     * @param running   what still runs of a stopped system, one entry per pod with why (empty otherwise)
     */
    public record Plan(Step step, List<Write> writes, String message, List<String> deletions, List<String> running,
            boolean watched) {
        public Plan {
            writes = List.copyOf(writes);
            deletions = List.copyOf(deletions);
            running = List.copyOf(running);
        }

        public Plan(Step step, List<Write> writes, String message, List<String> deletions, List<String> running) {
            this(step, writes, message, deletions, running, false);
        }

        public Plan(Step step, List<Write> writes, String message) {
            this(step, writes, message, List.of(), List.of());
        }

        /**
         * A wait whose end the operator's watches report (the controller's count and ready replicas, the policy's own
         * pods): no poll is needed besides a slow safety net. Not so for the pods of a template the policy found, which no
         * watch of the operator holds (issue 22).
         */
        static Plan waitingOnWatches(Step step, String message) {
            return new Plan(step, List.of(), message, List.of(), List.of(), true);
        }

        public boolean converged() {
            return step == Step.Converged;
        }
    }

    /** Converge every workload to {@code target}; {@code replicasFor} gives each workload's count in it. */
    public static Plan toMode(List<ObservedWorkload> workloads, ExecutionMode target, ToIntFunction<ObservedWorkload> replicasFor) {
        return toMode(workloads, List.of(), target, replicasFor);
    }

    /**
     * Converge every workload to {@code target}, and first bring every {@code retired} workload (the policy's mark, not
     * in its spec) that runs or could run another mode to zero; retired workloads are never reconfigured or scaled up.
     */
    public static Plan toMode(List<ObservedWorkload> workloads, List<ObservedWorkload> retired, ExecutionMode target,
            ToIntFunction<ObservedWorkload> replicasFor) {
        return toMode(workloads, retired, List.of(), target, replicasFor);
    }

    /**
     * As {@link #toMode(List, List, ExecutionMode, ToIntFunction)}, with {@code joining} held like the retired ones: targets
     * that came under the spec of a policy that is Live (a Live system is frozen, DESIGN §7): their templates were not
     * among those approved for Live, so they are held at zero and never configured for it.
     */
    public static Plan toMode(List<ObservedWorkload> workloads, List<ObservedWorkload> retired, List<ObservedWorkload> joining,
            ExecutionMode target, ToIntFunction<ObservedWorkload> replicasFor) {
        List<Write> writes = new ArrayList<>();
        long wrongPods = 0;
        List<ObservedWorkload> system = java.util.stream.Stream.of(workloads, retired, joining).flatMap(List::stream).toList();
        for (ObservedWorkload w : system) {
            boolean templateWrong = w.templateMode().isEmpty() || w.templateMode().get() != target;
            long wrong = w.podsNotIn(target);
            wrongPods += wrong;
            if ((templateWrong || wrong > 0) && w.replicas() != 0) {
                writes.add(new Write(w, 0, w.templateMode(), "stop " + w.id() + (retired.contains(w)
                        ? " (it carries this policy's label, the spec no longer names it) before the trading system runs "
                        : joining.contains(w) ? " (it came under the spec while the trading system runs Live, unapproved) beside "
                        : " before it runs ") + target));
            }
        }
        if (!writes.isEmpty()) {
            return new Plan(Step.ScalingDown, writes, "scaling to zero before switching to " + target);
        }
        // A workload of another mode whose controller still counts pods, or has not yet seen its zero, may be
        // creating one that the pod listing does not show yet (created, or scaled up, a moment before it was
        // scaled to zero): wait for it too.
        List<ObservedWorkload> old = system.stream().filter(w -> w.templateMode().isEmpty() || w.templateMode().get() != target)
                .toList();
        long counted = old.stream().mapToLong(w -> Math.max(0, w.countedReplicas())).sum();
        List<String> behind = old.stream().filter(w -> w.countedReplicas() < 0).map(ObservedWorkload::id).toList();
        if (wrongPods > 0 || counted > 0) {
            String message = "waiting for " + Math.max(wrongPods, counted) + " pod(s) of another mode to terminate before starting "
                    + target;
            // The controller's count falls, and its observed generation rises, with a status event; pods of the policy's
            // own templates carry its label and are watched; those of a template it found are not, and are polled for.
            boolean watched = counted > 0 || !behind.isEmpty() || old.stream().allMatch(w -> w.templateMode().isPresent());
            return watched ? Plan.waitingOnWatches(Step.Draining, message) : new Plan(Step.Draining, List.of(), message);
        }
        if (!behind.isEmpty()) {
            return Plan.waitingOnWatches(Step.Draining, "waiting for the controller of " + String.join(", ", behind)
                    + " to see its zero before starting " + target);
        }
        // Nothing of another mode runs. A system of one workload gets the target mode and the mode's count in one write
        // (issue 22: a write, a pass and a status write fewer per adoption). A system of several is configured at zero
        // first, every template, and scaled up only in a later pass: otherwise one workload could start while another's
        // write failed and left it a template of the old mode, which anyone allowed to scale it would then start beside
        // (PassSimulationTest found that when every system was configured and scaled in one write).
        boolean alone = system.size() == 1;
        for (ObservedWorkload w : workloads) {
            if (w.templateMode().isEmpty() || w.templateMode().get() != target) {
                int want = alone ? replicasFor.applyAsInt(w) : 0;
                writes.add(new Write(w, want, Optional.of(target), "configure " + w.id() + " for " + target
                        + (want > 0 ? " with " + want + " replica(s)" : "")));
            }
        }
        if (!writes.isEmpty()) {
            return new Plan(Step.Reconfiguring, writes, "nothing running; configuring pod templates for " + target
                    + (alone ? " and starting them" : ""));
        }
        List<String> waiting = new ArrayList<>();
        for (ObservedWorkload w : workloads) {
            int want = replicasFor.applyAsInt(w);
            if (w.replicas() != want) {
                writes.add(new Write(w, want, Optional.of(target), "scale " + w.id() + " to " + want + " in " + target));
            } else if (w.readyReplicas() != want || w.podModes().size() != want) {
                waiting.add(w.id() + " " + w.readyReplicas() + "/" + want + " ready");
            }
        }
        if (!writes.isEmpty()) {
            return new Plan(Step.ScalingUp, writes, "starting " + target);
        }
        if (!waiting.isEmpty()) {
            return Plan.waitingOnWatches(Step.ScalingUp, "waiting for " + String.join(", ", waiting));
        }
        return new Plan(Step.Converged, List.of(), "every target runs in " + target);
    }

    /** At most this many pods are named in a stop's message (all are counted). */
    static final int PODS_NAMED = 10;

    /**
     * Emergency stop: every workload to zero at once, templates untouched, and every pod of the system that nobody has
     * deleted yet deleted directly ({@code strays}: pods labelled for the policy that no target owns). Converged only
     * when no pod is left at all: a stop is done when the pods are gone, not when replicas are zero.
     */
    public static Plan toZero(List<ObservedWorkload> workloads, List<ObservedPod> strays) {
        List<Write> writes = workloads.stream().filter(w -> w.replicas() != 0)
                .map(w -> new Write(w, 0, w.templateMode(), "emergency stop " + w.id())).toList();
        List<String> deletions = new ArrayList<>();
        List<String> running = new ArrayList<>();
        long unnamed = 0;
        for (ObservedWorkload w : workloads) {
            for (ObservedPod p : w.pods()) {
                note(p, w.id(), deletions, running);
            }
            unnamed += Math.max(0, w.podModes().size() - w.pods().size());
        }
        strays.forEach(p -> note(p, "no workload", deletions, running));
        long pods = running.size() + unnamed;
        if (!writes.isEmpty()) {
            return new Plan(Step.ScalingDown, writes, "emergency stop: scaling every target to zero", deletions, running);
        }
        if (pods == 0) {
            return new Plan(Step.Converged, List.of(), "emergency stop: nothing running");
        }
        String named = running.isEmpty() ? "" : ": " + String.join("; ", running.subList(0, Math.min(PODS_NAMED, running.size())))
                + (running.size() > PODS_NAMED ? "; and " + (running.size() - PODS_NAMED) + " more" : "");
        return new Plan(Step.Draining, List.of(), "emergency stop: " + pods + " pod(s) still running" + named, deletions, running);
    }

    /** Emergency stop of workloads whose pods are known only by their modes. */
    public static Plan toZero(List<ObservedWorkload> workloads) {
        return toZero(workloads, List.of());
    }

    private static void note(ObservedPod p, String owner, List<String> deletions, List<String> running) {
        if (p.running() && !p.deletable()) {
            running.add("Pod/" + p.name() + ": matches the selector of " + owner + " but is not its pod; not deleted by the stop,"
                    + " remove it or narrow the selector");
        } else if (p.running()) {
            deletions.add(p.name());
            running.add("Pod/" + p.name() + " (" + owner + "): " + (p.ready() ? "Ready" : "not Ready") + ", not deleted by its controller: the operator deletes it");
        } else {
            running.add("Pod/" + p.name() + " (" + owner + "): terminating since " + p.terminating().get()
                    + ", within its grace period");
        }
    }
}
