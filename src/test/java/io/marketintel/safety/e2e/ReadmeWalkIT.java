package io.marketintel.safety.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import io.marketintel.safety.testing.Listeners;

/**
 * The README's walk-through, run as a newcomer runs it: {@code hack/run.sh} in the background (its local control
 * plane, CRDs, admission policies, roles, samples and the packaged operator), then every {@code ```sh} block from the
 * quick start to the emergency stop, in README order, command by command in one bash session (so {@code TOKEN=...}
 * carries over), with the {@code KUBECONFIG} and {@code PATH} hack/run.sh prints. Each command must succeed, or fail
 * where the README says {@code # refused: ...}; where the README shows what a command prints, the output must say it
 * (conventions in {@link ReadmeWalk}). Each block is one test; after the first failing block the rest are skipped.
 * <p>
 * hack/run.sh runs with {@code RUN_SKIP_BUILD=1} (the jar was built by {@code package}) and
 * {@code QUARKUS_HTTP_PORT=0} (the README's way to move the operator off 8080; 0 lets the OS choose, so a developer's
 * own hack/run.sh on 8080 does not collide). It uses {@code target/local-cluster}: do not run this test while
 * hack/run.sh runs from the same checkout. At the end hack/run.sh's process group gets SIGTERM, and every process it
 * started must be gone.
 */
class ReadmeWalkIT {
    static final Path README = Path.of("README.md");
    static final Path WORK = Path.of("target", "readme-walk").toAbsolutePath();
    static final Duration RUN_SH_UP = Duration.ofMinutes(6);
    static final Duration COMMAND_LIMIT = Duration.ofMinutes(5);
    static final Pattern EXPORT = Pattern.compile("export KUBECONFIG=(\\S+) PATH=(\\S+):\\$PATH");
    static final Pattern LISTENING = Pattern.compile("Listening on: http://([^:/]+):([0-9]+)");

    static List<ReadmeWalk.Block> blocks;
    static Process runSh;
    static Path runLog;
    static Shell shell;
    static String failedBlock;
    static long walkStarted;

    @BeforeAll
    static void startHackRun() throws IOException {
        walkStarted = System.nanoTime();
        blocks = ReadmeWalk.parse(Files.readString(README));
        Files.createDirectories(WORK);
        runLog = WORK.resolve("hack-run.log");
        // setsid: hack/run.sh leads its own process group, so one signal reaches it and everything it started.
        ProcessBuilder pb = new ProcessBuilder("setsid", "bash", "hack/run.sh").redirectErrorStream(true)
                .redirectOutput(runLog.toFile());
        Map<String, String> env = pb.environment();
        env.remove("KUBECONFIG"); // a local control plane, not whatever the developer points at
        env.put("RUN_SKIP_BUILD", "1");
        env.put("QUARKUS_HTTP_PORT", "0");
        runSh = pb.start();

        long deadline = System.nanoTime() + RUN_SH_UP.toNanos();
        String[] export = new String[2];
        awaitRunSh("hack/run.sh prints the export line", deadline, () -> {
            Matcher m = EXPORT.matcher(Files.readString(runLog));
            if (!m.find()) {
                return false;
            }
            export[0] = m.group(1);
            export[1] = m.group(2);
            return true;
        });
        int[] port = new int[1];
        awaitRunSh("the operator's HTTP server listens", deadline, () -> {
            Matcher m = LISTENING.matcher(Files.readString(runLog));
            if (!m.find()) {
                return false;
            }
            port[0] = Integer.parseInt(m.group(2));
            return true;
        });
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest ready = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port[0] + "/q/health/ready"))
                .timeout(Duration.ofSeconds(5)).build();
        awaitRunSh("the operator ready on 127.0.0.1:" + port[0] + "/q/health/ready", deadline, () -> {
            try {
                return http.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
            } catch (IOException e) {
                return false;
            }
        });
        System.out.printf("hack/run.sh: operator ready %d s after start%n", (System.nanoTime() - walkStarted) / 1_000_000_000L);
        shell = new Shell(WORK, Path.of(export[0]), export[1]);
    }

    /**
     * Polls {@code condition} until {@code deadline} (all of hack/run.sh's start-up shares one), failing at once if
     * hack/run.sh exits; a failure shows the end of its log.
     */
    private static void awaitRunSh(String what, long deadline, java.util.concurrent.Callable<Boolean> condition) {
        try {
            Awaitility.await(what).atMost(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())))
                    .pollInterval(Duration.ofMillis(250))
                    .failFast("hack/run.sh exited", () -> !runSh.isAlive())
                    .until(condition);
        } catch (RuntimeException | AssertionError e) {
            throw new AssertionError(what + ": not within " + RUN_SH_UP + " of starting hack/run.sh (" + e.getMessage()
                    + "); last lines of " + runLog + ":\n" + tail(runLog, 60), e);
        }
    }

    @AfterAll
    static void stopHackRun() throws Exception {
        try {
            if (shell != null) {
                shell.close();
            }
        } finally {
            if (runSh != null) {
                stopAll();
            }
            System.out.printf("README walk and teardown: %d s%n", (System.nanoTime() - walkStarted) / 1_000_000_000L);
        }
    }

    /**
     * SIGTERM to hack/run.sh's process group (what Ctrl-C in its terminal amounts to), then every process it started
     * must exit within a minute. Whatever is left is killed, and the test fails naming it.
     */
    static void stopAll() throws Exception {
        List<ProcessHandle> tree = Stream.concat(Stream.of(runSh.toHandle()), runSh.descendants()).toList();
        new ProcessBuilder("kill", "-TERM", "--", "-" + runSh.pid()).inheritIO().start().waitFor(10, TimeUnit.SECONDS);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        List<String> left = new ArrayList<>();
        for (ProcessHandle p : tree) {
            long remaining = Math.max(1, deadline - System.nanoTime());
            try {
                p.onExit().get(remaining, TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                left.add(p.pid() + " " + p.info().commandLine().orElse("?"));
                p.destroyForcibly();
            }
        }
        assertThat(left).as("processes of hack/run.sh still running 60 s after SIGTERM to its process group (killed now)")
                .isEmpty();
    }

    /** The walk covers what it claims to: if the README's blocks moved or lost their checks, this says so. */
    @Test
    void theWalkCoversTheQuickStartApprovalsAndTheEmergencyStop() {
        assertThat(blocks).extracting(ReadmeWalk.Block::heading)
                .contains("## Quick start", "## Approvals (four eyes)", "## Emergency stop");
        List<ReadmeWalk.Command> all = blocks.stream().flatMap(b -> b.commands().stream()).toList();
        assertThat(all).as("commands with shown output").filteredOn(c -> !c.shows().isEmpty()).hasSizeGreaterThanOrEqualTo(5);
        assertThat(all).as("commands the README says are refused").filteredOn(c -> c.refused().isPresent()).isNotEmpty();
        assertThat(all).as("commands").extracting(ReadmeWalk.Command::text)
                .anyMatch(t -> t.contains("emergency-stop="))
                .anyMatch(t -> t.contains("rearm="));
    }

    /**
     * The README's table of what hack/run.sh listens on: every listening TCP socket of every process it started
     * (etcd, kube-apiserver, the helpers, the Maven JVM that runs them, the operator) is on a loopback address.
     */
    @Test
    void everythingHackRunStartsListensOnLoopbackOnly() {
        List<String> seen = new ArrayList<>();
        List<String> open = new ArrayList<>();
        for (ProcessHandle p : runSh.descendants().toList()) {
            String name = p.info().command().map(c -> Path.of(c).getFileName().toString()).orElse("?");
            Listeners.of(p.pid()).forEach(a -> seen.add(name + " " + a));
            Listeners.beyondLoopback(p.pid()).forEach(a -> open.add(name + " (pid " + p.pid() + ") listens on " + a));
        }
        System.out.println("hack/run.sh's processes listen on: " + seen);
        assertThat(seen).as("listening sockets found for hack/run.sh's processes").isNotEmpty();
        assertThat(open).as("hack/run.sh's processes listening beyond loopback (README: all on 127.0.0.1 only)").isEmpty();
    }

    @TestFactory
    Stream<DynamicTest> readmeBlocksInOrder() {
        return blocks.stream().map(block -> DynamicTest.dynamicTest(block.name(), () -> {
            Assumptions.assumeTrue(failedBlock == null, () -> "skipped: an earlier block failed: " + failedBlock);
            try {
                walk(block);
            } catch (AssertionError | RuntimeException e) {
                failedBlock = block.name();
                throw e;
            }
        }));
    }

    private void walk(ReadmeWalk.Block block) throws Exception {
        for (ReadmeWalk.Command c : block.commands()) {
            long t0 = System.nanoTime();
            Shell.Result r = shell.run(c.text(), COMMAND_LIMIT);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.out.printf("README.md:%d (%d ms, exit %s) $ %s%n%s%n", c.line(), ms, r.timedOut() ? "timeout" : r.exitCode(),
                    c.shown(), r.output().strip());
            String where = "README.md line " + c.line() + ", block " + block.name() + ":\n$ " + c.shown();
            if (r.timedOut()) {
                throw new AssertionError(where + "\ndid not finish within " + COMMAND_LIMIT + "; output so far:\n"
                        + r.output() + operatorLog());
            }
            if (c.refused().isPresent()) {
                if (r.exitCode() == 0) {
                    throw new AssertionError(where + "\nthe README says it is refused, but it succeeded:\n" + r.output() + operatorLog());
                }
                if (!ReadmeWalk.says(c.refused().get(), r.output())) {
                    throw new AssertionError(where + "\nwas refused, but not with \"" + c.refused().get() + "\":\n"
                            + r.output() + operatorLog());
                }
                continue;
            }
            if (r.exitCode() != 0) {
                throw new AssertionError(where + "\nexited " + r.exitCode() + ":\n" + r.output() + operatorLog());
            }
            var missing = ReadmeWalk.missing(c.shows(), r.output());
            if (missing.isPresent()) {
                throw new AssertionError(where + "\nthe README shows it printing\n    " + String.join("\n    ", c.shows())
                        + "\nbut \"" + missing.get() + "\" is not in its output:\n" + r.output()
                        + "\n(a # line right under a command is its output; put a blank line before a remark)" + operatorLog());
            }
        }
    }

    private static String operatorLog() {
        return "\n--- last lines of hack/run.sh and the operator (" + runLog + "; control plane logs in target/local-cluster) ---\n"
                + tail(runLog, 80);
    }

    static String tail(Path file, int lines) {
        try {
            List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e.getMessage() + ")";
        }
    }

    /**
     * One bash session for the whole walk: each command is written to a file and sourced, so shell variables carry
     * over from one command to the next as they do in a person's terminal. Each command's output goes to its own
     * file; the session answers with the exit code on its stdout.
     */
    static final class Shell implements AutoCloseable {
        record Result(int exitCode, String output, boolean timedOut) {
        }

        private final Path dir;
        private final Process bash;
        private final Writer in;
        private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();
        private int count;

        Shell(Path dir, Path kubeconfig, String path) throws IOException {
            this.dir = dir;
            ProcessBuilder pb = new ProcessBuilder("bash", "--noprofile", "--norc").redirectError(dir.resolve("shell.err").toFile());
            pb.environment().put("KUBECONFIG", kubeconfig.toString());
            pb.environment().put("PATH", path + java.io.File.pathSeparator + System.getenv("PATH"));
            bash = pb.start();
            in = new java.io.OutputStreamWriter(bash.getOutputStream(), StandardCharsets.UTF_8);
            Thread reader = new Thread(() -> {
                try (BufferedReader out = new BufferedReader(new InputStreamReader(bash.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = out.readLine()) != null;) {
                        answers.add(line);
                    }
                } catch (IOException e) {
                    answers.add("closed " + e.getMessage());
                }
            }, "readme-walk-shell");
            reader.setDaemon(true);
            reader.start();
        }

        Result run(String command, Duration limit) throws IOException, InterruptedException {
            int n = ++count;
            Path script = dir.resolve("command-" + n + ".sh");
            Path output = dir.resolve("command-" + n + ".out");
            Files.writeString(script, command + "\n");
            in.write(". '" + script + "' > '" + output + "' 2>&1 < /dev/null; echo \"done " + n + " $?\"\n");
            in.flush();
            long deadline = System.nanoTime() + limit.toNanos();
            while (true) {
                String answer = answers.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (answer == null) {
                    bash.descendants().forEach(ProcessHandle::destroyForcibly);
                    return new Result(-1, Files.exists(output) ? Files.readString(output) : "", true);
                }
                if (answer.startsWith("done " + n + " ")) {
                    return new Result(Integer.parseInt(answer.substring(("done " + n + " ").length()).strip()),
                            Files.readString(output), false);
                }
                if (answer.startsWith("closed")) {
                    throw new IllegalStateException("the walk's bash session ended: " + answer);
                }
            }
        }

        @Override
        public void close() throws InterruptedException {
            bash.descendants().forEach(ProcessHandle::destroyForcibly);
            try {
                in.close();
            } catch (IOException e) {
                // already gone
            }
            if (!bash.waitFor(10, TimeUnit.SECONDS)) {
                bash.destroyForcibly();
            }
        }
    }
}
