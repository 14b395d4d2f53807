package io.affinity.features;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.to_date;
import static org.apache.spark.sql.functions.when;

import io.affinity.config.Settings.EventTypes;
import io.affinity.io.Datasets;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;

/**
 * The aggregates every feature table is derived from, as of one instant: what a night folds
 * forward instead of re-reading the history. Each table composes from one day to the next without
 * the events behind it: sums, counts, minima and maxima add up; the decayed interaction strength is
 * multiplied by the decay of the days in between; the distinct counts (active days, orders) keep
 * their keys, so that a re-delivered day or order is not counted twice.
 *
 * <p>Money is kept in two parts, the value of rows with a paid price and the quantity of rows
 * without one, so that the list price of {@code clean/items} is applied when features are derived,
 * as it is in a full run, and a changed list price does not need the history again.
 *
 * <ul>
 *   <li>{@code pairs}: one row per (user, item): strength (decayed to the state's instant), events,
 *       one {@code <type>_count} per {@link #countedTypes event type}, first and last event time,
 *       last purchase time, purchase and return value (priced rows) and unpriced quantity.
 *   <li>{@code user_days}: (user_id, day), the distinct event days of a user.
 *   <li>{@code user_orders}: (user_id, order_key), the distinct orders: session id, else the day.
 *   <li>{@code item_prices}: (item_id, price, n), paid prices of purchases: the median price.
 *   <li>{@code rating_pairs} (with ratings): (user, item): rating sum and count, first rating time,
 *       and {@code latest}, the struct (dated, event_time, rating) whose maximum is the rating of
 *       the pair that features/ratings keeps (the latest dated one, then the highest).
 * </ul>
 */
final class FeatureState {
  /** Root of the state stage features keeps, as of the end of the run date. */
  static final String ROOT = "features/state";
  /**
   * Rows of the folded partitions at or after the state's instant, as {@code clean/events} and
   * {@code clean/ratings} hold them: not in the tables yet, they join the next night's delta.
   */
  static final String PENDING_EVENTS = ROOT + "/pending_events";
  static final String PENDING_RATINGS = ROOT + "/pending_ratings";
  /** Tables of a state, {@code <root>/<table>/run_date=D}. */
  private static final String PAIRS = "pairs";
  private static final String USER_DAYS = "user_days";
  private static final String USER_ORDERS = "user_orders";
  private static final String ITEM_PRICES = "item_prices";
  private static final String RATING_PAIRS = "rating_pairs";

  final Dataset<Row> pairs;
  final Dataset<Row> userDays;
  final Dataset<Row> userOrders;
  final Dataset<Row> itemPrices;
  final Optional<Dataset<Row>> ratingPairs;

  private FeatureState(Dataset<Row> pairs, Dataset<Row> userDays, Dataset<Row> userOrders, Dataset<Row> itemPrices,
      Optional<Dataset<Row>> ratingPairs) {
    this.pairs = pairs;
    this.userDays = userDays;
    this.userOrders = userOrders;
    this.itemPrices = itemPrices;
    this.ratingPairs = ratingPairs;
  }

  /**
   * The event types with a count column: the vocabulary, the return type and the purchase and view
   * roles (which the user features read even when the vocabulary does not list them).
   */
  static List<String> countedTypes(EventTypes types) {
    LinkedHashSet<String> t = new LinkedHashSet<>(types.names());
    t.add(types.returned());
    t.add(types.purchase());
    t.add(types.view());
    return new ArrayList<>(t);
  }

  static String countColumn(String type) {
    return type + "_count";
  }

  /**
   * The state of a set of events and ratings, every row of which counts: the caller filters them
   * to the instant the state describes.
   *
   * @param weight each event's contribution to the pair strength (already decayed to the instant)
   */
  static FeatureState of(Dataset<Row> events, Optional<Dataset<Row>> ratings, EventTypes types, Column weight) {
    Column isPurchase = col("event_type").equalTo(types.purchase());
    Column isReturn = col("event_type").equalTo(types.returned());
    Column priced = col("price").isNotNull();
    Column qty = coalesce(col("quantity").cast("long"), lit(1L));
    Column value = qty.multiply(col("price"));
    List<Column> perEvent = new ArrayList<>();
    perEvent.add(col("user_id"));
    perEvent.add(col("item_id"));
    perEvent.add(weight.cast("double").as("strength"));
    perEvent.add(lit(1L).as("events"));
    for (String t : countedTypes(types)) {
      perEvent.add(when(col("event_type").equalTo(t), 1L).otherwise(0L).as(countColumn(t)));
    }
    perEvent.add(col("event_time").as("first_event_time"));
    perEvent.add(col("event_time").as("last_event_time"));
    perEvent.add(when(isPurchase, col("event_time")).as("last_purchase_time"));
    perEvent.add(when(isPurchase.and(priced), value).otherwise(0.0).as("purchase_value"));
    perEvent.add(when(isPurchase.and(priced.unary_$bang()), qty).otherwise(0L).as("purchase_unpriced_qty"));
    perEvent.add(when(isReturn.and(priced), value).otherwise(0.0).as("return_value"));
    perEvent.add(when(isReturn.and(priced.unary_$bang()), qty).otherwise(0L).as("return_unpriced_qty"));
    Dataset<Row> pairs = combinePairs(events.select(perEvent.toArray(new Column[0])), types);

    Dataset<Row> userDays = events.select(col("user_id"), to_date(col("event_time")).as("day")).distinct();
    Dataset<Row> userOrders = events.filter(isPurchase)
        .select(col("user_id"), coalesce(col("session_id"), to_date(col("event_time")).cast("string")).as("order_key"))
        .distinct();
    Dataset<Row> itemPrices = events.filter(isPurchase.and(priced)).groupBy("item_id", "price").agg(count(lit(1)).as("n"));
    Optional<Dataset<Row>> ratingPairs = ratings.map(r -> combineRatings(r.select(col("user_id"), col("item_id"),
        col("rating").cast("double").as("rating_sum"), lit(1L).as("rating_count"),
        col("event_time").as("first_rating_time"),
        struct(col("event_time").isNotNull().as("dated"), col("event_time"), col("rating").cast("double").as("rating"))
            .as("latest"))));
    return new FeatureState(pairs, userDays, userOrders, itemPrices, ratingPairs);
  }

  /** This state with every pair strength multiplied by {@code factor} (the decay of the days since). */
  FeatureState decayed(double factor) {
    return new FeatureState(pairs.withColumn("strength", col("strength").multiply(factor)), userDays, userOrders,
        itemPrices, ratingPairs);
  }

  /** This state without its ratings (they are then aggregated again from their whole history). */
  FeatureState withoutRatings() {
    return new FeatureState(pairs, userDays, userOrders, itemPrices, Optional.empty());
  }

  /**
   * The state of the events of both states together. Ratings: a side without them contributes
   * none; the result has them when either side has.
   */
  FeatureState plus(FeatureState other, EventTypes types) {
    Optional<Dataset<Row>> ratings = ratingPairs.isPresent() && other.ratingPairs.isPresent()
        ? Optional.of(combineRatings(ratingPairs.get().unionByName(other.ratingPairs.get())))
        : ratingPairs.isPresent() ? ratingPairs : other.ratingPairs;
    return new FeatureState(
        combinePairs(pairs.unionByName(other.pairs), types),
        userDays.unionByName(other.userDays).distinct(),
        userOrders.unionByName(other.userOrders).distinct(),
        itemPrices.unionByName(other.itemPrices).groupBy("item_id", "price").agg(sum("n").as("n")),
        ratings);
  }

  /** Rows of pair state (one per event, or whole pairs) summed to one row per (user, item). */
  private static Dataset<Row> combinePairs(Dataset<Row> rows, EventTypes types) {
    List<Column> aggs = new ArrayList<>();
    aggs.add(sum("events").as("events"));
    for (String t : countedTypes(types)) {
      aggs.add(sum(countColumn(t)).as(countColumn(t)));
    }
    aggs.add(min("first_event_time").as("first_event_time"));
    aggs.add(max("last_event_time").as("last_event_time"));
    aggs.add(max("last_purchase_time").as("last_purchase_time"));
    aggs.add(sum("purchase_value").as("purchase_value"));
    aggs.add(sum("purchase_unpriced_qty").as("purchase_unpriced_qty"));
    aggs.add(sum("return_value").as("return_value"));
    aggs.add(sum("return_unpriced_qty").as("return_unpriced_qty"));
    return rows.groupBy("user_id", "item_id").agg(sum("strength").as("strength"), aggs.toArray(new Column[0]));
  }

  private static Dataset<Row> combineRatings(Dataset<Row> rows) {
    return rows.groupBy("user_id", "item_id").agg(sum("rating_sum").as("rating_sum"),
        sum("rating_count").as("rating_count"), min("first_rating_time").as("first_rating_time"),
        max("latest").as("latest"));
  }

  /** The tables kept in memory (and on disk when they do not fit) while several outputs read them. */
  FeatureState persisted() {
    StorageLevel level = StorageLevel.MEMORY_AND_DISK();
    return new FeatureState(pairs.persist(level), userDays.persist(level), userOrders.persist(level),
        itemPrices.persist(level), ratingPairs.map(r -> r.persist(level)));
  }

  void unpersist() {
    pairs.unpersist();
    userDays.unpersist();
    userOrders.unpersist();
    itemPrices.unpersist();
    ratingPairs.ifPresent(Dataset::unpersist);
  }

  /**
   * Writes the tables as this run date's partitions under {@code root} (rating_pairs removed when
   * there are no ratings).
   */
  void write(Datasets ds, String root) {
    ds.write(pairs, root + "/" + PAIRS);
    ds.write(userDays, root + "/" + USER_DAYS);
    ds.write(userOrders, root + "/" + USER_ORDERS);
    ds.write(itemPrices, root + "/" + ITEM_PRICES);
    if (ratingPairs.isPresent()) {
      ds.write(ratingPairs.get(), root + "/" + RATING_PAIRS);
    } else {
      ds.delete(root + "/" + RATING_PAIRS);
    }
  }

  /** The state kept under {@code root} for a date, as {@link #write} left it. */
  static FeatureState read(Datasets ds, String root, LocalDate date) {
    String ratingPairs = root + "/" + RATING_PAIRS;
    Optional<Dataset<Row>> ratings = ds.exists(ratingPairs, date)
        ? Optional.of(ds.readPartitions(ratingPairs, List.of(date))) : Optional.empty();
    return new FeatureState(ds.readPartitions(root + "/" + PAIRS, List.of(date)),
        ds.readPartitions(root + "/" + USER_DAYS, List.of(date)), ds.readPartitions(root + "/" + USER_ORDERS, List.of(date)),
        ds.readPartitions(root + "/" + ITEM_PRICES, List.of(date)), ratings);
  }

  /** Every table a state under {@code root} may have (the pending tables only under {@link #ROOT}). */
  static List<String> tables(String root) {
    List<String> out = new ArrayList<>();
    for (String t : List.of(PAIRS, USER_DAYS, USER_ORDERS, ITEM_PRICES, RATING_PAIRS)) {
      out.add(root + "/" + t);
    }
    if (root.equals(ROOT)) {
      out.addAll(List.of(PENDING_EVENTS, PENDING_RATINGS));
    }
    return out;
  }
}
