package io.affinity.segment;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import io.affinity.io.Datasets;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Who keeps their segment id from the previous published run to today, measured before anything is
 * written so that the night can still decide to keep the previous model (the stability floor).
 *
 * <p>A user has <b>no new events</b> when their last event is at or before the end of the previous
 * run date: {@code recency_event_days} (days from the last event to the end of the run date) is at
 * least the number of days between the two run dates, or null (no event at all). Such a user's
 * behaviour did not change, only time passed; they should keep their segment unless the model
 * changed on purpose.
 */
final class IdStability {
  private IdStability() {}

  /**
   * Counts over the users of today's run.
   *
   * @param inBoth users in both runs
   * @param kept of those, users whose segment id did not change
   * @param unchanged users in both runs without new events since the previous run date
   * @param unchangedKept of those, users whose segment id did not change
   * @param newUsers users absent from the previous run, per today's segment id
   */
  record Shares(long inBoth, long kept, long unchanged, long unchangedKept, Map<Integer, Long> newUsers) {
    /** Share of the users in both runs who kept their id, null when nobody is in both. */
    Double keptShare() {
      return inBoth == 0 ? null : kept / (double) inBoth;
    }

    /** Share of the users without new events who kept their id, null when there is none. */
    Double unchangedKeptShare() {
      return unchanged == 0 ? null : unchangedKept / (double) unchanged;
    }

    /** Whether the unchanged users' share is measured and below {@code floor}. */
    boolean below(double floor) {
      Double s = unchangedKeptShare();
      return s != null && s < floor;
    }
  }

  /**
   * Measures the shares of an assignment, or returns null when there is no previous run with segments.
   *
   * @param clustered today's users with {@link KMeansFitter#CLUSTER} and {@code recency_event_days}
   * @param ids segment id of each cluster index
   */
  static Shares measure(Datasets ds, PreviousRun previous, LocalDate runDate, Dataset<Row> clustered, int[] ids) {
    if (previous.date() == null || !ds.exists(SegmentStage.SEGMENTS, previous.date())) {
      return null;
    }
    clustered.sparkSession().sparkContext().setJobDescription("segment: who kept their segment id");
    double days = ChronoUnit.DAYS.between(previous.date(), runDate);
    Column idOf = element_at(array(Arrays.stream(ids).mapToObj(i -> lit(i)).toArray(Column[]::new)),
        col(KMeansFitter.CLUSTER).plus(1));
    // The published segments may carry pseudonyms; today's users are raw ids.
    Dataset<Row> before = ds.withRawUserIds(
        clustered.sparkSession().read().parquet(ds.path(SegmentStage.SEGMENTS, previous.date()).toString())
            .select(col("user_id"), col("segment_id").as("previous_segment_id")),
        clustered.select("user_id"));
    Column inBoth = col("previous_segment_id").isNotNull();
    Column kept = inBoth.and(col("segment_id").equalTo(col("previous_segment_id")));
    Column unchanged = inBoth.and(col("recency_event_days").isNull().or(col("recency_event_days").geq(days)));
    List<Row> rows = clustered.select(col("user_id"), idOf.as("segment_id"), col("recency_event_days"))
        .join(before, new String[] {"user_id"}, "left")
        .groupBy("segment_id")
        .agg(count(inBoth), count(kept), count(unchanged), count(unchanged.and(kept)), count(inBoth.unary_$bang()))
        .collectAsList();
    long[] t = new long[4];
    Map<Integer, Long> newUsers = new LinkedHashMap<>();
    for (Row r : rows) {
      for (int i = 0; i < 4; i++) {
        t[i] += r.getLong(i + 1);
      }
      if (r.getLong(5) > 0) {
        newUsers.put(r.getInt(0), r.getLong(5));
      }
    }
    return new Shares(t[0], t[1], t[2], t[3], newUsers);
  }

  private static Column count(Column condition) {
    return coalesce(sum(when(condition, 1L).otherwise(0L)), lit(0L));
  }
}
