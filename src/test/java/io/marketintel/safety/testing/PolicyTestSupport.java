package io.marketintel.safety.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.function.Predicate;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionSafety;
import io.marketintel.safety.status.Conditions;

/** Shared steps of the reconciler integration tests. */
public final class PolicyTestSupport {
    public static final Duration DEADLINE = Duration.ofSeconds(90);

    private PolicyTestSupport() {
    }

    public static ExecutionPolicy get(KubernetesClient client, String ns, String name) {
        return client.resources(ExecutionPolicy.class).inNamespace(ns).withName(name).get();
    }

    public static ExecutionPolicy awaitPolicy(KubernetesClient client, String ns, String name, String what,
            Predicate<ExecutionPolicy> condition) {
        return await(what).atMost(DEADLINE).pollInterval(Duration.ofMillis(200))
                .until(() -> get(client, ns, name), p -> p != null && p.getStatus() != null && condition.test(p));
    }

    public static Condition condition(ExecutionPolicy p, String type) {
        return Conditions.find(p.getStatus().conditions, type).orElseThrow(() -> new AssertionError("no " + type + " condition"));
    }

    /** A merge patch of spec.mode, as a person would send it: no resourceVersion, so the operator's own status writes never make it conflict. */
    public static void setMode(KubernetesClient client, String ns, String name, ExecutionMode mode) {
        client.resources(ExecutionPolicy.class).inNamespace(ns).withName(name).patch(
                io.fabric8.kubernetes.client.dsl.base.PatchContext.of(io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
                "{\"spec\":{\"mode\":\"" + mode.wireName() + "\"}}");
    }

    /**
     * Sets the query of the policy's monitor {@code monitor}, its other fields and the other monitors kept: a merge patch of
     * spec.monitors (a list is replaced whole), without a resourceVersion, as for {@link #setMode}.
     */
    public static void setMonitorQuery(KubernetesClient client, String ns, String name, String monitor, String query) {
        ExecutionPolicy p = get(client, ns, name);
        java.util.List<java.util.Map<String, Object>> monitors = p.getSpec().monitors.stream().map(m -> {
            @SuppressWarnings("unchecked")
            java.util.Map<String, Object> fields = client.getKubernetesSerialization().convertValue(m, java.util.Map.class);
            if (monitor.equals(m.name)) {
                fields.put("query", query);
            }
            return fields;
        }).toList();
        assertThat(monitors).as("monitor " + monitor + " of " + name).anyMatch(m -> monitor.equals(m.get("name")));
        client.resources(ExecutionPolicy.class).inNamespace(ns).withName(name).patch(
                io.fabric8.kubernetes.client.dsl.base.PatchContext.of(io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
                client.getKubernetesSerialization().asJson(java.util.Map.of("spec", java.util.Map.of("monitors", monitors))));
    }

    /** kubectl wait --for=condition=Ready, as a person would. */
    public static void kubectlWaitReady(Kubectl kubectl, String ns, String name) {
        Kubectl.Result wait = kubectl.run("wait", "-n", ns, "--for=condition=Ready", "xp/" + name, "--timeout=90s");
        assertThat(wait.exitCode()).as("kubectl wait Ready: %s", wait.output()).isZero();
    }

    /** Ready=True. */
    public static boolean ready(ExecutionPolicy p) {
        return Conditions.isTrue(p.getStatus().conditions, Conditions.READY);
    }

    public static void kubectlWaitStalled(Kubectl kubectl, String ns, String name) {
        Kubectl.Result wait = kubectl.run("wait", "-n", ns, "--for=condition=Stalled", "xp/" + name, "--timeout=90s");
        assertThat(wait.exitCode()).as("kubectl wait Stalled: %s", wait.output()).isZero();
    }

    /**
     * Creates an empty {@code ExecutionSafety/global} unless it exists; true when it existed (a test that created it
     * deletes it again: the singleton is shared by every test on the control plane).
     */
    public static boolean ensureGlobal(KubernetesClient client, Kubectl kubectl) {
        if (client.genericKubernetesResources("safety.marketintel.io/v1alpha1", "ExecutionSafety").withName("global").get() != null) {
            return true;
        }
        Kubectl.Result created = kubectl.apply("""
                apiVersion: safety.marketintel.io/v1alpha1
                kind: ExecutionSafety
                metadata: {name: global}
                spec: {}
                """);
        assertThat(created.exitCode()).as(created.output()).isZero();
        return false;
    }

    /**
     * Sets {@code ExecutionSafety/global} {@code spec.allowedDestinations} to {@code json} (a JSON list), as
     * {@link #setGlobal} does.
     */
    public static AutoCloseable allowDestinations(KubernetesClient client, Kubectl kubectl, String json) {
        return setGlobal(client, kubectl, "allowedDestinations", json);
    }

    /**
     * Sets the field {@code field} of {@code ExecutionSafety/global}'s spec to {@code json}, creating the singleton if it
     * does not exist, as a cluster administrator would; closing the result puts back what was there (or deletes the
     * singleton this made). Merge patches without a resourceVersion: they cannot conflict with the operator's status
     * writes or another writer of the singleton's other fields. The field is read as JSON, so a field the API types do not
     * know yet (a CRD ahead of this code, or behind it) is put back as it was.
     */
    public static AutoCloseable setGlobal(KubernetesClient client, Kubectl kubectl, String field, String json) {
        boolean existed = ensureGlobal(client, kubectl);
        var global = client.genericKubernetesResources("safety.marketintel.io/v1alpha1", "ExecutionSafety")
                .withName(ExecutionSafety.SINGLETON_NAME).get();
        Object spec = global == null ? null : global.getAdditionalProperties().get("spec");
        Object value = spec instanceof java.util.Map<?, ?> m ? m.get(field) : null;
        String before = value == null ? "null" : client.getKubernetesSerialization().asJson(value);
        patchGlobal(kubectl, field, json);
        return () -> {
            if (existed) {
                patchGlobal(kubectl, field, before);
            } else {
                kubectl.run("delete", "executionsafety", ExecutionSafety.SINGLETON_NAME, "--ignore-not-found");
            }
        };
    }

    private static void patchGlobal(Kubectl kubectl, String field, String json) {
        Kubectl.Result patched = kubectl.run("patch", "executionsafety", ExecutionSafety.SINGLETON_NAME, "--type=merge",
                "-p", "{\"spec\":{\"" + field + "\":" + json + "}}");
        assertThat(patched.exitCode()).as(patched.output()).isZero();
    }
}
