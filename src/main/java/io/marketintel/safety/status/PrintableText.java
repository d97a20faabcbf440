package io.marketintel.safety.status;

import java.util.Iterator;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

/**
 * Text the status may carry, made writable. Status is written with server-side apply, whose body the API
 * server decodes as YAML, and YAML refuses some characters even when JSON has them raw: DEL, the C1 controls,
 * U+FFFE/U+FFFF and unpaired surrogates ("yaml: control characters are not allowed"). Users put text in status
 * through annotations and spec (an emergency-stop reason, a guard's setting echoed in its message, an approval
 * token), so a reason with such a character made every status write fail: the stop was never recorded and the
 * policy showed only OperatorError. Each such character is written as the visible text {@code \\uXXXX}. Pure.
 */
public final class PrintableText {
    private PrintableText() {
    }

    /** {@code s} with every character YAML refuses replaced by {@code \\uXXXX}; the same string if there is none. */
    public static String of(String s) {
        if (s == null || allowed(s)) {
            return s;
        }
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                b.append(c).append(s.charAt(++i));
            } else if (allowed(c)) {
                b.append(c);
            } else {
                b.append(String.format("\\u%04x", (int) c));
            }
        }
        return b.toString();
    }

    /** Every text value in {@code node}, in place. */
    public static JsonNode everywhere(JsonNode node) {
        if (node instanceof ObjectNode o) {
            for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getValue() instanceof TextNode t) {
                    String fixed = of(t.textValue());
                    if (!fixed.equals(t.textValue())) {
                        e.setValue(TextNode.valueOf(fixed));
                    }
                } else {
                    everywhere(e.getValue());
                }
            }
        } else if (node instanceof ArrayNode a) {
            for (int i = 0; i < a.size(); i++) {
                if (a.get(i) instanceof TextNode t) {
                    a.set(i, TextNode.valueOf(of(t.textValue())));
                } else {
                    everywhere(a.get(i));
                }
            }
        }
        return node;
    }

    private static boolean allowed(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (!allowed(c)) {
                return false;
            }
        }
        return true;
    }

    /** YAML 1.1's printable set as the API server's decoder applies it (a paired surrogate is handled above). */
    private static boolean allowed(char c) {
        return c == 0x09 || c == 0x0A || c == 0x0D || c >= 0x20 && c <= 0x7E || c == 0x85 || c >= 0xA0 && c <= 0xD7FF
                || c >= 0xE000 && c <= 0xFFFD;
    }
}
