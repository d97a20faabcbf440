package io.marketintel.safety.killswitch;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.IPBlock;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyEgressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeerBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.Defaults;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.EgressPort;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.EgressTarget;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.Protocol;
import io.marketintel.safety.api.v1alpha1.MetadataNames;

/**
 * The egress fence of DESIGN §6: the NetworkPolicy that, in every non-Live mode, keeps a policy's pods from
 * reaching the order gateways of {@code spec.liveEgress}, so a DryRun pod that misreads its mode still cannot
 * send an order. Pure code: it builds the object, the caller applies or deletes it.
 *
 * <p>
 * NetworkPolicy only has allow rules, so the fence is "allow all egress except the gateways":
 * <ul>
 * <li>one rule with no ports allowing {@code 0.0.0.0/0} and {@code ::/0}, each with every gateway CIDR of its
 * family in {@code except} (only the outermost ones: nested CIDRs are covered already);</li>
 * <li>for each gateway CIDR fenced only on some ports, one more peer {@code ipBlock{cidr: gateway, except:
 * [gateways nested in it]}} allowed on the complement of the fenced ports ({@code port}/{@code endPort}
 * ranges per listed protocol, every port of an unlisted protocol).</li>
 * </ul>
 * Overlapping gateways are exact, not approximated: CIDRs are either nested or disjoint, so every address
 * falls in exactly one region (outside all gateways, or in the innermost gateway CIDR holding it minus the
 * ones nested in that), and a region's fenced ports are the union of the ports of every entry covering it
 * (every port if any of them lists none). Entries with the same CIDR merge the same way.
 *
 * <p>
 * Where exactness is impossible the fence errs on the side of denying more:
 * <ul>
 * <li>Protocols without ports (ICMP, ...) can only be allowed by a rule without ports, so they are denied to
 * every gateway CIDR, including one fenced only on some ports.</li>
 * <li>{@code except} must be strictly inside its {@code cidr}: a gateway of {@code 0.0.0.0/0} or {@code ::/0}
 * without ports cannot be cut out of the allow-all rule, so that family gets no allow-all rule at all and
 * all its egress is denied (the same as what the gateway asks).</li>
 * <li>A CIDR that does not parse (the CRD's {@code isCIDR} rule was bypassed, or an IPv4-mapped IPv6 address)
 * is read as both whole families, fenced on its ports. A port entry out of range or without a port fences
 * the entry on every port.</li>
 * <li>A CNI plugin that ignores {@code endPort} applies only {@code port}: it allows less, never more.</li>
 * </ul>
 *
 * <p>
 * What the fence cannot do:
 * <ul>
 * <li>NetworkPolicies add up: another policy selecting the same pods that allows egress to a gateway (an
 * allow-all-egress policy, say) reopens it. For a fence nobody in the namespace can undo, use a cluster
 * policy of the CNI or AdminNetworkPolicy.</li>
 * <li>Nothing is enforced without a CNI plugin that implements NetworkPolicy.</li>
 * <li>{@code ipBlock} is meant for cluster-external addresses. Some plugins (Cilium) never match pod IPs with
 * it, so there the fence also blocks in-cluster destinations, cluster DNS included: allow those with a
 * NetworkPolicy of your own that selects the pods by label. A gateway running in the cluster is best fenced
 * by its pods' labels, which this fence does not do.</li>
 * <li>DNS keeps working unless a gateway covers the resolver: then DNS is fenced like any other traffic
 * to that address, which is the user's choice.</li>
 * <li>The pod selector is the policy label, whose value is the policy name: like every other use of that
 * label it needs a name of at most 63 characters, or the API server refuses the fence.</li>
 * </ul>
 *
 * <p>
 * CIDRs are written in canonical form (host bits cleared, IPv6 in RFC 5952 text): since Kubernetes 1.36
 * (StrictIPCIDRValidation) the API server refuses a CIDR with host bits set, and it warns on other
 * non-canonical forms.
 */
public final class EgressFence {
    static final String SUFFIX = "-egress-fence";
    private static final int MAX_NAME = 253;
    private static final int HASH_CHARS = 10;
    private static final int MAX_PORT = 65535;

    private EgressFence() {
    }

    /** The fence for this policy, or empty when it names no gateway. */
    public static Optional<NetworkPolicy> fence(ExecutionPolicy policy) {
        List<EgressTarget> gateways = policy.getSpec() == null ? null : policy.getSpec().liveEgress;
        if (gateways == null || gateways.stream().allMatch(g -> g == null)) {
            return Optional.empty();
        }
        List<Region> regions = regions(gateways);
        ObjectMeta meta = policy.getMetadata();
        String policyName = meta.getName();

        List<NetworkPolicyEgressRule> rules = new ArrayList<>();
        List<NetworkPolicyPeer> everywhere = new ArrayList<>();
        for (Family family : Family.values()) {
            List<Cidr> outermost = regions.stream()
                    .filter(r -> r.cidr.family == family && r.parent == null)
                    .map(r -> r.cidr)
                    .toList();
            if (outermost.stream().noneMatch(c -> c.prefix == 0)) {
                everywhere.add(peer(family.all(), outermost));
            }
        }
        if (!everywhere.isEmpty()) {
            rules.add(new NetworkPolicyEgressRule(new ArrayList<>(), everywhere));
        }
        // One rule per distinct set of open ports keeps the object small and its order deterministic.
        Map<List<NetworkPolicyPort>, List<NetworkPolicyPeer>> byPorts = new LinkedHashMap<>();
        for (Region r : regions) {
            if (r.effective.all) {
                continue;
            }
            List<NetworkPolicyPort> open = r.effective.complement();
            if (open.isEmpty()) {
                continue; // an empty port list would mean every port
            }
            List<Cidr> nested = regions.stream().filter(c -> c.parent == r).map(c -> c.cidr).toList();
            byPorts.computeIfAbsent(open, k -> new ArrayList<>()).add(peer(r.cidr, nested));
        }
        byPorts.forEach((ports, peers) -> rules.add(new NetworkPolicyEgressRule(ports, peers)));

        Map<String, String> labels = new TreeMap<>();
        labels.put(MetadataNames.MANAGED_BY_LABEL, MetadataNames.MANAGED_BY);
        labels.put(MetadataNames.POLICY_LABEL, policyName);
        return Optional.of(new NetworkPolicyBuilder()
                .withNewMetadata()
                .withName(name(policyName))
                .withNamespace(meta.getNamespace())
                .withLabels(labels)
                .withOwnerReferences(new OwnerReferenceBuilder()
                        .withApiVersion(HasMetadata.getApiVersion(ExecutionPolicy.class))
                        .withKind(HasMetadata.getKind(ExecutionPolicy.class))
                        .withName(policyName)
                        .withUid(meta.getUid())
                        .withController(true)
                        .withBlockOwnerDeletion(false)
                        .build())
                .endMetadata()
                .withNewSpec()
                .withNewPodSelector()
                .withMatchLabels(Map.of(MetadataNames.POLICY_LABEL, policyName))
                .endPodSelector()
                .withPolicyTypes("Egress")
                .withEgress(rules)
                .endSpec()
                .build());
    }

    /**
     * {@code <policy>-egress-fence}; a name that would pass 253 characters is cut and given a hash of the
     * whole policy name, so two long names sharing a prefix still get different fences.
     */
    public static String name(String policyName) {
        String whole = policyName + SUFFIX;
        if (whole.length() <= MAX_NAME) {
            return whole;
        }
        String hash = sha256(policyName).substring(0, HASH_CHARS);
        String head = policyName.substring(0, MAX_NAME - SUFFIX.length() - HASH_CHARS - 1)
                .replaceAll("[-.]+$", ""); // a DNS label may not end in '-' and '.-' is no label
        return head + "-" + hash + SUFFIX;
    }

    // ------------------------------------------------------------------ regions

    /** A distinct gateway CIDR, the CIDR it is nested in, and the ports fenced at its addresses. */
    private static final class Region {
        final Cidr cidr;
        final Fenced own = new Fenced();
        Region parent;
        Fenced effective;

        Region(Cidr cidr) {
            this.cidr = cidr;
        }
    }

    /** Every distinct gateway CIDR, outer before inner, each knowing its parent and its effective fence. */
    private static List<Region> regions(List<EgressTarget> gateways) {
        Map<Cidr, Region> byCidr = new TreeMap<>(Cidr.ORDER);
        for (EgressTarget g : gateways) {
            if (g == null) {
                continue;
            }
            Fenced fenced = Fenced.of(g.ports);
            List<Cidr> cidrs = Cidr.parse(g.cidr)
                    .map(List::of)
                    .orElseGet(() -> List.of(Family.V4.all(), Family.V6.all())); // unreadable: assume everything
            for (Cidr c : cidrs) {
                byCidr.computeIfAbsent(c, Region::new).own.add(fenced);
            }
        }
        List<Region> regions = new ArrayList<>(byCidr.values()); // shorter prefixes first
        for (int i = 0; i < regions.size(); i++) {
            Region r = regions.get(i);
            for (int j = i - 1; j >= 0; j--) {
                Region outer = regions.get(j);
                if (outer.cidr.prefix < r.cidr.prefix && outer.cidr.contains(r.cidr)
                        && (r.parent == null || outer.cidr.prefix > r.parent.cidr.prefix)) {
                    r.parent = outer;
                }
            }
            r.effective = new Fenced();
            r.effective.add(r.own);
            if (r.parent != null) {
                r.effective.add(r.parent.effective);
            }
        }
        return regions;
    }

    private static NetworkPolicyPeer peer(Cidr cidr, List<Cidr> except) {
        return new NetworkPolicyPeerBuilder()
                .withIpBlock(new IPBlock(cidr.toString(),
                        new ArrayList<>(except.stream().sorted(Cidr.BY_ADDRESS).map(Cidr::toString).toList())))
                .build();
    }

    // ------------------------------------------------------------------ ports

    /** The ports fenced at some addresses: every port of every protocol, or listed ports per protocol. */
    private static final class Fenced {
        boolean all;
        final Map<Protocol, TreeSet<Integer>> ports = new EnumMap<>(Protocol.class);

        static Fenced of(List<EgressPort> listed) {
            Fenced f = new Fenced();
            if (listed == null || listed.isEmpty()) {
                f.all = true;
                return f;
            }
            for (EgressPort p : listed) {
                if (p == null || p.port == null || p.port < 1 || p.port > MAX_PORT) {
                    f.all = true; // bypassed validation: fence the whole entry rather than guess
                    return f;
                }
                f.ports.computeIfAbsent(p.protocol == null ? Defaults.EGRESS_PROTOCOL : p.protocol, k -> new TreeSet<>()).add(p.port);
            }
            return f;
        }

        void add(Fenced other) {
            all |= other.all;
            other.ports.forEach((protocol, set) -> ports.computeIfAbsent(protocol, k -> new TreeSet<>()).addAll(set));
        }

        /** Every port not fenced, as port/endPort ranges; a protocol with nothing fenced is open whole. */
        List<NetworkPolicyPort> complement() {
            List<NetworkPolicyPort> open = new ArrayList<>();
            for (Protocol protocol : Protocol.values()) {
                TreeSet<Integer> fenced = ports.get(protocol);
                if (fenced == null || fenced.isEmpty()) {
                    open.add(new NetworkPolicyPort(null, null, protocol.name()));
                    continue;
                }
                int next = 1;
                for (int port : fenced) {
                    if (port > next) {
                        open.add(range(protocol, next, port - 1));
                    }
                    next = port + 1;
                }
                if (next <= MAX_PORT) {
                    open.add(range(protocol, next, MAX_PORT));
                }
            }
            return open;
        }

        private static NetworkPolicyPort range(Protocol protocol, int from, int to) {
            return new NetworkPolicyPort(to > from ? to : null, new IntOrString(from), protocol.name());
        }
    }

    // ------------------------------------------------------------------ addresses

    enum Family {
        V4(32), V6(128);

        final int bits;

        Family(int bits) {
            this.bits = bits;
        }

        Cidr all() {
            return new Cidr(this, BigInteger.ZERO, 0);
        }
    }

    /** A CIDR with its host bits cleared, printed in canonical form. */
    record Cidr(Family family, BigInteger base, int prefix) {
        /** Outer before inner: a CIDR's parent always comes first. */
        static final Comparator<Cidr> ORDER = Comparator.comparing(Cidr::family)
                .thenComparingInt(Cidr::prefix)
                .thenComparing(Cidr::base);
        /** How except lists are written: by address, as a reader scans them. */
        static final Comparator<Cidr> BY_ADDRESS = Comparator.comparing(Cidr::family)
                .thenComparing(Cidr::base)
                .thenComparingInt(Cidr::prefix);

        boolean contains(Cidr other) {
            return family == other.family && other.prefix >= prefix && masked(other.base, prefix, family).equals(base);
        }

        /**
         * Parses what Go's {@code netip.ParsePrefix} (the CRD's {@code isCIDR}) accepts, clearing host bits.
         * Empty for anything else, including IPv4-mapped IPv6 addresses, which {@code isCIDR} refuses too.
         */
        static Optional<Cidr> parse(String text) {
            if (text == null) {
                return Optional.empty();
            }
            String s = text.strip();
            int slash = s.indexOf('/');
            if (slash < 0 || slash != s.lastIndexOf('/')) {
                return Optional.empty();
            }
            String bitsText = s.substring(slash + 1);
            if (bitsText.isEmpty() || bitsText.length() > 3 || !bitsText.chars().allMatch(ch -> ch >= '0' && ch <= '9')) {
                return Optional.empty();
            }
            int prefix = Integer.parseInt(bitsText);
            String address = s.substring(0, slash);
            Family family = address.indexOf(':') >= 0 ? Family.V6 : Family.V4;
            BigInteger value = family == Family.V4 ? parseV4(address) : parseV6(address);
            if (value == null || prefix > family.bits) {
                return Optional.empty();
            }
            if (family == Family.V6 && value.shiftRight(32).equals(BigInteger.valueOf(0xffff))) {
                return Optional.empty(); // ::ffff:a.b.c.d
            }
            return Optional.of(new Cidr(family, masked(value, prefix, family), prefix));
        }

        private static BigInteger masked(BigInteger value, int prefix, Family family) {
            int host = family.bits - prefix;
            return value.shiftRight(host).shiftLeft(host);
        }

        private static BigInteger parseV4(String s) {
            String[] parts = s.split("\\.", -1);
            if (parts.length != 4) {
                return null;
            }
            long v = 0;
            for (String p : parts) {
                if (p.isEmpty() || p.length() > 3 || (p.length() > 1 && p.charAt(0) == '0')
                        || !p.chars().allMatch(ch -> ch >= '0' && ch <= '9')) {
                    return null; // leading zeros are ambiguous (octal?): refused like netip does
                }
                int octet = Integer.parseInt(p);
                if (octet > 255) {
                    return null;
                }
                v = (v << 8) | octet;
            }
            return BigInteger.valueOf(v);
        }

        private static BigInteger parseV6(String s) {
            int gap = s.indexOf("::");
            if (gap >= 0 && s.indexOf("::", gap + 1) >= 0) {
                return null;
            }
            List<Integer> head = gap >= 0 ? groups(s.substring(0, gap), false) : groups(s, true);
            List<Integer> tail = gap >= 0 ? groups(s.substring(gap + 2), true) : List.of();
            if (head == null || tail == null) {
                return null;
            }
            int present = head.size() + tail.size();
            if (gap < 0 ? present != 8 : present > 7) {
                return null;
            }
            BigInteger v = BigInteger.ZERO;
            for (int g : head) {
                v = v.shiftLeft(16).or(BigInteger.valueOf(g));
            }
            v = v.shiftLeft(16 * (8 - present));
            for (int g : tail) {
                v = v.shiftLeft(16).or(BigInteger.valueOf(g));
            }
            return v;
        }

        /** 16-bit groups of one side of a {@code ::}; a dotted IPv4 tail counts as two. */
        private static List<Integer> groups(String part, boolean last) {
            List<Integer> out = new ArrayList<>();
            if (part.isEmpty()) {
                return out;
            }
            String[] pieces = part.split(":", -1);
            for (int i = 0; i < pieces.length; i++) {
                String p = pieces[i];
                if (last && i == pieces.length - 1 && p.indexOf('.') >= 0) {
                    BigInteger v4 = parseV4(p);
                    if (v4 == null) {
                        return null;
                    }
                    out.add(v4.intValue() >>> 16);
                    out.add(v4.intValue() & 0xffff);
                    continue;
                }
                if (p.isEmpty() || p.length() > 4 || !p.chars().allMatch(ch -> Character.digit(ch, 16) >= 0 && ch < 128)) {
                    return null;
                }
                out.add(Integer.parseInt(p, 16));
            }
            return out.size() > 8 ? null : out;
        }

        /** IPv4 dotted quad; IPv6 as RFC 5952 (lower case, longest run of two or more zero groups as ::). */
        @Override
        public String toString() {
            if (family == Family.V4) {
                long v = base.longValue();
                return (v >>> 24 & 255) + "." + (v >>> 16 & 255) + "." + (v >>> 8 & 255) + "." + (v & 255) + "/" + prefix;
            }
            int[] g = new int[8];
            for (int i = 0; i < 8; i++) {
                g[i] = base.shiftRight(16 * (7 - i)).intValue() & 0xffff;
            }
            int bestStart = -1;
            int bestLength = 1;
            for (int i = 0; i < 8;) {
                if (g[i] != 0) {
                    i++;
                    continue;
                }
                int j = i;
                while (j < 8 && g[j] == 0) {
                    j++;
                }
                if (j - i > bestLength) {
                    bestStart = i;
                    bestLength = j - i;
                }
                i = j;
            }
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < 8; i++) {
                if (i == bestStart) {
                    b.append("::");
                    i += bestLength - 1;
                    continue;
                }
                if (b.length() > 0 && b.charAt(b.length() - 1) != ':') {
                    b.append(':');
                }
                b.append(Integer.toHexString(g[i]));
            }
            return b.append('/').append(prefix).toString();
        }
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
