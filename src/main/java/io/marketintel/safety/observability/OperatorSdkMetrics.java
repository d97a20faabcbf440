package io.marketintel.safety.observability;

import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetricsV2;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The Operator SDK's own metrics (reconciliations_*, custom_resources, events_received_total) on the application's
 * registry. Quarkus Operator SDK's default hands the SDK a Metrics that is filled in only once Micrometer binds
 * its MeterBinder; in the packaged operator the SDK's configuration was built before that, so it kept the no-op
 * and none of these series existed (caught by ChainsawSuitesIT.thePackagedOperatorExportsTheMetricsContract;
 * the in-process tests happened to bind first). Built here from the registry itself, there is no such order.
 * Same meters as the default (MicrometerMetricsV2, no namespace tag): the alerts and dashboard are unchanged.
 */
public class OperatorSdkMetrics {

    @Produces
    @Singleton
    Metrics operatorSdkMetrics(MeterRegistry registry) {
        return MicrometerMetricsV2.newBuilder(registry).build();
    }
}
