package io.marketintel.safety.actuation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirementBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.WorkloadKind;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.WorkloadRef;

/**
 * Which workloads a policy covers (issue 18): one rule for the emergency stop and for every pass. Overlaps: a
 * workload labelled for another existing policy is that policy's; an unlabelled one two policies match is both's.
 */
class TargetsTest {
    static final String NS = "desk";
    static final Function<String, Optional<ExecutionPolicySpec.Workloads>> NONE_EXISTS = name -> Optional.empty();

    /** Policies that exist, by name, with the workloads they cover. */
    static Function<String, Optional<ExecutionPolicySpec.Workloads>> existing(Map<String, ExecutionPolicySpec.Workloads> policies) {
        return name -> Optional.ofNullable(policies.get(name));
    }

    static Targets.Workload deployment(String name, Map<String, String> labels) {
        return new Targets.Workload(WorkloadKind.DEPLOYMENT, name, labels);
    }

    static Targets.Workload statefulSet(String name, Map<String, String> labels) {
        return new Targets.Workload(WorkloadKind.STATEFUL_SET, name, labels);
    }

    static ExecutionPolicySpec.Workloads spec(LabelSelector selector, WorkloadRef... refs) {
        var w = new ExecutionPolicySpec.Workloads();
        w.refs = refs.length == 0 ? null : List.of(refs);
        w.selector = selector;
        return w;
    }

    static LabelSelector partOf(String system) {
        return new LabelSelectorBuilder().withMatchLabels(Map.of("app.kubernetes.io/part-of", system)).build();
    }

    static WorkloadRef ref(WorkloadKind kind, String name) {
        return new WorkloadRef(kind, name);
    }

    static final List<Targets.Workload> LISTING = List.of(
            deployment("alpha", Map.of("app.kubernetes.io/part-of", "fx")),
            deployment("beta", Map.of("app.kubernetes.io/part-of", "fx")),
            deployment("other", Map.of("app.kubernetes.io/part-of", "rates")),
            statefulSet("book", Map.of("app.kubernetes.io/part-of", "fx")));

    @Test
    void refsAndSelectorCoverEachWorkloadOnceRefsFirst() {
        var r = Targets.resolve(NS, "fx", spec(partOf("fx"), ref(WorkloadKind.STATEFUL_SET, "book"),
                ref(WorkloadKind.DEPLOYMENT, "beta")), LISTING, NONE_EXISTS);
        assertThat(r.ids()).containsExactly("StatefulSet/book", "Deployment/beta", "Deployment/alpha");
        assertThat(r.problems()).isEmpty();
        assertThat(r.leftAlone()).isEmpty();
    }

    @Test
    void aDuplicateRefOrListingEntryCountsOnce() {
        List<Targets.Workload> twice = new ArrayList<>(LISTING);
        twice.add(deployment("alpha", Map.of("app.kubernetes.io/part-of", "fx")));
        var r = Targets.resolve(NS, "fx", spec(null, ref(WorkloadKind.DEPLOYMENT, "alpha"), ref(WorkloadKind.DEPLOYMENT, "alpha"),
                ref(WorkloadKind.DEPLOYMENT, "gone"), ref(WorkloadKind.DEPLOYMENT, "gone")), twice, NONE_EXISTS);
        assertThat(r.ids()).containsExactly("Deployment/alpha");
        assertThat(r.problems()).containsExactly("Deployment/gone not found in namespace desk");
    }

    @Test
    void aRefIsFoundByKindAndName() {
        var r = Targets.resolve(NS, "fx", spec(null, ref(WorkloadKind.STATEFUL_SET, "alpha"), ref(WorkloadKind.DEPLOYMENT, "beta")),
                LISTING, NONE_EXISTS);
        assertThat(r.ids()).containsExactly("Deployment/beta");
        assertThat(r.problems()).containsExactly("StatefulSet/alpha not found in namespace desk");
    }

    @Test
    void aWorkloadLabelledForAnotherExistingPolicyIsThatPolicysAndLeftAlone() {
        List<Targets.Workload> listing = List.of(
                deployment("alpha", Map.of("app.kubernetes.io/part-of", "fx", MetadataNames.POLICY_LABEL, "fx")),
                deployment("beta", Map.of("app.kubernetes.io/part-of", "fx", MetadataNames.POLICY_LABEL, "fx-options")),
                deployment("gamma", Map.of(MetadataNames.POLICY_LABEL, "fx-options")));
        List<String> asked = new ArrayList<>();
        Function<String, Optional<ExecutionPolicySpec.Workloads>> exists = name -> {
            asked.add(name);
            return name.equals("fx-options") ? Optional.of(spec(null, ref(WorkloadKind.DEPLOYMENT, "beta"), ref(WorkloadKind.DEPLOYMENT, "gamma")))
                    : Optional.empty();
        };
        var r = Targets.resolve(NS, "fx", spec(partOf("fx"), ref(WorkloadKind.DEPLOYMENT, "gamma")), listing, exists);
        assertThat(r.ids()).containsExactly("Deployment/alpha");
        assertThat(r.leftAlone()).containsExactly("Deployment/gamma", "Deployment/beta");
        assertThat(r.problems()).containsExactly(
                "Deployment/gamma is governed by ExecutionPolicy/fx-options; it is left alone",
                "Deployment/beta is governed by ExecutionPolicy/fx-options; it is left alone");
        assertThat(asked).as("asked once a name, never about itself").containsExactly("fx-options");
    }

    /**
     * Issue 19/20: a trader with {@code edit} relabels a Live workload for an idle policy that exists but does not
     * cover it; the label alone must not take the workload out of its own policy's stops.
     */
    @Test
    void aLabelNamingAnExistingPolicyThatDoesNotCoverTheWorkloadGovernsNothing() {
        List<Targets.Workload> listing = List.of(
                deployment("alpha", Map.of("app.kubernetes.io/part-of", "fx", MetadataNames.POLICY_LABEL, "idle")),
                statefulSet("book", Map.of(MetadataNames.POLICY_LABEL, "idle")));
        var idle = existing(Map.of("idle", spec(new LabelSelectorBuilder().withMatchLabels(Map.of("app.kubernetes.io/part-of", "idle")).build(),
                ref(WorkloadKind.DEPLOYMENT, "book"))));
        var r = Targets.resolve(NS, "fx", spec(partOf("fx"), ref(WorkloadKind.STATEFUL_SET, "book")), listing, idle);
        assertThat(r.ids()).as("a Deployment ref named book does not cover the StatefulSet book")
                .containsExactly("StatefulSet/book", "Deployment/alpha");
        assertThat(r.leftAlone()).isEmpty();
        assertThat(r.problems()).isEmpty();
    }

    /**
     * A stop reaches every workload carrying the policy's own mark, wherever the spec points now (the insider tier:
     * after the refs were narrowed to d1, a Namespace stop left d0 running as the operator had left it).
     */
    @Test
    void aStopAlsoCoversEveryWorkloadCarryingThePolicysOwnMark() {
        List<Targets.Workload> listing = List.of(
                deployment("d0", Map.of(MetadataNames.POLICY_LABEL, "fx")),
                deployment("d1", Map.of(MetadataNames.POLICY_LABEL, "fx")),
                deployment("theirs", Map.of(MetadataNames.POLICY_LABEL, "rates")),
                deployment("plain", Map.of()));
        var spec = spec(null, ref(WorkloadKind.DEPLOYMENT, "d1"));
        assertThat(Targets.resolve(NS, "fx", spec, listing, NONE_EXISTS).ids()).containsExactly("Deployment/d1");
        assertThat(Targets.resolveForStop(NS, "fx", spec, listing, NONE_EXISTS).ids()).containsExactly("Deployment/d1", "Deployment/d0");
        assertThat(Targets.resolveForStop(NS, "fx", null, listing, NONE_EXISTS).ids()).as("no spec at all")
                .containsExactly("Deployment/d0", "Deployment/d1");
    }

    @Test
    void aLabelNamingADeletedPolicyGovernsNothing() {
        List<Targets.Workload> listing = List.of(deployment("beta", Map.of("app.kubernetes.io/part-of", "fx", MetadataNames.POLICY_LABEL, "gone")));
        var r = Targets.resolve(NS, "fx", spec(partOf("fx")), listing, NONE_EXISTS);
        assertThat(r.ids()).containsExactly("Deployment/beta");
        assertThat(r.problems()).isEmpty();
        assertThat(r.leftAlone()).isEmpty();
    }

    @Test
    void anEmptySelectorMatchesEveryWorkloadNotGovernedByAnotherPolicy() {
        List<Targets.Workload> listing = List.of(
                deployment("plain", Map.of()),
                statefulSet("mine", Map.of(MetadataNames.POLICY_LABEL, "fx")),
                deployment("theirs", Map.of(MetadataNames.POLICY_LABEL, "rates")));
        var r = Targets.resolve(NS, "fx", spec(new LabelSelector()), listing,
                existing(Map.of("rates", spec(new LabelSelectorBuilder().withMatchLabels(Map.of(MetadataNames.POLICY_LABEL, "rates")).build()))));
        assertThat(r.ids()).containsExactly("Deployment/plain", "StatefulSet/mine");
        assertThat(r.leftAlone()).containsExactly("Deployment/theirs");
    }

    @Test
    void anUnlabelledWorkloadTwoPoliciesMatchIsCoveredByBoth() {
        List<Targets.Workload> listing = List.of(deployment("shared", Map.of("desk", "fx", "tier", "pricing")));
        var bothExist = existing(Map.of("fx", spec(null), "pricing", spec(null)));
        var fx = Targets.resolve(NS, "fx", spec(new LabelSelectorBuilder().withMatchLabels(Map.of("desk", "fx")).build()), listing, bothExist);
        var pricing = Targets.resolve(NS, "pricing", spec(new LabelSelectorBuilder().withMatchLabels(Map.of("tier", "pricing")).build()),
                listing, bothExist);
        assertThat(fx.ids()).containsExactly("Deployment/shared");
        assertThat(pricing.ids()).containsExactly("Deployment/shared");
    }

    @Test
    void aSelectorThatMatchesNothingIsAProblemOnlyWithoutRefs() {
        var alone = Targets.resolve(NS, "fx", spec(partOf("nothing")), LISTING, NONE_EXISTS);
        assertThat(alone.ids()).isEmpty();
        assertThat(alone.problems()).containsExactly("the selector matches no Deployment or StatefulSet in namespace desk");
        var withRefs = Targets.resolve(NS, "fx", spec(partOf("nothing"), ref(WorkloadKind.DEPLOYMENT, "alpha")), LISTING, NONE_EXISTS);
        assertThat(withRefs.ids()).containsExactly("Deployment/alpha");
        assertThat(withRefs.problems()).isEmpty();
    }

    @Test
    void anInvalidSelectorCoversNothingAndSaysWhy() {
        LabelSelector invalid = new LabelSelectorBuilder().withMatchExpressions(
                new LabelSelectorRequirementBuilder().withKey("app.kubernetes.io/part-of").withOperator("Like").withValues("fx").build()).build();
        var r = Targets.resolve(NS, "fx", spec(invalid, ref(WorkloadKind.DEPLOYMENT, "other")), LISTING, NONE_EXISTS);
        assertThat(r.ids()).containsExactly("Deployment/other");
        assertThat(r.problems()).singleElement().asString().startsWith("the selector is not valid: ").contains("\"Like\"");
    }

    @Test
    void noWorkloadsCoverNothing() {
        var r = Targets.resolve(NS, "fx", null, LISTING, NONE_EXISTS);
        assertThat(r.targets()).isEmpty();
        assertThat(r.problems()).isEmpty();
    }

    @Test
    void aListedObjectIsReadAsItsKindNameAndLabels() {
        var d = Targets.Workload.of(new DeploymentBuilder().withMetadata(new ObjectMetaBuilder().withName("a").build()).build());
        var s = Targets.Workload.of(new StatefulSetBuilder().withMetadata(new ObjectMetaBuilder().withName("b")
                .withLabels(Map.of("x", "y")).build()).build());
        assertThat(d).isEqualTo(deployment("a", Map.of()));
        assertThat(s.id()).isEqualTo("StatefulSet/b");
        assertThat(s.labels()).containsEntry("x", "y");
    }
}
