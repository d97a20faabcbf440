package io.marketintel.safety.admission;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;

import io.marketintel.safety.admission.ReplicaCeilings.Ceiling;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

class ReplicaCeilingsTest {

    private static Ceiling c(String kind, String name, int replicas, String policy, ExecutionMode mode) {
        return new Ceiling(kind, name, replicas, policy, mode);
    }

    @Test
    void anEntryIsWrittenAndReadOneWay() {
        Ceiling live = c("Deployment", "momentum", 2, "momentum", ExecutionMode.LIVE);
        assertThat(live.entry()).isEqualTo("Deployment/momentum=2:momentum:Live");
        assertThat(Ceiling.parse("Deployment/momentum=2:momentum:Live")).contains(live);
        assertThat(Ceiling.parse(" StatefulSet/book=0:fx:DryRun ")).contains(c("StatefulSet", "book", 0, "fx", ExecutionMode.DRY_RUN));
        // What the admission policy would not read either: refused by both.
        for (String bad : List.of("", "Deployment/momentum=x:momentum:Live", "Pod/momentum=1:momentum:Live", "Deployment/momentum=1:momentum",
                "Deployment/momentum=1:momentum:live", "Deployment/a/b=1:p:Live", "Deployment/momentum=-1:momentum:Live",
                "Deployment/momentum=12345678901:momentum:Live")) {
            assertThat(Ceiling.parse(bad)).as(bad).isEmpty();
        }
        assertThatThrownBy(() -> c("Pod", "x", 1, "p", ExecutionMode.LIVE)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> c("Deployment", "x", -1, "p", ExecutionMode.LIVE)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aPolicysEntriesAreReplacedAndTheOthersKept() {
        String register = "Deployment/a=1:alpha:DryRun,Deployment/b=2:beta:Live";
        assertThat(ReplicaCeilings.updated(register, "alpha", List.of(c("Deployment", "a", 1, "alpha", ExecutionMode.DRY_RUN)), null))
                .isEmpty(); // already so: no write
        assertThat(ReplicaCeilings.updated(register, "alpha", List.of(c("Deployment", "a", 3, "alpha", ExecutionMode.LIVE),
                c("StatefulSet", "a2", 0, "alpha", ExecutionMode.LIVE)), null))
                .contains("Deployment/a=3:alpha:Live,Deployment/b=2:beta:Live,StatefulSet/a2=0:alpha:Live");
        assertThat(ReplicaCeilings.updated(register, "alpha", List.of(), null)).contains("Deployment/b=2:beta:Live");
        assertThat(ReplicaCeilings.updated("Deployment/a=1:alpha:DryRun", "alpha", List.of(), null)).contains(""); // "": no annotation
        assertThat(ReplicaCeilings.updated("", "alpha", List.of(), null)).isEmpty();
        assertThat(ReplicaCeilings.updated(null, "alpha", List.of(c("Deployment", "a", 1, "alpha", ExecutionMode.BACKTEST)), null))
                .contains("Deployment/a=1:alpha:Backtest");
        // Entries that do not parse go with any change; the exists predicate drops another policy's.
        assertThat(ReplicaCeilings.updated("junk,Deployment/b=2:beta:Live", "alpha", List.of(), null)).contains("Deployment/b=2:beta:Live");
        assertThat(ReplicaCeilings.updated(register, "alpha", List.of(), p -> !p.equals("beta"))).contains("");
        assertThatThrownBy(() -> ReplicaCeilings.updated(register, "alpha", List.of(c("Deployment", "b", 1, "beta", ExecutionMode.LIVE)), null))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void thePoliciesARegisterNamesAndTheRegisterWithoutSome() {
        String register = "Deployment/a=1:alpha:DryRun,junk,Deployment/b=2:beta:Live,StatefulSet/c=0:alpha:DryRun";
        assertThat(ReplicaCeilings.policies(register)).containsExactly("alpha", "beta");
        assertThat(ReplicaCeilings.policies("")).isEmpty();
        assertThat(ReplicaCeilings.without(register, Set.of("alpha"))).isEqualTo("junk,Deployment/b=2:beta:Live");
        assertThat(ReplicaCeilings.without(register, Set.of())).isEqualTo(register);
        assertThat(ReplicaCeilings.without("Deployment/b=2:beta:Live", Set.of("beta"))).isEmpty();
    }

    /**
     * Whatever the register holds, a policy's update leaves exactly its own set for it and every other policy's entry as it
     * was; and writing the result again changes nothing (a pass that finds it so makes no request).
     */
    @Property
    void anUpdateTouchesOnlyThePolicysOwnEntries(@ForAll("registers") List<Ceiling> before, @ForAll("policies") String policy,
            @ForAll("registers") List<Ceiling> proposed) {
        List<Ceiling> own = proposed.stream().map(x -> c(x.kind(), x.name(), x.replicas(), policy, x.mode())).toList();
        String current = ReplicaCeilings.render(before);
        String after = ReplicaCeilings.updated(current, policy, own, null).orElse(current);
        TreeSet<Ceiling> read = ReplicaCeilings.entries(after);
        assertThat(read.stream().filter(x -> x.policy().equals(policy)).toList()).containsExactlyInAnyOrderElementsOf(new TreeSet<>(own));
        assertThat(read.stream().filter(x -> !x.policy().equals(policy)).toList())
                .containsExactlyInAnyOrderElementsOf(new TreeSet<>(before.stream().filter(x -> !x.policy().equals(policy)).toList()));
        assertThat(ReplicaCeilings.updated(after, policy, own, null)).isEmpty();
        assertThat(Set.copyOf(new ArrayList<>(read))).allMatch(x -> Ceiling.parse(x.entry()).equals(Optional.of(x)));
    }

    @Provide
    Arbitrary<String> policies() {
        return Arbitraries.of("alpha", "beta", "gamma");
    }

    @Provide
    Arbitrary<List<Ceiling>> registers() {
        Arbitrary<Ceiling> one = Combinators.combine(Arbitraries.of("Deployment", "StatefulSet"), Arbitraries.of("a", "b", "c", "d"),
                Arbitraries.integers().between(0, 12), policies(), Arbitraries.of(ExecutionMode.class)).as(Ceiling::new);
        return one.list().ofMaxSize(8);
    }
}
