package io.marketintel.safety.insider;

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

    final AtomicInteger repeatedStopEvents = new AtomicInteger();
    final java.util.List<String> repeatedStopExamples = java.util.Collections.synchronizedList(new java.util.ArrayList<>());

    /** One stop announced by more than one EmergencyStopped Event (true, but an auditor counting Events counts too many). */
    void repeatedStopEvents(String sequence, int repeats, Map<String, Integer> byReason) {
        repeatedStopEvents.addAndGet(repeats);
        if (repeatedStopExamples.size() < 5) {
            repeatedStopExamples.add(sequence + " " + byReason);
        }
    }

    final AtomicInteger residualDeleteBeforeRecorded = new AtomicInteger();
    final java.util.List<String> residualExamples = java.util.Collections.synchronizedList(new java.util.ArrayList<>());

    /** The residual "stop, unstop and delete before the stop is recorded" (docs/threat-model.md): the system runs on. */
    void residual(String sequence, String state) {
        residualDeleteBeforeRecorded.incrementAndGet();
        if (residualExamples.size() < 5) {
            residualExamples.add(sequence + " (" + state + ")");
        }
    }

    final AtomicInteger lostInOutage = new AtomicInteger();
    final java.util.List<String> lostExamples = java.util.Collections.synchronizedList(new java.util.ArrayList<>());

    /** Issue 20 (docs/threat-model.md): a stop set and removed while no operator ran was never applied. */
    void lostInOutage(String sequence, String state) {
        lostInOutage.incrementAndGet();
        if (lostExamples.size() < 5) {
            lostExamples.add(sequence + " (" + state + ")");
        }
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
 + ", residual 'stop, unstop and delete before the stop is recorded' left the system running in " + residualDeleteBeforeRecorded
                + " sequence(s) (e.g. " + residualExamples + ")"
                + ", open issue 20 'a stop set and removed while no operator ran' left the system running in " + lostInOutage
                + " sequence(s) (e.g. " + lostExamples + ")"
                + ", repeated EmergencyStopped Events " + repeatedStopEvents + " (e.g. " + repeatedStopExamples + "), writes " + sorted;
    }
}
