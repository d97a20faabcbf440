package io.marketintel.safety.cache;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.informers.cache.ItemStore;
import io.javaoperatorsdk.operator.api.config.informer.InformerConfiguration;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;

/**
 * An event source configuration whose informers each get a store of their own, without managed fields.
 * <p>
 * The Java Operator SDK (5.3.2) runs one informer per watched namespace and hands each the configuration's one
 * {@code ItemStore} instance. Shared, a store is wrong: every informer's list ends by removing from its store what
 * that list did not return (fabric8's {@code ProcessorStore#retainAll}), so each namespace's list removed the other
 * namespaces' objects, and announced them as deleted. With a list of watched namespaces (the chart's
 * {@code watchNamespaces}) the operator started with most policies and workloads missing from its caches; a policy
 * was reconciled only when an event happened to bring it back (found by {@code bench/scale.sh} with NAMESPACES=10:
 * 545 s from a restart until every policy had a pass, 5 s with one namespace). This configuration asks for the store
 * each time an informer is made, and gets a new one. (The primary's informers use the SDK's own store: its
 * configuration is made by the Quarkus extension.)
 */
public final class StorePerInformer {
    private StorePerInformer() {
    }

    public static <R extends HasMetadata> InformerEventSourceConfiguration<R> withoutManagedFields(InformerEventSourceConfiguration<R> c) {
        InformerConfiguration<R> i = c.getInformerConfig();
        InformerConfiguration<R> each = new InformerConfiguration<>(i.getResourceClass(), i.getName(), i.getNamespaces(),
                i.getFollowControllerNamespaceChanges(), i.getLabelSelector(), i.getOnAddFilter(), i.getOnUpdateFilter(),
                i.getOnDeleteFilter(), i.getGenericFilter(), null, i.getInformerListLimit(), i.getFieldSelector(),
                i.isComparableResourceVersions(), i.getGhostResourceCacheCheckInterval()) {
            @Override
            public ItemStore<R> getItemStore() {
                return new WithoutManagedFields<>();
            }
        };
        return new InformerEventSourceConfiguration.DefaultInformerEventSourceConfiguration<>(c.getGroupVersionKind().orElse(null),
                c.getPrimaryToSecondaryMapper(), c.getSecondaryToPrimaryMapper(), each, c.getKubernetesClient().orElse(null)) {
        };
    }
}
