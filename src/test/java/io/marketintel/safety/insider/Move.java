package io.marketintel.safety.insider;

import static io.marketintel.safety.insider.Actor.Right.NAMESPACE_PATCH;
import static io.marketintel.safety.insider.Actor.Right.NETWORKPOLICY_WRITE;
import static io.marketintel.safety.insider.Actor.Right.POD_CREATE;
import static io.marketintel.safety.insider.Actor.Right.POLICY_APPROVE;
import static io.marketintel.safety.insider.Actor.Right.POLICY_CONFIGURE;
import static io.marketintel.safety.insider.Actor.Right.POLICY_CREATE;
import static io.marketintel.safety.insider.Actor.Right.POLICY_DELETE;
import static io.marketintel.safety.insider.Actor.Right.POLICY_PATCH;
import static io.marketintel.safety.insider.Actor.Right.POLICY_REARM;
import static io.marketintel.safety.insider.Actor.Right.WORKLOAD_WRITE;

import java.util.List;
import java.util.Set;

/**
 * Every kind of write the tier plays, with the rights it needs and its variants. A move whose rights the actor holds
 * is one of the actor's allowed writes (admission may still refuse it: a forged approval, a re-arm of the wrong
 * epoch); a move whose rights it lacks is a <b>probe</b>, which the tier requires the API server to refuse.
 */
public enum Move {
    // policy spec
    SET_MODE(Set.of(POLICY_PATCH, POLICY_CONFIGURE), "Backtest", "DryRun", "Live"),
    RETARGET(Set.of(POLICY_PATCH, POLICY_CONFIGURE), "refs:d0", "refs:d0,d1", "refs:d1", "selector", "refs:d0+selector"),
    APPROVAL_SETTINGS(Set.of(POLICY_PATCH, POLICY_CONFIGURE), "required:0", "required:1", "required:2", "required:3",
            "approvers:alice,rita", "approvers:alice", "approvers:tom,alice", "approvers:none"),
    /**
     * Points an Http guard at an internal endpoint that ExecutionSafety/global lists ({@code listed}) or does not
     * ({@code unlisted}); both answer with a secret and a redirect. Nothing of a reply may reach status, and the unlisted
     * one may never be called (issue 21, item 4). Refused while p is Live (a guard change loosens it).
     */
    EDIT_GUARD(Set.of(POLICY_PATCH, POLICY_CONFIGURE), "listed", "unlisted"),
    /**
     * Risk monitors (issue 23) on a query the tier's Prometheus answers with 0, never a breach: {@code add} one more,
     * {@code loosen} raises every threshold tenfold, {@code remove} drops them all. Loosening or removing while p is Live
     * (or on its approved way there) must be refused (the Live freeze); an escalation reads p's Live monitors first.
     */
    EDIT_MONITOR(Set.of(POLICY_PATCH, POLICY_CONFIGURE), "add", "loosen", "remove"),
    // policy annotations
    EDIT_REQUESTED_BY(Set.of(POLICY_PATCH), "alice", "nobody"),
    APPROVE(Set.of(POLICY_PATCH, POLICY_APPROVE), "current", "current", "stale", "forged-name", "made-up"),
    EDIT_APPROVALS(Set.of(POLICY_PATCH, POLICY_APPROVE), "own-line", "other-line"),
    /** Removing approval lines approves nothing (it can only hold an escalation back): a patch is enough. */
    WITHDRAW_APPROVALS(Set.of(POLICY_PATCH), "wipe"),
    STOP_POLICY(Set.of(POLICY_PATCH), "stop"),
    /** {@code seen}: the stopper first waits (bounded) until status records the stop, as a person releasing it would. */
    UNSTOP_POLICY(Set.of(POLICY_PATCH), "unstop", "unstop", "seen"),
    REARM(Set.of(POLICY_PATCH, POLICY_REARM), "current", "current", "next", "old"),
    /**
     * Removes the policy's label safety.marketintel.io/stopped, by which the API server finds a stopped policy (issue
     * 22): admission puts it back while the stop annotation is there or status latches a stop.
     */
    DROP_STOP_LABEL(Set.of(POLICY_PATCH), "drop"),
    // policy object
    DELETE_POLICY(Set.of(POLICY_DELETE), "delete"),
    CREATE_POLICY(Set.of(POLICY_CREATE, POLICY_CONFIGURE), "DryRun", "Live"),
    GITOPS_APPLY(Set.of(POLICY_CREATE, POLICY_PATCH, POLICY_CONFIGURE), "DryRun", "Live", "Backtest"),
    GITOPS_REPLACE(Set.of(POLICY_PATCH, POLICY_CONFIGURE), "put-fresh", "put-stale"),
    GITOPS_RECREATE(Set.of(POLICY_DELETE, POLICY_CREATE, POLICY_CONFIGURE), "delete+create"),
    // Namespace and cluster
    STOP_NAMESPACE(Set.of(NAMESPACE_PATCH), "stop"),
    UNSTOP_NAMESPACE(Set.of(NAMESPACE_PATCH), "unstop", "unstop", "seen"),
    STOP_CLUSTER(Set.of(Actor.Right.EXECUTIONSAFETY_PATCH), "stop", "unstop"),
    /**
     * Sets the Namespace's safety.marketintel.io/emergency-stops-recorded to its emergency-stop-count, as if the operator
     * had recorded every stop on every policy: refused whenever that raises it (issue 22).
     */
    RAISE_STOPS_RECORDED(Set.of(NAMESPACE_PATCH), "to-count"),
    /**
     * Raises every entry of the Namespace's safety.marketintel.io/replica-ceilings by 5, or removes it: refused whenever
     * that changes it (issue 22: only the operator changes the counts a raise of replicas is judged against).
     */
    FORGE_CEILINGS(Set.of(NAMESPACE_PATCH), "raise", "remove"),
    // the namespace's workloads, pods and NetworkPolicies
    SCALE_WORKLOAD(Set.of(WORKLOAD_WRITE), "d0:0", "d0:2", "d1:0", "d1:3"),
    /**
     * {@code env-live} sets the env var to Live; {@code env-twice} adds a second, Live entry after the operator's;
     * {@code sidecar-live} adds a native sidecar told Live; {@code mode-live} sets annotation and env to Live together
     * (issue 21: each must start no Live pod while the policy is not Live).
     */
    EDIT_WORKLOAD(Set.of(WORKLOAD_WRITE), "d0:env-live", "d1:env-live", "d0:image", "d1:image", "d0:env-twice", "d1:sidecar-live",
            "d0:mode-live"),
    /**
     * A new Deployment: Live without the policy label; labelled for p and DryRun with a second, Live entry; Live and
     * labelled for a policy that does not exist; Live and labelled for p on its pod template only.
     */
    CREATE_WORKLOAD(Set.of(WORKLOAD_WRITE), "live-unlabelled", "hidden-live", "ghost-live", "template-label"),
    RELABEL_WORKLOAD(Set.of(WORKLOAD_WRITE), "d0:other", "d1:other", "d0:sys", "d1:sys", "d0:drop-policy-label"),
    BARE_POD(Set.of(POD_CREATE), "Live", "DryRun", "none"),
    EDIT_FENCE(Set.of(NETWORKPOLICY_WRITE), "open", "delete");

    public final Set<Actor.Right> needs;
    public final List<String> variants;

    Move(Set<Actor.Right> needs, String... variants) {
        this.needs = needs;
        this.variants = List.of(variants);
    }

    /** One step of a sequence: who, what, which variant; {@code probe} when the actor's roles do not allow it. */
    public record Step(Actor actor, Move move, String variant) {
        public boolean probe() {
            return !actor.holds(move.needs);
        }

        @Override
        public String toString() {
            return actor + " " + move + " " + variant + (probe() ? " (probe: must be refused)" : "");
        }
    }
}
