package io.marketintel.safety.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;

import com.fasterxml.jackson.databind.JsonNode;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.marketintel.safety.testing.ControlPlane;
import io.marketintel.safety.testing.Helm;
import io.marketintel.safety.testing.Kubectl;
import io.marketintel.safety.testing.Listeners;
import io.marketintel.safety.testing.MonitoringCrds;
import io.marketintel.safety.testing.OperatorJvm;
import io.marketintel.safety.testing.OperatorProcess;

/**
 * The end-to-end tier's cluster, set up the way a user installs the product: a fresh control plane with
 * nothing of ours on it; {@code helm install} of the chart with its default values (CRDs, admission policies,
 * user roles, the operator's ServiceAccount and RBAC, monitoring); then the packaged operator as its own process,
 * configured from the environment of the Deployment the chart rendered and authenticated with a token the API
 * server issued to the chart's ServiceAccount. Nothing of the test code's own permissions is borrowed: a rule
 * missing from the chart is a request the API server refuses.
 * <p>
 * The chart's operator Deployment is installed too; on this control plane kwok plays its pods (no container
 * runtime, no image), so they hold no Lease and write nothing. The process started here is the operator.
 */
public final class E2eCluster implements AutoCloseable {
    public static final Path SUITES = Path.of("e2e");
    public static final String RELEASE = Helm.RELEASE;
    public static final String NAMESPACE = Helm.NAMESPACE;
    public static final String SERVICE_ACCOUNT = RELEASE;

    private final Path workDir;
    private final ControlPlane plane;
    private final Kubectl kubectl;
    private final Path operatorKubeconfig;
    private OperatorProcess operator;
    private int operatorStarts;

    private E2eCluster(Path workDir, ControlPlane plane) {
        this.workDir = workDir;
        this.plane = plane;
        this.kubectl = new Kubectl(plane);
        this.operatorKubeconfig = workDir.resolve("operator.kubeconfig");
    }

    /** A fresh control plane in {@code workDir} with the chart installed (the operator not started yet). */
    public static E2eCluster install(Path workDir) {
        try {
            Files.createDirectories(workDir);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        E2eCluster cluster = new E2eCluster(workDir, ControlPlane.start(workDir.resolve("control-plane"), false));
        try {
            cluster.helmInstall();
            return cluster;
        } catch (RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    private void helmInstall() {
        try (KubernetesClient admin = plane.client()) {
            MonitoringCrds.install(admin);
        }
        Helm.Result installed = Helm.run("install", RELEASE, Helm.CHART.toString(), "--namespace", NAMESPACE,
                "--create-namespace", "--kubeconfig", plane.kubeconfig().toString());
        log("helm install " + RELEASE + " " + Helm.CHART + " --namespace " + NAMESPACE + " --create-namespace",
                installed.output());
        if (installed.exitCode() != 0) {
            throw new IllegalStateException("helm install failed:\n" + installed.output());
        }
        // The admission policies the chart just installed are enforced a few seconds later.
        plane.awaitAdmissionEnforced();
    }

    public ControlPlane plane() {
        return plane;
    }

    public Kubectl kubectl() {
        return kubectl;
    }

    public Path workDir() {
        return workDir;
    }

    public OperatorProcess operator() {
        return operator;
    }

    /** The objects of the installed release ({@code helm get manifest}). */
    public List<JsonNode> releaseObjects() {
        Helm.Result manifest = Helm.run("get", "manifest", RELEASE, "--namespace", NAMESPACE, "--kubeconfig",
                plane.kubeconfig().toString());
        if (manifest.exitCode() != 0) {
            throw new IllegalStateException("helm get manifest failed:\n" + manifest.output());
        }
        return Helm.parse(manifest.stdout());
    }

    /**
     * The environment of the chart's operator container, as the kubelet would give it: plain values, and the
     * pod's namespace for a {@code fieldRef} to metadata.namespace (the only field reference the chart uses).
     */
    public Map<String, String> chartEnvironment() {
        JsonNode deployment = releaseObjects().stream().filter(o -> o.path("kind").asText().equals("Deployment"))
                .findFirst().orElseThrow(() -> new IllegalStateException("the release has no Deployment"));
        Map<String, String> env = new LinkedHashMap<>();
        for (JsonNode var : deployment.at("/spec/template/spec/containers/0/env")) {
            String name = var.path("name").asText();
            if (var.has("value")) {
                env.put(name, var.path("value").asText());
            } else if (var.at("/valueFrom/fieldRef/fieldPath").asText().equals("metadata.namespace")) {
                env.put(name, NAMESPACE);
            } else {
                throw new IllegalStateException("the e2e tier cannot resolve env var " + var);
            }
        }
        return env;
    }

    /**
     * A kubeconfig holding only a token the API server issued to the chart's ServiceAccount ({@code kubectl
     * create token}): whatever the operator does with it is authorized by the chart's RBAC alone.
     */
    Path serviceAccountKubeconfig() {
        Kubectl.Result token = kubectl.run("create", "token", SERVICE_ACCOUNT, "-n", NAMESPACE, "--duration=24h");
        if (token.exitCode() != 0) {
            throw new IllegalStateException("kubectl create token " + SERVICE_ACCOUNT + ": " + token.output());
        }
        Config admin = plane.config();
        String ca = admin.getCaCertData();
        if (ca == null || ca.isBlank()) {
            try {
                ca = Base64.getEncoder().encodeToString(Files.readAllBytes(Path.of(admin.getCaCertFile())));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
        String yaml = """
                apiVersion: v1
                kind: Config
                clusters:
                - name: e2e
                  cluster: {server: "%s", certificate-authority-data: "%s"}
                users:
                - name: %s
                  user: {token: "%s"}
                contexts:
                - name: operator
                  context: {cluster: e2e, user: %s, namespace: %s}
                current-context: operator
                """.formatted(admin.getMasterUrl(), ca, SERVICE_ACCOUNT, token.stdout().strip(), SERVICE_ACCOUNT, NAMESPACE);
        try {
            Files.writeString(operatorKubeconfig, yaml);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return operatorKubeconfig;
    }

    /**
     * Starts the packaged operator as the chart's ServiceAccount with the chart's environment and the image's JVM
     * options. With
     * {@code awaitReady} it returns once /q/health/ready says UP (fails after 3 minutes); otherwise once its HTTP
     * server listens or the process has exited, whichever comes first.
     */
    public OperatorProcess startOperator(boolean awaitReady) {
        stopOperator();
        // A previous process's Lease would make this one wait for it to expire.
        kubectl.run("delete", "lease", "--all", "-n", NAMESPACE, "--ignore-not-found");
        // The image's own command-line options too (its run-java.sh adds them): the JVM a pod of the chart runs.
        operator = OperatorProcess.launch(serviceAccountKubeconfig(), chartEnvironment(),
                OperatorJvm.imageOptions(OperatorJvm.chartMemoryLimit()),
                workDir.resolve("operator-" + (++operatorStarts) + ".log"));
        if (awaitReady) {
            operator.awaitReady(Duration.ofMinutes(3));
            List<String> exposed = Listeners.beyondLoopback(operator.pid());
            if (!exposed.isEmpty()) {
                throw new IllegalStateException("the operator listens beyond loopback: " + exposed);
            }
        } else {
            Awaitility.await("operator listening or exited (" + operator.log() + ")").atMost(Duration.ofMinutes(3))
                    .pollInterval(Duration.ofMillis(500))
                    .until(() -> !operator.alive() || Files.readString(operator.log()).contains("Listening on: http"));
        }
        return operator;
    }

    public void stopOperator() {
        if (operator != null) {
            operator.close();
            operator = null;
        }
    }

    /** The outcome of one chainsaw run: its exit code, its output and the JUnit report it wrote. */
    public record ChainsawRun(int exitCode, String output, Path report) {
    }

    /**
     * {@code chainsaw test e2e/} as the cluster admin (the suites act as people with {@code kubectl --as}); the
     * report (one test case per suite) goes to {@code workDir/reportName.xml}.
     */
    public ChainsawRun chainsaw(String reportName, String... extraArgs) {
        Path bin = plane.kubectl().getParent();
        List<String> command = new ArrayList<>(List.of(bin.resolve("chainsaw").toString(), "test",
                "--config", SUITES.resolve(".chainsaw.yaml").toString(), "--test-dir", SUITES.toString(),
                "--report-format", "JUNIT-TEST", "--report-path", workDir.toAbsolutePath().toString(),
                "--report-name", reportName, "--no-color"));
        command.addAll(List.of(extraArgs));
        Path output = workDir.resolve(reportName + ".log");
        Path report = workDir.resolve(reportName + ".xml");
        try {
            Files.deleteIfExists(report); // never read a previous run's report
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile());
        pb.environment().put("KUBECONFIG", plane.kubeconfig().toString());
        // The suites' scripts run the kubectl that matches the control plane.
        pb.environment().put("PATH", bin + java.io.File.pathSeparator + System.getenv("PATH"));
        try {
            Process p = pb.start();
            if (!p.waitFor(20, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException("chainsaw did not finish within 20 minutes; output " + output);
            }
            return new ChainsawRun(p.exitValue(), Files.readString(output, StandardCharsets.UTF_8), report);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private void log(String command, String output) {
        try {
            Files.writeString(workDir.resolve("install.log"), "$ " + command + "\n" + output + "\n",
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        stopOperator();
        plane.close();
    }
}
