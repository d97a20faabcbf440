package io.marketintel.safety.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;

/** The reading of README blocks that {@link ReadmeWalkIT} relies on: what counts as a command, output, a refusal. */
class ReadmeWalkTest {
    static final String README = """
            # Title

            ```sh
            echo before the quick start is not walked
            ```

            ## Quick start

            ```sh
            hack/run.sh
            ```

            ```sh
            ./mvnw verify
            ```

            ```sh
            # a remark before any command
            kubectl get xp
            # NAME       DESIRED   AGE
            # momentum   DryRun    5s

            # a remark after a blank line
            kubectl annotate xp momentum --overwrite \\
              "a=b $TOKEN"      # refused: mallory may not add "carol ..."
            TOKEN=$(kubectl get xp momentum -o jsonpath='{.status.approval.token}')   # a trailing remark
            ```

            ```yaml
            kind: NotShell
            ```

            ## Next
            ```sh
            kubectl get xp momentum -o jsonpath='{.status.approval.command}'
            # kubectl annotate xp momentum safety.marketintel.io/approve=<token>
            ```
            """;

    @Test
    void blocksFromTheQuickStartOnWithoutTheOnesTheTestRunsItself() {
        List<ReadmeWalk.Block> blocks = ReadmeWalk.parse(README);
        assertThat(blocks).extracting(ReadmeWalk.Block::heading).containsExactly("## Quick start", "## Next");
        List<ReadmeWalk.Command> quick = blocks.get(0).commands();
        assertThat(quick).extracting(ReadmeWalk.Command::text).containsExactly(
                "kubectl get xp",
                "kubectl annotate xp momentum --overwrite \\\n  \"a=b $TOKEN\"      # refused: mallory may not add \"carol ...\"",
                "TOKEN=$(kubectl get xp momentum -o jsonpath='{.status.approval.token}')   # a trailing remark");
        assertThat(quick.get(0).shows()).containsExactly("NAME       DESIRED   AGE", "momentum   DryRun    5s");
        assertThat(quick.get(0).line()).as("README line number").isEqualTo(19);
        assertThat(quick.get(1).shows()).isEmpty();
        assertThat(quick.get(1).refused()).contains("mallory may not add \"carol ...\"");
        assertThat(quick.get(2).refused()).isEmpty();
    }

    @Test
    void shownOutputMatchesWithWildcardsAndAnyAge() {
        List<String> shows = List.of("NAME       DESIRED   AGE", "momentum   DryRun    5s");
        assertThat(ReadmeWalk.missing(shows, "NAME   DESIRED  AGE\nmomentum  DryRun  3m12s\n")).isEmpty();
        assertThat(ReadmeWalk.missing(shows, "NAME   DESIRED  AGE\nmomentum  Backtest  3m12s\n")).contains("momentum   DryRun    5s");
        assertThat(ReadmeWalk.missing(shows, "momentum  DryRun  3m12s\n")).as("order and presence of every line").isPresent();
        assertThat(ReadmeWalk.missing(List.of("0"), "02")).as("a line matches whole").isPresent();
        assertThat(ReadmeWalk.missing(List.of("Live refused, staying in DryRun: 1 of 2 approvals for Live (alice); approve with: ..."),
                "Live refused, staying in DryRun: 1 of 2 approvals for Live (alice); approve with: kubectl annotate xp momentum -n default x=1"))
                .isEmpty();
        assertThat(ReadmeWalk.missing(List.of("Live refused, staying in Backtest: ..."), "Live refused, staying in DryRun: x"))
                .isPresent();
        assertThat(ReadmeWalk.missing(List.of("kubectl annotate xp momentum -n default a/approve=<token>"),
                "kubectl annotate xp momentum -n default a/approve=055bfb3bfe3b")).isEmpty();
        assertThat(ReadmeWalk.missing(List.of("kubectl annotate xp momentum -n default a/approve=<token>"),
                "kubectl annotate xp momentum -n trading a/approve=055bfb3bfe3b")).isPresent();
        assertThat(ReadmeWalk.missing(List.of("momentum-trader-... DryRun"), "POD MODE\nmomentum-trader-6f7c-x9z   DryRun")).isEmpty();
        assertThat(ReadmeWalk.missing(List.of("bob [\"alice\",\"carol\"]"), "bob [\"alice\",\"carol\"]")).isEmpty();
        assertThat(ReadmeWalk.missing(List.of(), "anything")).isEqualTo(Optional.empty());
    }

    @Test
    void aRefusalMustSayWhatTheReadmeSays() {
        String refused = "The executionpolicies \"momentum\" is invalid: : ValidatingAdmissionPolicy 'execution-safety-identity' "
                + "denied request: an approval must be written by the approver it names: mallory may not add \"carol 055bfb3bfe3b\"; approve with: ...";
        assertThat(ReadmeWalk.says("mallory may not add \"carol ...\"", refused)).isTrue();
        assertThat(ReadmeWalk.says("mallory may not add \"alice ...\"", refused)).isFalse();
    }

    /** The real README yields a walk (the integration test runs it against hack/run.sh). */
    @Test
    void theReadmeHasAWalk() throws Exception {
        List<ReadmeWalk.Block> blocks = ReadmeWalk.parse(Files.readString(Path.of("README.md")));
        assertThat(blocks).extracting(ReadmeWalk.Block::heading).contains("## Quick start", "## Approvals (four eyes)", "## Emergency stop");
        assertThat(blocks.stream().flatMap(b -> b.commands().stream())).noneMatch(c -> c.text().startsWith("hack/run.sh"));
    }
}
