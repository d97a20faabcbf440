package io.marketintel.safety.testing;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * A server binary a test runs as its own child process on loopback (Prometheus, Alertmanager): output to a log file,
 * ready once an HTTP GET of its readiness URL answers 200 (awaited with a deadline, failing at once if it exits), ended
 * by {@link #close()}. A start that fails stops the process and throws with the end of its log.
 */
public final class LoopbackDaemon implements AutoCloseable {
    private static final int TAIL = 40;

    private final String what;
    private final Process process;
    private final Path log;

    private LoopbackDaemon(String what, Process process, Path log) {
        this.what = what;
        this.process = process;
        this.log = log;
    }

    /** {@code name} on PATH; an AssertionError that says how to install it when it is missing (tests fail, never skip). */
    public static Path binary(String name, String install) {
        return Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)).filter(d -> !d.isEmpty())
                .map(d -> Path.of(d, name)).filter(Files::isExecutable).findFirst()
                .orElseThrow(() -> new AssertionError(name + " not found on PATH: " + install));
    }

    /**
     * Starts {@code command} (its output to {@code log}) and waits up to {@code deadline} until {@code ready} answers 200.
     * {@code what} names it in messages.
     */
    public static LoopbackDaemon start(String what, List<String> command, Path log, URI ready, Duration deadline) {
        Process process;
        try {
            Files.createDirectories(log.toAbsolutePath().getParent());
            process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        } catch (IOException e) {
            throw new AssertionError("cannot start " + what + ": " + String.join(" ", command), e);
        }
        LoopbackDaemon daemon = new LoopbackDaemon(what, process, log);
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest get = HttpRequest.newBuilder(ready).timeout(Duration.ofSeconds(5)).build();
        try {
            Awaitility.await(what + " ready at " + ready).atMost(deadline).pollInterval(Duration.ofMillis(100)).ignoreExceptions()
                    .failFast(what + " exited", () -> !process.isAlive())
                    .until(() -> http.send(get, HttpResponse.BodyHandlers.discarding()).statusCode() == 200);
        } catch (ConditionTimeoutException | org.awaitility.core.TerminalFailureException e) {
            daemon.stop();
            throw new AssertionError(what + " did not become ready at " + ready + " within " + deadline.toSeconds() + " s ("
                    + (process.isAlive() ? "running" : "exit code " + process.exitValue()) + "); command: " + String.join(" ", command)
                    + "\n" + daemon.logTail(TAIL), e);
        }
        return daemon;
    }

    public long pid() {
        return process.pid();
    }

    public boolean alive() {
        return process.isAlive();
    }

    public Path log() {
        return log;
    }

    /** The last {@code lines} lines of its log, under a line that names the file: what a failure message shows. */
    public String logTail(int lines) {
        try {
            List<String> all = Files.readAllLines(log, UTF_8);
            return "last " + Math.min(lines, all.size()) + " of " + all.size() + " lines of " + what + "'s log " + log + ":\n"
                    + String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return what + "'s log " + log + " cannot be read: " + e;
        }
    }

    /**
     * SIGTERM, SIGKILL if it has not exited after 10 s; true when it exited on the SIGTERM (or had already exited).
     */
    public boolean stop() {
        if (!process.isAlive()) {
            return true;
        }
        process.destroy();
        try {
            if (process.waitFor(10, TimeUnit.SECONDS)) {
                return true;
            }
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        return false;
    }

    @Override
    public void close() {
        stop();
    }

    /** The first line {@code binary --version} prints (Prometheus' and Alertmanager's name and version). */
    public static String version(Path binary) {
        try {
            Process p = new ProcessBuilder(binary.toString(), "--version").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), UTF_8);
            p.waitFor(10, TimeUnit.SECONDS);
            return out.lines().findFirst().orElse(binary.getFileName().toString());
        } catch (IOException e) {
            return binary + ": " + e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return binary.getFileName().toString();
        }
    }

    /** Deletes {@code dir} and everything below it, if it exists. */
    public static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // a directory left behind under target/ is harmless
        }
    }
}
