package io.marketintel.safety.testing;

import java.util.Locale;
import java.util.UUID;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;

/** Each test works in a namespace of its own, so tests sharing one control plane never collide. */
public final class Namespaces {
    private Namespaces() {
    }

    public static String create(KubernetesClient client, String prefix) {
        String name = (prefix + "-" + UUID.randomUUID().toString().substring(0, 8)).toLowerCase(Locale.ROOT);
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
                .create();
        return name;
    }
}
