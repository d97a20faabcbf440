package io.marketintel.safety.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;

import org.junit.jupiter.api.Test;

class ListenersTest {
    @Test
    void readsLinuxAddressesInTheirByteOrder() {
        assertThat(Listeners.address("0100007F:1F90")).isEqualTo("127.0.0.1:8080");
        assertThat(Listeners.address("00000000:0050")).isEqualTo("0.0.0.0:80");
        assertThat(Listeners.address("00000000000000000000000001000000:1F90")).isEqualTo("[0:0:0:0:0:0:0:1]:8080");
        assertThat(Listeners.address("00000000000000000000000000000000:0016")).isEqualTo("[0:0:0:0:0:0:0:0]:22");
        assertThat(Listeners.address("0000000000000000FFFF00000100007F:1F90")).isEqualTo("127.0.0.1:8080");
    }

    @Test
    void loopbackIsTheWhole127RangeAndIpv6One() {
        assertThat(Listeners.isLoopback("127.0.0.1:1")).isTrue();
        assertThat(Listeners.isLoopback("127.0.3.9:1")).isTrue();
        assertThat(Listeners.isLoopback("[0:0:0:0:0:0:0:1]:1")).isTrue();
        assertThat(Listeners.isLoopback("0.0.0.0:1")).isFalse();
        assertThat(Listeners.isLoopback("[0:0:0:0:0:0:0:0]:1")).isFalse();
        assertThat(Listeners.isLoopback("10.1.2.3:1")).isFalse();
    }

    @Test
    void findsThisProcesssOwnSocketsAndTellsWildcardFromLoopback() throws Exception {
        long self = ProcessHandle.current().pid();
        try (ServerSocket loopback = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                ServerSocket everywhere = new ServerSocket(0)) {
            assertThat(Listeners.of(self)).contains("127.0.0.1:" + loopback.getLocalPort());
            assertThat(Listeners.beyondLoopback(self)).anyMatch(a -> a.endsWith(":" + everywhere.getLocalPort()))
                    .noneMatch(a -> a.endsWith(":" + loopback.getLocalPort()));
        }
    }
}
