package io.marketintel.safety.http;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

import io.marketintel.safety.api.v1alpha1.ExecutionSafety;
import io.marketintel.safety.api.v1alpha1.ExecutionSafetySpec;

/**
 * Where the operator may send a request on a team's behalf (an Http guard's {@code http.url}, a pod's cancel-orders
 * endpoint): only to a destination a cluster administrator listed in {@code ExecutionSafety/global}
 * {@code spec.allowedDestinations}. Without that object, or without the list, nothing is allowed.
 *
 * <p>
 * Pure: it reads no cluster and never resolves a name. A URL whose host is an IP literal is allowed when a
 * {@code cidr} entry contains the address; a URL whose host is a DNS name is allowed when a {@code host} entry
 * names it exactly, or as {@code *.suffix} (one label or more before {@code .suffix}; never the suffix itself), both
 * case-insensitive. A name is never matched against a {@code cidr}, nor an address against a {@code host}. The
 * entry's {@code ports}, when given, must contain the URL's port (the scheme's default, 80 or 443, when it names
 * none). A host that is neither a DNS name nor a canonical address (such as {@code 127.1} or {@code 0x7f.0.0.1},
 * which the JDK might read as an address) is never allowed.
 */
public final class AllowedDestinations {
    /** Where the list lives, as messages name it. */
    public static final String WHERE = "ExecutionSafety/global spec.allowedDestinations";

    private static final Pattern IPV4 = Pattern.compile("^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
            + "(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$");
    private static final Pattern LABEL = Pattern.compile("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
    private static final Pattern NUMERIC_LABEL = Pattern.compile("^([0-9]+|0x[0-9a-f]*)$");

    private final boolean globalExists;
    private final List<Entry> entries;

    private record Entry(String host, byte[] network, int prefix, List<Integer> ports) {
        boolean port(int port) {
            return ports == null || ports.isEmpty() || ports.contains(port);
        }
    }

    private AllowedDestinations(boolean globalExists, List<Entry> entries) {
        this.globalExists = globalExists;
        this.entries = entries;
    }

    /** The list in {@code ExecutionSafety/global}, or nothing allowed when it does not exist. */
    public static AllowedDestinations of(Optional<ExecutionSafety> global) {
        if (global == null || global.isEmpty()) {
            return new AllowedDestinations(false, List.of());
        }
        ExecutionSafetySpec spec = global.get().getSpec();
        return of(spec == null ? null : spec.allowedDestinations);
    }

    /** These entries (null: none). An entry that is not well formed allows nothing (the API server refuses such). */
    public static AllowedDestinations of(List<ExecutionSafetySpec.AllowedDestination> list) {
        List<Entry> entries = new ArrayList<>();
        if (list != null) {
            for (ExecutionSafetySpec.AllowedDestination d : list) {
                entry(d).ifPresent(entries::add);
            }
        }
        return new AllowedDestinations(true, List.copyOf(entries));
    }

    /** Whether a request to {@code uri} may be sent. */
    public boolean allows(URI uri) {
        return refusal(uri).isEmpty();
    }

    /**
     * Empty when a request to {@code uri} may be sent; otherwise why not, as the end of a sentence that begins
     * "{@code <url> is not an allowed destination: }". Never names anything the URL does not already show.
     */
    public Optional<String> refusal(URI uri) {
        if (uri == null || uri.getHost() == null || uri.getScheme() == null) {
            return Optional.of("not an absolute URL with a host");
        }
        String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
        int port = uri.getPort();
        if (port == -1) {
            if (scheme.equals("http")) {
                port = 80;
            } else if (scheme.equals("https")) {
                port = 443;
            } else {
                return Optional.of("only http and https are called");
            }
        } else if (!scheme.equals("http") && !scheme.equals("https")) {
            return Optional.of("only http and https are called");
        }
        String host = uri.getHost();
        Optional<byte[]> address;
        try {
            address = literal(host);
        } catch (IllegalArgumentException e) {
            return Optional.of(e.getMessage());
        }
        String name = address.isPresent() ? null : host.toLowerCase(Locale.ROOT);
        if (name != null && !dnsName(name)) {
            return Optional.of("host " + host + " is neither a DNS name nor a canonical IP address");
        }
        String shown = address.isPresent() ? bare(host) : name;
        if (!globalExists) {
            return Optional.of("ExecutionSafety/global does not exist, so nothing is allowed (a cluster administrator creates it"
                    + " and lists " + shown + " port " + port + " in spec.allowedDestinations)");
        }
        for (Entry e : entries) {
            boolean matches = address.isPresent()
                    ? e.network() != null && contains(e.network(), e.prefix(), address.get())
                    : e.host() != null && hostMatches(e.host(), name);
            if (matches && e.port(port)) {
                return Optional.empty();
            }
        }
        return Optional.of(WHERE + " does not list " + shown + " port " + port + " (a cluster administrator adds it)");
    }

    // ---------------------------------------------------------------- matching

    static boolean hostMatches(String pattern, String name) {
        if (pattern.startsWith("*.")) {
            String suffix = pattern.substring(1); // ".example.com"
            return name.length() > suffix.length() && name.endsWith(suffix);
        }
        return pattern.equals(name);
    }

    static boolean contains(byte[] network, int prefix, byte[] address) {
        if (network.length != address.length) {
            return false;
        }
        int full = prefix / 8;
        for (int i = 0; i < full; i++) {
            if (network[i] != address[i]) {
                return false;
            }
        }
        int rest = prefix % 8;
        if (rest == 0) {
            return true;
        }
        int mask = (0xff << (8 - rest)) & 0xff;
        return (network[full] & mask) == (address[full] & mask);
    }

    // ---------------------------------------------------------------- parsing, never resolving

    private static Optional<Entry> entry(ExecutionSafetySpec.AllowedDestination d) {
        if (d == null || (d.host == null) == (d.cidr == null)) {
            return Optional.empty();
        }
        if (d.ports != null && d.ports.stream().anyMatch(p -> p == null || p < 1 || p > 65535)) {
            return Optional.empty();
        }
        List<Integer> ports = d.ports == null ? null : List.copyOf(d.ports);
        if (d.host != null) {
            String host = d.host.toLowerCase(Locale.ROOT);
            String name = host.startsWith("*.") ? host.substring(2) : host;
            return dnsName(name) ? Optional.of(new Entry(host, null, 0, ports)) : Optional.empty();
        }
        int slash = d.cidr.indexOf('/');
        if (slash < 0) {
            return Optional.empty();
        }
        try {
            Optional<byte[]> network = literal(d.cidr.substring(0, slash));
            int prefix = Integer.parseInt(d.cidr.substring(slash + 1));
            if (network.isEmpty() || prefix < 0 || prefix > network.get().length * 8) {
                return Optional.empty();
            }
            return Optional.of(new Entry(null, network.get(), prefix, ports));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /**
     * The address bytes when {@code host} is an IP literal (an IPv6 one with or without brackets); empty when it is
     * not one; an exception when it looks numeric but is not a canonical literal. An IPv4-mapped IPv6 address is its
     * IPv4 address (where the JDK connects). Never looks up a name.
     */
    static Optional<byte[]> literal(String host) {
        if (IPV4.matcher(host).matches()) {
            try {
                return Optional.of(InetAddress.getByName(host).getAddress()); // a literal: parsed, not resolved
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("host " + host + " is not a canonical IP address");
            }
        }
        if (host.indexOf(':') >= 0) {
            String bracketed = host.startsWith("[") ? host : "[" + host + "]";
            try {
                // URI checks the IPv6 literal's syntax first, so InetAddress only ever parses a literal.
                if (!bracketed.equals(new URI("http://" + bracketed + "/").getHost())) {
                    throw new IllegalArgumentException("host " + host + " is not a canonical IP address");
                }
                return Optional.of(InetAddress.getByName(bracketed).getAddress());
            } catch (URISyntaxException | UnknownHostException e) {
                throw new IllegalArgumentException("host " + host + " is not a canonical IP address");
            }
        }
        return Optional.empty();
    }

    /** Letters, digits, hyphens, dots; no empty label; the last label not numeric (then the JDK may read an address). */
    static boolean dnsName(String name) {
        if (name.isEmpty() || name.length() > 253) {
            return false;
        }
        String[] labels = name.split("\\.", -1);
        for (String label : labels) {
            if (label.length() > 63 || !LABEL.matcher(label).matches()) {
                return false;
            }
        }
        return !NUMERIC_LABEL.matcher(labels[labels.length - 1]).matches();
    }

    private static String bare(String host) {
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }
}
