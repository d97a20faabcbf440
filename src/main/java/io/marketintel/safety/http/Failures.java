package io.marketintel.safety.http;

import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.ProtocolException;
import java.net.UnknownHostException;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;

import javax.net.ssl.SSLException;

/**
 * Why an outbound call failed, in words for a condition or an Event, from a fixed vocabulary: a failure's own
 * message is never repeated, since it may carry what the other end sent (the JDK puts a malformed status line into
 * its {@link ProtocolException}, a TLS peer's names into its {@link SSLException}). Only the kind of failure shows.
 */
public final class Failures {

    private Failures() {
    }

    public static String describe(Throwable cause, Duration timeout) {
        if (cause instanceof HttpConnectTimeoutException) {
            return "connect timed out after " + human(timeout);
        }
        if (cause instanceof HttpTimeoutException) {
            return "no reply within " + human(timeout);
        }
        if (cause instanceof ConnectException && cause.getCause() instanceof UnresolvedAddressException) {
            return "name not resolved"; // how the JDK client reports a name it could not resolve
        }
        if (cause instanceof ConnectException) {
            return "connection refused";
        }
        if (cause instanceof NoRouteToHostException) {
            return "no route to host";
        }
        if (cause instanceof UnknownHostException || cause instanceof UnresolvedAddressException) {
            return "name not resolved";
        }
        if (cause instanceof SSLException) {
            return "TLS failed (" + cause.getClass().getSimpleName() + ")";
        }
        if (cause instanceof ProtocolException) {
            return "not an HTTP reply";
        }
        return cause == null ? "failed" : cause.getClass().getSimpleName();
    }

    /** 1500ms → "1500ms", 2000ms → "2s": as people write timeouts. */
    public static String human(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? (ms / 1000) + "s" : ms + "ms";
    }
}
