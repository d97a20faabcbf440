package io.marketintel.safety.actuation;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.function.Function;

import jakarta.enterprise.context.ApplicationScoped;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.WorkloadKind;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.WorkloadRef;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.approval.TemplateDigest;

/**
 * The imperative shell around the workloads of one policy: finds them, observes them and their pods, and
 * writes with server-side apply under {@link MetadataNames#FIELD_MANAGER}. It decides nothing.
 */
@ApplicationScoped
public class Actuator {
    /** A remembered replica count as the operator writes it (compiled once: every pass reads one per workload). */
    private static final java.util.regex.Pattern COUNT = java.util.regex.Pattern.compile("[0-9]{1,6}");

    private final KubernetesClient client;

    public Actuator(KubernetesClient client) {
        this.client = client;
    }

    /**
     * The workloads this policy may act on, and what stops it from acting on others.
     *
     * @param strays  pods labelled for the policy that no target owns (a bare pod, one left by a workload taken out of
     *                the spec); observed only while stopped, when a stop removes them too
     * @param retired workloads that carry the policy's mark but that the spec no longer covers (a retargeted or
     *                re-created policy): still part of the trading system, so held at zero before it runs another mode
     *                (DESIGN §7); observed only when not stopped (a stop's targets include them)
     */
    public record Resolution(List<ObservedWorkload> workloads, List<String> problems, List<ObservedPod> strays,
            List<ObservedWorkload> retired) {
        public Resolution {
            workloads = List.copyOf(workloads);
            problems = List.copyOf(problems);
            strays = List.copyOf(strays);
            retired = List.copyOf(retired);
        }

        public Resolution(List<ObservedWorkload> workloads, List<String> problems) {
            this(workloads, problems, List.of(), List.of());
        }
    }

    /**
     * Reads the policy's workloads (each ref by name, the selector's by a listing with it), lets {@link Targets}
     * say which of them the policy covers, the same answer the emergency stop acts on, and observes each one and
     * its pods. Whether another policy exists is read from the API server, at most once a name.
     */
    public Resolution resolve(ExecutionPolicy policy, String envVar) {
        return resolve(policy, envVar, false, List.of());
    }

    /**
     * @param stopped the pass holds a stop: the workloads carrying the policy's own mark count too, wherever the spec
     *                points now ({@link Targets#resolveForStop}), so they are held at zero with the rest
     * @param marked  the workloads a cache shows carrying the policy's mark; those the spec does not cover are read
     *                again from the API server and returned as {@link Resolution#retired} (not when stopped)
     */
    public Resolution resolve(ExecutionPolicy policy, String envVar, boolean stopped, Collection<? extends HasMetadata> marked) {
        return resolve(policy, envVar, stopped, marked, Optional.empty());
    }

    /**
     * What the operator's informers hold, for a pass that may read from them instead of the API server (issue 22: most
     * passes only wait, and need not ask). Each answer may lag the API server by the watch's delay, never run ahead of it.
     */
    public interface Cache {
        /** The workload as an informer holds it; empty when none does (it does not carry the policy label yet). */
        Optional<HasMetadata> workload(WorkloadKind kind, String namespace, String name);

        /** Every pod labelled for {@code policy} in {@code namespace}, terminating ones included. */
        List<Pod> podsLabelled(String namespace, String policy);

        /** ExecutionPolicy {@code name} of {@code namespace}, empty when it does not exist. */
        Optional<ExecutionPolicy> policy(String namespace, String name);
    }

    /**
     * @param cache read from these informers where they can answer: a workload they hold, and the pods of a workload whose
     *              template carries this policy's label (all its pods then carry it; the pods of a template that does not
     *              are listed, as every pod of a pass reading without a cache). Empty: every read goes to the API server.
     */
    public Resolution resolve(ExecutionPolicy policy, String envVar, boolean stopped, Collection<? extends HasMetadata> marked,
            Optional<Cache> cache) {
        String ns = policy.getMetadata().getNamespace();
        String self = policy.getMetadata().getName();
        ExecutionPolicySpec.Workloads spec = policy.getSpec().workloads;
        Map<String, HasMetadata> read = new LinkedHashMap<>();
        if (spec != null && spec.refs != null) {
            for (WorkloadRef ref : spec.refs) {
                HasMetadata w = cache.flatMap(c -> c.workload(ref.kind, ns, ref.name)).orElseGet(() -> ref.kind == WorkloadKind.DEPLOYMENT
                        ? client.apps().deployments().inNamespace(ns).withName(ref.name).get()
                        : client.apps().statefulSets().inNamespace(ns).withName(ref.name).get());
                if (w != null) {
                    read.putIfAbsent(ObservedWorkload.kindName(ref.kind) + "/" + ref.name, w);
                }
            }
        }
        if (spec != null && spec.selector != null && SelectorRules.problems(spec.selector).isEmpty()) {
            readMatching(read, ns, spec.selector);
        }
        if (stopped) {
            readMatching(read, ns, new LabelSelectorBuilder().withMatchLabels(Map.of(MetadataNames.POLICY_LABEL, self)).build());
        }
        List<Targets.Workload> listed = read.values().stream().map(Targets.Workload::of).toList();
        Function<String, Optional<ExecutionPolicySpec.Workloads>> owners = owner -> (cache.isPresent() ? cache.get().policy(ns, owner)
                : Optional.ofNullable(client.resources(ExecutionPolicy.class).inNamespace(ns).withName(owner).get()))
                .map(o -> o.getSpec() == null ? null : o.getSpec().workloads);
        Targets.Resolved resolved = stopped ? Targets.resolveForStop(ns, self, spec, listed, owners)
                : Targets.resolve(ns, self, spec, listed, owners);
        List<ObservedWorkload> states = new ArrayList<>();
        for (Targets.Workload t : resolved.targets()) {
            states.add(observe(read.get(t.id()), self, envVar, cache));
        }
        List<ObservedWorkload> retired = new ArrayList<>();
        if (!stopped) {
            Set<String> covered = Set.copyOf(resolved.ids());
            for (HasMetadata m : marked) {
                String id = Targets.Workload.of(m).id();
                if (covered.contains(id)) {
                    continue;
                }
                HasMetadata now = m instanceof Deployment
                        ? client.apps().deployments().inNamespace(ns).withName(m.getMetadata().getName()).get()
                        : client.apps().statefulSets().inNamespace(ns).withName(m.getMetadata().getName()).get();
                if (now != null && self.equals(labelsOf(now.getMetadata().getLabels()).get(MetadataNames.POLICY_LABEL))) {
                    retired.add(observe(now, self, envVar, cache));
                }
            }
        }
        List<ObservedPod> strays = List.of();
        if (stopped) {
            Set<String> owned = states.stream().flatMap(w -> w.pods().stream()).map(ObservedPod::name).collect(Collectors.toSet());
            strays = client.pods().inNamespace(ns).withLabel(MetadataNames.POLICY_LABEL, self).list().getItems().stream()
                    .map(ObservedPod::of).filter(p -> !owned.contains(p.name())).toList();
        }
        return new Resolution(states, resolved.problems(), strays, retired);
    }

    /**
     * Deletes one pod of a stopped system (its controller does not, or not yet: a StatefulSet waiting on an unready
     * pod, a bare pod); gone already is fine. The pod's own grace period applies, so its process can still cancel
     * resting orders.
     */
    public void deletePod(String namespace, String pod) {
        client.pods().inNamespace(namespace).withName(pod).delete();
    }

    /** Adds the namespace's Deployments and StatefulSets that {@code selector} matches to {@code read}, once each. */
    private void readMatching(Map<String, HasMetadata> read, String ns, LabelSelector selector) {
        for (Deployment d : client.apps().deployments().inNamespace(ns).withLabelSelector(selector).list().getItems()) {
            read.putIfAbsent("Deployment/" + d.getMetadata().getName(), d);
        }
        for (StatefulSet s : client.apps().statefulSets().inNamespace(ns).withLabelSelector(selector).list().getItems()) {
            read.putIfAbsent("StatefulSet/" + s.getMetadata().getName(), s);
        }
    }

    private ObservedWorkload observe(HasMetadata w, String policy, String envVar, Optional<Cache> cache) {
        boolean deployment = w instanceof Deployment;
        PodTemplateSpec template = deployment ? ((Deployment) w).getSpec().getTemplate() : ((StatefulSet) w).getSpec().getTemplate();
        LabelSelector selector = deployment ? ((Deployment) w).getSpec().getSelector() : ((StatefulSet) w).getSpec().getSelector();
        Integer replicas = deployment ? ((Deployment) w).getSpec().getReplicas() : ((StatefulSet) w).getSpec().getReplicas();
        WorkloadStatus status = WorkloadStatus.of(w);
        Integer ready = status.readyReplicas();
        Integer counted = status.replicas();
        boolean caughtUp = status.caughtUpWith(w);

        Optional<ExecutionMode> templateMode = ModeMarks.modeOf(template.getMetadata(), template.getSpec(), envVar)
                .filter(m -> policy.equals(labelsOf(template.getMetadata() == null ? null : template.getMetadata().getLabels())
                        .get(MetadataNames.POLICY_LABEL)));
        String ns = w.getMetadata().getNamespace();
        boolean ours = policy.equals(labelsOf(template.getMetadata() == null ? null : template.getMetadata().getLabels())
                .get(MetadataNames.POLICY_LABEL));
        String owner = ObservedWorkload.kindName(deployment ? WorkloadKind.DEPLOYMENT : WorkloadKind.STATEFUL_SET) + "/"
                + w.getMetadata().getName();
        List<Optional<ExecutionMode>> podModes;
        List<ObservedPod> observedPods;
        List<String> crashLoops;
        if (cache.isPresent() && !ours && (!caughtUp || counted != null && counted > 0)) {
            // Pods of a template not (yet) the policy's are in no informer. While its controller still counts some, or has
            // not yet seen the workload's spec (the zero just written), the pass waits whatever pods there are, and knows
            // enough to say so: as many pods of no mode as the controller last counted. The controller's status events
            // wake it; no listing (issue 22). A pass that could then start pods reads them (CacheFirst).
            podModes = java.util.Collections.nCopies(counted == null ? 0 : counted, Optional.<ExecutionMode> empty());
            observedPods = List.of();
            crashLoops = List.of();
        } else {
            // Sorted by name as a listing is, so that the same pods observe the same whichever way they were read.
            List<Pod> pods = cache.isPresent() && ours
                    ? cache.get().podsLabelled(ns, policy).stream()
                            .filter(p -> LabelSelectors.matches(selector, labelsOf(p.getMetadata().getLabels())))
                            .sorted(java.util.Comparator.comparing(p -> p.getMetadata().getName())).toList()
                    : client.pods().inNamespace(ns).withLabelSelector(selector).list().getItems();
            podModes = pods.stream().map(p -> ModeMarks.modeOf(p.getMetadata(), p.getSpec(), envVar)).toList();
            observedPods = pods.stream().map(p -> ObservedPod.of(p, owner)).toList();
            crashLoops = pods.stream().flatMap(p -> ObservedPod.crashLoops(p).stream()).toList();
        }
        String original = annotations(w).get(MetadataNames.ORIGINAL_REPLICAS_ANNOTATION);
        Optional<Integer> originalReplicas = Optional.empty();
        if (original != null && COUNT.matcher(original).matches()) {
            originalReplicas = Optional.of(Integer.parseInt(original));
        }
        return new ObservedWorkload(deployment ? WorkloadKind.DEPLOYMENT : WorkloadKind.STATEFUL_SET,
                w.getMetadata().getName(), templateMode, replicas == null ? 1 : replicas, ready == null ? 0 : ready,
                originalReplicas,
                podModes,
                template.getSpec().getContainers().stream().map(c -> c.getName()).toList(),
                java.util.stream.Stream.concat(
                        template.getSpec().getInitContainers() == null ? java.util.stream.Stream.empty()
                                : template.getSpec().getInitContainers().stream(),
                        template.getSpec().getContainers().stream()).map(c -> c.getImage()).toList(),
                crashLoops,
                caughtUp ? (counted == null ? 0 : counted) : -1, w.getMetadata().getResourceVersion(),
                observedPods,
                template.getSpec().getInitContainers() == null ? List.of()
                        : template.getSpec().getInitContainers().stream().map(c -> c.getName()).toList(),
                TemplateDigest.of(client.getKubernetesSerialization().asJson(template), envVar));
    }

    /**
     * Server-side apply of the operator's fields only: the policy label, the remembered original replica
     * count, spec.replicas and, when given, the template mode (annotation, label, env var per container).
     * A write that could start pods carries the resourceVersion it was decided from: if the workload changed
     * since, the API server refuses it (409) and the next pass decides again from what is there.
     *
     * @return the workload as the API server answered the write (a Deployment or a StatefulSet)
     */
    public HasMetadata apply(String namespace, String policy, String envVar, Convergence.Write write) {
        ObservedWorkload w = write.workload();
        int original = w.originalReplicas().orElse(w.replicas());
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("replicas", write.replicas());
        write.templateMode().ifPresent(mode -> spec.put("template", Map.of(
                "metadata", Map.of(
                        "labels", Map.of(MetadataNames.POLICY_LABEL, policy),
                        "annotations", Map.of(MetadataNames.MODE_ANNOTATION, mode.wireName())),
                "spec", templateSpec(w, envVar, mode))));
        GenericKubernetesResource body = new GenericKubernetesResource();
        body.setApiVersion("apps/v1");
        body.setKind(ObservedWorkload.kindName(w.kind()));
        body.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder()
                .withName(w.name())
                .withNamespace(namespace)
                .withLabels(Map.of(MetadataNames.POLICY_LABEL, policy))
                .withAnnotations(Map.of(MetadataNames.ORIGINAL_REPLICAS_ANNOTATION, Integer.toString(original)))
                .withResourceVersion(write.onlyIfUnchanged() ? w.resourceVersion() : null)
                .build());
        body.setAdditionalProperty("spec", spec);
        GenericKubernetesResource answer = client.genericKubernetesResources("apps/v1", body.getKind()).inNamespace(namespace)
                .resource(body).fieldManager(MetadataNames.FIELD_MANAGER).forceConflicts().serverSideApply();
        HasMetadata typed = client.getKubernetesSerialization().convertValue(answer, ObservedWorkload.type(w.kind()));
        typed.getMetadata().setManagedFields(null); // as the informers keep them
        return typed;
    }

    /** The env var on every container and init container: one literal entry each (ModeMarks reads nothing less). */
    private static Map<String, Object> templateSpec(ObservedWorkload w, String envVar, ExecutionMode mode) {
        Function<String, Map<String, Object>> told = c -> Map.of("name", c, "env",
                List.of(Map.of("name", envVar, "value", mode.wireName())));
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("containers", w.containers().stream().map(told).toList());
        if (!w.initContainers().isEmpty()) {
            spec.put("initContainers", w.initContainers().stream().map(told).toList());
        }
        return spec;
    }

    private static Map<String, String> labels(HasMetadata o) {
        return labelsOf(o.getMetadata().getLabels());
    }

    private static Map<String, String> labelsOf(Map<String, String> m) {
        return m == null ? Map.of() : m;
    }

    private static Map<String, String> annotations(HasMetadata o) {
        return o.getMetadata().getAnnotations() == null ? Map.of() : o.getMetadata().getAnnotations();
    }
}
