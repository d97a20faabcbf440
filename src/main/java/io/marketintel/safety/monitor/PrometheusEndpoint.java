package io.marketintel.safety.monitor;

import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * Where risk monitors read their values, as a cluster administrator sets it (issue 23: {@code ExecutionSafety/global},
 * its credentials from a Secret; that wiring does not exist yet). Checked when built: a setting that cannot work is an
 * {@link IllegalArgumentException} whose message names the setting, never a credential. The PEM texts are read, and
 * refused the same way, when a {@link PrometheusQuery} is built from the endpoint.
 *
 * @param url               the Prometheus base URL, http or https, without credentials, query or fragment; a path
 *                          prefix (a Prometheus behind {@code --web.route-prefix}) is kept: the query goes to
 *                          {@code <url>/api/v1/query}
 * @param bearerToken       sent as {@code Authorization: Bearer ...}; never logged, never in a message or in
 *                          {@link #toString()}
 * @param clientCertificate a client certificate for mutual TLS (https only)
 * @param caBundlePem       the certificate authorities trusted for the server's certificate, PEM (one or several
 *                          certificates; https only): when given, only these are trusted; without it, the JVM's default
 *                          trust store
 * @param timeout           the longest one query may take, connection and TLS handshake included
 */
public record PrometheusEndpoint(URI url, Optional<String> bearerToken, Optional<ClientCertificate> clientCertificate,
        Optional<String> caBundlePem, Duration timeout) {

    /**
     * A client certificate and its private key, both PEM. The certificate may be followed by its intermediates. The
     * key must be an unencrypted PKCS#8 key ({@code -----BEGIN PRIVATE KEY-----}) of type RSA, EC or Ed25519, as
     * {@code openssl pkcs8 -topk8 -nocrypt} writes it; see {@link PemTls}.
     */
    public record ClientCertificate(String certificatePem, String privateKeyPem) {
        public ClientCertificate {
            Objects.requireNonNull(certificatePem, "certificatePem");
            Objects.requireNonNull(privateKeyPem, "privateKeyPem");
        }

        /** Never the key. */
        @Override
        public String toString() {
            return "ClientCertificate[certificatePem=(" + certificatePem.length() + " chars), privateKeyPem=(hidden)]";
        }
    }

    public PrometheusEndpoint {
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(bearerToken, "bearerToken");
        Objects.requireNonNull(clientCertificate, "clientCertificate");
        Objects.requireNonNull(caBundlePem, "caBundlePem");
        Objects.requireNonNull(timeout, "timeout");
        String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
        if (!(scheme.equals("http") || scheme.equals("https")) || url.getHost() == null) {
            throw new IllegalArgumentException("the Prometheus URL must be an absolute http or https URL with a host");
        }
        if (url.getRawUserInfo() != null) {
            // A password in the URL would show wherever the URL is shown; the token has a field of its own.
            throw new IllegalArgumentException("the Prometheus URL must not carry credentials (use the bearer token or a client certificate)");
        }
        if (url.getRawQuery() != null || url.getRawFragment() != null) {
            // Not shown: a query string may carry a credential.
            throw new IllegalArgumentException("the Prometheus URL must not have a query or a fragment");
        }
        if (!scheme.equals("https") && (clientCertificate.isPresent() || caBundlePem.isPresent())) {
            throw new IllegalArgumentException("a client certificate or a CA bundle needs an https Prometheus URL, not " + display(url));
        }
        if (bearerToken.isPresent() && !bearerToken.get().matches("[\\x21-\\x7e]+")) {
            // RFC 6750 token characters are printable ASCII; a line break would split the header.
            throw new IllegalArgumentException("the bearer token is empty or has characters other than printable ASCII (a trailing newline?)");
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("the Prometheus query timeout must be positive");
        }
    }

    /** Plain http or https with the JVM's trust, no credentials. */
    public static PrometheusEndpoint of(URI url, Duration timeout) {
        return new PrometheusEndpoint(url, Optional.empty(), Optional.empty(), Optional.empty(), timeout);
    }

    public PrometheusEndpoint withBearerToken(String token) {
        return new PrometheusEndpoint(url, Optional.of(token), clientCertificate, caBundlePem, timeout);
    }

    public PrometheusEndpoint withClientCertificate(String certificatePem, String privateKeyPem) {
        return new PrometheusEndpoint(url, bearerToken, Optional.of(new ClientCertificate(certificatePem, privateKeyPem)), caBundlePem,
                timeout);
    }

    public PrometheusEndpoint withCaBundle(String pem) {
        return new PrometheusEndpoint(url, bearerToken, clientCertificate, Optional.of(pem), timeout);
    }

    /** Never the token or the key: this may end up in a log line. */
    @Override
    public String toString() {
        return "PrometheusEndpoint[url=" + display(url) + ", bearerToken=" + (bearerToken.isPresent() ? "(hidden)" : "none")
                + ", clientCertificate=" + (clientCertificate.isPresent() ? "yes" : "none") + ", caBundle="
                + (caBundlePem.isPresent() ? "yes" : "JVM default") + ", timeout=" + timeout + "]";
    }

    /** The URL as messages show it. */
    String display() {
        return display(url);
    }

    private static String display(URI url) {
        return url.getRawUserInfo() == null ? url.toString() : url.getScheme() + "://***@" + url.getHost();
    }
}
