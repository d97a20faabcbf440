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
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.marketintel.safety.actuation.Convergence;
import io.marketintel.safety.admission.AdmissionControl;
import io.marketintel.safety.guard.GuardContext;
import io.marketintel.safety.guard.GuardRunner;
import io.marketintel.safety.api.v1alpha1.ExecutionSafety;
import io.marketintel.safety.actuation.Markers;
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
import io.marketintel.safety.policy.Decision;
import io.marketintel.safety.policy.Decision.Action;
import io.marketintel.safety.policy.GuardVerdict;
import io.marketintel.safety.policy.InFlight;
import io.marketintel.safety.policy.TransitionInput;
import io.marketintel.safety.policy.TransitionRules;
import io.marketintel.safety.status.Conditions;

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
@ControllerConfiguration(name = ExecutionPolicyReconciler.NAME)
// Least privilege beyond the policy itself: read and server-side-apply workloads (never create or
// delete them), read pods, write Events.
@RBACRule(apiGroups = "apps", resources = { "deployments", "statefulsets" }, verbs = { RBACVerbs.GET, RBACVerbs.LIST,
        RBACVerbs.WATCH, RBACVerbs.PATCH })
@RBACRule(apiGroups = "", resources = "pods", verbs = { RBACVerbs.GET, RBACVerbs.LIST, RBACVerbs.WATCH })
@RBACRule(apiGroups = "", resources = "events", verbs = { RBACVerbs.CREATE, RBACVerbs.PATCH })
// Cluster settings, and whether the admission policies that make approvals trustworthy are installed.
@RBACRule(apiGroups = ExecutionPolicy.GROUP, resources = "executionsafeties", verbs = { RBACVerbs.GET, RBACVerbs.LIST, RBACVerbs.WATCH })
// Guards: namespace labels (environment rules), ConfigMaps and Secrets a Configuration guard names.
@RBACRule(apiGroups = "", resources = { "namespaces", "configmaps", "secrets" }, verbs = RBACVerbs.GET)
@RBACRule(apiGroups = "admissionregistration.k8s.io", resources = { "validatingadmissionpolicies",
        "validatingadmissionpolicybindings", "mutatingadmissionpolicies", "mutatingadmissionpolicybindings" }, verbs = RBACVerbs.GET)
public class ExecutionPolicyReconciler implements Reconciler<ExecutionPolicy> {
    public static final String NAME = "executionpolicy";
    /** Re-decide at once: a transition just completed and the wanted mode may be further on. */
    static final Duration NEXT_DECISION = Duration.ofMillis(100);
    /** Targets are moving: poll besides the pod and workload events. */
    static final Duration BUSY_RESYNC = Duration.ofSeconds(2);
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

    public ExecutionPolicyReconciler(Clock clock, KubernetesSerialization serialization, Workloads workloads,
            EventRecorder events, KubernetesClient client, AdmissionControl admission, GuardRunner guardRunner) {
        this.client = client;
        this.guardRunner = guardRunner;
        this.admission = admission;
        this.clock = clock;
        this.serialization = serialization;
        this.workloads = workloads;
        this.events = events;
    }

    /** Workloads and pods carry the policy label once configured: any change to them wakes the policy. */
    @Override
    public List<EventSource<?, ExecutionPolicy>> prepareEventSources(EventSourceContext<ExecutionPolicy> context) {
        return List.of(labelled(Pod.class, context), labelled(Deployment.class, context), labelled(StatefulSet.class, context));
    }

    private static <R extends HasMetadata> EventSource<?, ExecutionPolicy> labelled(Class<R> type,
            EventSourceContext<ExecutionPolicy> context) {
        return new InformerEventSource<>(InformerEventSourceConfiguration.from(type, ExecutionPolicy.class)
                .withName(type.getSimpleName().toLowerCase())
                .withLabelSelector(Markers.POLICY_LABEL)
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
        // resourceVersion, so a patch computed from anything older is refused (409) and retried.
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

        // Read.
        Workloads.Resolution targets = workloads.resolve(policy, envVar);
        List<String> problems = new ArrayList<>(targets.problems());

        // Decide.
        ExecutionMode base = before.mode != null ? before.mode : ExecutionMode.BACKTEST;
        // Approvals and guards, and the cluster settings they read, matter only for an escalation, never for
        // a de-escalation or a stop: no reads for them on the other passes.
        boolean escalating = spec.mode.isRiskierThan(base) && before.transition == null;
        ExecutionSafety global = escalating
                ? client.resources(ExecutionSafety.class).withName(ExecutionSafety.SINGLETON_NAME).get()
                : null;
        ApprovalView approvals = ApprovalView.of(policy, before, escalating, global,
                escalating && ApprovalView.required(spec, global) > 0 ? admission.missing() : List.of(), serialization, now);
        List<String> guardProblems = escalating ? evaluateGuards(policy, base, targets, global, after, now) : List.of();
        Inputs inputs = Inputs.of(spec, before, targets, approvals, guardProblems, now);
        problems.addAll(inputs.problems());
        Decision decision = TransitionRules.decide(inputs.input());

        // Act.
        Convergence.Plan plan = decision.action() == Action.STOP
                ? Convergence.toZero(targets.workloads())
                : Convergence.toMode(targets.workloads(), decision.target().orElseThrow(),
                        w -> Inputs.replicasFor(spec, decision.target().get(), w));
        List<String> writeFailures = new ArrayList<>();
        for (Convergence.Write write : plan.writes()) {
            try {
                workloads.apply(ns, name, envVar, write);
            } catch (KubernetesClientException e) {
                writeFailures.add("could not write " + write.workload().id() + ": "
                        + (e.getStatus() != null && e.getStatus().getMessage() != null ? e.getStatus().getMessage() : e.getMessage()));
            }
        }

        // Report.
        Report report = report(policy, before, after, decision, plan, problems, writeFailures, targets.workloads(),
                approvals, generation, now);
        announce(policy, before, after, decision, plan, report);

        Duration resync = report.completed() ? NEXT_DECISION
                : !writeFailures.isEmpty() ? BUSY_RESYNC
                : after.transition != null || !plan.converged() ? BUSY_RESYNC
                        : Conditions.isTrue(after.conditions, Conditions.STALLED) ? STALLED_RESYNC : IDLE_RESYNC;
        if (serialization.asJson(before).equals(serialization.asJson(after))) {
            return UpdateControl.<ExecutionPolicy> noUpdate().rescheduleAfter(resync);
        }
        ExecutionPolicy patch = new ExecutionPolicy();
        patch.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns)
                .withResourceVersion(policy.getMetadata().getResourceVersion()).build());
        patch.setStatus(after);
        return UpdateControl.patchStatus(patch).rescheduleAfter(resync);
    }

    /**
     * A reconcile that threw (the API server refused a read, say) still tells the user: Ready=False with
     * reason OperatorError and the message, besides the log. JOSDK retries with back-off; nothing is acted
     * on from a pass that failed.
     */
    @Override
    public io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl<ExecutionPolicy> updateErrorStatus(
            ExecutionPolicy policy, Context<ExecutionPolicy> context, Exception e) {
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
        patch.setStatus(status);
        return io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl.patchStatus(patch);
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

    /** What changed in this pass, for Events and the decision log. */
    private record Report(boolean started, boolean completed, String completedFrom) {
    }

    private Report report(ExecutionPolicy policy, ExecutionPolicyStatus before, ExecutionPolicyStatus after,
            Decision decision, Convergence.Plan plan, List<String> targetProblems, List<String> writeFailures,
            List<WorkloadState> observed, ApprovalView approvals, long generation, Instant now) {
        List<String> problems = new ArrayList<>(targetProblems);
        problems.addAll(writeFailures);
        ExecutionMode desired = policy.getSpec().mode;
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
        String completedFrom = null;
        if (decision.isTransition() && plan.converged() && problems.isEmpty()) {
            completed = true;
            completedFrom = after.transition.from == null ? "none" : after.transition.from.wireName();
            var h = new ExecutionPolicyStatus.TransitionRecord();
            h.from = after.transition.from;
            h.to = after.transition.to;
            h.at = now.toString();
            h.trigger = after.transition.trigger;
            h.requester = after.transition.requester;
            h.approvers = after.transition.approvers;
            h.outcome = "TransitionTimedOut".equals(after.transition.trigger) ? "RolledBack" : "Succeeded";
            List<ExecutionPolicyStatus.TransitionRecord> history = new ArrayList<>();
            history.add(h);
            if (before.history != null) {
                history.addAll(before.history.subList(0, Math.min(before.history.size(), HISTORY_LIMIT - 1)));
            }
            after.history = history;
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

        boolean stalled = decision.action() == Action.REFUSE || !problems.isEmpty();
        boolean reconciling = after.transition != null || !plan.converged();
        boolean ready = !stalled && !reconciling && after.mode == desired;
        String stalledReason = !targetProblems.isEmpty() ? "TargetsNotUsable"
                : !writeFailures.isEmpty() ? "ActuationFailed" : decision.reason().name();
        String stalledMessage = !problems.isEmpty() ? String.join("; ", problems)
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

        if (decision.action() == Action.STOP) {
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
        return new Report(started, completed, completedFrom);
    }

    /** One Event and one log line per decision: a new transition, a completion, a refusal, a drift fix. */
    private void announce(ExecutionPolicy policy, ExecutionPolicyStatus before, ExecutionPolicyStatus after,
            Decision decision, Convergence.Plan plan, Report report) {
        List<String[]> said = new ArrayList<>();
        if (report.started()) {
            said.add(new String[] { decision.reason() == io.marketintel.safety.policy.Reason.TransitionTimedOut ? "Warning" : "Normal",
                    decision.reason().name(), decision.message() });
        }
        if (!decision.isTransition() && !plan.writes().isEmpty()) {
            said.add(new String[] { "Warning", "DriftCorrected",
                    "targets drifted from " + decision.target().map(ExecutionMode::wireName).orElse("zero replicas") + ": "
                            + String.join("; ", plan.writes().stream().map(Convergence.Write::why).toList()) });
        }
        if (report.completed()) {
            said.add(new String[] { "Normal", "TransitionCompleted",
                    "transition from " + report.completedFrom() + " to " + after.mode + " completed; every target runs in " + after.mode });
        }
        var stalledBefore = Conditions.find(before.conditions, Conditions.STALLED);
        var stalledAfter = Conditions.find(after.conditions, Conditions.STALLED).orElseThrow();
        if (Conditions.TRUE.equals(stalledAfter.getStatus()) && (stalledBefore.isEmpty()
                || !Objects.equals(stalledBefore.get().getStatus(), stalledAfter.getStatus())
                || !Objects.equals(stalledBefore.get().getMessage(), stalledAfter.getMessage()))) {
            said.add(new String[] { "Warning", stalledAfter.getReason(), stalledAfter.getMessage() });
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
        static Inputs of(ExecutionPolicySpec spec, ExecutionPolicyStatus status, Workloads.Resolution targets,
                ApprovalView approvals, List<String> failingGuards, Instant now) {
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
            TransitionInput input = new TransitionInput(spec.mode, Optional.ofNullable(status.mode), inFlight,
                    Timestamps.parse(status.modeSince), guardProblems.isEmpty() ? GuardVerdict.pass()
                            : GuardVerdict.fail(guardProblems.toArray(String[]::new)),
                    approvals.valid(), approvals.required(), false, soak, timeout, now);
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

        private static Duration duration(String text, String fallback, String field, List<String> problems) {
            try {
                return Durations.parseOr(text, fallback);
            } catch (IllegalArgumentException e) {
                problems.add("spec." + field + ": " + e.getMessage());
                return Durations.parse(fallback);
            }
        }
    }
}
