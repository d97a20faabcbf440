package io.marketintel.safety.monitor;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * An {@link SSLContext} from PEM text, with the JDK alone (no BouncyCastle).
 * <ul>
 * <li>Certificates: one or several {@code -----BEGIN CERTIFICATE-----} blocks (X.509).</li>
 * <li>Private key: exactly one unencrypted PKCS#8 block ({@code -----BEGIN PRIVATE KEY-----}) of type RSA, EC or
 * Ed25519/Ed448, matching the first certificate. Refused, each with its own message and the command that converts it:
 * PKCS#1 ({@code BEGIN RSA PRIVATE KEY}), SEC1 ({@code BEGIN EC PRIVATE KEY}), encrypted PKCS#8
 * ({@code BEGIN ENCRYPTED PRIVATE KEY}) and OpenSSH keys. A key that does not belong to the certificate is refused
 * here rather than at the first handshake.</li>
 * </ul>
 * Messages name the kind of problem, never the PEM text or a parser's message (which might quote it).
 */
final class PemTls {
    private static final Pattern BLOCK = Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \\1-----", Pattern.DOTALL);
    private static final String CONVERT = "convert it with `openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pkcs8`";
    /** Protects the in-memory key store only; it is never written anywhere. */
    private static final char[] IN_MEMORY = "in-memory".toCharArray();

    private PemTls() {
    }

    /** A TLS context presenting {@code client} when given and trusting only {@code caBundlePem} when given (else the JVM's trust). */
    static SSLContext context(Optional<PrometheusEndpoint.ClientCertificate> client, Optional<String> caBundlePem) {
        try {
            KeyManagerFactory keys = null;
            if (client.isPresent()) {
                List<X509Certificate> chain = certificates(client.get().certificatePem(), "the client certificate");
                PrivateKey key = privateKey(client.get().privateKeyPem(), chain.get(0));
                KeyStore store = KeyStore.getInstance("PKCS12");
                store.load(null, null);
                store.setKeyEntry("client", key, IN_MEMORY, chain.toArray(new Certificate[0]));
                keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                keys.init(store, IN_MEMORY);
            }
            TrustManagerFactory trust = null;
            if (caBundlePem.isPresent()) {
                KeyStore store = KeyStore.getInstance("PKCS12");
                store.load(null, null);
                int i = 0;
                for (X509Certificate ca : certificates(caBundlePem.get(), "the CA bundle")) {
                    store.setCertificateEntry("ca-" + i++, ca);
                }
                trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                trust.init(store);
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys == null ? null : keys.getKeyManagers(), trust == null ? null : trust.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException("cannot build the TLS context: " + e.getClass().getSimpleName());
        }
    }

    /** The X.509 certificates of {@code pem}, in order; at least one. */
    static List<X509Certificate> certificates(String pem, String what) {
        List<X509Certificate> found = new ArrayList<>();
        Matcher m = BLOCK.matcher(pem);
        CertificateFactory factory;
        try {
            factory = CertificateFactory.getInstance("X.509");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no X.509 certificate factory", e);
        }
        while (m.find()) {
            if (!m.group(1).equals("CERTIFICATE")) {
                continue; // a key or parameters block pasted beside the certificates is not a certificate
            }
            try {
                byte[] der = Base64.getMimeDecoder().decode(m.group(2).strip());
                found.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(der)));
            } catch (IllegalArgumentException | GeneralSecurityException e) {
                throw new IllegalArgumentException(what + ": certificate " + (found.size() + 1) + " is not a valid PEM X.509 certificate");
            }
        }
        if (found.isEmpty()) {
            throw new IllegalArgumentException(what + " has no PEM certificate (-----BEGIN CERTIFICATE-----)");
        }
        return found;
    }

    /** The one unencrypted PKCS#8 key of {@code pem}, checked to belong to {@code certificate}. */
    static PrivateKey privateKey(String pem, X509Certificate certificate) {
        List<String> bodies = new ArrayList<>();
        Matcher m = BLOCK.matcher(pem);
        while (m.find()) {
            switch (m.group(1)) {
                case "PRIVATE KEY" -> bodies.add(m.group(2));
                case "RSA PRIVATE KEY" -> throw new IllegalArgumentException(
                        "the client key is a PKCS#1 RSA key (BEGIN RSA PRIVATE KEY); only unencrypted PKCS#8 is accepted: " + CONVERT);
                case "EC PRIVATE KEY" -> throw new IllegalArgumentException(
                        "the client key is a SEC1 EC key (BEGIN EC PRIVATE KEY); only unencrypted PKCS#8 is accepted: " + CONVERT);
                case "ENCRYPTED PRIVATE KEY" -> throw new IllegalArgumentException(
                        "the client key is encrypted; only unencrypted PKCS#8 is accepted (the Secret protects it): " + CONVERT);
                case "OPENSSH PRIVATE KEY" -> throw new IllegalArgumentException(
                        "the client key is an OpenSSH key; only unencrypted PKCS#8 (BEGIN PRIVATE KEY) is accepted");
                default -> {
                    // EC PARAMETERS and the like: not a key
                }
            }
        }
        if (bodies.size() != 1) {
            throw new IllegalArgumentException("the client key must hold exactly one PEM private key (-----BEGIN PRIVATE KEY-----), found "
                    + bodies.size());
        }
        String algorithm = certificate.getPublicKey().getAlgorithm();
        String family = switch (algorithm) {
            case "RSA" -> "RSA";
            case "EC" -> "EC";
            case "Ed25519", "Ed448", "EdDSA" -> "EdDSA";
            default -> throw new IllegalArgumentException("the client certificate's key type " + algorithm
                    + " is not supported (RSA, EC, Ed25519 or Ed448)");
        };
        PrivateKey key;
        try {
            byte[] der = Base64.getMimeDecoder().decode(bodies.get(0).strip());
            key = KeyFactory.getInstance(family).generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (IllegalArgumentException | GeneralSecurityException e) {
            throw new IllegalArgumentException("the client key is not a valid PKCS#8 " + family + " key (the certificate's key is "
                    + algorithm + ")");
        }
        if (!belongs(key, certificate, family)) {
            throw new IllegalArgumentException("the client key does not belong to the client certificate (the first certificate of the PEM)");
        }
        return key;
    }

    /** Signs a random probe with the key and verifies it with the certificate's public key. */
    private static boolean belongs(PrivateKey key, X509Certificate certificate, String family) {
        String algorithm = switch (family) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> "EdDSA";
        };
        try {
            byte[] probe = new byte[32];
            new SecureRandom().nextBytes(probe);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(certificate.getPublicKey());
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}
