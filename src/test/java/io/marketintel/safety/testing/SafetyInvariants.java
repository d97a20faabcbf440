package io.marketintel.safety.testing;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.api.v1alpha1.Timestamps;

/**
 * The safety-invariant checker of the integration and end-to-end tiers: informers on Pods and ExecutionPolicies
 * in the given namespaces (or all) feed {@link SafetyRules} on every event and on a 200 ms tick; the invariants
 * and their exact definitions are documented there. The first violation is recorded with the event trail;
 * {@link #assertNone()} (also run by {@link #close()}) throws it, and {@link #violated()} lets an await fail fast:
 * {@code await(...).failFast("safety invariant", invariants::violated)}.
 */
public final class SafetyInvariants implements AutoCloseable {
    private final SafetyRules rules;
    private final KubernetesClient client;
    private final List<String> namespaces;
    /** Resource version of the last event seen per pod (namespace/name). */
    private final Map<String, Long> podVersions = new java.util.HashMap<>();
    /** Pods a LIST found gone, with that LIST's version: a late watch event older than it must not bring them back. */
    private final Map<String, Long> tombstones = new java.util.HashMap<>();
    private final List<SharedIndexInformer<?>> informers = new ArrayList<>();
    private final ScheduledExecutorService ticker;
    private volatile boolean violated;
    /** ExecutionSafety/global spec.minLiveApprovals where a test sets it: a policy asking for fewer still needs this many. */
    private volatile int liveApprovalFloor;
    /** See {@link #policyView(ExecutionPolicy, int, Map)}; written by the policy informer's thread only. */
    private final Map<String, LiveEscalation> liveEscalations = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile boolean ignoreUnownedPods;

    private SafetyInvariants(KubernetesClient client, List<String> namespaces, SafetyRules.Settings settings) {
        this.rules = new SafetyRules(settings);
        this.client = client;
        this.namespaces = namespaces;
        if (namespaces.isEmpty()) {
            informers.add(client.pods().inAnyNamespace().inform(handler(this::pod)));
            informers.add(client.resources(ExecutionPolicy.class).inAnyNamespace().inform(handler(this::policy)));
        } else {
            for (String ns : namespaces) {
                informers.add(client.pods().inNamespace(ns).inform(handler(this::pod)));
                informers.add(client.resources(ExecutionPolicy.class).inNamespace(ns).inform(handler(this::policy)));
            }
        }
        ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "safety-invariants-tick");
            t.setDaemon(true);
            return t;
        });
        ticker.scheduleAtFixedRate(() -> {
            synchronized (rules) {
                rules.tick(Instant.now());
                violated = rules.first().isPresent();
            }
        }, 200, 200, TimeUnit.MILLISECONDS);
        ticker.scheduleWithFixedDelay(this::relist, 5, 5, TimeUnit.SECONDS);
    }

    /**
     * A watch can stall for tens of seconds after a kube-apiserver restart while the pods it reported are long gone,
     * which would make the checker fire on what it no longer sees. Every 5 s a LIST corrects the view, in the safe
     * direction only: a pod the LIST (newer than the last event seen for it) no longer shows is deleted, one it shows
     * terminating is no longer running. Nothing is added from a LIST, so a stale LIST can hide, never invent.
     */
    private void relist() {
        try {
            List<String> scopes = namespaces.isEmpty() ? java.util.Collections.singletonList(null) : namespaces;
            for (String ns : scopes) {
                var list = ns == null ? client.pods().inAnyNamespace().list() : client.pods().inNamespace(ns).list();
                long listVersion = Long.parseLong(list.getMetadata().getResourceVersion());
                Map<String, Pod> listed = new java.util.HashMap<>();
                list.getItems().forEach(p -> listed.put(p.getMetadata().getNamespace() + "/" + p.getMetadata().getName(), p));
                synchronized (rules) {
                    for (var e : new ArrayList<>(podVersions.entrySet())) {
                        String key = e.getKey();
                        if ((ns != null && !key.startsWith(ns + "/")) || e.getValue() >= listVersion) {
                            continue;
                        }
                        Pod now = listed.get(key);
                        if (now == null) {
                            String[] nsName = key.split("/", 2);
                            Pod gone = new io.fabric8.kubernetes.api.model.PodBuilder().withNewMetadata().withNamespace(nsName[0])
                                    .withName(nsName[1]).endMetadata().build();
                            rules.podSeen("DELETED(relist)", podView(gone), Instant.now());
                            podVersions.remove(key);
                            tombstones.put(key, listVersion);
                        } else if (!podView(now).running()) {
                            rules.podSeen("MODIFIED(relist)", podView(now), Instant.now());
                            podVersions.put(key, version(now));
                        }
                    }
                    violated = rules.first().isPresent();
                }
            }
        } catch (RuntimeException e) {
            // kube-apiserver down or restarting: the next LIST corrects the view
        }
    }

    /** Watches pods and policies in {@code namespaces}. */
    public static SafetyInvariants watch(KubernetesClient client, String... namespaces) {
        return new SafetyInvariants(client, List.of(namespaces), SafetyRules.Settings.DEFAULT);
    }

    /** As {@link #watch}, with other timing. */
    public static SafetyInvariants watch(KubernetesClient client, SafetyRules.Settings settings, String... namespaces) {
        return new SafetyInvariants(client, List.of(namespaces), settings);
    }

    /** As {@link #watchAll(KubernetesClient)}, with other timing. */
    public static SafetyInvariants watchAll(KubernetesClient client, SafetyRules.Settings settings) {
        return new SafetyInvariants(client, List.of(), settings);
    }

    /**
     * Pods no controller owns are not fed to the rules: a person's own Pod is outside every trading system, even with
     * the policy label ("out of reach", docs/threat-model.md section 5). For the insider tier, which plays such pods.
     */
    public SafetyInvariants ignoringUnownedPods() {
        this.ignoreUnownedPods = true;
        return this;
    }

    /** The cluster's floor on Live approvals (ExecutionSafety/global spec.minLiveApprovals), when a test sets one. */
    public SafetyInvariants liveApprovalFloor(int floor) {
        this.liveApprovalFloor = floor;
        return this;
    }

    /** Watches pods and policies in every namespace (the end-to-end tier, where suites make their own). */
    public static SafetyInvariants watchAll(KubernetesClient client) {
        return new SafetyInvariants(client, List.of(), SafetyRules.Settings.DEFAULT);
    }

    private <T> ResourceEventHandler<T> handler(Handler<T> seen) {
        return new ResourceEventHandler<>() {
            @Override
            public void onAdd(T obj) {
                seen.accept("ADDED", obj);
            }

            @Override
            public void onUpdate(T old, T obj) {
                seen.accept("MODIFIED", obj);
            }

            @Override
            public void onDelete(T obj, boolean unknownFinalState) {
                seen.accept("DELETED", obj);
            }
        };
    }

    private interface Handler<T> {
        void accept(String type, T obj);
    }

    private void pod(String type, Pod pod) {
        if (ignoreUnownedPods && (pod.getMetadata().getOwnerReferences() == null
                || pod.getMetadata().getOwnerReferences().stream().noneMatch(o -> Boolean.TRUE.equals(o.getController())))) {
            return;
        }
        var view = podView(pod);
        synchronized (rules) {
            String key = pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName();
            long version = version(pod);
            Long tomb = tombstones.get(key);
            if (tomb != null && version < tomb) {
                return; // a stale event of a pod a newer LIST already found gone
            }
            if ("DELETED".equals(type)) {
                podVersions.remove(key);
            } else {
                podVersions.put(key, version);
            }
            rules.podSeen(type, view, Instant.now());
            violated = rules.first().isPresent();
        }
    }

    private void policy(String type, ExecutionPolicy policy) {
        var view = policyView(policy, liveApprovalFloor, liveEscalations);
        synchronized (rules) {
            rules.policySeen(type, view, Instant.now());
            violated = rules.first().isPresent();
        }
    }

    private static long version(Pod pod) {
        try {
            return Long.parseLong(pod.getMetadata().getResourceVersion());
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE;
        }
    }

    static SafetyRules.PodView podView(Pod pod) {
        var meta = pod.getMetadata();
        Map<String, String> annotations = meta.getAnnotations() == null ? Map.of() : meta.getAnnotations();
        Map<String, String> labels = meta.getLabels() == null ? Map.of() : meta.getLabels();
        Optional<OwnerReference> owner = meta.getOwnerReferences() == null ? Optional.empty()
                : meta.getOwnerReferences().stream().filter(o -> Boolean.TRUE.equals(o.getController())).findFirst();
        String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        boolean running = meta.getDeletionTimestamp() == null && !"Succeeded".equals(phase) && !"Failed".equals(phase);
        String mode = annotations.get(MetadataNames.MODE_ANNOTATION);
        var spec = pod.getSpec();
        boolean liveMark = SafetyRules.LIVE.equals(mode) || spec != null && io.marketintel.safety.actuation.ModeMarks.envLists(spec)
                .filter(java.util.Objects::nonNull).flatMap(List::stream)
                .anyMatch(e -> "EXECUTION_MODE".equals(e.getName()) && SafetyRules.LIVE.equals(e.getValue()));
        return new SafetyRules.PodView(meta.getNamespace(), meta.getName(),
                SafetyRules.workload(owner.map(OwnerReference::getKind).orElse(null), owner.map(OwnerReference::getName).orElse(null),
                        labels.get("pod-template-hash"), meta.getName()),
                labels.get(MetadataNames.POLICY_LABEL), mode, running,
                Timestamps.parse(meta.getCreationTimestamp()).orElse(null), liveMark, version(pod));
    }

    static SafetyRules.PolicyView policyView(ExecutionPolicy p) {
        return policyView(p, 0);
    }

    static SafetyRules.PolicyView policyView(ExecutionPolicy p, int liveApprovalFloor) {
        return policyView(p, liveApprovalFloor, new HashMap<>());
    }

    /**
     * The Live approvals an escalation needed, as the watcher saw them: when it first saw the escalation recorded, and
     * last while it was under way.
     */
    record LiveEscalation(String startedAt, int requiredAtStart, int requiredLast) {
    }

    /**
     * @param liveEscalations per policy uid, what its latest escalation to Live needed ({@link LiveEscalation}). A count
     *                        raised during an escalation makes the Live pods that then run forbidden (the operator rolls
     *                        the escalation back: DESIGN §4), not the ones created under the record while it was enough;
     *                        a system that reached Live is judged by the count in force on its way there (a count raised
     *                        later applies to the next escalation), one the watcher never saw on its way by the count now
     */
    static SafetyRules.PolicyView policyView(ExecutionPolicy p, int liveApprovalFloor, Map<String, LiveEscalation> liveEscalations) {
        var meta = p.getMetadata();
        var spec = p.getSpec();
        ExecutionPolicyStatus status = p.getStatus();
        boolean stopAnnotated = meta.getAnnotations() != null && meta.getAnnotations().containsKey(MetadataNames.EMERGENCY_STOP_ANNOTATION);
        boolean stopRecorded = status != null && status.emergencyStop != null && Boolean.TRUE.equals(status.emergencyStop.active);
        var rearm = io.marketintel.safety.killswitch.Latch.parseRearm(
                meta.getAnnotations() == null ? null : meta.getAnnotations().get(MetadataNames.REARMED_BY_ANNOTATION));
        boolean rearmed = stopRecorded && rearm.isPresent() && status.emergencyStop.epoch != null
                && rearm.get().epoch() == status.emergencyStop.epoch;
        int now = Math.max(liveApprovalFloor,
                spec.approval != null && spec.approval.requiredForLive != null ? spec.approval.requiredForLive : 2);
        int required = now; // for the pods that run
        int requiredToCreate = now; // for a Live pod created at this version
        String uid = meta.getUid() == null ? "" : meta.getUid();
        boolean arriving = status != null && status.transition != null && status.transition.to == ExecutionMode.LIVE;
        if (arriving) {
            String startedAt = String.valueOf(status.transition.startedAt);
            var e = liveEscalations.compute(uid, (k, seen) -> seen == null || !seen.startedAt().equals(startedAt)
                    ? new LiveEscalation(startedAt, now, now) : new LiveEscalation(startedAt, seen.requiredAtStart(), now));
            requiredToCreate = e.requiredAtStart();
        } else if (status != null && status.mode == ExecutionMode.LIVE && liveEscalations.containsKey(uid)) {
            required = requiredToCreate = liveEscalations.get(uid).requiredLast();
        }
        boolean approved = false;
        boolean approvedToCreate = false;
        String record = "no escalation to Live recorded";
        if (arriving) {
            approved = SafetyRules.approvedEnough(status.transition.approvers, status.transition.requester, required);
            approvedToCreate = SafetyRules.approvedEnough(status.transition.approvers, status.transition.requester, requiredToCreate);
            record = "transition to Live by " + status.transition.requester + " approved by " + status.transition.approvers;
        } else if (status != null && status.mode == ExecutionMode.LIVE && status.history != null) {
            var arrival = status.history.stream().filter(h -> h.to == ExecutionMode.LIVE).findFirst();
            if (arrival.isPresent()) {
                approved = approvedToCreate = SafetyRules.approvedEnough(arrival.get().approvers, arrival.get().requester, required);
                record = "in Live since " + arrival.get().at + ", requested by " + arrival.get().requester + ", approved by "
                        + arrival.get().approvers;
            }
        }
        Function<Object, String> s = String::valueOf;
        String summary = "spec.mode=" + spec.mode + " status.mode=" + (status == null ? null : status.mode)
                + " transition=" + (status == null || status.transition == null ? null
                        : status.transition.from + "->" + status.transition.to + "@" + status.transition.step)
                + " stop=" + (stopAnnotated ? "annotated" : "-") + "/" + (stopRecorded ? "recorded" : "-") + (rearmed ? "/re-armed" : "")
                + " live-approval(" + required + " needed" + (requiredToCreate != required ? ", " + requiredToCreate + " when recorded" : "")
                + ")=" + record + " rv=" + s.apply(meta.getResourceVersion());
        boolean livePodsAllowed = approvedToCreate && (status.transition == null || status.transition.to == ExecutionMode.LIVE);
        long version;
        try {
            version = Long.parseLong(meta.getResourceVersion());
        } catch (NumberFormatException e) {
            version = 0;
        }
        return new SafetyRules.PolicyView(meta.getNamespace(), meta.getName(), spec.mode == null ? null : spec.mode.wireName(),
                stopAnnotated || stopRecorded && !rearmed, approved, summary, counted(status), livePodsAllowed, version);
    }

    /** Every record of counted approvers in status: the pending approval, the transition and each history entry. */
    static List<SafetyRules.CountedApprovals> counted(ExecutionPolicyStatus status) {
        List<SafetyRules.CountedApprovals> out = new ArrayList<>();
        if (status == null) {
            return out;
        }
        if (status.approval != null && status.approval.approvedBy != null) {
            out.add(new SafetyRules.CountedApprovals("status.approval", status.approval.token, status.approval.requester,
                    status.approval.approvedBy.stream().map(a -> a.user).toList()));
        }
        if (status.transition != null) {
            out.add(new SafetyRules.CountedApprovals("status.transition", null, status.transition.requester, status.transition.approvers));
        }
        if (status.history != null) {
            for (int i = 0; i < status.history.size(); i++) {
                var h = status.history.get(i);
                out.add(new SafetyRules.CountedApprovals("status.history[" + i + "]", null, h.requester, h.approvers));
            }
        }
        return out;
    }

    /** See {@link SafetyRules#witnessApprovals}. */
    public void witnessApprovals(String namespace) {
        synchronized (rules) {
            rules.witnessApprovals(namespace);
        }
    }

    /** See {@link SafetyRules#approvalAttempted}: call before sending the write. */
    public boolean approvalAttempted(String namespace, String policy, String user, String token) {
        synchronized (rules) {
            return rules.approvalAttempted(namespace, policy, user, token);
        }
    }

    /** See {@link SafetyRules#approvalRefused}. */
    public void approvalRefused(String namespace, String policy, String user, String token) {
        synchronized (rules) {
            rules.approvalRefused(namespace, policy, user, token);
        }
    }

    /** True once any invariant was violated: for {@code await(...).failFast(...)}. */
    public boolean violated() {
        return violated;
    }

    public Optional<SafetyRules.Violation> firstViolation() {
        synchronized (rules) {
            return rules.first();
        }
    }

    /** Throws the first violation, with its event trail, if there was one. */
    public void assertNone() {
        synchronized (rules) {
            rules.tick(Instant.now());
            if (rules.first().isPresent()) {
                throw new AssertionError("safety invariant violated (" + rules.violations() + " violation(s) in all): "
                        + rules.first().get());
            }
        }
    }

    public Map<String, Integer> maxAlive() {
        synchronized (rules) {
            return rules.maxAlive();
        }
    }

    public String trail() {
        synchronized (rules) {
            return rules.trail();
        }
    }

    /** Stops watching, then {@link #assertNone()}. */
    @Override
    public void close() {
        ticker.shutdownNow();
        informers.forEach(SharedIndexInformer::close);
        synchronized (rules) {
            rules.judgeLiveCreations(Instant.now(), true);
        }
        assertNone();
    }
}
