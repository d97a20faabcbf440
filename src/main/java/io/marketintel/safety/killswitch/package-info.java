/**
 * The emergency stop (DESIGN §6, RTS 6 Art. 12 and 15(3)): latched stops at policy, Namespace and cluster
 * scope, the circuit breaker, the re-arm, the egress fence and the cancel-orders hook.
 * <p>
 * {@link io.marketintel.safety.killswitch.Latch} and {@link io.marketintel.safety.killswitch.Breaker}
 * decide (pure code); the kill switch acts, split by job: {@link io.marketintel.safety.killswitch.StopWatcher}
 * watches the stop annotations on its own informers, {@link io.marketintel.safety.killswitch.StopExecutor} writes
 * zero replicas before anything else happens (its javadoc tells how the parts fit),
 * {@link io.marketintel.safety.killswitch.WriteGate} holds back the reconciler's writes while a stop is in force
 * ({@link io.marketintel.safety.killswitch.StopLedger}), and {@link io.marketintel.safety.killswitch.KillSwitchStartup}
 * sweeps before the operator starts. {@link io.marketintel.safety.killswitch.KillSwitch} names the annotations.
 */
package io.marketintel.safety.killswitch;
