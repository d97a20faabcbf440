package io.marketintel.safety.observability;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus;
import io.marketintel.safety.status.Conditions;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;

/**
 * Per-policy gauges and the transition counter (DESIGN §9). Each policy has a fixed, small set of series
 * (3 modes, 3 conditions, stop, approvals, breaker), removed when the policy is deleted, so cardinality is
 * bounded by the number of policies. Counters carry no policy label at all.
 */
@ApplicationScoped
public class PolicyMetrics {
    static final List<String> CONDITIONS = List.of(Conditions.READY, Conditions.STALLED, Conditions.RECONCILING);

    private final MeterRegistry registry;
    private final Map<String, Series> policies = new ConcurrentHashMap<>();

    private final io.micrometer.core.instrument.Timer completion;

    public PolicyMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.completion = io.micrometer.core.instrument.Timer.builder("execution.safety.emergency.stop.completion")
                .description("From a stop being seen to no pod of the stopped policy's system left (the stop complete)")
                .publishPercentileHistogram()
                .register(registry);
    }

    /** A policy was deleted: its series go with it. */
    public record PolicyDeleted(String namespace, String name, String uid) {
    }

    /** Uids of deleted policies, so a reconcile that finishes after the deletion does not bring them back. */
    private final Map<String, Boolean> gone = java.util.Collections.synchronizedMap(new java.util.LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > 10_000;
        }
    });

    /** The values behind one policy's gauges (gauges hold only weak references: these keep them alive). */
    private static final class Series {
        final Map<ExecutionMode, AtomicInteger> mode = new EnumMap<>(ExecutionMode.class);
        final Map<String, AtomicInteger> condition = new LinkedHashMap<>();
        final AtomicInteger stopActive = new AtomicInteger();
        final AtomicInteger stopPodsRunning = new AtomicInteger();
        /** The stoppedAt of the last stop whose completion was recorded: each stop's completion is timed once. */
        volatile String completionRecorded;
        final AtomicInteger pendingApprovals = new AtomicInteger();
        final AtomicInteger breakerOpen = new AtomicInteger();
        final AtomicInteger breakerFailures = new AtomicInteger();
        final List<Meter.Id> ids = new ArrayList<>();
    }

    /** Sets the policy's gauges from the status just computed. */
    public void observe(String namespace, String name, String uid, ExecutionPolicyStatus status, int approvalsMissing) {
        if (gone.containsKey(uid)) {
            return;
        }
        Series s = policies.computeIfAbsent(namespace + "/" + name, k -> register(namespace, name));
        // Like the EFFECTIVE column: while an emergency stop holds every target at zero no mode runs, so every
        // mode series is 0 (execution_safety_emergency_stop_active says why).
        boolean stopped = ExecutionPolicyStatus.STOPPED.equals(status.effective);
        s.mode.forEach((m, v) -> v.set(!stopped && status.mode == m ? 1 : 0));
        s.condition.forEach((c, v) -> v.set(Conditions.isTrue(status.conditions, c) ? 1 : 0));
        var es = status.emergencyStop;
        s.stopActive.set(es != null && Boolean.TRUE.equals(es.active) ? 1 : 0);
        s.stopPodsRunning.set(es != null && Boolean.TRUE.equals(es.active) && es.podsRunning != null ? es.podsRunning : 0);
        if (es != null && es.completedMillis != null && es.stoppedAt != null && !es.stoppedAt.equals(s.completionRecorded)) {
            s.completionRecorded = es.stoppedAt;
            completion.record(java.time.Duration.ofMillis(es.completedMillis));
        }
        s.pendingApprovals.set(Math.max(0, approvalsMissing));
        s.breakerOpen.set(ExecutionPolicyStatus.CircuitBreakerState.open(status) ? 1 : 0);
        s.breakerFailures.set(status.circuitBreaker == null || status.circuitBreaker.failures == null ? 0
                : status.circuitBreaker.failures.size());
    }

    /** A transition started, completed (Succeeded, RolledBack) or was refused. */
    /** Counts a stop once, when a pass records it, by the scope it came from (Policy, Namespace, Cluster). */
    public void stopRecorded(String scope) {
        registry.counter("execution.safety.emergency.stops", "scope", scope).increment();
    }

    public void transition(ExecutionMode from, ExecutionMode to, String outcome) {
        registry.counter("execution.safety.transitions", "from", from == null ? "none" : from.wireName(),
                "to", to == null ? "none" : to.wireName(), "outcome", outcome).increment();
    }

    void deleted(@Observes PolicyDeleted deleted) {
        gone.put(deleted.uid(), true);
        Series s = policies.remove(deleted.namespace() + "/" + deleted.name());
        if (s != null) {
            s.ids.forEach(registry::remove);
        }
    }

    private Series register(String namespace, String name) {
        Series s = new Series();
        Tags policy = Tags.of("namespace", namespace, "policy", name);
        for (ExecutionMode m : ExecutionMode.values()) {
            AtomicInteger v = new AtomicInteger();
            s.mode.put(m, v);
            s.ids.add(gauge("execution.safety.policy.mode", "1 for the mode every target runs in; 0 for every mode while emergency-stopped", policy.and("mode", m.wireName()), v));
        }
        for (String c : CONDITIONS) {
            AtomicInteger v = new AtomicInteger();
            s.condition.put(c, v);
            s.ids.add(gauge("execution.safety.policy.condition", "1 while the condition is True", policy.and("condition", c), v));
        }
        s.ids.add(gauge("execution.safety.emergency.stop.active", "1 while an emergency stop is latched", policy, s.stopActive));
        s.ids.add(gauge("execution.safety.emergency.stop.pods.running",
                "pods of a stopped policy's system that still exist; above 0 the stop is not complete", policy, s.stopPodsRunning));
        s.ids.add(gauge("execution.safety.pending.approvals", "approvals still missing for a waiting escalation", policy,
                s.pendingApprovals));
        s.ids.add(gauge("execution.safety.circuit.breaker.open", "1 while the circuit breaker holds the policy in Backtest",
                policy, s.breakerOpen));
        s.ids.add(gauge("execution.safety.circuit.breaker.failures", "failures within the breaker's window", policy,
                s.breakerFailures));
        return s;
    }

    private Meter.Id gauge(String name, String description, Tags tags, AtomicInteger value) {
        return Gauge.builder(name, value, AtomicInteger::get).description(description).tags(tags).register(registry).getId();
    }
}
