package io.marketintel.safety.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.status.Conditions;
import io.marketintel.safety.testing.ControlPlane;
import io.marketintel.safety.testing.Kubectl;
import io.marketintel.safety.testing.NamespacedTest;
import io.marketintel.safety.testing.Namespaces;
import io.marketintel.safety.testing.OperatorProcess;
import io.marketintel.safety.testing.PolicyTestSupport;
import io.marketintel.safety.testing.TradingSystem;

/**
 * An operator watching a list of namespaces (the chart's {@code watchNamespaces}) sees every policy of each when it
 * starts. Before, its informers of each namespace shared one store, and each namespace's initial list removed the
 * other namespaces' policies from it: after a restart only the namespace listed last was reconciled, the others when
 * an event happened to bring a policy back (minutes; {@code cache.StorePerInformer}).
 */
class WatchedNamespacesIT extends NamespacedTest {
    static final Duration DEADLINE = Duration.ofSeconds(90);
    /** From the restart: seconds are enough, the informers' next relist (what used to bring them back) is minutes away. */
    static final Duration AFTER_RESTART = Duration.ofSeconds(60);

    OperatorProcess operator;

    @AfterEach
    void tearDown() {
        if (operator != null) {
            operator.close();
        }
    }

    @Test
    void aRestartedOperatorReconcilesThePoliciesOfEveryWatchedNamespace() {
        List<String> watched = new ArrayList<>(List.of(ns));
        for (int i = 0; i < 3; i++) {
            watched.add(Namespaces.create(client, "watched"));
        }
        for (String n : watched) {
            TradingSystem.deployment(client, n, "alpha", "w", 1);
            Kubectl.Result r = kubectl.runWithInput(processPolicy("w", "DryRun", "{refs: [{kind: Deployment, name: alpha}]}", """
                    replicas: {backtest: 1, dryRun: 1}
                    approval: {requiredForLive: 0}
                    """), "apply", "-n", n, "-f", "-");
            assertThat(r.exitCode()).as(r.output()).isZero();
        }
        operator = OperatorProcess.startWatching(ControlPlane.shared(), ns, String.join(",", watched), List.of());
        awaitEvery(watched, ExecutionMode.DRY_RUN, DEADLINE);

        // Changed while the operator is down: each policy's change reaches the new process only through its initial lists.
        operator.kill();
        for (String n : watched) {
            PolicyTestSupport.setMode(client, n, "w", ExecutionMode.BACKTEST);
        }
        operator = OperatorProcess.startWatching(ControlPlane.shared(), ns, String.join(",", watched), List.of());
        awaitEvery(watched, ExecutionMode.BACKTEST, AFTER_RESTART);
    }

    private void awaitEvery(List<String> namespaces, ExecutionMode mode, Duration deadline) {
        await("every watched namespace's policy Ready in " + mode).atMost(deadline).pollInterval(Duration.ofMillis(250))
                .untilAsserted(() -> assertThat(namespaces).allSatisfy(n -> {
                    ExecutionPolicy p = PolicyTestSupport.get(client, n, "w");
                    assertThat(p.getStatus()).as(n).isNotNull();
                    assertThat(p.getStatus().mode).as(n).isEqualTo(mode);
                    assertThat(Conditions.isTrue(p.getStatus().conditions, Conditions.READY)).as(n + " Ready").isTrue();
                }));
    }
}
