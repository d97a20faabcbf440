package io.marketintel.safety.killswitch;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

import jakarta.enterprise.context.ApplicationScoped;

import io.javaoperatorsdk.operator.processing.event.ResourceID;

/**
 * The gate every reconciler write to a workload passes, one per policy: while a stop of the policy is in force
 * only writes to zero pass, and a stop waits for a write in progress, so a reconcile that read the policy
 * before the stop cannot scale anything up after it.
 */
@ApplicationScoped
public class WriteGate {
    private final StopLedger ledger;
    private final Map<ResourceID, ReentrantLock> gates = new ConcurrentHashMap<>();

    public WriteGate(StopLedger ledger) {
        this.ledger = ledger;
    }

    /**
     * Runs one reconciler write under the policy's gate. While a stop of the policy is in force only writes
     * to zero replicas pass; returns false for a write held back.
     */
    public boolean write(ResourceID policy, int replicas, Runnable write) {
        ReentrantLock gate = gate(policy);
        gate.lock();
        try {
            if (replicas > 0 && ledger.inForce(policy)) {
                return false;
            }
            write.run();
            return true;
        } finally {
            gate.unlock();
        }
    }

    /** Runs the zero writes of a stop with the gate shut: after any write in progress, and none meanwhile. */
    public void shut(ResourceID policy, Runnable stop) {
        ReentrantLock gate = gate(policy);
        gate.lock();
        try {
            stop.run();
        } finally {
            gate.unlock();
        }
    }

    /** The policy is gone. */
    public void forget(ResourceID policy) {
        gates.remove(policy);
    }

    private ReentrantLock gate(ResourceID policy) {
        return gates.computeIfAbsent(policy, k -> new ReentrantLock());
    }
}
