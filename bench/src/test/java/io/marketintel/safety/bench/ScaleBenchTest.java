package io.marketintel.safety.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;

/** The figures ScaleBench reads from the operator's /proc status and jcmd output, without a process. */
class ScaleBenchTest {
    @Test
    void procStatusSizesBecomeMiB() {
        Figures f = new Figures("scale");
        ScaleBench.addKiB(f, "rss", Map.of(), "204800 kB");
        ScaleBench.addKiB(f, "peak-rss", Map.of(), "?");
        assertThat(f.figures()).singleElement().satisfies(fig -> {
            assertThat(fig.name()).isEqualTo("rss");
            assertThat(fig.value()).isEqualTo(200.0);
            assertThat(fig.unit()).isEqualTo("MiB");
        });
    }

    @Test
    void nativeMemoryLinesBecomeCommittedMiBByCategory() {
        Figures f = new Figures("scale");
        ScaleBench.nativeCommitted(f, Map.of(), "-                 Java Heap (reserved=131072KB, committed=8192KB)");
        ScaleBench.nativeCommitted(f, Map.of(), "Total: (reserved=1500000KB, committed=204800KB)");
        ScaleBench.nativeCommitted(f, Map.of(), "                            (mmap: reserved=131072KB, committed=8192KB)");
        assertThat(f.figures()).extracting(fig -> fig.params().get("category") + " " + fig.value())
                .containsExactly("Java Heap 8.0", "Total 200.0"); // a detail line of a category is not one
    }

    @Test
    void classHistogramLinesBecomeBytesAndInstancesByClass() {
        Figures f = new Figures("scale");
        ScaleBench.liveClass(f, Map.of("idle", 60), "   1:         51234        4917800  [B (java.base@17.0.12)");
        assertThat(f.figures()).extracting(fig -> fig.name() + " " + fig.params() + " " + fig.value() + " " + fig.unit())
                .containsExactly("live-heap-bytes {idle=60, class=[B} 4917800.0 B", "live-heap-instances {idle=60, class=[B} 51234.0 count");
    }
}
