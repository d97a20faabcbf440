package io.marketintel.safety.leadership;

import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;

/**
 * High availability (DESIGN §9): replicas elect a leader with a Lease; only the leader reconciles. The kill
 * switch is deliberately not behind the election: every replica applies a stop (zero writes are idempotent),
 * so a stop never waits for a failover. A leader that loses its lease exits, and is restarted as a standby,
 * so two replicas never reconcile at once.
 * <p>
 * Active in the prod profile (quarkus.operator-sdk.activate-leader-election-for-profiles); elsewhere the one
 * process leads.
 */
@ApplicationScoped
public class Leadership {
    private static final Logger LOG = Logger.getLogger(Leadership.class);
    private final AtomicInteger leader = new AtomicInteger();

    public Leadership(MeterRegistry registry) {
        Gauge.builder("execution.safety.leader", leader, AtomicInteger::get)
                .description("1 on the replica that reconciles, 0 on a standby").register(registry);
    }

    public boolean leading() {
        return leader.get() == 1;
    }

    /**
     * Set first thing on shutdown (before the kill switch stops the operator, which gives the lease up): losing
     * the lease then is the normal end, not a reason to exit with an error. JOSDK's own exit on losing the lease
     * is off for this reason: it calls System.exit from inside the shutdown, which never returns.
     */
    private volatile boolean shuttingDown;

    void onShutdown(@Observes @jakarta.annotation.Priority(1) io.quarkus.runtime.ShutdownEvent event) {
        shuttingDown = true;
    }

    /** The process is stopping: a reconcile cut short now is not a failure. */
    public boolean shuttingDown() {
        return shuttingDown;
    }

    void onStart(@Observes StartupEvent event, Operator operator) {
        if (operator.getConfigurationService().getLeaderElectionConfiguration().isEmpty()) {
            leader.set(1); // no election: this process is the only one acting
        }
    }

    @Produces
    @Singleton
    LeaderElectionConfiguration election(KubernetesClient client,
            @ConfigProperty(name = "execution-safety.leader-election.lease-name", defaultValue = "execution-safety-operator") String lease,
            @ConfigProperty(name = "execution-safety.leader-election.lease-namespace") Optional<String> namespace,
            @ConfigProperty(name = "execution-safety.leader-election.identity") Optional<String> identity,
            @ConfigProperty(name = "execution-safety.leader-election.lease-duration", defaultValue = "15s") Duration leaseDuration,
            @ConfigProperty(name = "execution-safety.leader-election.renew-deadline", defaultValue = "10s") Duration renewDeadline,
            @ConfigProperty(name = "execution-safety.leader-election.retry-period", defaultValue = "2s") Duration retryPeriod) {
        // In a pod HOSTNAME is the pod name; the suffix keeps two processes on one host apart.
        String me = identity.orElseGet(() -> Optional.ofNullable(System.getenv("HOSTNAME")).orElse("operator") + "_"
                + UUID.randomUUID().toString().substring(0, 8));
        String ns = namespace.orElseGet(() -> client.getNamespace() != null ? client.getNamespace() : "default");
        LOG.infof("leader election: Lease %s/%s as %s (lease %s, renew deadline %s)", ns, lease, me, leaseDuration, renewDeadline);
        return new LeaderElectionConfiguration(lease, ns, leaseDuration, renewDeadline, retryPeriod, me,
                new LeaderCallbacks(() -> {
                    leader.set(1);
                    LOG.infof("leading: %s reconciles from now on", me);
                }, () -> {
                    leader.set(0);
                    if (shuttingDown) {
                        LOG.infof("%s gave up the lease on shutdown", me);
                        return;
                    }
                    LOG.warnf("lost the lease: %s stops reconciling and exits", me);
                    exit(); // restarted as a standby: two replicas never reconcile at once
                }, newLeader -> LOG.infof("leader is %s", newLeader)),
                false); // exit above, not in JOSDK: it would also exit (and hang) on a normal shutdown
    }

    /** How long the shutdown after a lost lease may take before the process is halted. */
    static final Duration EXIT_DEADLINE = Duration.ofSeconds(20);

    /**
     * Exit with status 1, from a thread of its own: called on the leader-election thread, {@code System.exit} waited for
     * the shutdown hooks, one of which stops leader election and waits for that very thread, so the process never exited
     * (seen in the insider tier: a replica still alive, not ready and not serving, 3 minutes after losing its Lease). A
     * shutdown that still hangs is cut short by a halt after {@link #EXIT_DEADLINE}.
     */
    private static void exit() {
        Thread exit = new Thread(() -> System.exit(1), "lost-lease-exit");
        exit.start();
        Thread halt = new Thread(() -> {
            try {
                Thread.sleep(EXIT_DEADLINE.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            LOG.errorf("shutdown after the lost lease took over %s; halting", EXIT_DEADLINE);
            Runtime.getRuntime().halt(1);
        }, "lost-lease-halt");
        halt.setDaemon(true);
        halt.start();
    }
}
