package io.marketintel.safety.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

/**
 * Every file of the e2e suites is YAML chainsaw can load, checked in the unit tier: a suite chainsaw cannot parse
 * fails the whole e2e tier only after a full integration run (a ': ' inside a plain JMESPath key did, once).
 */
class ChainsawSuitesSyntaxTest {
    static Stream<Path> suites() throws Exception {
        try (Stream<Path> files = Files.walk(Path.of("e2e"))) {
            List<Path> yaml = files.filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml")).sorted().toList();
            assertThat(yaml).isNotEmpty();
            return yaml.stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("suites")
    void parses(Path suite) {
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        assertThatCode(() -> {
            try (JsonParser parser = yaml.getFactory().createParser(suite.toFile());
                    MappingIterator<Object> documents = yaml.readValues(parser, Object.class)) {
                assertThat(documents.readAll()).as("documents in %s", suite).isNotEmpty();
            }
        }).as("%s", suite).doesNotThrowAnyException();
    }
}
