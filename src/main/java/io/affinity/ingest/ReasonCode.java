package io.affinity.ingest;

/**
 * Why a row was quarantined. Codes are a contract: they appear in {@code quarantine/}, in the
 * manifest's per-reason counts and in data-samples/README.md.
 */
public enum ReasonCode {
  /** Wrong number of columns, unbalanced quotes, text after a closing quote, a blank line. */
  MALFORMED_LINE,
  /** A required field (user, item, timestamp, event type, rating) is empty. */
  MISSING_FIELD,
  /** A numeric field is not a finite number (or not a whole number where one is required). */
  BAD_NUMBER,
  /** A timestamp does not parse in the configured format, or names a local time that does not exist. */
  BAD_TIMESTAMP,
  /** The event type is not one of the configured names after aliasing. */
  UNKNOWN_EVENT_TYPE,
  /** A value outside its allowed range: rating off the scale, negative price, non-positive quantity. */
  OUT_OF_RANGE,
  /**
   * The timestamp is in the future: later than the time of ingest (or the end of the run date, if
   * later) plus the configured tolerance. Rows merely after the run date are not rejects: they are
   * counted as {@code after_run_date}.
   */
  FUTURE_TIMESTAMP,
  /** A value above the configured outlier quantile, when the outlier action is quarantine. */
  OUTLIER
}
