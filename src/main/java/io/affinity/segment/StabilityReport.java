package io.affinity.segment;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import io.affinity.io.Datasets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** The manifest's {@code stability}: how today's segments relate to the previous run's. */
final class StabilityReport {
  private StabilityReport() {}

  static Map<String, Object> of(SparkSession spark, Datasets ds, PreviousRun previous, double maxMatchDistance,
      CentroidMatcher.Result match, int[] ids, Map<Integer, String> labels, double[][] centersZ) {
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
        relabelled.add(Map.of("segment_id", ids[c], "from", before, "to", labels.get(ids[c])));
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
    if (previous.date() != null && ds.exists(SegmentStage.SEGMENTS, previous.date())) {
      spark.sparkContext().setJobDescription("segment: compare with previous segments");
      Row r = spark.read().parquet(ds.path(SegmentStage.SEGMENTS, previous.date()).toString())
          .select(col("user_id"), col("segment_id").as("previous_segment_id"))
          .join(spark.read().parquet(ds.path(SegmentStage.SEGMENTS).toString()).select("user_id", "segment_id"), "user_id")
          .agg(count(lit(1)), sum(when(col("segment_id").equalTo(col("previous_segment_id")), 1L).otherwise(0L)))
          .first();
      long both = r.getLong(0);
      st.put("users_in_both_runs", both);
      st.put("users_same_segment_share",
          both == 0 ? null : SegmentStage.round((r.isNullAt(1) ? 0L : r.getLong(1)) / (double) both));
    }
    return st;
  }
}
