package io.marketintel.safety.testing;

import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * Points the in-process operator at the shared {@link ControlPlane}. The control plane outlives any one
 * Quarkus application: it is stopped when the test JVM exits.
 */
public class ControlPlaneResource implements QuarkusTestResourceLifecycleManager {
    @Override
    public Map<String, String> start() {
        return ControlPlane.shared().quarkusClientConfig();
    }

    @Override
    public void stop() {
        // shared for the whole run; see ControlPlane#shared
    }
}
