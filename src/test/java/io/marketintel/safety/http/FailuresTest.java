package io.marketintel.safety.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.ProtocolException;
import java.net.UnknownHostException;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;

import javax.net.ssl.SSLHandshakeException;

import org.junit.jupiter.api.Test;

/** A failed call in words from a fixed vocabulary: an exception's message (which may carry what the other end sent) never shows. */
class FailuresTest {
    static final String SENT = "-ERR internal-token-7f3a";
    static final Duration T = Duration.ofMillis(1500);

    @Test
    void eachKindOfFailureHasItsWords() {
        assertThat(Failures.describe(new HttpConnectTimeoutException(SENT), T)).isEqualTo("connect timed out after 1500ms");
        assertThat(Failures.describe(new HttpTimeoutException(SENT), Duration.ofSeconds(2))).isEqualTo("no reply within 2s");
        assertThat(Failures.describe(new ConnectException(SENT), T)).isEqualTo("connection refused");
        var unresolved = new ConnectException();
        unresolved.initCause(new UnresolvedAddressException());
        assertThat(Failures.describe(unresolved, T)).isEqualTo("name not resolved");
        assertThat(Failures.describe(new UnknownHostException(SENT), T)).isEqualTo("name not resolved");
        assertThat(Failures.describe(new NoRouteToHostException(SENT), T)).isEqualTo("no route to host");
        assertThat(Failures.describe(new SSLHandshakeException(SENT), T)).isEqualTo("TLS failed (SSLHandshakeException)");
        assertThat(Failures.describe(new ProtocolException("Invalid status line: \"" + SENT + "\""), T)).isEqualTo("not an HTTP reply");
        assertThat(Failures.describe(new IOException(SENT), T)).isEqualTo("IOException");
        assertThat(Failures.describe(null, T)).isEqualTo("failed");
    }
}
