package io.marketintel.safety.monitor;

import java.time.Instant;
import java.util.List;

/** What one evaluation of a monitor's query returned. */
public sealed interface Reading {

    /** The query answered with these samples (one per series; several when the query is not aggregated). */
    record Samples(List<Sample> samples) implements Reading {
        public Samples {
            samples = List.copyOf(samples);
        }
    }

    /** The query could not be answered (Prometheus unreachable, a timeout, an error answer); {@code detail} says why. */
    record Failed(String detail) implements Reading {
    }

    /** One series' value and the time Prometheus gives for it. */
    record Sample(double value, Instant at) {
    }
}
