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
 * What each segment is, measured on its members in one aggregation: size, buyers, active and new
 * shares, revenue, medians and means of recency, frequency and spend, median RFM scores and tenure;
 * the same figures over the whole population (what label claims compare with); and the
 * {@code segment_profiles} rows built from them.
 */
final class SegmentProfiler {
  private final SegmentSettings settings;

  SegmentProfiler(SegmentSettings settings) {
    this.settings = settings;
  }

  /** The aggregations of one group of users (a segment, or everybody), in profile order. */
  private Column[] aggregations() {
    Column frequency = coalesce(col("frequency").cast(DataTypes.DoubleType), lit(0.0));
    Column monetary = coalesce(col("monetary").cast(DataTypes.DoubleType), lit(0.0));
    return new Column[] {
        count(lit(1)).as("size"),
        avg(when(frequency.gt(0), 1.0).otherwise(0.0)).as("buyer_share"),
        // No event at all (null) is not active.
        avg(when(col("recency_event_days").leq(settings.activeDays()), 1.0).otherwise(0.0)).as("active_share"),
        sum(monetary).as("revenue"),
        median(col("recency_days")).as("median_recency_days"),
        median(frequency).as("median_frequency"),
        median(monetary).as("median_monetary"),
        avg(frequency).as("mean_frequency"),
        avg(monetary).as("mean_monetary"),
        // Scores are null for members who never bought: the medians are over the segment's customers.
        median(col(RfmScores.R)).as("recency_score"),
        median(col(RfmScores.F)).as("frequency_score"),
        median(col(RfmScores.M)).as("monetary_score"),
        median(col("tenure_days")).as("median_tenure_days"),
        // Unknown tenure (no event, no signup) is not new.
        avg(when(col("tenure_days").leq(settings.newDays()), 1.0).otherwise(0.0)).as("new_share")};
  }

  private static Column median(Column c) {
    return percentile_approx(c.cast(DataTypes.DoubleType), lit(0.5), lit(FeaturePreparation.MEDIAN_ACCURACY));
  }

  /** Per cluster (index = cluster), null for a cluster without users. */
  Row[] clusterStats(Dataset<Row> clustered, int k) {
    Column[] aggs = aggregations();
    List<Row> rows = clustered.groupBy(KMeansFitter.CLUSTER)
        .agg(aggs[0], Arrays.copyOfRange(aggs, 1, aggs.length)).collectAsList();
    Row[] out = new Row[k];
    for (Row r : rows) {
      out[r.getInt(0)] = r;
    }
    return out;
  }

  /** The same figures over every user of the run: what population claims compare with. */
  Row populationStats(Dataset<Row> users) {
    Column[] aggs = aggregations();
    return users.agg(aggs[0], Arrays.copyOfRange(aggs, 1, aggs.length)).first();
  }

  /** What labels claim things about, from a row of {@link #clusterStats} or {@link #populationStats}. */
  static SegmentMeasures measures(int id, Row s) {
    if (s == null) {
      return SegmentMeasures.empty(id);
    }
    return new SegmentMeasures(id, s.getLong(s.fieldIndex("size")), nullableDouble(s, "recency_score"),
        nullableDouble(s, "frequency_score"), nullableDouble(s, "monetary_score"),
        nullableDouble(s, "median_tenure_days"), s.getDouble(s.fieldIndex("new_share")),
        s.getDouble(s.fieldIndex("buyer_share")), s.getDouble(s.fieldIndex("active_share")));
  }

  static long size(Row s) {
    return s == null ? 0L : s.getLong(s.fieldIndex("size"));
  }

  static double revenue(Row s) {
    return s == null ? 0.0 : s.getDouble(s.fieldIndex("revenue"));
  }

  static Double nullableDouble(Row r, String field) {
    int i = r.fieldIndex(field);
    return r.isNullAt(i) ? null : r.getDouble(i);
  }

  StructType profileSchema() {
    StructType s = new StructType()
        .add("segment_id", DataTypes.IntegerType, false)
        .add("segment_label", DataTypes.StringType, false)
        .add("label_audit", DataTypes.StringType, false)
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
        .add("recency_score", DataTypes.DoubleType, true)
        .add("frequency_score", DataTypes.DoubleType, true)
        .add("monetary_score", DataTypes.DoubleType, true)
        .add("median_tenure_days", DataTypes.DoubleType, true)
        .add("new_share", DataTypes.DoubleType, true);
    for (String f : settings.features()) {
      s = s.add("centroid_" + f, DataTypes.DoubleType, false);
    }
    return s.add("first_seen_run_date", DataTypes.DateType, false);
  }

  /** One row of {@code segment_profiles}, in the order of {@link #profileSchema}. */
  static Row profileRow(LabelAudit.Result audit, Row s, long size, long n, double revenue, double[] centroid,
      LocalDate since) {
    List<Object> v = new ArrayList<>();
    v.add(audit.segmentId());
    v.add(audit.published());
    v.add(audit.summary());
    v.add(size);
    v.add(size / (double) n);
    if (s == null) {
      v.addAll(Arrays.asList(null, null, null, null, null, null, null, null, null, null, null, null, null));
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
      for (String f : List.of("recency_score", "frequency_score", "monetary_score", "median_tenure_days")) {
        v.add(nullableDouble(s, f));
      }
      v.add(s.getDouble(s.fieldIndex("new_share")));
    }
    for (double c : centroid) {
      v.add(c);
    }
    v.add(Date.valueOf(since));
    return RowFactory.create(v.toArray());
  }
}
