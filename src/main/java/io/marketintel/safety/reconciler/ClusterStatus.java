package io.marketintel.safety.reconciler;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.marketintel.safety.api.v1alpha1.ExecutionSafety;
import io.marketintel.safety.api.v1alpha1.ExecutionSafetyStatus;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.killswitch.ClusterStopStatus;
import io.marketintel.safety.killswitch.StopWatcher;
import io.marketintel.safety.leadership.Leadership;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;

/**
 * Writes the status of {@code ExecutionSafety/global} ({@link ClusterStopStatus}), so {@code kubectl get xsafety} shows
 * a cluster-wide stop: who, why, when, its epoch, the policies it still holds and who re-armed them.
 * <p>
 * Reads only the kill switch's caches (its watches of ExecutionSafety/global and of the policies), once a second:
 * computing it is a pass over the policies in memory, and a write happens only when what it says changes (then
 * the object is read once more from the API server, so a cache that has not caught up with the last write does
 * not count a stop twice). Only the leader writes, with server-side apply of the status subresource (RBAC:
 * {@code patch} on {@code executionsafeties/status}, nothing else).
 * <p>
 * {@code execution-safety.cluster-status.enabled=false} turns the writer off. A sharded install (the chart's
 * {@code shards}) sets it on every shard but the first: each shard sees only its own namespaces' policies, and two
 * leaders writing what each sees would overwrite each other every second (and count a new cluster epoch whenever
 * one shard's policies were all re-armed before another's). The status then counts the first shard's policies only;
 * each policy's own {@code status.emergencyStop} is complete in every shard.
 */
@ApplicationScoped
public class ClusterStatus {
    static final Duration PERIOD = Duration.ofSeconds(1);
    private static final Logger LOG = Logger.getLogger(ClusterStatus.class);

    private final KubernetesClient client;
    private final StopWatcher stopWatcher;
    private final Leadership leadership;
    private final Clock clock;
    private final KubernetesSerialization serialization;
    private final boolean enabled;
    private ScheduledExecutorService timer;
    private volatile String lastFailure;

    public ClusterStatus(KubernetesClient client, StopWatcher stopWatcher, Leadership leadership, Clock clock,
            KubernetesSerialization serialization,
            @ConfigProperty(name = "execution-safety.cluster-status.enabled", defaultValue = "true") boolean enabled) {
        this.client = client;
        this.stopWatcher = stopWatcher;
        this.leadership = leadership;
        this.clock = clock;
        this.serialization = serialization;
        this.enabled = enabled;
    }

    void onStart(@Observes StartupEvent event) {
        if (!enabled) {
            LOG.infof("the status of ExecutionSafety/%s is written by another shard (execution-safety.cluster-status.enabled=false)",
                    ExecutionSafety.SINGLETON_NAME);
            return;
        }
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cluster-status");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::tick, PERIOD.toMillis(), PERIOD.toMillis(), TimeUnit.MILLISECONDS);
    }

    void onStop(@Observes ShutdownEvent event) {
        if (timer != null) {
            timer.shutdownNow();
        }
    }

    void tick() {
        try {
            if (!leadership.leading() || !stopWatcher.armed()) {
                return;
            }
            Optional<ExecutionSafety> cached = stopWatcher.global();
            if (cached.isEmpty() || next(cached.get()).isEmpty()) {
                return;
            }
            ExecutionSafety fresh = client.resources(ExecutionSafety.class).withName(ExecutionSafety.SINGLETON_NAME).get();
            if (fresh == null) {
                return;
            }
            Optional<ExecutionSafetyStatus> next = next(fresh);
            if (next.isPresent()) {
                write(next.get());
                if (lastFailure != null) {
                    LOG.infof("ExecutionSafety/%s status written again", ExecutionSafety.SINGLETON_NAME);
                    lastFailure = null;
                }
            }
        } catch (RuntimeException e) {
            String why = e instanceof KubernetesClientException k && k.getStatus() != null && k.getStatus().getMessage() != null
                    ? k.getStatus().getMessage() : String.valueOf(e.getMessage());
            if (!why.equals(lastFailure)) {
                // Once per distinct failure (a missing RBAC rule would otherwise be logged every second).
                LOG.errorf("cannot write the status of ExecutionSafety/%s (kubectl get xsafety stays out of date; stops"
                        + " themselves are not affected): %s", ExecutionSafety.SINGLETON_NAME, why);
                lastFailure = why;
            }
        }
    }

    /** The status to write, or empty when the object already says it. */
    private Optional<ExecutionSafetyStatus> next(ExecutionSafety g) {
        List<ClusterStopStatus.PolicyStop> stops = stopWatcher.watchedPolicies().stream()
                .map(p -> ClusterStopStatus.of(p.getMetadata().getNamespace() + "/" + p.getMetadata().getName(), p.getStatus()))
                .filter(Objects::nonNull).toList();
        long generation = Optional.ofNullable(g.getMetadata().getGeneration()).orElse(0L);
        ExecutionSafetyStatus next = ClusterStopStatus.status(g.getStatus(), generation, StopWatcher.clusterStop(g), stops, clock.instant());
        return g.getStatus() != null && serialization.asJson(g.getStatus()).equals(serialization.asJson(next))
                ? Optional.empty() : Optional.of(next);
    }

    private void write(ExecutionSafetyStatus status) {
        ExecutionSafety patch = new ExecutionSafety();
        patch.setMetadata(new ObjectMetaBuilder().withName(ExecutionSafety.SINGLETON_NAME).build());
        patch.setStatus(status);
        client.resources(ExecutionSafety.class).resource(patch).subresource("status").patch(new PatchContext.Builder()
                .withPatchType(PatchType.SERVER_SIDE_APPLY).withFieldManager(MetadataNames.FIELD_MANAGER).withForce(true).build());
    }
}
