package io.affinity.ingest;

/**
 * Thrown inside row parsing to route a row to quarantine. Cheap: no stack trace, since rejects are
 * data, not errors, and a bad file can produce millions of them.
 */
final class Reject extends Exception {
  final ReasonCode reason;

  Reject(ReasonCode reason, String detail) {
    super(detail, null, false, false);
    this.reason = reason;
  }
}
