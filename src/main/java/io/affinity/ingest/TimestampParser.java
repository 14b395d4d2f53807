package io.affinity.ingest;

import io.affinity.config.TimestampFormat;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;
import java.time.temporal.TemporalAccessor;

/** Parses one configured timestamp format into an {@link Instant}. Not thread-safe-free: create per partition. */
final class TimestampParser {
  private final TimestampFormat format;
  private final ZoneId zone;
  private final DateTimeFormatter pattern;

  TimestampParser(TimestampFormat format) {
    this.format = format;
    this.zone = format.zoneId();
    this.pattern = format.isPattern() ? format.formatter() : null;
  }

  Instant parse(String column, String text) throws Reject {
    String s = text.trim();
    switch (format.format()) {
      case TimestampFormat.EPOCH_SECONDS:
        return epoch(column, s, 1000.0);
      case TimestampFormat.EPOCH_MILLIS:
        return epoch(column, s, 1.0);
      case TimestampFormat.ISO:
        return iso(column, s);
      default:
        return pattern(column, s);
    }
  }

  private Instant epoch(String column, String s, double toMillis) throws Reject {
    double v;
    try {
      v = Double.parseDouble(s);
    } catch (NumberFormatException e) {
      throw bad(column, s, "not a number of " + format.format());
    }
    double millis = v * toMillis;
    // Beyond year 9999 (or before 0001) is a unit mix-up (millis read as seconds), not a time.
    if (!Double.isFinite(millis) || millis > 253402300799999.0 || millis < -62135596800000.0) {
      throw bad(column, s, "out of the representable range for " + format.format());
    }
    return Instant.ofEpochMilli(Math.round(millis));
  }

  private Instant iso(String column, String s) throws Reject {
    try {
      return OffsetDateTime.parse(s).toInstant();
    } catch (DateTimeParseException e) {
      // fall through: no offset, read the local time in the configured zone
    }
    try {
      return Instant.parse(s);
    } catch (DateTimeParseException e) {
      // fall through
    }
    try {
      return local(column, s, LocalDateTime.parse(s));
    } catch (DateTimeParseException e) {
      try {
        return LocalDate.parse(s).atStartOfDay(zone).toInstant();
      } catch (DateTimeParseException e2) {
        throw bad(column, s, "not an ISO-8601 date-time");
      }
    }
  }

  private Instant pattern(String column, String s) throws Reject {
    TemporalAccessor t;
    try {
      t = pattern.parse(s);
    } catch (DateTimeParseException e) {
      throw bad(column, s, "does not match pattern '" + format.format() + "' (" + shortReason(e) + ")");
    }
    try {
      if (t.isSupported(ChronoField.OFFSET_SECONDS)) {
        return OffsetDateTime.from(t).toInstant();
      }
      if (t.isSupported(ChronoField.HOUR_OF_DAY)) {
        return local(column, s, LocalDateTime.from(t));
      }
      return LocalDate.from(t).atStartOfDay(zone).toInstant();
    } catch (DateTimeException e) {
      throw bad(column, s, "incomplete for pattern '" + format.format() + "'");
    }
  }

  /** Local time in the zone; a time inside a spring-forward gap does not exist and is rejected. */
  private Instant local(String column, String s, LocalDateTime ldt) throws Reject {
    ZonedDateTime z = ZonedDateTime.ofLocal(ldt, zone, null);
    if (!z.toLocalDateTime().equals(ldt)) {
      throw bad(column, s, "local time does not exist in zone " + zone + " (daylight-saving gap)");
    }
    return z.toInstant();
  }

  private static String shortReason(DateTimeParseException e) {
    String m = e.getMessage();
    int i = m.indexOf(": ");
    return i >= 0 && m.startsWith("Text") ? m.substring(i + 2) : m;
  }

  private static Reject bad(String column, String s, String why) {
    return new Reject(ReasonCode.BAD_TIMESTAMP, "column '" + column + "' = \"" + s + "\": " + why);
  }
}
