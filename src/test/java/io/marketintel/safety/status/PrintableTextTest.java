package io.marketintel.safety.status;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Found by HostileInputIT: an emergency-stop reason with U+FFFF made every status write fail (YAML refuses it). */
class PrintableTextTest {

    @Test
    void charactersYamlRefusesAreWrittenAsVisibleEscapes() {
        assertThat(PrintableText.of("stop \uffff now\u007f\u0085\u0090")).isEqualTo("stop \\uffff now\\u007f\u0085\\u0090");
        assertThat(PrintableText.of("lone \ud83d surrogate")).isEqualTo("lone \\ud83d surrogate");
        assertThat(PrintableText.of("\u0000\u001b[31m")).isEqualTo("\\u0000\\u001b[31m");
    }

    @Test
    void everythingElseIsKeptAsIs() {
        String fine = "fat finger 😀 \u202e\u200b ש e\u0301 \t\n\r \ufeff \ufffd";
        assertThat(PrintableText.of(fine)).isSameAs(fine);
        assertThat(PrintableText.of(null)).isNull();
    }

    @Test
    void everyTextInATreeIsFixed() throws Exception {
        ObjectMapper json = new ObjectMapper();
        JsonNode tree = json.readTree("{\"a\":\"x\\uffff\",\"b\":[\"\\u007f\",{\"c\":\"ok\"}],\"n\":1}");
        assertThat(json.writeValueAsString(PrintableText.everywhere(tree)))
                .isEqualTo("{\"a\":\"x\\\\uffff\",\"b\":[\"\\\\u007f\",{\"c\":\"ok\"}],\"n\":1}");
    }
}
