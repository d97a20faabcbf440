package io.marketintel.safety.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/** The samples never make the operator call an outside address: an Http guard points at a Service in the cluster. */
class SamplesTest {
    private static final Pattern URL = Pattern.compile("\\burl:\\s*\"?(https?://[^\"\\s}]+)");

    @Test
    void everyUrlASampleGivesTheOperatorIsInsideTheCluster() throws Exception {
        List<String> urls = new ArrayList<>();
        try (Stream<Path> files = Files.list(Path.of("k8s", "samples"))) {
            for (Path sample : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
                Matcher m = URL.matcher(Files.readString(sample));
                while (m.find()) {
                    urls.add(sample.getFileName() + " " + m.group(1));
                }
            }
        }
        assertThat(urls).as("the samples show an Http guard").isNotEmpty();
        assertThat(urls).allSatisfy(entry -> {
            String host = URI.create(entry.substring(entry.indexOf(' ') + 1)).getHost();
            assertThat(host).as(entry).satisfiesAnyOf(
                    h -> assertThat(h).endsWith(".svc.cluster.local"),
                    h -> assertThat(h).endsWith(".svc"));
        });
    }
}
