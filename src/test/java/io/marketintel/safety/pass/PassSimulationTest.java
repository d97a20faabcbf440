package io.marketintel.safety.pass;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.marketintel.safety.actuation.Convergence;
import io.marketintel.safety.actuation.ObservedWorkload;
import io.marketintel.safety.actuation.Actuator;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.guard.GuardOutcome;
import io.marketintel.safety.guard.GuardRunner;
import io.marketintel.safety.killswitch.Latch;
import io.marketintel.safety.policy.Decision.Action;
import io.marketintel.safety.status.Conditions;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * The pass-level tier: whole passes through {@link PassPlanner} and {@link StatusWriter}, thousands per run, against a
 * simulated namespace (workload controllers that create and delete pods a step late, a kill switch that zeroes before the
 * pass reads, people who change the mode, stop, re-arm, approve, scale by hand). After every pass the plan and the
 * report are checked against the promises of DESIGN §6, §7 and §11 that one pass can keep.
 * <p>
 * Each sequence is driven by one seed; a failure prints it (jqwik's report and the assertion message). Replay one with
 * {@code @Property(seed = "...")}, or run more with {@code -Djqwik.tries.default=N}.
 */
class PassSimulationTest {
    private static final KubernetesSerialization JSON = new KubernetesSerialization();
    private static final PassPlanner PLANNER = new PassPlanner(JSON);
    private static final List<String> APPROVERS = List.of("alice", "bob", "carol");
    private static final int STEPS = 40;

    @Property(tries = 600)
    void everyPassKeepsThePromises(@ForAll long seed) {
        new Simulation(seed).run(STEPS);
    }

    /**
     * More sequences on demand: {@code ./mvnw test -Dtest=PassSimulationTest#soak -DpassSimulation.sequences=100000
     * [-DpassSimulation.seed=N]}. Each sequence's seed is the first seed plus its index, so a failure names its own.
     */
    @org.junit.jupiter.api.Test
    void soak() {
        int sequences = Integer.getInteger("passSimulation.sequences", 0);
        org.junit.jupiter.api.Assumptions.assumeTrue(sequences > 0, "set -DpassSimulation.sequences=N to soak");
        long first = Long.getLong("passSimulation.seed", new Random().nextLong());
        System.out.printf("pass simulation soak: %d sequences from seed %d%n", sequences, first);
        for (int i = 0; i < sequences; i++) {
            new Simulation(first + i).run(STEPS);
        }
    }

    /** Replays one sequence: {@code ./mvnw test -Dtest=PassSimulationTest#replay -DpassSimulation.replay=SEED}. */
    @org.junit.jupiter.api.Test
    void replay() {
        String seed = System.getProperty("passSimulation.replay");
        org.junit.jupiter.api.Assumptions.assumeTrue(seed != null, "set -DpassSimulation.replay=SEED to replay one sequence");
        new Simulation(Long.parseLong(seed)).run(STEPS);
    }

    /**
     * The simulation reaches what it must check: a test that never gets to Live, a stop or a re-arm could not fail.
     */
    @org.junit.jupiter.api.Test
    void theSimulationReachesEveryKindOfPass() {
        Map<String, Integer> reached = new java.util.TreeMap<>();
        for (long seed = 1; seed <= 300; seed++) {
            Simulation s = new Simulation(seed);
            s.run(STEPS);
            s.reached.forEach(k -> reached.merge(k, 1, Integer::sum));
        }
        assertThat(reached).as("sequences that reached each kind of pass").containsKeys("START Live", "HOLD Live", "CONTINUE Live",
                "STOP", "STOPPED", "REARMED", "BREAKER_TRIPPED", "AwaitingApproval", "GuardsNotPassing", "TransitionTimedOut", "drift",
                "held back");
    }

    /** One trading system: a policy, its workloads and their pods, the stops in force, the clock. */
    static final class Simulation {
        final long seed;
        final Random random;
        final ExecutionPolicy policy = new ExecutionPolicy();
        final List<SimWorkload> workloads = new ArrayList<>();
        final List<Latch.Trigger> triggers = new ArrayList<>();
        /** The kill switch's ledger: the triggers of the stop under way, until released. */
        Optional<List<Latch.Trigger>> underWay = Optional.empty();
        Instant now = Instant.parse("2026-03-02T14:00:00Z");
        boolean admissionInstalled;
        boolean guardPasses = true;
        int step;
        final List<String> trace = new ArrayList<>();
        /** Kinds of pass this sequence reached (for the test that the simulation reaches them). */
        final Set<String> reached = new java.util.HashSet<>();

        Simulation(long seed) {
            this.seed = seed;
            this.random = new Random(seed);
            policy.setMetadata(new ObjectMetaBuilder().withName("momentum").withNamespace("trading").withUid("uid-1").withGeneration(1L)
                    .withAnnotations(new HashMap<>(Map.of(MetadataNames.REQUESTED_BY_ANNOTATION, "trader"))).build());
            ExecutionPolicySpec spec = new ExecutionPolicySpec();
            spec.mode = ExecutionMode.DRY_RUN;
            spec.workloads = new ExecutionPolicySpec.Workloads();
            spec.transitionTimeout = random.nextBoolean() ? "5m" : "90s";
            spec.dryRunSoak = random.nextInt(3) == 0 ? "2m" : null;
            if (random.nextBoolean()) {
                var g = new ExecutionPolicySpec.Guard();
                g.name = "risk-gateway";
                g.type = ExecutionPolicySpec.GuardType.values()[0];
                spec.guards = List.of(g);
            }
            if (random.nextBoolean()) {
                spec.replicas = new ExecutionPolicySpec.ModeReplicas();
                spec.replicas.live = 1 + random.nextInt(3);
            }
            policy.setSpec(spec);
            admissionInstalled = random.nextInt(5) != 0;
            int n = 1 + random.nextInt(3);
            for (int i = 0; i < n; i++) {
                workloads.add(new SimWorkload(i % 2 == 0 ? ExecutionPolicySpec.WorkloadKind.DEPLOYMENT
                        : ExecutionPolicySpec.WorkloadKind.STATEFUL_SET, "w" + i, 1 + random.nextInt(3)));
            }
        }

        void run(int steps) {
            for (step = 0; step < steps; step++) {
                people();
                controllers();
                pass();
                now = now.plusSeconds(1 + random.nextInt(random.nextInt(4) == 0 ? 200 : 20));
            }
        }

        // ------------------------------------------------------------ what people do between passes

        void people() {
            int move = random.nextInt(20);
            ExecutionPolicySpec spec = policy.getSpec();
            Map<String, String> annotations = policy.getMetadata().getAnnotations();
            switch (move) {
                case 0, 1, 2 -> {
                    int pick = random.nextInt(6);
                    spec.mode = pick < 3 ? ExecutionMode.LIVE : pick < 5 ? ExecutionMode.DRY_RUN : ExecutionMode.BACKTEST;
                    policy.getMetadata().setGeneration(policy.getMetadata().getGeneration() + 1);
                    annotations.remove(MetadataNames.APPROVALS_ANNOTATION);
                    say("mode " + spec.mode);
                }
                case 3 -> {
                    Latch.Scope scope = Latch.Scope.values()[random.nextInt(3)];
                    triggers.add(new Latch.Trigger(scope, scope + "/x", "x", "risk breach", Optional.of("risk-officer")));
                    say("stop " + scope);
                }
                case 4, 5 -> {
                    if (!triggers.isEmpty()) {
                        triggers.remove(random.nextInt(triggers.size()));
                        say("stop removed");
                    }
                }
                case 6, 7 -> {
                    var es = policy.getStatus() == null ? null : policy.getStatus().emergencyStop;
                    long epoch = es == null || es.epoch == null ? 0 : es.epoch + (random.nextInt(5) == 0 ? -1 : 0);
                    annotations.put(MetadataNames.REARMED_BY_ANNOTATION, "risk-officer " + epoch);
                    say("re-arm " + epoch);
                }
                case 8, 9, 10, 11 -> {
                    var approval = policy.getStatus() == null ? null : policy.getStatus().approval;
                    if (approval != null && approval.token != null) {
                        String user = random.nextInt(6) == 0 ? "trader" : APPROVERS.get(random.nextInt(APPROVERS.size()));
                        String token = random.nextInt(8) == 0 ? "stale-token" : approval.token;
                        annotations.merge(MetadataNames.APPROVALS_ANNOTATION, user + " " + token, (a, b) -> a + "\n" + b);
                        say("approve " + user);
                    }
                }
                case 12 -> {
                    SimWorkload w = workloads.get(random.nextInt(workloads.size()));
                    w.replicas = random.nextInt(4);
                    w.handScaled = true;
                    say("hand-scale " + w.name + " to " + w.replicas);
                }
                case 13 -> {
                    guardPasses = !guardPasses;
                    say("guard passes " + guardPasses);
                }
                case 14 -> {
                    SimWorkload w = workloads.get(random.nextInt(workloads.size()));
                    w.pods.stream().filter(p -> !p.terminating).findAny().ifPresent(p -> p.restarts++);
                    say("crash loop in " + w.name);
                }
                default -> {
                }
            }
        }

        /** Workload controllers and kubelets, a step behind: pods start in the template's mode and leave some time later. */
        void controllers() {
            for (SimWorkload w : workloads) {
                w.pods.removeIf(p -> p.terminating && random.nextInt(3) != 0);
                long running = w.pods.stream().filter(p -> !p.terminating).count();
                if (running > w.replicas) {
                    w.pods.stream().filter(p -> !p.terminating).limit(running - w.replicas).forEach(p -> p.terminating = true);
                } else if (running < w.replicas && random.nextInt(4) != 0) {
                    Optional<ExecutionMode> mode = w.templateMode;
                    // The promise of stop-then-start, checked where it matters: no pod starts in one mode while a pod of
                    // another runs anywhere in the system (unless a person scaled it by hand since).
                    if (!w.handScaled) {
                        for (SimWorkload other : workloads) {
                            for (SimPod p : other.pods) {
                                assertThat(p.mode).as(where("a pod of %s starts while %s runs a pod in %s", w.name, other.name, p.mode))
                                        .isEqualTo(mode);
                            }
                        }
                    }
                    w.pods.add(new SimPod(mode));
                }
                w.counted = random.nextInt(6) == 0 ? -1 : (int) w.pods.stream().filter(p -> !p.terminating).count();
            }
        }

        // ------------------------------------------------------------ one pass, as the reconciler runs it

        void pass() {
            List<String> missing = admissionInstalled ? List.of() : List.of("ValidatingAdmissionPolicy execution-safety-identity");
            // As the reconciler reads: whether admission control is installed only when a re-arm or an escalation needs it.
            List<String> rearmMissing = PassPlanner.rearmPending(policy) ? missing : List.of();
            Latch.State before = PassPlanner.latch(policy, triggers, underWay, rearmMissing);
            Optional<Observation.StopProgress> stop = Optional.empty();
            if (before.stopped()) {
                // The kill switch zeroes every target before the pass reads anything else.
                if (underWay.isEmpty()) {
                    underWay = Optional.of(List.copyOf(triggers));
                }
                workloads.forEach(w -> w.replicas = 0);
                stop = Optional.of(new Observation.StopProgress(now, Optional.of(Duration.ofMillis(40)), List.of(), Optional.of(List.of())));
            }
            Observation o = new Observation(copy(policy), triggers, underWay, stop, List.of(), rearmMissing,
                    new Actuator.Resolution(workloads.stream().map(SimWorkload::observed).toList(), List.of()), Optional.empty(), now);
            if (PassPlanner.escalating(o)) {
                List<GuardRunner.Evaluated> guards = policy.getSpec().guards == null || before.latched() ? List.of()
                        : List.of(new GuardRunner.Evaluated("risk-gateway", policy.getSpec().guards.get(0).type,
                                guardPasses ? GuardOutcome.pass("ok") : GuardOutcome.fail("limit breached"), Duration.ofMillis(3), now));
                o = o.withEscalation(new Observation.EscalationReads(Optional.empty(), guards), missing);
            }
            PassPlan plan = PLANNER.plan(o);
            check(o, plan);

            // Act: release, writes through the gate, some refused by the API server.
            if (plan.release().isPresent()) {
                underWay = Optional.empty();
            }
            List<String> failures = new ArrayList<>();
            int again = 0;
            if (random.nextInt(25) == 0) {
                // A stop arrives between the plan and its writes: the kill switch zeroes, and its gate holds back what
                // would scale up.
                triggers.add(new Latch.Trigger(Latch.Scope.Namespace, "Namespace/trading", "namespace trading", "mid-pass",
                        Optional.empty()));
                underWay = Optional.of(List.copyOf(triggers));
                workloads.forEach(w -> w.replicas = 0);
                say("stop arrives mid-pass");
            }
            for (Convergence.Write write : plan.writes()) {
                SimWorkload w = workloads.stream().filter(x -> x.name.equals(write.workload().name())).findFirst().orElseThrow();
                if (write.replicas() > 0 && underWay.isPresent()) {
                    again++;
                    continue;
                }
                if (random.nextInt(15) == 0) {
                    failures.add("could not write " + write.workload().id() + ": the server is unavailable");
                    continue;
                }
                w.replicas = write.replicas();
                w.templateMode = write.templateMode();
                w.handScaled = false;
            }
            Report report = plan.report(new PassPlan.Outcome(failures, again, Optional.empty()));
            checkReport(plan, report);
            assertThat(JSON.asJson(PLANNER.plan(o).report(new PassPlan.Outcome(failures, again, Optional.empty())).status()))
                    .as(where("a plan is a function of its observation")).isEqualTo(JSON.asJson(report.status()));
            policy.setStatus(report.status());
            plan.decision().target().ifPresent(t -> reached.add(plan.decision().action() + " " + t));
            reached.add(plan.decision().action().name());
            reached.add(plan.latch().change().name());
            reached.add(plan.decision().reason().name());
            if (!plan.decision().isTransition() && !plan.writes().isEmpty()) {
                reached.add("drift");
            }
            if (again > 0) {
                reached.add("held back");
            }
            trace.add(step + ": " + plan.decision().action() + " " + plan.decision().target().orElse(null) + " " + plan.convergence().step()
                    + " latch=" + plan.latch().change() + " phase=" + report.status().phase);
        }

        // ------------------------------------------------------------ the promises of one pass

        void check(Observation o, PassPlan plan) {
            List<ObservedWorkload> seen = o.targets().workloads();
            for (Convergence.Write write : plan.writes()) {
                if (write.replicas() > 0) {
                    ExecutionMode mode = write.templateMode().orElse(null);
                    assertThat(mode).as(where("a scale-up names its mode")).isNotNull();
                    for (ObservedWorkload w : seen) {
                        assertThat(w.podsNotIn(mode)).as(where("%s scaled up in %s while %s has pods of another mode", write.workload().id(),
                                mode, w.id())).isZero();
                        if (w.templateMode().orElse(null) != mode) {
                            assertThat(w.replicas()).as(where("%s scaled up in %s while %s is not at zero", write.workload().id(), mode,
                                    w.id())).isZero();
                        }
                    }
                }
                if (plan.latch().stopped() || !o.triggers().isEmpty()) {
                    assertThat(write.replicas()).as(where("a stopped policy's plan writes %s", write.why())).isZero();
                    assertThat(write.templateMode()).as(where("a stop leaves templates as they are")).isEqualTo(write.workload().templateMode());
                }
                if (write.templateMode().orElse(null) == ExecutionMode.LIVE && write.workload().templateMode().orElse(null) != ExecutionMode.LIVE) {
                    assertThat(plan.decision().target()).as(where("a template is configured for Live only on the way to Live"))
                            .contains(ExecutionMode.LIVE);
                    assertThat(plan.decision().isTransition()).as(where("configuring Live is part of a transition")).isTrue();
                }
            }
            if (!o.triggers().isEmpty()) {
                assertThat(plan.latch().stopped()).as(where("a stop in force latches")).isTrue();
                assertThat(plan.decision().action()).as(where("a stop in force decides STOP")).isEqualTo(Action.STOP);
            }
            if (plan.decision().action() == Action.START && plan.decision().target().orElse(null) == ExecutionMode.LIVE
                    && plan.decision().reason() != io.marketintel.safety.policy.Reason.TransitionTimedOut) {
                assertThat(plan.approvals().valid()).as(where("Live starts only with its approvals"))
                        .isGreaterThanOrEqualTo(Math.max(2, plan.approvals().required()));
                assertThat(admissionInstalled).as(where("approvals count only with admission control")).isTrue();
                assertThat(plan.guardProblems()).as(where("Live starts only with its guards passing")).isEmpty();
                assertThat(plan.latch().latched()).as(where("nothing escalates while latched")).isFalse();
                Set<String> counted = new LinkedHashSet<>(plan.approvals().counted());
                assertThat(counted).as(where("the requester never approves their own change")).doesNotContain("trader");
                assertThat(counted).as(where("approvers are distinct")).hasSize(plan.approvals().counted().size());
            }
            if (plan.latch().latched() || plan.decision().target().orElse(null) != ExecutionMode.LIVE) {
                assertThat(plan.fenceUp()).as(where("the egress fence stays up outside Live")).isTrue();
            }
        }

        void checkReport(PassPlan plan, Report report) {
            ExecutionPolicyStatus s = report.status();
            for (String type : List.of(Conditions.READY, Conditions.RECONCILING, Conditions.STALLED, Conditions.APPROVED,
                    Conditions.GUARDS_PASSED, Conditions.EMERGENCY_STOPPED)) {
                assertThat(Conditions.find(s.conditions, type)).as(where("condition %s is always reported", type)).isPresent();
            }
            if (Conditions.isTrue(s.conditions, Conditions.READY)) {
                assertThat(s.mode).as(where("Ready means the wanted mode is reached")).isEqualTo(policy.getSpec().mode);
                assertThat(plan.latch().latched()).as(where("Ready is never reported while latched")).isFalse();
            }
            boolean stopped = plan.latch().stopped() || plan.decision().action() == Action.STOP;
            // A stop is done only when the pods are gone (issue 20): Stopping until then, EmergencyStopped after.
            long podsLeft = plan.observed().targets().workloads().stream().mapToLong(w -> w.podModes().size()).sum()
                    + plan.observed().targets().strays().size();
            boolean stopping = plan.decision().action() == Action.STOP && !plan.convergence().converged();
            assertThat(s.phase == ExecutionPolicyStatus.Phase.EmergencyStopped || s.phase == ExecutionPolicyStatus.Phase.Stopping)
                    .as(where("phase EmergencyStopped or Stopping exactly while stopped")).isEqualTo(stopped);
            assertThat(s.phase == ExecutionPolicyStatus.Phase.Stopping).as(where("phase Stopping exactly while pods of a stop remain"))
                    .isEqualTo(stopped && stopping);
            if (s.phase == ExecutionPolicyStatus.Phase.EmergencyStopped) {
                assertThat(podsLeft).as(where("never EmergencyStopped while a pod of the system exists")).isZero();
            }
            assertThat(ExecutionPolicyStatus.STOPPED.equals(s.effective) || ExecutionPolicyStatus.STOPPING.equals(s.effective))
                    .as(where("EFFECTIVE says Stopped or Stopping exactly while stopped")).isEqualTo(stopped);
            assertThat(Conditions.isTrue(s.conditions, Conditions.EMERGENCY_STOPPED)).as(where("EmergencyStopped while latched"))
                    .isEqualTo(plan.latch().latched());
            assertThat(s.history == null ? 0 : s.history.size()).as(where("history is bounded")).isLessThanOrEqualTo(StatusWriter.HISTORY_LIMIT);
            if (s.emergencyStop != null && plan.latch().stopped()) {
                assertThat(s.emergencyStop.active).as(where("the stop record is active while stopped")).isTrue();
                assertThat(s.emergencyStop.epoch).as(where("the stop record names the epoch")).isEqualTo(plan.latch().epoch());
            }
            assertThat(report.resync()).as(where("always looks again")).isPositive();
        }

        private String where(String what, Object... args) {
            return "seed " + seed + ", step " + step + ": " + String.format(what, args) + "\ntrace:\n  " + String.join("\n  ", trace);
        }

        private void say(String what) {
            trace.add(step + ": " + what);
        }

        private static ExecutionPolicy copy(ExecutionPolicy p) {
            return JSON.clone(p);
        }
    }

    static final class SimWorkload {
        final ExecutionPolicySpec.WorkloadKind kind;
        final String name;
        int replicas;
        final int original;
        Optional<ExecutionMode> templateMode = Optional.empty();
        final List<SimPod> pods = new ArrayList<>();
        int counted;
        boolean handScaled;
        int version;

        SimWorkload(ExecutionPolicySpec.WorkloadKind kind, String name, int replicas) {
            this.kind = kind;
            this.name = name;
            this.replicas = replicas;
            this.original = replicas;
            for (int i = 0; i < replicas; i++) {
                pods.add(new SimPod(Optional.empty()));
            }
            counted = replicas;
        }

        ObservedWorkload observed() {
            List<Optional<ExecutionMode>> modes = pods.stream().map(p -> p.mode).toList();
            int ready = (int) pods.stream().filter(p -> !p.terminating && p.mode.equals(templateMode)).count();
            List<String> crashes = pods.stream().filter(p -> p.restarts > 0).map(p -> name + "-pod/app restart " + p.restarts).toList();
            return new ObservedWorkload(kind, name, templateMode, replicas, Math.min(ready, replicas), Optional.of(original), modes,
                    List.of("app"), List.of("registry.example/app:1"), crashes, counted, Integer.toString(++version));
        }
    }

    static final class SimPod {
        final Optional<ExecutionMode> mode;
        boolean terminating;
        int restarts;

        SimPod(Optional<ExecutionMode> mode) {
            this.mode = mode;
        }
    }
}
