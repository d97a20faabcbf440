package io.marketintel.safety.approval;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.marketintel.safety.api.v1alpha1.MetadataNames;

/**
 * What an approval is shown, as a digest of one pod template (issue 21): two templates have the same digest exactly when
 * they would run the same thing, whatever the order of their fields and whatever the operator itself writes on them.
 * <ul>
 * <li>Canonical: object fields in name order, list items in their order (it can matter: the kubelet uses the last of
 * duplicate env entries); nulls, empty objects and empty lists are left out, so an absent field and its empty default
 * are one.</li>
 * <li>Without the operator's own fields: the policy label and the mode annotation on the template, and the env entry
 * named after the policy's env var on every container and init container. A mode change or the operator's own
 * configuration does not change what an approver approved; everything else (an image, a command, an env value, a
 * mounted ConfigMap's name, a security context) does.</li>
 * </ul>
 * Pure: the template comes in as JSON (as the API server returns it, defaults applied).
 */
public final class TemplateDigest {
    public static final int LENGTH = 16;
    private static final ObjectMapper JSON = new ObjectMapper();

    private TemplateDigest() {
    }

    /** The digest of a pod template given as JSON ({@code spec.template} of a Deployment or StatefulSet). */
    public static String of(String templateJson, String envVar) {
        try {
            return of(JSON.readTree(templateJson), envVar);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("not a JSON pod template: " + e.getOriginalMessage(), e);
        }
    }

    public static String of(JsonNode template, String envVar) {
        return sha(canonical(template, envVar));
    }

    /** The canonical text the digest is taken of (for tests and for a person comparing two templates). */
    public static String canonical(JsonNode template, String envVar) {
        JsonNode copy = template == null ? JSON.createObjectNode() : template.deepCopy();
        withoutOperatorFields(copy, envVar);
        StringBuilder out = new StringBuilder();
        write(copy, out);
        return out.toString();
    }

    private static void withoutOperatorFields(JsonNode template, String envVar) {
        if (!(template instanceof ObjectNode t)) {
            return;
        }
        JsonNode meta = t.get("metadata");
        if (meta instanceof ObjectNode m) {
            if (m.get("labels") instanceof ObjectNode labels) {
                labels.remove(MetadataNames.POLICY_LABEL);
            }
            if (m.get("annotations") instanceof ObjectNode annotations) {
                annotations.remove(MetadataNames.MODE_ANNOTATION);
            }
        }
        JsonNode spec = t.get("spec");
        if (spec instanceof ObjectNode s) {
            for (String kind : List.of("containers", "initContainers")) {
                if (s.get(kind) instanceof ArrayNode containers) {
                    for (JsonNode c : containers) {
                        if (c.get("env") instanceof ArrayNode env) {
                            for (Iterator<JsonNode> it = env.elements(); it.hasNext();) {
                                if (envVar.equals(it.next().path("name").asText(null))) {
                                    it.remove();
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** Writes a value canonically; returns false (and writes nothing) for what counts as absent. */
    private static boolean write(JsonNode node, StringBuilder out) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return false;
        }
        if (node.isObject()) {
            Map<String, JsonNode> sorted = new TreeMap<>();
            node.fields().forEachRemaining(e -> sorted.put(e.getKey(), e.getValue()));
            List<String> parts = new ArrayList<>();
            for (var e : sorted.entrySet()) {
                StringBuilder value = new StringBuilder();
                if (write(e.getValue(), value)) {
                    parts.add(JSON.getNodeFactory().textNode(e.getKey()).toString() + ":" + value);
                }
            }
            if (parts.isEmpty()) {
                return false;
            }
            out.append('{').append(String.join(",", parts)).append('}');
            return true;
        }
        if (node.isArray()) {
            List<String> parts = new ArrayList<>();
            for (JsonNode item : node) {
                StringBuilder value = new StringBuilder();
                parts.add(write(item, value) ? value.toString() : "null");
            }
            if (parts.isEmpty()) {
                return false;
            }
            out.append('[').append(String.join(",", parts)).append(']');
            return true;
        }
        out.append(node.toString()); // a scalar: numbers and strings as JSON writes them
        return true;
    }

    private static String sha(String text) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(sha.digest(text.getBytes(StandardCharsets.UTF_8))).substring(0, LENGTH);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is always present", e);
        }
    }
}
