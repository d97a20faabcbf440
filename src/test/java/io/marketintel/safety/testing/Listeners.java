package io.marketintel.safety.testing;

import java.io.IOException;
import java.math.BigInteger;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The TCP sockets a process listens on, read from Linux's /proc: a local run and the tests must listen on loopback
 * only (etcd without authentication, kube-apiserver, the operator's metrics), never on an address another machine
 * can reach.
 */
public final class Listeners {
    private static final String LISTEN = "0A";

    private Listeners() {
    }

    /** A TCP port of the loopback address that nothing listens on now, for a server a test starts. */
    public static int freeLoopbackPort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Every listening TCP socket of {@code pid}, as "address:port". */
    public static List<String> of(long pid) {
        Set<String> inodes = socketInodes(pid);
        List<String> listening = new ArrayList<>();
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            try {
                for (String line : Files.readAllLines(Path.of(table)).stream().skip(1).toList()) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length > 9 && LISTEN.equals(f[3]) && inodes.contains(f[9])) {
                        listening.add(address(f[1]));
                    }
                }
            } catch (IOException e) {
                throw new IllegalStateException("cannot read " + table, e);
            }
        }
        return listening;
    }

    /** Those of {@link #of} that are not on a loopback address. */
    public static List<String> beyondLoopback(long pid) {
        return of(pid).stream().filter(a -> !isLoopback(a)).toList();
    }

    static boolean isLoopback(String addressAndPort) {
        String host = addressAndPort.substring(0, addressAndPort.lastIndexOf(':'));
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private static Set<String> socketInodes(long pid) {
        Set<String> inodes = new HashSet<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : fds) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        inodes.add(target.substring(8, target.length() - 1));
                    }
                } catch (IOException closedMeanwhile) {
                    // the descriptor was closed between the listing and the read
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list the descriptors of process " + pid, e);
        }
        return inodes;
    }

    /** /proc/net/tcp's "0100007F:1F90" (little-endian words) as "127.0.0.1:8080". */
    static String address(String hexAddressAndPort) {
        String[] parts = hexAddressAndPort.split(":");
        byte[] raw = new BigInteger("1" + parts[0], 16).toByteArray();
        byte[] bytes = new byte[parts[0].length() / 2];
        System.arraycopy(raw, raw.length - bytes.length, bytes, 0, bytes.length);
        for (int word = 0; word < bytes.length; word += 4) { // each 32-bit word is in host (little-endian) order
            for (int i = 0; i < 2; i++) {
                byte b = bytes[word + i];
                bytes[word + i] = bytes[word + 3 - i];
                bytes[word + 3 - i] = b;
            }
        }
        try {
            InetAddress address = InetAddress.getByAddress(bytes); // an IPv4-mapped IPv6 address comes back as IPv4
            String host = address instanceof Inet6Address ? "[" + address.getHostAddress() + "]" : address.getHostAddress();
            return host + ":" + Integer.parseInt(parts[1], 16);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(hexAddressAndPort, e);
        }
    }
}
