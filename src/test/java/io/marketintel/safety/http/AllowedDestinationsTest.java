package io.marketintel.safety.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.marketintel.safety.api.v1alpha1.ExecutionSafety;
import io.marketintel.safety.api.v1alpha1.ExecutionSafetySpec;
import io.marketintel.safety.api.v1alpha1.ExecutionSafetySpec.AllowedDestination;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/** Which URLs the operator may call on a team's behalf: examples, and properties over many addresses and names. */
class AllowedDestinationsTest {

    static AllowedDestination host(String host, Integer... ports) {
        var d = new AllowedDestination();
        d.host = host;
        d.ports = ports.length == 0 ? null : List.of(ports);
        return d;
    }

    static AllowedDestination cidr(String cidr, Integer... ports) {
        var d = new AllowedDestination();
        d.cidr = cidr;
        d.ports = ports.length == 0 ? null : List.of(ports);
        return d;
    }

    static AllowedDestinations allowing(AllowedDestination... entries) {
        return AllowedDestinations.of(List.of(entries));
    }

    static boolean allows(AllowedDestinations a, String url) {
        return a.allows(URI.create(url));
    }

    static ExecutionSafety global(List<AllowedDestination> list) {
        var g = new ExecutionSafety();
        g.setMetadata(new ObjectMetaBuilder().withName("global").build());
        g.setSpec(new ExecutionSafetySpec());
        g.getSpec().allowedDestinations = list;
        return g;
    }

    // ---------------------------------------------------------------- nothing listed: nothing allowed

    @Test
    void withoutGlobalNothingIsAllowedAndTheMessageSaysWhy() {
        var none = AllowedDestinations.of(Optional.empty());
        assertThat(allows(none, "http://127.0.0.1:8080/x")).isFalse();
        assertThat(allows(none, "https://risk.example.com/check")).isFalse();
        assertThat(none.refusal(URI.create("https://risk.example.com/check"))).contains(
                "ExecutionSafety/global does not exist, so nothing is allowed (a cluster administrator creates it and lists"
                        + " risk.example.com port 443 in spec.allowedDestinations)");
    }

    @Test
    void aGlobalWithoutAListOrWithAnEmptyOneAllowsNothing() {
        for (var list : java.util.Arrays.asList(null, List.<AllowedDestination> of())) {
            var a = AllowedDestinations.of(Optional.of(global(list)));
            assertThat(allows(a, "http://10.0.0.1/")).isFalse();
            assertThat(a.refusal(URI.create("http://10.0.0.1/"))).contains(
                    "ExecutionSafety/global spec.allowedDestinations does not list 10.0.0.1 port 80 (a cluster administrator adds it)");
        }
        var noSpec = new ExecutionSafety();
        assertThat(allows(AllowedDestinations.of(Optional.of(noSpec)), "http://10.0.0.1/")).isFalse();
    }

    @Test
    void theListInGlobalIsRead() {
        var a = AllowedDestinations.of(Optional.of(global(List.of(host("risk.example.com", 443)))));
        assertThat(allows(a, "https://risk.example.com/check")).isTrue();
        assertThat(allows(a, "http://risk.example.com/check")).isFalse();
    }

    // ---------------------------------------------------------------- host entries

    @Test
    void anExactHostMatchesOnlyItselfCaseInsensitively() {
        var a = allowing(host("Risk-Gateway.risk.svc.cluster.local"));
        assertThat(allows(a, "http://risk-gateway.risk.svc.cluster.local:8080/v1/check")).isTrue();
        assertThat(allows(a, "http://RISK-GATEWAY.RISK.SVC.CLUSTER.LOCAL/v1/check")).isTrue();
        assertThat(allows(a, "http://x.risk-gateway.risk.svc.cluster.local/")).isFalse();
        assertThat(allows(a, "http://risk-gateway.risk.svc.cluster.local.evil.example/")).isFalse();
        assertThat(allows(a, "http://risk-gateway.risk/")).as("a short name is another name").isFalse();
        assertThat(allows(a, "http://risk-gateway.risk.svc.cluster.local./")).as("written with the root dot").isFalse();
    }

    @Test
    void aWildcardMatchesAnyDepthBelowItsSuffixButNeverTheSuffix() {
        var a = allowing(host("*.risk.svc.cluster.local"));
        assertThat(allows(a, "http://gw.risk.svc.cluster.local/")).isTrue();
        assertThat(allows(a, "http://a.b.risk.svc.cluster.local/")).isTrue();
        assertThat(allows(a, "http://risk.svc.cluster.local/")).isFalse();
        assertThat(allows(a, "http://svc.cluster.local/")).isFalse();
        assertThat(allows(a, "http://evilrisk.svc.cluster.local/")).as("a label boundary, not a string suffix").isFalse();
        assertThat(allows(a, "http://kube-dns.kube-system.svc.cluster.local/")).isFalse();
    }

    @Test
    void aHostEntryNeverMatchesAnAddressNorACidrAName() {
        var a = allowing(host("localhost"), cidr("0.0.0.0/0"), cidr("::/0"));
        assertThat(allows(a, "http://localhost/")).isTrue();
        assertThat(allows(allowing(cidr("0.0.0.0/0"), cidr("::/0")), "http://localhost/"))
                .as("a name is never resolved to be matched against a cidr").isFalse();
        assertThat(allows(allowing(host("localhost")), "http://127.0.0.1/")).isFalse();
    }

    @Test
    void numericHostsThatAreNotCanonicalAddressesAreNeverAllowed() {
        var everything = allowing(cidr("0.0.0.0/0"), cidr("::/0"), host("*.1"), host("*.0x1"));
        for (String url : List.of("http://127.1/", "http://2130706433/", "http://0x7f.0.0.1/", "http://0x7f000001/",
                "http://127.000.000.001/", "http://0177.0.0.1/", "http://256.0.0.1/", "http://1.2.3.4.5/")) {
            assertThat(allows(everything, url)).as(url).isFalse();
        }
        // java.net.URI itself finds no host in most of them; where it does, the refusal says why.
        assertThat(everything.refusal(URI.create("http://0x7f000001/")).orElseThrow())
                .isEqualTo("host 0x7f000001 is neither a DNS name nor a canonical IP address");
    }

    // ---------------------------------------------------------------- cidr entries

    @Test
    void aCidrContainsItsAddressesOnly() {
        var a = allowing(cidr("10.244.0.0/16"));
        assertThat(allows(a, "http://10.244.0.1:8081/cancel-orders")).isTrue();
        assertThat(allows(a, "http://10.244.255.255:8081/cancel-orders")).isTrue();
        assertThat(allows(a, "http://10.245.0.1:8081/cancel-orders")).isFalse();
        assertThat(allows(a, "http://10.243.255.255/")).isFalse();
        assertThat(allows(allowing(cidr("10.0.0.7/32")), "http://10.0.0.7/")).isTrue();
        assertThat(allows(allowing(cidr("10.0.0.7/32")), "http://10.0.0.6/")).isFalse();
        assertThat(allows(allowing(cidr("10.0.0.0/12")), "http://10.15.255.255/")).isTrue();
        assertThat(allows(allowing(cidr("10.0.0.0/12")), "http://10.16.0.0/")).isFalse();
        assertThat(allows(allowing(cidr("0.0.0.0/0")), "http://203.0.113.9/")).isTrue();
    }

    @Test
    void ipv6AddressesMatchIpv6CidrsOnly() {
        var a = allowing(cidr("fd00:10:244::/48"));
        assertThat(allows(a, "http://[fd00:10:244::7]:8081/cancel-orders")).isTrue();
        assertThat(allows(a, "http://[FD00:10:244:0:0:0:0:7]:8081/")).isTrue();
        assertThat(allows(a, "http://[fd00:10:245::7]:8081/")).isFalse();
        assertThat(allows(allowing(cidr("::/0")), "http://10.0.0.1/")).as("an IPv4 address is not in an IPv6 range").isFalse();
        assertThat(allows(allowing(cidr("0.0.0.0/0")), "http://[fd00::1]/")).isFalse();
        assertThat(allows(allowing(cidr("::1/128")), "http://[::1]:9/")).isTrue();
    }

    @Test
    void anIpv4MappedAddressIsItsIpv4Address() {
        assertThat(allows(allowing(cidr("10.0.0.0/8")), "http://[::ffff:10.0.0.1]/")).isTrue();
        assertThat(allows(allowing(cidr("192.168.0.0/16")), "http://[::ffff:10.0.0.1]/")).isFalse();
    }

    // ---------------------------------------------------------------- ports and schemes

    @Test
    void portsDefaultByScheme() {
        var a = allowing(host("risk.example.com", 443), cidr("10.0.0.0/8", 80, 8081));
        assertThat(allows(a, "https://risk.example.com/")).isTrue();
        assertThat(allows(a, "https://risk.example.com:443/")).isTrue();
        assertThat(allows(a, "http://risk.example.com/")).isFalse();
        assertThat(allows(a, "https://risk.example.com:8443/")).isFalse();
        assertThat(allows(a, "http://10.1.2.3/")).isTrue();
        assertThat(allows(a, "http://10.1.2.3:8081/")).isTrue();
        assertThat(allows(a, "http://10.1.2.3:8082/")).isFalse();
        assertThat(allows(a, "https://10.1.2.3/")).isFalse();
        assertThat(a.refusal(URI.create("https://risk.example.com:8443/x"))).contains(
                "ExecutionSafety/global spec.allowedDestinations does not list risk.example.com port 8443 (a cluster administrator adds it)");
    }

    @Test
    void onlyHttpAndHttpsAreEverAllowed() {
        var a = allowing(host("risk.example.com"), cidr("0.0.0.0/0"));
        assertThat(allows(a, "ftp://risk.example.com/")).isFalse();
        assertThat(allows(a, "gopher://10.0.0.1:70/")).isFalse();
        assertThat(allows(a, "HTTPS://risk.example.com/")).isTrue();
        assertThat(a.allows(URI.create("/relative"))).isFalse();
        assertThat(a.allows(null)).isFalse();
    }

    @Test
    void anEntryThatIsNotWellFormedAllowsNothing() {
        var both = new AllowedDestination();
        both.host = "risk.example.com";
        both.cidr = "0.0.0.0/0";
        var a = allowing(both, cidr("10.0.0.0"), cidr("10.0.0.0/33"), cidr("risk.example.com/8"), host("-bad-.example"),
                cidr("10.0.0.0/8", 0), cidr("::/129"), new AllowedDestination());
        for (String url : List.of("http://risk.example.com/", "http://10.0.0.1/", "http://-bad-.example/", "http://[::1]/")) {
            assertThat(allows(a, url)).as(url).isFalse();
        }
    }

    @Test
    void theRefusalShowsNoCredentials() {
        var refusal = allowing().refusal(URI.create("http://svc:s3cret@10.0.0.1:8080/x")).orElseThrow();
        assertThat(refusal).doesNotContain("s3cret").contains("10.0.0.1 port 8080");
    }

    // ---------------------------------------------------------------- properties

    @Property(tries = 500)
    void anAddressOutsideEveryCidrIsNeverAllowed(@ForAll("ipv4") int address, @ForAll("ipv4") int network,
            @ForAll @IntRange(min = 0, max = 32) int prefix, @ForAll @IntRange(min = 1, max = 65535) int port) {
        long mask = prefix == 0 ? 0 : (0xffffffffL << (32 - prefix)) & 0xffffffffL;
        boolean inside = ((address & 0xffffffffL) & mask) == ((network & 0xffffffffL) & mask);
        var a = allowing(cidr(dotted(network) + "/" + prefix));
        assertThat(allows(a, "http://" + dotted(address) + ":" + port + "/")).isEqualTo(inside);
    }

    @Property(tries = 300)
    void aCidrAllowsEveryAddressItContains(@ForAll("ipv4") int network, @ForAll @IntRange(min = 0, max = 32) int prefix,
            @ForAll("ipv4") int host) {
        long mask = prefix == 0 ? 0 : (0xffffffffL << (32 - prefix)) & 0xffffffffL;
        int inside = (int) (((network & 0xffffffffL) & mask) | ((host & 0xffffffffL) & ~mask & 0xffffffffL));
        assertThat(allows(allowing(cidr(dotted(network) + "/" + prefix)), "http://" + dotted(inside) + "/")).isTrue();
    }

    @Property(tries = 300)
    void aPortNotListedIsNeverAllowed(@ForAll("ipv4") int address, @ForAll @IntRange(min = 1, max = 65535) int listed,
            @ForAll @IntRange(min = 1, max = 65535) int asked) {
        var a = allowing(cidr("0.0.0.0/0", listed), host("*.example.com", listed));
        assertThat(allows(a, "http://" + dotted(address) + ":" + asked + "/")).isEqualTo(listed == asked);
        assertThat(allows(a, "http://risk.example.com:" + asked + "/")).isEqualTo(listed == asked);
    }

    @Property(tries = 300)
    void aWildcardNeverMatchesItsSuffixNorItsParents(@ForAll("labels") List<String> suffix, @ForAll("labels") List<String> below) {
        String s = String.join(".", suffix) + ".test";
        var a = allowing(host("*." + s));
        assertThat(allows(a, "http://" + s + "/")).isFalse();
        String parent = s.substring(s.indexOf('.') + 1);
        assertThat(allows(a, "http://" + parent + "/")).isFalse();
        assertThat(allows(a, "http://" + String.join(".", below) + "." + s + "/")).isTrue();
        assertThat(allows(a, "http://" + String.join("", below) + s + "/")).as("no label boundary").isFalse();
    }

    @Property(tries = 200)
    void aNameIsNeverAllowedByAnyCidr(@ForAll("labels") List<String> labels) {
        var a = allowing(cidr("0.0.0.0/0"), cidr("::/0"));
        assertThat(allows(a, "http://" + String.join(".", labels) + ".test/")).isFalse();
    }

    @Property(tries = 200)
    void anExactHostMatchesOnlyThatName(@ForAll("labels") List<String> listed, @ForAll("labels") List<String> asked) {
        String l = String.join(".", listed) + ".test";
        String q = String.join(".", asked) + ".test";
        assertThat(allows(allowing(host(l)), "http://" + q + "/")).isEqualTo(l.equalsIgnoreCase(q));
    }

    @Provide
    Arbitrary<Integer> ipv4() {
        return Arbitraries.integers().between(Integer.MIN_VALUE, Integer.MAX_VALUE)
                .edgeCases(c -> c.add(0, -1, 0x7f000001, 0x0a000000));
    }

    @Provide
    Arbitrary<List<String>> labels() {
        return Arbitraries.strings().withChars("abcxyz019-").ofMinLength(1).ofMaxLength(6)
                .filter(l -> !l.startsWith("-") && !l.endsWith("-")).list().ofMinSize(1).ofMaxSize(3);
    }

    static String dotted(int a) {
        return ((a >>> 24) & 0xff) + "." + ((a >>> 16) & 0xff) + "." + ((a >>> 8) & 0xff) + "." + (a & 0xff);
    }
}
