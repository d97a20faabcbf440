package io.marketintel.safety.killswitch;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Liveness;
import org.eclipse.microprofile.health.Readiness;

import io.marketintel.safety.leadership.Leadership;

/**
 * Health of the kill switch, which runs on every replica, leader or not. Live while its watches run (a
 * replica whose watches died cannot apply a stop: restart it). Ready once the start-up sweep is done and it
 * sees every kind of stop. Both say whether this replica leads; a healthy standby is ready.
 */
public final class KillSwitchHealth {
    private KillSwitchHealth() {
    }

    /** Both checks say whether the sweep is done and whether this replica leads. */
    static HealthCheckResponseBuilder response(String name, boolean up, StopWatcher watcher, Leadership leadership) {
        return HealthCheckResponse.named(name).status(up).withData("armed", watcher.armed())
                .withData("leader", leadership.leading());
    }

    @Liveness
    @ApplicationScoped
    public static class Live implements HealthCheck {
        private final StopWatcher watcher;
        private final Leadership leadership;

        public Live(StopWatcher watcher, Leadership leadership) {
            this.watcher = watcher;
            this.leadership = leadership;
        }

        @Override
        public HealthCheckResponse call() {
            return response("kill switch watches", !watcher.armed() || watcher.watching(), watcher, leadership).build();
        }
    }

    @Readiness
    @ApplicationScoped
    public static class Ready implements HealthCheck {
        private final StopWatcher watcher;
        private final Leadership leadership;

        public Ready(StopWatcher watcher, Leadership leadership) {
            this.watcher = watcher;
            this.leadership = leadership;
        }

        @Override
        public HealthCheckResponse call() {
            var blind = watcher.blindSpots();
            var response = response("kill switch", watcher.armed() && blind.isEmpty(), watcher, leadership);
            if (!blind.isEmpty()) {
                response.withData("cannot watch", String.join("; ", blind));
            }
            return response.build();
        }
    }
}
