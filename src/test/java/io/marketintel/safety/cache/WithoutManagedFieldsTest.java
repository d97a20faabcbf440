package io.marketintel.safety.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;

class WithoutManagedFieldsTest {
    @Test
    void keepsEverythingButManagedFields() {
        Pod pod = new PodBuilder().withNewMetadata().withName("p").withNamespace("ns").withLabels(Map.of("a", "b"))
                .withResourceVersion("7")
                .withManagedFields(new ManagedFieldsEntryBuilder().withManager("kube-scheduler").withOperation("Update").build())
                .endMetadata().withNewStatus().withPodIP("10.0.0.1").endStatus().build();
        WithoutManagedFields<Pod> store = new WithoutManagedFields<>();
        store.put(store.getKey(pod), pod);

        Pod kept = store.get("ns/p");
        assertThat(kept.getMetadata().getManagedFields()).isNullOrEmpty();
        assertThat(kept.getMetadata().getLabels()).containsEntry("a", "b");
        assertThat(kept.getMetadata().getResourceVersion()).isEqualTo("7");
        assertThat(kept.getStatus().getPodIP()).isEqualTo("10.0.0.1");
        assertThat(store.size()).isEqualTo(1);
    }
}
