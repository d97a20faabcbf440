/**
 * The transition rules of DESIGN §3 as a pure function: {@link io.marketintel.safety.policy.TransitionRules#decide}
 * maps what is known about a policy (desired and effective mode, the transition in flight, guard results,
 * approvals, emergency stop, soak time, the clock) to one {@link io.marketintel.safety.policy.Decision}
 * with a machine-readable {@link io.marketintel.safety.policy.Reason}. No Kubernetes client, no I/O: the
 * reconciler reads the world, asks here, then acts and reports.
 */
package io.marketintel.safety.policy;
