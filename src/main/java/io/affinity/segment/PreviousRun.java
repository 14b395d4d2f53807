package io.affinity.segment;

import io.affinity.io.Datasets;
import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * What today's run needs from the last published run of this stage: its segments' ids, labels,
 * first-seen dates and centroids (from {@code segment_profiles} and {@code segment_centroids} of the
 * latest complete date before today; both are k or k x d rows, so they are read onto the driver).
 *
 * @param date the previous run date, or null on a first run
 * @param status {@code first_run}; {@code compared} when the centroids can be matched;
 *     {@code features_changed} when the previous run used other features or log transforms (its
 *     centroids live in another space, so nothing is matched and every segment gets a new id);
 *     {@code centroids_missing} when only the profiles survive
 * @param labels previous label per segment id
 * @param firstSeen previous first-seen date per segment id
 * @param centroids previous centroids in model input units, in today's feature order (empty unless
 *     {@code compared})
 * @param highWater highest segment id issued up to the previous run
 * @param scalerMean the previous run's scaler means, model input units, today's feature order (null
 *     unless {@code compared})
 * @param scalerStd the previous run's scaler standard deviations (null unless {@code compared})
 */
record PreviousRun(
    LocalDate date, String status, Map<Integer, String> labels, Map<Integer, LocalDate> firstSeen,
    List<CentroidMatcher.Previous> centroids, int highWater, double[] scalerMean, double[] scalerStd) {

  static final String FIRST_RUN = "first_run";
  static final String COMPARED = "compared";
  static final String FEATURES_CHANGED = "features_changed";
  static final String CENTROIDS_MISSING = "centroids_missing";

  /** Number of segments in the previous run (0 on a first run). */
  int k() {
    return labels.size();
  }

  static PreviousRun read(SparkSession spark, Datasets ds, List<String> features, List<String> logFeatures) {
    Optional<LocalDate> found = ds.latestBefore(SegmentStage.PROFILES);
    if (found.isEmpty()) {
      return new PreviousRun(null, FIRST_RUN, Map.of(), Map.of(), List.of(), 0, null, null);
    }
    LocalDate date = found.get();
    Map<Integer, String> labels = new LinkedHashMap<>();
    Map<Integer, LocalDate> firstSeen = new HashMap<>();
    int highWater = 0;
    List<Row> profiles = spark.read().parquet(ds.path(SegmentStage.PROFILES, date).toString())
        .select("segment_id", "segment_label", "first_seen_run_date").orderBy("segment_id").collectAsList();
    for (Row r : profiles) {
      int id = r.getInt(0);
      labels.put(id, r.getString(1));
      firstSeen.put(id, r.isNullAt(2) ? date : ((Date) r.get(2)).toLocalDate());
      highWater = Math.max(highWater, id);
    }
    if (!ds.exists(SegmentStage.CENTROIDS, date)) {
      return new PreviousRun(date, CENTROIDS_MISSING, labels, firstSeen, List.of(), highWater, null, null);
    }
    List<Row> rows = spark.read().parquet(ds.path(SegmentStage.CENTROIDS, date).toString())
        .select("segment_id", "feature", "log_transformed", "centroid_model", "id_high_water", "scaler_mean", "scaler_std")
        .collectAsList();
    Map<Integer, double[]> centroids = new LinkedHashMap<>();
    Map<Integer, Integer> featureCount = new HashMap<>();
    double[] mean = new double[features.size()];
    double[] std = new double[features.size()];
    boolean compatible = true;
    for (Row r : rows) {
      int id = r.getInt(0);
      highWater = Math.max(highWater, r.getInt(4));
      int f = features.indexOf(r.getString(1));
      if (f < 0 || r.getBoolean(2) != logFeatures.contains(r.getString(1)) || !labels.containsKey(id)) {
        compatible = false;
        continue;
      }
      centroids.computeIfAbsent(id, x -> new double[features.size()])[f] = r.getDouble(3);
      mean[f] = r.getDouble(5);
      std[f] = r.getDouble(6);
      featureCount.merge(id, 1, Integer::sum);
    }
    for (int id : labels.keySet()) {
      compatible &= featureCount.getOrDefault(id, 0) == features.size();
    }
    if (!compatible) {
      return new PreviousRun(date, FEATURES_CHANGED, labels, firstSeen, List.of(), highWater, null, null);
    }
    List<CentroidMatcher.Previous> previous = new ArrayList<>();
    for (int id : labels.keySet()) {
      previous.add(new CentroidMatcher.Previous(id, centroids.get(id)));
    }
    return new PreviousRun(date, COMPARED, labels, firstSeen, previous, highWater, mean, std);
  }
}
