package io.marketintel.safety.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.http.HttpClient;
import io.fabric8.kubernetes.client.http.HttpResponse;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.testing.ControlPlane;

/**
 * What the shipped admission policies cost the API server per write, against the number of ExecutionPolicies in the
 * write's namespace (issue 22): a binding that takes every policy of the namespace as a parameter is evaluated once per
 * policy, so its cost grows with them. No operator runs: the policies are created as they are, and every write is a
 * server-side dry run (admitted or refused as a real one, nothing stored, no controller woken).
 * <p>
 * For each size of POLICY_SIZES: WRITES writes of each kind, timed by the client (median) and by the API server's own
 * {@code apiserver_admission_controller_admission_duration_seconds} for ValidatingAdmissionPolicy (mean):
 * a pod template change of a governed Deployment, its scale subresource (unchanged, and a raise judged against a register
 * of replica ceilings with one entry per policy), and a labelled pod created.
 * <pre>
 *   bench/admission-cost.sh                       POLICY_SIZES="0 50 300" WRITES=20
 * </pre>
 * A benchmark prints figures; nothing here asserts a speed.
 */
public final class AdmissionCostBench {
    private static final String NS = "admission-cost";
    private static final Pattern ADMISSION = Pattern.compile(
            "^apiserver_admission_controller_admission_duration_seconds_(sum|count)\\{([^}]*)\\} (\\S+)$");

    private AdmissionCostBench() {
    }

    public static void main(String[] args) {
        Bench.main("admission-cost", AdmissionCostBench::run);
    }

    private static void run(Figures f) throws Exception {
        List<Integer> sizes = Arrays.stream(Bench.env("POLICY_SIZES", "0 50 300").trim().split("\\s+")).map(Integer::parseInt).toList();
        int writes = Integer.parseInt(Bench.env("WRITES", "20"));
        try (ControlPlane plane = Bench.controlPlane("admission-cost-bench")) {
            plane.installAdmission();
            f.context("kubeApiserver", plane.serverVersion());
            KubernetesClient client = plane.client();
            client.resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build()).serverSideApply();
            client.apps().deployments().inNamespace(NS).resource(deployment()).create();
            StringBuilder out = new StringBuilder();
            out.append("Admission cost per write against ExecutionPolicies in the namespace (%d writes each, dry run;"
                    .formatted(writes)).append(" load average at start ").append(Bench.loadAverage()).append(")\n");
            out.append("policies  write                client p50 ms  VAP mean ms (API server)\n");
            int created = 0;
            for (int size : sizes) {
                for (; created < size; created++) {
                    client.resources(ExecutionPolicy.class).inNamespace(NS).resource(policy("p" + created)).create();
                }
                int present = awaitParams(client, size);
                out.append(row(f, present, "pod template", client, writes, i -> client.apps().deployments().inNamespace(NS).withName("d0")
                        .dryRun().patch(PatchContext.of(PatchType.JSON_MERGE),
                                "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"bench/write\":\"" + i + "\"}}}}}")));
                out.append(row(f, present, "scale subresource", client, writes, i -> scale(client, 0)));
                // A raise is judged against the Namespace's register of replica ceilings, one entry per governed workload
                // as the operator writes it (issue 22): the register's whole length is read for each raise.
                registerCeilings(client, size);
                out.append(row(f, present, "scale raise", client, writes, i -> scale(client, 1)));
                out.append(row(f, present, "labelled pod create", client, writes,
                        i -> client.pods().inNamespace(NS).resource(pod("bench-" + size + "-" + i)).dryRun().create()));
            }
            System.out.print(out);
            Path report = Path.of("target", "admission-cost.txt");
            Files.createDirectories(report.getParent());
            Files.writeString(report, out.toString());
        }
    }

    interface Write {
        void run(int i) throws Exception;
    }

    /**
     * One row of the table, also recorded: {@code client-p50} (ms, the client's median) and {@code vap-mean} (ms, the
     * API server's mean ValidatingAdmissionPolicy time), with {@code policies} and {@code write} (the row's words, dashed).
     */
    private static String row(Figures f, int size, String what, KubernetesClient client, int writes, Write write) throws Exception {
        write.run(-1); // warm: the first of a kind compiles nothing we want to time
        double[] before = vap(client);
        List<Double> millis = new ArrayList<>();
        for (int i = 0; i < writes; i++) {
            long t0 = System.nanoTime();
            write.run(i);
            millis.add((System.nanoTime() - t0) / 1e6);
        }
        double[] after = vap(client);
        Collections.sort(millis);
        double count = after[1] - before[1];
        double p50 = millis.get(millis.size() / 2);
        double vapMean = count == 0 ? 0 : 1000 * (after[0] - before[0]) / count;
        Map<String, Object> params = Figures.params("policies", size, "write", what.replace(' ', '-'));
        f.add("client-p50", params, p50, "ms").add("vap-mean", params, vapMean, "ms");
        return "%8d  %-19s  %13.1f  %11.1f%n".formatted(size, what, p50, vapMean);
    }

    /** Sum (seconds) and count of the API server's ValidatingAdmissionPolicy admission durations, every operation. */
    private static double[] vap(KubernetesClient client) {
        double[] sumCount = new double[2];
        client.raw("/metrics").lines().forEach(l -> {
            Matcher m = ADMISSION.matcher(l);
            if (m.matches() && m.group(2).contains("name=\"ValidatingAdmissionPolicy\"") && m.group(2).contains("rejected=\"false\"")) {
                sumCount[m.group(1).equals("sum") ? 0 : 1] += Double.parseDouble(m.group(3));
            }
        });
        return sumCount;
    }

    /**
     * The Namespace's safety.marketintel.io/replica-ceilings as the operator would hold it for {@code policies} policies of
     * one Deployment each (d0's count 5, so that the timed raise is admitted after the register is read).
     */
    private static void registerCeilings(KubernetesClient client, int policies) {
        List<String> entries = new ArrayList<>();
        for (int k = 0; k < Math.max(1, policies); k++) {
            entries.add("Deployment/d" + k + "=" + (k == 0 ? 5 : 1) + ":p" + k + ":DryRun");
        }
        Collections.sort(entries);
        client.namespaces().withName(NS).patch(PatchContext.of(PatchType.JSON_MERGE), client.getKubernetesSerialization().asJson(
                Map.of("metadata", Map.of("annotations", Map.of(MetadataNames.REPLICA_CEILINGS_ANNOTATION, String.join(",", entries))))));
    }

    /**
     * {@code replicas} through the scale subresource, as the kill switch (0, unchanged) and kubectl scale write it; 1 is a
     * raise (dry run: d0 stays at 0).
     */
    private static void scale(KubernetesClient client, int replicas) throws Exception {
        HttpClient http = client.getHttpClient();
        String url = client.getMasterUrl().toString().replaceAll("/+$", "") + "/apis/apps/v1/namespaces/" + NS
                + "/deployments/d0/scale?dryRun=All";
        HttpResponse<String> answer = http.sendAsync(http.newHttpRequestBuilder().uri(url)
                .method("PATCH", "application/merge-patch+json", "{\"spec\":{\"replicas\":" + replicas + "}}").build(), String.class)
                .get(30, TimeUnit.SECONDS);
        if (!answer.isSuccessful()) {
            throw new IllegalStateException("scale write refused: " + answer.code() + " " + answer.body());
        }
    }

    /**
     * Waits until the API server's parameter informer has every policy created so far: a stopped sentinel policy is
     * created last (watch events arrive in order), and a labelled pod of it is refused once the informer has it.
     */
    private static int awaitParams(KubernetesClient client, int size) {
        String sentinel = "zz-sentinel-" + size;
        ExecutionPolicy stopped = policy(sentinel);
        stopped.getMetadata().setAnnotations(Map.of(MetadataNames.EMERGENCY_STOP_ANNOTATION, "bench sentinel"));
        client.resources(ExecutionPolicy.class).inNamespace(NS).resource(stopped).create();
        Pod probe = pod("probe-" + size);
        probe.getMetadata().getLabels().put(MetadataNames.POLICY_LABEL, sentinel);
        org.awaitility.Awaitility.await("the API server's parameters include " + sentinel).atMost(java.time.Duration.ofSeconds(60))
                .pollInterval(java.time.Duration.ofMillis(100)).until(() -> {
                    try {
                        client.pods().inNamespace(NS).resource(probe).dryRun().create();
                        return false;
                    } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
                        return e.getCode() == 403 || e.getCode() == 422;
                    }
                });
        return client.resources(ExecutionPolicy.class).inNamespace(NS).list().getItems().size();
    }

    private static Deployment deployment() {
        return new DeploymentBuilder().withNewMetadata().withName("d0").addToLabels(MetadataNames.POLICY_LABEL, "p0").endMetadata()
                .withNewSpec().withReplicas(0).withNewSelector().addToMatchLabels("app", "d0").endSelector()
                .withNewTemplate().withNewMetadata().addToLabels("app", "d0").addToLabels(MetadataNames.POLICY_LABEL, "p0")
                .addToAnnotations(MetadataNames.MODE_ANNOTATION, "DryRun").endMetadata()
                .withNewSpec().addNewContainer().withName("app").withImage("registry.example.com/trading/engine:1")
                .addNewEnv().withName("EXECUTION_MODE").withValue("DryRun").endEnv().endContainer().endSpec()
                .endTemplate().endSpec().build();
    }

    private static Pod pod(String name) {
        return new PodBuilder().withNewMetadata().withName(name).addToLabels(MetadataNames.POLICY_LABEL, "p0")
                .addToAnnotations(MetadataNames.MODE_ANNOTATION, "DryRun").endMetadata()
                .withNewSpec().addNewContainer().withName("app").withImage("registry.example.com/trading/engine:1")
                .addNewEnv().withName("EXECUTION_MODE").withValue("DryRun").endEnv().endContainer().endSpec().build();
    }

    private static ExecutionPolicy policy(String name) {
        return io.fabric8.kubernetes.client.utils.Serialization.unmarshal("""
                apiVersion: safety.marketintel.io/v1alpha1
                kind: ExecutionPolicy
                metadata: {name: %s, namespace: %s}
                spec: {mode: DryRun, workloads: {refs: [{kind: Deployment, name: d%s}]}}
                """.formatted(name, NS, name.substring(1)), ExecutionPolicy.class);
    }
}
