package io.marketintel.safety.http;

import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;

/** The one shape of every outbound call the operator makes (Http guard, cancel-orders hook). */
public final class JsonPost {
    public static final String USER_AGENT = "execution-safety-operator";

    private JsonPost() {
    }

    /** POST {@code body} as JSON to {@code uri}, bounded by {@code timeout}. */
    public static HttpRequest of(URI uri, Duration timeout, byte[] body) {
        return HttpRequest.newBuilder(uri)
                .timeout(timeout)
                .header("Content-Type", "application/json")
                .header("Accept", "application/json")
                .header("User-Agent", USER_AGENT)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
    }
}
