package io.affinity.segment;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Night-to-night hysteresis of the model: the previous run's segments, refitted from its centroids
 * (the warm start), stay unless a fresh fit is better by more than the noise of seeded restarts.
 * KMeans has many local optima; with eight small clusters two seeds land on partitions whose costs
 * differ by a few per cent, so "the cheapest fit wins" reshuffles users who did not change. A
 * challenger therefore has to win by a margin ({@code warm-start.max-cost-increase} on cost,
 * {@code k.keep-previous-within} on silhouette, both set above how much the best of the seeded fits
 * moves from one choice of seeds to another, docs/SEGMENT.md), or because the warm fit breaks a size
 * rule the fresh one meets.
 *
 * <p>Which k is kept is decided by {@link KChooser} on the kept solutions (the previous k stays
 * while acceptable and within {@code k.keep-previous-within} of the winner's silhouette); this
 * class decides between the two solutions of the previous k.
 */
final class Hysteresis {
  private Hysteresis() {}

  /**
   * The warm-started and the best fresh solution of the previous run's k, and which was kept.
   *
   * @param warmCost cost of the warm-started fit
   * @param warmSilhouette its silhouette (NaN: fewer than two clusters)
   * @param freshCost cost of the best seeded fresh fit
   * @param freshSilhouette its silhouette
   * @param keptWarm whether the warm-started fit was kept
   * @param reason why, naming the margins
   */
  record WarmStart(double warmCost, double warmSilhouette, double freshCost, double freshSilhouette,
      boolean keptWarm, String reason) {}

  /** Keeps the warm-started fit unless the fresh one is better beyond the margins or the size rules. */
  static WarmStart warmOrFresh(KMeansFitter.Candidate warm, KMeansFitter.Candidate fresh, SegmentSettings s) {
    String replaced = freshWins(warm, fresh, s);
    String reason = replaced != null ? replaced
        : "the fresh fit is not better beyond the margins: cost " + signedPercent(costGain(warm, fresh))
            + " (warm-start.max-cost-increase " + percent(s.warmStartTolerance()) + "), silhouette "
            + signed(fresh.silhouette() - warm.silhouette()) + " (k.keep-previous-within "
            + s.keepPreviousWithin() + ")";
    return new WarmStart(warm.fit().cost(), warm.silhouette(), fresh.fit().cost(), fresh.silhouette(),
        replaced == null, reason);
  }

  /** Why the fresh fit replaces the warm one, or null when it does not. */
  private static String freshWins(KMeansFitter.Candidate warm, KMeansFitter.Candidate fresh, SegmentSettings s) {
    if (Double.isNaN(warm.silhouette()) || warm.clusters() < warm.k() && fresh.clusters() == fresh.k()) {
      return "the warm start lost a cluster (" + warm.clusters() + " of " + warm.k() + " found)";
    }
    if (warm.smallestShare() < s.minShare() - s.keepPreviousShareMargin() && fresh.smallestShare() >= s.minShare()) {
      return "the warm start's smallest segment holds " + percent(warm.smallestShare()) + " of users, below k.min-share "
          + percent(s.minShare()) + " - k.keep-previous-share-margin " + percent(s.keepPreviousShareMargin())
          + "; the fresh fit's holds " + percent(fresh.smallestShare());
    }
    if (warm.largestShare() > s.maxShare() + s.keepPreviousShareMargin() && fresh.largestShare() <= s.maxShare()) {
      return "the warm start's largest segment holds " + percent(warm.largestShare()) + " of users, above k.max-share "
          + percent(s.maxShare()) + " + k.keep-previous-share-margin " + percent(s.keepPreviousShareMargin())
          + "; the fresh fit's holds " + percent(fresh.largestShare());
    }
    double costGain = costGain(warm, fresh);
    double silhouetteGain = Double.isNaN(fresh.silhouette()) ? Double.NEGATIVE_INFINITY
        : fresh.silhouette() - warm.silhouette();
    boolean cheaper = costGain > s.warmStartTolerance();
    boolean clearer = silhouetteGain > s.keepPreviousWithin();
    boolean notWorseCost = costGain >= -s.warmStartTolerance();
    boolean notWorseSilhouette = silhouetteGain >= -s.keepPreviousWithin();
    if (cheaper && notWorseSilhouette || clearer && notWorseCost) {
      return "the fresh fit is better beyond the margins: cost " + signedPercent(costGain)
          + " (warm-start.max-cost-increase " + percent(s.warmStartTolerance()) + "), silhouette "
          + signed(silhouetteGain) + " (k.keep-previous-within " + s.keepPreviousWithin() + ")";
    }
    return null;
  }

  /** Share by which the fresh fit's cost is below the warm fit's (positive: fresh is cheaper). */
  private static double costGain(KMeansFitter.Candidate warm, KMeansFitter.Candidate fresh) {
    return warm.fit().cost() <= 0 ? 0.0 : (warm.fit().cost() - fresh.fit().cost()) / warm.fit().cost();
  }

  /** The manifest's {@code hysteresis}: what the night kept of the previous run's model, and why. */
  static Map<String, Object> report(PreviousRun previous, List<KMeansFitter.Candidate> candidates,
      KMeansFitter.Candidate chosen, Map<String, Object> selection, SegmentSettings s) {
    Map<String, Object> h = new LinkedHashMap<>();
    h.put("cost_margin", s.warmStartTolerance());
    h.put("silhouette_margin", s.keepPreviousWithin());
    List<Double> spreads = new ArrayList<>();
    for (KMeansFitter.Candidate c : candidates) {
      spreads.add(SegmentStage.round(c.fit().restartCostSpread()));
    }
    h.put("restart_cost_spread", spreads);
    int previousK = PreviousRun.COMPARED.equals(previous.status()) ? previous.k() : 0;
    h.put("previous_k", previousK == 0 ? null : previousK);
    KMeansFitter.Candidate atPrevious = candidates.stream().filter(c -> c.k() == previousK).findFirst().orElse(null);
    WarmStart w = atPrevious == null ? null : atPrevious.fit().warmStart();
    String outcome;
    String reason;
    if (w == null) {
      outcome = "fresh";
      reason = previousK == 0 ? "no comparable previous model (" + previous.status() + ")"
          : !s.warmStart() ? "warm-start.enabled is false"
          : "the previous k = " + previousK + " was not among the k tried";
    } else if (chosen.k() != previousK) {
      outcome = "other_k";
      Object lost = null;
      for (Object o : (List<?>) selection.getOrDefault("candidates", List.of())) {
        if (o instanceof Map<?, ?> m && Integer.valueOf(previousK).equals(m.get("k"))) {
          lost = m.get("lost_because");
        }
      }
      reason = "k = " + chosen.k() + " replaced the previous k = " + previousK + ": " + lost;
    } else {
      outcome = w.keptWarm() ? "kept_previous" : "fresh_same_k";
      reason = w.reason();
    }
    h.put("outcome", outcome);
    h.put("reason", reason);
    if (w != null) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("warm_cost", SegmentStage.round(w.warmCost()));
      m.put("warm_silhouette", nullIfNaN(w.warmSilhouette()));
      m.put("fresh_cost", SegmentStage.round(w.freshCost()));
      m.put("fresh_silhouette", nullIfNaN(w.freshSilhouette()));
      m.put("kept_warm", w.keptWarm());
      h.put("warm_start", m);
    }
    return h;
  }

  private static Double nullIfNaN(double v) {
    return Double.isNaN(v) ? null : SegmentStage.round(v);
  }

  private static String percent(double share) {
    return Math.round(share * 1000) / 10.0 + " %";
  }

  private static String signedPercent(double share) {
    return (share >= 0 ? "-" : "+") + percent(Math.abs(share));
  }

  private static String signed(double v) {
    return (v >= 0 ? "+" : "") + SegmentStage.round(v);
  }
}
