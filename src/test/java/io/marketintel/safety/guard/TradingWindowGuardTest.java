package io.marketintel.safety.guard;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.GuardType;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.Weekday;
import io.marketintel.safety.guard.GuardOutcome.Result;

class TradingWindowGuardTest {
    static final String NY = "America/New_York";
    static final String LONDON = "Europe/London";

    final TradingWindowGuard guard = new TradingWindowGuard();

    // ---- building blocks ------------------------------------------------------------------------------

    /** "Mon-Fri 09:30 16:00" or "Sat,Sun 22:00 06:00". */
    static ExecutionPolicySpec.Window window(String spec) {
        String[] parts = spec.split(" ");
        var w = new ExecutionPolicySpec.Window();
        w.days = days(parts[0]);
        w.start = parts[1];
        w.end = parts[2];
        return w;
    }

    static List<Weekday> days(String text) {
        List<Weekday> out = new ArrayList<>();
        for (String part : text.split(",")) {
            if (part.contains("-")) {
                Weekday from = Weekday.valueOf(part.substring(0, 3));
                Weekday to = Weekday.valueOf(part.substring(4));
                for (int i = from.ordinal(); i <= to.ordinal(); i++) {
                    out.add(Weekday.values()[i]);
                }
            } else {
                out.add(Weekday.valueOf(part));
            }
        }
        return out;
    }

    static ExecutionPolicySpec.Guard tradingWindow(String zone, List<String> holidays, String... windows) {
        var g = new ExecutionPolicySpec.Guard();
        g.name = "market-hours";
        g.type = GuardType.TradingWindow;
        g.tradingWindow = new ExecutionPolicySpec.TradingWindow();
        g.tradingWindow.timeZone = zone;
        g.tradingWindow.windows = new ArrayList<>(Arrays.stream(windows).map(TradingWindowGuardTest::window).toList());
        g.tradingWindow.holidays = holidays;
        return g;
    }

    GuardOutcome at(ExecutionPolicySpec.Guard g, String instant) {
        return guard.evaluate(GuardContexts.context(g, Instant.parse(instant)));
    }

    /** Regression (found by bench/run.sh): days given as an immutable List.of made the guard throw NPE. */
    @Test
    void immutableDayListsDoNotCrashTheGuard() {
        var g = tradingWindow("America/New_York", List.of(), "Mon-Fri 09:30 16:00");
        g.tradingWindow.windows.get(0).days = List.of(Weekday.Mon, Weekday.Tue, Weekday.Wed, Weekday.Thu, Weekday.Fri);
        g.tradingWindow.windows = List.copyOf(g.tradingWindow.windows);
        org.assertj.core.api.Assertions.assertThat(at(g, "2026-11-26T15:00:00Z").result()).isEqualTo(GuardOutcome.Result.Pass);
    }

    // ---- plain pass and fail ------------------------------------------------------------------------------

    @Test
    void typeIsTradingWindow() {
        assertThat(guard.type()).isEqualTo(GuardType.TradingWindow);
    }

    @Test
    void passesInsideTheWindowAndSaysWhichOne() {
        var out = at(tradingWindow(NY, null, "Mon-Fri 09:30 16:00"), "2026-11-30T15:00:00Z"); // Mon 10:00 EST
        assertThat(out.result()).isEqualTo(Result.Pass);
        assertThat(out.message()).isEqualTo("inside window Mon-Fri 09:30-16:00 America/New_York");
    }

    @Test
    void failsAtTheWeekendAndSaysWhenTheNextWindowOpens() {
        var out = at(tradingWindow(NY, null, "Mon-Fri 09:30 16:00"), "2026-11-28T15:15:00Z"); // Sat 10:15 EST
        assertThat(out.result()).isEqualTo(Result.Fail);
        assertThat(out.message()).isEqualTo(
                "outside trading hours: it is Sat 2026-11-28 10:15 America/New_York; next window opens Mon 2026-11-30 09:30");
    }

    @Test
    void startIsInclusiveAndEndExclusive() {
        var g = tradingWindow(NY, null, "Mon-Fri 09:30 16:00");
        assertThat(at(g, "2026-11-30T14:30:00Z").result()).isEqualTo(Result.Pass); // 09:30
        assertThat(at(g, "2026-11-30T20:59:59Z").result()).isEqualTo(Result.Pass); // 15:59:59
        var closed = at(g, "2026-11-30T21:00:00Z"); // 16:00
        assertThat(closed.result()).isEqualTo(Result.Fail);
        assertThat(closed.message()).isEqualTo(
                "outside trading hours: it is Mon 2026-11-30 16:00 America/New_York; next window opens Tue 2026-12-01 09:30");
    }

    @Test
    void laterWindowTheSameDayIsTheNextOpening() {
        var g = tradingWindow(LONDON, null, "Mon-Fri 08:00 12:00", "Mon-Fri 13:00 16:30");
        var lunch = at(g, "2026-12-01T12:30:00Z"); // Tue 12:30 GMT
        assertThat(lunch.result()).isEqualTo(Result.Fail);
        assertThat(lunch.message()).endsWith("; next window opens Tue 2026-12-01 13:00");
        assertThat(at(g, "2026-12-01T13:00:00Z").message()).isEqualTo("inside window Mon-Fri 13:00-16:30 Europe/London");
    }

    @Test
    void daysThatAreNotContiguousAreListed() {
        var out = at(tradingWindow(NY, null, "Mon,Wed,Fri 09:30 16:00"), "2026-12-02T15:00:00Z"); // Wed
        assertThat(out.message()).isEqualTo("inside window Mon,Wed,Fri 09:30-16:00 America/New_York");
        var tue = at(tradingWindow(NY, null, "Mon,Wed,Fri 09:30 16:00"), "2026-12-01T15:00:00Z");
        assertThat(tue.result()).isEqualTo(Result.Fail);
        assertThat(tue.message()).endsWith("next window opens Wed 2026-12-02 09:30");
    }

    @Test
    void overnightWindowBelongsToTheDayItStarts() {
        var g = tradingWindow(NY, null, "Sun 22:00 06:00");
        assertThat(at(g, "2026-11-30T03:30:00Z").result()).isEqualTo(Result.Pass); // Sun 22:30 EST
        var out = at(g, "2026-11-30T10:59:00Z"); // Mon 05:59 EST
        assertThat(out.result()).isEqualTo(Result.Pass);
        assertThat(out.message()).isEqualTo("inside window Sun 22:00-06:00 (next day) America/New_York");
        assertThat(at(g, "2026-11-30T11:00:00Z").result()).isEqualTo(Result.Fail); // Mon 06:00
        // Saturday night is not Sunday's session.
        var sat = at(g, "2026-11-29T03:30:00Z"); // Sat 22:30 EST
        assertThat(sat.result()).isEqualTo(Result.Fail);
        assertThat(sat.message()).endsWith("next window opens Sun 2026-11-29 22:00");
    }

    @Test
    void aWindowFromMidnightToMidnightIsOpenAllDay() {
        var g = tradingWindow(LONDON, null, "Mon 00:00 00:00");
        assertThat(at(g, "2026-11-30T00:00:00Z").result()).isEqualTo(Result.Pass);
        assertThat(at(g, "2026-11-30T23:59:59Z").result()).isEqualTo(Result.Pass);
        assertThat(at(g, "2026-12-01T00:00:00Z").result()).isEqualTo(Result.Fail);
        assertThat(at(g, "2026-11-29T23:59:59Z").result()).isEqualTo(Result.Fail);
    }

    @Test
    void noOpeningWithinTwoWeeksIsSaid() {
        var holidays = new ArrayList<String>();
        for (int d = 0; d < 20; d++) { // every day from Mon 2026-11-30 for 20 days
            holidays.add(java.time.LocalDate.of(2026, 11, 30).plusDays(d).toString());
        }
        var out = at(tradingWindow(NY, holidays, "Mon-Fri 09:30 16:00"), "2026-11-28T15:15:00Z");
        assertThat(out.result()).isEqualTo(Result.Fail);
        assertThat(out.message()).endsWith("; no window opens in the next 14 days");
    }

    // ---- daylight saving: two zones, both changes of 2026 -------------------------------------------------

    @ParameterizedTest(name = "{0} {1}: {2} -> {3}")
    @CsvSource({
            // New York, spring forward Sun 2026-03-08 02:00 EST -> 03:00 EDT (UTC-5 -> UTC-4)
            "America/New_York, Mon-Fri 09:30 16:00, 2026-03-06T14:30:00Z, Pass", // Fri 09:30 EST
            "America/New_York, Mon-Fri 09:30 16:00, 2026-03-09T13:30:00Z, Pass", // Mon 09:30 EDT
            "America/New_York, Mon-Fri 09:30 16:00, 2026-03-09T13:29:00Z, Fail", // Mon 09:29 EDT
            "America/New_York, Mon-Fri 09:30 16:00, 2026-03-09T19:59:00Z, Pass", // Mon 15:59 EDT
            "America/New_York, Mon-Fri 09:30 16:00, 2026-03-09T20:00:00Z, Fail", // Mon 16:00 EDT (15:00 at a stale UTC-5)
            // New York, fall back Sun 2026-11-01 02:00 EDT -> 01:00 EST
            "America/New_York, Mon-Fri 09:30 16:00, 2026-10-30T13:30:00Z, Pass", // Fri 09:30 EDT
            "America/New_York, Mon-Fri 09:30 16:00, 2026-11-02T14:30:00Z, Pass", // Mon 09:30 EST
            "America/New_York, Mon-Fri 09:30 16:00, 2026-11-02T14:29:00Z, Fail", // Mon 09:29 EST
            "America/New_York, Mon-Fri 09:30 16:00, 2026-11-02T13:30:00Z, Fail", // Mon 08:30 EST (09:30 at a stale UTC-4)
            // London, spring forward Sun 2026-03-29 01:00 GMT -> 02:00 BST
            "Europe/London, Mon-Fri 09:30 16:00, 2026-03-27T09:30:00Z, Pass", // Fri 09:30 GMT
            "Europe/London, Mon-Fri 09:30 16:00, 2026-03-30T08:30:00Z, Pass", // Mon 09:30 BST
            "Europe/London, Mon-Fri 09:30 16:00, 2026-03-30T08:29:00Z, Fail", // Mon 09:29 BST
            "Europe/London, Mon-Fri 09:30 16:00, 2026-03-30T15:00:00Z, Fail", // Mon 16:00 BST
            // London, fall back Sun 2026-10-25 02:00 BST -> 01:00 GMT
            "Europe/London, Mon-Fri 09:30 16:00, 2026-10-26T09:30:00Z, Pass", // Mon 09:30 GMT
            "Europe/London, Mon-Fri 09:30 16:00, 2026-10-26T09:29:00Z, Fail", // Mon 09:29 GMT
            "Europe/London, Mon-Fri 09:30 16:00, 2026-10-26T08:30:00Z, Fail", // Mon 08:30 GMT (09:30 at a stale UTC+1)
            "Europe/London, Mon-Fri 09:30 16:00, 2026-10-26T15:59:00Z, Pass", // Mon 15:59 GMT

            // Overnight Sat 22:00 -> Sun 06:00 across the change night
            "America/New_York, Sat 22:00 06:00, 2026-03-08T02:59:00Z, Fail", // Sat 21:59 EST
            "America/New_York, Sat 22:00 06:00, 2026-03-08T03:00:00Z, Pass", // Sat 22:00 EST
            "America/New_York, Sat 22:00 06:00, 2026-03-08T06:59:00Z, Pass", // Sun 01:59 EST
            "America/New_York, Sat 22:00 06:00, 2026-03-08T07:00:00Z, Pass", // Sun 03:00 EDT
            "America/New_York, Sat 22:00 06:00, 2026-03-08T09:59:00Z, Pass", // Sun 05:59 EDT
            "America/New_York, Sat 22:00 06:00, 2026-03-08T10:00:00Z, Fail", // Sun 06:00 EDT (05:00 at a stale UTC-5)
            "America/New_York, Sat 22:00 06:00, 2026-11-01T01:59:00Z, Fail", // Sat 21:59 EDT
            "America/New_York, Sat 22:00 06:00, 2026-11-01T02:00:00Z, Pass", // Sat 22:00 EDT
            "America/New_York, Sat 22:00 06:00, 2026-11-01T10:00:00Z, Pass", // Sun 05:00 EST (06:00 at a stale UTC-4)
            "America/New_York, Sat 22:00 06:00, 2026-11-01T10:59:00Z, Pass", // Sun 05:59 EST
            "America/New_York, Sat 22:00 06:00, 2026-11-01T11:00:00Z, Fail", // Sun 06:00 EST
            "Europe/London, Sat 22:00 06:00, 2026-03-28T21:59:00Z, Fail", // Sat 21:59 GMT
            "Europe/London, Sat 22:00 06:00, 2026-03-28T22:00:00Z, Pass", // Sat 22:00 GMT
            "Europe/London, Sat 22:00 06:00, 2026-03-29T04:59:00Z, Pass", // Sun 05:59 BST
            "Europe/London, Sat 22:00 06:00, 2026-03-29T05:00:00Z, Fail", // Sun 06:00 BST
            "Europe/London, Sat 22:00 06:00, 2026-10-24T20:59:00Z, Fail", // Sat 21:59 BST
            "Europe/London, Sat 22:00 06:00, 2026-10-24T21:00:00Z, Pass", // Sat 22:00 BST
            "Europe/London, Sat 22:00 06:00, 2026-10-25T05:59:00Z, Pass", // Sun 05:59 GMT
            "Europe/London, Sat 22:00 06:00, 2026-10-25T06:00:00Z, Fail", // Sun 06:00 GMT

            // 01:30-02:30 on fall-back night: 01:30-01:59 happens twice, both inside
            "America/New_York, Sun 01:30 02:30, 2026-11-01T05:29:00Z, Fail", // 01:29 EDT
            "America/New_York, Sun 01:30 02:30, 2026-11-01T05:30:00Z, Pass", // 01:30 EDT (first)
            "America/New_York, Sun 01:30 02:30, 2026-11-01T05:59:00Z, Pass", // 01:59 EDT
            "America/New_York, Sun 01:30 02:30, 2026-11-01T06:00:00Z, Fail", // 01:00 EST (clock went back)
            "America/New_York, Sun 01:30 02:30, 2026-11-01T06:30:00Z, Pass", // 01:30 EST (second)
            "America/New_York, Sun 01:30 02:30, 2026-11-01T07:29:00Z, Pass", // 02:29 EST
            "America/New_York, Sun 01:30 02:30, 2026-11-01T07:30:00Z, Fail", // 02:30 EST
            "Europe/London, Sun 01:30 02:30, 2026-10-25T00:29:00Z, Fail", // 01:29 BST
            "Europe/London, Sun 01:30 02:30, 2026-10-25T00:30:00Z, Pass", // 01:30 BST (first)
            "Europe/London, Sun 01:30 02:30, 2026-10-25T01:00:00Z, Fail", // 01:00 GMT (clock went back)
            "Europe/London, Sun 01:30 02:30, 2026-10-25T01:30:00Z, Pass", // 01:30 GMT (second)
            "Europe/London, Sun 01:30 02:30, 2026-10-25T02:29:00Z, Pass", // 02:29 GMT
            "Europe/London, Sun 01:30 02:30, 2026-10-25T02:30:00Z, Fail", // 02:30 GMT

            // A window inside the skipped hour never opens
            "America/New_York, Sun 02:00 02:59, 2026-03-08T06:59:00Z, Fail", // 01:59 EST
            "America/New_York, Sun 02:00 02:59, 2026-03-08T07:00:00Z, Fail", // 03:00 EDT
            "Europe/London, Sun 01:00 01:59, 2026-03-29T00:59:00Z, Fail", // 00:59 GMT
            "Europe/London, Sun 01:00 01:59, 2026-03-29T01:00:00Z, Fail", // 02:00 BST
    })
    void followsTheLocalClockAcrossDaylightSavingChanges(String zone, String window, String instant, Result expected) {
        var out = at(tradingWindow(zone, null, window), instant);
        assertThat(out.result()).as(out.message()).isEqualTo(expected);
    }

    @Test
    void nextOpeningIsOnTheLocalClockAfterTheChange() {
        // Fri 2026-03-06 16:30 EST; Monday opens at 09:30 EDT = 13:30Z, not 14:30Z.
        var ny = at(tradingWindow(NY, null, "Mon-Fri 09:30 16:00"), "2026-03-06T21:30:00Z");
        assertThat(ny.message()).isEqualTo(
                "outside trading hours: it is Fri 2026-03-06 16:30 America/New_York; next window opens Mon 2026-03-09 09:30");
        var london = at(tradingWindow(LONDON, null, "Mon-Fri 09:30 16:00"), "2026-10-24T12:00:00Z");
        assertThat(london.message()).isEqualTo(
                "outside trading hours: it is Sat 2026-10-24 13:00 Europe/London; next window opens Mon 2026-10-26 09:30");
    }

    @Test
    void aWindowStartingInTheSkippedHourOpensWhenTheClockResumes() {
        var g = tradingWindow(NY, null, "Sun 02:00 04:00");
        assertThat(at(g, "2026-03-08T07:00:00Z").result()).isEqualTo(Result.Pass); // 03:00 EDT
        var before = at(g, "2026-03-08T06:00:00Z"); // 01:00 EST
        assertThat(before.message()).endsWith("next window opens Sun 2026-03-08 03:00");
        // Inside the skipped hour only: never opens that Sunday, next is a week later.
        var gap = at(tradingWindow(NY, null, "Sun 02:15 02:45"), "2026-03-08T06:00:00Z");
        assertThat(gap.message()).endsWith("next window opens Sun 2026-03-15 02:15");
    }

    // ---- holidays -------------------------------------------------------------------------------------

    @Test
    void aHolidayIsTheLocalDateNotTheUtcDate() {
        // Thu 2026-11-26 20:00 EST is already Fri 2026-11-27 01:00 in UTC.
        String instant = "2026-11-27T01:00:00Z";
        var thanksgiving = at(tradingWindow(NY, List.of("2026-11-26"), "Mon-Fri 18:00 23:00"), instant);
        assertThat(thanksgiving.result()).isEqualTo(Result.Fail);
        assertThat(thanksgiving.message()).isEqualTo(
                "2026-11-26 is a trading holiday: it is Thu 2026-11-26 20:00 America/New_York; next window opens Fri 2026-11-27 18:00");
        var utcDate = at(tradingWindow(NY, List.of("2026-11-27"), "Mon-Fri 18:00 23:00"), instant);
        assertThat(utcDate.result()).isEqualTo(Result.Pass);
    }

    @Test
    void aHolidayClosesTheWholeDayAndTheNextOpeningSkipsIt() {
        var g = tradingWindow(NY, List.of("2026-11-26"), "Mon-Fri 09:30 16:00");
        var out = at(g, "2026-11-26T15:15:00Z"); // Thu 10:15 EST
        assertThat(out.result()).isEqualTo(Result.Fail);
        assertThat(out.message()).isEqualTo(
                "2026-11-26 is a trading holiday: it is Thu 2026-11-26 10:15 America/New_York; next window opens Fri 2026-11-27 09:30");
        var wed = at(g, "2026-11-25T22:00:00Z"); // Wed 17:00
        assertThat(wed.message()).endsWith("next window opens Fri 2026-11-27 09:30");
    }

    @Test
    void anOvernightSessionIsCancelledByAHolidayOnEitherDate() {
        var g = tradingWindow(NY, List.of("2026-11-26"), "Mon-Fri 22:00 06:00");
        assertThat(at(g, "2026-11-26T08:00:00Z").result()).isEqualTo(Result.Fail); // Thu 03:00, Wed's session on Thu
        assertThat(at(g, "2026-11-27T08:00:00Z").result()).isEqualTo(Result.Fail); // Fri 03:00, Thu's session
        assertThat(at(g, "2026-11-28T08:00:00Z").result()).isEqualTo(Result.Pass); // Sat 03:00, Fri's session
    }

    // ---- bad configuration ----------------------------------------------------------------------------

    @Test
    void missingBlockIsAnError() {
        var g = tradingWindow(NY, null, "Mon-Fri 09:30 16:00");
        g.tradingWindow = null;
        var out = at(g, "2026-11-30T15:00:00Z");
        assertThat(out.result()).isEqualTo(Result.Error);
        assertThat(out.message()).startsWith("no tradingWindow block");
    }

    @Test
    void unknownTimeZoneIsAnError() {
        var out = at(tradingWindow("Mars/Olympus", null, "Mon-Fri 09:30 16:00"), "2026-11-30T15:00:00Z");
        assertThat(out.result()).isEqualTo(Result.Error);
        assertThat(out.message()).startsWith("unknown time zone Mars/Olympus");
        var missing = at(tradingWindow(null, null, "Mon-Fri 09:30 16:00"), "2026-11-30T15:00:00Z");
        assertThat(missing.result()).isEqualTo(Result.Error);
        assertThat(missing.message()).startsWith("tradingWindow.timeZone is missing");
    }

    @Test
    void malformedHolidayIsAnError() {
        for (String bad : List.of("2026-13-01", "2026-02-30", "26-11-26", "2026-11-26T00:00", "Thanksgiving")) {
            var out = at(tradingWindow(NY, List.of("2026-11-26", bad), "Mon-Fri 09:30 16:00"), "2026-11-30T15:00:00Z");
            assertThat(out.result()).as(bad).isEqualTo(Result.Error);
            assertThat(out.message()).isEqualTo("holiday " + bad + " is not a date (YYYY-MM-DD)");
        }
    }

    @Test
    void malformedStartOrEndIsAnError() {
        var start = at(tradingWindow(NY, null, "Mon-Fri 9:30 16:00"), "2026-11-30T15:00:00Z");
        assertThat(start.result()).isEqualTo(Result.Error);
        assertThat(start.message()).isEqualTo("window 1: start \"9:30\" is not a time (HH:MM, 00:00-23:59)");
        var end = at(tradingWindow(NY, null, "Mon-Fri 09:30 16:00", "Sat 10:00 24:00"), "2026-11-30T15:00:00Z");
        assertThat(end.result()).isEqualTo(Result.Error);
        assertThat(end.message()).isEqualTo("window 2: end \"24:00\" is not a time (HH:MM, 00:00-23:59)");
        var g = tradingWindow(NY, null, "Mon-Fri 09:30 16:00");
        g.tradingWindow.windows.get(0).end = null;
        assertThat(at(g, "2026-11-30T15:00:00Z").message()).isEqualTo("window 1: end is missing (HH:MM, 00:00-23:59)");
    }

    @Test
    void emptyDaysOrNoWindowsIsAnError() {
        var g = tradingWindow(NY, null, "Mon-Fri 09:30 16:00");
        g.tradingWindow.windows.get(0).days = List.of();
        var out = at(g, "2026-11-30T15:00:00Z");
        assertThat(out.result()).isEqualTo(Result.Error);
        assertThat(out.message()).startsWith("window 1 (09:30-16:00) has no days");
        var none = tradingWindow(NY, null);
        var noWindows = at(none, "2026-11-30T15:00:00Z");
        assertThat(noWindows.result()).isEqualTo(Result.Error);
        assertThat(noWindows.message()).startsWith("tradingWindow has no windows");
    }
}
