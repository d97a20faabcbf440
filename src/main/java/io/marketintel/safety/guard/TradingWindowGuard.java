package io.marketintel.safety.guard;

import java.time.DateTimeException;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

import jakarta.enterprise.context.ApplicationScoped;

import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.GuardType;
import io.marketintel.safety.api.v1alpha1.ExecutionPolicySpec.Weekday;

/**
 * Passes only while the clock, read in the configured IANA time zone, is inside one of the windows.
 *
 * <p>
 * Everything is local wall-clock time, so the windows follow daylight-saving changes: a 09:30 opening is
 * 09:30 on the exchange's clock whatever the UTC offset that day. A window is {@code [start, end)} on each
 * of its days; one whose end is not after its start runs past midnight and belongs to the day it starts
 * (Sun 22:00-06:00 is Sunday's session, open until Monday 06:00). Local times that do not exist (the hour
 * skipped in spring) are never inside a window; local times that happen twice (the hour repeated in
 * autumn) are inside it both times.
 *
 * <p>
 * A holiday (a local date) closes the market for the whole of that date, and also cancels an overnight
 * session that starts on it, so no trading happens on behalf of a day with no trading.
 */
@ApplicationScoped
public class TradingWindowGuard implements SafetyGuard {
    /** How far ahead a failing answer looks for the next opening. */
    static final int LOOKAHEAD_DAYS = 14;

    private static final Pattern TIME = Pattern.compile("^([01][0-9]|2[0-3]):[0-5][0-9]$");
    private static final Pattern DATE = Pattern.compile("^[0-9]{4}-[0-9]{2}-[0-9]{2}$");
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm");
    private static final DateTimeFormatter DAY = DateTimeFormatter.ISO_LOCAL_DATE;

    @Override
    public GuardType type() {
        return GuardType.TradingWindow;
    }

    @Override
    public GuardOutcome evaluate(GuardContext ctx) {
        Config config;
        try {
            config = Config.of(ctx.guard());
        } catch (BadConfig e) {
            return GuardOutcome.error(e.getMessage());
        }
        ZonedDateTime now = ctx.now().atZone(config.zone);
        LocalDate today = now.toLocalDate();
        LocalTime time = now.toLocalTime();

        if (!config.holidays.contains(today)) {
            for (Win w : config.windows) {
                if (w.contains(today, time, config.holidays)) {
                    return GuardOutcome.pass("inside window " + w + " " + config.zone.getId());
                }
            }
        }
        String why = config.holidays.contains(today)
                ? today + " is a trading holiday"
                : "outside trading hours";
        return GuardOutcome.fail(why + ": it is " + describe(now) + " " + config.zone.getId() + "; "
                + nextOpening(config, ctx.now())
                        .map(t -> "next window opens " + describe(t))
                        .orElse("no window opens in the next " + LOOKAHEAD_DAYS + " days"));
    }

    /** The first instant after {@code from} (within the lookahead) at which a window is open. */
    static Optional<ZonedDateTime> nextOpening(Config config, Instant from) {
        LocalDate first = from.atZone(config.zone).toLocalDate();
        ZonedDateTime best = null;
        for (int i = 0; i <= LOOKAHEAD_DAYS; i++) {
            LocalDate date = first.plusDays(i);
            if (config.holidays.contains(date)) {
                continue;
            }
            for (Win w : config.windows) {
                if (!w.days.contains(date.getDayOfWeek())) {
                    continue;
                }
                // In a spring-forward gap this resolves to the first existing time after start; it is only an
                // opening if that time is still inside the window (02:30-02:45 on the skipped hour never opens).
                ZonedDateTime opens = ZonedDateTime.of(date, w.start, config.zone);
                if (!opens.toInstant().isAfter(from)
                        || !w.contains(opens.toLocalDate(), opens.toLocalTime(), config.holidays)) {
                    continue;
                }
                if (best == null || opens.isBefore(best)) {
                    best = opens;
                }
            }
            if (best != null) {
                // Openings on later dates are later still (an overnight window opens on its own date).
                return Optional.of(best);
            }
        }
        return Optional.empty();
    }

    private static String describe(ZonedDateTime t) {
        return weekday(t.getDayOfWeek()) + " " + DAY.format(t) + " " + CLOCK.format(t);
    }

    static String weekday(DayOfWeek d) {
        return Weekday.values()[d.getValue() - 1].name();
    }

    /** The guard's settings, checked. */
    record Config(ZoneId zone, List<Win> windows, Set<LocalDate> holidays) {
        static Config of(ExecutionPolicySpec.Guard guard) throws BadConfig {
            ExecutionPolicySpec.TradingWindow tw = guard == null ? null : guard.tradingWindow;
            if (tw == null) {
                throw new BadConfig("no tradingWindow block: a TradingWindow guard needs timeZone and windows");
            }
            if (tw.timeZone == null || tw.timeZone.isBlank()) {
                throw new BadConfig("tradingWindow.timeZone is missing (an IANA name such as America/New_York)");
            }
            ZoneId zone;
            try {
                zone = ZoneId.of(tw.timeZone);
            } catch (DateTimeException e) {
                throw new BadConfig("unknown time zone " + tw.timeZone + " (want an IANA name such as America/New_York)");
            }
            if (tw.windows == null || tw.windows.isEmpty()) {
                throw new BadConfig("tradingWindow has no windows: the market would never be open");
            }
            List<Win> windows = new ArrayList<>();
            for (int i = 0; i < tw.windows.size(); i++) {
                windows.add(Win.of(i + 1, tw.windows.get(i)));
            }
            Set<LocalDate> holidays = new HashSet<>();
            if (tw.holidays != null) {
                for (String h : tw.holidays) {
                    holidays.add(holiday(h));
                }
            }
            return new Config(zone, List.copyOf(windows), Set.copyOf(holidays));
        }

        private static LocalDate holiday(String text) throws BadConfig {
            if (text != null && DATE.matcher(text).matches()) {
                try {
                    return LocalDate.parse(text, DAY); // strict: 2026-02-30 is rejected
                } catch (DateTimeException e) {
                    // fall through
                }
            }
            throw new BadConfig("holiday " + text + " is not a date (YYYY-MM-DD)");
        }
    }

    /** One window: its days and its local start and end. */
    record Win(Set<DayOfWeek> days, List<Weekday> listed, LocalTime start, LocalTime end) {
        static Win of(int index, ExecutionPolicySpec.Window w) throws BadConfig {
            if (w == null) {
                throw new BadConfig("window " + index + " is empty");
            }
            // Not days.contains(null): immutable lists (List.of) throw on a null probe.
            if (w.days == null || w.days.isEmpty() || w.days.stream().anyMatch(java.util.Objects::isNull)) {
                throw new BadConfig("window " + index + " (" + w.start + "-" + w.end + ") has no days: list e.g. [Mon, Tue]");
            }
            Set<DayOfWeek> days = EnumSet.noneOf(DayOfWeek.class);
            for (Weekday d : w.days) {
                days.add(DayOfWeek.of(d.ordinal() + 1));
            }
            List<Weekday> listed = days.stream().map(d -> Weekday.values()[d.getValue() - 1]).toList();
            return new Win(days, listed, time(index, "start", w.start), time(index, "end", w.end));
        }

        private static LocalTime time(int index, String field, String text) throws BadConfig {
            if (text == null || !TIME.matcher(text).matches()) {
                throw new BadConfig("window " + index + ": " + field + " " + (text == null ? "is missing" : "\"" + text + "\" is not a time")
                        + " (HH:MM, 00:00-23:59)");
            }
            return LocalTime.parse(text);
        }

        boolean overnight() {
            return !end.isAfter(start);
        }

        /** Whether local {@code time} on {@code date} is inside this window (holidays already excluded for date). */
        boolean contains(LocalDate date, LocalTime time, Set<LocalDate> holidays) {
            if (!overnight()) {
                return days.contains(date.getDayOfWeek()) && !time.isBefore(start) && time.isBefore(end);
            }
            if (days.contains(date.getDayOfWeek()) && !time.isBefore(start)) {
                return true;
            }
            LocalDate sessionDay = date.minusDays(1);
            return time.isBefore(end) && days.contains(sessionDay.getDayOfWeek()) && !holidays.contains(sessionDay);
        }

        @Override
        public String toString() {
            return dayRanges(listed) + " " + CLOCK.format(start) + "-" + CLOCK.format(end) + (overnight() ? " (next day)" : "");
        }
    }

    /** Mon, Tue, Wed, Fri -> "Mon-Wed,Fri"; input sorted and distinct. */
    static String dayRanges(List<Weekday> days) {
        StringBuilder sb = new StringBuilder();
        int i = 0;
        while (i < days.size()) {
            int j = i;
            while (j + 1 < days.size() && days.get(j + 1).ordinal() == days.get(j).ordinal() + 1) {
                j++;
            }
            if (sb.length() > 0) {
                sb.append(',');
            }
            sb.append(days.get(i));
            if (j - i >= 2) {
                sb.append('-').append(days.get(j));
            } else if (j == i + 1) {
                sb.append(',').append(days.get(j));
            }
            i = j + 1;
        }
        return sb.toString();
    }

    static final class BadConfig extends Exception {
        BadConfig(String message) {
            super(message, null, false, false);
        }
    }
}
