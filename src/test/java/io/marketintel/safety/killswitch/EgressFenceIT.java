package io.marketintel.safety.killswitch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.testing.NamespacedTest;
import io.marketintel.safety.testing.OperatorProcess;

/**
 * The real API server accepts every fence as built (it validates ipBlock, except-inside-cidr, endPort and,
 * since 1.36, canonical CIDRs) and stores it unchanged; the ownerReference makes it go with its policy.
 */
class EgressFenceIT extends NamespacedTest {

    static Stream<Arguments> shapes() {
        String manyPorts = IntStream.rangeClosed(1, 32).mapToObj(i -> "{port: " + (i * 1000 + 1) + ", protocol: "
                + List.of("TCP", "UDP", "SCTP").get(i % 3) + "}").collect(Collectors.joining(", ", "[", "]"));
        return Stream.of(
                Arguments.of("host", "[{cidr: 203.0.113.10/32}]"),
                Arguments.of("https-only", "[{cidr: 203.0.113.0/24, ports: [{port: 443}]}]"),
                Arguments.of("edge-ports", "[{cidr: 198.51.100.7/32, ports: [{port: 1}, {port: 65535}, {port: 2, protocol: UDP}]}]"),
                Arguments.of("nested-dual-stack", """
                        - {cidr: 10.0.0.0/8, ports: [{port: 443}]}
                        - {cidr: 10.1.0.0/16, ports: [{port: 80}, {port: 53, protocol: UDP}]}
                        - {cidr: 10.1.2.3/32}
                        - {cidr: 10.1.0.0/16, ports: [{port: 8443, protocol: SCTP}]}
                        - {cidr: "2001:db8::/32", ports: [{port: 443}]}
                        - {cidr: "2001:db8:1::/48"}
                        """),
                Arguments.of("host-bits", "[{cidr: 10.1.2.3/24}, {cidr: \"2001:DB8:0:0::DEAD:BEEF/64\", ports: [{port: 443}]}]"),
                Arguments.of("whole-ipv4", "[{cidr: 0.0.0.0/0}, {cidr: \"::/0\", ports: [{port: 443}, {port: 8443, protocol: SCTP}]}]"),
                Arguments.of("everything", "[{cidr: 0.0.0.0/0}, {cidr: \"::/0\"}]"),
                Arguments.of("many-ports", "[{cidr: 192.0.2.0/24, ports: " + manyPorts + "}]"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void acceptedAndStoredUnchanged(String name, String liveEgress) {
        ExecutionPolicy policy = createPolicy(name, liveEgress);
        NetworkPolicy built = EgressFence.fence(policy).orElseThrow();

        client.resource(built).fieldManager(MetadataNames.FIELD_MANAGER).forceConflicts().serverSideApply();

        NetworkPolicy stored = client.network().v1().networkPolicies().inNamespace(ns).withName(EgressFence.name(name)).get();
        assertThat(stored).isNotNull();
        assertThat(stored.getSpec()).isEqualTo(built.getSpec());
        assertThat(stored.getMetadata().getLabels()).isEqualTo(built.getMetadata().getLabels());
        assertThat(stored.getMetadata().getOwnerReferences()).isEqualTo(built.getMetadata().getOwnerReferences());
        // Applying the same object again changes nothing: no churn for the reconciler.
        String version = stored.getMetadata().getResourceVersion();
        client.resource(EgressFence.fence(policy).orElseThrow()).fieldManager(MetadataNames.FIELD_MANAGER).forceConflicts().serverSideApply();
        assertThat(client.network().v1().networkPolicies().inNamespace(ns).withName(EgressFence.name(name)).get()
                .getMetadata().getResourceVersion()).isEqualTo(version);
    }

    /** Why the fence clears host bits itself: the CRD's isCIDR accepts them, the NetworkPolicy API does not. */
    @Test
    void apiServerRefusesHostBitsInExcept() {
        NetworkPolicy raw = new NetworkPolicyBuilder()
                .withNewMetadata().withName("raw").withNamespace(ns).endMetadata()
                .withNewSpec()
                .withNewPodSelector().endPodSelector()
                .withPolicyTypes("Egress")
                .addNewEgress().addNewTo().withNewIpBlock().withCidr("0.0.0.0/0").withExcept("10.1.2.3/24").endIpBlock().endTo()
                .endEgress()
                .endSpec()
                .build();
        assertThatThrownBy(() -> client.resource(raw).create())
                .isInstanceOf(KubernetesClientException.class)
                .hasMessageContaining("must not have bits set beyond the prefix length");

        createPolicy("bits", "[{cidr: 10.1.2.3/24}]"); // the CRD lets it through
        NetworkPolicy fence = EgressFence.fence(client.resources(ExecutionPolicy.class).inNamespace(ns).withName("bits").get()).orElseThrow();
        assertThat(client.resource(fence).create().getSpec().getEgress().get(0).getTo().get(0).getIpBlock().getExcept())
                .containsExactly("10.1.2.0/24");
    }

    @Test
    void fenceGoesWithItsPolicy() {
        ExecutionPolicy policy = createPolicy("short-lived", "[{cidr: 203.0.113.10/32}]");
        client.resource(EgressFence.fence(policy).orElseThrow()).fieldManager(MetadataNames.FIELD_MANAGER).forceConflicts().serverSideApply();

        client.resources(ExecutionPolicy.class).inNamespace(ns).withName("short-lived").delete();
        await("fence garbage-collected with its policy").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
                .until(() -> client.network().v1().networkPolicies().inNamespace(ns).withName(EgressFence.name("short-lived")).get() == null);
    }

    /** A policy no operator acts on (the test label keeps both the in-process and the process operator away). */
    private ExecutionPolicy createPolicy(String name, String liveEgress) {
        apply("""
                apiVersion: safety.marketintel.io/v1alpha1
                kind: ExecutionPolicy
                metadata:
                  name: %s
                  labels: {%s: none}
                spec:
                  mode: DryRun
                  workloads: {refs: [{kind: Deployment, name: %s}]}
                  liveEgress:
                %s
                """.formatted(name, OperatorProcess.LABEL, name, liveEgress.indent(4)));
        ExecutionPolicy policy = client.resources(ExecutionPolicy.class).inNamespace(ns).withName(name).get();
        assertThat(policy.getMetadata().getUid()).isNotBlank();
        return policy;
    }
}
