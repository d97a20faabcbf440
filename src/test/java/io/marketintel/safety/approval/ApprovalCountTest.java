package io.marketintel.safety.approval;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.junit.jupiter.api.Test;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.AlphaChars;
import net.jqwik.api.constraints.StringLength;

class ApprovalCountTest {
    static final Instant T0 = Instant.parse("2026-11-26T09:00:00Z");
    static final String TOKEN = "3f9a1c2e7b40";

    static ApprovalCount.Input input(Map<String, ApprovalCount.Sighting> seen, Instant now) {
        return new ApprovalCount.Input(TOKEN, Optional.of("bob"), Set.of(), Duration.ofHours(1), seen, true, now);
    }

    static List<ApprovalLine> lines(String annotation) {
        return ApprovalLine.parse(annotation);
    }

    @Test
    void distinctApproversOfTheCurrentTokenCount() {
        var r = ApprovalCount.count(lines("alice " + TOKEN + "\ncarol " + TOKEN), input(Map.of(), T0));
        assertThat(r.count()).isEqualTo(2);
        assertThat(r.counted()).extracting(ApprovalCount.Counted::user).containsExactly("alice", "carol");
        assertThat(r.firstExpiry()).contains(T0.plus(Duration.ofHours(1)));
    }

    @Test
    void theRequesterCannotApproveTheirOwnChange() {
        var r = ApprovalCount.count(lines("bob " + TOKEN), input(Map.of(), T0));
        assertThat(r.count()).isZero();
        assertThat(r.notCounted()).singleElement().satisfies(n -> {
            assertThat(n.user()).isEqualTo("bob");
            assertThat(n.reason()).contains("requested this change");
        });
    }

    @Test
    void theSameApproverTwiceCountsOnce() {
        var r = ApprovalCount.count(lines("alice " + TOKEN + "\nalice " + TOKEN), input(Map.of(), T0));
        assertThat(r.count()).isEqualTo(1);
        assertThat(r.notCounted()).isEmpty();
    }

    @Test
    void anApproverNotNamedIsNotCounted() {
        var in = new ApprovalCount.Input(TOKEN, Optional.empty(), Set.of("alice"), Duration.ofHours(1), Map.of(), true, T0);
        var r = ApprovalCount.count(lines("alice " + TOKEN + "\ndave " + TOKEN), in);
        assertThat(r.counted()).extracting(ApprovalCount.Counted::user).containsExactly("alice");
        assertThat(r.notCounted()).singleElement().satisfies(n -> assertThat(n.reason()).isEqualTo("not an allowed approver"));
    }

    @Test
    void anApprovalOfAnEarlierChangeIsNotCounted() {
        var r = ApprovalCount.count(lines("alice 000000000000\ncarol " + TOKEN), input(Map.of(), T0));
        assertThat(r.counted()).extracting(ApprovalCount.Counted::user).containsExactly("carol");
        assertThat(r.notCounted()).singleElement().satisfies(n -> assertThat(n.reason()).contains("an earlier change"));
    }

    @Test
    void anApproverWithSeveralStaleTokensIsToldAboutTheLatestOne() {
        var r = ApprovalCount.count(lines("alice 111111111111\nalice 222222222222\nalice 333333333333"), input(Map.of(), T0));
        assertThat(r.notCounted()).singleElement().satisfies(n -> assertThat(n.reason())
                .isEqualTo("approved token 333333333333, an earlier change (current token " + TOKEN + ")"));
    }

    @Test
    void aStaleTokenDoesNotHideAnotherReason() {
        var r = ApprovalCount.count(lines("bob " + TOKEN + "\nbob 111111111111"), input(Map.of(), T0));
        assertThat(r.notCounted()).singleElement().satisfies(n -> assertThat(n.reason()).contains("requested this change"));
    }

    @Test
    void anOldApprovalDoesNotHideANewOneFromTheSameUser() {
        var r = ApprovalCount.count(lines("alice 000000000000\nalice " + TOKEN), input(Map.of(), T0));
        assertThat(r.count()).isEqualTo(1);
        assertThat(r.notCounted()).isEmpty();
    }

    @Test
    void anExpiredApprovalIsNotCountedAndApprovingAgainRenewsIt() {
        var seen = ApprovalCount.sightings(lines("alice " + TOKEN), TOKEN, Map.of(), T0);
        Instant later = T0.plus(Duration.ofMinutes(61));
        var expired = ApprovalCount.count(lines("alice " + TOKEN), input(seen, later));
        assertThat(expired.count()).isZero();
        assertThat(expired.notCounted()).singleElement().satisfies(n -> assertThat(n.reason()).contains("expired"));

        // Unchanged lines keep their first sighting; one more line restarts the validity.
        assertThat(ApprovalCount.sightings(lines("alice " + TOKEN), TOKEN, seen, later)).isEqualTo(seen);
        var renewed = ApprovalCount.sightings(lines("alice " + TOKEN + "\nalice " + TOKEN), TOKEN, seen, later);
        assertThat(renewed.get("alice")).isEqualTo(new ApprovalCount.Sighting(2, later));
        assertThat(ApprovalCount.count(lines("alice " + TOKEN + "\nalice " + TOKEN), input(renewed, later)).count()).isEqualTo(1);
    }

    @Test
    void withoutAdmissionControlNothingCounts() {
        var in = new ApprovalCount.Input(TOKEN, Optional.of("bob"), Set.of(), Duration.ofHours(1), Map.of(), false, T0);
        var r = ApprovalCount.count(lines("alice " + TOKEN + "\ncarol " + TOKEN), in);
        assertThat(r.count()).isZero();
        assertThat(r.notCounted()).allSatisfy(n -> assertThat(n.reason()).contains("admission policies"));
    }

    @Test
    void linesParseWithTheTokenLastSoUsernamesMayHoldSpaces() {
        assertThat(ApprovalLine.parse("alice@corp.example " + TOKEN + "\n\n  \nCN=Risk Officer " + TOKEN + "\nmalformed\ntrailing "))
                .containsExactly(new ApprovalLine("alice@corp.example", TOKEN), new ApprovalLine("CN=Risk Officer", TOKEN));
        assertThat(ApprovalLine.parse(null)).isEmpty();
    }

    @Test
    void theTokenBindsIdentityGenerationSpecAndStopEpoch() {
        String t = ApprovalToken.of("uid-1", 4, "{\"mode\":\"Live\"}", 0);
        assertThat(t).hasSize(ApprovalToken.LENGTH).matches("[0-9a-f]+");
        assertThat(ApprovalToken.of("uid-1", 4, "{\"mode\":\"Live\"}", 0)).isEqualTo(t);
        assertThat(ApprovalToken.of("uid-2", 4, "{\"mode\":\"Live\"}", 0)).isNotEqualTo(t);
        assertThat(ApprovalToken.of("uid-1", 5, "{\"mode\":\"Live\"}", 0)).isNotEqualTo(t);
        assertThat(ApprovalToken.of("uid-1", 4, "{\"mode\":\"DryRun\"}", 0)).isNotEqualTo(t);
        assertThat(ApprovalToken.of("uid-1", 4, "{\"mode\":\"Live\"}", 1)).as("a stop invalidates approvals").isNotEqualTo(t);
    }

    /**
     * Issue 19: the API server checks an approval, by user and by group, against the cluster's approver caps when it is
     * written; binding the caps into the token makes a change of the caps void every approval given under the old
     * ones, for approvers listed by group exactly as for those listed by name. Without caps the token is unchanged.
     */
    @Test
    void theTokenBindsTheClustersApproverCapsWhenSet() {
        String t = ApprovalToken.of("uid-1", 4, "{\"mode\":\"Live\"}", 0);
        assertThat(ApprovalToken.of("uid-1", 4, "{\"mode\":\"Live\"}", 0, null)).isEqualTo(t);
        assertThat(ApprovalToken.of("uid-1", 4, "{\"mode\":\"Live\"}", 0, "")).isEqualTo(t);
        String risk = ApprovalToken.of("uid-1", 4, "{\"mode\":\"Live\"}", 0, "{\"groups\":[\"risk-officers\"]}");
        assertThat(risk).isNotEqualTo(t);
        assertThat(ApprovalToken.of("uid-1", 4, "{\"mode\":\"Live\"}", 0, "{\"groups\":[\"risk-officers\",\"desk-heads\"]}"))
                .as("other caps, another token").isNotEqualTo(risk);
    }

    @Property
    void neverMoreCountedThanDistinctEligibleApprovers(@ForAll List<@AlphaChars @StringLength(min = 1, max = 3) String> users) {
        StringBuilder annotation = new StringBuilder();
        users.forEach(u -> annotation.append(u).append(' ').append(TOKEN).append('\n'));
        var r = ApprovalCount.count(ApprovalLine.parse(annotation.toString()), input(Map.of(), T0));
        long eligible = users.stream().filter(u -> !u.equals("bob")).distinct().count();
        assertThat(r.count()).isEqualTo((int) eligible);
        assertThat(r.counted()).extracting(ApprovalCount.Counted::user).doesNotContain("bob").doesNotHaveDuplicates();
    }
}
