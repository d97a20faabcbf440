package io.marketintel.safety.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.marketintel.safety.actuation.Convergence;
import io.marketintel.safety.admission.LiveRegister;
import io.marketintel.safety.admission.StopMarks;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.killswitch.StopWatcher;

/**
 * Writes an ExecutionPolicy's status as the operator would, for admission tests that run no operator: the status
 * subresource (which only the operator may patch), and the Namespace's register of Live policies
 * ({@link MetadataNames#LIVE_POLICIES_ANNOTATION}) kept to what that status allows, as the operator keeps it, and the
 * register of the policy's own env var ({@link MetadataNames#MODE_ENV_VARS_ANNOTATION}) as its spec names it, and the stop
 * marks ({@link StopMarks}).
 */
public final class OperatorStatus {
    private OperatorStatus() {
    }

    /** Merges {@code json} into the policy's status, then names the policy in the register exactly if the result allows Live. */
    public static void write(KubernetesClient client, Kubectl kubectl, String ns, String policy, String json) {
        Kubectl.Result r = kubectl.run("patch", "xp", policy, "-n", ns, "--subresource=status", "--type=merge",
                "-p", "{\"status\":" + json + "}");
        assertThat(r.exitCode()).as(r.output()).isZero();
        ExecutionPolicy written = client.resources(ExecutionPolicy.class).inNamespace(ns).withName(policy).get();
        ExecutionPolicyStatus status = written.getStatus();
        boolean live = Convergence.Write.liveAllowedBy(status);
        register(client, kubectl, ns, policy, live);
        // The stop marks (StopMarks): the policy's stop label while the status latches a stop, and the Namespace's count of
        // the stops every policy has recorded.
        if (StopMarks.labelDue(written, status) || StopMarks.labelSpare(written, status)) {
            Kubectl.Result l = kubectl.run("label", "xp", policy, "-n", ns, "--overwrite",
                    StopMarks.labelDue(written, status) ? MetadataNames.STOPPED_LABEL + "=true" : MetadataNames.STOPPED_LABEL + "-");
            assertThat(l.exitCode()).as(l.output()).isZero();
        }
        var namespace = client.namespaces().withName(ns).get();
        StopMarks.raise(StopWatcher.count(namespace), StopMarks.recorded(namespace),
                client.resources(ExecutionPolicy.class).inNamespace(ns).list().getItems().stream()).ifPresent(to -> {
                    Kubectl.Result n = kubectl.run("annotate", "namespace", ns, "--overwrite",
                            MetadataNames.EMERGENCY_STOPS_RECORDED_ANNOTATION + "=" + to);
                    assertThat(n.exitCode()).as(n.output()).isZero();
                });
        String envVar = written.getSpec().modeInjection == null ? null : written.getSpec().modeInjection.envVar;
        Map<String, String> annotations = client.namespaces().withName(ns).get().getMetadata().getAnnotations();
        LiveRegister.updatedEnvVars(annotations == null ? "" : annotations.getOrDefault(MetadataNames.MODE_ENV_VARS_ANNOTATION, ""),
                policy, envVar).ifPresent(value -> {
                    Kubectl.Result e = kubectl.run("annotate", "namespace", ns, "--overwrite", value.isEmpty()
                            ? MetadataNames.MODE_ENV_VARS_ANNOTATION + "-" : MetadataNames.MODE_ENV_VARS_ANNOTATION + "=" + value);
                    assertThat(e.exitCode()).as(e.output()).isZero();
                });
    }

    /** The Namespace's register of Live policies now ("" when none). */
    public static String register(KubernetesClient client, String ns) {
        Map<String, String> annotations = client.namespaces().withName(ns).get().getMetadata().getAnnotations();
        return annotations == null ? "" : annotations.getOrDefault(MetadataNames.LIVE_POLICIES_ANNOTATION, "");
    }

    /** The Namespace's register of replica ceilings now ("" when none). */
    public static String ceilings(KubernetesClient client, String ns) {
        Map<String, String> annotations = client.namespaces().withName(ns).get().getMetadata().getAnnotations();
        return annotations == null ? "" : annotations.getOrDefault(MetadataNames.REPLICA_CEILINGS_ANNOTATION, "");
    }

    /** Names {@code policy} in the register or not, as the operator does (here: the cluster admin, who may). */
    public static void register(KubernetesClient client, Kubectl kubectl, String ns, String policy, boolean live) {
        LiveRegister.updated(register(client, ns), policy, live).ifPresent(value -> {
            Kubectl.Result r = kubectl.run("annotate", "namespace", ns, "--overwrite",
                    value.isEmpty() ? MetadataNames.LIVE_POLICIES_ANNOTATION + "-" : MetadataNames.LIVE_POLICIES_ANNOTATION + "=" + value);
            assertThat(r.exitCode()).as(r.output()).isZero();
        });
    }
}
