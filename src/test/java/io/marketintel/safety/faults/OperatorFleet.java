package io.marketintel.safety.faults;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.marketintel.safety.testing.ControlPlane;
import io.marketintel.safety.testing.OperatorProcess;

/**
 * The operator replicas of the fault suite (and of the insider tier): packaged operator processes with fixed
 * leader-election identities (like StatefulSet pods), killed with SIGKILL and started again under the same identity.
 */
public final class OperatorFleet implements AutoCloseable {
    /** Short enough that a failover is part of a run, long enough that a 5 s etcd pause does not cost the lease. */
    static final List<String> LEASE = List.of("-Dexecution-safety.leader-election.lease-duration=8s",
            "-Dexecution-safety.leader-election.renew-deadline=6s", "-Dexecution-safety.leader-election.retry-period=1s",
            // Start-up speed on a 2-core machine (C1 only, serial GC): restarts are most of the suite's time.
            "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");
    static final String LEASE_NAME = "execution-safety-operator";

    private final ControlPlane plane;
    private final KubernetesClient client;
    private final String namespace;
    private final Map<String, OperatorProcess> replicas = new LinkedHashMap<>();
    private final List<String> options;
    private int restarts;

    OperatorFleet(ControlPlane plane, KubernetesClient client, String namespace, String... identities) {
        this(plane, client, namespace, List.of(), identities);
    }

    /**
     * With JVM options after the fleet's own (the last {@code -D} wins): the insider tier watches every namespace,
     * {@code -Dquarkus.operator-sdk.controllers.executionpolicy.namespaces=JOSDK_ALL_NAMESPACES}, with its Lease in
     * {@code namespace}.
     */
    public OperatorFleet(ControlPlane plane, KubernetesClient client, String namespace, List<String> options, String... identities) {
        this.plane = plane;
        this.client = client;
        this.namespace = namespace;
        List<String> all = new ArrayList<>(LEASE);
        all.addAll(options);
        this.options = List.copyOf(all);
        for (String id : identities) {
            replicas.put(id, start(id));
        }
    }

    private OperatorProcess start(String identity) {
        return OperatorProcess.start(plane, namespace, null, identity, options);
    }

    /** The identity holding the Lease, if any. */
    public String leader() {
        Lease lease = client.leases().inNamespace(namespace).withName(LEASE_NAME).get();
        return lease == null || lease.getSpec() == null ? null : lease.getSpec().getHolderIdentity();
    }

    /**
     * Waits until a live replica holds the Lease and says it is ready. A replica that loses its Lease under load exits by
     * design, possibly right after it was seen leading: it is started again, as its StatefulSet would, and the wait goes
     * on for whichever replica leads then.
     */
    public String awaitLeader(Duration atMost) {
        long end = System.nanoTime() + atMost.toNanos();
        while (true) {
            Duration left = Duration.ofNanos(Math.max(1, end - System.nanoTime()));
            String leader = await("a live replica leads").atMost(left).pollInterval(Duration.ofMillis(100)).ignoreExceptions()
                    .until(() -> {
                        restartDead();
                        return leader();
                    }, id -> id != null && replicas.containsKey(id) && replicas.get(id).alive());
            try {
                replicas.get(leader).awaitReady(Duration.ofNanos(Math.max(1, end - System.nanoTime())));
                return leader;
            } catch (RuntimeException e) { // timed out, or failed fast because the process exited
                if (replicas.get(leader).alive() || System.nanoTime() >= end) {
                    throw e;
                }
                // it exited while starting (it lost the Lease): try again
            }
        }
    }

    /** SIGKILL every replica: the whole operator is down. */
    public void killAll() {
        replicas.values().forEach(OperatorProcess::kill);
    }

    /** Starts one more replica under {@code identity} and waits until it is ready (as a standby, if one leads). */
    public void addStandby(String identity) {
        OperatorProcess p = start(identity);
        replicas.put(identity, p);
        p.awaitReady(Duration.ofSeconds(120));
    }

    /** SIGKILL the replica holding the Lease and leave it out of the fleet (the survivor goes on); returns its identity. */
    public String killLeader() {
        String leader = leader();
        OperatorProcess p = leader == null ? null : replicas.get(leader);
        if (p == null) {
            throw new IllegalStateException("no known replica holds the lease (holder " + leader + ")");
        }
        p.kill();
        replicas.remove(leader);
        return leader;
    }

    /** Identities of the replicas in the fleet. */
    public List<String> identities() {
        return List.copyOf(replicas.keySet());
    }

    /** Starts again, under its own identity, every replica that is not running; returns how many. */
    public int restartDead() {
        int n = 0;
        for (var e : replicas.entrySet()) {
            if (!e.getValue().alive()) {
                e.setValue(start(e.getKey()));
                n++;
            }
        }
        restarts += n;
        return n;
    }

    public int restarts() {
        return restarts;
    }

    public List<String> logs() {
        List<String> out = new ArrayList<>();
        replicas.forEach((id, p) -> out.add(id + ": " + p.log()));
        return out;
    }

    @Override
    public void close() {
        replicas.values().forEach(OperatorProcess::close);
    }
}
