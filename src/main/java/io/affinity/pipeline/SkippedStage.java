package io.affinity.pipeline;

/**
 * A stage that does not apply to this configuration (e.g. recommend without an event log): it runs
 * nothing and records {@code status: skipped} with the reason in the manifest, so a scheduler's
 * task for it still succeeds and a reader sees why its outputs are absent.
 */
public final class SkippedStage implements Stage {
  private final String name;
  private final String reason;

  /**
   * @param name the stage's name, as on the command line
   * @param reason why it does not run, for the manifest and the log
   */
  public SkippedStage(String name, String reason) {
    this.name = name;
    this.reason = reason;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public StageReport run(StageContext ctx) {
    return new StageReport().put(Pipeline.SKIPPED, reason);
  }
}
