package io.marketintel.safety.http;

import java.net.ConnectException;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.time.Duration;

import javax.net.ssl.SSLException;

/** Why an outbound call failed, in words for a condition or an Event (one line, bounded). */
public final class Failures {
    private static final int MAX = 200;

    private Failures() {
    }

    public static String describe(Throwable cause, Duration timeout) {
        if (cause instanceof HttpConnectTimeoutException) {
            return "connect timed out after " + human(timeout);
        }
        if (cause instanceof HttpTimeoutException) {
            return "no reply within " + human(timeout);
        }
        if (cause instanceof ConnectException) {
            return "connection refused";
        }
        if (cause instanceof SSLException) {
            return "TLS failed" + (cause.getMessage() == null ? "" : ": " + bounded(cause.getMessage()));
        }
        String message = cause.getMessage();
        return cause.getClass().getSimpleName() + (message == null || message.isBlank() ? "" : ": " + bounded(message));
    }

    /** 1500ms → "1500ms", 2000ms → "2s": as people write timeouts. */
    public static String human(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? (ms / 1000) + "s" : ms + "ms";
    }

    private static String bounded(String s) {
        String clean = CappedBody.clean(s);
        return clean.length() <= MAX ? clean : clean.substring(0, MAX) + "…";
    }
}
