package io.marketintel.safety.killswitch;

import java.util.function.Consumer;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResourceList;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.client.dsl.Listable;

/**
 * Reads a LIST a page at a time ({@code limit}, {@code continue}). The stops of a namespace- or cluster-wide stop list
 * whole namespaces, at the moment the operator needs its heap most (issue 22: a cluster-wide stop of 1,000 policies ran
 * a replica out of heap, for another reason; its heap dump held two 2.2 MB response buffers). A page is dropped
 * once {@code each} has seen its items, so only what the caller keeps of them stays.
 */
final class Pages {
    /** Objects per page: small enough that a few pages in flight stay a few MiB, large enough to keep requests few. */
    static final long SIZE = 250;

    private Pages() {
    }

    /** Every object the LIST returns, in order, page by page; returns how many pages. A failure (an expired continue token included) is thrown. */
    static <T extends HasMetadata, L extends KubernetesResourceList<T>> int each(Listable<L> list, Consumer<T> each) {
        return each(list, SIZE, each);
    }

    static <T extends HasMetadata, L extends KubernetesResourceList<T>> int each(Listable<L> list, long size, Consumer<T> each) {
        String next = null;
        int pages = 0;
        do {
            L page = list.list(new ListOptionsBuilder().withLimit(size).withContinue(next).build());
            pages++;
            page.getItems().forEach(each);
            next = page.getMetadata() == null ? null : page.getMetadata().getContinue();
        } while (next != null && !next.isEmpty());
        return pages;
    }
}
