package io.marketintel.safety.insider;

import static io.marketintel.safety.insider.InsiderSequencesIT.admin;
import static io.marketintel.safety.insider.InsiderSequencesIT.clients;
import static io.marketintel.safety.insider.InsiderSequencesIT.invariants;
import static io.marketintel.safety.insider.InsiderSequencesIT.tally;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.awaitility.core.ConditionTimeoutException;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.marketintel.safety.admission.StopMarks;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.api.v1alpha1.Timestamps;
import io.marketintel.safety.testing.Namespaces;
import io.marketintel.safety.testing.OperatorProcess;
import io.marketintel.safety.testing.TradingSystem;
import io.marketintel.safety.testing.Writes;

/**
 * One sequence played in a namespace of its own: one trading system (Deployments d0 and d1, policy p, the egress
 * fence the operator keeps), the actors' role bindings, each step sent as the actor, then the checks. Besides the
 * checker, the lane keeps the test's own model of the stop, from what it wrote and nothing else:
 * <ul>
 * <li><b>latched</b> from a stop the test wrote (on p or on its Namespace, p existing) until a designated person's
 * re-arm naming the epoch status showed for that stop, once every stop annotation is off. Deleting or replacing p
 * does not end it: P3 binds the trading system, not the object.</li>
 * <li><b>stop events</b>: stops that could latch p (a stop while not latched; p created under a Namespace stop);
 * history may show no more, and each {@code stoppedBy} is someone the test had stop.</li>
 * </ul>
 */
final class Lane {
    static final String POLICY = "p";
    static final String FENCE = "p-egress-fence";
    static final List<String> WORKLOADS = List.of("d0", "d1");
    static final Duration STOP_DEADLINE = Duration.ofSeconds(60);
    /** Every lane that ran, by namespace, so a violation the checker reports names its sequence and steps. */
    static final Map<String, Lane> byNamespace = new ConcurrentHashMap<>();

    final InsiderSequence sequence;
    final Random random;
    final List<String> log = new ArrayList<>();
    String ns;

    // the test's model of the stop (see the class comment)
    boolean latched;
    String latchUid;
    long epochBefore;
    Instant stopWrittenAt;
    boolean rearmed;
    /** The epoch the valid re-arm named (meaningful while {@link #rearmed}). */
    long rearmedEpoch;
    boolean policyStopOn;
    boolean namespaceStopOn;
    int stopEvents;
    /** Every stop annotation the test set or changed (a second one on a latched policy is news, not a new latch), plus creations under a Namespace stop. */
    int stopWrites;
    final Set<String> reasonsWritten = new HashSet<>();
    /** Namespace stops the test set: the API server counts them (emergency-stop-count), and so may an Event. */
    int namespaceStopsWritten;
    final Set<String> stoppers = new HashSet<>();
    final List<String> tokensSeen = new ArrayList<>();
    /** What the GitOps controller last read of p: what a replace from its cache writes back. */
    ExecutionPolicy gitopsCache;
    ExecutionPolicy lastSeen;
    /** The policy as read before the step: a probe that changed nothing of it (a merge patch that was a no-op) is no finding. */
    ExecutionPolicy stepBefore;
    /** What status said right after the step, for the failure report. */
    String afterStep = "";
    boolean reachedLive;
    boolean startedLive;
    /**
     * The residual docs/threat-model.md names, "stop, unstop and delete before the stop is recorded": p was deleted while
     * the test's stop was latched but before its status ever recorded it. A system left running after that is counted
     * and reported as that residual, not failed; every other stop that does not hold fails.
     */
    boolean deletedBeforeStopRecorded;

    Lane(InsiderSequence sequence) {
        this.sequence = sequence;
        this.random = new Random(sequence.seed() * 31 + sequence.index());
    }

    void play() {
        ns = Namespaces.create(admin, "insider-" + sequence.index());
        byNamespace.put(ns, this);
        InsiderSequencesIT.inFlight.put(ns, this);
        try {
            setUp();
            for (int i = 0; i < sequence.steps().size(); i++) {
                Move.Step step = sequence.steps().get(i);
                if (InsiderSequencesIT.OUTAGE != null && InsiderSequencesIT.OUTAGE[0] == i + 1) {
                    InsiderSequencesIT.fleet.killAll(); // a replay's operator outage: every replica SIGKILLed
                    log.add("   (operator down: every replica SIGKILLed)");
                }
                String outcome;
                try {
                    outcome = perform(step, i);
                } catch (AssertionError e) {
                    throw e;
                } catch (RuntimeException e) {
                    throw failure(i, "the step threw " + e, e);
                }
                log.add((i + 1) + ". " + step + " -> " + outcome);
                tally.steps.incrementAndGet();
                check(i);
                log.set(log.size() - 1, log.get(log.size() - 1) + "   [then " + afterStep + "]");
                if (InsiderSequencesIT.OUTAGE != null && InsiderSequencesIT.OUTAGE[1] == i + 1) {
                    InsiderSequencesIT.fleet.restartDead();
                    log.add("   (operator back: leader " + InsiderSequencesIT.fleet.awaitLeader(Duration.ofSeconds(180)) + ")");
                }
            }
            finish();
        } finally {
            InsiderSequencesIT.inFlight.remove(ns);
            try {
                admin.namespaces().withName(ns).delete();
            } catch (KubernetesClientException e) {
                // cleanup only
            }
        }
    }

    private void setUp() {
        InsiderSequencesIT.bindRoles(ns);
        for (String d : WORKLOADS) {
            TradingSystem.deployment(admin, ns, d, "sys", 1);
        }
        invariants.witnessApprovals(ns);
        // the trader creates the policy: the first write, and a check that edit lets them
        policies(Actor.TRADER).resource(manifest("DryRun")).create();
        // The one wait before the steps, only in sequences that ask for Live and have it approved (the generator's
        // escalation: approver, then requester-approver, approving the current token): the operator adopts p into
        // DryRun first, so that the escalation can start. A liveness need, not a safety check; steps never wait for
        // convergence, and the other sequences (most) start at once.
        if (escalates()) {
            await("p adopted into DryRun").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
                    .ignoreExceptionsInstanceOf(KubernetesClientException.class)
                    .until(() -> {
                        ExecutionPolicy p = read();
                        return p != null && p.getStatus() != null && p.getStatus().mode == ExecutionMode.DRY_RUN;
                    });
        }
        log.add("0. TRADER creates p in DryRun (refs d0, approvers alice and rita, 2 for Live) -> ok" + (escalates() ? ", adopted" : ""));
    }

    /** Whether the sequence holds the generator's approved escalation: two approvals of the current token in a row. */
    private boolean escalates() {
        List<Move.Step> steps = sequence.steps();
        for (int k = 0; k + 1 < steps.size(); k++) {
            if (steps.get(k).move() == Move.APPROVE && steps.get(k + 1).move() == Move.APPROVE
                    && "current".equals(steps.get(k).variant()) && "current".equals(steps.get(k + 1).variant())) {
                return true;
            }
        }
        return false;
    }

    // ---------------------------------------------------------------- the moves

    private String perform(Move.Step step, int i) {
        Actor a = step.actor();
        String v = step.variant();
        ExecutionPolicy before = read();
        stepBefore = before;
        return switch (step.move()) {
            case SET_MODE -> write(step, () -> merge(a, Map.of("spec", Map.of("mode", v))));
            case RETARGET -> write(step, () -> merge(a, Map.of("spec", Map.of("workloads", workloads(v)))));
            case APPROVAL_SETTINGS -> write(step, () -> merge(a, Map.of("spec", Map.of("approval", approvalSettings(v)))));
            case EDIT_REQUESTED_BY -> {
                String outcome = write(step, () -> merge(a, annotation(MetadataNames.REQUESTED_BY_ANNOTATION, v)));
                if (outcome.equals("ok") && before != null) {
                    throw failure(i, "requested-by was edited by hand by " + a.user + " and the API server accepted it", null);
                }
                yield outcome;
            }
            case APPROVE -> approve(step, before);
            case EDIT_APPROVALS, WITHDRAW_APPROVALS -> editApprovals(step, before);
            case STOP_POLICY -> {
                String outcome = write(step, () -> merge(a, annotation(MetadataNames.EMERGENCY_STOP_ANNOTATION,
                        "insider " + sequence.key() + " step " + (i + 1))));
                // Made once the API server answered: a pass that began while the write was in flight may not see it.
                Instant at = Instant.now();
                if (outcome.equals("ok")) {
                    reasonsWritten.add("insider " + sequence.key() + " step " + (i + 1));
                    policyStopOn = true;
                    stopped(a, before, at);
                }
                yield outcome;
            }
            case UNSTOP_POLICY -> {
                awaitStopRecorded(step);
                Map<String, Object> anns = new HashMap<>();
                anns.put(MetadataNames.EMERGENCY_STOP_ANNOTATION, null);
                anns.put(MetadataNames.EMERGENCY_STOP_BY_ANNOTATION, null);
                String outcome = write(step, () -> merge(a, Map.of("metadata", Map.of("annotations", anns))));
                if (outcome.equals("ok")) {
                    policyStopOn = false;
                    maybeReleased();
                }
                yield outcome;
            }
            case REARM -> rearm(step, before);
            case DROP_STOP_LABEL -> {
                Map<String, Object> labels = new HashMap<>();
                labels.put(MetadataNames.STOPPED_LABEL, null);
                String outcome = write(step, () -> merge(a, Map.of("metadata", Map.of("labels", labels))));
                ExecutionPolicy now = read();
                if (outcome.equals("ok") && now != null && !StopMarks.labelled(now) && (stopAnnotated(now) || StopMarks.latched(now.getStatus()))) {
                    throw failure(i, a.user + " removed the stop label of a stopped policy (" + (stopAnnotated(now) ? "annotated" : "latched")
                            + "), so the API server no longer judges its pods by its stop", null);
                }
                yield outcome;
            }
            case DELETE_POLICY -> {
                String outcome = write(step, () -> {
                    if (xp(a).delete().isEmpty()) {
                        throw new KubernetesClientException("not found", 404, null);
                    }
                });
                if (outcome.equals("ok")) {
                    deleted(before);
                    policyStopOn = false; // gone with the object; the trading system stays stopped (P3)
                }
                yield outcome;
            }
            case CREATE_POLICY -> created(step, before, () -> policies(a).resource(manifest(v)).create());
            case GITOPS_APPLY -> created(step, before, () -> {
                gitopsCache = before;
                policies(a).resource(manifest(v)).fieldManager("gitops-controller").forceConflicts().serverSideApply();
            });
            case GITOPS_REPLACE -> replace(step, before);
            case GITOPS_RECREATE -> {
                String deleted = write(step, () -> xp(a).delete());
                if (deleted.equals("ok")) {
                    deleted(before);
                    policyStopOn = false;
                }
                yield "delete " + deleted + ", create " + created(step, read(), () -> policies(a).resource(manifest("DryRun")).create());
            }
            case STOP_NAMESPACE -> {
                String outcome = write(step, () -> client(a).namespaces().withName(ns).patch(PatchContext.of(PatchType.JSON_MERGE),
                        json(annotation(MetadataNames.EMERGENCY_STOP_ANNOTATION, "insider " + sequence.key() + " step " + (i + 1)))));
                Instant at = Instant.now();
                if (outcome.equals("ok")) {
                    reasonsWritten.add("insider " + sequence.key() + " step " + (i + 1));
                    namespaceStopsWritten++;
                    namespaceStopOn = true;
                    if (before != null) {
                        stopped(a, before, at);
                    } else {
                        stoppers.add(a.user);
                        stopWrites++;
                    }
                }
                yield outcome;
            }
            case UNSTOP_NAMESPACE -> {
                awaitStopRecorded(step);
                Map<String, Object> anns = new HashMap<>();
                anns.put(MetadataNames.EMERGENCY_STOP_ANNOTATION, null);
                anns.put(MetadataNames.EMERGENCY_STOP_BY_ANNOTATION, null);
                String outcome = write(step, () -> client(a).namespaces().withName(ns).patch(PatchContext.of(PatchType.JSON_MERGE),
                        json(Map.of("metadata", Map.of("annotations", anns)))));
                if (outcome.equals("ok")) {
                    namespaceStopOn = false;
                    maybeReleased();
                }
                yield outcome;
            }
            case STOP_CLUSTER -> write(step, () -> client(a).resources(io.marketintel.safety.api.v1alpha1.ExecutionSafety.class)
                    .withName("global").patch(PatchContext.of(PatchType.JSON_MERGE), json(annotation(
                            MetadataNames.EMERGENCY_STOP_ANNOTATION, "stop".equals(v) ? "insider " + sequence.key() : null))));
            case RAISE_STOPS_RECORDED -> {
                var namespace = admin.namespaces().withName(ns).get();
                long count = io.marketintel.safety.killswitch.StopWatcher.count(namespace);
                boolean raise = count > StopMarks.recorded(namespace);
                // Guarded by the version read, so that an accepted write raised exactly what was read (the operator may
                // raise it itself meanwhile: then this write is a 409, not a raise).
                Map<String, Object> anns = new HashMap<>();
                anns.put(MetadataNames.EMERGENCY_STOPS_RECORDED_ANNOTATION, Long.toString(count));
                String outcome = write(step, () -> client(a).namespaces().withName(ns).patch(PatchContext.of(PatchType.JSON_MERGE),
                        json(Map.of("metadata", Map.of("resourceVersion", namespace.getMetadata().getResourceVersion(), "annotations", anns)))));
                if (outcome.equals("ok") && raise) {
                    throw failure(i, a.user + " raised the Namespace's count of recorded stops to " + count
                            + ": the API server would admit the pods of a policy that has not recorded a stop", null);
                }
                yield outcome;
            }
            case FORGE_CEILINGS -> {
                var namespace = admin.namespaces().withName(ns).get();
                String held = namespace.getMetadata().getAnnotations() == null ? ""
                        : namespace.getMetadata().getAnnotations().getOrDefault(MetadataNames.REPLICA_CEILINGS_ANNOTATION, "");
                // Every count raised by 5 (more pods than the mode's count would be admitted), or the register removed.
                String forged = "remove".equals(v) ? null
                        : io.marketintel.safety.admission.ReplicaCeilings.render(io.marketintel.safety.admission.ReplicaCeilings.entries(held)
                                .stream().map(c -> new io.marketintel.safety.admission.ReplicaCeilings.Ceiling(c.kind(), c.name(),
                                        c.replicas() + 5, c.policy(), c.mode())).toList());
                boolean loosens = !held.isEmpty() && !held.equals(forged == null ? "" : forged);
                Map<String, Object> anns = new HashMap<>();
                anns.put(MetadataNames.REPLICA_CEILINGS_ANNOTATION, forged);
                // Guarded by the version read, so that an accepted write changed exactly what was read.
                String outcome = write(step, () -> client(a).namespaces().withName(ns).patch(PatchContext.of(PatchType.JSON_MERGE),
                        json(Map.of("metadata", Map.of("resourceVersion", namespace.getMetadata().getResourceVersion(), "annotations", anns)))));
                if (outcome.equals("ok") && loosens) {
                    throw failure(i, a.user + " changed the Namespace's replica ceilings (" + v + "): the API server would admit a raise"
                            + " of a governed workload's replicas above the count the operator set", null);
                }
                yield outcome;
            }
            case EDIT_GUARD -> {
                int port = ("listed".equals(v) ? InsiderSequencesIT.LISTED : InsiderSequencesIT.UNLISTED).port();
                yield write(step, () -> client(a).resources(ExecutionPolicy.class).inNamespace(ns).withName(POLICY)
                        .patch(PatchContext.of(PatchType.JSON_MERGE), json(Map.of("spec", Map.of("guards", List.of(Map.of("name", "peek",
                                "type", "Http", "http", Map.of("url", "http://127.0.0.1:" + port + "/admin/users"))))))));
            }
            case EDIT_MONITOR -> editMonitors(step, before, i);
            case SCALE_WORKLOAD -> {
                String[] dn = v.split(":");
                yield write(step, () -> client(a).apps().deployments().inNamespace(ns).withName(dn[0]).scale(Integer.parseInt(dn[1])));
            }
            case EDIT_WORKLOAD -> {
                String[] dk = v.split(":");
                String live = "{\"name\":\"EXECUTION_MODE\",\"value\":\"Live\"}";
                var deployment = client(a).apps().deployments().inNamespace(ns).withName(dk[0]);
                yield write(step, () -> {
                    switch (dk[1]) {
                        case "env-twice" -> deployment.patch(PatchContext.of(PatchType.JSON),
                                "[{\"op\":\"add\",\"path\":\"/spec/template/spec/containers/0/env/-\",\"value\":" + live + "}]");
                        case "sidecar-live" -> deployment.patch(PatchContext.of(PatchType.JSON),
                                "[{\"op\":\"add\",\"path\":\"/spec/template/spec/initContainers\",\"value\":[{\"name\":\"feed\","
                                        + "\"image\":\"registry.example/feed:1\",\"restartPolicy\":\"Always\",\"env\":[" + live + "]}]}]");
                        case "mode-live" -> deployment.patch(PatchContext.of(PatchType.STRATEGIC_MERGE), "{\"spec\":{\"template\":{"
                                + "\"metadata\":{\"annotations\":{\"" + MetadataNames.MODE_ANNOTATION + "\":\"Live\"}},\"spec\":{\"containers\":["
                                + "{\"name\":\"strategy\",\"env\":[" + live + "]},{\"name\":\"gateway-sidecar\",\"env\":[" + live + "]}]}}}}");
                        default -> deployment.patch(PatchContext.of(PatchType.STRATEGIC_MERGE), "{\"spec\":{\"template\":{\"spec\":{\"containers\":["
                                + ("env-live".equals(dk[1]) ? "{\"name\":\"strategy\",\"env\":[" + live + "]}"
                                        : "{\"name\":\"strategy\",\"image\":\"registry.example/" + dk[0] + ":1." + (i + 1) + "\"}")
                                + "]}}}}");
                    }
                });
            }
            case CREATE_WORKLOAD -> write(step, () -> client(a).apps().deployments().inNamespace(ns).resource(newWorkload(i, v)).create());
            case RELABEL_WORKLOAD -> {
                String[] dl = v.split(":");
                Map<String, Object> labels = new HashMap<>();
                String patch;
                if ("drop-policy-label".equals(dl[1])) {
                    labels.put(MetadataNames.POLICY_LABEL, null);
                    patch = json(Map.of("metadata", Map.of("labels", labels), "spec",
                            Map.of("template", Map.of("metadata", Map.of("labels", labels)))));
                } else {
                    labels.put(TradingSystem.PART_OF, dl[1]);
                    patch = json(Map.of("metadata", Map.of("labels", labels)));
                }
                yield write(step, () -> client(a).apps().deployments().inNamespace(ns).withName(dl[0])
                        .patch(PatchContext.of(PatchType.JSON_MERGE), patch));
            }
            case BARE_POD -> write(step, () -> client(a).pods().inNamespace(ns).resource(barePod(i, v)).create());
            case EDIT_FENCE -> write(step, () -> {
                var fence = client(a).network().networkPolicies().inNamespace(ns).withName(FENCE);
                if ("delete".equals(v)) {
                    if (fence.delete().isEmpty()) {
                        throw new KubernetesClientException("not found", 404, null);
                    }
                } else {
                    fence.patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"egress\":[{}]}}");
                }
            });
        };
    }

    private String approve(Move.Step step, ExecutionPolicy before) {
        Actor a = step.actor();
        String current = currentToken(before);
        String token = switch (step.variant()) {
            case "current" -> current;
            case "stale" -> tokensSeen.stream().filter(t -> !t.equals(current)).reduce((x, y) -> y).orElse(madeUp());
            default -> madeUp();
        };
        String value = "forged-name".equals(step.variant()) ? Actor.APPROVER.user.equals(a.user) ? "rita " + token : "alice " + token : token;
        // The ground truth, reported before the write: a forged line approves nothing, so it is not witnessed.
        boolean fresh = !"forged-name".equals(step.variant()) && invariants.approvalAttempted(ns, POLICY, a.user, token);
        String outcome = write(step, () -> merge(a, annotation(MetadataNames.APPROVE_ANNOTATION, value)));
        if (!outcome.equals("ok") && fresh) {
            invariants.approvalRefused(ns, POLICY, a.user, token);
        }
        return "approve=" + value + " " + outcome;
    }

    private String editApprovals(Move.Step step, ExecutionPolicy before) {
        Actor a = step.actor();
        String lines = before == null ? null : annotations(before).get(MetadataNames.APPROVALS_ANNOTATION);
        String token = currentToken(before);
        String value = switch (step.variant()) {
            case "own-line" -> (lines == null || lines.isEmpty() ? "" : lines + "\n") + a.user + " " + token;
            case "other-line" -> (lines == null || lines.isEmpty() ? "" : lines + "\n") + "bob " + token;
            default -> null;
        };
        boolean fresh = "own-line".equals(step.variant()) && invariants.approvalAttempted(ns, POLICY, a.user, token);
        String outcome = write(step, () -> merge(a, annotation(MetadataNames.APPROVALS_ANNOTATION, value)));
        if (!outcome.equals("ok") && fresh) {
            invariants.approvalRefused(ns, POLICY, a.user, token);
        }
        return outcome;
    }

    private String rearm(Move.Step step, ExecutionPolicy before) {
        var es = before == null || before.getStatus() == null ? null : before.getStatus().emergencyStop;
        long epoch = es == null || es.epoch == null ? 0 : es.epoch;
        long named = switch (step.variant()) {
            case "next" -> epoch + 1;
            case "old" -> Math.max(0, epoch - 1);
            default -> epoch;
        };
        // Valid only if it names the epoch of the stop the test made as status shows it when the re-arm is written: the
        // patch's answer is the object at that very write, status included (a read before it could be a moment stale).
        ExecutionPolicy[] written = new ExecutionPolicy[1];
        String outcome = write(step, () -> written[0] = xp(step.actor()).patch(PatchContext.of(PatchType.JSON_MERGE),
                json(annotation(MetadataNames.REARM_ANNOTATION, Long.toString(named)))));
        var atWrite = written[0] == null || written[0].getStatus() == null ? null : written[0].getStatus().emergencyStop;
        boolean valid = latched && atWrite != null && Boolean.TRUE.equals(atWrite.active) && atWrite.epoch != null
                && named == atWrite.epoch && (!written[0].getMetadata().getUid().equals(latchUid) || named > epochBefore);
        if (outcome.equals("ok") && valid) {
            rearmed = true;
            rearmedEpoch = named;
            maybeReleased();
        }
        return "epoch " + named + (valid ? " (re-arms the stop)" : "") + " " + outcome;
    }

    private String replace(Move.Step step, ExecutionPolicy before) {
        if (before == null) {
            return "nothing to replace";
        }
        ExecutionPolicy body = "put-stale".equals(step.variant()) && gitopsCache != null ? gitopsCache : manifest("DryRun");
        gitopsCache = before;
        ExecutionPolicy put = admin.getKubernetesSerialization().clone(body);
        put.setStatus(null);
        put.getMetadata().setManagedFields(null);
        put.getMetadata().setUid(null);
        String outcome = write(step, () -> Writes.put(client(step.actor()), put, this::read));
        if (outcome.equals("ok")) {
            // A copy whose stop annotation differs from the one in force (a stale copy: an earlier stop's reason, or a
            // stop since removed) writes a stop as the API server sees it: the stopper policy names whoever PUT it (CI,
            // seed 1796559003543:341: a stale PUT by the trader before the operator had recorded the approver's stop).
            String was = annotations(before).get(MetadataNames.EMERGENCY_STOP_ANNOTATION);
            String now = annotations(body).get(MetadataNames.EMERGENCY_STOP_ANNOTATION);
            if (now != null && !now.equals(was)) {
                stopped(step.actor(), before, Instant.now());
            }
            policyStopOn = now != null;
            rearmErased();
            maybeReleased();
        }
        return step.variant() + " " + outcome;
    }

    /** A write that may create p: a creation under a Namespace stop is a stop event, and latches if nothing did. */
    private String created(Move.Step step, ExecutionPolicy before, Runnable create) {
        String outcome = write(step, create);
        ExecutionPolicy after = read();
        if (outcome.equals("ok") && before == null && after != null && namespaceStopOn) {
            stopEvents++;
            stopWrites++;
            if (!latched) {
                latch(after.getMetadata().getUid(), 0, Instant.now());
            }
        }
        return outcome;
    }

    private void deleted(ExecutionPolicy before) {
        var es = before == null || before.getStatus() == null ? null : before.getStatus().emergencyStop;
        if (latched && before != null && before.getMetadata().getUid().equals(latchUid)
                && (es == null || es.epoch == null || es.epoch <= epochBefore)) {
            deletedBeforeStopRecorded = true;
        }
    }

    private void stopped(Actor a, ExecutionPolicy before, Instant at) {
        stoppers.add(a.user);
        stopWrites++;
        if (!latched && before != null) {
            var es = before.getStatus() == null ? null : before.getStatus().emergencyStop;
            stopEvents++;
            latch(before.getMetadata().getUid(), es == null || es.epoch == null ? 0 : es.epoch, at);
        }
    }

    private void latch(String uid, long epoch, Instant at) {
        latched = true;
        latchUid = uid;
        epochBefore = epoch;
        stopWrittenAt = at;
        rearmed = false;
        tally.stops.incrementAndGet();
    }

    /**
     * A PUT replaces the annotations: one whose body does not carry the re-arm the test made erases it, and if the
     * operator had not acted on it yet (status still shows that epoch's stop, and a release decided from the copy before
     * the PUT cannot land: its status write carries that copy's resourceVersion) it never will. The system stays stopped
     * and a re-arm is needed again, of the same epoch (a stop set meanwhile is absorbed into it). CI, seed
     * 1796570670411:484, and 1796567115094:329 and :346: REARM current, GITOPS_REPLACE, STOP_NAMESPACE, then a re-arm of
     * that epoch after the Namespace stop was removed, which the model had refused as one made before that stop.
     */
    private void rearmErased() {
        if (!rearmed) {
            return;
        }
        ExecutionPolicy after = read();
        if (after == null || !after.getMetadata().getUid().equals(latchUid)) {
            return;
        }
        var es = after.getStatus() == null ? null : after.getStatus().emergencyStop;
        boolean stillHeld = es != null && Boolean.TRUE.equals(es.active) && es.epoch != null && es.epoch == rearmedEpoch;
        boolean kept = io.marketintel.safety.killswitch.Latch.parseRearm(annotations(after).get(MetadataNames.REARMED_BY_ANNOTATION))
                .filter(r -> r.epoch() == rearmedEpoch).isPresent();
        if (stillHeld && !kept) {
            rearmed = false;
            if (!latched) {
                latched = true;
                tally.releases.decrementAndGet();
                log.add("       (the PUT erased the re-arm of epoch " + rearmedEpoch + " before the operator acted on it: still stopped)");
            }
        }
    }

    private void maybeReleased() {
        if (latched && rearmed && !policyStopOn && !namespaceStopOn) {
            latched = false;
            tally.releases.incrementAndGet();
        }
    }

    // ---------------------------------------------------------------- the checks

    /** After every step: the checker, then the test's model of the stop against status (P3, P4). */
    private void check(int i) {
        if (invariants.violated()) {
            throw violation(i);
        }
        ExecutionPolicy p = read();
        afterStep = p == null ? "p absent" : "p uid " + p.getMetadata().getUid().substring(0, 8) + (p.getStatus() == null ? " no status"
                : " mode " + p.getStatus().mode + " stop " + describe(p.getStatus().emergencyStop).replaceAll(" \\(.*", ""));
        if (p == null || p.getStatus() == null) {
            return;
        }
        lastSeen = p;
        var s = p.getStatus();
        // Nothing an internal endpoint answered reaches status (issue 21, item 4: a fixed vocabulary of outcomes).
        String shown = json(s);
        if (shown.contains(InsiderSequencesIT.InternalEndpoint.SECRET)) {
            throw failure(i, "a guard's reply reached status: " + shown, null);
        }
        if (s.mode == ExecutionMode.LIVE && !reachedLive) {
            reachedLive = true;
            tally.liveReached.incrementAndGet();
        }
        if (s.transition != null && s.transition.to == ExecutionMode.LIVE && !startedLive) {
            startedLive = true; // approvals counted and the escalation under way (CountedApprovers checks its approvers)
            tally.liveStarted.incrementAndGet();
        }
        if (s.approval != null && s.approval.token != null && !tokensSeen.contains(s.approval.token)) {
            tokensSeen.add(s.approval.token);
        }
        var es = s.emergencyStop;
        // A stop annotation still in force when the operator acts on an earlier epoch's re-arm (written a moment before it
        // read the Namespace) is latched again by its next pass as a new epoch: not released, which the end of the
        // sequence checks (stop recorded, no pod running). Released is when no stop the test made is in force.
        if (latched && !rearmed && !policyStopOn && !namespaceStopOn && es != null && !Boolean.TRUE.equals(es.active)
                && p.getMetadata().getUid().equals(latchUid)
                && es.rearmedAt != null && Timestamps.parse(es.rearmedAt).map(t -> t.isAfter(stopWrittenAt)).orElse(false)) {
            throw failure(i, "P3: the stop the test made at " + stopWrittenAt + " (epoch before it " + epochBefore
                    + ") was released at " + es.rearmedAt + " by " + es.rearmedBy + " (epoch " + es.epoch + ": " + es.message
                    + "), but no re-arm of that stop was made after it", null);
        }
        long stopsInHistory = s.history == null ? 0 : s.history.stream().filter(h -> "EmergencyStop".equals(h.trigger)).count();
        if (stopsInHistory > stopEvents) {
            throw failure(i, "P4: status.history of p records " + stopsInHistory + " emergency stop(s), the test made " + stopEvents
                    + ": " + history(s), null);
        }
        if (es != null && es.stoppedBy != null && !stoppers.contains(es.stoppedBy)) {
            throw failure(i, "P4: status.emergencyStop.stoppedBy is " + es.stoppedBy + ", who stopped nothing (stoppers " + stoppers + ")", null);
        }
    }

    /** End of the sequence: a system the test stopped and did not re-arm runs no pod once the stop had time (P3). */
    private void finish() {
        // P4: Events announce no stop the test did not make (EmergencyStopped: a stop latched, or its reason changed)
        List<String> announced = admin.v1().events().inNamespace(ns).list().getItems().stream()
                .filter(e -> "EmergencyStopped".equals(e.getReason()) && e.getInvolvedObject() != null
                        && "ExecutionPolicy".equals(e.getInvolvedObject().getKind()))
                .map(e -> e.getFirstTimestamp() + " uid " + e.getInvolvedObject().getUid() + " rv " + e.getInvolvedObject().getResourceVersion()
                        + " by " + e.getReportingInstance() + ": " + e.getMessage())
                .sorted().toList();
        // Each Event must name a stop reason the test wrote (every reason is unique: "insider SEED:INDEX step N"); the
        // same stop announced more than once is counted and reported in the summary, not failed: it shows no stop the
        // test did not make.
        // A Namespace stop whose annotation was gone before the operator saw it is announced by its number instead
        // (issue 20: "stop #N of Namespace/NS was removed before this policy recorded it"): the test's if it set N.
        java.util.regex.Pattern reason = java.util.regex.Pattern.compile("insider [0-9-]+:[0-9]+ step [0-9]+");
        java.util.regex.Pattern counted = java.util.regex.Pattern.compile("stop #([0-9]+) of Namespace/" + java.util.regex.Pattern.quote(ns)
                + " was removed before this policy recorded it");
        Map<String, Integer> byReason = new java.util.TreeMap<>();
        for (String e : announced) {
            var m = reason.matcher(e);
            var c = counted.matcher(e);
            String key = m.find() ? m.group() : c.find() && Integer.parseInt(c.group(1)) <= namespaceStopsWritten
                    ? "namespace stop #" + c.group(1) : "(no reason the test wrote)";
            if (key.startsWith("namespace stop #")) {
                reasonsWritten.add(key);
            }
            byReason.merge(key, 1, Integer::sum);
        }
        if (!reasonsWritten.containsAll(byReason.keySet())) {
            ExecutionPolicy p = read();
            throw failure(sequence.steps().size() - 1, "P4: EmergencyStopped Event(s) on p announce a stop the test did not make: "
                    + announced + " (stop reasons the test wrote: " + reasonsWritten + "); status.emergencyStop "
                    + (p == null || p.getStatus() == null ? null : describe(p.getStatus().emergencyStop)), null);
        }
        int repeats = announced.size() - byReason.size();
        if (repeats > 0) {
            tally.repeatedStopEvents(sequence.key(), repeats, byReason);
        }
        if (!latched) {
            return;
        }
        tally.latchedAtEnd.incrementAndGet();
        String[] last = new String[1];
        try {
            await("no pod of the stopped system runs").atMost(STOP_DEADLINE).pollInterval(Duration.ofMillis(250))
                    .ignoreExceptionsInstanceOf(KubernetesClientException.class).failFast("safety invariant", invariants::violated)
                    .until(() -> {
                        ExecutionPolicy p = read();
                        List<String> running = systemPods(p);
                        boolean recorded = p == null || StopMarks.latched(p.getStatus());
                        last[0] = "running " + running + ", stop recorded " + recorded + (p == null ? " (p deleted)"
                                : ", status.emergencyStop " + (p.getStatus() == null ? null : describe(p.getStatus().emergencyStop)));
                        return running.isEmpty() && recorded;
                    });
        } catch (ConditionTimeoutException e) {
            if (deletedBeforeStopRecorded) {
                tally.residual(sequence.key(), last[0]);
                return;
            }
            throw failure(sequence.steps().size() - 1, "P3: the system the test stopped (stop written at " + stopWrittenAt
                    + ", not re-armed) still runs after " + STOP_DEADLINE.toSeconds() + " s: " + last[0], e);
        } catch (org.awaitility.core.TerminalFailureException e) {
            throw violation(sequence.steps().size() - 1);
        }
    }

    /**
     * Running pods of the system: labelled for p (a bare one too: a stop deletes it, issue 20), or owned by a Deployment
     * p's spec (or, p gone, its last spec) points at.
     */
    private List<String> systemPods(ExecutionPolicy p) {
        if (p != null) {
            lastSeen = p;
        }
        Set<String> targeted = new HashSet<>();
        if (lastSeen != null && lastSeen.getSpec().workloads != null) {
            var w = lastSeen.getSpec().workloads;
            if (w.refs != null) {
                w.refs.forEach(r -> targeted.add(r.name));
            }
            if (w.selector != null && w.selector.getMatchLabels() != null) {
                for (Deployment d : admin.apps().deployments().inNamespace(ns).list().getItems()) {
                    Map<String, String> labels = d.getMetadata().getLabels() == null ? Map.of() : d.getMetadata().getLabels();
                    if (labels.entrySet().containsAll(w.selector.getMatchLabels().entrySet())) {
                        targeted.add(d.getMetadata().getName());
                    }
                }
            }
        }
        List<String> running = new ArrayList<>();
        for (Pod pod : admin.pods().inNamespace(ns).list().getItems()) {
            Map<String, String> labels = pod.getMetadata().getLabels() == null ? Map.of() : pod.getMetadata().getLabels();
            boolean owned = pod.getMetadata().getOwnerReferences() != null && !pod.getMetadata().getOwnerReferences().isEmpty();
            // A pod labelled for p is the system's, bare or not (issue 20: a stop deletes it too).
            boolean ours = POLICY.equals(labels.get(MetadataNames.POLICY_LABEL)) || owned && targeted.contains(labels.get("app"));
            String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
            if (ours && pod.getMetadata().getDeletionTimestamp() == null && !"Succeeded".equals(phase) && !"Failed".equals(phase)) {
                running.add(pod.getMetadata().getName());
            }
        }
        return running;
    }

    private AssertionError violation(int i) {
        var v = invariants.firstViolation().orElseThrow();
        Lane owner = byNamespace.values().stream().filter(l -> v.message().contains(l.ns + "/")).findFirst().orElse(null);
        String trail = owner == null ? v.trail() : String.join("\n", v.trail().lines().filter(l -> l.contains(owner.ns + "/")).toList());
        String what = v.invariant() + " at " + v.at() + ": " + v.message() + "\nevent trail of " + (owner == null ? "all namespaces" : owner.ns)
                + " (oldest first):\n" + trail;
        if (owner == null || owner == this) {
            return failure(i, "safety invariant violated: " + what, null);
        }
        return owner.failure(owner.log.size() - 1, "safety invariant violated (seen by sequence " + sequence.key() + "): " + what, null);
    }

    AssertionError failure(int i, String what, Throwable cause) {
        return new AssertionError("insider sequence " + sequence.key() + " (namespace " + ns + ") failed at step " + (i + 1) + ": "
                + what + "\n" + report() + "\nreplay: ./mvnw -B -o verify -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false "
                + "-Dit.test=InsiderSequencesIT -Dinsider.replay=" + sequence.key() + InsiderSequencesIT.leaveOut(), cause);
    }

    String report() {
        return sequence + "\n  played:\n    " + String.join("\n    ", log) + "\n  model: latched " + latched + " (epoch before "
                + epochBefore + ", re-armed " + rearmed + "), stop annotations policy " + policyStopOn + " namespace " + namespaceStopOn
                + ", stop events " + stopEvents + " (stop writes " + stopWrites + "), stoppers " + stoppers;
    }

    /**
     * Adds, loosens or removes p's risk monitors, guarded by the version read so that the check below judges exactly what
     * was written over: a loosening or a removal accepted while p was Live (or on its approved way there, as the Live
     * freeze reads status) fails the sequence.
     */
    private String editMonitors(Move.Step step, ExecutionPolicy before, int i) {
        List<Map<String, Object>> now = new ArrayList<>();
        if (before != null && before.getSpec().monitors != null) {
            before.getSpec().monitors.forEach(m -> now.add(new LinkedHashMap<>(Map.of("name", m.name, "query", m.query,
                    "comparison", m.comparison.name(), "threshold", m.threshold))));
        }
        List<Map<String, Object>> next = switch (step.variant()) {
            case "add" -> {
                List<Map<String, Object>> more = new ArrayList<>(now);
                more.add(Map.of("name", "m" + now.size(), "query", "vector(0)", "comparison", "GreaterThan", "threshold", 100));
                yield more;
            }
            case "loosen" -> {
                now.forEach(m -> m.put("threshold", ((Number) m.get("threshold")).doubleValue() * 10));
                yield now;
            }
            default -> null;
        };
        boolean loosens = !now.isEmpty() && !"add".equals(step.variant());
        // As the freeze reads it: p stays Live in spec, and its status lets Live run (the operator's own predicate).
        boolean frozen = before != null && before.getSpec().mode == ExecutionMode.LIVE
                && io.marketintel.safety.actuation.Convergence.Write.liveAllowedBy(before.getStatus());
        Map<String, Object> spec = new HashMap<>();
        spec.put("monitors", next);
        Map<String, Object> patch = new HashMap<>(Map.of("spec", spec));
        if (before != null) {
            patch.put("metadata", Map.of("resourceVersion", before.getMetadata().getResourceVersion()));
        }
        String outcome = write(step, () -> client(step.actor()).resources(ExecutionPolicy.class).inNamespace(ns).withName(POLICY)
                .patch(PatchContext.of(PatchType.JSON_MERGE), json(patch)));
        if (outcome.equals("ok") && loosens && frozen) {
            throw failure(i, step.actor().user + " " + step.variant() + "d the risk monitors of p while it ran Live (or was on its"
                    + " approved way there), and the API server accepted it", null);
        }
        return outcome;
    }

    // ---------------------------------------------------------------- writes as the actor

    /** Sends the write; "ok" or "refused CODE: message". A probe must be refused. */
    private String write(Move.Step step, Runnable write) {
        String outcome;
        try {
            write.run();
            outcome = "ok";
        } catch (KubernetesClientException e) {
            if (e.getCode() == 0) {
                throw e; // no answer from the API server at all
            }
            String message = e.getStatus() != null && e.getStatus().getMessage() != null ? e.getStatus().getMessage() : e.getMessage();
            outcome = "refused " + e.getCode() + ": " + (message.length() > 160 ? message.substring(0, 160) + "..." : message);
        }
        boolean accepted = outcome.equals("ok");
        tally.outcome(step.move(), accepted);
        if (step.probe()) {
            if (accepted && changedNothing(step)) {
                return "accepted as a no-op (nothing changed)";
            }
            if (accepted) {
                throw failure(log.size() - 1, "probe " + step + " was accepted: " + step.actor() + " holds " + step.actor().roles
                        + ", which do not allow it", null);
            }
            tally.probes.incrementAndGet();
        }
        return outcome;
    }

    /** For a policy write: spec and annotations as they were before it (the operator writes only status). */
    private boolean changedNothing(Move.Step step) {
        if (step.move().name().startsWith("STOP_NAMESPACE") || step.move().needs.stream().noneMatch(r -> r.name().startsWith("POLICY_"))) {
            return false;
        }
        ExecutionPolicy now = read();
        if (now == null || stepBefore == null) {
            return now == null && stepBefore == null;
        }
        return json(now.getSpec()).equals(json(stepBefore.getSpec())) && annotations(now).equals(annotations(stepBefore))
                && now.getMetadata().getUid().equals(stepBefore.getMetadata().getUid());
    }

    private void merge(Actor a, Map<String, ?> patch) {
        xp(a).patch(PatchContext.of(PatchType.JSON_MERGE), json(patch));
    }

    private io.fabric8.kubernetes.client.dsl.NonNamespaceOperation<ExecutionPolicy, io.fabric8.kubernetes.api.model.KubernetesResourceList<ExecutionPolicy>, Resource<ExecutionPolicy>> policies(Actor a) {
        return client(a).resources(ExecutionPolicy.class).inNamespace(ns);
    }

    private Resource<ExecutionPolicy> xp(Actor a) {
        return client(a).resources(ExecutionPolicy.class).inNamespace(ns).withName(POLICY);
    }

    private static KubernetesClient client(Actor a) {
        return clients.get(a);
    }

    /**
     * For an unstop {@code seen}: up to 30 s until status records the stop the test made (active, with a newer epoch on
     * the policy it latched). A liveness need, not a check: on timeout (the operator down) the unstop goes ahead.
     */
    private void awaitStopRecorded(Move.Step step) {
        if (!"seen".equals(step.variant()) || !latched) {
            return;
        }
        try {
            await("the stop recorded in status").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                    .ignoreExceptionsInstanceOf(KubernetesClientException.class)
                    .until(() -> {
                        ExecutionPolicy p = read();
                        var es = p == null || p.getStatus() == null ? null : p.getStatus().emergencyStop;
                        return p == null || es != null && Boolean.TRUE.equals(es.active) && es.epoch != null
                                && (!p.getMetadata().getUid().equals(latchUid) || es.epoch > epochBefore);
                    });
        } catch (ConditionTimeoutException e) {
            log.add("   (the stop was not recorded within 30 s; unstopping anyway)");
        }
    }

    private static boolean stopAnnotated(ExecutionPolicy p) {
        return p.getMetadata().getAnnotations() != null
                && p.getMetadata().getAnnotations().containsKey(MetadataNames.EMERGENCY_STOP_ANNOTATION);
    }

    private ExecutionPolicy read() {
        return admin.resources(ExecutionPolicy.class).inNamespace(ns).withName(POLICY).get();
    }

    /**
     * The token status shows now; when an escalation is waiting for one not yet shown, an approver waits up to 10 s for it
     * (as a person reads it from status). Without one, a made-up token.
     */
    private String currentToken(ExecutionPolicy seen) {
        ExecutionPolicy p = seen;
        if (p == null) {
            return madeUp();
        }
        boolean escalating = p.getSpec().mode == ExecutionMode.LIVE && (p.getStatus() == null || p.getStatus().mode != ExecutionMode.LIVE);
        if (escalating) {
            try {
                ExecutionPolicy shown = await("approval token shown").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                        .until(this::read, x -> x == null || x.getStatus() != null && x.getStatus().approval != null
                                && x.getStatus().approval.token != null
                                && seen.getMetadata().getGeneration().equals(x.getStatus().observedGeneration));
                p = shown == null ? p : shown;
            } catch (ConditionTimeoutException e) {
                // not shown in time: approve whatever status shows
            }
        }
        return p.getStatus() != null && p.getStatus().approval != null && p.getStatus().approval.token != null
                ? p.getStatus().approval.token : madeUp();
    }

    private String madeUp() {
        return Long.toHexString(random.nextLong() | Long.MIN_VALUE);
    }

    // ---------------------------------------------------------------- objects

    private ExecutionPolicy manifest(String mode) {
        return admin.getKubernetesSerialization().unmarshal("""
                apiVersion: safety.marketintel.io/v1alpha1
                kind: ExecutionPolicy
                metadata: {name: %s, namespace: %s, labels: {%s: process}}
                spec:
                  mode: %s
                  workloads: {refs: [{kind: Deployment, name: d0}]}
                  replicas: {backtest: 1, dryRun: 1, live: 1}
                  approval: {requiredForLive: 2, approvers: {users: [alice, rita]}}
                  riskLimits: {maxOrderNotional: 1000, maxPosition: 1000, maxDailyLoss: 100, maxOrdersPerSecond: 5}
                  liveEgress: [{cidr: 203.0.113.0/24, ports: [{port: 443}]}]
                """.formatted(POLICY, ns, OperatorProcess.LABEL, mode), ExecutionPolicy.class);
    }

    private static Map<String, Object> workloads(String v) {
        Map<String, Object> w = new HashMap<>();
        w.put("refs", null);
        w.put("selector", null);
        String refs = v.startsWith("refs:") ? v.substring(5).replace("+selector", "") : null;
        if (refs != null) {
            w.put("refs", java.util.Arrays.stream(refs.split(",")).map(n -> Map.of("kind", "Deployment", "name", n)).toList());
        }
        if (v.contains("selector")) {
            w.put("selector", Map.of("matchLabels", Map.of(TradingSystem.PART_OF, "sys")));
        }
        return w;
    }

    private static Map<String, Object> approvalSettings(String v) {
        Map<String, Object> a = new HashMap<>();
        String[] kv = v.split(":");
        if ("required".equals(kv[0])) {
            a.put("requiredForLive", Integer.parseInt(kv[1]));
        } else {
            a.put("approvers", "none".equals(kv[1]) ? null : Map.of("users", List.of(kv[1].split(","))));
        }
        return a;
    }

    private static Map<String, Object> annotation(String name, String value) {
        Map<String, Object> anns = new HashMap<>();
        anns.put(name, value);
        return Map.of("metadata", Map.of("annotations", anns));
    }

    /**
     * A Deployment the trader writes by hand, its template carrying Live (issue 21): {@code live-unlabelled} without the
     * policy label; {@code hidden-live} labelled for p, DryRun with a second, Live entry; {@code ghost-live} labelled
     * for a policy that does not exist; {@code template-label} labelled for p on its pod template only (joining p's
     * system behind the rules that select workloads by their own label).
     */
    private static io.fabric8.kubernetes.api.model.apps.Deployment newWorkload(int i, String variant) {
        boolean hidden = "hidden-live".equals(variant);
        String name = "x" + (i + 1);
        Map<String, String> labels = switch (variant) {
            case "hidden-live" -> Map.of("app", name, MetadataNames.POLICY_LABEL, POLICY);
            case "ghost-live" -> Map.of("app", name, MetadataNames.POLICY_LABEL, "ghost");
            default -> Map.of("app", name);
        };
        Map<String, String> templateLabels = "template-label".equals(variant) ? Map.of("app", name, MetadataNames.POLICY_LABEL, POLICY)
                : labels;
        var env = hidden
                ? List.of(new io.fabric8.kubernetes.api.model.EnvVar("EXECUTION_MODE", "DryRun", null),
                        new io.fabric8.kubernetes.api.model.EnvVar("EXECUTION_MODE", "Live", null))
                : List.of(new io.fabric8.kubernetes.api.model.EnvVar("EXECUTION_MODE", "Live", null));
        return new io.fabric8.kubernetes.api.model.apps.DeploymentBuilder().withNewMetadata().withName(name).withLabels(labels).endMetadata()
                .withNewSpec().withReplicas(1).withNewSelector().withMatchLabels(Map.of("app", name)).endSelector()
                .withNewTemplate().withNewMetadata().withLabels(templateLabels)
                .withAnnotations(Map.of(MetadataNames.MODE_ANNOTATION, hidden ? "DryRun" : "Live")).endMetadata()
                .withNewSpec().addNewContainer().withName("strategy").withImage("registry.example/" + name + ":1.0").withEnv(env).endContainer()
                .endSpec().endTemplate().endSpec().build();
    }

    private Pod barePod(int i, String mode) {
        Map<String, String> annotations = "none".equals(mode) ? Map.of() : Map.of(MetadataNames.MODE_ANNOTATION, mode);
        return new PodBuilder().withNewMetadata().withName("bare-" + (i + 1))
                .withLabels(Map.of(MetadataNames.POLICY_LABEL, POLICY, TradingSystem.PART_OF, "sys", "app", "bare"))
                .withAnnotations(annotations).endMetadata()
                .withNewSpec().addNewContainer().withName("strategy").withImage("registry.example/bare:1.0").endContainer().endSpec()
                .build();
    }

    private static String json(Object o) {
        return admin.getKubernetesSerialization().asJson(o);
    }

    private static Map<String, String> annotations(ExecutionPolicy p) {
        ObjectMeta m = p.getMetadata();
        return m.getAnnotations() == null ? Map.of() : m.getAnnotations();
    }

    private static String describe(ExecutionPolicyStatus.EmergencyStop es) {
        return es == null ? "none" : "active " + es.active + " epoch " + es.epoch + " by " + es.stoppedBy + " rearmed by " + es.rearmedBy
                + " (" + es.message + ")";
    }

    private static String history(ExecutionPolicyStatus s) {
        Map<String, String> out = new LinkedHashMap<>();
        for (int k = 0; k < s.history.size(); k++) {
            var h = s.history.get(k);
            out.put("[" + k + "]", h.trigger + " " + h.from + "->" + h.to + " by " + h.requester + " at " + h.at);
        }
        return out.toString();
    }
}
