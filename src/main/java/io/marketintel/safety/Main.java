package io.marketintel.safety;

import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.QuarkusApplication;
import io.quarkus.runtime.annotations.QuarkusMain;

/**
 * The operator's own main. It only waits for exit: the kill switch starts the operator once its start-up sweep
 * has zeroed every stopped policy, and stops it on shutdown ({@code killswitch.KillSwitchStartup}).
 * <p>
 * Having an application class of our own is also what tells the Quarkus Operator SDK extension that the
 * application manages the operator's life cycle: QOSDK then does not install its own start/stop listener
 * ({@code AppEventListener}), which with {@code quarkus.operator-sdk.start-operator=false} logs a WARN on every
 * start ("Operator was configured not to start automatically…") and on every stop ("…not to stop
 * automatically…"), and never stops the operator.
 */
@QuarkusMain
public class Main implements QuarkusApplication {
    @Override
    public int run(String... args) {
        Quarkus.waitForExit();
        return 0;
    }
}
