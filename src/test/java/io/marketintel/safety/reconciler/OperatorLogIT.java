package io.marketintel.safety.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.time.Duration;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.status.Conditions;
import io.marketintel.safety.testing.ControlPlane;
import io.marketintel.safety.testing.NamespacedTest;
import io.marketintel.safety.testing.OperatorProcess;
import io.marketintel.safety.testing.PolicyTestSupport;
import io.marketintel.safety.testing.TradingSystem;

/**
 * A normal start, one reconciled policy and a normal stop (SIGTERM) of the packaged operator log no WARN or
 * ERROR: a person reading the log of a healthy operator finds nothing to worry about (issue 17). Before, QOSDK's
 * start/stop listener logged "Operator was configured not to start automatically…" on every start and "…not
 * to stop automatically…" on every stop, and never stopped the operator.
 */
class OperatorLogIT extends NamespacedTest {
    static final Duration DEADLINE = Duration.ofSeconds(90);

    OperatorProcess operator;

    @AfterEach
    void tearDown() {
        if (operator != null) {
            operator.close();
        }
    }

    @Test
    void aNormalStartAndStopLogNoWarning() throws Exception {
        TradingSystem.deployment(client, ns, "alpha", "quiet", 1);
        apply(processPolicy("quiet", "DryRun", "{refs: [{kind: Deployment, name: alpha}]}", ""));
        operator = OperatorProcess.start(ControlPlane.shared(), ns);
        operator.awaitReady(DEADLINE);
        await("DryRun and Ready").atMost(DEADLINE).pollInterval(Duration.ofMillis(200)).until(() -> {
            ExecutionPolicy p = PolicyTestSupport.get(client, ns, "quiet");
            return p.getStatus() != null && p.getStatus().mode == ExecutionMode.DRY_RUN
                    && Conditions.isTrue(p.getStatus().conditions, Conditions.READY);
        });

        operator.terminate();
        assertThat(operator.alive()).as("exited on SIGTERM").isFalse();
        String log = Files.readString(operator.log());
        assertThat(log).as("the operator was stopped by the application, not left running").contains("is shutting down");
        // Vert.x's blocked-thread checker is left out: it reports a starved machine, not the operator's state (seen
        // at a load average of 30 on 2 cores: Fabric8's client built its first Jackson deserializer on the event
        // loop for 2.9 s). Everything else must be quiet.
        assertThat(log.lines().filter(l -> l.contains("\"level\":\"WARN") || l.contains("\"level\":\"ERROR")
                || l.matches(".*\\b(WARN|ERROR)\\b.*\\[.*"))
                .filter(l -> !l.contains("io.vertx.core.impl.BlockedThreadChecker")).toList())
                .as("WARN/ERROR lines in %s", operator.log()).isEmpty();
    }
}
