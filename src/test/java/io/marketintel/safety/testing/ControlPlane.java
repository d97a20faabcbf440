package io.marketintel.safety.testing;

import static org.awaitility.Awaitility.await;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.fabric8.kubeapitest.KubeAPIServer;
import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;

/**
 * A real Kubernetes control plane for tests and for the local run: etcd and kube-apiserver through Fabric8
 * kube-api-test, plus kube-controller-manager (Deployments get ReplicaSets and Pods), kube-scheduler and
 * kwok (a fake kubelet: pods on its node become Running/Ready without containers). Binaries come from
 * {@code hack/build-tools.sh}. Started once per JVM and shared; stopped by a shutdown hook.
 */
public final class ControlPlane implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ControlPlane.class);
    public static final String FAKE_NODE = "kwok-node-0";
    private static final int TEST_CLIENT_REQUEST_TIMEOUT_MILLIS = 60_000;

    private static ControlPlane shared;

    private final Path workDir;
    private final Path binDir;
    private final Path certDir;
    private final Path kubeconfig;
    private final KubeAPIServer apiServer;
    private final List<Process> processes = new ArrayList<>();
    private final String serverVersion;
    private Process replacedApiServer;

    /** The one control plane of this JVM, started on first use. */
    public static synchronized ControlPlane shared() {
        if (shared == null) {
            shared = start(Path.of("target", "control-plane").toAbsolutePath(), true);
            Runtime.getRuntime().addShutdownHook(new Thread(shared::close, "control-plane-stop"));
        }
        return shared;
    }

    private static final int STARTUP_TIMEOUT_MS = 120_000;

    /**
     * kube-api-test (7.5.2) computes its start-up deadline as a {@link java.time.LocalTime}: started less than the timeout
     * before midnight, the deadline wraps to the next morning, "now" is already after it, and the start fails at once
     * ("Kube API Server did not start properly", seen at 23:59:36). So a start that would straddle midnight waits for
     * it first: at most the timeout, only in that window.
     */
    static void notAcrossMidnight(long timeoutMs) {
        long wait = waitForMidnight(java.time.LocalTime.now(), timeoutMs);
        if (wait > 0) {
            LOG.info("waiting {} ms for midnight: kube-api-test's start-up deadline would wrap past it", wait);
            try {
                Thread.sleep(wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for midnight", e);
            }
        }
    }

    /** How long a start at {@code now} must wait so that its deadline does not wrap past midnight: 0 almost always. */
    static long waitForMidnight(java.time.LocalTime now, long timeoutMs) {
        if (!now.plus(timeoutMs, java.time.temporal.ChronoUnit.MILLIS).isBefore(now)) {
            return 0;
        }
        return java.time.Duration.between(now, java.time.LocalTime.MAX).toMillis() + 1_000;
    }

    public static ControlPlane start(Path workDir, boolean applyCrds) {
        return new ControlPlane(workDir, applyCrds, List.of(), true);
    }

    /**
     * With extra kube-controller-manager flags: the benchmarks raise its client rate limit ({@code --kube-api-qps},
     * 20 requests/s by default), which otherwise paces every Deployment rollout in the cluster.
     */
    public static ControlPlane start(Path workDir, boolean applyCrds, List<String> controllerManagerFlags) {
        return new ControlPlane(workDir, applyCrds, controllerManagerFlags, true);
    }

    /**
     * The local run's control plane ({@code hack/run.sh}): its fake pods get no IP address. In the tests a pod's
     * loopback address lets a local server play the pod's cancel-orders endpoint; in a local run nothing plays it,
     * and an emergency stop would POST to whatever service of the host happens to listen on that address and port.
     */
    public static ControlPlane startLocal(Path workDir) {
        return new ControlPlane(workDir, false, List.of(), false);
    }

    private ControlPlane(Path workDir, boolean applyCrds, List<String> controllerManagerFlags, boolean podAddresses) {
        String version = System.getProperty("kube.version", "1.36.3");
        this.certDir = Path.of(System.getenv().getOrDefault("KUBE_API_TEST_DIR",
                System.getProperty("user.home") + File.separator + ".kubeapitest"));
        this.binDir = certDir.resolve("k8s").resolve(version + "-linux-amd64");
        this.workDir = workDir;
        for (String b : List.of("etcd", "kube-apiserver", "kubectl", "kube-controller-manager", "kube-scheduler", "kwok")) {
            if (!Files.isExecutable(binDir.resolve(b))) {
                throw new IllegalStateException("missing " + binDir.resolve(b) + ": run hack/build-tools.sh first");
            }
        }
        try {
            Files.createDirectories(workDir);
            notAcrossMidnight(STARTUP_TIMEOUT_MS);
            long started = System.nanoTime();
            apiServer = new KubeAPIServer(KubeAPIServerConfigBuilder.anAPIServerConfig()
                    .withTestDir(certDir.toString())
                    .withApiServerVersion(version)
                    .withOfflineMode(true)
                    .withUpdateKubeConfig(false)
                    .withStartupTimeout(STARTUP_TIMEOUT_MS)
                    // Loopback only (it binds every interface by default); etcd is kept on loopback by the
                    // wrapper hack/build-tools.sh installs.
                    .withApiServerFlag("--bind-address", "127.0.0.1")
                    .build());
            apiServer.start();
            kubeconfig = workDir.resolve("kubeconfig");
            Files.writeString(kubeconfig, apiServer.getKubeConfigYaml());

            List<String> controllerManager = new ArrayList<>(List.of(
                    "--kubeconfig=" + kubeconfig,
                    "--leader-elect=false",
                    "--secure-port=0",
                    "--use-service-account-credentials=false",
                    "--service-account-private-key-file=" + certDir.resolve("apiserver.key"),
                    "--root-ca-file=" + certDir.resolve("apiserver.crt"),
                    "--controllers=*,-nodeipam,-nodelifecycle,-cloud-node-lifecycle,-service-lb-controller,-route"));
            controllerManager.addAll(controllerManagerFlags);
            startProcess("kube-controller-manager", controllerManager.toArray(String[]::new));
            startProcess("kube-scheduler", "--kubeconfig=" + kubeconfig, "--leader-elect=false", "--secure-port=0");
            List<String> kwok = new ArrayList<>(List.of("--kubeconfig=" + kubeconfig, "--manage-all-nodes=true",
                    "--config=" + kwokStages(podAddresses),
                    // Pod IPs are loopback addresses, so an endpoint on a (fake) pod can be played by a local
                    // server: the cancel-orders hook is tested with real HTTP calls to pod IPs.
                    "--cidr=127.0.0.0/16", "--node-ip=10.96.0.10"));
            kwokParallelism().ifPresent(kwok::add);
            startProcess("kwok", kwok.toArray(String[]::new));

            try (KubernetesClient client = client()) {
                serverVersion = client.getKubernetesVersion().getGitVersion();
                registerFakeNode(client);
                if (applyCrds) {
                    applyCrds(client, Path.of("k8s", "crds"));
                    installAdmission();
                }
            }
            Files.writeString(workDir.resolve("server-version"), serverVersion + System.lineSeparator());
            LOG.info("control plane up in {} ms: kube-apiserver {} (binaries {}), kubeconfig {}",
                    (System.nanoTime() - started) / 1_000_000, serverVersion, binDir, kubeconfig);
        } catch (IOException e) {
            close();
            throw new IllegalStateException("control plane failed to start", e);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * {@code KWOK_POD_PARALLELISM} (environment), when set: a second kwok config raising how many pod stages kwok plays at
     * once (4 by default). kwok plays the kubelet of every pod on one fake node with those few workers, where a real
     * cluster has a kubelet per node; the stop benchmark raises it so that its "pods gone" measures the operator and
     * the API server, not one fake kubelet (bench/README.md). Tests leave it unset. (kwok 0.8 does not default the
     * options a second config leaves out: every parallelism is given, the others at kwok's defaults.)
     */
    private Optional<String> kwokParallelism() throws IOException {
        String n = System.getenv("KWOK_POD_PARALLELISM");
        if (n == null || n.isBlank()) {
            return Optional.empty();
        }
        if (!n.matches("[1-9][0-9]{0,3}")) {
            throw new IllegalArgumentException("KWOK_POD_PARALLELISM must be a number from 1 to 9999, not " + n);
        }
        Path config = workDir.resolve("kwok-parallelism.yaml");
        Files.writeString(config, """
                apiVersion: config.kwok.x-k8s.io/v1alpha1
                kind: KwokConfiguration
                options:
                  podPlayStageParallelism: %s
                  nodePlayStageParallelism: 4
                  nodeLeaseParallelism: 4
                  podsOnNodeSyncParallelism: 1
                """.formatted(n));
        return Optional.of("--config=" + config);
    }

    /**
     * hack/kwok/stages.yaml as it is, or without the lines between its {@code pod-ip: begin}/{@code pod-ip: end}
     * markers, so that pods get no IP address.
     */
    private Path kwokStages(boolean podAddresses) throws IOException {
        Path stages = Path.of("hack", "kwok", "stages.yaml").toAbsolutePath();
        if (podAddresses) {
            return stages;
        }
        StringBuilder without = new StringBuilder();
        boolean skipping = false;
        for (String line : Files.readAllLines(stages, StandardCharsets.UTF_8)) {
            if (line.contains("# pod-ip: begin")) {
                skipping = true;
            } else if (line.contains("# pod-ip: end")) {
                skipping = false;
            } else if (!skipping) {
                without.append(line).append('\n');
            }
        }
        if (skipping || without.length() == Files.size(stages)) {
            throw new IllegalStateException(stages + ": no complete '# pod-ip: begin' ... '# pod-ip: end' block");
        }
        Path local = workDir.resolve("kwok-stages-without-pod-ips.yaml");
        Files.writeString(local, without);
        return local;
    }

    private void startProcess(String binary, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(binDir.resolve(binary).toString());
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(workDir.resolve(binary + ".log").toFile())
                .start();
        processes.add(p);
        p.onExit().thenAccept(done -> {
            if (processes.contains(done)) {
                LOG.error("{} exited with {}; see {}", binary, done.exitValue(), workDir.resolve(binary + ".log"));
            }
        });
    }

    /** A node kwok plays the kubelet for; the scheduler places every test pod on it. */
    private static void registerFakeNode(KubernetesClient client) {
        client.nodes().resource(new NodeBuilder()
                .withNewMetadata()
                .withName(FAKE_NODE)
                .withAnnotations(Map.of("kwok.x-k8s.io/node", "fake"))
                .withLabels(Map.of("type", "kwok", "kubernetes.io/hostname", FAKE_NODE))
                .endMetadata()
                .withNewStatus()
                .withAllocatable(Map.of("cpu", new Quantity("64"), "memory", new Quantity("256Gi"),
                        "pods", new Quantity("500")))
                .withCapacity(Map.of("cpu", new Quantity("64"), "memory", new Quantity("256Gi"),
                        "pods", new Quantity("500")))
                .endStatus()
                .build()).forceConflicts().serverSideApply();
        await("fake node " + FAKE_NODE + " Ready").atMost(Duration.ofSeconds(60)).until(() -> {
            var node = client.nodes().withName(FAKE_NODE).get();
            return node != null && node.getStatus() != null && node.getStatus().getConditions() != null
                    && node.getStatus().getConditions().stream()
                            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
        });
        // Admission taints a new node not-ready; the node-lifecycle controller that would lift it is off
        // (kwok sends no heartbeats, so it would evict everything), so lift it here once kwok says Ready.
        // A merge patch without a resourceVersion: kwok writes this node all the time, so a read-modify-write
        // here could lose the race with a 409 Conflict (it did, on a loaded CI machine).
        client.nodes().withName(FAKE_NODE).patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"taints\":null}}");
        // The ServiceAccount admission plugin is off (kube-api-test), but pods still name "default".
        await("default ServiceAccount").atMost(Duration.ofSeconds(60))
                .until(() -> client.serviceAccounts().inNamespace("default").withName("default").get() != null);
    }

    /**
     * Applies the shipped admission policies and user roles (k8s/admission, k8s/rbac) with kubectl and waits
     * until the API server enforces them: a server-side dry-run create comes back stamped with its requester.
     */
    public void installAdmission() {
        Kubectl kubectl = new Kubectl(this);
        Kubectl.Result applied = kubectl.run("apply", "--server-side", "-f", "k8s/admission", "-f", "k8s/rbac");
        if (applied.exitCode() != 0) {
            throw new IllegalStateException("admission policies not applied: " + applied.output());
        }
        awaitAdmissionEnforced();
    }

    /**
     * Waits until the API server enforces the shipped admission policies, however they were installed: a
     * server-side dry-run create comes back stamped with its requester.
     */
    public void awaitAdmissionEnforced() {
        Kubectl kubectl = new Kubectl(this);
        String probe = """
                apiVersion: safety.marketintel.io/v1alpha1
                kind: ExecutionPolicy
                metadata: {name: admission-probe, namespace: default}
                spec: {mode: Backtest, workloads: {refs: [{kind: Deployment, name: probe}]}}
                """;
        await("admission policies enforced").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
                .until(() -> kubectl.runWithInput(probe, "create", "--dry-run=server", "-f", "-", "-o",
                        "jsonpath={.metadata.annotations.safety\\.marketintel\\.io/requested-by}").stdout().equals("kubeapitest"));
    }

    /** Applies every CRD in {@code dir} and waits until the API server serves them. */
    public static void applyCrds(KubernetesClient client, Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                try (InputStream in = Files.newInputStream(file)) {
                    CustomResourceDefinition crd = client.getKubernetesSerialization()
                            .unmarshal(in, CustomResourceDefinition.class);
                    client.apiextensions().v1().customResourceDefinitions().resource(crd)
                            .forceConflicts().serverSideApply();
                    await("CRD " + crd.getMetadata().getName() + " established").atMost(Duration.ofSeconds(30))
                            .until(() -> {
                                var live = client.apiextensions().v1().customResourceDefinitions()
                                        .withName(crd.getMetadata().getName()).get();
                                // Status and its conditions are null until the API server has written them.
                                return live != null && live.getStatus() != null && live.getStatus().getConditions() != null
                                        && live.getStatus().getConditions().stream()
                                        .anyMatch(c -> "Established".equals(c.getType())
                                                && "True".equals(c.getStatus()));
                            });
                }
            }
        }
    }

    public KubernetesClient client() {
        return new KubernetesClientBuilder().withConfig(config()).build();
    }

    public Config config() {
        Config config = Config.fromKubeconfig(readKubeconfig());
        // The tests' own clients wait longer than Fabric8's 10 s for an answer: on a loaded 2-core CI machine
        // (load average 20 and more) a plain GET took longer than that and failed a test that was not wrong.
        config.setRequestTimeout(TEST_CLIENT_REQUEST_TIMEOUT_MILLIS);
        return config;
    }

    private String readKubeconfig() {
        try {
            return Files.readString(kubeconfig, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public Path kubeconfig() {
        return kubeconfig;
    }

    public Path kubectl() {
        return binDir.resolve("kubectl");
    }

    public String serverVersion() {
        return serverVersion;
    }

    /** Settings that point the in-process operator's Kubernetes client at this control plane. */
    public Map<String, String> quarkusClientConfig() {
        Config c = config();
        return Map.of(
                "quarkus.kubernetes-client.api-server-url", c.getMasterUrl(),
                "quarkus.kubernetes-client.ca-cert-data", nullToEmpty(c.getCaCertData()),
                "quarkus.kubernetes-client.client-cert-data", nullToEmpty(c.getClientCertData()),
                "quarkus.kubernetes-client.client-key-data", nullToEmpty(c.getClientKeyData()),
                "quarkus.kubernetes-client.ca-cert-file", nullToEmpty(c.getCaCertFile()),
                "quarkus.kubernetes-client.client-cert-file", nullToEmpty(c.getClientCertFile()),
                "quarkus.kubernetes-client.client-key-file", nullToEmpty(c.getClientKeyFile()));
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }

    /**
     * Fault injection: kills kube-apiserver (SIGKILL) and starts it again with the same
     * command line (same port, certificates and etcd), then waits until it answers /readyz; kube-controller-manager, kube-scheduler and kwok are restarted with it
     * ({@link #restartHelpers}). etcd and every client's kubeconfig stay as they are. kube-api-test has no restart, so this reaches into it: its process is marked as
     * stopped on purpose (otherwise its exit handler would stop etcd too) and the replacement is ours to stop.
     */
    public synchronized Duration restartApiServer() {
        long started = System.nanoTime();
        try {
            Object managed = field(apiServer, "kubeApiServerProcess");
            Process old = (Process) field(managed, "apiServerProcess");
            java.lang.reflect.Field stopped = managed.getClass().getDeclaredField("stopped");
            stopped.setAccessible(true);
            stopped.setBoolean(managed, true);
            Process current = replacedApiServer != null ? replacedApiServer : old;
            List<String> command = commandLine(current.pid());
            // A crash (SIGKILL): a graceful shutdown drains watches for 20 s and more, longer than any lease renewal.
            current.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            processes.remove(current);
            Process next = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(workDir.resolve("kube-apiserver-restarted.log").toFile()))
                    .start();
            replacedApiServer = next;
            processes.add(next);
            restartHelpers(next);
            try (KubernetesClient client = client()) {
                await("kube-apiserver ready after restart").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100))
                        .ignoreExceptions().failFast("restarted kube-apiserver exited", () -> !next.isAlive())
                        .until(() -> "ok".equals(client.raw("/readyz")));
            }
            return Duration.ofNanos(System.nanoTime() - started);
        } catch (ReflectiveOperationException | IOException e) {
            throw new IllegalStateException("cannot restart kube-apiserver", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * After a kube-apiserver crash, kwok 0.8 (the stand-in kubelet) was seen to stop acting for minutes: its watch does
     * not come back, so pods are never marked Ready or removed. Real kubelets and controllers reconnect; here the
     * helpers (kube-controller-manager, kube-scheduler, kwok) are restarted with the apiserver, so a fault run
     * measures the operator, not kwok's reconnect.
     */
    private void restartHelpers(Process apiserver) throws IOException, InterruptedException {
        for (Process helper : List.copyOf(processes)) {
            if (helper == apiserver || !helper.isAlive()) {
                continue;
            }
            List<String> command = commandLine(helper.pid());
            String binary = Path.of(command.get(0)).getFileName().toString();
            processes.remove(helper);
            helper.destroy();
            if (!helper.waitFor(10, TimeUnit.SECONDS)) {
                helper.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            Process again = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(workDir.resolve(binary + ".log").toFile())).start();
            processes.add(again);
        }
    }

    /** Every process of this control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok. */
    public synchronized List<Long> pids() {
        List<Long> pids = new ArrayList<>(List.of(etcdPid()));
        try {
            pids.add(((Process) field(field(apiServer, "kubeApiServerProcess"), "apiServerProcess")).pid());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot find kube-apiserver's process", e);
        }
        processes.stream().filter(Process::isAlive).map(Process::pid).filter(pid -> !pids.contains(pid)).forEach(pids::add);
        return pids;
    }

    /** Fault injection: etcd's process id, for SIGSTOP/SIGCONT ({@link #pauseEtcd}). */
    public long etcdPid() {
        try {
            return ((Process) field(field(apiServer, "etcdProcess"), "etcdProcess")).pid();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot find etcd's process", e);
        }
    }

    /** Fault injection: SIGSTOP etcd, keep it frozen for {@code pause} (the fault itself), then SIGCONT it. */
    public void pauseEtcd(Duration pause) {
        long pid = etcdPid();
        signal("STOP", pid);
        try {
            Thread.sleep(pause.toMillis()); // the length of the fault, not a wait for the cluster
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            signal("CONT", pid);
        }
    }

    private static void signal(String signal, long pid) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).redirectErrorStream(true).start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill -" + signal + " " + pid + " failed");
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static List<String> commandLine(long pid) throws IOException {
        byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
        List<String> args = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < raw.length; i++) {
            if (raw[i] == 0) {
                args.add(new String(raw, start, i - start, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        return args;
    }

    private static Object field(Object owner, String name) throws ReflectiveOperationException {
        java.lang.reflect.Field f = owner.getClass().getDeclaredField(name);
        f.setAccessible(true);
        return f.get(owner);
    }

    @Override
    public synchronized void close() {
        List<Process> running = new ArrayList<>(processes);
        processes.clear();
        for (Process p : running) {
            p.destroy();
        }
        for (Process p : running) {
            try {
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (apiServer != null) {
            apiServer.stop();
        }
    }

    /**
     * Local run: starts a control plane, writes its kubeconfig to the given path and keeps it up until
     * the process is stopped. Used by {@code hack/run.sh}.
     */
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "target/local-cluster").toAbsolutePath();
        ControlPlane plane = startLocal(dir);
        Runtime.getRuntime().addShutdownHook(new Thread(plane::close, "control-plane-stop"));
        Files.writeString(dir.resolve("ready"), plane.serverVersion() + System.lineSeparator());
        System.out.println("control plane ready: kube-apiserver " + plane.serverVersion() + ", KUBECONFIG="
                + plane.kubeconfig());
        Thread.currentThread().join();
    }
}
