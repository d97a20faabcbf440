package io.marketintel.safety.killswitch;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.networking.v1.IPBlock;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyEgressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.EgressPort;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.EgressTarget;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.Protocol;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.statistics.Statistics;

/**
 * The fence is checked by meaning, not by shape: a small NetworkPolicy evaluator answers "may a selected pod
 * send to (ip, port, protocol)?" and must agree with "no gateway covers that address on that port".
 */
class EgressFenceTest {
    static final int ALL_PORTS = -1;
    static final String NO_PORTS_PROTOCOL = "ICMP";

    // ---------------------------------------------------------------- properties

    @Property(tries = 1500)
    void allowedExactlyWhereNoGatewayFences(@ForAll("gateways") List<Gateway> gateways, @ForAll("probes") List<Probe> probes) {
        NetworkPolicy np = EgressFence.fence(policy(gateways.stream().map(Gateway::target).toList())).orElseThrow();
        Evaluator eval = new Evaluator(np);
        for (Probe p : probes) {
            boolean fenced = gateways.stream().anyMatch(g -> g.fences(p));
            assertThat(eval.allowed(p.v6, p.address, p.port, p.protocol.name()))
                    .as("%s with gateways %s%n%s", p, gateways, np.getSpec().getEgress())
                    .isEqualTo(!fenced);
            // Protocols without ports can only be let through by a rule without ports: safe side, denied to
            // every address a gateway covers, even one fenced on some ports only.
            boolean covered = gateways.stream().anyMatch(g -> g.covers(p.v6, p.address));
            assertThat(eval.allowed(p.v6, p.address, ALL_PORTS, NO_PORTS_PROTOCOL)).as("%s (no ports)", p).isEqualTo(!covered);
            Statistics.label("probe").collect(fenced ? "fenced" : covered ? "open at a gateway" : "open elsewhere");
            Statistics.label("nested gateways").collect(gateways.stream()
                    .filter(g -> gateways.stream().anyMatch(o -> o != g && o.prefix < g.prefix && o.covers(g.v6, g.address)))
                    .count() > 0);
        }
        // Guards the generators: each kind of answer, and nesting, come up often.
        Statistics.label("probe").coverage(c -> {
            c.check("fenced").percentage(pct -> pct > 10);
            c.check("open at a gateway").percentage(pct -> pct > 5);
            c.check("open elsewhere").percentage(pct -> pct > 10);
        });
        Statistics.label("nested gateways").coverage(c -> c.check(true).percentage(pct -> pct > 20));
    }

    /** What the API server checks (see EgressFenceIT), on every generated fence. */
    @Property(tries = 500)
    void everyFenceIsWellFormed(@ForAll("gateways") List<Gateway> gateways) {
        NetworkPolicy np = EgressFence.fence(policy(gateways.stream().map(Gateway::target).toList())).orElseThrow();
        for (NetworkPolicyEgressRule rule : np.getSpec().getEgress()) {
            assertThat(rule.getTo()).as("a rule without peers would allow every address").isNotEmpty();
            for (NetworkPolicyPeer peer : rule.getTo()) {
                IPBlock b = peer.getIpBlock();
                assertThat(b).isNotNull();
                assertThat(peer.getPodSelector()).isNull();
                assertThat(peer.getNamespaceSelector()).isNull();
                Block block = Block.parse(b.getCidr());
                assertThat(canonical(b.getCidr())).as(b.getCidr()).isTrue();
                if (rule.getPorts().isEmpty()) {
                    assertThat(block.prefix).as("only the allow-everything-else rule has no ports").isZero();
                }
                for (String e : b.getExcept()) {
                    Block ex = Block.parse(e);
                    assertThat(canonical(e)).as(e).isTrue();
                    assertThat(ex.v6).isEqualTo(block.v6);
                    assertThat(ex.prefix).as("except %s strictly inside %s", e, b.getCidr()).isGreaterThan(block.prefix);
                    assertThat(block.contains(ex.v6, ex.base)).as("except %s inside %s", e, b.getCidr()).isTrue();
                }
            }
            for (NetworkPolicyPort port : rule.getPorts()) {
                assertThat(port.getProtocol()).isIn("TCP", "UDP", "SCTP");
                if (port.getPort() != null) {
                    assertThat(port.getPort().getIntVal()).isBetween(1, 65535);
                    if (port.getEndPort() != null) {
                        assertThat(port.getEndPort()).isBetween(port.getPort().getIntVal() + 1, 65535);
                    }
                } else {
                    assertThat(port.getEndPort()).isNull();
                }
            }
        }
    }

    // ---------------------------------------------------------------- examples

    @Test
    void noGatewaysNoFence() {
        assertThat(EgressFence.fence(policy(null))).isEmpty();
        assertThat(EgressFence.fence(policy(List.of()))).isEmpty();
    }

    @Test
    void singleHostOnEveryPort() {
        NetworkPolicy np = EgressFence.fence(policy(List.of(gw("203.0.113.10/32")))).orElseThrow();

        assertThat(np.getMetadata().getName()).isEqualTo("momentum-egress-fence");
        assertThat(np.getMetadata().getNamespace()).isEqualTo("desk-a");
        assertThat(np.getMetadata().getLabels()).containsExactlyInAnyOrderEntriesOf(Map.of(
                "app.kubernetes.io/managed-by", "execution-safety-operator", MetadataNames.POLICY_LABEL, "momentum"));
        OwnerReference owner = np.getMetadata().getOwnerReferences().get(0);
        assertThat(owner.getApiVersion()).isEqualTo("safety.marketintel.io/v1alpha1");
        assertThat(owner.getKind()).isEqualTo("ExecutionPolicy");
        assertThat(owner.getName()).isEqualTo("momentum");
        assertThat(owner.getUid()).isEqualTo("0c2a6a8e-5b1f-4c1e-9d52-3f2f0f6d7a11");
        assertThat(owner.getController()).isTrue();
        assertThat(owner.getBlockOwnerDeletion()).isFalse();
        assertThat(np.getSpec().getPodSelector().getMatchLabels()).isEqualTo(Map.of(MetadataNames.POLICY_LABEL, "momentum"));
        assertThat(np.getSpec().getPolicyTypes()).containsExactly("Egress");
        assertThat(np.getSpec().getIngress()).isEmpty();

        assertThat(np.getSpec().getEgress()).hasSize(1);
        NetworkPolicyEgressRule rule = np.getSpec().getEgress().get(0);
        assertThat(rule.getPorts()).isEmpty();
        assertThat(blocks(rule)).containsExactly(
                new IPBlock("0.0.0.0/0", List.of("203.0.113.10/32")),
                new IPBlock("::/0", List.of()));

        Evaluator eval = new Evaluator(np);
        assertThat(eval.allowed("203.0.113.10", 443, "TCP")).isFalse();
        assertThat(eval.allowed("203.0.113.10", 53, "UDP")).isFalse();
        assertThat(eval.allowed("203.0.113.11", 443, "TCP")).isTrue();
        assertThat(eval.allowed("2001:db8::1", 443, "TCP")).isTrue();
    }

    @Test
    void port443OnlyLeavesTheRestOfTheGatewayOpen() {
        NetworkPolicy np = EgressFence.fence(policy(List.of(gw("203.0.113.0/24", 443)))).orElseThrow();

        assertThat(np.getSpec().getEgress()).hasSize(2);
        assertThat(blocks(np.getSpec().getEgress().get(0))).containsExactly(
                new IPBlock("0.0.0.0/0", List.of("203.0.113.0/24")),
                new IPBlock("::/0", List.of()));
        NetworkPolicyEgressRule gateway = np.getSpec().getEgress().get(1);
        assertThat(blocks(gateway)).containsExactly(new IPBlock("203.0.113.0/24", List.of()));
        assertThat(gateway.getPorts()).containsExactly(
                new NetworkPolicyPort(442, new IntOrString(1), "TCP"),
                new NetworkPolicyPort(65535, new IntOrString(444), "TCP"),
                new NetworkPolicyPort(null, null, "UDP"),
                new NetworkPolicyPort(null, null, "SCTP"));

        Evaluator eval = new Evaluator(np);
        assertThat(eval.allowed("203.0.113.7", 443, "TCP")).isFalse();
        assertThat(eval.allowed("203.0.113.7", 443, "UDP")).isTrue();
        assertThat(eval.allowed("203.0.113.7", 442, "TCP")).isTrue();
        assertThat(eval.allowed("203.0.113.7", 444, "TCP")).isTrue();
        assertThat(eval.allowed("203.0.114.7", 443, "TCP")).isTrue();
    }

    @Test
    void edgePortsGiveOneRange() {
        NetworkPolicy np = EgressFence.fence(policy(List.of(gw("198.51.100.1/32", 1, 65535)))).orElseThrow();
        assertThat(np.getSpec().getEgress().get(1).getPorts()).containsExactly(
                new NetworkPolicyPort(65534, new IntOrString(2), "TCP"),
                new NetworkPolicyPort(null, null, "UDP"),
                new NetworkPolicyPort(null, null, "SCTP"));
    }

    @Test
    void ipv6IsCanonical() {
        NetworkPolicy np = EgressFence.fence(policy(List.of(gw("2001:DB8:0:0:0:0:0:1/128"), gw("2001:0db8:0001:0000:0000:0000:0000:0000/48"))))
                .orElseThrow();
        assertThat(blocks(np.getSpec().getEgress().get(0))).containsExactly(
                new IPBlock("0.0.0.0/0", List.of()),
                new IPBlock("::/0", List.of("2001:db8::1/128", "2001:db8:1::/48")));
        Evaluator eval = new Evaluator(np);
        assertThat(eval.allowed("2001:db8::1", 443, "TCP")).isFalse();
        assertThat(eval.allowed("2001:db8:1:ffff::9", 80, "UDP")).isFalse();
        assertThat(eval.allowed("2001:db8::2", 443, "TCP")).isTrue();
        assertThat(eval.allowed("192.0.2.1", 443, "TCP")).isTrue();
    }

    @Test
    void hostBitsAreCleared() {
        NetworkPolicy np = EgressFence.fence(policy(List.of(gw("10.1.2.3/24"), gw("2001:db8::dead:beef/64", 443)))).orElseThrow();
        assertThat(blocks(np.getSpec().getEgress().get(0))).containsExactly(
                new IPBlock("0.0.0.0/0", List.of("10.1.2.0/24")),
                new IPBlock("::/0", List.of("2001:db8::/64")));
        assertThat(blocks(np.getSpec().getEgress().get(1))).containsExactly(new IPBlock("2001:db8::/64", List.of()));
    }

    @Test
    void wholeIpv4FamilyOnEveryPortDeniesAllIpv4() {
        NetworkPolicy np = EgressFence.fence(policy(List.of(gw("0.0.0.0/0"), gw("10.0.0.0/8", 443)))).orElseThrow();
        assertThat(np.getSpec().getEgress()).hasSize(1);
        assertThat(blocks(np.getSpec().getEgress().get(0))).containsExactly(new IPBlock("::/0", List.of()));
        Evaluator eval = new Evaluator(np);
        assertThat(eval.allowed("8.8.8.8", 53, "UDP")).isFalse();
        assertThat(eval.allowed("2001:4860:4860::8888", 53, "UDP")).isTrue();
    }

    @Test
    void wholeFamilyOnSomePortsIsExact() {
        NetworkPolicy np = EgressFence.fence(policy(List.of(gw("::/0", 443)))).orElseThrow();
        assertThat(blocks(np.getSpec().getEgress().get(0))).containsExactly(new IPBlock("0.0.0.0/0", List.of()));
        assertThat(blocks(np.getSpec().getEgress().get(1))).containsExactly(new IPBlock("::/0", List.of()));
        Evaluator eval = new Evaluator(np);
        assertThat(eval.allowed("2001:db8::1", 443, "TCP")).isFalse();
        assertThat(eval.allowed("2001:db8::1", 80, "TCP")).isTrue();
    }

    @Test
    void everythingFencedDeniesAllEgress() {
        NetworkPolicy np = EgressFence.fence(policy(List.of(gw("0.0.0.0/0"), gw("::/0")))).orElseThrow();
        assertThat(np.getSpec().getPolicyTypes()).containsExactly("Egress");
        assertThat(np.getSpec().getEgress()).isEmpty();
    }

    @Test
    void nestedGatewaysAddUpTheirPorts() {
        // 10.0.0.0/8 fenced on 443, 10.1.0.0/16 on 80 as well (both entries cover it), 10.1.2.3 on everything.
        NetworkPolicy np = EgressFence.fence(policy(List.of(gw("10.0.0.0/8", 443), gw("10.1.0.0/16", 80), gw("10.1.2.3/32"))))
                .orElseThrow();
        Evaluator eval = new Evaluator(np);
        assertThat(eval.allowed("10.9.9.9", 443, "TCP")).isFalse();
        assertThat(eval.allowed("10.9.9.9", 80, "TCP")).isTrue();
        assertThat(eval.allowed("10.1.9.9", 443, "TCP")).isFalse();
        assertThat(eval.allowed("10.1.9.9", 80, "TCP")).isFalse();
        assertThat(eval.allowed("10.1.9.9", 8080, "TCP")).isTrue();
        assertThat(eval.allowed("10.1.2.3", 8080, "TCP")).isFalse();
        assertThat(eval.allowed("11.0.0.1", 443, "TCP")).isTrue();
    }

    @Test
    void sameCidrTwiceMergesPorts() {
        NetworkPolicy np = EgressFence.fence(policy(List.of(gw("192.0.2.0/24", 443), udp("192.0.2.9/24", 53)))).orElseThrow();
        Evaluator eval = new Evaluator(np);
        assertThat(eval.allowed("192.0.2.1", 443, "TCP")).isFalse();
        assertThat(eval.allowed("192.0.2.1", 53, "UDP")).isFalse();
        assertThat(eval.allowed("192.0.2.1", 53, "TCP")).isTrue();
        assertThat(eval.allowed("192.0.2.1", 443, "UDP")).isTrue();
        assertThat(np.getSpec().getEgress()).hasSize(2);
    }

    @Test
    void unreadableCidrFencesBothFamiliesOnItsPorts() {
        // Only reachable when the CRD's isCIDR rule was bypassed; the fence then assumes the worst.
        NetworkPolicy np = EgressFence.fence(policy(List.of(gw("gateway.example.com/32", 443), gw("::ffff:10.0.0.1/128")))).orElseThrow();
        Evaluator eval = new Evaluator(np);
        assertThat(eval.allowed("8.8.8.8", 443, "TCP")).isFalse();
        assertThat(eval.allowed("2001:db8::1", 443, "TCP")).isFalse();
        assertThat(eval.allowed("8.8.8.8", 80, "TCP")).isFalse();
        assertThat(eval.allowed("2001:db8::1", 80, "TCP")).isFalse();

        NetworkPolicy onlyPorts = EgressFence.fence(policy(List.of(gw("10.0.0.256/32", 443)))).orElseThrow();
        assertThat(new Evaluator(onlyPorts).allowed("8.8.8.8", 443, "TCP")).isFalse();
        assertThat(new Evaluator(onlyPorts).allowed("8.8.8.8", 80, "TCP")).isTrue();
    }

    @Test
    void cidrForms() {
        assertThat(cidr("10.1.2.3/24")).contains("10.1.2.0/24");
        assertThat(cidr("0.0.0.0/0")).contains("0.0.0.0/0");
        assertThat(cidr("::/0")).contains("::/0");
        assertThat(cidr("::1/128")).contains("::1/128");
        assertThat(cidr("1::/16")).contains("1::/16");
        assertThat(cidr("2001:db8:0:1:0:0:0:1/128")).contains("2001:db8:0:1::1/128"); // one zero group is not ::
        assertThat(cidr("2001:0:0:1:0:0:0:1/128")).contains("2001:0:0:1::1/128"); // longest run wins
        assertThat(cidr("2001:db8:0:0:1:0:0:1/128")).contains("2001:db8::1:0:0:1/128"); // first of equal runs
        assertThat(cidr("::10.0.0.1/128")).contains("::a00:1/128");
        assertThat(cidr("1:2:3:4:5:6:7::/128")).contains("1:2:3:4:5:6:7:0/128");
        for (String bad : List.of("10.0.0.1", "10.0.0.01/32", "10.0.0.1/33", "10.0.0/8", "1:2:3:4:5:6:7:8:9/128",
                "1:::2/64", "fe80::1%eth0/64", "::ffff:10.0.0.1/128", "10.0.0.1/-1", "/8", "2001:db8::/129", "１.0.0.0/8")) {
            assertThat(cidr(bad)).as(bad).isEmpty();
        }
    }

    @Test
    void names() {
        assertThat(EgressFence.name("momentum")).isEqualTo("momentum-egress-fence");
        String base = "a".repeat(200) + "." + "b".repeat(40);
        String one = EgressFence.name(base + "-one");
        String two = EgressFence.name(base + "-two");
        assertThat(one).hasSizeLessThanOrEqualTo(253).endsWith("-egress-fence").isNotEqualTo(two);
        assertThat(two).hasSizeLessThanOrEqualTo(253);
        Pattern subdomain = Pattern.compile("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
        assertThat(one).matches(subdomain);
        // A cut that lands on a dot must not leave ".-" behind.
        for (int dot = 220; dot < 235; dot++) {
            String n = EgressFence.name("x".repeat(dot) + "." + "y".repeat(252 - dot));
            assertThat(n).as("dot at %d", dot).matches(subdomain).hasSizeLessThanOrEqualTo(253);
        }
        assertThat(EgressFence.name("c".repeat(240))).isEqualTo("c".repeat(240) + "-egress-fence");
    }

    // ---------------------------------------------------------------- generators

    /** Addresses crowd a few small ranges so that gateways nest, overlap and share CIDRs. */
    record Gateway(boolean v6, BigInteger address, int prefix, List<Integer> ports, List<Protocol> protocols, String text) {
        EgressTarget target() {
            EgressTarget t = new EgressTarget();
            t.cidr = text;
            if (!ports.isEmpty()) {
                t.ports = new ArrayList<>();
                for (int i = 0; i < ports.size(); i++) {
                    EgressPort p = new EgressPort();
                    p.port = ports.get(i);
                    p.protocol = protocols.get(i);
                    t.ports.add(p);
                }
            }
            return t;
        }

        boolean covers(boolean probeV6, BigInteger ip) {
            int bits = v6 ? 128 : 32;
            return probeV6 == v6 && ip.shiftRight(bits - prefix).equals(address.shiftRight(bits - prefix));
        }

        boolean fences(Probe p) {
            if (!covers(p.v6, p.address)) {
                return false;
            }
            if (ports.isEmpty()) {
                return true;
            }
            return IntStream.range(0, ports.size()).anyMatch(i -> ports.get(i) == p.port
                    && (protocols.get(i) == null ? Protocol.TCP : protocols.get(i)) == p.protocol);
        }

        @Override
        public String toString() {
            return text + (ports.isEmpty() ? "" : IntStream.range(0, ports.size())
                    .mapToObj(i -> ports.get(i) + "/" + protocols.get(i)).toList().toString());
        }
    }

    record Probe(boolean v6, BigInteger address, int port, Protocol protocol) {
        @Override
        public String toString() {
            return text(v6, address) + ":" + port + "/" + protocol;
        }
    }

    static final BigInteger V4_BASE = BigInteger.valueOf(0x0A000000L); // 10.0.0.0
    static final BigInteger V6_BASE = new BigInteger("20010db8000000000000000000000000", 16); // 2001:db8::
    static final List<Integer> PORTS = List.of(1, 2, 53, 79, 80, 81, 443, 444, 65534, 65535);

    static Arbitrary<BigInteger> addresses(boolean v6) {
        Arbitrary<BigInteger> near = Arbitraries.integers().between(0, 4095).map(n -> {
            BigInteger low = BigInteger.valueOf(n);
            // spread the 12 random bits over the low end and the middle so that short prefixes differ too
            return v6 ? V6_BASE.or(low.shiftLeft(n % 2 == 0 ? 0 : 70)) : V4_BASE.or(low.shiftLeft(n % 2 == 0 ? 0 : 12));
        });
        Arbitrary<BigInteger> anywhere = Arbitraries.bigIntegers()
                .between(BigInteger.ZERO, BigInteger.ONE.shiftLeft(v6 ? 128 : 32).subtract(BigInteger.ONE));
        return Arbitraries.frequencyOf(
                Tuple.of(5, near),
                Tuple.of(1, anywhere));
    }

    static Arbitrary<Integer> prefixes(boolean v6) {
        return v6
                ? Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(0)), Tuple.of(2, Arbitraries.of(32, 48, 64, 96)),
                        Tuple.of(6, Arbitraries.integers().between(112, 128)), Tuple.of(1, Arbitraries.integers().between(0, 128)))
                : Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(0)), Tuple.of(2, Arbitraries.of(8, 16)),
                        Tuple.of(6, Arbitraries.integers().between(18, 32)), Tuple.of(1, Arbitraries.integers().between(0, 32)));
    }

    @Provide
    Arbitrary<List<Gateway>> gateways() {
        return gateway().list().ofMinSize(1).ofMaxSize(6);
    }

    Arbitrary<Gateway> gateway() {
        return Arbitraries.of(false, true).flatMap(v6 -> Combinators.combine(
                addresses(v6), prefixes(v6),
                Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(0)), Tuple.of(2, Arbitraries.integers().between(1, 3))),
                Arbitraries.of(PORTS).list().ofSize(3),
                Arbitraries.of(Protocol.TCP, Protocol.UDP, Protocol.SCTP, null).list().ofSize(3),
                Arbitraries.of(false, true))
                .as((address, prefix, n, ports, protocols, upper) -> {
                    // The text keeps its host bits: the fence must clear them itself.
                    String text = text(v6, address) + "/" + prefix;
                    BigInteger network = address.shiftRight((v6 ? 128 : 32) - prefix).shiftLeft((v6 ? 128 : 32) - prefix);
                    return new Gateway(v6, network, prefix, ports.subList(0, n),
                            protocols.subList(0, n), upper ? text.toUpperCase() : text);
                }));
    }

    @Provide
    Arbitrary<List<Probe>> probes() {
        Arbitrary<Probe> probe = Arbitraries.of(false, true).flatMap(v6 -> Combinators.combine(
                addresses(v6),
                Arbitraries.frequencyOf(Tuple.of(4, Arbitraries.of(PORTS)), Tuple.of(1, Arbitraries.integers().between(1, 65535))),
                Arbitraries.of(Protocol.values()))
                .as((a, port, protocol) -> new Probe(v6, a, port, protocol)));
        return probe.list().ofSize(40);
    }

    // ---------------------------------------------------------------- the evaluator

    /** NetworkPolicy egress semantics for the pods the policy selects: allowed if any rule allows. */
    static final class Evaluator {
        record Range(String protocol, int from, int to) {
        }

        record Rule(List<Block> to, List<Range> ports) {
        }

        final List<Rule> rules = new ArrayList<>();

        Evaluator(NetworkPolicy np) {
            assertThat(np.getSpec().getPolicyTypes()).contains("Egress");
            for (NetworkPolicyEgressRule r : np.getSpec().getEgress()) {
                assertThat(r.getTo()).as("the fence never allows every destination").isNotEmpty();
                List<Block> to = r.getTo().stream().map(p -> Block.of(p.getIpBlock())).toList();
                List<Range> ports = r.getPorts().stream().map(p -> {
                    String protocol = p.getProtocol() == null ? "TCP" : p.getProtocol(); // the API's default
                    if (p.getPort() == null) {
                        return new Range(protocol, 1, 65535);
                    }
                    int from = p.getPort().getIntVal();
                    return new Range(protocol, from, p.getEndPort() == null ? from : p.getEndPort());
                }).toList();
                rules.add(new Rule(to, ports));
            }
        }

        /** {@code port} {@link #ALL_PORTS} with a protocol without ports (ICMP): only port-less rules match. */
        boolean allowed(boolean v6, BigInteger ip, int port, String protocol) {
            for (Rule r : rules) {
                boolean address = r.to.stream().anyMatch(b -> b.matches(v6, ip));
                boolean ports = r.ports.isEmpty() || r.ports.stream()
                        .anyMatch(p -> p.protocol.equals(protocol) && port >= p.from && port <= p.to);
                if (address && ports) {
                    return true;
                }
            }
            return false;
        }

        boolean allowed(String ip, int port, String protocol) {
            InetAddress a = literal(ip);
            return allowed(a.getAddress().length == 16, new BigInteger(1, a.getAddress()), port, protocol);
        }
    }

    /** An ipBlock, read with the JDK's own parser (not the fence's). */
    record Block(boolean v6, BigInteger base, int prefix, List<Block> except) {
        static Block parse(String cidr) {
            String[] parts = cidr.split("/");
            InetAddress a = literal(parts[0]);
            Block b = new Block(a.getAddress().length == 16, new BigInteger(1, a.getAddress()), Integer.parseInt(parts[1]), List.of());
            assertThat(b.contains(b.v6, b.base) && b.base.equals(b.base.shiftRight(b.bits() - b.prefix).shiftLeft(b.bits() - b.prefix)))
                    .as("host bits of %s", cidr).isTrue();
            return b;
        }

        static Block of(IPBlock ipb) {
            Block b = parse(ipb.getCidr());
            return new Block(b.v6, b.base, b.prefix, ipb.getExcept().stream().map(Block::parse).toList());
        }

        int bits() {
            return v6 ? 128 : 32;
        }

        boolean contains(boolean ipV6, BigInteger ip) {
            return ipV6 == v6 && ip.shiftRight(bits() - prefix).equals(base.shiftRight(bits() - prefix));
        }

        boolean matches(boolean ipV6, BigInteger ip) {
            return contains(ipV6, ip) && except.stream().noneMatch(e -> e.contains(ipV6, ip));
        }
    }

    // ---------------------------------------------------------------- helpers

    static InetAddress literal(String ip) {
        assertThat(ip).matches("[0-9a-fA-F:.]+"); // a literal: InetAddress never resolves it
        try {
            return InetAddress.getByName(ip);
        } catch (UnknownHostException e) {
            throw new AssertionError(ip, e);
        }
    }

    static String text(boolean v6, BigInteger address) {
        byte[] raw = address.toByteArray();
        byte[] bytes = new byte[v6 ? 16 : 4];
        int n = Math.min(raw.length, bytes.length);
        System.arraycopy(raw, raw.length - n, bytes, bytes.length - n, n);
        try {
            return InetAddress.getByAddress(bytes).getHostAddress(); // IPv6 uncompressed: not canonical on purpose
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** Host bits clear, and the IPv6 text exactly RFC 5952 (checked against a brute-force rendering). */
    static boolean canonical(String cidr) {
        String[] parts = cidr.split("/");
        InetAddress a = literal(parts[0]);
        if (a.getAddress().length == 4) {
            return a.getHostAddress().equals(parts[0]);
        }
        String[] groups = Arrays.stream(a.getHostAddress().split(":")).map(g -> g.replaceFirst("^0+(?=.)", "")).toArray(String[]::new);
        String best = String.join(":", groups);
        int bestRun = 1;
        for (int i = 0; i < 8; i++) {
            for (int j = i + 2; j <= 8; j++) {
                int run = j - i;
                if (run > bestRun && Arrays.stream(groups, i, j).allMatch("0"::equals)) {
                    bestRun = run;
                    best = String.join(":", Arrays.copyOfRange(groups, 0, i)) + "::" + String.join(":", Arrays.copyOfRange(groups, j, 8));
                }
            }
        }
        return best.equals(parts[0]);
    }

    static Optional<String> cidr(String text) {
        return EgressFence.Cidr.parse(text).map(EgressFence.Cidr::toString);
    }

    static List<IPBlock> blocks(NetworkPolicyEgressRule rule) {
        return rule.getTo().stream().map(NetworkPolicyPeer::getIpBlock).toList();
    }

    static EgressTarget gw(String cidr, int... ports) {
        EgressTarget t = new EgressTarget();
        t.cidr = cidr;
        if (ports.length > 0) {
            t.ports = Arrays.stream(ports).mapToObj(p -> {
                EgressPort ep = new EgressPort();
                ep.port = p;
                ep.protocol = Protocol.TCP;
                return ep;
            }).toList();
        }
        return t;
    }

    static EgressTarget udp(String cidr, int port) {
        EgressTarget t = gw(cidr, port);
        t.ports.get(0).protocol = Protocol.UDP;
        return t;
    }

    static ExecutionPolicy policy(List<EgressTarget> liveEgress) {
        ExecutionPolicy p = new ExecutionPolicy();
        p.setMetadata(new ObjectMetaBuilder().withName("momentum").withNamespace("desk-a")
                .withUid("0c2a6a8e-5b1f-4c1e-9d52-3f2f0f6d7a11").build());
        ExecutionPolicySpec spec = new ExecutionPolicySpec();
        spec.mode = ExecutionMode.DRY_RUN;
        spec.liveEgress = liveEgress;
        p.setSpec(spec);
        return p;
    }
}
