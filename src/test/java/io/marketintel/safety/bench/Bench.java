package io.marketintel.safety.bench;

import java.nio.file.Files;
import java.nio.file.Path;

/** What the benchmark entry points share: how they exit, their settings, the machine's load. */
final class Bench {
    interface Body {
        void run() throws Exception;
    }

    private Bench() {
    }

    /**
     * Runs {@code body} and exits with 0, or 1 after printing what failed. exec:java waits for every non-daemon
     * thread before it returns, and outside a Quarkus application each Kubernetes client of the test classpath
     * (QuarkusHttpClientFactory) starts a Vert.x that nothing closes: hence System.exit.
     */
    static void main(Body body) {
        int status = 0;
        try {
            body.run();
        } catch (Throwable e) {
            e.printStackTrace();
            status = 1;
        }
        System.exit(status);
    }

    /** An environment setting, or {@code fallback} when unset or blank. */
    static String env(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? fallback : v;
    }

    /** The 1, 5 and 15 minute load averages. */
    static String loadAverage() throws Exception {
        String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
        return f[0] + " " + f[1] + " " + f[2];
    }
}
