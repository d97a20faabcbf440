package io.marketintel.safety.e2e;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The README's shell walk-through as data, for {@link ReadmeWalkIT}: the {@code ```sh} blocks from the quick start
 * on, each split into commands, with what the README says each one prints or that it is refused. The README is
 * written for people; these are the few conventions it follows so a machine can check it too:
 * <ul>
 * <li>A line starting with {@code #} directly under a command (no blank line between) is what that command prints,
 * one {@code #} line per output line. A {@code #} line anywhere else (first in a block, after a blank line) is a
 * remark and is not checked.</li>
 * <li>In those lines runs of spaces count as one; {@code ...} stands for anything (the rest of a message, a pod's
 * hash); a word in angle brackets ({@code <token>}) for one word that differs from run to run; an age such as
 * {@code 40s} or {@code 5m} for any age. Every shown line must appear in the output, in order; a line matches
 * whole.</li>
 * <li>A command whose last line ends in {@code # refused: MESSAGE} must fail, saying MESSAGE (same wildcards).</li>
 * <li>A line ending in {@code \} continues on the next; a trailing {@code # remark} is left to bash.</li>
 * <li>Blocks that only run {@code hack/run.sh} or {@code ./mvnw} are not walked: the test runs hack/run.sh itself,
 * and {@code ./mvnw verify} is the test run.</li>
 * </ul>
 */
final class ReadmeWalk {
    /** Where the walk starts. */
    static final String FIRST_HEADING = "## Quick start";

    record Command(String text, int line, List<String> shows, Optional<String> refused) {
        /** The command as the README shows it, for messages. */
        String shown() {
            return text.replace("\n", "\n    ");
        }
    }

    record Block(String heading, int line, List<Command> commands) {
        String name() {
            return heading.replaceFirst("^#+\\s*", "") + " (README.md line " + line + ")";
        }
    }

    private static final Pattern REFUSED = Pattern.compile("\\s#\\s*refused\\b:?\\s*(.*)$");
    private static final Pattern AGE = Pattern.compile("[0-9]+(ms|s|m|h|d)([0-9]+(s|m|h))?");
    private static final String AGE_REGEX = "[0-9]+(ms|s|m|h|d)([0-9]+(s|m|h))?";
    private static final Pattern WILDCARD = Pattern.compile("\\.\\.\\.|<[A-Za-z][A-Za-z0-9_-]*>");

    private ReadmeWalk() {
    }

    /** The blocks to walk, in README order. */
    static List<Block> parse(String readme) {
        String[] lines = readme.split("\n", -1);
        List<Block> blocks = new ArrayList<>();
        String heading = null;
        boolean started = false;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.startsWith("#") && !line.startsWith("#!") && line.matches("^#{1,6} .*")) {
                heading = line.strip();
                started |= heading.equals(FIRST_HEADING);
                continue;
            }
            if (line.strip().startsWith("```")) {
                String lang = line.strip().substring(3).strip();
                int fenceLine = i + 1;
                List<String> body = new ArrayList<>();
                for (i++; i < lines.length && !lines[i].strip().startsWith("```"); i++) {
                    body.add(lines[i]);
                }
                if (started && (lang.equals("sh") || lang.equals("bash") || lang.equals("shell"))) {
                    List<Command> commands = commands(body, fenceLine + 1);
                    if (!commands.isEmpty() && !commands.stream().allMatch(ReadmeWalk::runByTheTest)) {
                        blocks.add(new Block(heading == null ? "(no heading)" : heading, fenceLine, commands));
                    }
                }
            }
        }
        return blocks;
    }

    /** {@code hack/run.sh} (the test runs it) and {@code ./mvnw ...} (the test run itself). */
    private static boolean runByTheTest(Command c) {
        String t = c.text().strip();
        return t.equals("hack/run.sh") || t.startsWith("./mvnw");
    }

    /** {@code firstLine}: the README line number of {@code body.get(0)}. */
    static List<Command> commands(List<String> body, int firstLine) {
        List<Command> commands = new ArrayList<>();
        StringBuilder text = null;
        int startLine = 0;
        List<String> shows = null;
        boolean underCommand = false;
        for (int i = 0; i < body.size(); i++) {
            String line = body.get(i);
            String stripped = line.strip();
            if (text != null) { // continuing a command
                text.append('\n').append(line);
                if (!stripped.endsWith("\\")) {
                    shows = new ArrayList<>();
                    commands.add(command(text.toString(), startLine, shows));
                    text = null;
                    underCommand = true;
                }
                continue;
            }
            if (stripped.isEmpty()) {
                underCommand = false;
            } else if (stripped.startsWith("#")) {
                if (underCommand) {
                    shows.add(stripped.substring(1).replaceFirst("^ ", ""));
                }
            } else {
                startLine = firstLine + i;
                if (stripped.endsWith("\\")) {
                    text = new StringBuilder(line);
                } else {
                    shows = new ArrayList<>();
                    commands.add(command(line, startLine, shows));
                    underCommand = true;
                }
            }
        }
        if (text != null) {
            throw new IllegalArgumentException("README.md line " + startLine + ": the command continues past the end of its block");
        }
        return commands;
    }

    private static Command command(String text, int line, List<String> shows) {
        String last = text.substring(text.lastIndexOf('\n') + 1);
        Matcher refused = REFUSED.matcher(last);
        return new Command(text, line, shows, refused.find() ? Optional.of(refused.group(1).strip()) : Optional.empty());
    }

    /** Runs of whitespace as one space, trimmed. */
    static String normalize(String s) {
        return s.strip().replaceAll("\\s+", " ");
    }

    /** The regular expression for one shown line (or a refusal message), after {@link #normalize}. */
    static Pattern pattern(String shown) {
        StringBuilder regex = new StringBuilder();
        String[] words = normalize(shown).split(" ");
        for (int w = 0; w < words.length; w++) {
            if (w > 0) {
                regex.append(' ');
            }
            String word = words[w];
            if (AGE.matcher(word).matches()) {
                regex.append(AGE_REGEX);
                continue;
            }
            Matcher m = WILDCARD.matcher(word);
            int at = 0;
            while (m.find()) {
                regex.append(Pattern.quote(word.substring(at, m.start())));
                regex.append(m.group().equals("...") ? ".*" : "\\S+");
                at = m.end();
            }
            regex.append(Pattern.quote(word.substring(at)));
        }
        return Pattern.compile(regex.toString().replace("\\Q\\E", ""), Pattern.DOTALL);
    }

    /**
     * The first shown line that the output does not contain (every shown line must match a whole output line, in
     * order), or empty when all are there.
     */
    static Optional<String> missing(List<String> shows, String output) {
        List<String> out = output.lines().map(ReadmeWalk::normalize).filter(l -> !l.isEmpty()).toList();
        int next = 0;
        for (String shown : shows) {
            Pattern p = pattern(shown);
            boolean found = false;
            while (next < out.size()) {
                if (p.matcher(out.get(next++)).matches()) {
                    found = true;
                    break;
                }
            }
            if (!found) {
                return Optional.of(shown);
            }
        }
        return Optional.empty();
    }

    /** Whether a refused command's output says what the README says it does. */
    static boolean says(String message, String output) {
        return pattern(message).matcher(normalize(output)).find();
    }
}
