package io.marketintel.safety.guard;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import jakarta.enterprise.context.ApplicationScoped;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.ConfigurationCheck;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.Defaults;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.GuardType;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.ObjectKeys;

/**
 * The configuration a trading system needs is there (ConfigMaps and Secrets, with the named keys) and its
 * images are pinned (a digest, or a tag other than latest), so what was tested is what runs.
 */
@ApplicationScoped
public class ConfigurationGuard implements SafetyGuard {
    private final KubernetesClient client;

    public ConfigurationGuard(KubernetesClient client) {
        this.client = client;
    }

    @Override
    public GuardType type() {
        return GuardType.Configuration;
    }

    @Override
    public GuardOutcome evaluate(GuardContext ctx) {
        ConfigurationCheck check = ctx.guard().configuration;
        if (check == null) {
            return GuardOutcome.error("a Configuration guard needs its configuration block");
        }
        List<String> problems = new ArrayList<>();
        for (ObjectKeys cm : check.configMaps == null ? List.<ObjectKeys> of() : check.configMaps) {
            var found = client.configMaps().inNamespace(ctx.namespace()).withName(cm.name).get();
            missing(problems, "ConfigMap", cm, found == null ? null : keys(found.getData(), found.getBinaryData()));
        }
        for (ObjectKeys s : check.secrets == null ? List.<ObjectKeys> of() : check.secrets) {
            var found = client.secrets().inNamespace(ctx.namespace()).withName(s.name).get();
            missing(problems, "Secret", s, found == null ? null : keys(found.getData(), found.getStringData()));
        }
        if (check.requirePinnedImages == null ? Defaults.REQUIRE_PINNED_IMAGES : check.requirePinnedImages) {
            for (var w : ctx.workloads()) {
                for (String image : w.images()) {
                    if (!pinned(image)) {
                        problems.add(w.id() + " image " + image + " is not pinned (use a digest or a tag other than latest)");
                    }
                }
            }
        }
        return problems.isEmpty() ? GuardOutcome.pass("configuration present and images pinned")
                : GuardOutcome.fail(String.join("; ", problems));
    }

    private static Set<String> keys(Map<String, String> a, Map<String, String> b) {
        Set<String> keys = new TreeSet<>();
        if (a != null) {
            keys.addAll(a.keySet());
        }
        if (b != null) {
            keys.addAll(b.keySet());
        }
        return keys;
    }

    private static void missing(List<String> problems, String kind, ObjectKeys wanted, Set<String> present) {
        if (present == null) {
            problems.add(kind + " " + wanted.name + " not found");
            return;
        }
        for (String key : wanted.keys == null ? List.<String> of() : wanted.keys) {
            if (!present.contains(key)) {
                problems.add(kind + " " + wanted.name + " has no key " + key);
            }
        }
    }

    /** registry/repo@sha256:… or registry:port/repo:tag with tag ≠ latest; a registry port is not a tag. */
    static boolean pinned(String image) {
        if (image == null || image.isBlank()) {
            return false;
        }
        if (image.contains("@sha256:")) {
            return true;
        }
        int slash = image.lastIndexOf('/');
        int colon = image.lastIndexOf(':');
        if (colon <= slash) {
            return false; // no tag: means latest
        }
        String tag = image.substring(colon + 1);
        return !tag.isEmpty() && !tag.equals("latest");
    }
}
