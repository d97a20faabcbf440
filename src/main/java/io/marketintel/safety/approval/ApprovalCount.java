package io.marketintel.safety.approval;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Which approvals count for the change in front of us. An approval counts only if it names the current
 * token, comes from someone other than the requester, from an allowed user (when the policy or the cluster
 * lists users by name; group membership is checked by the API server at write time), is still within its
 * validity, and is the first from that user. The admission policies must be installed: without them the
 * lines could have been written by anyone, so nothing counts.
 *
 * @param token             the token of the current change
 * @param requester         who asked for the change, as recorded by the API server (empty if unknown)
 * @param allowedUsers      users named as approvers (empty: no restriction by name)
 * @param validity          how long an approval stays valid
 * @param seen              per user, when the operator first saw their latest approval of this token
 * @param admissionEnforced whether the identity admission policies are installed
 */
public final class ApprovalCount {
    private ApprovalCount() {
    }

    private static final String STALE = "approved token ";

    public record Input(String token, Optional<String> requester, Set<String> allowedUsers, Duration validity,
            Map<String, Sighting> seen, boolean admissionEnforced, Instant now) {
    }

    public record Counted(String user, Instant at, Instant expiresAt) {
    }

    public record NotCounted(String user, String reason) {
    }

    /** How many approval lines a user has for the current token, and when the latest one was first seen. */
    public record Sighting(int lines, Instant at) {
    }

    /**
     * Updates the sightings for {@code token}: a user with more lines than before has approved again (the
     * way to renew an expired approval), so their validity restarts now.
     */
    public static Map<String, Sighting> sightings(List<ApprovalLine> lines, String token, Map<String, Sighting> previous,
            Instant now) {
        Map<String, Integer> perUser = new LinkedHashMap<>();
        for (ApprovalLine l : lines) {
            if (l.token().equals(token)) {
                perUser.merge(l.user(), 1, Integer::sum);
            }
        }
        Map<String, Sighting> next = new LinkedHashMap<>();
        perUser.forEach((user, n) -> {
            Sighting prev = previous.get(user);
            next.put(user, prev != null && prev.lines() >= n ? prev : new Sighting(n, now));
        });
        return next;
    }

    public record Result(List<Counted> counted, List<NotCounted> notCounted) {
        public int count() {
            return counted.size();
        }

        /** The earliest moment a counted approval lapses, if any counts. */
        public Optional<Instant> firstExpiry() {
            return counted.stream().map(Counted::expiresAt).min(Instant::compareTo);
        }
    }

    public static Result count(List<ApprovalLine> lines, Input in) {
        Map<String, Counted> counted = new LinkedHashMap<>();
        Map<String, NotCounted> notCounted = new LinkedHashMap<>();
        for (ApprovalLine line : lines) {
            String user = line.user();
            if (!in.admissionEnforced()) {
                notCounted.putIfAbsent(user, new NotCounted(user,
                        "not counted: the admission policies that verify approvers are not installed"));
                continue;
            }
            if (!line.token().equals(in.token())) {
                // Lines are in the order they were written: name the user's latest stale token, not their first
                // (what they approved last is what they think they approved). Any other reason stays first.
                NotCounted before = notCounted.get(user);
                if (!counted.containsKey(user) && (before == null || before.reason().startsWith(STALE))) {
                    notCounted.put(user, new NotCounted(user,
                            STALE + line.token() + ", an earlier change (current token " + in.token() + ")"));
                }
                continue;
            }
            if (in.requester().isPresent() && in.requester().get().equals(user)) {
                notCounted.put(user, new NotCounted(user, "requested this change and cannot also approve it"));
                continue;
            }
            if (!in.allowedUsers().isEmpty() && !in.allowedUsers().contains(user)) {
                notCounted.put(user, new NotCounted(user, "not an allowed approver"));
                continue;
            }
            if (counted.containsKey(user)) {
                continue; // the same approver twice counts once
            }
            Instant at = in.seen().containsKey(user) ? in.seen().get(user).at() : in.now();
            Instant expires = at.plus(in.validity());
            if (!in.now().isBefore(expires)) {
                notCounted.put(user, new NotCounted(user, "approval expired at " + expires));
                continue;
            }
            notCounted.remove(user);
            counted.put(user, new Counted(user, at, expires));
        }
        return new Result(new ArrayList<>(counted.values()), new ArrayList<>(notCounted.values()));
    }
}
