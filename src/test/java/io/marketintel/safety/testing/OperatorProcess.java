package io.marketintel.safety.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The packaged operator (target/quarkus-app/quarkus-run.jar) as its own process against a
 * {@link ControlPlane}, limited to policies carrying {@link #LABEL} in one namespace, so it never competes
 * with the in-process operator of the other tests. {@link #kill()} is SIGKILL: no shutdown hooks run.
 */
public final class OperatorProcess implements AutoCloseable {
    public static final String LABEL = "test.marketintel.io/operator";
    private static int started;

    private final Process process;
    private final Path log;

    private OperatorProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    public static OperatorProcess start(ControlPlane plane, String namespace) {
        return start(plane, namespace, null);
    }

    /** As {@link #start(ControlPlane, String)}, acting as {@code user} (impersonated) instead of the admin. */
    public static OperatorProcess start(ControlPlane plane, String namespace, String user) {
        return start(plane, namespace, user, null);
    }

    /** A replica with its own leader-election identity, for tests with more than one operator process. */
    public static OperatorProcess start(ControlPlane plane, String namespace, String user, String identity) {
        return start(plane, namespace, user, identity, List.of());
    }

    /**
     * One replica watching {@code watched} (a comma list of namespaces) with its Lease in {@code leaseNamespace}, with
     * extra JVM options: a benchmark's policies spread over several namespaces.
     */
    public static OperatorProcess startWatching(ControlPlane plane, String leaseNamespace, String watched, List<String> options) {
        List<String> all = new ArrayList<>(options);
        all.add("-Dquarkus.operator-sdk.controllers.executionpolicy.namespaces=" + watched);
        return start(plane, leaseNamespace, null, null, all);
    }

    /** As above, with extra JVM options (-Dkey=value settings). */
    public static OperatorProcess start(ControlPlane plane, String namespace, String user, String identity,
            List<String> options) {
        List<String> settings = new ArrayList<>(List.of(
                "-Dquarkus.operator-sdk.controllers.executionpolicy.selector=" + LABEL + "=process",
                "-Dquarkus.operator-sdk.controllers.executionpolicy.namespaces=" + namespace,
                // One Lease per test namespace; a restarted process keeps its identity (like a StatefulSet
                // pod), so it takes its own lease back at once instead of waiting for it to expire.
                "-Dexecution-safety.leader-election.lease-namespace=" + namespace,
                "-Dexecution-safety.leader-election.identity=" + (identity == null ? "operator-" + namespace : identity)));
        if (user != null) {
            settings.add("-Dkubernetes.impersonate.username=" + user);
        }
        settings.addAll(options);
        return launch(plane.kubeconfig(), Map.of(), settings);
    }

    /**
     * The packaged operator with nothing but {@code kubeconfig}, environment variables and JVM options: how the
     * end-to-end tier runs it, configured like the chart's Deployment and authenticated as its ServiceAccount.
     * The HTTP port is chosen by the OS ({@link #httpPort()}).
     */
    public static synchronized OperatorProcess launch(Path kubeconfig, Map<String, String> env, List<String> options) {
        return launch(kubeconfig, env, options, Path.of("target", "operator-process-" + (++started) + ".log").toAbsolutePath());
    }

    /** As above, logging to {@code log}. */
    public static OperatorProcess launch(Path kubeconfig, Map<String, String> env, List<String> options, Path log) {
        Path jar = Path.of("target", "quarkus-app", "quarkus-run.jar");
        if (!Files.exists(jar)) {
            throw new IllegalStateException(jar + " missing: integration tests run after ./mvnw package");
        }
        List<String> command = new ArrayList<>(List.of(java(), "-Dquarkus.http.port=0"));
        command.addAll(options);
        // Loopback only, after the options: the image's own (a pod's) say 0.0.0.0, and the last -D wins.
        command.add("-Dquarkus.http.host=127.0.0.1");
        command.addAll(List.of("-jar", jar.toString()));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(env);
        pb.environment().put("KUBECONFIG", kubeconfig.toString());
        try {
            return new OperatorProcess(pb.start(), log);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The {@code java} that runs the operator: {@code OPERATOR_JAVA} (a path to a java binary; the benchmarks compare
     * runtimes with it), else this JVM's own.
     */
    public static String java() {
        String given = System.getenv("OPERATOR_JAVA");
        return given != null && !given.isBlank() ? given : Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    public long pid() {
        return process.pid();
    }

    public boolean alive() {
        return process.isAlive();
    }

    /** SIGKILL and wait until it is gone. */
    public void kill() {
        process.destroyForcibly();
        awaitExit(30);
    }

    /** SIGTERM (shutdown hooks run: a flight recording is written) and wait up to 60 s for it to exit. */
    public void terminate() {
        process.destroy();
        awaitExit(60);
    }

    private void awaitExit(int seconds) {
        try {
            process.waitFor(seconds, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits until /q/health/ready answers 200, failing at once if the process exits; returns the HTTP port. */
    public int awaitReady(java.time.Duration atMost) {
        int port = httpPort();
        java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder().connectTimeout(java.time.Duration.ofSeconds(2)).build();
        java.net.http.HttpRequest ready = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + "/q/health/ready"))
                .timeout(java.time.Duration.ofSeconds(5)).build();
        org.awaitility.Awaitility.await("operator ready (" + log + ")").atMost(atMost).pollInterval(java.time.Duration.ofMillis(50))
                .ignoreExceptions().failFast("operator process exited; log " + log, () -> !alive())
                .until(() -> http.send(ready, java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
        return port;
    }

    public Path log() {
        return log;
    }

    /** The HTTP port it listens on (health, metrics), read from its log once it says so. */
    public int httpPort() {
        java.util.regex.Pattern listening = java.util.regex.Pattern.compile("Listening on: http://[^:]+:([0-9]+)");
        String text = org.awaitility.Awaitility.await("operator HTTP port in " + log).atMost(java.time.Duration.ofSeconds(60))
                .until(() -> Files.readString(log), t -> listening.matcher(t).find());
        var m = listening.matcher(text);
        m.find();
        return Integer.parseInt(m.group(1));
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            kill();
        }
    }
}
