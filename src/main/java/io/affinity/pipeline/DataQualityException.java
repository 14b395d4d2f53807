package io.affinity.pipeline;

/**
 * The input failed a data-quality gate (too many rejected rows, no data at all). Exit code 3.
 * Carries the stage's report so the manifest still records the counts that led to the failure.
 */
public final class DataQualityException extends RuntimeException {
  private final transient StageReport report;

  public DataQualityException(String message, StageReport report) {
    super(message);
    this.report = report;
  }

  public StageReport report() {
    return report;
  }
}
