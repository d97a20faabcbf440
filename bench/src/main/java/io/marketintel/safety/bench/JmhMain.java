package io.marketintel.safety.bench;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;

import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatFactory;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;

/**
 * bench/run.sh's JMH entry point: JMH's own {@code org.openjdk.jmh.Main} with the same arguments (the text result file
 * of {@code -rf text -rff ...} as before), and then the same results in JMH's own JSON format,
 * {@code target/jmh-results.json} (JMH takes one {@code -rf} a run), converted by {@link JmhResults} into
 * {@code target/bench/jmh.json}, the document every benchmark writes ({@link Figures}). Listing and help go to JMH's
 * Main unchanged.
 */
public final class JmhMain {
    static final Path RAW = Path.of("target", "jmh-results.json");

    private JmhMain() {
    }

    public static void main(String[] args) throws Exception {
        CommandLineOptions options = new CommandLineOptions(args);
        if (options.shouldHelp() || options.shouldList() || options.shouldListWithParams() || options.shouldListProfilers()
                || options.shouldListResultFormats()) {
            org.openjdk.jmh.Main.main(args);
            return;
        }
        Bench.main("jmh", figures -> {
            Bench.env("JMH_ARGS", ""); // recorded among the settings: bench/run.sh's own when empty
            figures.context("jmhArgs", String.join(" ", args));
            Collection<RunResult> results = new Runner(options).run();
            Files.createDirectories(RAW.getParent());
            try (PrintStream out = new PrintStream(Files.newOutputStream(RAW), true, "UTF-8")) {
                ResultFormatFactory.getInstance(ResultFormatType.JSON, out).writeOut(results);
            }
            JmhResults.record(figures, Figures.JSON.readTree(RAW.toFile()));
        });
    }
}
