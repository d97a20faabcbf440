package io.marketintel.safety.monitor;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import io.marketintel.safety.api.v1alpha1.Durations;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus;
import io.marketintel.safety.api.v1alpha1.ExecutionSafety;
import io.marketintel.safety.api.v1alpha1.ExecutionSafetySpec;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.killswitch.KillSwitch;
import io.marketintel.safety.leadership.Leadership;
import io.marketintel.safety.observability.EventRecorder;
import io.marketintel.safety.observability.MonitorMetrics;
import io.marketintel.safety.pass.Observation;
import io.marketintel.safety.pass.StatusWriter;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;

/**
 * The risk monitors' evaluation (issue 23, DESIGN §6): the imperative shell around {@link MonitorEvaluation}.
 * <ul>
 * <li>Every {@code spec.monitoring.interval} of {@code ExecutionSafety/global}, the leader queries every monitor that is due
 * ({@link Declared#watchedMode}) of every policy the kill switch watches, all at once; each query is bounded by the
 * endpoint's timeout ({@link PrometheusQuery} always answers by then).</li>
 * <li>A breach with action EmergencyStop (or a monitor that stops when it has no reading) sets the policy's stop
 * annotation, as a person would: the kill switch then zeroes the system, the API server records the operator as the
 * stopper, and the stop is latched and re-armed as any other. An annotation already there (a person's stop) is never
 * overwritten: the write is guarded by the version read.</li>
 * <li>A breach with action DeEscalate is handed to the policy's next pass ({@link #reads}), which latches it in status
 * (held in DryRun until re-armed); the pass is woken at once.</li>
 * <li>State lives in memory, and the monitor's phase and the moment it entered it reach status (through the pass, woken
 * when a phase changes); the values are metrics. After a restart or a fail-over a run status shows Pending goes on from
 * when it began ({@link MonitorState#resumed}); every other monitor starts over.</li>
 * </ul>
 */
@ApplicationScoped
public class MonitorScheduler {
    private static final Logger LOG = Logger.getLogger(MonitorScheduler.class);
    /** The credentials are read again this often (a rotated Secret is used within this time). */
    static final Duration SECRETS_REREAD = Duration.ofMinutes(1);
    /** How often the ticker looks whether an evaluation is due. */
    static final Duration TICK = Duration.ofSeconds(1);
    /** An evaluation this close to due runs now rather than a tick later. */
    static final Duration TICK_SLACK = Duration.ofMillis(20);

    private final KubernetesClient client;
    private final KillSwitch killSwitch;
    private final Leadership leadership;
    private final EventRecorder events;
    private final MonitorMetrics metrics;
    private final Clock clock;
    private final String secretNamespace;
    private final SimpleInboundEventSource<ExecutionPolicy> wake = new SimpleInboundEventSource<>("risk-monitors");
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "risk-monitors");
        t.setDaemon(true);
        return t;
    });
    /** Per policy uid, per monitor name. */
    private final Map<String, Map<String, Tracked>> tracked = new ConcurrentHashMap<>();
    /** Per policy uid: a DeEscalate breach its pass has not latched yet. */
    private final Map<String, Observation.DeEscalation> deEscalations = new ConcurrentHashMap<>();
    private volatile Connection connection;
    /** When the last evaluation began (the ticker's thread only). */
    private Instant lastEvaluation;

    public MonitorScheduler(KubernetesClient client, KillSwitch killSwitch, Leadership leadership, EventRecorder events,
            MonitorMetrics metrics, Clock clock,
            @ConfigProperty(name = "execution-safety.leader-election.lease-namespace") Optional<String> namespace) {
        this.client = client;
        this.killSwitch = killSwitch;
        this.leadership = leadership;
        this.events = events;
        this.metrics = metrics;
        this.clock = clock;
        this.secretNamespace = namespace.orElseGet(() -> client.getNamespace() != null ? client.getNamespace() : "default");
    }

    /** Wakes a policy whose monitors changed phase or breached. */
    public SimpleInboundEventSource<ExecutionPolicy> eventSource() {
        return wake;
    }

    /** One monitor: its rule and query, and where its evaluation left it. */
    private static final class Tracked {
        final Declared declared;
        String namespace;
        String policy;
        volatile MonitorState state = MonitorState.initial();
        volatile String phase = StatusWriter.MONITOR_NOT_EVALUATED;
        volatile Instant since;
        volatile String message = "not evaluated yet";
        /** The value when it entered its phase (status.monitors[].value), null without a reading. */
        volatile Double value;
        /** Latched when last seen: evaluated again from scratch once released. */
        volatile boolean paused;

        Tracked(Declared declared, Instant now) {
            this.declared = declared;
            this.since = now;
        }
    }

    /** The Prometheus client built from the settings, or why there is none. */
    private record Connection(ExecutionSafetySpec.Monitoring settings, Optional<PrometheusEndpoint> endpoint,
            Optional<PrometheusQuery> query, Optional<String> problem, Instant readAt) {

        /** The query's reading, or, without a client, a failed one that says why there is none. */
        CompletableFuture<Reading> read(String promql, Instant now) {
            return query.map(q -> q.query(promql, now))
                    .orElseGet(() -> CompletableFuture.completedFuture(new Reading.Failed(problem.orElse("no Prometheus"))));
        }
    }

    /** After the kill switch's start-up (a later priority than its observer's default): its watches are running then. */
    void onStart(@Observes @jakarta.annotation.Priority(5000) StartupEvent event) {
        ticker.schedule(this::tick, 0, TimeUnit.SECONDS);
    }

    void onStop(@Observes ShutdownEvent event) {
        ticker.shutdownNow();
    }

    /**
     * Every second: an evaluation when {@code interval} has passed since the last one began. Looking each second, not
     * once per interval, lets a changed interval (or monitoring set for the first time) apply within a second instead of
     * after the interval in force when the last evaluation ran.
     */
    private void tick() {
        Instant now = clock.instant();
        Optional<ExecutionSafetySpec.Monitoring> settings = settings();
        Duration interval = interval(settings);
        try {
            if (due(lastEvaluation, now, interval)) {
                lastEvaluation = now;
                evaluate(settings);
            }
        } catch (RuntimeException | Error e) {
            LOG.errorf(e, "risk monitors: the evaluation failed; trying again in %s", interval);
        } finally {
            if (!ticker.isShutdown()) {
                ticker.schedule(this::tick, nextTick(lastEvaluation == null ? now : lastEvaluation, clock.instant(), interval).toMillis(),
                        TimeUnit.MILLISECONDS);
            }
        }
    }

    /** Whether an evaluation is due: none yet, or {@code interval} (less the slack) since the last one began. */
    static boolean due(Instant last, Instant now, Duration interval) {
        return last == null || !Duration.between(last, now).plus(TICK_SLACK).minus(interval).isNegative();
    }

    /** How long the ticker sleeps: until the next evaluation is due, at most {@link #TICK}, so a new interval applies soon. */
    static Duration nextTick(Instant last, Instant now, Duration interval) {
        Duration left = interval.minus(Duration.between(last, now));
        return left.isNegative() ? Duration.ZERO : left.compareTo(TICK) > 0 ? TICK : left;
    }

    /** ExecutionSafety/global's spec.monitoring, as the kill switch's watch holds it. */
    private Optional<ExecutionSafetySpec.Monitoring> settings() {
        return killSwitch.global().map(ExecutionSafety::getSpec).map(s -> s.monitoring);
    }

    /** One round with these settings. */
    void evaluate(Optional<ExecutionSafetySpec.Monitoring> settings) {
        if (!leadership.leading()) {
            forgetAll(); // a standby exports no monitor: the leader's series are the ones to read
            return;
        }
        Instant now = clock.instant();
        Connection c = null; // built when a monitor is due: an operator without monitors reads no Secret and says nothing
        Set<String> present = new HashSet<>();
        List<Runnable> apply = new ArrayList<>();
        List<CompletableFuture<?>> queries = new ArrayList<>();
        for (ExecutionPolicy policy : killSwitch.watchedPolicies()) {
            String uid = policy.getMetadata().getUid();
            if (policy.getSpec() == null || policy.getSpec().monitors == null || policy.getSpec().monitors.isEmpty()) {
                continue;
            }
            present.add(uid);
            List<Declared> declared = Declared.of(policy.getSpec(), new ArrayList<>());
            ExecutionPolicyStatus status = policy.getStatus();
            boolean latched = status != null && Declared.latched(status);
            Map<String, Tracked> mine = sync(policy, declared, latched, now);
            if (latched) {
                deEscalations.remove(uid); // latched: a hold asked for is recorded, or a stop covers it
            }
            Optional<ExecutionMode> mode = Declared.watchedMode(policy);
            for (Tracked t : mine.values()) {
                if (latched) {
                    paused(t);
                    continue;
                }
                if (!t.declared.dueIn(mode)) {
                    notEvaluated(policy, t, now);
                    continue;
                }
                if (t.paused) {
                    // Re-armed: the monitor starts from scratch (its for runs again from its next evaluation).
                    t.state = MonitorState.initial();
                    t.paused = false;
                }
                if (c == null) {
                    c = connection(settings, now);
                }
                Instant asked = clock.instant();
                CompletableFuture<Reading> reading = c.read(t.declared.query(), now);
                queries.add(reading.whenComplete((r, e) -> metrics.evaluation().record(Duration.between(asked, clock.instant()))));
                apply.add(() -> evaluated(policy, t, reading.join(), now));
            }
        }
        CompletableFuture.allOf(queries.toArray(CompletableFuture[]::new)).join();
        apply.forEach(Runnable::run);
        // Policies gone, or without monitors now.
        for (String uid : new ArrayList<>(tracked.keySet())) {
            if (!present.contains(uid)) {
                Map<String, Tracked> gone = tracked.remove(uid);
                deEscalations.remove(uid);
                gone.values().forEach(t -> metrics.removed(t.namespace, t.policy, t.declared.rule().name()));
            }
        }
    }

    /**
     * What the policy's pass writes to status: every declared monitor's phase and a DeEscalate breach not latched yet.
     * Empty for a policy without monitors. Reads only.
     */
    public Optional<Observation.MonitorReads> reads(ExecutionPolicy policy) {
        if (policy.getSpec() == null || policy.getSpec().monitors == null || policy.getSpec().monitors.isEmpty()) {
            return Optional.empty();
        }
        String uid = policy.getMetadata().getUid();
        Map<String, Tracked> mine = tracked.getOrDefault(uid, Map.of());
        List<ExecutionPolicyStatus.MonitorStatus> out = new ArrayList<>();
        List<ExecutionPolicyStatus.MonitorStatus> recorded = policy.getStatus() == null || policy.getStatus().monitors == null
                ? List.of() : policy.getStatus().monitors;
        List<String> problems = new ArrayList<>();
        Set<String> readable = new HashSet<>();
        Declared.of(policy.getSpec(), problems).forEach(d -> readable.add(d.rule().name()));
        for (var m : policy.getSpec().monitors) {
            Tracked t = m == null ? null : mine.get(m.name);
            var s = new ExecutionPolicyStatus.MonitorStatus();
            s.name = m == null ? null : m.name;
            if (m == null || !readable.contains(m.name)) {
                // Only an object that bypassed the CRD's validation gets here: never evaluated, and said so.
                s.phase = MonitorState.Phase.NoData.name();
                s.message = "never evaluated: " + problems.stream().filter(p -> m != null && p.startsWith("spec.monitors[" + m.name + "]"))
                        .findFirst().orElse(String.join("; ", problems));
            } else if (t != null) {
                s.phase = t.phase;
                s.since = t.since.toString();
                s.message = t.message;
                s.value = t.value;
            } else {
                // Not evaluated by this replica yet (just started, or just became leader): what status has, if anything.
                var before = recorded.stream().filter(r -> r.name != null && r.name.equals(s.name)).findFirst();
                s.phase = before.map(r -> r.phase).orElse(StatusWriter.MONITOR_NOT_EVALUATED);
                s.since = before.map(r -> r.since).orElse(null);
                s.message = before.map(r -> r.message).orElse("not evaluated yet");
                s.value = before.map(r -> r.value).orElse(null);
            }
            out.add(s);
        }
        return Optional.of(new Observation.MonitorReads(out, Optional.ofNullable(deEscalations.get(uid))));
    }

    /**
     * Before an escalation to {@code to}: every monitor that watches {@code to} is read once, all at once, and each that
     * cannot be queried or breaches now is named (the escalation waits, as for a failing guard; DESIGN §6). Monitors that
     * do not watch {@code to} are not read. Completes within the endpoint's timeout.
     */
    public CompletableFuture<List<String>> preflight(ExecutionPolicy policy, ExecutionMode to) {
        List<String> problems = new ArrayList<>();
        List<Declared> watching = Declared.of(policy.getSpec(), problems).stream().filter(d -> d.modes().contains(to)).toList();
        // A monitor that cannot be read (only an object that bypassed the CRD's validation) holds it back as well.
        problems.replaceAll(p -> p + " (it watches nothing, so " + to.wireName() + " waits)");
        if (watching.isEmpty()) {
            return CompletableFuture.completedFuture(problems);
        }
        Instant now = clock.instant();
        Connection c = connection(settings(), now);
        List<CompletableFuture<Optional<String>>> checks = watching.stream()
                .map(d -> c.read(d.query(), now).exceptionally(e -> new Reading.Failed(String.valueOf(e.getMessage())))
                        .thenApply(r -> MonitorEvaluation.preflight(d.rule(), r, now)))
                .toList();
        return CompletableFuture.allOf(checks.toArray(CompletableFuture[]::new)).thenApply(done -> {
            List<String> all = new ArrayList<>(problems);
            checks.forEach(check -> check.join().ifPresent(p -> all.add(p + " (a monitor of " + to.wireName()
                    + " must be readable and not in breach before the system enters it)")));
            return all;
        });
    }

    /**
     * The tracked monitors of the policy brought in line with its spec. A monitor removed from the spec goes, with every
     * series. One changed starts over, its series kept (no scrape may find them missing in between); while the policy is
     * latched a changed monitor is kept as it was until the re-arm, so the breach that latched it stays what status,
     * the gauges and the alert show.
     */
    private Map<String, Tracked> sync(ExecutionPolicy policy, List<Declared> declared, boolean latched, Instant now) {
        // Taking over (first sight of this policy on this replica): a run status recorded as Pending goes on. A monitor
        // this replica already tracked and that changed starts over.
        boolean takingOver = !tracked.containsKey(policy.getMetadata().getUid());
        Map<String, Tracked> mine = tracked.computeIfAbsent(policy.getMetadata().getUid(), k -> new ConcurrentHashMap<>());
        Map<String, Declared> byName = new LinkedHashMap<>();
        declared.forEach(d -> byName.put(d.rule().name(), d));
        String ns = policy.getMetadata().getNamespace();
        String name = policy.getMetadata().getName();
        Map<String, Tracked> changed = new LinkedHashMap<>();
        for (String n : new ArrayList<>(mine.keySet())) {
            Declared d = byName.get(n);
            if (d == null) {
                mine.remove(n);
                metrics.removed(ns, name, n);
            } else if (!d.equals(mine.get(n).declared) && !latched) {
                // Changed: it starts over (its for runs from its first evaluation); what it last showed is kept meanwhile.
                changed.put(n, mine.remove(n));
            }
        }
        List<ExecutionPolicyStatus.MonitorStatus> recorded = policy.getStatus() == null || policy.getStatus().monitors == null
                ? List.of() : policy.getStatus().monitors;
        byName.forEach((n, d) -> mine.computeIfAbsent(n, k -> {
            Tracked t = new Tracked(d, now);
            t.namespace = ns;
            t.policy = name;
            // A new leader (or a restarted one) starts from what status recorded: a breach that latched the policy stays
            // Breached until re-armed, and a Pending run goes on from when it began (MonitorState.resumed).
            Tracked before = changed.get(n);
            if (before != null) {
                t.phase = before.phase;
                t.since = before.since;
                t.message = before.message;
                t.value = before.value;
                return t;
            }
            recorded.stream().filter(r -> n.equals(r.name) && r.phase != null).findFirst().ifPresent(r -> {
                Optional<Instant> since = io.marketintel.safety.api.v1alpha1.Timestamps.parse(r.since);
                t.phase = r.phase;
                t.since = since.orElse(now);
                t.message = r.message == null ? "" : r.message;
                if (takingOver) {
                    t.state = MonitorState.resumed(r.phase, since, Optional.ofNullable(r.value));
                }
            });
            return t;
        }));
        return mine;
    }

    /**
     * The policy is latched (stopped, breaker open, held): nothing is evaluated, and each monitor keeps its phase and its
     * series until a re-arm, so the breach that latched it stays visible (status, the breached gauge and its alert).
     * No reading is expected meanwhile, so none is reported missing.
     */
    private void paused(Tracked t) {
        t.paused = true;
        metrics.observe(t.namespace, t.policy, t.declared.rule().name(), t.declared.rule().onNoData().name(),
                t.state.lastValue().orElse(Double.NaN), t.declared.rule().threshold(), "Breached".equals(t.phase), false);
    }

    private void notEvaluated(ExecutionPolicy policy, Tracked t, Instant now) {
        t.state = MonitorState.initial();
        metrics.forget(t.namespace, t.policy, t.declared.rule().name());
        phase(policy, t, StatusWriter.MONITOR_NOT_EVALUATED, "not evaluated: the policy is not running in "
                + t.declared.modes().stream().map(ExecutionMode::wireName).sorted().toList() + ", or it is stopped or held", null, now);
    }

    private void evaluated(ExecutionPolicy policy, Tracked t, Reading reading, Instant now) {
        MonitorRule rule = t.declared.rule();
        MonitorEvaluation.Step step = MonitorEvaluation.next(rule, t.state, reading, now);
        t.state = step.state();
        MonitorState s = step.state();
        double value = s.lastValue().orElse(Double.NaN);
        metrics.observe(t.namespace, t.policy, rule.name(), rule.onNoData().name(), value, rule.threshold(),
                s.phase() == MonitorState.Phase.Breached, s.phase() == MonitorState.Phase.NoData);
        String message = switch (s.phase()) {
            case NoData -> s.detail().orElse("no reading");
            case Unknown -> "not evaluated yet";
            default -> "value " + MonitorEvaluation.format(value) + " (breaches when " + rule.comparison().symbol + " " + MonitorEvaluation.format(rule.threshold())
                    + " for " + rule.holdFor().toSeconds() + " s)";
        };
        phase(policy, t, s.phase().name(), message, s.lastValue().filter(v -> !v.isNaN() && !v.isInfinite()).orElse(null), now);
        step.breach().ifPresent(b -> breached(policy, t, b, s));
    }

    private void breached(ExecutionPolicy policy, Tracked t, MonitorEvaluation.Breach b, MonitorState s) {
        String ns = t.namespace;
        String name = t.policy;
        boolean noData = s.phase() == MonitorState.Phase.NoData;
        String action = noData ? "NoDataStop" : b.action().name();
        metrics.breach(ns, name, t.declared.rule().name(), action);
        if (b.action() == MonitorRule.Action.DeEscalate) {
            LOG.warnf("%s/%s: %s; holding the policy in DryRun", ns, name, b.reason());
            events.warning(policy, "MonitorBreached", b.reason() + "; the policy is held in DryRun until re-armed");
            deEscalations.put(policy.getMetadata().getUid(), new Observation.DeEscalation(t.declared.rule().name(), b.reason()));
            wake.propagateEvent(ResourceID.fromResource(policy));
            return;
        }
        LOG.warnf("%s/%s: %s; setting the emergency stop", ns, name, b.reason());
        events.warning(policy, "MonitorBreached", b.reason() + "; emergency stop set on ExecutionPolicy/" + name);
        stop(policy, t, b.reason());
    }

    /**
     * Sets the stop annotation unless one is there: a merge patch guarded by the version read, read again on a conflict
     * (a few times: someone else writing the policy at that moment).
     */
    private void stop(ExecutionPolicy seen, Tracked breached, String reason) {
        ExecutionPolicy policy = seen;
        String ns = seen.getMetadata().getNamespace();
        String name = seen.getMetadata().getName();
        for (int attempt = 0; attempt < 5 && policy != null; attempt++) {
            Map<String, String> annotations = policy.getMetadata().getAnnotations();
            if (annotations != null && annotations.containsKey(MetadataNames.EMERGENCY_STOP_ANNOTATION)) {
                LOG.infof("%s/%s: a stop is already set (%s); not replaced", ns, name, annotations.get(MetadataNames.EMERGENCY_STOP_ANNOTATION));
                return;
            }
            Map<String, Object> patch = Map.of("metadata", Map.of("resourceVersion", policy.getMetadata().getResourceVersion(),
                    "annotations", Map.of(MetadataNames.EMERGENCY_STOP_ANNOTATION, reason)));
            try {
                client.resources(ExecutionPolicy.class).inNamespace(ns).withName(name)
                        .patch(PatchContext.of(PatchType.JSON_MERGE), client.getKubernetesSerialization().asJson(patch));
                return;
            } catch (KubernetesClientException e) {
                if (e.getCode() != 409) {
                    LOG.errorf("%s/%s: could not set the emergency stop of a breached monitor (%s): %s", ns, name, reason, e.getMessage());
                    // Tried again: the monitor stays Breached, and its next evaluation asks again.
                    askAgain(breached);
                    return;
                }
                policy = client.resources(ExecutionPolicy.class).inNamespace(ns).withName(name).get();
            }
        }
    }

    /**
     * After a failed stop write, the monitor that asked for it asks again at its next evaluation (a breach by value: not
     * declared yet; without a reading: one failure short of its count). The policy's other monitors are left as they are.
     */
    private static void askAgain(Tracked t) {
        MonitorState s = t.state;
        t.state = new MonitorState(s.phase(), s.holdingSince(), s.lastValue(), false, s.withoutData() > 0 ? s.withoutData() - 1 : 0,
                s.detail());
    }

    private void phase(ExecutionPolicy policy, Tracked t, String phase, String message, Double value, Instant now) {
        if (!phase.equals(t.phase)) {
            boolean wasNoData = "NoData".equals(t.phase);
            t.phase = phase;
            t.since = now;
            t.message = message;
            t.value = value;
            if ("NoData".equals(phase) && !wasNoData && t.declared.rule().onNoData() != MonitorRule.OnNoData.Hold) {
                events.warning(policy, "MonitorNoData", "monitor " + t.declared.rule().name() + " has no reading: " + message);
            }
            wake.propagateEvent(ResourceID.fromResource(policy));
        }
    }

    /** Synchronized: the evaluation and the escalations' pre-flight reads share one client. */
    private synchronized Connection connection(Optional<ExecutionSafetySpec.Monitoring> settings, Instant now) {
        Connection c = connection;
        if (c != null && java.util.Objects.equals(json(settings.orElse(null)), json(c.settings()))
                && Duration.between(c.readAt(), now).compareTo(SECRETS_REREAD) < 0) {
            return c;
        }
        Connection next;
        try {
            PrometheusEndpoint endpoint = endpoint(settings);
            PrometheusQuery query = c != null && c.endpoint().filter(endpoint::equals).isPresent() ? c.query().orElseThrow()
                    : new PrometheusQuery(endpoint);
            next = new Connection(settings.orElse(null), Optional.of(endpoint), Optional.of(query), Optional.empty(), now);
        } catch (IllegalArgumentException | KubernetesClientException e) {
            String problem = e instanceof KubernetesClientException k ? "could not read a Secret of spec.monitoring: " + k.getMessage()
                    : e.getMessage();
            if (c == null || !c.problem().equals(Optional.of(problem))) {
                LOG.warnf("risk monitors: %s", problem);
            }
            next = new Connection(settings.orElse(null), Optional.empty(), Optional.empty(), Optional.of(problem), now);
        }
        connection = next;
        return next;
    }

    /** The endpoint the settings name, its credentials read from Secrets of the operator's namespace. */
    private PrometheusEndpoint endpoint(Optional<ExecutionSafetySpec.Monitoring> settings) {
        var p = settings.map(m -> m.prometheus).orElseThrow(() -> new IllegalArgumentException(
                "no Prometheus is set: ExecutionSafety/global spec.monitoring.prometheus (a cluster administrator sets it)"));
        if (p.url == null) {
            throw new IllegalArgumentException("ExecutionSafety/global spec.monitoring.prometheus.url is not set");
        }
        Duration timeout = Durations.parseOr(p.timeout, ExecutionSafetySpec.Defaults.PROMETHEUS_TIMEOUT);
        PrometheusEndpoint e;
        try {
            e = PrometheusEndpoint.of(URI.create(p.url), timeout);
        } catch (IllegalArgumentException bad) {
            throw new IllegalArgumentException("spec.monitoring.prometheus.url of ExecutionSafety/global: " + bad.getMessage());
        }
        if (p.bearerTokenSecret != null) {
            e = e.withBearerToken(secretKey(p.bearerTokenSecret.name, p.bearerTokenSecret.key, "bearerTokenSecret").strip());
        }
        if (p.clientCertificateSecret != null) {
            e = e.withClientCertificate(secretKey(p.clientCertificateSecret.name, "tls.crt", "clientCertificateSecret"),
                    secretKey(p.clientCertificateSecret.name, "tls.key", "clientCertificateSecret"));
        }
        if (p.caSecret != null) {
            e = e.withCaBundle(secretKey(p.caSecret.name, p.caSecret.key == null ? ExecutionSafetySpec.Defaults.CA_KEY : p.caSecret.key,
                    "caSecret"));
        }
        return e;
    }

    private String secretKey(String name, String key, String field) {
        Secret s = client.secrets().inNamespace(secretNamespace).withName(name).get();
        String where = "spec.monitoring.prometheus." + field + " of ExecutionSafety/global: Secret " + secretNamespace + "/" + name;
        if (s == null) {
            throw new IllegalArgumentException(where + " does not exist");
        }
        if (s.getData() != null && s.getData().get(key) != null) {
            return new String(Base64.getDecoder().decode(s.getData().get(key)), StandardCharsets.UTF_8);
        }
        if (s.getStringData() != null && s.getStringData().get(key) != null) {
            return s.getStringData().get(key);
        }
        throw new IllegalArgumentException(where + " has no key " + key);
    }

    private static Duration interval(Optional<ExecutionSafetySpec.Monitoring> settings) {
        Duration d;
        try {
            d = Durations.parseOr(settings.map(m -> m.interval).orElse(null), ExecutionSafetySpec.Defaults.MONITORING_INTERVAL);
        } catch (IllegalArgumentException e) {
            d = Durations.parse(ExecutionSafetySpec.Defaults.MONITORING_INTERVAL);
        }
        return d.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : d;
    }

    private void forgetAll() {
        tracked.forEach((uid, mine) -> mine.values().forEach(t -> metrics.removed(t.namespace, t.policy, t.declared.rule().name())));
        tracked.clear();
        deEscalations.clear();
    }

    private String json(Object o) {
        return o == null ? "" : client.getKubernetesSerialization().asJson(o);
    }

}
