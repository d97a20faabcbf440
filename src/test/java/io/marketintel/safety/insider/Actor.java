package io.marketintel.safety.insider;

import java.util.EnumSet;
import java.util.Set;

/**
 * The people and machines of the threat model (DESIGN §11) as the insider tier plays them, each with the roles the
 * shipped RBAC gives them and, from those, the rights (RBAC verbs, including the custom verbs the admission policy
 * asks the authorizer about) they hold in a trading namespace. The operator's own faults (restart, fail-over) are
 * played per batch by the tier, not as moves.
 */
public enum Actor {
    /** A trader: the namespace's {@code edit}, which aggregates execution-policy-editor. */
    TRADER("tom", Role.EDIT),
    /** One approver acting alone: execution-approver. */
    APPROVER("alice", Role.APPROVER),
    /** A requester who also holds the approve verb: execution-policy-editor and execution-approver. */
    REQUESTER_APPROVER("rita", Role.POLICY_EDITOR, Role.APPROVER),
    /** A GitOps controller's service account with edit-like rights: applies, prunes and replaces. */
    GITOPS("system:serviceaccount:" + Actor.GITOPS_NAMESPACE + ":" + Actor.GITOPS_ACCOUNT, Role.EDIT),
    /** The risk officer who pulls a namespace's stop (a designated person; re-arms are the approvers'). */
    RISK_OFFICER("rob", Role.NAMESPACE_STOPPER);

    public static final String GITOPS_NAMESPACE = "gitops-system";
    public static final String GITOPS_ACCOUNT = "gitops";

    /** What one role lets its holder write, in a namespace it is bound in (cluster-wide for the namespace stopper). */
    public enum Role {
        /** ClusterRole edit, with execution-policy-editor aggregated into it. */
        EDIT(Right.POLICY_CREATE, Right.POLICY_PATCH, Right.POLICY_DELETE, Right.POLICY_CONFIGURE, Right.WORKLOAD_WRITE,
                Right.POD_CREATE, Right.NETWORKPOLICY_WRITE),
        /** ClusterRole execution-policy-editor. */
        POLICY_EDITOR(Right.POLICY_CREATE, Right.POLICY_PATCH, Right.POLICY_DELETE, Right.POLICY_CONFIGURE),
        /** ClusterRole execution-approver. */
        APPROVER(Right.POLICY_PATCH, Right.POLICY_APPROVE, Right.POLICY_REARM),
        /** The test's ClusterRole for the risk officer: get and patch Namespaces (the namespace-wide stop). */
        NAMESPACE_STOPPER(Right.NAMESPACE_PATCH);

        final Set<Right> rights;

        Role(Right... rights) {
            this.rights = Set.of(rights);
        }
    }

    /** A write permission; the custom verbs configure, approve and rearm are checked by admission through the authorizer. */
    public enum Right {
        POLICY_CREATE, POLICY_PATCH, POLICY_DELETE, POLICY_CONFIGURE, POLICY_APPROVE, POLICY_REARM, WORKLOAD_WRITE,
        POD_CREATE, NETWORKPOLICY_WRITE, NAMESPACE_PATCH, EXECUTIONSAFETY_PATCH
    }

    public final String user;
    public final Set<Role> roles;

    Actor(String user, Role... roles) {
        this.user = user;
        this.roles = Set.of(roles);
    }

    public Set<Right> rights() {
        Set<Right> out = EnumSet.noneOf(Right.class);
        roles.forEach(r -> out.addAll(r.rights));
        return out;
    }

    public boolean holds(Set<Right> needed) {
        return rights().containsAll(needed);
    }
}
