package io.marketintel.safety.reconciler;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import io.marketintel.safety.pass.StatusWriter;
import io.marketintel.safety.pass.CacheFirst;
import io.marketintel.safety.pass.Report;
import io.marketintel.safety.pass.PassPlanner;
import io.marketintel.safety.pass.PassPlan;
import io.marketintel.safety.pass.Observation;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.Supplier;

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
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.filter.OnUpdateFilter;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.marketintel.safety.actuation.Convergence;
import io.marketintel.safety.actuation.ObservedWorkload;
import io.marketintel.safety.actuation.Targets;
import io.marketintel.safety.admission.AdmissionControl;
import io.marketintel.safety.admission.LiveRegister;
import io.marketintel.safety.admission.StopMarks;
import io.marketintel.safety.guard.GuardContext;
import io.marketintel.safety.killswitch.EgressFences;
import io.marketintel.safety.killswitch.KillSwitch;
import io.marketintel.safety.killswitch.Stop;
import io.marketintel.safety.leadership.Leadership;
import io.marketintel.safety.monitor.MonitorScheduler;
import io.marketintel.safety.guard.GuardRunner;
import io.marketintel.safety.api.v1alpha1.ExecutionSafety;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.actuation.Relevance;
import io.marketintel.safety.cache.StorePerInformer;
import io.marketintel.safety.actuation.Actuator;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus;
import io.marketintel.safety.observability.EventRecorder;
import io.marketintel.safety.observability.PolicyMetrics;
import io.marketintel.safety.policy.Decision;

/**
 * One pass for one {@link ExecutionPolicy}: read → plan → act → report (DESIGN §7, "a pass"; docs/design.md has the
 * picture).
 * <ol>
 * <li><b>Read</b> the policy from the API server and the stops in force; a stop is applied by the kill switch before
 * anything else is read ({@link KillSwitch#enter}, the first of its two entry points). Then the targets and their
 * pods, and, only in front of an escalation, the cluster settings and the guards.</li>
 * <li><b>Plan</b> with the pure {@link PassPlanner}: the decision, the writes in order, the fence, the latch and breaker
 * records.</li>
 * <li><b>Act</b>: release a re-armed stop, put the egress fence up or down, send each write through the kill switch's
 * gate ({@link KillSwitch#act}, its second entry point), with server-side apply.</li>
 * <li><b>Report</b> what {@link StatusWriter} makes of the plan and what happened: status, one Event and one log line per
 * change, metrics.</li>
 * </ol>
 * Everything needed to resume lives in status and on the workloads, so a restarted operator picks up any step where it
 * was.
 */
@ControllerConfiguration(name = ExecutionPolicyReconciler.NAME)
// Least privilege beyond the policy itself: read and server-side-apply workloads (never create or
// delete them), watch pods, create Events. Every verb is needed by some e2e suite (e2e/rbac-mutations.sh).
@RBACRule(apiGroups = "apps", resources = { "deployments", "statefulsets" }, verbs = { RBACVerbs.GET, RBACVerbs.LIST,
        RBACVerbs.WATCH, RBACVerbs.PATCH })
// The kill switch's zero writes go to the scale subresource: admission policies on the workloads themselves (one takes
// every policy of the namespace as a parameter) are not evaluated for a write that cannot change a label.
@RBACRule(apiGroups = "apps", resources = { "deployments/scale", "statefulsets/scale" }, verbs = RBACVerbs.PATCH)
// Pods: which mode still runs; the kill switch's cancel-orders calls need their IPs; a stop deletes the pods of the
// stopped system that their controller does not (DESIGN §6).
@RBACRule(apiGroups = "", resources = "pods", verbs = { RBACVerbs.LIST, RBACVerbs.WATCH, RBACVerbs.DELETE })
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
// The kill switch watches Namespaces for the stop annotation. Patch: the Namespace's register of the policies that may
// run Live and the env vars of those that name their own (LiveRegister), and the count of its stops every policy has
// recorded (StopMarks), the only Namespace fields the operator writes (execution-safety-live-register guards them).
@RBACRule(apiGroups = "", resources = "namespaces", verbs = { RBACVerbs.LIST, RBACVerbs.WATCH, RBACVerbs.PATCH })
// Policies: one label of theirs, safety.marketintel.io/stopped, set while a stop is latched (StopMarks).
@RBACRule(apiGroups = ExecutionPolicy.GROUP, resources = "executionpolicies", verbs = RBACVerbs.PATCH)
@RBACRule(apiGroups = "admissionregistration.k8s.io", resources = { "validatingadmissionpolicies",
        "validatingadmissionpolicybindings", "mutatingadmissionpolicies", "mutatingadmissionpolicybindings" }, verbs = RBACVerbs.GET)
public class ExecutionPolicyReconciler implements Reconciler<ExecutionPolicy> {
    public static final String NAME = "executionpolicy";
    private static final Logger LOG = Logger.getLogger(ExecutionPolicyReconciler.class);

    private final Clock clock;
    private final KubernetesSerialization serialization;
    private final Actuator workloads;
    private final EventRecorder events;
    private final KubernetesClient client;
    private final AdmissionControl admission;
    private final GuardRunner guardRunner;
    private final KillSwitch killSwitch;
    private final EgressFences fences;
    private final PolicyMetrics metrics;
    private final Leadership leadership;
    private final PassPlanner planner;
    private final LiveRegister register;
    private final StopMarks stopMarks;
    private final FreshReads freshReads;
    private final MonitorScheduler monitors;

    public ExecutionPolicyReconciler(Clock clock, KubernetesSerialization serialization, Actuator workloads,
            EventRecorder events, KubernetesClient client, AdmissionControl admission, GuardRunner guardRunner,
            KillSwitch killSwitch, EgressFences fences, PolicyMetrics metrics, Leadership leadership, LiveRegister register,
            StopMarks stopMarks, FreshReads freshReads, MonitorScheduler monitors) {
        this.freshReads = freshReads;
        this.monitors = monitors;
        this.register = register;
        this.stopMarks = stopMarks;
        this.leadership = leadership;
        this.client = client;
        this.metrics = metrics;
        this.fences = fences;
        this.killSwitch = killSwitch;
        this.guardRunner = guardRunner;
        this.admission = admission;
        this.clock = clock;
        this.serialization = serialization;
        this.workloads = workloads;
        this.events = events;
        this.planner = new PassPlanner(serialization);
    }

    /**
     * Workloads carry the policy label once configured: a change to one that {@link Relevance} says could
     * alter what the policy observes wakes it. Pods wake it through the kill switch, whose informer already
     * holds every labelled pod (one cache and one watch of pods, not two).
     */
    @Override
    public List<EventSource<?, ExecutionPolicy>> prepareEventSources(EventSourceContext<ExecutionPolicy> context) {
        return List.of(labelled(Deployment.class, Relevance::deployment, context),
                labelled(StatefulSet.class, Relevance::statefulSet, context), killSwitch.eventSource(), monitors.eventSource(),
                new InformerEventSource<>(StorePerInformer.withoutManagedFields(EgressFences.eventSource()), context));
    }

    private static <R extends HasMetadata> EventSource<?, ExecutionPolicy> labelled(Class<R> type, OnUpdateFilter<R> relevant,
            EventSourceContext<ExecutionPolicy> context) {
        return new InformerEventSource<>(StorePerInformer.withoutManagedFields(InformerEventSourceConfiguration.from(type, ExecutionPolicy.class)
                .withName(type.getSimpleName().toLowerCase())
                .withLabelSelector(MetadataNames.POLICY_LABEL)
                .withOnUpdateFilter(relevant)
                .withSecondaryToPrimaryMapper(r -> Set.of(new ResourceID(
                        r.getMetadata().getLabels().get(MetadataNames.POLICY_LABEL), r.getMetadata().getNamespace())))
                .build()), context);
    }

    /**
     * The workloads the informers show carrying this policy's mark (label), wherever its spec points now, except those
     * another policy of the namespace names or selects: a label alone governs nothing ({@link Targets}), so a workload
     * relabelled for this policy stays the other one's and is not this one's to hold at zero.
     */
    private static List<HasMetadata> marked(ExecutionPolicy policy, Context<ExecutionPolicy> context) {
        if (context == null) {
            return List.of();
        }
        List<HasMetadata> labelled = new ArrayList<>(context.getSecondaryResources(Deployment.class));
        labelled.addAll(context.getSecondaryResources(StatefulSet.class));
        // Most are the policy's own targets, which it covers anyway: only the others are looked at further.
        ExecutionPolicySpec.Workloads own = policy.getSpec() == null ? null : policy.getSpec().workloads;
        List<HasMetadata> marked = labelled.stream().filter(m -> !Targets.covers(own, Targets.Workload.of(m))).toList();
        if (marked.isEmpty()) {
            return marked;
        }
        List<ExecutionPolicySpec.Workloads> others = context.getPrimaryCache().list(policy.getMetadata().getNamespace())
                .filter(p -> !p.getMetadata().getName().equals(policy.getMetadata().getName()))
                .map(p -> p.getSpec() == null ? null : p.getSpec().workloads).filter(java.util.Objects::nonNull).toList();
        return marked.stream().filter(m -> others.stream().noneMatch(o -> Targets.covers(o, Targets.Workload.of(m)))).toList();
    }

    @Override
    public UpdateControl<ExecutionPolicy> reconcile(ExecutionPolicy cached, Context<ExecutionPolicy> context) {
        Instant now = clock.instant();
        String ns = cached.getMetadata().getNamespace();
        String name = cached.getMetadata().getName();
        // Read. Decisions depend on our own last status write (transition in flight, history). The copy comes from the
        // informer cache, which holds that write as soon as it is made: the status is written through the Java Operator
        // SDK's resource operations (see the end of the pass), which put the API server's answer into the cache at once
        // (issue 22: no GET per pass). A copy older than someone else's write is still possible; the status patch carries
        // this copy's resourceVersion, so a pass decided from it is refused (409, a retry: updateErrorStatus) and decided
        // again from the newer copy (TransitionIT's stale-copy test).
        ExecutionPolicy policy = cached;
        ResourceID id = ResourceID.fromResource(policy);
        ExecutionPolicySpec spec = policy.getSpec();
        String envVar = spec.modeInjection != null && spec.modeInjection.envVar != null ? spec.modeInjection.envVar
                : ExecutionPolicySpec.Defaults.MODE_ENV_VAR;
        // The stop first (kill switch, entry point one): zero replicas are written before any other read, guard or
        // status write. Whether the admission policies are installed matters only to a re-arm and to an escalation.
        boolean rearmPending = PassPlanner.rearmPending(policy);
        List<String> admissionMissing = rearmPending ? admission.missing() : List.of();
        KillSwitch.Sighting stops = killSwitch.enter(policy, rearmPending,
                seen -> PassPlanner.latch(policy, seen.triggers(), seen.underWay(), admissionMissing).stopped());
        boolean stopped = stops.applied().isPresent();
        // Most passes only wait, and read the informers (issue 22). A pass holding a stop reads from the API server, and
        // so does one whose caches are incomplete (the kill switch's pod watch not synced) or that is due (FreshReads); a
        // plan that could start pods is checked against the API server's answer (CacheFirst).
        boolean fromApiServer = stopped || context == null || !stops.blindSpots().isEmpty() || freshReads.due(id, now);
        List<HasMetadata> marked = marked(policy, context);
        CacheFirst.Decided decided = CacheFirst.decide(fromApiServer,
                asked -> workloads.resolve(policy, envVar, stopped, marked, asked ? Optional.empty() : Optional.of(cache(context))),
                targets -> observe(policy, stops, admissionMissing, rearmPending, targets, now), planner);
        if (fromApiServer || decided.readTwice()) {
            freshReads.done(id, now);
        }
        Observation observed = decided.observed();
        PassPlan plan = decided.plan();

        // Act: release a re-armed stop; every write passes the kill switch's gate (entry point two), so nothing scales
        // up once a stop is seen.
        KillSwitch.Gate gate = killSwitch.act(id, plan.release());
        Optional<NetworkPolicy> fence = context == null ? Optional.empty()
                : context.getSecondaryResources(NetworkPolicy.class).stream().findFirst();
        Optional<String> fenceProblem = fences.converge(policy, plan.fenceUp(), fence);
        List<String> writeFailures = new ArrayList<>();
        int decideAgain = 0;
        ExecutionPolicyStatus read = policy.getStatus();
        boolean liveAllowed = Convergence.Write.liveAllowedBy(read);
        // The Namespace's register names the policy while its status allows Live, so that the API server admits its Live
        // pods and templates (and nobody else's): added once that status is written, before any Live write.
        // Its env var, in the register beside it, before any template is configured with it; entries of policies gone
        // from the namespace are cleared on the way (a deleted policy has no pass of its own).
        // Its replica ceilings beside them, before any workload write, so that a lower count holds before the operator
        // scales to it (a stop leaves them as they are: plan.ceilings() is empty then).
        var ceilings = plan.ceilings();
        try {
            register.hold(ns, name, liveAllowed, envVar, exists(context, ns), ceilings);
        } catch (KubernetesClientException e) {
            writeFailures.add("could not " + (liveAllowed ? "add" : "remove") + " ExecutionPolicy " + name + " in Namespace " + ns
                    + "'s register of Live policies (or record its env var " + envVar + " or its workloads' replica ceilings"
                    + " there): " + message(e));
            liveAllowed = false; // its Live writes would be refused
        }
        for (Convergence.Write write : plan.writes()) {
            if (write.startsLive() && !liveAllowed) {
                decideAgain++; // the API server admits it once this pass's status (the escalation) is written
                continue;
            }
            try {
                if (!gate.write(write.replicas(), () -> ownWrite(context, ns, write, () -> workloads.apply(ns, name, envVar, write)))) {
                    decideAgain++; // held back by a stop seen since this pass read the policy
                }
            } catch (KubernetesClientException e) {
                if (e.getCode() == 409 && write.onlyIfUnchanged()) {
                    // Changed since this pass read it (someone scaled it): decide again from what is there.
                    LOG.infof("%s changed while %s/%s was deciding; deciding again", write.workload().id(), ns, name);
                    decideAgain++;
                    continue;
                }
                if (write.startsLive() && notYetRegistered(e, name)) {
                    // The API server judges a Live write by its own cache of the Namespace, which may not show yet the
                    // register this pass has just made name the policy (seen on a loaded machine): decided again in a
                    // moment, when the next pass holds the register again and writes again.
                    LOG.infof("%s: the API server does not see %s/%s in the Namespace's register of Live policies yet; deciding"
                            + " again", write.workload().id(), ns, name);
                    decideAgain++;
                    continue;
                }
                writeFailures.add("could not write " + write.workload().id() + ": " + message(e));
            }
        }

        // A stop is done when the pods are gone: those nobody deleted yet (a StatefulSet waiting on unready pods, a bare
        // pod) are deleted directly, after the zero writes so that no controller replaces them.
        for (String pod : plan.deletions()) {
            try {
                workloads.deletePod(ns, pod);
            } catch (KubernetesClientException e) {
                writeFailures.add("could not delete Pod/" + pod + " of the stopped system: " + message(e));
            }
        }

        // Report.
        Report report = plan.report(new PassPlan.Outcome(writeFailures, decideAgain, fenceProblem));
        report.stopCounted().ifPresent(scope -> metrics.stopRecorded(scope.name()));
        report.transitions().forEach(t -> metrics.transition(t.from(), t.to(), t.outcome()));
        for (Report.Announcement a : report.announcements()) {
            if (a.warning()) {
                events.warning(policy, a.reason(), a.message());
            } else {
                events.normal(policy, a.reason(), a.message());
            }
            decisionLog(policy, plan.decision(), a.reason(), a.message());
        }
        metrics.observe(ns, name, policy.getMetadata().getUid(), report.status(), report.approvalsAwaited());
        if (!Convergence.Write.liveAllowedBy(report.status())) {
            // Before a status that leaves Live is written: the register never allows more than status does. If this
            // fails, the pass fails and the status is not written (the next pass decides again).
            try {
                register.hold(ns, name, false, envVar, exists(context, ns), ceilings);
            } catch (KubernetesClientException e) {
                throw new IllegalStateException("could not remove ExecutionPolicy " + name + " from Namespace " + ns
                        + "'s register of Live policies (" + MetadataNames.LIVE_POLICIES_ANNOTATION + "): " + message(e), e);
            }
        }
        // A latched stop is labelled before status records it, so that the API server keeps refusing the policy's pods
        // (execution-safety-stopped-pods takes only labelled policies) once the stop's annotation is gone. Guarded by the
        // version read: a 409 fails the pass, which is decided again; the status write then carries the label's version.
        // Any other failure does not keep the latch out of status (the stop holds by its zeroes meanwhile): retried by the
        // next pass, which finds the label still due.
        ExecutionPolicy written = policy;
        if (StopMarks.labelDue(policy, report.status())) {
            try {
                written = stopMarks.label(policy);
            } catch (KubernetesClientException e) {
                if (e.getCode() == 409) {
                    throw e;
                }
                LOG.warnf("%s/%s: could not label the stopped policy %s=true (the API server refuses its pods by it once the"
                        + " stop's annotation is gone): %s", ns, name, MetadataNames.STOPPED_LABEL, message(e));
            }
        }
        ExecutionPolicyStatus before = policy.getStatus() == null ? new ExecutionPolicyStatus() : policy.getStatus();
        if (serialization.asJson(before).equals(serialization.asJson(report.status()))) {
            afterStatus(written, report.status(), context);
            return UpdateControl.<ExecutionPolicy> noUpdate().rescheduleAfter(report.resync());
        }
        if (context == null) {
            // The SDK writes this status after the pass: the stop marks wait for the next pass (a label removed before the
            // status that releases it would leave the latch unjudged by admission meanwhile).
            return UpdateControl.patchStatus(statusPatch(written, report.status())).rescheduleAfter(report.resync());
        }
        ExecutionPolicy after = context.resourceOperations().serverSideApplyPrimaryStatus(statusPatch(written, report.status()));
        afterStatus(after != null ? after : written, report.status(), context);
        return UpdateControl.<ExecutionPolicy> noUpdate().rescheduleAfter(report.resync());
    }

    /** What the pass read, with the escalation's reads when the planner says one is in front. */
    private Observation observe(ExecutionPolicy policy, KillSwitch.Sighting stops, List<String> admissionMissing, boolean rearmPending,
            Actuator.Resolution targets, Instant now) {
        Observation observed = new Observation(policy, stops.triggers(), stops.underWay(),
                stops.applied().map(ExecutionPolicyReconciler::progress), stops.blindSpots(), admissionMissing, targets,
                Optional.empty(), now, Optional.of(stops.counts()));
        Optional<Observation.MonitorReads> monitorReads = monitors.reads(policy);
        if (monitorReads.isPresent()) {
            observed = observed.withMonitors(monitorReads.get());
        }
        if (PassPlanner.escalating(observed)) {
            // One answer per pass: the latch and the approvals read the same one.
            return observed.withEscalation(escalationReads(observed), rearmPending ? admissionMissing : admission.missing());
        }
        if (PassPlanner.liveEscalationInFlight(policy)) {
            // The floor on Live approvals may have been raised since the escalation started: read while one is under way.
            return observed.withEscalation(new Observation.EscalationReads(Optional.ofNullable(clusterSettings(observed)), List.of()),
                    admissionMissing);
        }
        return observed;
    }

    /** The informers a pass may read instead of the API server: the reconciler's workloads and policies, the kill switch's pods. */
    private Actuator.Cache cache(Context<ExecutionPolicy> context) {
        return new Actuator.Cache() {
            @Override
            public Optional<HasMetadata> workload(ExecutionPolicySpec.WorkloadKind kind, String namespace, String name) {
                return informer(context, kind).flatMap(i -> i.get(new ResourceID(name, namespace)));
            }

            @Override
            public List<io.fabric8.kubernetes.api.model.Pod> podsLabelled(String namespace, String policy) {
                return killSwitch.podsLabelled(namespace, policy);
            }

            @Override
            public Optional<ExecutionPolicy> policy(String namespace, String name) {
                return context.getPrimaryCache().get(new ResourceID(name, namespace));
            }
        };
    }

    /** The reconciler's informer of workloads of that kind (those carrying the policy label), if it runs. */
    @SuppressWarnings("unchecked")
    private static Optional<InformerEventSource<HasMetadata, ExecutionPolicy>> informer(Context<ExecutionPolicy> context,
            ExecutionPolicySpec.WorkloadKind kind) {
        Class<? extends HasMetadata> type = ObservedWorkload.type(kind);
        var source = context == null ? null : context.eventSourceRetriever().getEventSourceFor(type, type.getSimpleName().toLowerCase());
        return source instanceof InformerEventSource<?, ?> informer
                ? Optional.of((InformerEventSource<HasMetadata, ExecutionPolicy>) informer)
                : Optional.empty();
    }

    /**
     * A workload write of this pass through the informer that watches the workload (the SDK's event filtering): the watch
     * event of the write itself wakes no pass, since the pass that made it has decided already, and the informer holds the
     * API server's answer at once. Events of anyone else's write, before or after it, wake the policy as always. Two
     * passes of every adoption were woken by the operator's own two writes (issue 22).
     */
    private static void ownWrite(Context<ExecutionPolicy> context, String ns, Convergence.Write write, Supplier<HasMetadata> apply) {
        Optional<InformerEventSource<HasMetadata, ExecutionPolicy>> informer = informer(context, write.workload().kind());
        if (informer.isEmpty()) {
            apply.get();
            return;
        }
        HasMetadata id = write.workload().kind() == ExecutionPolicySpec.WorkloadKind.DEPLOYMENT ? new Deployment() : new StatefulSet();
        id.setMetadata(new ObjectMetaBuilder().withName(write.workload().name()).withNamespace(ns).build());
        informer.get().eventFilteringUpdateAndCacheResource(id, ignored -> apply.get());
    }

    /**
     * Once a status is written (or found as it should be): a released policy loses its stop label, and the Namespace's
     * count of the stops every policy has recorded is raised as far as it now may be. Neither failure undoes the status:
     * a label left behind refuses nothing, a count not raised refuses more (both are retried by the next pass).
     */
    private void afterStatus(ExecutionPolicy policy, ExecutionPolicyStatus status, Context<ExecutionPolicy> context) {
        String ns = policy.getMetadata().getNamespace();
        try {
            if (StopMarks.labelSpare(policy, status)) {
                stopMarks.unlabel(policy);
            }
            if (context != null) {
                stopMarks.recordNamespaceStops(ns, context.getPrimaryCache().list(ns));
            }
        } catch (KubernetesClientException e) {
            if (e.getCode() == 409) {
                LOG.debugf("%s/%s changed since its status was written; its stop marks wait for the next pass", ns,
                        policy.getMetadata().getName());
                return;
            }
            LOG.warnf("%s/%s: could not update the stop marks admission reads (label %s, Namespace annotation %s): %s", ns,
                    policy.getMetadata().getName(), MetadataNames.STOPPED_LABEL, MetadataNames.EMERGENCY_STOPS_RECORDED_ANNOTATION,
                    message(e));
        }
    }

    /** Whether the primary cache has a policy of that name in {@code ns}; null (keep every entry) without a context. */
    private static Predicate<String> exists(Context<ExecutionPolicy> context, String ns) {
        return context == null ? null : policy -> context.getPrimaryCache().get(new ResourceID(policy, ns)).isPresent();
    }

    /**
     * Whether the API server refused a write because the Namespace's register of Live policies does not name the policy
     * (execution-safety-mode-integrity), although this pass made it name it.
     */
    static boolean notYetRegistered(KubernetesClientException e, String policy) {
        String m = message(e);
        return (e.getCode() == 403 || e.getCode() == 422) && m != null && m.contains("execution-safety-mode-integrity")
                && m.contains("ExecutionPolicy " + policy + " is not Live in Namespace") && m.contains(MetadataNames.LIVE_POLICIES_ANNOTATION);
    }

    private static String message(KubernetesClientException e) {
        return e.getStatus() != null && e.getStatus().getMessage() != null ? e.getStatus().getMessage() : e.getMessage();
    }

    /**
     * ExecutionSafety/global, null if it does not exist: as the kill switch's watch of it holds it (no request; issue 22),
     * or read now (one GET) while the kill switch cannot watch everything, when the watch's copy may be missing.
     */
    private ExecutionSafety clusterSettings(Observation observed) {
        if (observed.blindSpots().isEmpty()) {
            return killSwitch.global().orElse(null);
        }
        return client.resources(ExecutionSafety.class).withName(ExecutionSafety.SINGLETON_NAME).get();
    }

    /**
     * Only in front of an escalation: the cluster settings, and unless the latch holds the guards and a read of every risk
     * monitor that watches the mode asked for.
     */
    private Observation.EscalationReads escalationReads(Observation observed) {
        ExecutionPolicy policy = observed.policy();
        ExecutionSafety global = clusterSettings(observed);
        boolean latched = PassPlanner.latch(policy, observed.triggers(), observed.stopUnderWay(), observed.admissionMissing()).latched();
        ExecutionPolicySpec spec = policy.getSpec();
        if (latched) {
            return new Observation.EscalationReads(Optional.ofNullable(global), List.of());
        }
        // Read while the guards run; both are bounded by their timeouts.
        java.util.concurrent.CompletableFuture<List<String>> monitorProblems = monitors.preflight(policy, spec.mode);
        if (spec.guards == null || spec.guards.isEmpty()) {
            return new Observation.EscalationReads(Optional.ofNullable(global), List.of(), monitorProblems.join());
        }
        ExecutionMode from = policy.getStatus() == null || policy.getStatus().mode == null ? ExecutionMode.BACKTEST
                : policy.getStatus().mode;
        var namespace = client.namespaces().withName(policy.getMetadata().getNamespace()).get();
        Map<String, String> labels = namespace == null || namespace.getMetadata().getLabels() == null ? Map.of()
                : namespace.getMetadata().getLabels();
        return new Observation.EscalationReads(Optional.ofNullable(global), guardRunner.evaluate(spec.guards.stream()
                .map(g -> new GuardContext(policy, g, from, spec.mode, observed.targets().workloads(), labels,
                        Optional.ofNullable(global), observed.now()))
                .toList()), monitorProblems.join());
    }

    private static Observation.StopProgress progress(Stop stop) {
        return new Observation.StopProgress(stop.seenAt(), stop.latency(), stop.failures(), stop.cancelOutcomes());
    }

    /** A status patch that the API server refuses (409) if the policy changed since {@code read}. */
    private static ExecutionPolicy statusPatch(ExecutionPolicy read, ExecutionPolicyStatus status) {
        ExecutionPolicy patch = new ExecutionPolicy();
        patch.setMetadata(new ObjectMetaBuilder().withName(read.getMetadata().getName())
                .withNamespace(read.getMetadata().getNamespace())
                .withResourceVersion(read.getMetadata().getResourceVersion()).build());
        patch.setStatus(status);
        return patch;
    }

    /**
     * A reconcile that threw (the API server refused a read, say) still tells the user: Ready=False with reason
     * OperatorError and the message, besides the log. JOSDK retries with back-off; nothing is acted on from a pass that
     * failed. The condition is written onto the status as the API server has it now, guarded by its resourceVersion: the
     * cached copy may predate our last status write, and writing from it would bring back an older mode or transition.
     */
    @Override
    public ErrorStatusUpdateControl<ExecutionPolicy> updateErrorStatus(ExecutionPolicy cached, Context<ExecutionPolicy> context,
            Exception e) {
        String ns = cached.getMetadata().getNamespace();
        String name = cached.getMetadata().getName();
        if (leadership.shuttingDown()) {
            // Cut short by a normal stop (its thread interrupted): nothing is wrong with the policy, and everything
            // needed to go on is in status, where the next leader picks it up.
            LOG.infof("reconcile of %s/%s cut short by the shutdown; the next leader resumes it from status (%s)", ns, name,
                    e.getMessage());
            return ErrorStatusUpdateControl.noStatusUpdate();
        }
        if (conflict(e)) {
            // The policy changed between our read and our status write (an annotation, another writer): the
            // optimistic lock did its job. Retry from a fresh read; nothing is wrong, so nothing is reported.
            LOG.debugf("status of %s/%s changed under us; retrying", ns, name);
            return ErrorStatusUpdateControl.noStatusUpdate();
        }
        LOG.errorf(e, "reconcile of %s/%s failed", ns, name);
        String message = String.valueOf(e.getMessage());
        if (e instanceof KubernetesClientException k && k.getStatus() != null && k.getStatus().getMessage() != null) {
            message = k.getStatus().getMessage();
        }
        ExecutionPolicy current;
        try {
            current = client.resources(ExecutionPolicy.class).inNamespace(ns).withName(name).get();
        } catch (KubernetesClientException unreadable) {
            LOG.debugf("could not read %s/%s to report the failure: %s", ns, name, unreadable.getMessage());
            return ErrorStatusUpdateControl.noStatusUpdate();
        }
        if (current == null) {
            return ErrorStatusUpdateControl.noStatusUpdate();
        }
        long generation = Optional.ofNullable(current.getMetadata().getGeneration()).orElse(0L);
        return ErrorStatusUpdateControl.patchStatus(statusPatch(current,
                StatusWriter.failed(current.getStatus(), generation, message, clock.instant())));
    }

    /**
     * An optimistic-lock conflict (409), as the client throws it or as the SDK's resource operations wrap it (the status
     * write at the end of a pass).
     */
    static boolean conflict(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof KubernetesClientException k && k.getCode() == 409) {
                return true;
            }
        }
        return false;
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
}
