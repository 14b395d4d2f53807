package io.affinity.pipeline;

import io.affinity.io.Datasets;
import io.affinity.io.PublishedRuns;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A model-quality gate against the last published run: a stage's key metric (higher is better) may
 * not drop by more than {@code maxDrop} (absolute) below the value the last published run recorded
 * in its manifest ({@link PublishedRuns#lastBefore}). Each model stage checks its gate after
 * evaluating and before writing anything, so a failure (exit code 4) leaves nothing of the stage
 * for the run date and the previous run stays the published one. Every check, passed or not, is
 * recorded in the stage's manifest entry under {@value #SECTION}.
 *
 * @param enabled false = record the comparison, never fail (affinity.gates.enabled)
 * @param stage the stage whose manifest entry holds the metric
 * @param metric the metric's name in the manifest, e.g. {@code ndcg_at_10}
 * @param path where the metric sits inside the stage's manifest entry
 * @param toleranceKey the configuration key of {@code maxDrop}, named in messages
 * @param maxDrop the largest allowed drop (metric units, >= 0)
 */
public record QualityGate(boolean enabled, String stage, String metric, List<String> path, String toleranceKey,
    double maxDrop) {

  /** Key of the gate's entry in the stage's manifest section. */
  public static final String SECTION = "gate_vs_published";

  /**
   * Compares {@code current} with the last published run's value, records the outcome in
   * {@code report} and throws when the drop is beyond the tolerance.
   *
   * @param current this run's value, or null when it could not be measured this run
   * @throws ModelQualityException when the gate is enabled and the metric dropped too far
   */
  public void check(Datasets ds, Double current, StageReport report) {
    Map<String, Object> g = new LinkedHashMap<>();
    report.put(SECTION, g);
    g.put("metric", metric);
    g.put("current", current);
    Optional<PublishedRuns.Previous> prev = PublishedRuns.lastBefore(ds, stage);
    Double previous = prev.map(p -> value(p.entry())).orElse(null);
    g.put("previous", previous);
    g.put("previous_run_date", prev.map(p -> p.date().toString()).orElse(null));
    g.put("tolerance", maxDrop);
    g.put("tolerance_key", toleranceKey);
    g.put("enabled", enabled);
    String reason;
    boolean passed = true;
    if (prev.isEmpty()) {
      reason = "no previous published run";
    } else if (previous == null) {
      reason = "the published run of " + prev.get().date() + " has no " + metric + " to compare with";
    } else if (current == null || current.isNaN()) {
      reason = metric + " could not be measured this run, so it cannot be compared (see the stage's metrics)";
    } else {
      double drop = previous - current;
      passed = drop <= maxDrop + 1e-12;
      reason = passed
          ? String.format(Locale.ROOT, "%s %.4f is within %.4f of %.4f from the published run of %s",
              metric, current, maxDrop, previous, prev.get().date())
          : String.format(Locale.ROOT, "%s dropped from %.4f (published run of %s) to %.4f, by %.4f, more than %s = %.4f",
              metric, previous, prev.get().date(), current, drop, toleranceKey, maxDrop);
    }
    if (!passed && !enabled) {
      reason += " (not enforced: affinity.gates.enabled = false)";
      passed = true;
    }
    g.put("passed", passed);
    g.put("reason", reason);
    if (!passed) {
      throw new ModelQualityException("model-quality gate failed: " + stage + " " + reason + "; nothing of stage "
          + stage + " was written for run_date=" + ds.runDate() + "; earlier outputs stay published", report);
    }
  }

  /** The metric inside a manifest entry, or null. */
  private Double value(Map<String, Object> entry) {
    Object v = entry;
    for (String key : path) {
      v = v instanceof Map<?, ?> m ? m.get(key) : null;
    }
    return v instanceof Number n ? n.doubleValue() : null;
  }
}
