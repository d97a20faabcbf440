package io.marketintel.safety.approval;

import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.marketintel.safety.api.v1alpha1.Durations;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.Defaults;
import io.marketintel.safety.api.v1alpha1.MetadataNames;
import io.marketintel.safety.api.v1alpha1.Timestamps;
import io.marketintel.safety.api.v1alpha1.ExecutionMode;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicy;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicyStatus;
import io.marketintel.safety.api.v1alpha1.ExecutionSafety;
import io.marketintel.safety.approval.ApprovalCount;
import io.marketintel.safety.approval.ApprovalLine;
import io.marketintel.safety.approval.ApprovalToken;

/**
 * The approval side of one reconcile: what the escalation in front of us needs, what counts, and what
 * {@code status.approval} shows. Reads only what it is given; the counting rules live in
 * {@link ApprovalCount}.
 *
 * @param pending  an escalation waits on approvals (desired riskier than effective, none in flight, required &gt; 0)
 * @param required approvals the wanted mode needs
 * @param valid    approvals that count
 * @param state    what status.approval shows (empty when nothing is pending)
 * @param summary  for people: the count, what did not count and why, and the command to approve
 * @param counted  users whose approvals count
 */
public record ApprovalView(boolean pending, int required, int valid, Optional<ExecutionPolicyStatus.ApprovalState> state,
        String summary, List<String> counted, boolean admissionMissing) {

    /** {@code escalating}: the wanted mode is riskier than the effective one and no transition is in flight. */
    public static ApprovalView of(ExecutionPolicy policy, ExecutionPolicyStatus status, boolean escalating, ExecutionSafety global,
            List<String> admissionMissing, KubernetesSerialization serialization, Instant now) {
        return of(policy, status, escalating, global, admissionMissing, serialization, now, List.of());
    }

    /** @param templates each target's {@code KIND/NAME@digest} ({@link TemplateDigest}), which the token binds */
    public static ApprovalView of(ExecutionPolicy policy, ExecutionPolicyStatus status, boolean escalating, ExecutionSafety global,
            List<String> admissionMissing, KubernetesSerialization serialization, Instant now, List<String> templates) {
        ExecutionPolicySpec spec = policy.getSpec();
        int required = required(spec, global);
        if (!escalating || required == 0) {
            return new ApprovalView(false, required, 0, Optional.empty(),
                    required == 0 ? "no approvals required" : "no escalation awaits approval", List.of(), false);
        }
        String ns = policy.getMetadata().getNamespace();
        String name = policy.getMetadata().getName();
        long epoch = status.emergencyStop != null && status.emergencyStop.epoch != null ? status.emergencyStop.epoch : 0;
        var caps = global == null || global.getSpec() == null ? null : global.getSpec().allowedApprovers;
        String token = ApprovalToken.of(policy.getMetadata().getUid(), policy.getMetadata().getGeneration(),
                serialization.asJson(spec), epoch, caps == null ? null : serialization.asJson(caps), templates);
        Map<String, String> annotations = policy.getMetadata().getAnnotations() == null ? Map.of()
                : policy.getMetadata().getAnnotations();
        List<ApprovalLine> lines = ApprovalLine.parse(annotations.get(MetadataNames.APPROVALS_ANNOTATION));
        Optional<String> requester = Optional.ofNullable(annotations.get(MetadataNames.REQUESTED_BY_ANNOTATION));

        Map<String, ApprovalCount.Sighting> previous = new LinkedHashMap<>();
        if (status.approval != null && token.equals(status.approval.token) && status.approval.seen != null) {
            for (var s : status.approval.seen) {
                Timestamps.parse(s.at).ifPresent(at -> previous.put(s.user, new ApprovalCount.Sighting(
                        s.lines == null ? 1 : s.lines, at)));
            }
        }
        Map<String, ApprovalCount.Sighting> seen = ApprovalCount.sightings(lines, token, previous, now);
        Duration validity = validity(spec);
        ApprovalCount.Result result = ApprovalCount.count(lines, new ApprovalCount.Input(token, requester,
                namedApprovers(spec, global), validity, seen, admissionMissing.isEmpty(), now));

        var state = new ExecutionPolicyStatus.ApprovalState();
        state.token = token;
        state.templates = templates.isEmpty() ? null : templates.stream().sorted().toList();
        state.required = required;
        state.requester = requester.orElse(null);
        state.command = "kubectl annotate xp " + name + " -n " + ns + " " + MetadataNames.APPROVE_ANNOTATION + "=" + token;
        state.approvedBy = result.counted().stream().map(c -> approver(c.user(), c.at().toString(), null, null)).toList();
        state.rejected = result.notCounted().stream().map(n -> approver(n.user(), null, n.reason(), null)).toList();
        state.expiresAt = result.firstExpiry().map(Instant::toString).orElse(null);
        state.seen = seen.entrySet().stream()
                .map(e -> approver(e.getKey(), e.getValue().at().toString(), null, e.getValue().lines())).toList();

        StringBuilder summary = new StringBuilder(result.count() + " of " + required + " approvals for " + spec.mode);
        if (!result.counted().isEmpty()) {
            summary.append(" (").append(String.join(", ", result.counted().stream().map(ApprovalCount.Counted::user).toList()))
                    .append(')');
        }
        if (!result.notCounted().isEmpty()) {
            summary.append("; not counted: ").append(String.join("; ",
                    result.notCounted().stream().map(n -> n.user() + ": " + n.reason()).toList()));
        }
        if (!admissionMissing.isEmpty()) {
            summary.append("; approvals are not counted because admission control is missing: ")
                    .append(String.join(", ", admissionMissing)).append(" (install k8s/admission)");
        } else if (result.count() < required) {
            summary.append("; approve with: ").append(state.command);
        }
        return new ApprovalView(true, required, result.count(), Optional.of(state), summary.toString(),
                result.counted().stream().map(ApprovalCount.Counted::user).toList(), !admissionMissing.isEmpty());
    }

    /** Approvals the wanted mode needs; the cluster can raise the floor for Live, never lower it. */
    public static int required(ExecutionPolicySpec spec, ExecutionSafety global) {
        return required(spec, global, spec.mode);
    }

    /** Approvals an escalation to {@code mode} needs under this spec and the cluster's floor. */
    public static int required(ExecutionPolicySpec spec, ExecutionSafety global, ExecutionMode mode) {
        var approval = spec.approval;
        return switch (mode) {
            case LIVE -> Math.max(approval == null || approval.requiredForLive == null ? Defaults.APPROVALS_FOR_LIVE : approval.requiredForLive,
                    global == null || global.getSpec() == null || global.getSpec().minLiveApprovals == null ? 0
                            : global.getSpec().minLiveApprovals);
            case DRY_RUN -> approval == null || approval.requiredForDryRun == null ? Defaults.APPROVALS_FOR_DRY_RUN
                    : approval.requiredForDryRun;
            case BACKTEST -> 0;
        };
    }

    /**
     * Names an approver must appear in, where a list names users only. Where groups are listed too, membership
     * can only be checked by the API server (it knows the request's groups), which it does at write time.
     */
    private static Set<String> namedApprovers(ExecutionPolicySpec spec, ExecutionSafety global) {
        Set<String> names = null;
        var policy = spec.approval == null ? null : spec.approval.approvers;
        if (policy != null && policy.users != null && !policy.users.isEmpty() && (policy.groups == null || policy.groups.isEmpty())) {
            names = new HashSet<>(policy.users);
        }
        var caps = global == null || global.getSpec() == null ? null : global.getSpec().allowedApprovers;
        if (caps != null && caps.users != null && !caps.users.isEmpty() && (caps.groups == null || caps.groups.isEmpty())) {
            if (names == null) {
                names = new HashSet<>(caps.users);
            } else {
                names.retainAll(caps.users);
                if (names.isEmpty()) {
                    names.add("\u0000nobody"); // both lists by name and no overlap: nobody may approve
                }
            }
        }
        return names == null ? Set.of() : names;
    }

    private static Duration validity(ExecutionPolicySpec spec) {
        try {
            return Durations.parseOr(spec.approval == null ? null : spec.approval.validity, Defaults.APPROVAL_VALIDITY);
        } catch (IllegalArgumentException e) {
            return Duration.ZERO; // unreadable validity: nothing counts (fail-safe)
        }
    }

    private static ExecutionPolicyStatus.Approver approver(String user, String at, String reason, Integer lines) {
        var a = new ExecutionPolicyStatus.Approver();
        a.user = user;
        a.at = at;
        a.reason = reason;
        a.lines = lines;
        return a;
    }
}
