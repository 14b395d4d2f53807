package io.affinity.pipeline;

import io.affinity.config.ConfigReader;
import java.util.List;

/**
 * Settings of the model-quality gates against the last published run ({@code affinity.gates}); see
 * reference.conf for meaning and ranges.
 *
 * @param enabled whether a drop beyond the tolerance fails the stage (false: recorded only)
 * @param maxNdcgDrop largest allowed drop of recommend's NDCG@k
 * @param maxAucPrDrop largest allowed drop of propensity's test AUC-PR (calibrated)
 * @param maxSilhouetteDrop largest allowed drop of segment's silhouette
 */
public record GateSettings(boolean enabled, double maxNdcgDrop, double maxAucPrDrop, double maxSilhouetteDrop) {
  private static final String P = "affinity.gates.";

  public static GateSettings from(ConfigReader r) {
    return new GateSettings(r.bool(P + "enabled"),
        r.number(P + "recommend.max-ndcg-drop", 0, 1, false),
        r.number(P + "propensity.max-auc-pr-drop", 0, 1, false),
        r.number(P + "segment.max-silhouette-drop", 0, 2, false));
  }

  /** Recommend's gate on {@code ndcg_at_<k>} (a top-level key of its manifest entry). */
  public QualityGate recommend(int k) {
    return new QualityGate(enabled, "recommend", "ndcg_at_" + k, List.of("ndcg_at_" + k),
        P + "recommend.max-ndcg-drop", maxNdcgDrop);
  }

  /** Propensity's gate on the calibrated test AUC-PR ({@code metrics.calibrated.auc_pr}). */
  public QualityGate propensity() {
    return new QualityGate(enabled, "propensity", "auc_pr", List.of("metrics", "calibrated", "auc_pr"),
        P + "propensity.max-auc-pr-drop", maxAucPrDrop);
  }

  /** Segment's gate on the chosen model's silhouette ({@code model.silhouette}). */
  public QualityGate segment() {
    return new QualityGate(enabled, "segment", "silhouette", List.of("model", "silhouette"),
        P + "segment.max-silhouette-drop", maxSilhouetteDrop);
  }

  /** Gates that record the comparison but never fail (stages built without settings, e.g. in tests). */
  public static GateSettings off() {
    return new GateSettings(false, 1, 1, 2);
  }
}
