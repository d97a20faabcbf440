package io.marketintel.safety.monitor;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throw-away PKI made with the openssl binary at test time (BouncyCastle is not on the test classpath): a CA, a
 * server certificate for 127.0.0.1 (RSA), a client certificate (EC P-256, PKCS#8 key), a second CA that signed
 * neither, and the client key in the formats {@link PemTls} refuses. Valid for two days.
 */
final class TestPki {
    final Path dir;

    TestPki(Path dir) throws IOException, InterruptedException {
        this.dir = dir;
        ca("ca");
        ca("other-ca");
        // Server: RSA 2048, named by its IP address (the JDK client checks it).
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=prometheus");
        Files.writeString(dir.resolve("server.ext"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
        sign("server", "server.ext");
        openssl("pkcs12", "-export", "-in", "server.crt", "-inkey", "server.key", "-out", "server.p12", "-passout", "pass:changeit");
        // Client: EC P-256, PKCS#8 as genpkey writes it.
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "client.key");
        openssl("req", "-new", "-key", "client.key", "-out", "client.csr", "-subj", "/CN=execution-safety-operator");
        Files.writeString(dir.resolve("client.ext"), "extendedKeyUsage=clientAuth\n");
        sign("client", "client.ext");
        // The same keys in formats the client refuses.
        openssl("pkey", "-in", "client.key", "-traditional", "-out", "client-sec1.key");
        openssl("pkey", "-in", "server.key", "-traditional", "-out", "server-pkcs1.key");
        openssl("pkcs8", "-topk8", "-in", "client.key", "-passout", "pass:secret", "-out", "client-encrypted.key");
    }

    String pem(String file) throws IOException {
        return Files.readString(dir.resolve(file), StandardCharsets.US_ASCII);
    }

    private void ca(String name) throws IOException, InterruptedException {
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".crt", "-days", "2", "-subj",
                "/CN=" + name, "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
    }

    private void sign(String name, String extensions) throws IOException, InterruptedException {
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", name + ".crt", "-days",
                "2", "-extfile", extensions);
    }

    private void openssl(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Path log = dir.resolve("openssl.log");
        Process p;
        try {
            p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        } catch (IOException e) {
            throw new IllegalStateException("the TLS tests need the openssl binary on PATH (Debian: apt-get install openssl)", e);
        }
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("openssl " + String.join(" ", args) + " did not finish in 60 s");
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException("openssl " + String.join(" ", args) + " failed (" + p.exitValue() + "):\n" + Files.readString(log));
        }
    }
}
