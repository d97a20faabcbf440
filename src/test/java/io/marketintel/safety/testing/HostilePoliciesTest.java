package io.marketintel.safety.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.marketintel.safety.testing.HostilePolicies.Expect;
import io.marketintel.safety.testing.HostilePolicies.HostileInput;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** The fuzz generators themselves: every input is one JSON object, and what must happen to it is checkable. */
class HostilePoliciesTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @Provide
    Arbitrary<HostileInput> inputs() {
        return HostilePolicies.inputs();
    }

    @Property(tries = 300)
    void everyInputIsAPolicyObjectWithACheckableExpectation(@ForAll("inputs") HostileInput in) throws Exception {
        Map<?, ?> parsed = JSON.readValue(in.json("fz-1", "ns"), Map.class);
        assertThat(parsed.get("kind")).isEqualTo("ExecutionPolicy");
        assertThat(((Map<?, ?>) parsed.get("metadata")).get("name")).isEqualTo("fz-1");
        if (in.expect() != Expect.ACCEPT) {
            assertThat(in.phrases()).as("a refusal must be recognisable: %s", in).isNotEmpty().allMatch(p -> !p.isBlank());
        }
    }

    @org.junit.jupiter.api.Test
    void theSampleIsReproducibleFromItsSeed() {
        assertThat(HostilePolicies.sample(42, 50).toString()).isEqualTo(HostilePolicies.sample(42, 50).toString());
        assertThat(HostilePolicies.sample(42, 50).toString()).isNotEqualTo(HostilePolicies.sample(43, 50).toString());
    }
}
