package io.marketintel.safety.testing;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * A fresh namespace per test, a client and kubectl on the shared control plane. A test class that drives
 * transitions or stops returns true from {@link #checkSafetyInvariants()}: {@link SafetyInvariants} then watches
 * its namespace from before the test's first write, and the test fails if any invariant was violated.
 */
public abstract class NamespacedTest {
    protected KubernetesClient client;
    protected Kubectl kubectl;
    protected String ns;
    protected SafetyInvariants invariants;

    @BeforeEach
    void setUpNamespace() {
        // A @QuarkusTest runs in Quarkus' class loader, with an Awaitility of its own that the launcher-session
        // listener never configured: install the same defaults there.
        TransientReads.install();
        client = ControlPlane.shared().client();
        kubectl = new Kubectl(ControlPlane.shared());
        ns = Namespaces.create(client, getClass().getSimpleName().replace("IT", "").toLowerCase());
        if (checkSafetyInvariants()) {
            invariants = SafetyInvariants.watch(client, ns);
        }
    }

    /** Whether {@link SafetyInvariants} watches this test's namespace (off by default: some tests make drift on purpose). */
    protected boolean checkSafetyInvariants() {
        return false;
    }

    @AfterEach
    void closeClient() {
        try {
            if (invariants != null) {
                invariants.close(); // throws the first violation, with its event trail
            }
        } finally {
            client.close();
        }
    }

    protected void apply(String manifest) {
        Kubectl.Result r = kubectl.runWithInput(manifest, "apply", "-n", ns, "-f", "-");
        assertThat(r.exitCode()).as(r.output()).isZero();
    }

    protected static String policy(String name, String mode, String workloads, String extra) {
        return policy(name, "", mode, workloads, extra);
    }

    /** A policy for the operator started as its own process ({@link OperatorProcess}), which only it acts on. */
    protected static String processPolicy(String name, String mode, String workloads, String extra) {
        return policy(name, ", labels: {" + OperatorProcess.LABEL + ": process}", mode, workloads, extra);
    }

    private static String policy(String name, String labels, String mode, String workloads, String extra) {
        return """
                apiVersion: safety.marketintel.io/v1alpha1
                kind: ExecutionPolicy
                metadata: {name: %s%s}
                spec:
                  mode: %s
                  workloads: %s
                  riskLimits: {maxOrderNotional: 1000, maxPosition: 1000, maxDailyLoss: 100, maxOrdersPerSecond: 5}
                %s
                """.formatted(name, labels, mode, workloads, extra.indent(2));
    }
}
