package io.affinity.features;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import io.affinity.config.Settings.EventTypes;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;

/**
 * The item, interaction and rating tables of stage {@code features}, derived from a
 * {@link FeatureState}. Columns and units: docs/OUTPUTS.md.
 */
final class ItemFeatures {
  private ItemFeatures() {}

  /** The event types with a count column in features/items: the vocabulary, then the return type. */
  static List<String> itemTypes(EventTypes types) {
    List<String> t = new ArrayList<>(types.names());
    if (!t.contains(types.returned())) {
      t.add(types.returned());
    }
    return t;
  }

  /**
   * One row per item with an event or a rating (without item_idx): counts per event type,
   * distinct buyers, revenue, average rating, the list price (else the median paid price), and
   * category and title from {@code clean/items}.
   */
  static Dataset<Row> items(FeatureState state, Optional<Dataset<Row>> items, EventTypes types) {
    List<Column> aggs = new ArrayList<>();
    for (String t : itemTypes(types)) {
      aggs.add(sum(FeatureState.countColumn(t)).as(FeatureState.countColumn(t)));
    }
    aggs.add(sum(when(col(FeatureState.countColumn(types.purchase())).gt(0), 1L).otherwise(0L)).as("distinct_buyers"));
    aggs.add(sum(UserFeatures.purchaseValue()).as("revenue"));
    aggs.add(max("last_event_time").as("last_event_time"));
    Dataset<Row> it = UserFeatures.withListPrice(state.pairs, items).groupBy("item_id")
        .agg(aggs.get(0), aggs.subList(1, aggs.size()).toArray(new Column[0]));
    it = it.join(medianPaidPrice(state.itemPrices), new String[] {"item_id"}, "left");
    if (state.ratingPairs.isPresent()) {
      it = it.join(state.ratingPairs.get().groupBy("item_id").agg(
              sum("rating_sum").divide(sum("rating_count")).as("avg_rating"), sum("rating_count").as("ratings_count")),
          new String[] {"item_id"}, "full_outer");
    } else {
      it = it.withColumn("avg_rating", lit(null).cast("double")).withColumn("ratings_count", lit(0L));
    }
    if (items.isPresent()) {
      it = it.join(items.get().select(col("item_id"), col("category"), col("price").as("list_price"), col("title")),
          new String[] {"item_id"}, "left");
    } else {
      it = it.withColumn("category", lit(null).cast("string")).withColumn("list_price", lit(null).cast("double"))
          .withColumn("title", lit(null).cast("string"));
    }
    List<Column> cols = new ArrayList<>();
    cols.add(col("item_id"));
    cols.add(col("category"));
    cols.add(col("title"));
    cols.add(coalesce(col("list_price"), col("median_paid_price")).as("price"));
    for (String t : itemTypes(types)) {
      cols.add(coalesce(col(FeatureState.countColumn(t)), lit(0L)).as(FeatureState.countColumn(t)));
    }
    cols.add(coalesce(col("distinct_buyers"), lit(0L)).as("distinct_buyers"));
    cols.add(coalesce(col("revenue"), lit(0.0)).as("revenue"));
    cols.add(col("avg_rating"));
    cols.add(coalesce(col("ratings_count"), lit(0L)).as("ratings_count"));
    cols.add(col("last_event_time"));
    return it.select(cols.toArray(new Column[0]));
  }

  /**
   * The lower median of the paid prices of each item's purchases (one value per purchase row): the
   * smallest price at or below which at least half of them lie. Exact, from the (price, n) counts.
   */
  static Dataset<Row> medianPaidPrice(Dataset<Row> itemPrices) {
    return itemPrices
        .withColumn("_below", sum("n").over(Window.partitionBy("item_id").orderBy("price")))
        .withColumn("_all", sum("n").over(Window.partitionBy("item_id")))
        .filter(col("_below").multiply(2).geq(col("_all")))
        .groupBy("item_id").agg(min("price").as("median_paid_price"));
  }

  /** One row per (user, item) with an event (without the idx columns): the implicit ALS input. */
  static Dataset<Row> interactions(FeatureState state, EventTypes types) {
    return state.pairs.select(col("user_id"), col("item_id"), col("strength"), col("events"),
        col(FeatureState.countColumn(types.purchase())).gt(0).as("purchased"), col("last_event_time"));
  }

  /** One rating per (user, item), the latest dated one, then the highest (without the idx columns). */
  static Dataset<Row> ratings(Dataset<Row> ratingPairs) {
    return ratingPairs.select(col("user_id"), col("item_id"), col("latest.rating").as("rating"),
        col("latest.event_time").as("event_time"));
  }
}
