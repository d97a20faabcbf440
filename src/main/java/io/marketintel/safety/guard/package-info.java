/**
 * Safety guards (DESIGN §5): checks that must all pass before an escalation. A guard is a CDI bean
 * implementing {@link io.marketintel.safety.guard.SafetyGuard}; adding one is one class. The
 * {@link io.marketintel.safety.guard.GuardRunner} evaluates a policy's guards in parallel, each within its
 * own timeout; an error or a timeout is a failure. Guards are never consulted for de-escalations or stops.
 */
package io.marketintel.safety.guard;
