package io.affinity.recommend;

import static org.apache.spark.sql.functions.ceil;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.when;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;

/**
 * Where the validation of stage recommend draws the line between what a model may learn from and
 * what it is scored on.
 *
 * <p>By default the line is a time: the last {@code validation-days} days before the run date's
 * end are held out, which is what a nightly job faces (train on the past, serve the next days).
 * A window holds enough users on a behaviour log, but on a rating dump whose users came over
 * decades, two weeks may hold a handful of users who also rated before the window, too few to
 * decide anything. Then the split sizes itself to the data: each user with at least
 * {@link #MIN_USER_EVENTS} events has the last {@code holdout-share} of their events (by time, at
 * least one) held out, and everything else, other users' later events included, is training. That
 * is the usual leave-last-out protocol of rating dumps; it keeps each user's own order of time.
 */
record ValidationSplit(String kind, Dataset<Row> before, Dataset<Row> heldOut, Optional<Dataset<Row>> ratingsBefore,
    Optional<Dataset<Row>> ratingsHeld, Instant reference, Map<String, Object> sizes, Optional<Dataset<Row>> cutoffs) {

  /** Users with fewer events keep all of them in training under the per-user split. */
  static final int MIN_USER_EVENTS = 5;
  static final String TIME = "time";
  static final String PER_USER = "per_user";

  /**
   * The time split at {@code split}, or the per-user split when the time window holds fewer than
   * {@code minUsers} users who have a relevant event inside it and any event before it.
   *
   * @param events user_idx, item_idx, event_type, event_time (before the run date's end)
   * @param ratings user_idx, item_idx, rating, event_time (explicit mode)
   * @param asOf the run date's end: the reference instant of time decay under the per-user split
   */
  static ValidationSplit of(Dataset<Row> events, Optional<Dataset<Row>> ratings, Instant split, Instant asOf,
      List<String> relevant, int minUsers, double holdoutShare) {
    Timestamp splitTs = Timestamp.from(split);
    Map<String, Object> sizes = new LinkedHashMap<>();
    Column isBefore = col("event_time").lt(lit(splitTs));
    Column relevantInside = col("event_time").geq(lit(splitTs)).and(col("event_type").isin(relevant.toArray()));
    long windowUsers = events.groupBy("user_idx")
        .agg(max(when(isBefore, 1).otherwise(0)).as("b"), max(when(relevantInside, 1).otherwise(0)).as("h"))
        .filter(col("b").equalTo(1).and(col("h").equalTo(1)))
        .agg(count(lit(1))).first().getLong(0);
    sizes.put("window_users", windowUsers);
    if (windowUsers >= minUsers || holdoutShare <= 0) {
      sizes.put("split_kind", TIME);
      return new ValidationSplit(TIME, events.filter(isBefore), events.filter(isBefore.unary_$bang()),
          ratings.map(r -> r.filter(col("event_time").isNull().or(col("event_time").lt(lit(splitTs))))),
          ratings.map(r -> r.filter(col("event_time").geq(lit(splitTs)))), split, sizes, Optional.empty());
    }
    sizes.put("split_kind", PER_USER);
    sizes.put("split_reason", "the " + windowUsers + " users with relevant events in the time window are fewer than"
        + " validation-min-users (" + minUsers + "): each user's last " + holdoutShare + " of events is held out");
    sizes.put("holdout_share", holdoutShare);
    WindowSpec byUser = Window.partitionBy("user_idx");
    WindowSpec latestFirst = byUser.orderBy(col("event_time").desc(), col("item_idx").desc());
    // Read by every split of events and ratings below: computed once (LineageCut).
    Dataset<Row> cutoffs = LineageCut.of(events
        .withColumn("n", count(lit(1)).over(byUser))
        .filter(col("n").geq(MIN_USER_EVENTS))
        .withColumn("rn", row_number().over(latestFirst))
        .filter(col("rn").leq(ceil(col("n").multiply(holdoutShare))))
        .groupBy("user_idx").agg(min("event_time").as("cutoff")));
    Dataset<Row> withCut = events.join(cutoffs, new String[] {"user_idx"}, "left");
    Column keep = col("cutoff").isNull().or(col("event_time").lt(col("cutoff")));
    Dataset<Row> before = withCut.filter(keep).drop("cutoff");
    Dataset<Row> held = withCut.filter(keep.unary_$bang()).drop("cutoff");
    Optional<Dataset<Row>> rBefore = ratings.map(r -> r.join(cutoffs, new String[] {"user_idx"}, "left")
        .filter(col("cutoff").isNull().or(col("event_time").isNull()).or(col("event_time").lt(col("cutoff"))))
        .drop("cutoff"));
    Optional<Dataset<Row>> rHeld = ratings.map(r -> r.join(cutoffs, "user_idx")
        .filter(col("event_time").geq(col("cutoff"))).drop("cutoff"));
    sizes.put("split_users", cutoffs.count());
    return new ValidationSplit(PER_USER, before, held, rBefore, rHeld, asOf, sizes, Optional.of(cutoffs));
  }

  /** Drops what the split computed ahead. */
  void release() {
    cutoffs.ifPresent(LineageCut::release);
  }
}
