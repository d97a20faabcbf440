package io.marketintel.safety.admission;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.regex.Pattern;

import io.marketintel.safety.actuation.ModeMarks;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.MetadataNames;

/**
 * The Namespace's register of replica ceilings ({@link MetadataNames#REPLICA_CEILINGS_ANNOTATION}): for every workload a
 * policy of the namespace governs, the count the operator sets for the mode the policy is in or heading to. The API
 * server refuses anyone but the operator a raise above it, by the workload or its {@code scale} subresource
 * (execution-safety-replicas), with no parameter: one evaluation per raise, however many policies the namespace has
 * (issue 22; it took every policy of the namespace as a parameter before, which a Scale object, carrying no labels,
 * could not narrow).
 * <p>
 * The value is a sorted comma list of entries {@code KIND/NAME=REPLICAS:POLICY:MODE}, for example
 * {@code Deployment/momentum=2:momentum:Live}. No Kubernetes name contains {@code / = : ,}, so an entry parses one way.
 * Pure: no client.
 */
public final class ReplicaCeilings {
    /** What the admission policy accepts as an entry (others refuse nothing there: it filters by this too). */
    static final Pattern ENTRY = Pattern.compile("(Deployment|StatefulSet)/([^/=:,]+)=([0-9]{1,10}):([^/=:,]+):(Backtest|DryRun|Live)");

    private ReplicaCeilings() {
    }

    /** One workload's ceiling: its kind ("Deployment" or "StatefulSet"), name, count, the policy and the mode it is for. */
    public record Ceiling(String kind, String name, int replicas, String policy, ExecutionMode mode) implements Comparable<Ceiling> {
        public Ceiling {
            if (!kind.equals("Deployment") && !kind.equals("StatefulSet")) {
                throw new IllegalArgumentException("not a workload kind: " + kind);
            }
            if (replicas < 0) {
                throw new IllegalArgumentException("negative replicas: " + replicas);
            }
        }

        /** The entry as the register writes it. */
        public String entry() {
            return kind + "/" + name + "=" + replicas + ":" + policy + ":" + mode.wireName();
        }

        @Override
        public int compareTo(Ceiling o) {
            return entry().compareTo(o.entry());
        }

        /** The entry parsed, or empty when it is not one. */
        public static Optional<Ceiling> parse(String entry) {
            var m = ENTRY.matcher(entry.trim());
            if (!m.matches()) {
                return Optional.empty();
            }
            return Optional.of(new Ceiling(m.group(1), m.group(2), (int) Math.min(Integer.MAX_VALUE, Long.parseLong(m.group(3))), m.group(4),
                    ModeMarks.parse(m.group(5)).orElseThrow()));
        }
    }

    /** The entries a register value lists, sorted; ones that do not parse are dropped (the API server ignores them too). */
    public static TreeSet<Ceiling> entries(String value) {
        TreeSet<Ceiling> entries = new TreeSet<>();
        if (value != null) {
            for (String e : value.split(",")) {
                Ceiling.parse(e).ifPresent(entries::add);
            }
        }
        return entries;
    }

    /**
     * The register once {@code policy}'s entries are exactly {@code own} (entries of other policies kept, except those
     * {@code exists} denies: a deleted policy has no pass of its own, so the next pass of another policy of its namespace
     * clears them; null keeps them): empty when {@code current} already says so, else the new value, "" meaning no
     * annotation. Entries that do not parse are dropped on any change. Entries in {@code own} of another policy are a
     * caller's mistake and refused.
     * <p>
     * Every pass of every policy asks this of a register that lists every workload of its namespace, so the answer "no
     * change" costs one split and no parsing: only the policy's own entries (found by their policy field) are compared,
     * and the others are parsed only when a new value is written.
     */
    public static Optional<String> updated(String current, String policy, Collection<Ceiling> own, Predicate<String> exists) {
        TreeSet<String> want = new TreeSet<>();
        for (Ceiling c : own) {
            if (!c.policy().equals(policy)) {
                throw new IllegalArgumentException(c.entry() + " is not an entry of " + policy);
            }
            want.add(c.entry());
        }
        String value = current == null ? "" : current;
        TreeSet<String> mine = new TreeSet<>();
        List<String> others = new ArrayList<>();
        boolean dropped = false;
        for (String e : value.split(",")) {
            if (e.isEmpty()) {
                dropped |= !value.isEmpty();
                continue;
            }
            String owner = policyOf(e);
            if (owner == null) {
                dropped = true;
            } else if (owner.equals(policy)) {
                mine.add(e);
            } else if (exists != null && !exists.test(owner)) {
                dropped = true;
            } else {
                others.add(e);
            }
        }
        if (!dropped && mine.equals(want)) {
            return Optional.empty();
        }
        TreeSet<String> after = new TreeSet<>(want);
        for (String e : others) {
            if (ENTRY.matcher(e).matches()) {
                after.add(e);
            }
        }
        String next = String.join(",", after);
        return next.equals(value) ? Optional.empty() : Optional.of(next);
    }

    /** The policies a register value names (entries without a policy field skipped). */
    public static Set<String> policies(String value) {
        Set<String> names = new TreeSet<>();
        if (value != null) {
            for (String e : value.split(",")) {
                String owner = policyOf(e);
                if (owner != null) {
                    names.add(owner);
                }
            }
        }
        return names;
    }

    /** The register value without the entries of the policies {@code gone} names (others kept as they are). */
    public static String without(String value, Set<String> gone) {
        if (value == null || value.isEmpty() || gone.isEmpty()) {
            return value == null ? "" : value;
        }
        List<String> kept = new ArrayList<>();
        for (String e : value.split(",")) {
            String owner = policyOf(e);
            if (!e.isEmpty() && (owner == null || !gone.contains(owner))) {
                kept.add(e);
            }
        }
        return String.join(",", kept);
    }

    /** The policy field of an entry ({@code KIND/NAME=REPLICAS:POLICY:MODE}), or null when it has none. */
    private static String policyOf(String entry) {
        int first = entry.indexOf(':');
        int second = first < 0 ? -1 : entry.indexOf(':', first + 1);
        return second < 0 || entry.indexOf(':', second + 1) >= 0 ? null : entry.substring(first + 1, second);
    }

    /** The register value listing {@code entries}, sorted. */
    public static String render(Collection<Ceiling> entries) {
        List<String> out = new ArrayList<>();
        new TreeSet<>(entries).forEach(c -> out.add(c.entry()));
        return String.join(",", out);
    }
}
