package io.marketintel.safety.approval;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.marketintel.safety.api.v1alpha1.MetadataNames;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Issue 21, item 2: the digest an approval binds changes exactly when what would run changes: not with the order of
 * fields, absent-versus-empty defaults, or the operator's own fields (policy label, mode annotation, its env entry on
 * every container and init container); always with an image, a command, an env value or a container more.
 */
class TemplateDigestTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String VAR = "EXECUTION_MODE";

    /** A template as plain data; {@link #json} writes it with fields in an order the seed chooses. */
    record Template(Map<String, String> labels, Map<String, String> annotations, List<Container> containers, List<Container> init) {
    }

    record Container(String name, String image, List<String> command, List<Map.Entry<String, String>> env) {
    }

    @Provide
    Arbitrary<Template> templates() {
        Arbitrary<String> word = Arbitraries.strings().withCharRange('a', 'z').ofMinLength(1).ofMaxLength(6);
        Arbitrary<Map.Entry<String, String>> envEntry = Combinators.combine(word.map(String::toUpperCase), word).as(Map::entry);
        Arbitrary<Container> container = Combinators.combine(word, word.map(w -> "registry.example/" + w + ":1"),
                word.list().ofMaxSize(3), envEntry.list().ofMaxSize(4)).as(Container::new);
        return Combinators.combine(Arbitraries.maps(word, word).ofMaxSize(3), Arbitraries.maps(word, word).ofMaxSize(3),
                container.list().ofMinSize(1).ofMaxSize(3).uniqueElements(Container::name), container.list().ofMaxSize(2)
                        .uniqueElements(Container::name)).as(Template::new);
    }

    static JsonNode json(Template t, long seed, boolean operatorFields, String mode) {
        Random random = new Random(seed);
        ObjectNode meta = JSON.createObjectNode();
        ObjectNode labels = object(t.labels(), random);
        ObjectNode annotations = object(t.annotations(), random);
        if (operatorFields) {
            labels.put(MetadataNames.POLICY_LABEL, "p");
            annotations.put(MetadataNames.MODE_ANNOTATION, mode);
        }
        ObjectNode spec = JSON.createObjectNode();
        ObjectNode root = JSON.createObjectNode();
        List<Runnable> fields = new ArrayList<>(List.of(
                () -> meta.set("labels", labels), () -> meta.set("annotations", annotations)));
        Collections.shuffle(fields, random);
        fields.forEach(Runnable::run);
        List<Runnable> specFields = new ArrayList<>(List.of(
                () -> spec.set("containers", containers(t.containers(), random, operatorFields, mode)),
                () -> {
                    if (!t.init().isEmpty()) {
                        spec.set("initContainers", containers(t.init(), random, operatorFields, mode));
                    }
                }));
        Collections.shuffle(specFields, random);
        specFields.forEach(Runnable::run);
        if (random.nextBoolean()) {
            root.set("metadata", meta);
            root.set("spec", spec);
        } else {
            root.set("spec", spec);
            root.set("metadata", meta);
        }
        return root;
    }

    static ObjectNode object(Map<String, String> entries, Random random) {
        List<Map.Entry<String, String>> shuffled = new ArrayList<>(entries.entrySet());
        Collections.shuffle(shuffled, random);
        ObjectNode o = JSON.createObjectNode();
        shuffled.forEach(e -> o.put(e.getKey(), e.getValue()));
        return o;
    }

    static ArrayNode containers(List<Container> containers, Random random, boolean operatorFields, String mode) {
        ArrayNode list = JSON.createArrayNode();
        for (Container c : containers) {
            ObjectNode node = JSON.createObjectNode();
            List<Runnable> fields = new ArrayList<>(List.of(() -> node.put("name", c.name()), () -> node.put("image", c.image()),
                    () -> {
                        ArrayNode command = node.putArray("command"); // an empty one is the same as none
                        c.command().forEach(command::add);
                    },
                    () -> {
                        ArrayNode env = node.putArray("env");
                        c.env().stream().filter(e -> !e.getKey().equals(VAR)).forEach(e -> env.addObject().put("name", e.getKey()).put("value", e.getValue()));
                        if (operatorFields) {
                            env.insertObject(random.nextInt(env.size() + 1)).put("name", VAR).put("value", mode);
                        }
                    }));
            Collections.shuffle(fields, random);
            fields.forEach(Runnable::run);
            list.add(node);
        }
        return list;
    }

    @Property
    void theOrderOfFieldsAndTheOperatorsOwnFieldsDoNotChangeIt(@ForAll("templates") Template t, @ForAll long seedA, @ForAll long seedB) {
        String plain = TemplateDigest.of(json(t, seedA, false, null), VAR);
        assertThat(TemplateDigest.of(json(t, seedB, false, null), VAR)).isEqualTo(plain);
        assertThat(TemplateDigest.of(json(t, seedB, true, "DryRun"), VAR)).isEqualTo(plain);
        assertThat(TemplateDigest.of(json(t, seedA, true, "Live"), VAR)).isEqualTo(plain);
    }

    @Property
    void anImageACommandAnEnvValueOrAContainerMoreChangesIt(@ForAll("templates") Template t, @ForAll long seed) {
        String before = TemplateDigest.of(json(t, seed, true, "Live"), VAR);
        Container first = t.containers().get(0);
        List<Container> others = t.containers().subList(1, t.containers().size());
        List<Template> changed = List.of(
                with(t, new Container(first.name(), first.image() + "-patched", first.command(), first.env()), others),
                with(t, new Container(first.name(), first.image(), append(first.command(), "--send-orders"), first.env()), others),
                with(t, new Container(first.name(), first.image(), first.command(), append(first.env(), Map.entry("RISK", "off"))), others),
                new Template(t.labels(), t.annotations(), t.containers(), append(t.init(), new Container("zz-extra", "registry.example/x:1",
                        List.of(), List.of()))));
        for (Template c : changed) {
            assertThat(TemplateDigest.of(json(c, seed, true, "Live"), VAR)).as(c.toString()).isNotEqualTo(before);
        }
    }

    @Test
    void absentAndEmptyAreOneAndAnotherEnvVarIsNotTheOperators() {
        String bare = TemplateDigest.of("{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"i\"}]}}", VAR);
        assertThat(TemplateDigest.of("{\"metadata\":{\"annotations\":{}},\"spec\":{\"volumes\":[],\"containers\":[{\"image\":\"i\","
                + "\"name\":\"a\",\"env\":[{\"name\":\"EXECUTION_MODE\",\"value\":\"Live\"}],\"args\":null}]}}", VAR)).isEqualTo(bare);
        // a policy with its own env var: EXECUTION_MODE is then the application's, and counts
        assertThat(TemplateDigest.of("{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"i\",\"env\":[{\"name\":\"EXECUTION_MODE\","
                + "\"value\":\"Live\"}]}]}}", "TRADING_MODE")).isNotEqualTo(bare);
        // the order of containers is what runs: it counts
        assertThat(TemplateDigest.of("{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"i\"},{\"name\":\"b\",\"image\":\"j\"}]}}", VAR))
                .isNotEqualTo(TemplateDigest.of("{\"spec\":{\"containers\":[{\"name\":\"b\",\"image\":\"j\"},{\"name\":\"a\",\"image\":\"i\"}]}}", VAR));
    }

    static Template with(Template t, Container first, List<Container> others) {
        List<Container> all = new ArrayList<>();
        all.add(first);
        all.addAll(others);
        return new Template(t.labels(), t.annotations(), all, t.init());
    }

    static <T> List<T> append(List<T> list, T item) {
        List<T> out = new ArrayList<>(list);
        out.add(item);
        return out;
    }

    @Test
    void theTokenBindsTheTemplatesInAnyOrder() {
        String none = ApprovalToken.of("uid", 3, "{}", 0, null);
        String a = ApprovalToken.of("uid", 3, "{}", 0, null, List.of("Deployment/a@1111", "StatefulSet/b@2222"));
        assertThat(ApprovalToken.of("uid", 3, "{}", 0, null, List.of("StatefulSet/b@2222", "Deployment/a@1111"))).isEqualTo(a);
        assertThat(ApprovalToken.of("uid", 3, "{}", 0, null, List.of("Deployment/a@1112", "StatefulSet/b@2222"))).isNotEqualTo(a);
        assertThat(ApprovalToken.of("uid", 3, "{}", 0, null, List.of("Deployment/a@1111"))).isNotEqualTo(a);
        assertThat(ApprovalToken.of("uid", 3, "{}", 0, null, List.of())).isEqualTo(none);
    }
}
