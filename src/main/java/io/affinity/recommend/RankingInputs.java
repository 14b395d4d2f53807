package io.affinity.recommend;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sort_array;
import static org.apache.spark.sql.functions.when;

import java.util.Optional;
import java.util.function.Supplier;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The rows {@link UserRanker} ranks for the published recommendations ({@link UserRanker#INPUT}):
 * one per user of {@code features/users}, with its factors, excluded items, history and segment.
 *
 * <p>Why from the feature tables and not from the events:
 * <ul>
 *   <li>{@code features/users} is the population segment and propensity score, so the three inputs
 *       of {@code audience} hold the same users by construction, and it carries {@code user_idx}
 *       already (no id-map join). A user whose only events lie past the end of the run date (within
 *       the clock-skew tolerance) is in none of the three until the night that covers them.
 *   <li>{@code features/interactions} holds every (user, item) pair of the history with a
 *       {@code purchased} flag. With the default exclusions (the purchase type alone) the excluded
 *       items and the history are one aggregation of that pair table, where the events would cost
 *       a scan of the whole history, a distinct and an aggregation for the exclusions plus a
 *       distinct and an aggregation for the history (docs/BENCHMARKS.md, "top-N inputs"). Any
 *       other exclusion types are read from the events, which alone carry every type.
 * </ul>
 */
final class RankingInputs {
  private RankingInputs() {}

  /**
   * @param users features/users (user_id, user_idx, ...)
   * @param userFactors the fitted model's user factors (id, features)
   * @param interactions features/interactions (user_idx, item_idx, purchased, ...)
   * @param ratingPairs features/ratings (user_idx, item_idx), when there are explicit ratings: part of the history
   * @param excludedArePurchases whether the excluded event types are exactly the purchase type
   * @param excludedFromEvents the excluded (user_idx, item_idx) pairs from the events, for any other types
   * @param segments (user_id, segment), when the segments are known
   */
  static Dataset<Row> of(Dataset<Row> users, Dataset<Row> userFactors, Dataset<Row> interactions,
      Optional<Dataset<Row>> ratingPairs, boolean excludedArePurchases, Supplier<Dataset<Row>> excludedFromEvents,
      Optional<Dataset<Row>> segments) {
    Dataset<Row> perUser;
    if (excludedArePurchases && ratingPairs.isEmpty()) {
      // One row per pair already, so no distinct; collect_list skips the nulls of unbought pairs.
      perUser = interactions.groupBy("user_idx").agg(
          sort_array(collect_list(col("item_idx"))).as("history"),
          sort_array(collect_list(when(col("purchased"), col("item_idx")))).as("excluded"));
    } else {
      Dataset<Row> history = interactions.select("user_idx", "item_idx");
      if (ratingPairs.isPresent()) {
        history = history.union(ratingPairs.get().select("user_idx", "item_idx")).distinct();
      }
      Dataset<Row> excluded = excludedArePurchases
          ? interactions.filter(col("purchased")).select("user_idx", "item_idx")
          : excludedFromEvents.get();
      // Every excluded pair is an event's pair, so its user has a history: a left join keeps it.
      perUser = TrainingData.perUser(history, "history")
          .join(TrainingData.perUser(excluded, "excluded"), new String[] {"user_idx"}, "left");
    }
    Dataset<Row> rows = users.select("user_id", "user_idx")
        .join(userFactors.select(col("id").as("user_idx"), col("features").as("factors")),
            new String[] {"user_idx"}, "left")
        .join(perUser, new String[] {"user_idx"}, "left");
    rows = segments.isPresent()
        ? rows.join(segments.get(), new String[] {"user_id"}, "left")
        : rows.withColumn("segment", lit(null).cast("string"));
    return rows.select("user_id", "user_idx", "factors", "excluded", "history", "segment");
  }
}
