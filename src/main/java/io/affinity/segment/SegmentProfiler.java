package io.affinity.segment;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.percentile_approx;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * What each segment is, measured on its members in one aggregation: size, buyers and active
 * shares, revenue, medians and means of recency, frequency and spend; and the
 * {@code segment_profiles} rows built from it.
 */
final class SegmentProfiler {
  private final SegmentSettings settings;

  SegmentProfiler(SegmentSettings settings) {
    this.settings = settings;
  }

  /** Per cluster (index = cluster), null for a cluster without users. */
  Row[] clusterStats(Dataset<Row> clustered, int k) {
    Column frequency = coalesce(col("frequency").cast(DataTypes.DoubleType), lit(0.0));
    Column monetary = coalesce(col("monetary").cast(DataTypes.DoubleType), lit(0.0));
    int acc = FeaturePreparation.MEDIAN_ACCURACY;
    List<Row> rows = clustered.groupBy(KMeansFitter.CLUSTER).agg(
            count(lit(1)).as("size"),
            avg(when(frequency.gt(0), 1.0).otherwise(0.0)).as("buyer_share"),
            // No event at all (null) is not active.
            avg(when(col("recency_event_days").leq(settings.activeDays()), 1.0).otherwise(0.0)).as("active_share"),
            sum(monetary).as("revenue"),
            percentile_approx(col("recency_days").cast(DataTypes.DoubleType), lit(0.5), lit(acc)).as("median_recency_days"),
            percentile_approx(frequency, lit(0.5), lit(acc)).as("median_frequency"),
            percentile_approx(monetary, lit(0.5), lit(acc)).as("median_monetary"),
            avg(frequency).as("mean_frequency"),
            avg(monetary).as("mean_monetary"))
        .collectAsList();
    Row[] out = new Row[k];
    for (Row r : rows) {
      out[r.getInt(0)] = r;
    }
    return out;
  }

  static long size(Row s) {
    return s == null ? 0L : s.getLong(s.fieldIndex("size"));
  }

  static double revenue(Row s) {
    return s == null ? 0.0 : s.getDouble(s.fieldIndex("revenue"));
  }

  /** What the labeler decides on. */
  static SegmentLabeler.Profile labelProfile(int id, Row s) {
    if (s == null) { // an empty cluster: nothing to rank it by
      return new SegmentLabeler.Profile(id, null, 0.0, 0.0, 0.0, 0.0);
    }
    return new SegmentLabeler.Profile(id, nullableDouble(s, "median_recency_days"), s.getDouble(s.fieldIndex("mean_frequency")),
        s.getDouble(s.fieldIndex("mean_monetary")), s.getDouble(s.fieldIndex("buyer_share")),
        s.getDouble(s.fieldIndex("active_share")));
  }

  static Double nullableDouble(Row r, String field) {
    int i = r.fieldIndex(field);
    return r.isNullAt(i) ? null : r.getDouble(i);
  }

  StructType profileSchema() {
    StructType s = new StructType()
        .add("segment_id", DataTypes.IntegerType, false)
        .add("segment_label", DataTypes.StringType, false)
        .add("size", DataTypes.LongType, false)
        .add("share", DataTypes.DoubleType, false)
        .add("buyer_share", DataTypes.DoubleType, true)
        .add("active_share", DataTypes.DoubleType, true)
        .add("revenue_share", DataTypes.DoubleType, true)
        .add("median_recency_days", DataTypes.DoubleType, true)
        .add("median_frequency", DataTypes.DoubleType, true)
        .add("median_monetary", DataTypes.DoubleType, true)
        .add("mean_frequency", DataTypes.DoubleType, true)
        .add("mean_monetary", DataTypes.DoubleType, true)
        .add("recency_score", DataTypes.DoubleType, false)
        .add("frequency_score", DataTypes.DoubleType, false)
        .add("monetary_score", DataTypes.DoubleType, false);
    for (String f : settings.features()) {
      s = s.add("centroid_" + f, DataTypes.DoubleType, false);
    }
    return s.add("first_seen_run_date", DataTypes.DateType, false);
  }

  /** One row of {@code segment_profiles}, in the order of {@link #profileSchema}. */
  static Row profileRow(int id, String label, Row s, long size, long n, double revenue,
      SegmentLabeler.Scores scores, double[] centroid, LocalDate since) {
    List<Object> v = new ArrayList<>();
    v.add(id);
    v.add(label);
    v.add(size);
    v.add(size / (double) n);
    if (s == null) {
      v.addAll(Arrays.asList(null, null, null, null, null, null, null, null));
    } else {
      v.add(s.getDouble(s.fieldIndex("buyer_share")));
      v.add(s.getDouble(s.fieldIndex("active_share")));
      // Undefined when nobody spent anything (or refunds cancel all spend).
      v.add(revenue > 0 ? s.getDouble(s.fieldIndex("revenue")) / revenue : null);
      v.add(nullableDouble(s, "median_recency_days"));
      v.add(nullableDouble(s, "median_frequency"));
      v.add(nullableDouble(s, "median_monetary"));
      v.add(s.getDouble(s.fieldIndex("mean_frequency")));
      v.add(s.getDouble(s.fieldIndex("mean_monetary")));
    }
    v.add(scores.recency());
    v.add(scores.frequency());
    v.add(scores.monetary());
    for (double c : centroid) {
      v.add(c);
    }
    v.add(Date.valueOf(since));
    return RowFactory.create(v.toArray());
  }
}
