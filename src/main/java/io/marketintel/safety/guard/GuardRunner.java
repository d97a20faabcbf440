package io.marketintel.safety.guard;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;

import io.marketintel.safety.api.v1alpha1.Durations;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.Defaults;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.GuardType;
import io.marketintel.safety.policy.TransitionRules;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * Evaluates a policy's guards in parallel, each within its own timeout. Whatever is not an explicit pass
 * (a failure, an exception, no answer in time, no guard for the type, an unreadable timeout) is reported
 * as such and blocks the escalation. Results go to status and to metrics.
 */
@ApplicationScoped
public class GuardRunner {
    /** One guard's evaluation. */
    public record Evaluated(String name, GuardType type, GuardOutcome outcome, Duration took, Instant at) {
        public boolean passed() {
            return outcome.result() == GuardOutcome.Result.Pass;
        }
    }

    private final Map<GuardType, SafetyGuard> guards = new EnumMap<>(GuardType.class);
    private final Clock clock;
    private final MeterRegistry metrics;
    private final ExecutorService pool;

    public GuardRunner(Instance<SafetyGuard> all, Clock clock, MeterRegistry metrics) {
        for (SafetyGuard g : all) {
            SafetyGuard previous = guards.put(g.type(), g);
            if (previous != null) {
                throw new IllegalStateException("two guards implement " + g.type() + ": " + previous.getClass()
                        + " and " + g.getClass());
            }
        }
        this.clock = clock;
        this.metrics = metrics;
        AtomicInteger n = new AtomicInteger();
        // Daemon threads: a guard stuck past its timeout is abandoned (and interrupted), never waited for.
        this.pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "guard-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    public List<Evaluated> evaluate(List<GuardContext> contexts) {
        record Running(GuardContext ctx, CompletableFuture<GuardOutcome> future, Instant started, Duration timeout,
                GuardOutcome early) {
        }
        List<Running> running = new ArrayList<>();
        for (GuardContext ctx : contexts) {
            Instant started = clock.instant();
            SafetyGuard guard = guards.get(ctx.guard().type);
            Duration timeout;
            try {
                timeout = Durations.parseOr(ctx.guard().timeout, Defaults.GUARD_TIMEOUT);
            } catch (IllegalArgumentException e) {
                running.add(new Running(ctx, null, started, Duration.ZERO, GuardOutcome.error("timeout: " + e.getMessage())));
                continue;
            }
            if (guard == null) {
                running.add(new Running(ctx, null, started, timeout,
                        GuardOutcome.error("no guard implements type " + ctx.guard().type)));
                continue;
            }
            CompletableFuture<GuardOutcome> f = CompletableFuture.supplyAsync(() -> {
                try {
                    return guard.evaluate(ctx);
                } catch (RuntimeException e) {
                    throw e;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, pool);
            running.add(new Running(ctx, f, started, timeout, null));
        }
        List<Evaluated> results = new ArrayList<>();
        for (Running r : running) {
            GuardOutcome outcome = r.early();
            if (outcome == null) {
                long left = Duration.between(clock.instant(), r.started().plus(r.timeout())).toMillis();
                try {
                    outcome = r.future().get(Math.max(left, 0), TimeUnit.MILLISECONDS);
                    if (outcome == null) {
                        outcome = GuardOutcome.error("the guard gave no answer");
                    }
                } catch (TimeoutException e) {
                    r.future().cancel(true);
                    outcome = GuardOutcome.error("no answer within " + TransitionRules.human(r.timeout()));
                } catch (ExecutionException e) {
                    Throwable cause = e.getCause() instanceof IllegalStateException && e.getCause().getCause() != null
                            ? e.getCause().getCause() : e.getCause();
                    outcome = GuardOutcome.error("failed: " + cause);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    outcome = GuardOutcome.error("interrupted");
                }
            }
            Instant at = clock.instant();
            Duration took = Duration.between(r.started(), at);
            Evaluated ev = new Evaluated(r.ctx().guard().name, r.ctx().guard().type, outcome, took, at);
            record(ev);
            results.add(ev);
        }
        return results;
    }

    private void record(Evaluated ev) {
        String type = ev.type() == null ? "unknown" : ev.type().name();
        String result = ev.outcome().result().name();
        Timer.builder("execution.safety.guard.duration").description("Time a guard took to answer")
                .tags("type", type, "result", result).register(metrics).record(ev.took());
        metrics.counter("execution.safety.guard.evaluations", "type", type, "result", result).increment();
    }

    @PreDestroy
    void stop() {
        pool.shutdownNow();
    }
}
