package io.marketintel.safety.killswitch;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.jboss.logging.Logger;

import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.ControllerConfiguration;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;

/**
 * Start-up and shutdown of the kill switch, and of the operator behind it. The operator does not start
 * (quarkus.operator-sdk.start-operator=false) until the kill switch watches every stop and has zeroed every
 * stopped policy (the start-up sweep), so a stop that arrived while the operator was down is applied first.
 */
@ApplicationScoped
public class KillSwitchStartup {
    private static final Logger LOG = Logger.getLogger(KillSwitchStartup.class);

    private final Operator operator;
    private final StopWatcher watcher;
    private final StopExecutor executor;
    private final Clock clock;

    public KillSwitchStartup(Operator operator, StopWatcher watcher, StopExecutor executor, Clock clock) {
        this.operator = operator;
        this.watcher = watcher;
        this.executor = executor;
        this.clock = clock;
    }

    void onStart(@Observes StartupEvent event) {
        Instant began = clock.instant();
        ControllerConfiguration<?> config = operator.getRegisteredControllers().stream()
                .map(c -> (ControllerConfiguration<?>) c.getConfiguration())
                .filter(c -> c.getResourceClass() == ExecutionPolicy.class)
                .findFirst().orElseThrow(() -> new IllegalStateException("no ExecutionPolicy controller registered"));
        String selector = config.getInformerConfig().getLabelSelector();
        Set<String> watched = config.getInformerConfig().watchAllNamespaces() ? Set.of() : config.getEffectiveNamespaces();
        watcher.start(selector, watched, executor::check, executor::forget, executor::sweepScope);
        int stopped = sweep();
        watcher.arm();
        sweep(); // anything that arrived while the first sweep ran
        LOG.infof("kill switch armed: start-up sweep found %d stopped policies and zeroed them in %d ms; starting the operator",
                stopped, Duration.between(began, clock.instant()).toMillis());
        executor.warmUp();
        operator.start();
    }

    void onStop(@Observes ShutdownEvent event) {
        watcher.disarm();
        // This class started the operator (QOSDK's own listener is not installed: see io.marketintel.safety.Main),
        // so it stops it: controllers, their executors and the leader-election lease. A no-op if never started.
        try {
            operator.stop();
        } catch (RuntimeException e) {
            LOG.infof("stopping the operator: %s", e.getMessage());
        }
        watcher.close();
        executor.close();
    }

    /** Stops every policy whose stop is in force and waits for the zero writes; returns how many. */
    private int sweep() {
        watcher.stoppedNamespaces().forEach(executor::sweepScope);
        List<Stop> started = new ArrayList<>();
        for (ExecutionPolicy p : watcher.watchedPolicies()) {
            Stop s = executor.check(p);
            if (s != null) {
                started.add(s);
            }
        }
        for (Stop s : started) {
            try {
                s.awaitZeroed(StopExecutor.STOP_TIMEOUT);
            } catch (Exception e) {
                LOG.errorf("start-up sweep: a stop did not complete within %s: %s", StopExecutor.STOP_TIMEOUT, e.getMessage());
            }
        }
        return started.size();
    }
}
