package io.marketintel.safety.killswitch;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.marketintel.safety.testing.NamespacedTest;

/** The stops' paged LISTs on the real API server: every object once, in pages of the size asked for. */
class PagesIT extends NamespacedTest {

    @Test
    void everyObjectIsSeenOnceAPageAtATime() {
        IntStream.range(0, 5).forEach(i -> client.configMaps().inNamespace(ns)
                .resource(new ConfigMapBuilder().withNewMetadata().withName("cm-" + i).endMetadata().build()).create());
        // The Namespace's own kube-root-ca.crt may or may not be there yet: count ours.
        List<String> seen = new ArrayList<>();
        int pages = Pages.each(client.configMaps().inNamespace(ns), 2, c -> seen.add(c.getMetadata().getName()));

        assertThat(seen.stream().filter(n -> n.startsWith("cm-"))).containsExactly("cm-0", "cm-1", "cm-2", "cm-3", "cm-4");
        assertThat(seen).doesNotHaveDuplicates();
        assertThat(pages).isEqualTo((seen.size() + 1) / 2);
        assertThat(Pages.each(client.configMaps().inNamespace(ns), c -> { })).isEqualTo(1);
    }
}
