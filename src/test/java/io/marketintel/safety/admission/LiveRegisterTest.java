package io.marketintel.safety.admission;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** The pure part of the Namespace's register of Live policies: one name in or out, nobody else's name lost. */
class LiveRegisterTest {

    @Test
    void addsAndRemovesOneNameKeepingTheListSorted() {
        assertThat(LiveRegister.updated("", "momentum", true)).contains("momentum");
        assertThat(LiveRegister.updated(null, "momentum", true)).contains("momentum");
        assertThat(LiveRegister.updated("momentum", "arbitrage", true)).contains("arbitrage,momentum");
        assertThat(LiveRegister.updated("arbitrage,momentum", "momentum", true)).isEmpty(); // already there: no write
        assertThat(LiveRegister.updated("arbitrage,momentum", "arbitrage", false)).contains("momentum");
        assertThat(LiveRegister.updated("momentum", "momentum", false)).contains(""); // "": the annotation goes
        assertThat(LiveRegister.updated("momentum", "fx", false)).isEmpty();
        // Written by hand with blanks: read leniently, written back clean.
        assertThat(LiveRegister.names(" momentum,, fx ")).containsExactly("fx", "momentum");
    }

    @Test
    void theLaterCopyOfTheNamespaceIsBelieved() {
        Namespace older = namespace("10", "");
        Namespace newer = namespace("12", "momentum");
        assertThat(LiveRegister.newer(Optional.of(older), Optional.of(newer))).contains(newer);
        assertThat(LiveRegister.newer(Optional.of(newer), Optional.of(older))).contains(newer);
        assertThat(LiveRegister.newer(Optional.empty(), Optional.of(older))).contains(older);
        assertThat(LiveRegister.newer(Optional.of(older), Optional.empty())).contains(older);
        // Not comparable: neither, so the API server is asked.
        assertThat(LiveRegister.newer(Optional.of(namespace("x", "")), Optional.of(newer))).isEmpty();
        assertThat(LiveRegister.value(newer)).isEqualTo("momentum");
        assertThat(LiveRegister.value(new NamespaceBuilder().withNewMetadata().withName("n").endMetadata().build())).isEmpty();
    }

    @Property
    void oneWriteChangesOnlyItsOwnName(@ForAll("registers") List<String> names, @ForAll("policies") String policy,
            @ForAll boolean live) {
        String current = String.join(",", names);
        String after = LiveRegister.updated(current, policy, live).orElse(current);
        TreeSet<String> expected = new TreeSet<>(names);
        if (live) {
            expected.add(policy);
        } else {
            expected.remove(policy);
        }
        assertThat(LiveRegister.names(after)).containsExactlyElementsOf(expected);
        // Written in order, so two operators computing the same register write the same text.
        assertThat(after).isEqualTo(String.join(",", LiveRegister.names(after)));
        // A write is asked for exactly when the name's presence changes.
        assertThat(LiveRegister.updated(current, policy, live).isPresent()).isEqualTo(names.contains(policy) != live);
    }

    @Test
    void anEnvVarEntryIsKeptOnlyForAPolicyThatNamesItsOwn() {
        assertThat(LiveRegister.updatedEnvVars("", "fx", "TRADING_MODE")).contains("fx=TRADING_MODE");
        assertThat(LiveRegister.updatedEnvVars("fx=TRADING_MODE", "fx", "TRADING_MODE")).isEmpty(); // already there
        assertThat(LiveRegister.updatedEnvVars("fx=TRADING_MODE", "fx", "MODE")).contains("fx=MODE");
        assertThat(LiveRegister.updatedEnvVars("fx=TRADING_MODE", "fx", "EXECUTION_MODE")).contains(""); // the default: none
        assertThat(LiveRegister.updatedEnvVars("fx=TRADING_MODE", "fx", null)).contains("");
        assertThat(LiveRegister.updatedEnvVars("", "momentum", "EXECUTION_MODE")).isEmpty();
        assertThat(LiveRegister.updatedEnvVars("fx=A", "arbitrage", "B")).contains("arbitrage=B,fx=A");
        assertThat(LiveRegister.envVars("fx=A,,broken,=B,m=")).containsOnlyKeys("fx");
        // Entries of policies gone from the namespace go with the next write of any policy there.
        assertThat(LiveRegister.updatedEnvVars("fx=A,gone=B", "momentum", null, Set.of("fx", "momentum")::contains)).contains("fx=A");
        assertThat(LiveRegister.updatedEnvVars("fx=A", "momentum", null, Set.of("fx", "momentum")::contains)).isEmpty();
        assertThat(LiveRegister.updatedEnvVars("fx=A", "fx", "A", Set.<String> of()::contains)).isEmpty(); // its own entry stays
    }

    @Property
    void oneEnvVarWriteChangesOnlyItsOwnEntry(@ForAll("envVarRegisters") Map<String, String> entries,
            @ForAll("policies") String policy, @ForAll("envVarNames") String envVar) {
        String current = String.join(",", new TreeMap<>(entries).entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList());
        String after = LiveRegister.updatedEnvVars(current, policy, envVar).orElse(current);
        TreeMap<String, String> expected = new TreeMap<>(entries);
        if (envVar.equals("EXECUTION_MODE")) {
            expected.remove(policy);
        } else {
            expected.put(policy, envVar);
        }
        assertThat(LiveRegister.envVars(after)).isEqualTo(expected);
        assertThat(LiveRegister.updatedEnvVars(current, policy, envVar).isPresent()).isEqualTo(!expected.equals(new TreeMap<>(entries)));
    }

    @Provide
    Arbitrary<String> envVarNames() {
        return Arbitraries.of("EXECUTION_MODE", "TRADING_MODE", "MODE");
    }

    @Provide
    Arbitrary<Map<String, String>> envVarRegisters() {
        return Arbitraries.maps(policies(), Arbitraries.of("TRADING_MODE", "MODE")).ofMaxSize(4);
    }

    @Provide
    Arbitrary<String> policies() {
        return Arbitraries.of("momentum", "arbitrage", "fx", "m", "momentum-2");
    }

    @Provide
    Arbitrary<List<String>> registers() {
        return policies().set().ofMaxSize(5).map(set -> List.copyOf(new TreeSet<>(set)));
    }

    private static Namespace namespace(String resourceVersion, String register) {
        return new NamespaceBuilder().withNewMetadata().withName("n").withResourceVersion(resourceVersion)
                .addToAnnotations("safety.marketintel.io/live-policies", register).endMetadata().build();
    }
}
