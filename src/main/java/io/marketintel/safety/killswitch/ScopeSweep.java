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
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
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
 * At most one sweep a second per namespace; the stopped passes of the namespace's policies repeat it until nothing is
 * left.
 */
final class ScopeSweep {
    static final Duration MIN_INTERVAL = Duration.ofSeconds(1);
    private static final Logger LOG = Logger.getLogger(ScopeSweep.class);

    private final KubernetesClient client;
    private final ZeroWrites zero;
    private final StopWatcher watcher;
    private final Clock clock;
    private final Map<String, Instant> last = new ConcurrentHashMap<>();

    ScopeSweep(KubernetesClient client, ZeroWrites zero, StopWatcher watcher, Clock clock) {
        this.client = client;
        this.zero = zero;
        this.watcher = watcher;
        this.clock = clock;
    }

    /** Whether a sweep of {@code ns} may start now; if so, it counts as started. */
    boolean due(String ns) {
        Instant now = clock.instant();
        AtomicBoolean due = new AtomicBoolean();
        last.compute(ns, (k, at) -> {
            if (at == null || !at.plus(MIN_INTERVAL).isAfter(now)) {
                due.set(true);
                return now;
            }
            return at;
        });
        return due.get();
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
        for (Deployment d : client.apps().deployments().inNamespace(ns).list().getItems()) {
            if (ungoverned(d, d.getSpec().getTemplate(), d.getSpec().getReplicas(), governing, envVars)) {
                workloads.add(Targets.Workload.of(d));
            }
        }
        for (StatefulSet s : client.apps().statefulSets().inNamespace(ns).list().getItems()) {
            if (ungoverned(s, s.getSpec().getTemplate(), s.getSpec().getReplicas(), governing, envVars)) {
                workloads.add(Targets.Workload.of(s));
            }
        }
        List<String> failures = new ArrayList<>(zero.zero(ns, workloads));
        List<String> pods = client.pods().inNamespace(ns).list().getItems().stream()
                .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
                .filter(p -> !governing.contains(label(p)) && ModeMarks.carriesMode(p.getMetadata(), p.getSpec(), envVars))
                .map(p -> p.getMetadata().getName()).toList();
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
