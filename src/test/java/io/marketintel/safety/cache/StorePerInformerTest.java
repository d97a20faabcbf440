package io.marketintel.safety.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.SecondaryToPrimaryMapper;
import io.javaoperatorsdk.operator.processing.event.source.filter.OnUpdateFilter;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;

/** Every informer made from the configuration gets a store of its own; the rest of the configuration is kept. */
class StorePerInformerTest {
    @Test
    void eachInformerGetsItsOwnStoreAndNothingElseChanges() {
        OnUpdateFilter<Deployment> relevant = (now, before) -> true;
        SecondaryToPrimaryMapper<Deployment> toPolicy = d -> Set.of(new ResourceID("p", "ns"));
        InformerEventSourceConfiguration<Deployment> given = InformerEventSourceConfiguration.from(Deployment.class, ExecutionPolicy.class)
                .withName("deployment").withLabelSelector("safety.marketintel.io/policy").withOnUpdateFilter(relevant)
                .withSecondaryToPrimaryMapper(toPolicy).withNamespaces(Set.of("a", "b")).build();

        var made = StorePerInformer.withoutManagedFields(given);

        var first = made.getInformerConfig().getItemStore();
        var second = made.getInformerConfig().getItemStore();
        assertThat(first).isInstanceOf(WithoutManagedFields.class);
        assertThat(second).as("one store per informer, never shared").isNotSameAs(first);
        var config = made.getInformerConfig();
        assertThat(config.getName()).isEqualTo("deployment");
        assertThat(config.getLabelSelector()).isEqualTo("safety.marketintel.io/policy");
        assertThat(config.getNamespaces()).containsExactlyInAnyOrder("a", "b");
        assertThat(config.getOnUpdateFilter()).isSameAs(given.getInformerConfig().getOnUpdateFilter());
        assertThat(config.getResourceClass()).isEqualTo(Deployment.class);
        assertThat(made.getSecondaryToPrimaryMapper()).isSameAs(toPolicy);
        assertThat(made.name()).isEqualTo("deployment");
    }
}
