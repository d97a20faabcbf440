package io.marketintel.safety.testing;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The safety invariants of DESIGN §3, §4, §6 and §7 as a pure state machine over what a watcher sees: pod and
 * policy events, each stamped with the time it was seen, and clock ticks. No client, no threads, no clock of its
 * own, so the unit test feeds it synthetic sequences (including ones that must fire). {@link SafetyInvariants}
 * is the shell that feeds it from informers on a real cluster.
 *
 * <h2>Terms</h2>
 * <ul>
 * <li>A pod's <b>mode</b> is its {@code safety.marketintel.io/mode} annotation ({@code none} without one); its
 * <b>policy</b> is its {@code safety.marketintel.io/policy} label (the operator puts both on every template it
 * configures); its <b>workload</b> is its controller (a ReplicaSet's pods belong to its Deployment).</li>
 * <li>A pod <b>exists</b> from its first event to its deletion event; it is <b>running</b> while it exists, has
 * no deletionTimestamp and is not in phase Succeeded/Failed.</li>
 * <li>A policy <b>may run Live</b> when its {@code spec.mode} is Live, it is not stopped, and the operator has
 * recorded an approved escalation to Live: either {@code status.transition} to Live or, with
 * {@code status.mode} Live, the newest {@code status.history} record to Live, naming at least
 * {@code spec.approval.requiredForLive} (default 2) distinct approvers, none of them its requester (DESIGN §4).</li>
 * <li>A policy is <b>stopped</b> while its emergency-stop annotation is set, or {@code status.emergencyStop.active}
 * is true and no re-arm of that epoch is recorded ({@code safety.marketintel.io/rearmed-by: "<user> <epoch>"}):
 * DESIGN §6, latched until re-armed; the operator acts on a re-arm before it reports it. Stops at namespace or
 * cluster scope are seen once the operator records them in the policy's status.</li>
 * <li>A pod is <b>forbidden</b> when it is running, belongs to a known policy and either is Live while the policy
 * may not run Live, or the policy is stopped. <b>since</b> is the moment the watcher first saw the policy in the
 * current forbidding state (Live not allowed / stopped).</li>
 * </ul>
 *
 * <h2>Invariants</h2>
 * <ol>
 * <li><b>LiveWithoutApproval</b> (DESIGN §3, §4, §7 "a Live pod never runs while the policy is not Live"): a Live
 * pod has stayed forbidden for {@code settle} (the two watches may deliver out of order) and either (a) was
 * created at or after {@code since + creationTolerance} (it was started after the watcher already saw Live was not
 * allowed), or (b) is still running at {@code since + grace} (a de-escalation or a stop must take Live pods down
 * within the grace).</li>
 * <li><b>ModesOverlap</b> (DESIGN §7 stop-then-start): at any moment, the pods that exist (terminating ones
 * included) of one workload are all in one mode; and the pods that exist with one policy label (one trading
 * system) are all in one mode. Checked on every pod event, no grace: one watch delivers pod events in order.</li>
 * <li><b>RunningWhileStopped</b> (DESIGN §6): a pod of a stopped policy has been running for {@code settle} while
 * stopped and either (a) was created at or after {@code since + creationTolerance}, or (b) is still running at
 * {@code since + grace}.</li>
 * <li><b>CountedApprovers</b> (DESIGN §4, §11 P1), in namespaces whose approvals the test witnesses
 * ({@link #witnessApprovals}): the approvers the operator counted ({@code status.approval.approvedBy} for its token,
 * {@code status.transition.approvers} and every {@code status.history} entry's approvers) are distinct, none of
 * them the requester recorded with them, and each one an identity that really approved: the test, which wrote
 * every approval under an impersonated identity, reports each write ({@link #approvalAttempted}) before it is sent,
 * so the ground truth is never behind the operator. A status approval must be witnessed for its very token; a
 * transition or history entry (which keeps no token) for some token of that policy. Checked on every policy
 * event, no grace: a count is a record, not a process.</li>
 * <li><b>LiveCreatedWithoutApproval</b> (DESIGN §6, §11; issue 21 "prevention, not correction"): a pod that carries
 * Live by any mark (the annotation, or an {@code EXECUTION_MODE} entry of any container, init or ephemeral container)
 * and its policy's label was created (first seen, after the watcher started) at a resource version at which the
 * policy's status did not allow a Live pod: an approved escalation to Live recorded ({@code status.transition.to}
 * Live) or the policy in Live ({@code status.mode} Live, no transition away). Resource versions order the two watches,
 * so no tolerance is needed; checked once the policy watch has had {@code LIVE_CREATION_LAG} to catch up, and
 * at the end. A direct edit that starts a Live pod for a second is a violation, however soon it is corrected.</li>
 * </ol>
 * The first violation is kept with the event trail that led to it; later ones are counted.
 */
public final class SafetyRules {
    public static final String LIVE = "Live";
    public static final String NONE = "none";

    /** Timing of the checks; see the class comment. */
    public record Settings(Duration grace, Duration settle, Duration creationTolerance) {
        /**
         * Defaults: 30 s grace (a stop or de-escalation takes Live pods down well within it, even across an
         * operator restart), 2 s settle, 3 s creation tolerance (a ReplicaSet already creating pods when the
         * stop lands).
         */
        public static final Settings DEFAULT = new Settings(Duration.ofSeconds(30), Duration.ofSeconds(2), Duration.ofSeconds(3));
    }

    /**
     * What the watcher knows of one pod.
     *
     * @param liveMark whether anything in it says Live (the annotation, or an EXECUTION_MODE entry in any container)
     * @param version  its resource version as first seen
     */
    public record PodView(String namespace, String name, String workload, String policy, String mode, boolean running,
            Instant created, boolean liveMark, long version) {
        public PodView {
            mode = mode == null ? NONE : mode;
        }

        public PodView(String namespace, String name, String workload, String policy, String mode, boolean running, Instant created) {
            this(namespace, name, workload, policy, mode, running, created, LIVE.equals(mode), Long.MAX_VALUE);
        }

        String key() {
            return namespace + "/" + name;
        }
    }

    /** What the watcher knows of one policy, already reduced from spec, annotations and status. */
    /**
     * @param livePodsAllowed whether its status allows a Live pod to be created: an approved escalation to Live under way,
     *                        or Live with no transition away (what execution-safety-policy-mode admits)
     * @param version         its resource version
     */
    public record PolicyView(String namespace, String name, String specMode, boolean stopped, boolean liveApproved,
            String summary, List<CountedApprovals> counted, boolean livePodsAllowed, long version) {
        public PolicyView(String namespace, String name, String specMode, boolean stopped, boolean liveApproved, String summary) {
            this(namespace, name, specMode, stopped, liveApproved, summary, List.of());
        }

        public PolicyView(String namespace, String name, String specMode, boolean stopped, boolean liveApproved, String summary,
                List<CountedApprovals> counted) {
            this(namespace, name, specMode, stopped, liveApproved, summary, counted, liveApproved, 0);
        }

        String key() {
            return namespace + "/" + name;
        }

        boolean mayRunLive() {
            return LIVE.equals(specMode) && liveApproved && !stopped;
        }
    }

    /**
     * Approvers the operator counted, as one record of its status: {@code where} names it ({@code status.approval},
     * {@code status.transition}, {@code status.history[2]}); {@code token} is the token they were counted for, or
     * null where status keeps none.
     */
    public record CountedApprovals(String where, String token, String requester, List<String> approvers) {
    }

    public record Violation(String invariant, Instant at, String message, String trail) {
        @Override
        public String toString() {
            return invariant + " at " + at + ": " + message + "\nevent trail (oldest first):\n" + trail;
        }
    }

    private static final int TRAIL = 600;

    private final Settings settings;
    private final Map<String, PodView> pods = new LinkedHashMap<>();
    private final Map<String, PolicyView> policies = new HashMap<>();
    private final Map<String, Instant> liveForbiddenSince = new HashMap<>();
    private final Map<String, Instant> stoppedSince = new HashMap<>();
    /** pod key + invariant → when it was first seen as a creation-after-forbidden candidate. */
    private final Map<String, Instant> candidates = new HashMap<>();
    private final Deque<String> trail = new ArrayDeque<>();
    private final Map<String, Integer> maxAlive = new TreeMap<>();
    private Violation first;
    private int violations;
    /** Namespaces whose approvals the test witnesses; policy key → token → identities that wrote an approval of it. */
    private final Set<String> witnessedNamespaces = new java.util.HashSet<>();
    private final Map<String, Map<String, Set<String>>> witnessed = new HashMap<>();

    /** How long the policy watch may lag the pod watch before a Live creation is judged (the end judges the rest). */
    static final Duration LIVE_CREATION_LAG = Duration.ofSeconds(15);
    /** policy key → resource-version intervals [from, to) in which its status allowed Live pods. */
    private final Map<String, List<long[]>> liveAllowed = new HashMap<>();
    /** Live pods created since the watcher started, not judged yet, with when they were seen. */
    private final Map<PodView, Instant> liveCreations = new LinkedHashMap<>();
    private final Instant started;

    public SafetyRules(Settings settings) {
        this(settings, Instant.now());
    }

    public SafetyRules(Settings settings, Instant started) {
        this.settings = settings;
        this.started = started;
    }

    public void podSeen(String type, PodView pod, Instant now) {
        if (type.startsWith("DELETED")) {
            pods.remove(pod.key());
        } else if (pods.put(pod.key(), pod) == null && pod.liveMark() && pod.policy() != null && pod.created() != null
                && !pod.created().isBefore(started)) {
            liveCreations.put(pod, now);
        }
        note(now, type + " pod " + pod.key() + " mode=" + pod.mode() + " workload=" + pod.workload() + " policy="
                + pod.policy() + (pod.running() ? " running" : " not-running") + " created=" + pod.created());
        if (!type.startsWith("DELETED")) {
            String mode = pod.mode();
            maxAlive.merge(mode, (int) pods.values().stream().filter(p -> p.mode().equals(mode)).count(), Math::max);
        }
        checkOverlap(now, "after " + type + " of pod " + pod.key());
        checkForbidden(now);
    }

    public void policySeen(String type, PolicyView policy, Instant now) {
        String key = policy.key();
        if ("DELETED".equals(type)) {
            policies.remove(key);
            liveForbiddenSince.remove(key);
            stoppedSince.remove(key);
        } else {
            PolicyView before = policies.put(key, policy);
            if (policy.mayRunLive()) {
                liveForbiddenSince.remove(key);
            } else if (before == null || before.mayRunLive()) {
                liveForbiddenSince.put(key, now);
            }
            if (!policy.stopped()) {
                stoppedSince.remove(key);
            } else if (before == null || !before.stopped()) {
                stoppedSince.put(key, now);
            }
        }
        List<long[]> intervals = liveAllowed.computeIfAbsent(key, k -> new ArrayList<>());
        boolean open = !intervals.isEmpty() && intervals.get(intervals.size() - 1)[1] == Long.MAX_VALUE;
        boolean allows = !"DELETED".equals(type) && policy.livePodsAllowed();
        if (allows && !open) {
            // First seen already allowing it: since before the watcher started, as far as it knows.
            intervals.add(new long[] { intervals.isEmpty() && !"ADDED".equals(type) ? policy.version() : 0, Long.MAX_VALUE });
        } else if (!allows && open) {
            intervals.get(intervals.size() - 1)[1] = policy.version();
        }
        note(now, type + " policy " + key + " " + policy.summary());
        if (!"DELETED".equals(type) && witnessedNamespaces.contains(policy.namespace())) {
            Map<String, Set<String>> byToken = witnessed.getOrDefault(key, Map.of());
            for (CountedApprovals c : policy.counted()) {
                countedApproversProblem(c, byToken).ifPresent(problem -> violate("CountedApprovers", now,
                        "policy " + key + " " + c.where() + ": " + problem));
            }
        }
        checkForbidden(now);
    }

    /** From now on {@link #policySeen} checks the approvers counted in {@code namespace} against what the test witnessed. */
    public void witnessApprovals(String namespace) {
        witnessedNamespaces.add(namespace);
    }

    /**
     * {@code user} (as the API server authenticates it) is about to write an approval of {@code token} on the policy;
     * reported before the write is sent. Returns whether it is new, so a refused write can be {@link #approvalRefused
     * withdrawn} without forgetting an earlier approval.
     */
    public boolean approvalAttempted(String namespace, String policy, String user, String token) {
        return witnessed.computeIfAbsent(namespace + "/" + policy, k -> new HashMap<>()).computeIfAbsent(token, k -> new TreeSet<>())
                .add(user);
    }

    /** The write {@link #approvalAttempted} reported (as new) was refused: it approved nothing. */
    public void approvalRefused(String namespace, String policy, String user, String token) {
        var byToken = witnessed.get(namespace + "/" + policy);
        if (byToken != null && byToken.containsKey(token)) {
            byToken.get(token).remove(user);
        }
    }

    /**
     * Null-safe rule of {@code CountedApprovers}: what is wrong with one record of counted approvers, given who really
     * approved each token of the policy ({@code byToken}), or empty.
     */
    public static Optional<String> countedApproversProblem(CountedApprovals c, Map<String, Set<String>> byToken) {
        List<String> approvers = c.approvers() == null ? List.of() : c.approvers();
        if (approvers.isEmpty()) {
            return Optional.empty();
        }
        if (approvers.stream().distinct().count() != approvers.size()) {
            return Optional.of("counted approvers " + approvers + " are not distinct");
        }
        if (c.requester() != null && approvers.contains(c.requester())) {
            return Optional.of("counted approvers " + approvers + " include the requester " + c.requester());
        }
        Set<String> really = new TreeSet<>();
        if (c.token() != null) {
            really.addAll(byToken.getOrDefault(c.token(), Set.of()));
        } else {
            byToken.values().forEach(really::addAll);
        }
        List<String> unwitnessed = approvers.stream().filter(a -> !really.contains(a)).toList();
        if (!unwitnessed.isEmpty()) {
            return Optional.of("counted approvers " + approvers + " include " + unwitnessed + ", who never approved "
                    + (c.token() == null ? "any token of this policy" : "token " + c.token()) + " (identities that did: "
                    + really + ")");
        }
        return Optional.empty();
    }

    public void tick(Instant now) {
        checkForbidden(now);
        judgeLiveCreations(now, false);
    }

    public Optional<Violation> first() {
        return Optional.ofNullable(first);
    }

    public int violations() {
        return violations;
    }

    /** Largest number of pods of each mode that existed at one moment (all watched namespaces together). */
    public Map<String, Integer> maxAlive() {
        return new TreeMap<>(maxAlive);
    }

    public String trail() {
        return String.join("\n", trail);
    }

    /** The pods that exist now, by key, with their mode. */
    public Map<String, String> alive() {
        Map<String, String> out = new TreeMap<>();
        pods.values().forEach(p -> out.put(p.key(), p.mode()));
        return out;
    }

    private void checkOverlap(Instant now, String when) {
        Map<String, Set<String>> byWorkload = new TreeMap<>();
        Map<String, Set<String>> bySystem = new TreeMap<>();
        // Stop-then-start is promised for governed workloads: one a pod of which carries a policy label. A workload no
        // policy ever governed (its policy deleted before adopting it, in a namespace left with none) is the
        // application's own business, as admission says (insider tier, CI at 494d92a, seed 1796573372396:268).
        Set<String> governed = new java.util.HashSet<>();
        for (PodView p : pods.values()) {
            if (p.policy() != null) {
                governed.add(p.namespace() + "/" + p.workload());
            }
        }
        for (PodView p : pods.values()) {
            String workload = p.namespace() + "/" + p.workload();
            if (governed.contains(workload)) {
                byWorkload.computeIfAbsent(workload, k -> new TreeSet<>()).add(p.mode());
            }
            if (p.policy() != null) {
                bySystem.computeIfAbsent(p.namespace() + "/policy " + p.policy(), k -> new TreeSet<>()).add(p.mode());
            }
        }
        for (var groups : List.of(byWorkload, bySystem)) {
            groups.forEach((group, modes) -> {
                if (modes.size() > 1) {
                    violate("ModesOverlap", now, when + ": pods of modes " + modes + " exist at once in " + group + ": "
                            + alive(group));
                }
            });
        }
    }

    private String alive(String group) {
        List<String> out = new ArrayList<>();
        for (PodView p : pods.values()) {
            if ((p.namespace() + "/" + p.workload()).equals(group) || (p.namespace() + "/policy " + p.policy()).equals(group)) {
                out.add(p.name() + "=" + p.mode() + (p.running() ? "" : "(terminating)"));
            }
        }
        return String.join(", ", out);
    }

    private void checkForbidden(Instant now) {
        Set<String> stillCandidates = new java.util.HashSet<>();
        for (PodView p : pods.values()) {
            if (!p.running() || p.policy() == null) {
                continue;
            }
            String key = p.namespace() + "/" + p.policy();
            PolicyView policy = policies.get(key);
            if (policy == null) {
                continue;
            }
            if (LIVE.equals(p.mode()) && !policy.mayRunLive()) {
                forbidden("LiveWithoutApproval", p, policy, liveForbiddenSince.get(key), now, stillCandidates,
                        "Live pod " + p.key() + " running while policy " + key + " may not run Live ("
                                + policy.summary() + ")");
            }
            if (policy.stopped()) {
                forbidden("RunningWhileStopped", p, policy, stoppedSince.get(key), now, stillCandidates,
                        "pod " + p.key() + " (mode " + p.mode() + ") running while policy " + key + " is stopped ("
                                + policy.summary() + ")");
            }
        }
        candidates.keySet().retainAll(stillCandidates);
    }

    private void forbidden(String invariant, PodView p, PolicyView policy, Instant since, Instant now,
            Set<String> stillCandidates, String what) {
        if (since == null) {
            return;
        }
        // Either way only once the pod stayed forbidden for the settle: the policy watch may deliver the change
        // that allows it (an approval recorded, a re-arm) after the pod watch delivered the pod.
        String candidate = p.key() + " " + invariant;
        stillCandidates.add(candidate);
        Instant seen = candidates.computeIfAbsent(candidate, k -> now);
        boolean beyondGrace = !now.isBefore(since.plus(settings.grace()));
        boolean createdAfter = p.created() != null && !p.created().isBefore(since.plus(settings.creationTolerance()));
        if (!beyondGrace && !createdAfter || now.isBefore(seen.plus(settings.settle()))) {
            return;
        }
        violate(invariant, now, beyondGrace
                ? what + " for " + Duration.between(since, now).toMillis() + " ms, beyond the grace of "
                        + settings.grace().toSeconds() + " s (forbidden since " + since + ")"
                : what + ": created at " + p.created() + ", after the watcher saw it forbidden at " + since);
    }

    /**
     * Judges the Live pods created at least {@link #LIVE_CREATION_LAG} ago, or all of them when {@code all} (the watches
     * are closed): each must have been created while its policy's status allowed it.
     */
    public void judgeLiveCreations(Instant now, boolean all) {
        for (var it = liveCreations.entrySet().iterator(); it.hasNext();) {
            var e = it.next();
            PodView p = e.getKey();
            if (!all && now.isBefore(e.getValue().plus(LIVE_CREATION_LAG))) {
                continue;
            }
            it.remove();
            String key = p.namespace() + "/" + p.policy();
            boolean allowed = liveAllowed.getOrDefault(key, List.of()).stream().anyMatch(i -> i[0] <= p.version() && p.version() < i[1]);
            if (!allowed) {
                violate("LiveCreatedWithoutApproval", now, "pod " + p.key() + " (" + p.workload() + ") carrying Live was created"
                        + " at resource version " + p.version() + ", when policy " + key + " allowed no Live pod (allowed in "
                        + liveAllowed.getOrDefault(key, List.of()).stream().map(i -> "[" + i[0] + "," + (i[1] == Long.MAX_VALUE ? "" : i[1]) + ")")
                                .toList() + ")");
            }
        }
    }

    private void violate(String invariant, Instant now, String message) {
        violations++;
        if (first == null) {
            note(now, "VIOLATION " + invariant + ": " + message);
            first = new Violation(invariant, now, message, trail());
        }
    }

    private void note(Instant now, String line) {
        trail.addLast(now + " " + line);
        while (trail.size() > TRAIL) {
            trail.removeFirst();
        }
    }

    /** The workload a pod belongs to, from its controller reference: {@code Deployment/alpha}, {@code StatefulSet/beta}. */
    public static String workload(String ownerKind, String ownerName, String podTemplateHash, String podName) {
        if (ownerKind == null) {
            return "Pod/" + podName;
        }
        if ("ReplicaSet".equals(ownerKind) && podTemplateHash != null && ownerName.endsWith("-" + podTemplateHash)) {
            return "Deployment/" + ownerName.substring(0, ownerName.length() - podTemplateHash.length() - 1);
        }
        return ownerKind + "/" + ownerName;
    }

    /**
     * Whether the operator's record of the escalation to Live carries enough approvals: {@code approvers} distinct,
     * at least {@code required}, none of them the requester.
     */
    public static boolean approvedEnough(List<String> approvers, String requester, int required) {
        List<String> named = approvers == null ? List.of() : approvers;
        long distinct = named.stream().filter(Objects::nonNull).distinct().filter(a -> !a.equals(requester)).count();
        return distinct == named.size() && distinct >= required;
    }
}
