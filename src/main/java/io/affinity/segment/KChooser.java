package io.affinity.segment;

import io.affinity.pipeline.DataQualityException;
import io.affinity.pipeline.StageReport;
import java.util.ArrayList;
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
   * The best silhouette wins (ties: the smaller k); with {@code keep-previous-within} the previous
   * run's k stays while it is nearly as good, so the number of segments does not flip nightly.
   *
   * @param previousK the previous run's k when its centroids are comparable, else 0
   */
  int choose(List<KMeansFitter.Candidate> candidates, int previousK, Map<String, Object> sel) {
    List<Map<String, Object>> list = new ArrayList<>();
    KMeansFitter.Candidate best = null;
    for (KMeansFitter.Candidate c : candidates) {
      list.add(describe(c));
      if (!Double.isNaN(c.silhouette()) && (best == null || c.silhouette() > best.silhouette())) {
        best = c;
      }
    }
    sel.put("candidates", list);
    if (best == null) {
      best = candidates.get(0); // fixed k, or no candidate has two non-empty clusters
    }
    int chosen = best.k();
    boolean kept = false;
    if (settings.chooseK() && previousK > 0 && previousK != best.k()) {
      for (KMeansFitter.Candidate c : candidates) {
        if (c.k() == previousK && c.silhouette() >= best.silhouette() - settings.keepPreviousWithin()) {
          chosen = c.k();
          kept = true;
        }
      }
    }
    sel.put("best_k", best.k());
    sel.put("chosen_k", chosen);
    sel.put("kept_previous_k", kept);
    return chosen;
  }

  private static Map<String, Object> describe(KMeansFitter.Candidate c) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("k", c.k());
    m.put("silhouette", Double.isNaN(c.silhouette()) ? null : SegmentStage.round(c.silhouette()));
    m.put("cost", SegmentStage.round(c.fit().cost()));
    m.put("iterations", c.fit().iterations());
    m.put("smallest_share", SegmentStage.round(c.smallestShare()));
    if (c.fit().freshCost() != null) {
      m.put("warm_start", c.fit().warm());
      m.put("fresh_cost", SegmentStage.round(c.fit().freshCost()));
    }
    if (c.clusters() != c.k()) {
      m.put("clusters_found", c.clusters());
    }
    return m;
  }
}
