package io.marketintel.safety.killswitch;

/**
 * The annotations of the emergency stop (DESIGN §6). The kill switch itself is split by job: {@link StopWatcher}
 * sees stops, {@link StopExecutor} executes them (its javadoc tells how the parts fit), {@link WriteGate} holds
 * back the reconciler's writes while one is in force ({@link StopLedger}), {@link KillSwitchStartup} sweeps before
 * the operator starts.
 */
public final class KillSwitch {
    public static final String STOP_ANNOTATION = "safety.marketintel.io/emergency-stop";
    public static final String STOP_BY_ANNOTATION = "safety.marketintel.io/emergency-stop-by";
    public static final String REARMED_BY_ANNOTATION = "safety.marketintel.io/rearmed-by";
    /** Written by a person; the admission policy turns it into {@link #REARMED_BY_ANNOTATION}. */
    public static final String REARM_ANNOTATION = "safety.marketintel.io/rearm";

    private KillSwitch() {
    }
}
