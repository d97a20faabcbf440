/**
 * The emergency stop (DESIGN §6, RTS 6 Art. 12 and 15(3)): latched stops at policy, Namespace and cluster
 * scope, the circuit breaker, the re-arm, the egress fence and the cancel-orders hook.
 * <p>
 * {@link io.marketintel.safety.killswitch.Latch} and {@link io.marketintel.safety.killswitch.CircuitBreaker}
 * decide (pure code); {@link io.marketintel.safety.killswitch.KillSwitch} acts: it watches the stop
 * annotations on its own informers and writes zero replicas before anything else happens.
 */
package io.marketintel.safety.killswitch;
