package io.affinity.pipeline;

/**
 * A fitted model failed its quality gate (e.g. held-out AUC below the configured minimum). Exit
 * code 4. The stage writes nothing for the run date, so the previous run's outputs stay the
 * published ones; the report it carries (metrics, the gate) still goes into the manifest.
 */
public final class ModelQualityException extends RuntimeException {
  private final transient StageReport report;

  public ModelQualityException(String message, StageReport report) {
    super(message);
    this.report = report;
  }

  public StageReport report() {
    return report;
  }
}
