package io.marketintel.safety.reconciler;

import java.time.Clock;

import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/** The one wall clock; tests and the pure core take a {@link Clock} so time is injectable. */
public class Clocks {
    @Produces
    @Singleton
    public Clock clock() {
        return Clock.systemUTC();
    }
}
