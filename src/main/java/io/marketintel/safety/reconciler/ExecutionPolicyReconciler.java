package io.marketintel.safety.reconciler;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

import org.jboss.logging.Logger;
import org.jboss.logging.MDC;

import io.quarkiverse.operatorsdk.annotations.RBACRule;
import io.quarkiverse.operatorsdk.annotations.RBACVerbs;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.filter.OnUpdateFilter;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.marketintel.safety.actuation.Convergence;
import io.marketintel.safety.admission.AdmissionControl;
import io.marketintel.safety.guard.GuardContext;
import io.marketintel.safety.killswitch.CircuitBreaker;
import io.marketintel.safety.killswitch.EgressFences;
import io.marketintel.safety.killswitch.KillSwitch;
import io.marketintel.safety.leadership.Leadership;
import io.marketintel.safety.killswitch.Latch;
import io.marketintel.safety.killswitch.Stop;
import io.marketintel.safety.killswitch.StopExecutor;
import io.marketintel.safety.killswitch.StopWatcher;
import io.marketintel.safety.killswitch.WriteGate;
import io.marketintel.safety.guard.GuardRunner;
import io.marketintel.safety.api.v1alpha1.ExecutionSafety;
import io.marketintel.safety.actuation.Markers;
import io.marketintel.safety.actuation.Relevance;
import io.marketintel.safety.cache.WithoutManagedFields;
import io.marketintel.safety.actuation.WorkloadState;
import io.marketintel.safety.actuation.Workloads;
import io.marketintel.safety.api.v1alpha1.Durations;
import io.marketintel.safety.api.v1alpha1.Timestamps;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus.Phase;
import io.marketintel.safety.observability.EventRecorder;
import io.marketintel.safety.observability.PolicyMetrics;
import io.marketintel.safety.policy.Decision;
import io.marketintel.safety.policy.Decision.Action;
import io.marketintel.safety.policy.GuardVerdict;
import io.marketintel.safety.policy.InFlight;
import io.marketintel.safety.policy.TransitionInput;
import io.marketintel.safety.policy.TransitionRules;
import io.marketintel.safety.status.Conditions;
import io.marketintel.safety.status.PrintableText;

/**
 * Read → decide → act → report for one {@link ExecutionPolicy}:
 * <ol>
 * <li>read the targets and their pods ({@link Workloads});</li>
 * <li>decide the next move with the pure {@link TransitionRules};</li>
 * <li>act: converge the targets stop-then-start ({@link Convergence}) with server-side apply;</li>
 * <li>report: status (effective mode, transition step, per-workload state, history, conditions), one
 * Event and one log line per decision.</li>
 * </ol>
 * Everything needed to resume lives in status and on the workloads, so a restarted operator picks up
 * any step where it was.
 */
@ControllerConfiguration(name = ExecutionPolicyReconciler.NAME, informer = @Informer(itemStore = WithoutManagedFields.class))
// Least privilege beyond the policy itself: read and server-side-apply workloads (never create or
// delete them), watch pods, create Events. Every verb is needed by some e2e suite (e2e/rbac-mutations.sh).
@RBACRule(apiGroups = "apps", resources = { "deployments", "statefulsets" }, verbs = { RBACVerbs.GET, RBACVerbs.LIST,
        RBACVerbs.WATCH, RBACVerbs.PATCH })
@RBACRule(apiGroups = "", resources = "pods", verbs = { RBACVerbs.LIST, RBACVerbs.WATCH })
@RBACRule(apiGroups = "", resources = "events", verbs = RBACVerbs.CREATE)
// Cluster settings, and whether the admission policies that make approvals trustworthy are installed.
@RBACRule(apiGroups = ExecutionPolicy.GROUP, resources = "executionsafeties", verbs = { RBACVerbs.GET, RBACVerbs.LIST, RBACVerbs.WATCH })
// The status of ExecutionSafety/global: the cluster-wide stop for kubectl get xsafety (ClusterStatus; server-side apply).
@RBACRule(apiGroups = ExecutionPolicy.GROUP, resources = "executionsafeties/status", verbs = RBACVerbs.PATCH)
// Guards: namespace labels (environment rules), ConfigMaps and Secrets a Configuration guard names.
@RBACRule(apiGroups = "", resources = { "namespaces", "configmaps", "secrets" }, verbs = RBACVerbs.GET)
// The egress fence of non-Live modes (owned by its policy, so deleting the policy removes it).
@RBACRule(apiGroups = "networking.k8s.io", resources = "networkpolicies", verbs = { RBACVerbs.LIST, RBACVerbs.WATCH,
        RBACVerbs.CREATE, RBACVerbs.PATCH, RBACVerbs.DELETE })
// Leader election between replicas (only the leader reconciles).
@RBACRule(apiGroups = "coordination.k8s.io", resources = "leases", verbs = { RBACVerbs.GET, RBACVerbs.CREATE, RBACVerbs.UPDATE,
        RBACVerbs.PATCH })
// The kill switch watches Namespaces for the stop annotation.
@RBACRule(apiGroups = "", resources = "namespaces", verbs = { RBACVerbs.LIST, RBACVerbs.WATCH })
@RBACRule(apiGroups = "admissionregistration.k8s.io", resources = { "validatingadmissionpolicies",
        "validatingadmissionpolicybindings", "mutatingadmissionpolicies", "mutatingadmissionpolicybindings" }, verbs = RBACVerbs.GET)
public class ExecutionPolicyReconciler implements Reconciler<ExecutionPolicy> {
    public static final String NAME = "executionpolicy";
    /** Re-decide at once: a transition just completed and the wanted mode may be further on. */
    static final Duration NEXT_DECISION = Duration.ofMillis(100);
    /** Targets are moving: poll besides the pod and workload events (see {@link #busyResync}). */
    static final Duration BUSY_RESYNC = Duration.ofSeconds(2);
    /** The slowest poll of a long transition: events still wake the policy at once. */
    static final Duration BUSY_RESYNC_MAX = Duration.ofSeconds(15);
    /** Waiting on a person or on time (soak): re-evaluate now and then. */
    static final Duration STALLED_RESYNC = Duration.ofSeconds(10);
    /** Steady: drift is caught by events, this is the safety net. */
    static final Duration IDLE_RESYNC = Duration.ofSeconds(60);
    static final int HISTORY_LIMIT = 20;
    private static final Logger LOG = Logger.getLogger(ExecutionPolicyReconciler.class);

    private final Clock clock;
    private final KubernetesSerialization serialization;
    private final Workloads workloads;
    private final EventRecorder events;
    private final KubernetesClient client;
    private final AdmissionControl admission;
    private final GuardRunner guardRunner;
    private final StopWatcher stopWatcher;
    private final StopExecutor stopExecutor;
    private final WriteGate writeGate;
    private final EgressFences fences;
    private final PolicyMetrics metrics;
    private final Leadership leadership;

    public ExecutionPolicyReconciler(Clock clock, KubernetesSerialization serialization, Workloads workloads,
            EventRecorder events, KubernetesClient client, AdmissionControl admission, GuardRunner guardRunner,
            StopWatcher stopWatcher, StopExecutor stopExecutor, WriteGate writeGate, EgressFences fences, PolicyMetrics metrics,
            Leadership leadership) {
        this.leadership = leadership;
        this.client = client;
        this.metrics = metrics;
        this.fences = fences;
        this.stopWatcher = stopWatcher;
        this.stopExecutor = stopExecutor;
        this.writeGate = writeGate;
        this.guardRunner = guardRunner;
        this.admission = admission;
        this.clock = clock;
        this.serialization = serialization;
        this.workloads = workloads;
        this.events = events;
    }

    /**
     * Workloads carry the policy label once configured: a change to one that {@link Relevance} says could
     * alter what the policy observes wakes it. Pods wake it through the kill switch, whose informer already
     * holds every labelled pod (one cache and one watch of pods, not two).
     */
    @Override
    public List<EventSource<?, ExecutionPolicy>> prepareEventSources(EventSourceContext<ExecutionPolicy> context) {
        return List.of(labelled(Deployment.class, Relevance::deployment, context),
                labelled(StatefulSet.class, Relevance::statefulSet, context), stopWatcher.eventSource(),
                new InformerEventSource<>(EgressFences.eventSource(), context));
    }

    private static <R extends HasMetadata> EventSource<?, ExecutionPolicy> labelled(Class<R> type, OnUpdateFilter<R> relevant,
            EventSourceContext<ExecutionPolicy> context) {
        return new InformerEventSource<>(InformerEventSourceConfiguration.from(type, ExecutionPolicy.class)
                .withName(type.getSimpleName().toLowerCase())
                .withLabelSelector(Markers.POLICY_LABEL)
                .withOnUpdateFilter(relevant)
                .withItemStore(new WithoutManagedFields<>())
                .withSecondaryToPrimaryMapper(r -> Set.of(new ResourceID(
                        r.getMetadata().getLabels().get(Markers.POLICY_LABEL), r.getMetadata().getNamespace())))
                .build(), context);
    }

    @Override
    public UpdateControl<ExecutionPolicy> reconcile(ExecutionPolicy cached, Context<ExecutionPolicy> context) {
        Instant now = clock.instant();
        String ns = cached.getMetadata().getNamespace();
        String name = cached.getMetadata().getName();
        // Decisions depend on our own last status write (transition in flight, history). The informer cache
        // may not show it yet, so read the policy from the API server; the status patch below carries this
        // resourceVersion, so a patch computed from anything older is refused (409) and retried. (Reading the
        // cached copy instead was tried for throughput and is what TransitionIT's stale-copy test catches.)
        ExecutionPolicy policy = client.resources(ExecutionPolicy.class).inNamespace(ns).withName(name).get();
        if (policy == null) {
            return UpdateControl.noUpdate();
        }
        long generation = Optional.ofNullable(policy.getMetadata().getGeneration()).orElse(0L);
        ExecutionPolicySpec spec = policy.getSpec();
        ExecutionPolicyStatus before = policy.getStatus() == null ? new ExecutionPolicyStatus() : policy.getStatus();
        ExecutionPolicyStatus after = serialization.clone(before);
        String envVar = spec.modeInjection != null && spec.modeInjection.envVar != null ? spec.modeInjection.envVar
                : ExecutionPolicySpec.ModeInjection.DEFAULT_ENV_VAR;

        // Emergency stop first: zero replicas are written before any other read, guard or status write.
        ResourceID id = ResourceID.fromResource(policy);
        Latch.Recorded recorded = recorded(before);
        List<Latch.Trigger> triggers = stopWatcher.triggers(policy);
        Optional<Stop> seen = stopExecutor.stop(id);
        if (triggers.isEmpty() && !recorded.stopped() && seen.isPresent()) {
            triggers = seen.get().seen(); // set and removed before we looked: it still latches
        }
        List<String> latchProblems = new ArrayList<>();
        Optional<Latch.Rearm> rearm = rearm(policy, recorded, latchProblems);
        Latch.State latch = Latch.evaluate(triggers, false, rearm, recorded);
        Stop stop = latch.stopped() ? stopExecutor.stopNow(policy) : null;

        // Read.
        Workloads.Resolution targets = workloads.resolve(policy, envVar);
        List<String> problems = new ArrayList<>(targets.problems());

        // Decide.
        if (latch.change() == Latch.Change.REARMED) {
            rearmed(before, after, rearm.orElseThrow(), now);
            stopExecutor.released(id, latch.epoch());
        }
        ExecutionPolicySpec.CircuitBreaker breakerSpec = spec.circuitBreaker;
        int maxFailures = breakerSpec != null && breakerSpec.maxFailures != null ? breakerSpec.maxFailures : 3;
        Duration window = Inputs.duration(breakerSpec == null ? null : breakerSpec.window, "1h", "circuitBreaker.window", problems);
        List<CircuitBreaker.Failure> failures = latch.latched() ? new ArrayList<>() : new ArrayList<>(crashLoops(targets, now));
        after.emergencyStop = stopRecord(after.emergencyStop, latch, stop, rearm, now);

        ExecutionMode base = after.mode != null ? after.mode : ExecutionMode.BACKTEST;
        ExecutionMode desired = latch.breakerOpen() ? ExecutionMode.BACKTEST : spec.mode;
        // Approvals and guards, and the cluster settings they read, matter only for an escalation, never for
        // a de-escalation or a stop: no reads for them on the other passes. While stopped the approval token
        // of the new epoch is shown, so approvers can approve the resumption.
        boolean escalating = desired.isRiskierThan(base) && after.transition == null;
        ExecutionSafety global = escalating
                ? client.resources(ExecutionSafety.class).withName(ExecutionSafety.SINGLETON_NAME).get()
                : null;
        ApprovalView approvals = ApprovalView.of(policy, after, escalating, global,
                escalating && ApprovalView.required(spec, global) > 0 ? admission.missing() : List.of(), serialization, now);
        List<String> guardProblems = new ArrayList<>(escalating && !latch.latched()
                ? evaluateGuards(policy, base, targets, global, after, now) : List.of());
        if (escalating) {
            stopWatcher.blindSpots().forEach(b -> guardProblems.add("the kill switch cannot watch " + b));
        }
        Inputs inputs = Inputs.of(spec, desired, latch.stopped(), after, targets, approvals, guardProblems, now);
        Decision decision = TransitionRules.decide(inputs.input());
        if (decision.reason() == io.marketintel.safety.policy.Reason.TransitionTimedOut && decision.action() == Action.START
                && before.transition != null && !"TransitionTimedOut".equals(before.transition.trigger)) {
            failures.add(new CircuitBreaker.Failure("TransitionTimedOut " + before.transition.startedAt, now,
                    "TransitionTimedOut", decision.message()));
        }
        CircuitBreaker.Result breaker = CircuitBreaker.record(breakerFailures(latch.change() == Latch.Change.REARMED ? null : before),
                failures, now, window, maxFailures);
        if (!latch.latched() && breaker.trips()) {
            latch = Latch.evaluate(triggers, true, rearm, recorded);
            after.emergencyStop = stopRecord(after.emergencyStop, latch, stop, rearm, now);
            desired = ExecutionMode.BACKTEST;
            inputs = Inputs.of(spec, desired, false, after, targets, approvals, guardProblems, now);
            decision = TransitionRules.decide(inputs.input());
        }
        after.circuitBreaker = breakerRecord(after.circuitBreaker, latch, breaker, now);
        if (latch.change() == Latch.Change.STOPPED || latch.change() == Latch.Change.BREAKER_TRIPPED) {
            var h = new ExecutionPolicyStatus.TransitionRecord();
            h.from = before.mode;
            h.to = latch.change() == Latch.Change.STOPPED ? null : ExecutionMode.BACKTEST;
            h.at = now.toString();
            h.trigger = latch.change() == Latch.Change.STOPPED ? "EmergencyStop" : "CircuitBreakerTripped";
            h.outcome = latch.change() == Latch.Change.STOPPED ? "Stopped" : "Tripped";
            h.requester = latch.cause().flatMap(Latch.Trigger::by).orElse(null);
            after.history = prepend(after.history, h);
        }
        problems.addAll(inputs.problems());
        problems.addAll(latchProblems);

        // Act: the egress fence goes up before any pod can start in a non-Live mode; every write passes the
        // kill switch's gate, so nothing scales up once a stop is seen.
        ExecutionMode target = decision.target().orElse(null);
        Optional<NetworkPolicy> fence = context == null ? Optional.empty()
                : context.getSecondaryResources(NetworkPolicy.class).stream().findFirst();
        if (target != ExecutionMode.LIVE || latch.latched()) {
            fences.converge(policy, true, fence).ifPresent(problems::add);
        }
        Convergence.Plan plan = decision.action() == Action.STOP
                ? Convergence.toZero(targets.workloads())
                : Convergence.toMode(targets.workloads(), target, w -> Inputs.replicasFor(spec, target, w));
        List<String> writeFailures = new ArrayList<>();
        // Writes the kill switch held back, or refused because the workload changed since it was read: decide again at once.
        int decideAgain = 0;
        for (Convergence.Write write : plan.writes()) {
            try {
                if (!writeGate.write(id, write.replicas(), () -> workloads.apply(ns, name, envVar, write))) {
                    decideAgain++;
                }
            } catch (KubernetesClientException e) {
                if (e.getCode() == 409 && write.onlyIfUnchanged()) {
                    // Changed since this pass read it (someone scaled it): decide again from what is there.
                    LOG.infof("%s changed while %s/%s was deciding; deciding again", write.workload().id(), ns, name);
                    decideAgain++;
                    continue;
                }
                writeFailures.add("could not write " + write.workload().id() + ": "
                        + (e.getStatus() != null && e.getStatus().getMessage() != null ? e.getStatus().getMessage() : e.getMessage()));
            }
        }

        // The fence comes down only once every target runs Live, reached with guards and approvals.
        if (target == ExecutionMode.LIVE && !latch.latched()) {
            boolean live = decision.action() == Action.HOLD && plan.converged() && after.mode == ExecutionMode.LIVE;
            boolean arriving = decision.isTransition() && plan.converged() && writeFailures.isEmpty() && problems.isEmpty();
            if (live || arriving) {
                fences.converge(policy, false, fence).ifPresent(problems::add);
            } else {
                fences.converge(policy, true, fence).ifPresent(problems::add);
            }
        }

        // Report.
        boolean guardsRun = escalating && !latch.latched();
        int guardCount = spec.guards == null ? 0 : spec.guards.size();
        after.conditions = Conditions.set(after.conditions, Conditions.GUARDS_PASSED, !guardsRun || guardProblems.isEmpty(),
                !guardsRun ? "NotEvaluated" : guardProblems.isEmpty() ? "GuardsPassing" : "GuardsFailing",
                !guardsRun ? "guards run only before an escalation, and none is waiting"
                        : guardProblems.isEmpty() ? guardCount + " guard(s) pass for " + desired
                        : String.join("; ", guardProblems),
                generation, now);
        Report report = report(policy, before, after, decision, plan, problems, writeFailures, targets.workloads(),
                approvals, latch, desired, generation, now);
        announce(policy, before, after, decision, plan, report, latch, stop);
        // While latched the escalation waits on a re-arm, not on approvals.
        metrics.observe(ns, name, policy.getMetadata().getUid(), after, approvals.pending() && !latch.latched() ? approvals.required() - approvals.valid() : 0);

        Duration resync = report.completed() || decideAgain > 0 ? NEXT_DECISION
                : !writeFailures.isEmpty() ? BUSY_RESYNC
                : after.transition != null || !plan.converged()
                        ? busyResync(after.transition == null ? Duration.ZERO
                                : Duration.between(Timestamps.parse(after.transition.startedAt).orElse(now), now))
                        : Conditions.isTrue(after.conditions, Conditions.STALLED) ? STALLED_RESYNC : IDLE_RESYNC;
        ExecutionPolicyStatus written = printable(after);
        if (serialization.asJson(before).equals(serialization.asJson(written))) {
            return UpdateControl.<ExecutionPolicy> noUpdate().rescheduleAfter(resync);
        }
        ExecutionPolicy patch = new ExecutionPolicy();
        patch.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns)
                .withResourceVersion(policy.getMetadata().getResourceVersion()).build());
        patch.setStatus(written);
        return UpdateControl.patchStatus(patch).rescheduleAfter(resync);
    }

    /**
     * How soon to look again at targets that are moving, {@code elapsed} into the transition. Workload and
     * pod events wake the policy as they happen, so the poll is only a safety net for what sends no event
     * (an unlabelled pod of the workload before adoption finishing its termination): every 2 s at first,
     * then a quarter of the time elapsed, at most 15 s. A transition that waits on a slow rollout is not
     * re-read every 2 s for minutes, which with a thousand policies is most of the operator's work.
     */
    static Duration busyResync(Duration elapsed) {
        Duration quarter = elapsed.isNegative() ? Duration.ZERO : elapsed.dividedBy(4);
        return quarter.compareTo(BUSY_RESYNC) < 0 ? BUSY_RESYNC : quarter.compareTo(BUSY_RESYNC_MAX) > 0 ? BUSY_RESYNC_MAX : quarter;
    }

    /**
     * A reconcile that threw (the API server refused a read, say) still tells the user: Ready=False with
     * reason OperatorError and the message, besides the log. JOSDK retries with back-off; nothing is acted
     * on from a pass that failed.
     */
    @Override
    public io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl<ExecutionPolicy> updateErrorStatus(
            ExecutionPolicy policy, Context<ExecutionPolicy> context, Exception e) {
        if (leadership.shuttingDown()) {
            // Cut short by a normal stop (its thread interrupted): nothing is wrong with the policy, and everything
            // needed to go on is in status, where the next leader picks it up.
            LOG.infof("reconcile of %s/%s cut short by the shutdown; the next leader resumes it from status (%s)",
                    policy.getMetadata().getNamespace(), policy.getMetadata().getName(), e.getMessage());
            return io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl.noStatusUpdate();
        }
        if (e instanceof KubernetesClientException k && k.getCode() == 409) {
            // The policy changed between our read and our status write (an annotation, another writer): the
            // optimistic lock did its job. Retry from a fresh read; nothing is wrong, so nothing is reported.
            LOG.debugf("status of %s/%s changed under us; retrying", policy.getMetadata().getNamespace(), policy.getMetadata().getName());
            return io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl.noStatusUpdate();
        }
        ExecutionPolicyStatus status = policy.getStatus() == null ? new ExecutionPolicyStatus()
                : serialization.clone(policy.getStatus());
        long generation = Optional.ofNullable(policy.getMetadata().getGeneration()).orElse(0L);
        String message = String.valueOf(e.getMessage());
        if (e instanceof KubernetesClientException k && k.getStatus() != null && k.getStatus().getMessage() != null) {
            message = k.getStatus().getMessage();
        }
        message = message.length() > 1000 ? message.substring(0, 997) + "..." : message;
        status.conditions = Conditions.set(status.conditions, Conditions.READY, false, "OperatorError",
                "the operator could not reconcile this policy and will retry: " + message, generation, clock.instant());
        LOG.errorf(e, "reconcile of %s/%s failed", policy.getMetadata().getNamespace(), policy.getMetadata().getName());
        ExecutionPolicy patch = new ExecutionPolicy();
        patch.setMetadata(new ObjectMetaBuilder().withName(policy.getMetadata().getName())
                .withNamespace(policy.getMetadata().getNamespace()).build());
        patch.setStatus(printable(status));
        return io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl.patchStatus(patch);
    }

    /** The status with every text YAML refuses escaped ({@link PrintableText}): status is written with server-side apply. */
    private ExecutionPolicyStatus printable(ExecutionPolicyStatus status) {
        com.fasterxml.jackson.databind.JsonNode tree = serialization.convertValue(status, com.fasterxml.jackson.databind.JsonNode.class);
        return serialization.convertValue(PrintableText.everywhere(tree), ExecutionPolicyStatus.class);
    }

    /** Runs the policy's guards for the escalation from {@code from}; records results in status, returns the failures. */
    private List<String> evaluateGuards(ExecutionPolicy policy, ExecutionMode from, Workloads.Resolution targets,
            ExecutionSafety global, ExecutionPolicyStatus after, Instant now) {
        ExecutionPolicySpec spec = policy.getSpec();
        if (spec.guards == null || spec.guards.isEmpty()) {
            return List.of();
        }
        var namespace = client.namespaces().withName(policy.getMetadata().getNamespace()).get();
        var labels = namespace == null || namespace.getMetadata().getLabels() == null ? java.util.Map.<String, String> of()
                : namespace.getMetadata().getLabels();
        var results = guardRunner.evaluate(spec.guards.stream().map(g -> new GuardContext(policy, g, from, spec.mode,
                targets.workloads(), labels, Optional.ofNullable(global), now)).toList());
        after.guards = results.stream().map(r -> {
            var g = new ExecutionPolicyStatus.GuardResult();
            g.name = r.name();
            g.type = r.type() == null ? null : r.type().name();
            g.result = r.outcome().result().name();
            g.message = r.outcome().message();
            g.durationMillis = r.took().toMillis();
            g.evaluatedAt = r.at().toString();
            return g;
        }).toList();
        return results.stream().filter(r -> !r.passed())
                .map(r -> r.name() + " (" + r.type() + ", " + r.outcome().result() + "): " + r.outcome().message()).toList();
    }

    // ---------------------------------------------------------------- emergency stop and circuit breaker

    private static Latch.Recorded recorded(ExecutionPolicyStatus status) {
        var es = status.emergencyStop;
        return new Latch.Recorded(es != null && Boolean.TRUE.equals(es.active),
                status.circuitBreaker != null && "Open".equals(status.circuitBreaker.state),
                es != null && es.epoch != null ? es.epoch : 0);
    }

    /**
     * The re-arm recorded by the API server ({@code rearmed-by: "<user> <epoch>"}). Only read while latched,
     * and trusted only with the admission policies installed: without them anyone could have typed the name.
     */
    private Optional<Latch.Rearm> rearm(ExecutionPolicy policy, Latch.Recorded recorded, List<String> problems) {
        if (!recorded.stopped() && !recorded.breakerOpen()) {
            return Optional.empty();
        }
        String line = annotation(policy, KillSwitch.REARMED_BY_ANNOTATION);
        Optional<Latch.Rearm> rearm = Latch.parseRearm(line);
        if (line != null && rearm.isEmpty()) {
            problems.add(KillSwitch.REARMED_BY_ANNOTATION + " is not \"<user> <epoch>\": " + line);
        }
        if (rearm.isPresent() && rearm.get().epoch() == recorded.epoch()) {
            List<String> missing = admission.missing();
            if (!missing.isEmpty()) {
                problems.add("re-arm by " + rearm.get().user() + " not accepted: the admission policies that record who re-armed are missing: "
                        + String.join(", ", missing));
                return Optional.empty();
            }
        }
        return rearm;
    }

    /**
     * Released: resume at most DryRun, so Live needs guards and approvals of the new epoch again. Bringing the
     * targets back from zero is a transition of its own (trigger Rearmed), recorded in history when done.
     */
    private static void rearmed(ExecutionPolicyStatus before, ExecutionPolicyStatus after, Latch.Rearm rearm, Instant now) {
        ExecutionMode resumed = before.mode == ExecutionMode.LIVE ? ExecutionMode.DRY_RUN : before.mode;
        if (resumed == null) {
            after.transition = null; // stopped before it was ever adopted: adoption starts afresh
            return;
        }
        var t = new ExecutionPolicyStatus.Transition();
        t.from = before.mode;
        t.to = resumed;
        t.startedAt = now.toString();
        t.trigger = "Rearmed";
        t.requester = rearm.user();
        after.transition = t;
        after.mode = resumed;
        after.modeSince = now.toString(); // a DryRun soak restarts: time stopped is not time spent healthy
    }

    private static List<ExecutionPolicyStatus.TransitionRecord> prepend(List<ExecutionPolicyStatus.TransitionRecord> history,
            ExecutionPolicyStatus.TransitionRecord record) {
        List<ExecutionPolicyStatus.TransitionRecord> next = new ArrayList<>();
        next.add(record);
        if (history != null) {
            next.addAll(history.subList(0, Math.min(history.size(), HISTORY_LIMIT - 1)));
        }
        return next;
    }

    /** A container in CrashLoopBackOff is a circuit-breaker failure; each new restart is a new one. */
    private static List<CircuitBreaker.Failure> crashLoops(Workloads.Resolution targets, Instant now) {
        return targets.workloads().stream().flatMap(w -> w.crashLoops().stream()
                .map(c -> new CircuitBreaker.Failure("CrashLoop " + c, now, "CrashLoop", w.id() + ": " + c + " in CrashLoopBackOff")))
                .toList();
    }

    private static List<CircuitBreaker.Failure> breakerFailures(ExecutionPolicyStatus status) {
        if (status == null || status.circuitBreaker == null || status.circuitBreaker.failures == null) {
            return List.of();
        }
        return status.circuitBreaker.failures.stream().filter(f -> f.key != null)
                .map(f -> new CircuitBreaker.Failure(f.key, Timestamps.parse(f.at).orElse(Instant.EPOCH), f.reason, f.message))
                .toList();
    }

    private static ExecutionPolicyStatus.CircuitBreakerState breakerRecord(ExecutionPolicyStatus.CircuitBreakerState current,
            Latch.State latch, CircuitBreaker.Result breaker, Instant now) {
        if (current == null && breaker.recent().isEmpty() && !latch.breakerOpen()) {
            return null;
        }
        var b = new ExecutionPolicyStatus.CircuitBreakerState();
        b.state = latch.breakerOpen() ? "Open" : "Closed";
        b.openedAt = latch.change() == Latch.Change.BREAKER_TRIPPED ? now.toString()
                : latch.breakerOpen() && current != null ? current.openedAt : null;
        b.failures = breaker.recent().stream().map(f -> {
            var r = new ExecutionPolicyStatus.BreakerFailure();
            r.at = f.at().toString();
            r.reason = f.reason();
            r.message = f.message();
            r.key = f.key();
            return r;
        }).toList();
        return b;
    }

    /** status.emergencyStop: who, why, when, the epoch, the latency and the cancel-orders outcomes. */
    private static ExecutionPolicyStatus.EmergencyStop stopRecord(ExecutionPolicyStatus.EmergencyStop current, Latch.State latch,
            Stop stop, Optional<Latch.Rearm> rearm, Instant now) {
        if (current == null && latch.epoch() == 0 && !latch.stopped()) {
            return null;
        }
        var es = current == null ? new ExecutionPolicyStatus.EmergencyStop() : current;
        es.epoch = latch.epoch();
        es.active = latch.stopped();
        es.message = latch.message();
        if (latch.change() == Latch.Change.STOPPED) {
            Latch.Trigger cause = latch.cause().orElseThrow();
            es.scope = cause.scope().name();
            es.source = cause.object();
            es.reason = cause.reason();
            es.stoppedBy = cause.by().orElse(null);
            es.stoppedAt = (stop != null ? stop.seenAt() : now).toString();
            es.latencyMillis = null;
            es.cancelOrders = null;
            es.rearmedBy = null;
            es.rearmedAt = null;
        }
        if (latch.stopped() && stop != null) {
            if (es.latencyMillis == null) {
                stop.latency().ifPresent(l -> es.latencyMillis = l.toMillis());
            }
            stop.cancelOutcomes().filter(o -> !o.isEmpty()).ifPresent(outcomes -> es.cancelOrders = outcomes.stream().map(o -> {
                var c = new ExecutionPolicyStatus.CancelOrdersOutcome();
                c.pod = o.pod();
                c.result = o.result().name();
                c.message = o.message();
                c.durationMillis = o.durationMillis();
                return c;
            }).toList());
        }
        if (latch.change() == Latch.Change.REARMED) {
            es.rearmedBy = rearm.map(Latch.Rearm::user).orElse(null);
            es.rearmedAt = now.toString();
        }
        return es;
    }

    /** What changed in this pass, for Events and the decision log. */
    private record Report(boolean started, boolean completed) {
    }

    private Report report(ExecutionPolicy policy, ExecutionPolicyStatus before, ExecutionPolicyStatus after,
            Decision decision, Convergence.Plan plan, List<String> targetProblems, List<String> writeFailures,
            List<WorkloadState> observed, ApprovalView approvals, Latch.State latch, ExecutionMode desired, long generation,
            Instant now) {
        List<String> problems = new ArrayList<>(targetProblems);
        problems.addAll(writeFailures);
        after.observedGeneration = generation;
        after.workloads = observed.stream().map(w -> {
            var s = new ExecutionPolicyStatus.WorkloadState();
            s.kind = WorkloadState.kindName(w.kind());
            s.name = w.name();
            s.mode = w.templateMode().orElse(null);
            s.replicas = w.replicas();
            s.readyReplicas = w.readyReplicas();
            s.originalReplicas = w.originalReplicas().orElse(null);
            return s;
        }).toList();

        boolean started = false;
        if (decision.action() == Action.START) {
            started = before.transition == null || before.transition.to != decision.target().orElse(null);
            var t = new ExecutionPolicyStatus.Transition();
            t.from = decision.from().orElse(null);
            t.to = decision.target().orElseThrow();
            t.startedAt = started || before.transition == null ? now.toString() : before.transition.startedAt;
            t.trigger = decision.reason().name();
            if (started) {
                t.requester = annotation(policy, io.marketintel.safety.approval.ApprovalLine.REQUESTED_BY_ANNOTATION);
                t.approvers = approvals.counted().isEmpty() ? null : approvals.counted();
            } else if (before.transition != null) {
                t.requester = before.transition.requester;
                t.approvers = before.transition.approvers;
            }
            after.transition = t;
        } else if (decision.action() != Action.CONTINUE) {
            after.transition = null;
        }
        if (after.transition != null) {
            after.transition.step = plan.step().name();
        }
        boolean completed = false;
        if (decision.isTransition() && plan.converged() && problems.isEmpty()) {
            completed = true;
            var h = new ExecutionPolicyStatus.TransitionRecord();
            h.from = after.transition.from;
            h.to = after.transition.to;
            h.at = now.toString();
            h.trigger = after.transition.trigger;
            h.requester = after.transition.requester;
            h.approvers = after.transition.approvers;
            h.outcome = "TransitionTimedOut".equals(after.transition.trigger) ? "RolledBack" : "Succeeded";
            after.history = prepend(after.history, h);
            after.mode = after.transition.to;
            after.modeSince = now.toString();
            after.transition = null;
        }

        after.approval = approvals.state().orElse(null);
        after.conditions = Conditions.set(after.conditions, Conditions.APPROVED,
                !approvals.pending() || approvals.valid() >= approvals.required(),
                !approvals.pending() ? "NotRequired" : approvals.admissionMissing() ? "AdmissionControlMissing"
                        : approvals.valid() >= approvals.required() ? "ApprovalsComplete" : "AwaitingApproval",
                approvals.summary(), generation, now);

        boolean stalled = decision.action() == Action.REFUSE || !problems.isEmpty() || latch.latched();
        boolean reconciling = after.transition != null || !plan.converged();
        boolean ready = !stalled && !reconciling && after.mode == policy.getSpec().mode;
        String stalledReason = latch.stopped() ? "EmergencyStopped" : latch.breakerOpen() ? "CircuitBreakerOpen"
                : !targetProblems.isEmpty() ? "TargetsNotUsable"
                : !writeFailures.isEmpty() ? "ActuationFailed" : decision.reason().name();
        String stalledMessage = latch.latched() ? latchMessage(latch, after, policy)
                + (problems.isEmpty() ? "" : "; also: " + String.join("; ", problems))
                : !problems.isEmpty() ? String.join("; ", problems)
                : decision.action() == Action.REFUSE ? refusal(decision, approvals) : decision.message();
        String reconcilingReason = after.transition != null ? after.transition.trigger
                : !plan.converged() ? "CorrectingDrift" : "Converged";

        after.conditions = Conditions.set(after.conditions, Conditions.STALLED, stalled,
                stalled ? stalledReason : "NotStalled", stalled ? stalledMessage : "nothing needs a person", generation, now);
        after.conditions = Conditions.set(after.conditions, Conditions.RECONCILING, reconciling, reconcilingReason,
                reconciling ? (after.transition != null ? decision.message() + "; " : "") + plan.message()
                        : "no transition in progress",
                generation, now);
        after.conditions = Conditions.set(after.conditions, Conditions.READY, ready,
                ready ? "InDesiredMode" : stalled ? stalledReason : reconcilingReason,
                ready ? "every target runs in " + desired : stalled ? stalledMessage : plan.message(), generation, now);
        after.conditions = Conditions.set(after.conditions, Conditions.EMERGENCY_STOPPED, latch.latched(),
                latch.stopped() ? latch.cause().map(c -> c.scope().name() + "Stop").orElse("Latched")
                        : latch.breakerOpen() ? "CircuitBreakerOpen" : "NotStopped",
                latchMessage(latch, after, policy) + (stopWatcher.blindSpots().isEmpty() ? ""
                        : "; the kill switch cannot watch " + String.join("; ", stopWatcher.blindSpots())),
                generation, now);

        boolean held = decision.action() == Action.STOP || latch.stopped();
        after.effective = effective(after.mode, held);
        if (held) {
            after.phase = Phase.EmergencyStopped;
        } else if (stalled && decision.action() == Action.REFUSE
                && decision.reason() == io.marketintel.safety.policy.Reason.AwaitingApproval) {
            after.phase = Phase.AwaitingApproval;
        } else if (stalled) {
            after.phase = observed.isEmpty() ? Phase.Failed : Phase.Blocked;
        } else if (reconciling) {
            after.phase = Phase.Transitioning;
        } else {
            after.phase = ready ? Phase.Active : Phase.Pending;
        }
        return new Report(started, completed);
    }

    /**
     * What runs, for people ({@code status.effective}, the EFFECTIVE column): {@code Stopped} while an emergency stop
     * holds every target at zero, else the effective mode ({@code status.mode}, which keeps the mode the targets
     * resume from); nothing before the first mode is reached.
     */
    static String effective(ExecutionMode mode, boolean stopped) {
        return stopped ? ExecutionPolicyStatus.STOPPED : mode == null ? null : mode.wireName();
    }

    /** One Event and one log line per decision: a new transition, a completion, a refusal, a drift fix. */
    private void announce(ExecutionPolicy policy, ExecutionPolicyStatus before, ExecutionPolicyStatus after,
            Decision decision, Convergence.Plan plan, Report report, Latch.State latch, Stop stop) {
        List<String[]> said = new ArrayList<>();
        switch (latch.change()) {
            case STOPPED -> {
                stopExecutor.counted(latch.cause().map(Latch.Trigger::scope).orElse(Latch.Scope.Policy));
                said.add(new String[] { "Warning", "EmergencyStopped", latch.message() + "; every target written to zero replicas"
                        + (stop == null ? "" : stop.latency().map(l -> " in " + l.toMillis() + " ms").orElse(""))
                        + (stop == null || stop.failures().isEmpty() ? "" : "; not yet written: " + String.join("; ", stop.failures())) });
            }
            case BREAKER_TRIPPED -> said.add(new String[] { "Warning", "CircuitBreakerTripped", latch.message() + ": "
                    + String.join("; ", after.circuitBreaker.failures.stream().map(f -> f.message).toList()) });
            case REARMED -> said.add(new String[] { "Normal", "Rearmed", Sentences.rearmed(latch.message(), before.mode, after.mode) });
            case NONE -> {
            }
        }
        if (report.started()) {
            metrics.transition(decision.from().orElse(null), decision.target().orElse(null), "Started");
            said.add(new String[] { decision.reason() == io.marketintel.safety.policy.Reason.TransitionTimedOut ? "Warning" : "Normal",
                    decision.reason().name(), decision.message() });
        }
        if (!decision.isTransition() && !plan.writes().isEmpty()) {
            said.add(new String[] { "Warning", "DriftCorrected",
                    "targets drifted from " + decision.target().map(ExecutionMode::wireName).orElse("zero replicas") + ": "
                            + String.join("; ", plan.writes().stream().map(Convergence.Write::why).toList()) });
        }
        if (report.completed()) {
            var done = after.history.get(0);
            metrics.transition(done.from, done.to, done.outcome);
            said.add(new String[] { "Normal", "TransitionCompleted", Sentences.completed(done.from, done.to, done.trigger, done.requester) });
        }
        var stalledBefore = Conditions.find(before.conditions, Conditions.STALLED);
        var stalledAfter = Conditions.find(after.conditions, Conditions.STALLED).orElseThrow();
        if (Conditions.TRUE.equals(stalledAfter.getStatus()) && !latch.latched() && (stalledBefore.isEmpty()
                || !Objects.equals(stalledBefore.get().getStatus(), stalledAfter.getStatus())
                || !Objects.equals(stalledBefore.get().getMessage(), stalledAfter.getMessage()))) {
            said.add(new String[] { "Warning", stalledAfter.getReason(), stalledAfter.getMessage() });
            if (decision.action() == Action.REFUSE) {
                metrics.transition(decision.target().orElse(null), policy.getSpec().mode, "Refused");
            }
        }
        for (String[] e : said) {
            if ("Warning".equals(e[0])) {
                events.warning(policy, e[1], e[2]);
            } else {
                events.normal(policy, e[1], e[2]);
            }
            decisionLog(policy, decision, e[1], e[2]);
        }
    }

    /** Why the latch holds and the exact commands that end it. */
    private static String latchMessage(Latch.State latch, ExecutionPolicyStatus after, ExecutionPolicy policy) {
        var es = after.emergencyStop;
        // Who and why stay in front on every pass, not only on the pass that latched the stop.
        String head = latch.stopped() && latch.change() != Latch.Change.STOPPED && es != null && es.source != null
                ? "emergency stop on " + es.source + (es.stoppedBy == null ? "" : " by " + es.stoppedBy) + ": " + es.reason + "; "
                : "";
        if (!latch.latched()) {
            return latch.message();
        }
        String rearm = "kubectl annotate xp " + policy.getMetadata().getName() + " -n " + policy.getMetadata().getNamespace()
                + " " + KillSwitch.REARM_ANNOTATION + "=" + latch.epoch();
        String resume = latch.cause().map(c -> "; to resume, remove the stop (kubectl annotate " + c.target() + " "
                + KillSwitch.STOP_ANNOTATION + "-), then re-arm: " + rearm).orElse("; to resume, re-arm: " + rearm);
        return head + latch.message() + resume + (after.mode == ExecutionMode.LIVE ? " (it resumes in DryRun; Live needs approvals of epoch "
                + latch.epoch() + ")" : "");
    }

    /** Every unmet requirement of a refused escalation, the approval one spelled out with its command. */
    private static String refusal(Decision decision, ApprovalView approvals) {
        String message = decision.message();
        String head = message.substring(0, message.indexOf(": ") + 2);
        return head + String.join("; also: ", decision.blockers().stream()
                .map(b -> b.matches("[0-9]+ of [0-9]+ approvals for \\w+") ? approvals.summary() : b).toList());
    }

    private static String annotation(ExecutionPolicy p, String key) {
        return p.getMetadata().getAnnotations() == null ? null : p.getMetadata().getAnnotations().get(key);
    }

    private static void decisionLog(ExecutionPolicy policy, Decision decision, String reason, String message) {
        MDC.put("policy", policy.getMetadata().getName());
        MDC.put("namespace", policy.getMetadata().getNamespace());
        MDC.put("decision", decision.action().name());
        MDC.put("reason", reason);
        try {
            LOG.infof("decision policy=%s/%s action=%s target=%s reason=%s message=\"%s\"",
                    policy.getMetadata().getNamespace(), policy.getMetadata().getName(), decision.action(),
                    decision.target().map(ExecutionMode::wireName).orElse("zero"), reason, message);
        } finally {
            MDC.remove("policy");
            MDC.remove("namespace");
            MDC.remove("decision");
            MDC.remove("reason");
        }
    }

    /** Builds the pure decision input from spec, status and the clock; what cannot be read fails safe. */
    record Inputs(TransitionInput input, List<String> problems) {
        static Inputs of(ExecutionPolicySpec spec, ExecutionMode desired, boolean stopped, ExecutionPolicyStatus status,
                Workloads.Resolution targets, ApprovalView approvals, List<String> failingGuards, Instant now) {
            List<String> problems = new ArrayList<>();
            List<String> guardProblems = new ArrayList<>(targets.problems());
            guardProblems.addAll(failingGuards);
            Duration timeout = duration(spec.transitionTimeout, "5m", "transitionTimeout", problems);
            Optional<Duration> soak = spec.dryRunSoak == null ? Optional.empty()
                    : Optional.of(duration(spec.dryRunSoak, "0", "dryRunSoak", problems));
            guardProblems.addAll(problems);
            Optional<InFlight> inFlight = Optional.empty();
            if (status.transition != null && status.transition.to != null) {
                inFlight = Optional.of(new InFlight(
                        status.transition.from == null ? ExecutionMode.BACKTEST : status.transition.from,
                        status.transition.to, Timestamps.parse(status.transition.startedAt).orElse(now)));
            }
            TransitionInput input = new TransitionInput(desired, Optional.ofNullable(status.mode), inFlight,
                    Timestamps.parse(status.modeSince), guardProblems.isEmpty() ? GuardVerdict.pass()
                            : GuardVerdict.fail(guardProblems.toArray(String[]::new)),
                    approvals.valid(), approvals.required(), stopped, soak, timeout, now);
            return new Inputs(input, problems);
        }

        /** Replicas in {@code mode}: the spec's count for it, else the workload's remembered original count. */
        static int replicasFor(ExecutionPolicySpec spec, ExecutionMode mode, WorkloadState w) {
            Integer count = spec.replicas == null ? null : switch (mode) {
                case LIVE -> spec.replicas.live;
                case DRY_RUN -> spec.replicas.dryRun;
                case BACKTEST -> spec.replicas.backtest;
            };
            return count != null ? count : w.originalReplicas().orElse(w.replicas());
        }

        static Duration duration(String text, String fallback, String field, List<String> problems) {
            try {
                return Durations.parseOr(text, fallback);
            } catch (IllegalArgumentException e) {
                problems.add("spec." + field + ": " + e.getMessage());
                return Durations.parse(fallback);
            }
        }
    }
}
