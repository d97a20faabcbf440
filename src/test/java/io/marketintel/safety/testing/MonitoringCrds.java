package io.marketintel.safety.testing;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * Stand-ins for the Prometheus Operator's PrometheusRule and ServiceMonitor CRDs (group, kinds and scope only;
 * no schema), so the chart's default install (PrometheusRule on) works on a control plane without the
 * Prometheus Operator. The server then checks those objects' envelope; MonitoringAssetsTest checks the rules
 * with promtool.
 */
public final class MonitoringCrds {
    static final Map<String, String> CRDS = Map.of("prometheusrules.monitoring.coreos.com", "PrometheusRule",
            "servicemonitors.monitoring.coreos.com", "ServiceMonitor");

    private MonitoringCrds() {
    }

    /** Registers the stand-ins that are missing and waits until they are served; returns the names it created. */
    public static List<String> install(KubernetesClient admin) {
        List<String> created = new ArrayList<>();
        CRDS.forEach((name, kind) -> {
            if (admin.apiextensions().v1().customResourceDefinitions().withName(name).get() != null) {
                return;
            }
            String plural = name.substring(0, name.indexOf('.'));
            CustomResourceDefinition crd = admin.getKubernetesSerialization().unmarshal("""
                    apiVersion: apiextensions.k8s.io/v1
                    kind: CustomResourceDefinition
                    metadata: {name: %s}
                    spec:
                      group: monitoring.coreos.com
                      scope: Namespaced
                      names: {kind: %s, listKind: %sList, plural: %s, singular: %s}
                      versions:
                      - name: v1
                        served: true
                        storage: true
                        schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
                    """.formatted(name, kind, kind, plural, kind.toLowerCase()), CustomResourceDefinition.class);
            admin.apiextensions().v1().customResourceDefinitions().resource(crd).create();
            created.add(name);
            await("CRD " + name + " established").atMost(Duration.ofSeconds(30)).until(() -> {
                var live = admin.apiextensions().v1().customResourceDefinitions().withName(name).get();
                // Status and its conditions are null until the API server has written them.
                return live != null && live.getStatus() != null && live.getStatus().getConditions() != null
                        && live.getStatus().getConditions().stream()
                                .anyMatch(c -> "Established".equals(c.getType()) && "True".equals(c.getStatus()));
            });
        });
        return created;
    }
}
