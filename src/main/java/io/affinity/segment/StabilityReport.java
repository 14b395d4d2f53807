package io.affinity.segment;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The manifest's {@code stability}: how today's segments relate to the previous run's. */
final class StabilityReport {
  private StabilityReport() {}

  /**
   * @param labelChanges why a matched segment did not keep its previous label ({@link SegmentLabeler.Result#changed})
   * @param shares who kept their segment id under the published assignment (null on a first run)
   * @param floor the stability floor's decision
   */
  static Map<String, Object> of(PreviousRun previous, double maxMatchDistance, CentroidMatcher.Result match, int[] ids,
      Map<Integer, String> labels, Map<Integer, String> labelChanges, double[][] centersZ, IdStability.Shares shares,
      Map<String, Object> floor) {
    Map<String, Object> st = new LinkedHashMap<>();
    st.put("previous_run_date", previous.date() == null ? null : previous.date().toString());
    st.put("status", previous.status());
    st.put("max_match_distance", maxMatchDistance);
    List<Map<String, Object>> matched = new ArrayList<>();
    List<Map<String, Object>> relabelled = new ArrayList<>();
    for (int c = 0; c < ids.length; c++) {
      if (Double.isNaN(match.distances()[c])) {
        continue;
      }
      Map<String, Object> m = new LinkedHashMap<>();
      String before = previous.labels().get(ids[c]);
      m.put("segment_id", ids[c]);
      m.put("distance", SegmentStage.round(match.distances()[c]));
      m.put("label", labels.get(ids[c]));
      matched.add(m);
      if (!labels.get(ids[c]).equals(before)) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("segment_id", ids[c]);
        r.put("from", before);
        r.put("to", labels.get(ids[c]));
        r.put("why", labelChanges.getOrDefault(ids[c], "'" + labels.get(ids[c]) + "' failed its audit"));
        relabelled.add(r);
      }
    }
    matched.sort((a, b) -> Integer.compare((Integer) a.get("segment_id"), (Integer) b.get("segment_id")));
    st.put("matched", matched);
    st.put("appeared", match.appeared());
    st.put("vanished", match.vanished());
    st.put("relabelled", relabelled);
    // For scale: how far apart today's own segments are (a match distance far below this is tight).
    double closest = Double.NaN;
    for (int a = 0; a < centersZ.length; a++) {
      for (int b = a + 1; b < centersZ.length; b++) {
        double d = CentroidMatcher.distance(centersZ[a], centersZ[b]);
        closest = Double.isNaN(closest) ? d : Math.min(closest, d);
      }
    }
    st.put("closest_centroids_today", Double.isNaN(closest) ? null : SegmentStage.round(closest));
    double largest = matched.stream().mapToDouble(m -> (Double) m.get("distance")).max().orElse(Double.NaN);
    st.put("largest_match_distance", Double.isNaN(largest) ? null : largest);
    if (shares != null) {
      st.put("users_in_both_runs", shares.inBoth());
      st.put("users_same_segment_share", share(shares.keptShare()));
      st.put("users_without_new_events", shares.unchanged());
      st.put("users_without_new_events_same_segment_share", share(shares.unchangedKeptShare()));
      List<Map<String, Object>> arrivals = new ArrayList<>();
      for (Map.Entry<Integer, Long> e : shares.newUsers().entrySet()) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("segment_id", e.getKey());
        m.put("label", labels.get(e.getKey()));
        m.put("users", e.getValue());
        m.put("appeared_today", match.appeared().contains(e.getKey()));
        arrivals.add(m);
      }
      arrivals.sort((a, b) -> Long.compare((Long) b.get("users"), (Long) a.get("users")));
      st.put("new_users", arrivals);
    }
    st.put("floor", floor);
    return st;
  }

  private static Double share(Double v) {
    return v == null ? null : SegmentStage.round(v);
  }
}
