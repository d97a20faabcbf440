package io.marketintel.safety.insider;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** What the insider tier did, over all sequences: for the summary, and so a run that exercised nothing fails. */
final class Tally {
    final AtomicInteger steps = new AtomicInteger();
    final AtomicInteger probes = new AtomicInteger();
    final AtomicInteger liveReached = new AtomicInteger();
    final AtomicInteger liveStarted = new AtomicInteger();
    final AtomicInteger stops = new AtomicInteger();
    final AtomicInteger releases = new AtomicInteger();
    final AtomicInteger latchedAtEnd = new AtomicInteger();
    /** Per move: how many were accepted and refused by the API server. */
    final Map<String, AtomicInteger> outcomes = new ConcurrentHashMap<>();

    /** A count, and the first few sequences that made it (for the summary). */
    static final class Examples {
        final AtomicInteger count = new AtomicInteger();
        final List<String> first = Collections.synchronizedList(new ArrayList<>());

        void add(int n, String example) {
            count.addAndGet(n);
            if (first.size() < 5) {
                first.add(example);
            }
        }
    }

    /** One stop announced by more than one EmergencyStopped Event (true, but an auditor counting Events counts too many). */
    final Examples repeatedStopEvents = new Examples();
    /** The residual "stop, unstop and delete before the stop is recorded" (docs/threat-model.md): the system runs on. */
    final Examples residualDeleteBeforeRecorded = new Examples();

    void repeatedStopEvents(String sequence, int repeats, Map<String, Integer> byReason) {
        repeatedStopEvents.add(repeats, sequence + " " + byReason);
    }

    void residual(String sequence, String state) {
        residualDeleteBeforeRecorded.add(1, sequence + " (" + state + ")");
    }

    void outcome(Move move, boolean accepted) {
        outcomes.computeIfAbsent(move + (accepted ? " ok" : " refused"), k -> new AtomicInteger()).incrementAndGet();
    }

    @Override
    public String toString() {
        Map<String, Integer> sorted = new TreeMap<>();
        outcomes.forEach((k, v) -> sorted.put(k, v.get()));
        return "probes refused " + probes + ", sequences whose escalation to Live started " + liveStarted + ", reached Live " + liveReached + ", stops " + stops
                + ", released by a re-arm " + releases + ", still stopped at the end (pods checked gone) " + latchedAtEnd
 + ", residual 'stop, unstop and delete before the stop is recorded' left the system running in " + residualDeleteBeforeRecorded.count
                + " sequence(s) (e.g. " + residualDeleteBeforeRecorded.first + ")"
                + ", repeated EmergencyStopped Events " + repeatedStopEvents.count + " (e.g. " + repeatedStopEvents.first + "), writes " + sorted;
    }
}
