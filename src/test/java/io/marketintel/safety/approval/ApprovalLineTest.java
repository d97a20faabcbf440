package io.marketintel.safety.approval;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** The approval line's grammar: what admission accepts from a user parses to exactly that user (DESIGN §4, §11). */
class ApprovalLineTest {
    /** The admission rule, verbatim as in the shipped policy (its Java twin is {@link ApprovalLine#acceptedFrom}). */
    static final String ADMISSION_RULE = "variables.added.filter(l, !(l.startsWith(request.userInfo.username + ' ') && size(l) > "
            + "size(request.userInfo.username) + 1 && !l.substring(size(request.userInfo.username) + 1).contains(' ')))";

    @Property(tries = 5000)
    void everyLineAdmissionAcceptsParsesToExactlyItsWriter(@ForAll("users") String user, @ForAll("rest") String rest) {
        String line = user + rest;
        // Admission checks the annotation line by line (split at LF), so a line never holds one.
        if (!line.contains("\n") && ApprovalLine.acceptedFrom(user, line)) {
            assertThat(ApprovalLine.parse(line)).singleElement().satisfies(l -> assertThat(l.user()).isEqualTo(user));
        }
    }

    @Property(tries = 5000)
    void anApprovalWrittenWithTheApproveCommandParsesToItsWriterOrIsRefused(@ForAll("users") String user, @ForAll("rest") String value) {
        // The mutating policy writes "<user> <value of safety.marketintel.io/approve>"; each of its lines is checked.
        String written = user + " " + value;
        for (String line : written.split("\n")) {
            if (ApprovalLine.acceptedFrom(user, line)) {
                assertThat(ApprovalLine.parse(line)).singleElement().satisfies(l -> assertThat(l.user()).isEqualTo(user));
            }
        }
    }

    @Test
    void theIssue19TrickIsRefused() {
        // alice approves with the value "bob <token>": one approver posing as a second.
        assertThat(ApprovalLine.acceptedFrom("alice", "alice bob 3f9a1c2e7b40")).isFalse();
        assertThat(ApprovalLine.acceptedFrom("alice", "alice 3f9a1c2e7b40")).isTrue();
        assertThat(ApprovalLine.acceptedFrom("alice", "alice 3f9a1c2e7b40 ")).as("a trailing space").isFalse();
        assertThat(ApprovalLine.acceptedFrom("alice", " alice 3f9a1c2e7b40")).as("a leading space").isFalse();
        assertThat(ApprovalLine.acceptedFrom("CN=Risk Officer", "CN=Risk Officer 3f9a1c2e7b40")).as("spaces in a user name").isTrue();
        assertThat(ApprovalLine.parse(" alice 3f9a1c2e7b40")).as("nothing trimmed: not alice").singleElement()
                .satisfies(l -> assertThat(l.user()).isEqualTo(" alice"));
    }

    @Test
    void theShippedAdmissionPoliciesCarryTheSameRule() throws IOException {
        for (String file : new String[] { "k8s/admission/execution-safety-admission.yaml",
                "helm/execution-safety-operator/files/admission/execution-safety-admission.yaml", "k8s/operator/operator.yaml" }) {
            assertThat(Files.readString(Path.of(file))).as(file).contains("expression: \"" + ADMISSION_RULE + "\"");
        }
    }

    @Provide
    Arbitrary<String> users() {
        return Arbitraries.oneOf(Arbitraries.of("alice", "bob", "CN=Risk Officer", "alice bob", "alice ", " alice", "a@b.example"),
                Arbitraries.strings().withChars(" ab\t\r").ofMinLength(1).ofMaxLength(6),
                Arbitraries.strings().all().excludeChars('\n').ofMinLength(1).ofMaxLength(8));
    }

    @Provide
    Arbitrary<String> rest() {
        return Arbitraries.oneOf(Arbitraries.of(" 3f9a1c2e7b40", " bob 3f9a1c2e7b40", "  3f9a1c2e7b40", " 3f9a1c2e7b40 ", " x\nbob 3f9a"),
                Arbitraries.strings().withChars(" abc\n\t").ofMaxLength(10),
                Arbitraries.strings().all().ofMaxLength(12));
    }
}
