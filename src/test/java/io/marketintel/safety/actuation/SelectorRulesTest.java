package io.marketintel.safety.actuation;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirementBuilder;

/** Found by HostileInputIT: selectors the CRD admits but the API server cannot list with. */
class SelectorRulesTest {

    @Test
    void aValidSelectorHasNoProblems() {
        assertThat(SelectorRules.problems(new LabelSelectorBuilder().withMatchLabels(Map.of("app.kubernetes.io/part-of", "momentum"))
                .withMatchExpressions(new LabelSelectorRequirementBuilder().withKey("tier").withOperator("In").withValues("a", "").build(),
                        new LabelSelectorRequirementBuilder().withKey("x").withOperator("DoesNotExist").build())
                .build())).isEmpty();
        assertThat(SelectorRules.problems(null)).isEmpty();
        assertThat(SelectorRules.problems(new LabelSelectorBuilder().build())).isEmpty();
    }

    @Test
    void aSelectorTheApiServerCannotListWithIsNamedByField() {
        assertThat(SelectorRules.problems(new LabelSelectorBuilder().withMatchLabels(Map.of("app", "\u202e\u200b")).build()))
                .containsExactly("the selector is not valid: spec.workloads.selector.matchLabels[\"app\"]: value \"\\u202e\\u200b\""
                        + " is not a label value (at most 63 of A-Z a-z 0-9 - _ . starting and ending alphanumeric, or empty)");
        assertThat(SelectorRules.problems(new LabelSelectorBuilder().withMatchLabels(Map.of("app", "v".repeat(100))).build()))
                .singleElement().asString().contains("matchLabels[\"app\"]").contains("...(100 chars)");
        assertThat(SelectorRules.problems(new LabelSelectorBuilder().withMatchLabels(Map.of("bad key!", "x")).build()))
                .singleElement().asString().contains("key \"bad key!\" is not a label key");
        assertThat(SelectorRules.problems(new LabelSelectorBuilder().withMatchExpressions(
                new LabelSelectorRequirementBuilder().withKey("app").withOperator("Foo").withValues("x").build(),
                new LabelSelectorRequirementBuilder().withKey("app").withOperator("In").build(),
                new LabelSelectorRequirementBuilder().withKey("app").withOperator("Exists").withValues("x").build(),
                new LabelSelectorRequirementBuilder().withKey("").withOperator("Exists").build()).build()))
                .containsExactly(
                        "the selector is not valid: spec.workloads.selector.matchExpressions[0].operator: \"Foo\" is not one of In, NotIn, Exists, DoesNotExist",
                        "the selector is not valid: spec.workloads.selector.matchExpressions[1].values: operator In needs at least one value",
                        "the selector is not valid: spec.workloads.selector.matchExpressions[2].values: operator Exists takes no values",
                        "the selector is not valid: spec.workloads.selector.matchExpressions[3].key: key \"\" is not a label key (an optional"
                                + " DNS-subdomain prefix and /, then at most 63 of A-Z a-z 0-9 - _ . starting and ending alphanumeric)");
        assertThat(List.of("Bad_Prefix/app", "a/b/c", "-app", "x".repeat(64))).allSatisfy(k -> assertThat(SelectorRules.problems(
                new LabelSelectorBuilder().withMatchLabels(Map.of(k, "x")).build())).as(k).hasSize(1));
    }
}
