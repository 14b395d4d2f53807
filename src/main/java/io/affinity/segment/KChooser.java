package io.affinity.segment;

import io.affinity.pipeline.DataQualityException;
import io.affinity.pipeline.StageReport;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Which k values to try, and which of the fitted candidates becomes the model (manifest: {@code selection}). */
final class KChooser {
  private final SegmentSettings settings;

  KChooser(SegmentSettings settings) {
    this.settings = settings;
  }

  /** The k values to try: silhouette needs at least one user more than clusters. */
  List<Integer> candidateKs(long n, StageReport report) {
    Map<String, Object> sel = report.section("selection");
    List<Integer> ks = new ArrayList<>();
    if (settings.chooseK()) {
      sel.put("mode", "silhouette");
      sel.put("k_range", List.of(settings.kMin(), settings.kMax()));
      for (int k = settings.kMin(); k <= settings.kMax() && k < n; k++) {
        ks.add(k);
      }
    } else {
      sel.put("mode", "fixed");
      if (settings.kFixed() < n) {
        ks.add(settings.kFixed());
      }
    }
    if (ks.isEmpty()) {
      int needed = (settings.chooseK() ? settings.kMin() : settings.kFixed()) + 1;
      throw new DataQualityException("segment: " + SegmentStage.USERS + " has " + n + " users; at least " + needed
          + " are needed for " + (needed - 1) + " segments", report);
    }
    return ks;
  }

  /**
   * Chooses k among the fitted candidates (fixed k: the only one).
   *
   * <ol>
   *   <li><b>Acceptable</b>: silhouette within {@code k.silhouette-tolerance} of the best one and no
   *       segment below {@code k.min-share} of the users (KMeans found all k clusters).
   *   <li>Among the acceptable, those whose largest segment holds at most {@code k.max-share} are
   *       preferred; if none does, the manifest says so ({@code max_share_met: false}).
   *   <li>Among those, the most segments win: more segments are more to act on, and within the
   *       tolerance the data supports each of them about as well.
   *   <li>Night-to-night stability (hysteresis): the previous run's k stays while it passes 1 and 2
   *       as well as the winner and its silhouette (that of the solution kept for it, usually the
   *       warm start, see {@link Hysteresis}) is within {@code k.keep-previous-within} of the
   *       winner's: another k has to be better beyond the noise of seeded restarts.
   * </ol>
   * If no candidate is acceptable (a tiny or degenerate population) the best silhouette wins.
   * Every candidate is in {@code selection.candidates} with the reason it lost.
   *
   * @param previousK the previous run's k when its centroids are comparable, else 0
   */
  int choose(List<KMeansFitter.Candidate> candidates, int previousK, Map<String, Object> sel) {
    KMeansFitter.Candidate best = null;
    for (KMeansFitter.Candidate c : candidates) {
      if (!Double.isNaN(c.silhouette()) && (best == null || c.silhouette() > best.silhouette())) {
        best = c;
      }
    }
    Map<Integer, String> lost = new LinkedHashMap<>();
    KMeansFitter.Candidate chosen;
    boolean maxShareMet;
    boolean kept = false;
    if (best == null || !settings.chooseK()) {
      chosen = best == null ? candidates.get(0) : best; // fixed k, or no candidate has two non-empty clusters
      maxShareMet = chosen.largestShare() <= settings.maxShare();
    } else {
      List<KMeansFitter.Candidate> acceptable = new ArrayList<>();
      for (KMeansFitter.Candidate c : candidates) {
        String why = unacceptable(c, best, c.k() == previousK);
        if (why == null) {
          acceptable.add(c);
        } else {
          lost.put(c.k(), why);
        }
      }
      maxShareMet = acceptable.stream().anyMatch(c -> c.largestShare() <= settings.maxShare());
      List<KMeansFitter.Candidate> preferred = new ArrayList<>();
      for (KMeansFitter.Candidate c : acceptable) {
        if (maxShareMet && c.largestShare() > maxShare(c.k() == previousK)) {
          lost.put(c.k(), "largest segment " + percent(c.largestShare()) + " of users, above k.max-share "
              + percent(settings.maxShare()) + " (another acceptable k stays below it)");
        } else {
          preferred.add(c);
        }
      }
      if (preferred.isEmpty()) { // nothing acceptable: the best silhouette
        chosen = best;
        lost.remove(best.k());
      } else {
        chosen = preferred.stream().max((a, b) -> Integer.compare(a.k(), b.k())).orElseThrow();
        for (KMeansFitter.Candidate c : preferred) {
          if (c != chosen && c.k() == previousK
              && c.silhouette() >= chosen.silhouette() - settings.keepPreviousWithin()) {
            lost.put(chosen.k(), "the previous run's k = " + c.k() + " is as acceptable and its silhouette within"
                + " k.keep-previous-within " + settings.keepPreviousWithin() + " (stability)");
            chosen = c;
            kept = true;
            break;
          }
        }
        for (KMeansFitter.Candidate c : preferred) {
          if (c != chosen && !lost.containsKey(c.k())) {
            lost.put(c.k(), kept ? "not the previous run's k" : "fewer segments than k = " + chosen.k()
                + ", which is as acceptable");
          }
        }
      }
    }
    List<Map<String, Object>> list = new ArrayList<>();
    for (KMeansFitter.Candidate c : candidates) {
      Map<String, Object> m = describe(c);
      m.put("chosen", c == chosen);
      m.put("lost_because", c == chosen ? null : lost.get(c.k()));
      list.add(m);
    }
    sel.put("candidates", list);
    sel.put("silhouette_tolerance", settings.silhouetteTolerance());
    sel.put("min_share", settings.minShare());
    sel.put("max_share", settings.maxShare());
    sel.put("best_silhouette_k", best == null ? null : best.k());
    sel.put("best_k", best == null ? null : best.k());
    sel.put("chosen_k", chosen.k());
    sel.put("kept_previous_k", kept);
    sel.put("max_share_met", maxShareMet);
    if (!maxShareMet) {
      sel.put("max_share_note", "no acceptable k keeps every segment at or below " + percent(settings.maxShare())
          + " of users: the data leaves no such choice; the chosen k's largest segment holds "
          + percent(chosen.largestShare()));
    }
    return chosen.k();
  }

  /**
   * Why a candidate is not acceptable, or null when it is. The previous run's k is judged with a
   * hysteresis band: its silhouette may be {@code k.keep-previous-within} further below the best and
   * its smallest segment {@code k.keep-previous-share-margin} smaller, so that a bound crossed by a
   * few boundary users does not change k (and every segment) overnight.
   */
  private String unacceptable(KMeansFitter.Candidate c, KMeansFitter.Candidate best, boolean previous) {
    if (Double.isNaN(c.silhouette())) {
      return "fewer than two non-empty clusters";
    }
    if (c.clusters() < c.k()) {
      return "KMeans found only " + c.clusters() + " clusters";
    }
    double tolerance = settings.silhouetteTolerance() + (previous ? settings.keepPreviousWithin() : 0);
    if (c.silhouette() < best.silhouette() - tolerance) {
      return "silhouette " + SegmentStage.round(c.silhouette()) + " is more than k.silhouette-tolerance "
          + settings.silhouetteTolerance() + (previous ? " + k.keep-previous-within " + settings.keepPreviousWithin() : "")
          + " below the best " + SegmentStage.round(best.silhouette()) + " (k = " + best.k() + ")";
    }
    double minShare = settings.minShare() - (previous ? settings.keepPreviousShareMargin() : 0);
    if (c.smallestShare() < minShare) {
      return "smallest segment " + percent(c.smallestShare()) + " of users, below k.min-share "
          + percent(settings.minShare()) + (previous ? " - k.keep-previous-share-margin "
          + percent(settings.keepPreviousShareMargin()) : "");
    }
    return null;
  }

  /** The preferred largest share; the previous run's k is given the hysteresis band. */
  private double maxShare(boolean previous) {
    return settings.maxShare() + (previous ? settings.keepPreviousShareMargin() : 0);
  }

  private static String percent(double share) {
    return Math.round(share * 1000) / 10.0 + " %";
  }

  private static Map<String, Object> describe(KMeansFitter.Candidate c) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("k", c.k());
    m.put("silhouette", Double.isNaN(c.silhouette()) ? null : SegmentStage.round(c.silhouette()));
    m.put("cost", SegmentStage.round(c.fit().cost()));
    m.put("iterations", c.fit().iterations());
    m.put("smallest_share", SegmentStage.round(c.smallestShare()));
    m.put("largest_share", SegmentStage.round(c.largestShare()));
    m.put("restart_costs", Arrays.stream(c.fit().restartCosts()).map(SegmentStage::round).boxed().toList());
    m.put("restart_cost_spread", SegmentStage.round(c.fit().restartCostSpread()));
    if (c.fit().warmStart() != null) {
      m.put("warm_start", c.fit().warm());
      m.put("warm_cost", SegmentStage.round(c.fit().warmStart().warmCost()));
      m.put("fresh_cost", SegmentStage.round(c.fit().warmStart().freshCost()));
    }
    if (c.clusters() != c.k()) {
      m.put("clusters_found", c.clusters());
    }
    return m;
  }
}
