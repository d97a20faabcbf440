package io.marketintel.safety.cache;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;

/**
 * The store of the operator's informers (each its own instance, {@link StorePerInformer}), except the reconciler's
 * informers of policies: objects are kept without {@code metadata.managedFields}.
 * The operator never reads them, and they are most of an object's size once several managers have written
 * it (a pod written by the scheduler, the kubelet and the ReplicaSet controller; a policy whose status is
 * applied by the operator): with 1,000 policies, their Deployments and pods, they were the largest share of
 * the heap. Objects the operator reads from the API server directly are untouched.
 */
public class WithoutManagedFields<T extends HasMetadata> extends BasicItemStore<T> {
    public WithoutManagedFields() {
        super(Cache::metaNamespaceKeyFunc);
    }

    @Override
    public T put(String key, T obj) {
        if (obj.getMetadata() != null) {
            obj.getMetadata().setManagedFields(null);
        }
        return super.put(key, obj);
    }
}
