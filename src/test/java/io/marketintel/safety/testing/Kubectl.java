package io.marketintel.safety.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the real kubectl (built by hack/build-tools.sh) against a {@link ControlPlane}. */
public final class Kubectl {
    public record Result(int exitCode, String stdout, String stderr) {
        public String output() {
            return stdout + stderr;
        }
    }

    private final ControlPlane plane;

    public Kubectl(ControlPlane plane) {
        this.plane = plane;
    }

    public Result runWithInput(String stdin, String... args) {
        List<String> command = new ArrayList<>();
        command.add(plane.kubectl().toString());
        command.add("--kubeconfig=" + plane.kubeconfig());
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command).start();
            if (stdin != null) {
                p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
            }
            p.getOutputStream().close();
            var out = p.getInputStream().readAllBytes();
            var err = p.getErrorStream().readAllBytes();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("kubectl timed out: " + command);
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public Result run(String... args) {
        return runWithInput(null, args);
    }

    /** kubectl apply -f - with the given manifest. */
    public Result apply(String manifest) {
        return runWithInput(manifest, "apply", "-f", "-");
    }
}
