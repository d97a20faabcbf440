package io.marketintel.safety.killswitch;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import org.jboss.logging.Logger;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.marketintel.safety.actuation.ModeMarks;
import io.marketintel.safety.actuation.Targets;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;
import io.marketintel.safety.api.v1alpha1.MetadataNames;

/**
 * A namespace- or cluster-wide stop covers every pod that carries a mode (DESIGN §6, issue 20), not only what the
 * policies of its scope govern: a trader's own Deployment whose pods read {@code EXECUTION_MODE}, a bare pod with the
 * mode annotation. This writes {@code replicas: 0} to every Deployment and StatefulSet of the namespace whose pod
 * template carries a mode, and deletes every such pod nobody deleted yet; whatever an existing policy governs (its
 * label names the policy) is left to that policy's own stop, which the same stop triggers, so nothing is written twice.
 * The API server creates no new pod that carries a mode while the stop is in force ({@code execution-safety-stopped-pods}).
 * One sweep at a time per namespace, at most one a second; the stopped passes of the namespace's policies repeat it until
 * nothing is left. Each reads the namespace a page at a time ({@link Pages}).
 */
final class ScopeSweep {
    static final Duration MIN_INTERVAL = Duration.ofSeconds(1);
    /** A sweep still running after this is taken for lost (each request is bounded far below it), and another may start. */
    static final Duration LOST = Duration.ofSeconds(60);
    private static final Logger LOG = Logger.getLogger(ScopeSweep.class);

    private final KubernetesClient client;
    private final ZeroWrites zero;
    private final StopWatcher watcher;
    private final Clock clock;
    private final Map<String, Sweeping> sweeps = new ConcurrentHashMap<>();

    ScopeSweep(KubernetesClient client, ZeroWrites zero, StopWatcher watcher, Clock clock) {
        this.client = client;
        this.zero = zero;
        this.watcher = watcher;
        this.clock = clock;
    }

    /**
     * Whether a sweep of {@code ns} may start now: none is running there, and the last one ended at least
     * {@link #MIN_INTERVAL} ago. If so, it counts as running until {@link #ended} (or until {@link #LOST}). Never two at
     * once: each holds a page of the namespace's objects, and a sweep slower than the interval (a large namespace, a
     * loaded API server) would otherwise start another beside it on every stopped pass.
     */
    boolean due(String ns) {
        Instant now = clock.instant();
        AtomicBoolean due = new AtomicBoolean();
        sweeps.compute(ns, (k, last) -> {
            if (last == null || !last.since().plus(last.running() ? LOST : MIN_INTERVAL).isAfter(now)) {
                due.set(true);
                return new Sweeping(true, now);
            }
            return last;
        });
        return due.get();
    }

    /** The sweep of {@code ns} that {@link #due} let start has ended (done or failed). */
    void ended(String ns) {
        sweeps.put(ns, new Sweeping(false, clock.instant()));
    }

    /** Whether a sweep of a namespace runs, and since when: when it began while it runs, when it ended after. */
    private record Sweeping(boolean running, Instant since) {
    }

    /** Sweeps {@code ns}; returns what could not be done ({@code Kind/name: why}). */
    List<String> sweep(String ns) {
        List<ExecutionPolicy> policies = watcher.watchedPolicies().stream().filter(p -> ns.equals(p.getMetadata().getNamespace())).toList();
        Set<String> governing = new HashSet<>();
        Set<String> envVars = new HashSet<>(Set.of(ExecutionPolicySpec.Defaults.MODE_ENV_VAR));
        for (ExecutionPolicy p : policies) {
            governing.add(p.getMetadata().getName());
            if (p.getSpec() != null && p.getSpec().modeInjection != null && p.getSpec().modeInjection.envVar != null) {
                envVars.add(p.getSpec().modeInjection.envVar);
            }
        }
        List<Targets.Workload> workloads = new ArrayList<>();
        Pages.each(client.apps().deployments().inNamespace(ns), d -> {
            if (ungoverned(d, d.getSpec().getTemplate(), d.getSpec().getReplicas(), governing, envVars)) {
                workloads.add(Targets.Workload.of(d));
            }
        });
        Pages.each(client.apps().statefulSets().inNamespace(ns), s -> {
            if (ungoverned(s, s.getSpec().getTemplate(), s.getSpec().getReplicas(), governing, envVars)) {
                workloads.add(Targets.Workload.of(s));
            }
        });
        List<String> failures = new ArrayList<>(zero.zero(ns, workloads));
        List<String> pods = new ArrayList<>();
        Pages.each(client.pods().inNamespace(ns), p -> {
            if (p.getMetadata().getDeletionTimestamp() == null && !governing.contains(label(p))
                    && ModeMarks.carriesMode(p.getMetadata(), p.getSpec(), envVars)) {
                pods.add(p.getMetadata().getName());
            }
        });
        failures.addAll(zero.deletePods(ns, pods));
        if (!workloads.isEmpty() || !pods.isEmpty() || !failures.isEmpty()) {
            LOG.infof("emergency stop of namespace %s: %d workload(s) no policy governs written to zero, %d pod(s) that carry a mode"
                    + " deleted, %d failure(s) %s", ns, workloads.size(), pods.size(), failures.size(), failures);
        }
        return failures;
    }

    private static boolean ungoverned(HasMetadata w, PodTemplateSpec template, Integer replicas, Set<String> governing, Set<String> envVars) {
        if (replicas != null && replicas == 0 || template == null) {
            return false;
        }
        return !governing.contains(label(w)) && !governing.contains(label(template.getMetadata()))
                && ModeMarks.carriesMode(template.getMetadata(), template.getSpec(), envVars);
    }

    private static String label(HasMetadata o) {
        return label(o.getMetadata());
    }

    private static String label(io.fabric8.kubernetes.api.model.ObjectMeta meta) {
        return meta == null || meta.getLabels() == null ? null : meta.getLabels().get(MetadataNames.POLICY_LABEL);
    }
}
