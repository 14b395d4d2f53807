package io.affinity.pipeline;

/**
 * One step of the nightly chain. A stage reads the Parquet outputs of earlier stages for the same
 * run date and writes its own, so it can run alone (one Airflow task) or inside {@code all}.
 * Settings arrive through the constructor; {@link #run} gets only what varies per run.
 */
public interface Stage {
  /** The stage name used on the command line and in the manifest. */
  String name();

  /**
   * Runs the stage.
   *
   * @return what the manifest records for this stage: row counts, metrics, decisions
   * @throws DataQualityException when a data-quality gate fails (exit code 3)
   */
  StageReport run(StageContext context);
}
