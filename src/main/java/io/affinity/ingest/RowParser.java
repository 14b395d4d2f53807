package io.affinity.ingest;

import java.io.Serializable;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.types.StructType;

/**
 * Turns the text fields of one record into typed values for one source, or rejects the row with a
 * reason. Subclasses declare the columns they read; {@link SourceReader} resolves them per file
 * (from the header or the configured names) so column order may differ between files.
 */
abstract class RowParser implements Serializable {

  /** A physical column this parser reads. */
  record Column(String field, String name, boolean required, String key) implements Serializable {}

  /** The typed output columns, in the order {@link #parse} returns them. */
  abstract StructType schema();

  /** The physical columns read, in the order {@link Fields#get} indexes them. */
  abstract List<Column> columns();

  /** Parses one record. Called on executors; per-partition state goes in transient fields. */
  abstract Object[] parse(Fields fields) throws Reject;

  /** The text fields of one record, indexed like {@link #columns()}. */
  static final class Fields {
    private final String[] values;
    private final List<Column> columns;

    Fields(String[] values, List<Column> columns) {
      this.values = values;
      this.columns = columns;
    }

    /** The raw text of column k, or null when the column is not mapped for this input. */
    String get(int k) {
      return values[k];
    }

    String name(int k) {
      return columns.get(k).name();
    }
  }

  // ---- typed field helpers shared by the source parsers ----

  static boolean blank(String s) {
    return s == null || s.trim().isEmpty();
  }

  static String required(Fields f, int k) throws Reject {
    String v = f.get(k);
    if (blank(v)) {
      throw new Reject(ReasonCode.MISSING_FIELD, "column '" + f.name(k) + "' is empty");
    }
    return v;
  }

  /** An id: trimmed, and "17850.0" made "17850" when enabled (floats written by spreadsheets). */
  static String id(Fields f, int k, boolean trim, boolean stripFloat) throws Reject {
    String v = required(f, k);
    if (trim) {
      v = v.trim();
    }
    if (stripFloat) {
      v = stripFloatSuffix(v);
    }
    return v;
  }

  static String stripFloatSuffix(String v) {
    int dot = v.indexOf('.');
    if (dot <= 0 || dot == v.length() - 1) {
      return v;
    }
    for (int i = 0; i < dot; i++) {
      char c = v.charAt(i);
      if (!(c >= '0' && c <= '9') && !(i == 0 && c == '-')) {
        return v;
      }
    }
    for (int i = dot + 1; i < v.length(); i++) {
      if (v.charAt(i) != '0') {
        return v;
      }
    }
    return v.substring(0, dot);
  }

  /** A finite number, or null when the field is empty. */
  static Double number(Fields f, int k) throws Reject {
    String v = f.get(k);
    if (blank(v)) {
      return null;
    }
    String s = v.trim();
    double d;
    try {
      // Double.parseDouble accepts "NaN", "Infinity" and hex floats; none is a real value here.
      if (!s.matches("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?")) {
        throw new NumberFormatException();
      }
      d = Double.parseDouble(s);
    } catch (NumberFormatException e) {
      throw new Reject(ReasonCode.BAD_NUMBER, "column '" + f.name(k) + "' = \"" + s + "\": not a number");
    }
    if (!Double.isFinite(d)) {
      throw new Reject(ReasonCode.BAD_NUMBER, "column '" + f.name(k) + "' = \"" + s + "\": not a finite number");
    }
    return d;
  }

  /** A whole number within int range, or null when empty; "3.0" is accepted as 3. */
  static Integer whole(Fields f, int k) throws Reject {
    Double d = number(f, k);
    if (d == null) {
      return null;
    }
    if (d != Math.rint(d)) {
      throw new Reject(ReasonCode.BAD_NUMBER, "column '" + f.name(k) + "' = \"" + f.get(k).trim() + "\": not a whole number");
    }
    if (d > Integer.MAX_VALUE || d < Integer.MIN_VALUE) {
      throw new Reject(ReasonCode.OUT_OF_RANGE, "column '" + f.name(k) + "' = \"" + f.get(k).trim()
          + "\": beyond the supported range of +-" + Integer.MAX_VALUE);
    }
    return d.intValue();
  }

  static String text(Fields f, int k) {
    String v = f.get(k);
    return blank(v) ? null : v.trim();
  }

  static String lower(String s) {
    return s.trim().toLowerCase(Locale.ROOT);
  }

  /** Rejects a time before the configured earliest plausible date (e.g. seconds read as millis). */
  static void checkNotTooOld(String column, String text, Instant time, io.affinity.config.Settings.IngestSettings ingest)
      throws Reject {
    Instant min = ingest.minEventDate().atStartOfDay(java.time.ZoneOffset.UTC).toInstant();
    if (time.isBefore(min)) {
      throw new Reject(ReasonCode.OUT_OF_RANGE, "column '" + column + "' = \"" + text.trim() + "\": " + time
          + " is before affinity.ingest.min-event-date " + ingest.minEventDate() + " (epoch seconds read as millis?)");
    }
  }

  /**
   * Quarantines a time that cannot have happened yet: at or after {@code futureLimit}, the moment of
   * ingest (or the end of the run date, if later) plus {@code future-tolerance-hours}. A time after
   * the run date but before that limit is not bad data: ingest counts it as {@code after_run_date}.
   */
  static void checkNotFuture(String column, String text, Instant time, Instant futureLimit) throws Reject {
    if (!time.isBefore(futureLimit)) {
      throw new Reject(ReasonCode.FUTURE_TIMESTAMP, "column '" + column + "' = \"" + text.trim()
          + "\": in the future, later than the time of ingest plus affinity.ingest.future-tolerance-hours (" + futureLimit + ")");
    }
  }

  static java.sql.Timestamp timestamp(Instant i) {
    return i == null ? null : java.sql.Timestamp.from(i);
  }
}
