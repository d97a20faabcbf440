package io.marketintel.safety.actuation;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.WorkloadKind;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.WorkloadRef;

/**
 * Which workloads a policy covers: the one answer both the emergency stop and every pass of the reconciler use
 * (issue 18; before, the stop resolved its own way and could zero a workload another policy governs). Pure: the
 * caller lists the namespace's workloads and says which policies exist.
 * <p>
 * The rule (docs/design.md, "Which workloads a stop covers"): a policy covers every Deployment and StatefulSet
 * it names in {@code workloads.refs} or matches with {@code workloads.selector}, except one whose
 * {@link MetadataNames#POLICY_LABEL} names another ExecutionPolicy that exists in the namespace <em>and</em> itself
 * covers the workload (names it or matches it): that workload is governed by, and stops with, that policy, and is
 * left alone here. A label alone governs nothing: a label naming a policy that no longer exists, or one that does
 * not cover the workload, is ignored, so relabelling a workload for an idle policy takes it out of no stop (a
 * trader with {@code edit} can write labels, issue 19). An unlabelled workload two policies match is covered by
 * both (the safe side for a stop). A namespace- or cluster-wide stop stops every policy of its scope, so it covers
 * every governed workload.
 */
public final class Targets {
    private Targets() {
    }

    /** A workload as a listing of its namespace shows it. */
    public record Workload(WorkloadKind kind, String name, Map<String, String> labels) {
        public Workload {
            labels = labels == null ? Map.of() : Map.copyOf(labels);
        }

        public String id() {
            return ObservedWorkload.kindName(kind) + "/" + name;
        }

        /** A listed Deployment or StatefulSet. */
        public static Workload of(HasMetadata o) {
            WorkloadKind kind;
            if (o instanceof Deployment) {
                kind = WorkloadKind.DEPLOYMENT;
            } else if (o instanceof StatefulSet) {
                kind = WorkloadKind.STATEFUL_SET;
            } else {
                throw new IllegalArgumentException("not a Deployment or StatefulSet: " + o.getKind());
            }
            return new Workload(kind, o.getMetadata().getName(), o.getMetadata().getLabels());
        }
    }

    /**
     * @param targets   the workloads the policy covers: refs first in their order, then the selector's in listing order;
     *                  each once
     * @param problems  refs not found, what is wrong with the selector, a selector that matches nothing, and each
     *                  workload left alone because another policy governs it
     * @param leftAlone the ids of the workloads another existing policy governs
     */
    public record Resolved(List<Workload> targets, List<String> problems, List<String> leftAlone) {
        public Resolved {
            targets = List.copyOf(targets);
            problems = List.copyOf(problems);
            leftAlone = List.copyOf(leftAlone);
        }

        public List<String> ids() {
            return targets.stream().map(Workload::id).toList();
        }
    }

    /**
     * @param namespace    the policy's namespace (for the messages)
     * @param policy       the policy's name
     * @param spec         its {@code spec.workloads}; null covers nothing
     * @param listing      the namespace's Deployments and StatefulSets: at least every one a ref names that exists and
     *                     every one the selector could match (a ref absent from it is reported as not found)
     * @param ownerSpec    the {@code spec.workloads} of the ExecutionPolicy of that name in the namespace, or empty when
     *                     no such policy exists; asked at most once a name
     */
    public static Resolved resolve(String namespace, String policy, ExecutionPolicySpec.Workloads spec,
            Collection<Workload> listing, Function<String, Optional<ExecutionPolicySpec.Workloads>> ownerSpec) {
        Map<String, Workload> byId = new LinkedHashMap<>();
        listing.forEach(w -> byId.putIfAbsent(w.id(), w));
        Map<String, Workload> found = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        if (spec != null && spec.refs != null) {
            for (WorkloadRef ref : spec.refs) {
                String id = ObservedWorkload.kindName(ref.kind) + "/" + ref.name;
                Workload w = byId.get(id);
                String missing = id + " not found in namespace " + namespace;
                if (w == null) {
                    if (!problems.contains(missing)) {
                        problems.add(missing);
                    }
                } else {
                    found.putIfAbsent(id, w);
                }
            }
        }
        List<String> selectorProblems = spec == null ? List.of() : SelectorRules.problems(spec.selector);
        problems.addAll(selectorProblems);
        if (spec != null && spec.selector != null && selectorProblems.isEmpty()) {
            int before = found.size();
            for (Workload w : byId.values()) {
                if (LabelSelectors.matches(spec.selector, w.labels())) {
                    found.putIfAbsent(w.id(), w);
                }
            }
            if (found.size() == before && (spec.refs == null || spec.refs.isEmpty())) {
                problems.add("the selector matches no Deployment or StatefulSet in namespace " + namespace);
            }
        }
        List<Workload> targets = new ArrayList<>();
        List<String> leftAlone = new ArrayList<>();
        Map<String, Optional<ExecutionPolicySpec.Workloads>> owners = new HashMap<>();
        for (Workload w : found.values()) {
            String owner = w.labels().get(MetadataNames.POLICY_LABEL);
            if (owner != null && !owner.equals(policy) && owners.computeIfAbsent(owner, ownerSpec).map(o -> covers(o, w)).orElse(false)) {
                problems.add(w.id() + " is governed by ExecutionPolicy/" + owner + "; it is left alone");
                leftAlone.add(w.id());
                continue;
            }
            targets.add(w);
        }
        return new Resolved(targets, problems, leftAlone);
    }

    /**
     * What a stop of the policy covers: what {@link #resolve} covers, and every other listed workload that carries the
     * policy's own mark ({@link MetadataNames#POLICY_LABEL} = the policy's name, written by the operator when it first
     * governed it), wherever the spec points now: a workload taken out of the spec (a narrowed selector, a removed
     * ref) keeps running as the operator left it, and a stop must reach it (DESIGN §11 P3; the insider tier found a
     * Namespace stop that left one running).
     */
    public static Resolved resolveForStop(String namespace, String policy, ExecutionPolicySpec.Workloads spec,
            Collection<Workload> listing, Function<String, Optional<ExecutionPolicySpec.Workloads>> ownerSpec) {
        Resolved covered = resolve(namespace, policy, spec, listing, ownerSpec);
        Map<String, Workload> targets = new LinkedHashMap<>();
        covered.targets().forEach(w -> targets.put(w.id(), w));
        for (Workload w : listing) {
            if (policy.equals(w.labels().get(MetadataNames.POLICY_LABEL))) {
                targets.putIfAbsent(w.id(), w);
            }
        }
        return new Resolved(new ArrayList<>(targets.values()), covered.problems(), covered.leftAlone());
    }

    /** Whether {@code spec} names {@code w} or its (valid) selector matches it. */
    public static boolean covers(ExecutionPolicySpec.Workloads spec, Workload w) {
        if (spec == null) {
            return false;
        }
        if (spec.refs != null && spec.refs.stream().anyMatch(r -> r != null && r.kind == w.kind() && w.name().equals(r.name))) {
            return true;
        }
        return spec.selector != null && SelectorRules.problems(spec.selector).isEmpty()
                && LabelSelectors.matches(spec.selector, w.labels());
    }
}
