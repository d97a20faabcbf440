package io.marketintel.safety.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.marketintel.safety.testing.Helm;

/**
 * The operator's pod meets the "restricted" Pod Security Standard (kubernetes.io/docs/concepts/security/
 * pod-security-standards, every control of the baseline and restricted profiles a pod spec can break), and runs
 * with a read-only root filesystem whose only writable path is an emptyDir on /tmp. ChartServerDryRunIT also
 * has the API server's PodSecurity admission judge the same Deployment.
 */
class ChartPodSecurityTest {
    /** Volume types the restricted profile allows. */
    static final Set<String> RESTRICTED_VOLUMES = Set.of("configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
            "persistentVolumeClaim", "projected", "secret");
    /** Sysctls the baseline profile allows. */
    static final Set<String> SAFE_SYSCTLS = Set.of("kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range",
            "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range",
            "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
            "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes");

    @Test
    void theDefaultPodIsRestricted() {
        JsonNode pod = podSpec(Helm.objects());
        assertThat(violations(pod)).isEmpty();
        JsonNode container = pod.path("containers").get(0);
        assertThat(container.path("securityContext").path("readOnlyRootFilesystem").asBoolean()).isTrue();
        assertThat(container.path("volumeMounts")).extracting(m -> m.path("mountPath").asText()).containsExactly("/tmp");
        String tmp = container.path("volumeMounts").get(0).path("name").asText();
        assertThat(pod.path("volumes")).filteredOn(v -> v.path("name").asText().equals(tmp))
                .singleElement().satisfies(v -> assertThat(v.has("emptyDir")).as("/tmp is an emptyDir").isTrue());
    }

    @Test
    void everyRenderOfTheChartIsRestricted() {
        for (String[] values : List.of(new String[] { "--set", "watchNamespaces={trading}" },
                new String[] { "--set", "monitoring.prometheusRule.enabled=false", "--set", "monitoring.dashboard.enabled=false" },
                new String[] { "--set", "replicas=1", "--set", "image.digest=sha256:" + "0".repeat(64) })) {
            assertThat(violations(podSpec(Helm.objects(values)))).as("values %s", List.of(values)).isEmpty();
        }
    }

    @Test
    void theCheckSeesAViolation() {
        JsonNode pod = podSpec(Helm.objects("--set", "securityContext.allowPrivilegeEscalation=true", "--set",
                "podSecurityContext.seccompProfile.type=Unconfined"));
        assertThat(violations(pod)).anyMatch(v -> v.contains("allowPrivilegeEscalation"))
                .anyMatch(v -> v.contains("seccompProfile"));
    }

    static JsonNode podSpec(List<JsonNode> objects) {
        return ChartTest.only(objects, "Deployment").path("spec").path("template").path("spec");
    }

    /** The restricted profile's controls, checked on a pod spec; an empty list when it complies. */
    static List<String> violations(JsonNode pod) {
        List<String> out = new ArrayList<>();
        for (String host : List.of("hostNetwork", "hostPID", "hostIPC")) {
            if (pod.path(host).asBoolean(false)) {
                out.add("pod: " + host);
            }
        }
        for (JsonNode v : pod.path("volumes")) {
            v.fieldNames().forEachRemaining(type -> {
                if (!type.equals("name") && !RESTRICTED_VOLUMES.contains(type)) {
                    out.add("volume " + v.path("name").asText() + ": type " + type);
                }
            });
        }
        JsonNode podCtx = pod.path("securityContext");
        for (JsonNode s : podCtx.path("sysctls")) {
            if (!SAFE_SYSCTLS.contains(s.path("name").asText())) {
                out.add("pod: sysctl " + s.path("name").asText());
            }
        }
        checkContext("pod", podCtx, out);
        List<JsonNode> containers = new ArrayList<>();
        for (String list : List.of("initContainers", "containers", "ephemeralContainers")) {
            pod.path(list).forEach(containers::add);
        }
        assertThat(containers).as("containers").isNotEmpty();
        for (JsonNode c : containers) {
            String who = "container " + c.path("name").asText();
            JsonNode ctx = c.path("securityContext");
            checkContext(who, ctx, out);
            if (ctx.path("privileged").asBoolean(false)) {
                out.add(who + ": privileged");
            }
            if (!ctx.path("allowPrivilegeEscalation").isBoolean() || ctx.path("allowPrivilegeEscalation").asBoolean()) {
                out.add(who + ": allowPrivilegeEscalation must be false");
            }
            List<String> drop = OperatorRbac.strings(ctx.path("capabilities").path("drop"));
            if (!drop.contains("ALL")) {
                out.add(who + ": capabilities must drop ALL");
            }
            for (String add : OperatorRbac.strings(ctx.path("capabilities").path("add"))) {
                if (!add.equals("NET_BIND_SERVICE")) {
                    out.add(who + ": adds capability " + add);
                }
            }
            boolean nonRoot = ctx.path("runAsNonRoot").isBoolean() ? ctx.path("runAsNonRoot").asBoolean()
                    : podCtx.path("runAsNonRoot").asBoolean(false);
            if (!nonRoot) {
                out.add(who + ": runAsNonRoot must be true (container or pod)");
            }
            String seccomp = ctx.path("seccompProfile").path("type").asText(podCtx.path("seccompProfile").path("type").asText(""));
            if (!Set.of("RuntimeDefault", "Localhost").contains(seccomp)) {
                out.add(who + ": seccompProfile must be RuntimeDefault or Localhost (container or pod), is '" + seccomp + "'");
            }
            for (JsonNode p : c.path("ports")) {
                if (p.path("hostPort").asInt(0) != 0) {
                    out.add(who + ": hostPort " + p.path("hostPort").asInt());
                }
            }
            if (!ctx.path("procMount").asText("Default").equals("Default")) {
                out.add(who + ": procMount " + ctx.path("procMount").asText());
            }
        }
        return out;
    }

    /** Controls that apply alike to the pod's and each container's securityContext. */
    static void checkContext(String who, JsonNode ctx, List<String> out) {
        if (ctx.path("runAsNonRoot").isBoolean() && !ctx.path("runAsNonRoot").asBoolean()) {
            out.add(who + ": runAsNonRoot false");
        }
        if (ctx.path("runAsUser").isNumber() && ctx.path("runAsUser").asLong() == 0) {
            out.add(who + ": runAsUser 0");
        }
        String seccomp = ctx.path("seccompProfile").path("type").asText("");
        if (!seccomp.isEmpty() && !Set.of("RuntimeDefault", "Localhost").contains(seccomp)) {
            out.add(who + ": seccompProfile " + seccomp);
        }
        String apparmor = ctx.path("appArmorProfile").path("type").asText("");
        if (apparmor.equals("Unconfined")) {
            out.add(who + ": appArmorProfile Unconfined");
        }
        if (ctx.path("windowsOptions").path("hostProcess").asBoolean(false)) {
            out.add(who + ": windowsOptions.hostProcess");
        }
        String seLinuxType = ctx.path("seLinuxOptions").path("type").asText("");
        if (!seLinuxType.isEmpty() && !Set.of("container_t", "container_init_t", "container_kvm_t", "container_engine_t")
                .contains(seLinuxType)) {
            out.add(who + ": seLinuxOptions.type " + seLinuxType);
        }
        if (!ctx.path("seLinuxOptions").path("user").asText("").isEmpty() || !ctx.path("seLinuxOptions").path("role").asText("").isEmpty()) {
            out.add(who + ": seLinuxOptions user/role");
        }
    }
}
