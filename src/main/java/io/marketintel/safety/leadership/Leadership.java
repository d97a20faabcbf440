package io.marketintel.safety.leadership;

import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
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
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaderElectionRecord;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
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

    /** The Lease this replica competes for, once the election is configured. */
    private volatile LeaseLock lease;
    private volatile String identity;

    /**
     * Gives the Lease up on a graceful shutdown, once this replica can no longer reconcile: the SDK builds its elector
     * not to release on cancel, so a standby waited for the Lease to expire (13.5–14.3 s after a SIGTERM in
     * {@code bench/failover.sh}: every rollout or drain of the chart's two replicas). Runs after the kill switch's
     * shutdown stopped the operator (a later priority than its observer's default), and only when the SDK's reconcile
     * executor has terminated: a pass still running would otherwise overlap the next leader's. Otherwise the Lease
     * expires as before. A crash (SIGKILL) never gets here; the Lease expires.
     */
    void giveUpLease(@Observes @jakarta.annotation.Priority(5000) io.quarkus.runtime.ShutdownEvent event, Operator operator,
            KubernetesClient client) {
        LeaseLock lock = lease;
        if (lock == null || !wasLeading) {
            return;
        }
        // Shut down by the SDK's stop; its idle threads take a moment to exit, so wait for that (bounded) rather than look
        // once: a single look right after the stop found it not terminated yet in one of two graceful stops.
        try {
            if (!operator.getConfigurationService().getExecutorServiceManager().reconcileExecutorService()
                    .awaitTermination(TERMINATION_WAIT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                LOG.warnf("%s keeps the lease on shutdown: a reconcile may still run; the standby takes over when it expires", identity);
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        // The SDK may have closed its client on stop: a short-lived one of the same configuration.
        try (KubernetesClient own = new KubernetesClientBuilder().withConfig(client.getConfiguration()).build()) {
            LeaderElectionRecord current = lock.get(own);
            if (current == null || !identity.equals(current.getHolderIdentity())) {
                return;
            }
            ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
            // An empty holder, as client-go writes it: a standby may take it at once (fabric8's own release writes null,
            // which its merge patch drops, so the Lease would stay named until it expired).
            lock.update(own, new LeaderElectionRecord("", Duration.ofSeconds(1), now, now, current.getLeaderTransitions()));
            LOG.infof("%s gave the lease up on shutdown: the standby leads at its next try", identity);
        } catch (RuntimeException e) {
            LOG.infof("%s could not give the lease up on shutdown (%s); the standby takes over when it expires", identity, e.getMessage());
        }
    }

    /** How long a graceful stop waits for the SDK's reconcile executor to finish before it gives the Lease up. */
    static final Duration TERMINATION_WAIT = Duration.ofSeconds(3);

    /** Led at some point (the gauge is reset when leading stops, which the SDK's stop does before this runs). */
    private volatile boolean wasLeading;

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
            @ConfigProperty(name = "execution-safety.leader-election.retry-period", defaultValue = "1s") Duration retryPeriod) {
        // A leader must stop before a standby may take over (renewDeadline < leaseDuration), and try more than once before
        // it gives up (retryPeriod < renewDeadline): refused at start-up, naming the settings, rather than two leaders.
        if (renewDeadline.compareTo(leaseDuration) >= 0 || retryPeriod.compareTo(renewDeadline) >= 0 || retryPeriod.isZero()
                || retryPeriod.isNegative()) {
            throw new IllegalArgumentException("leader election settings: need 0 < retry-period (" + retryPeriod
                    + ") < renew-deadline (" + renewDeadline + ") < lease-duration (" + leaseDuration
                    + "): execution-safety.leader-election.* (chart: leaderElection.leaseDuration, renewDeadline, retryPeriod)");
        }
        // In a pod HOSTNAME is the pod name; the suffix keeps two processes on one host apart.
        String me = identity.orElseGet(() -> Optional.ofNullable(System.getenv("HOSTNAME")).orElse("operator") + "_"
                + UUID.randomUUID().toString().substring(0, 8));
        String ns = namespace.orElseGet(() -> client.getNamespace() != null ? client.getNamespace() : "default");
        LOG.infof("leader election: Lease %s/%s as %s (lease %s, renew deadline %s)", ns, lease, me, leaseDuration, renewDeadline);
        this.lease = new LeaseLock(ns, lease, me);
        this.identity = me;
        return new LeaderElectionConfiguration(lease, ns, leaseDuration, renewDeadline, retryPeriod, me,
                new LeaderCallbacks(() -> {
                    leader.set(1);
                    wasLeading = true;
                    LOG.infof("leading: %s reconciles from now on", me);
                }, () -> {
                    leader.set(0);
                    if (shuttingDown) {
                        LOG.infof("%s stops leading on shutdown", me);
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
