package io.affinity.features;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.countDistinct;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import io.affinity.config.Settings.EventTypes;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.spark.ml.feature.StringIndexer;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;

/**
 * One row per user describing behaviour as of an instant, from events and ratings strictly before
 * it. The single definition of user features: stage {@code features} writes them as of the end of
 * the run date, and stage {@code propensity} computes them as of an earlier cutoff to train on
 * outcomes that are already known. Because every input is filtered to {@code event_time < asOf}
 * here, a caller cannot leak later events into the features by accident.
 *
 * <p>Columns: user_id, then {@link #BEHAVIOUR} (units in docs/OUTPUTS.md), then the user
 * attribute columns of {@code clean/users} as they are, then {@code <attr>_idx} for every text
 * attribute. Users appear when they have at least one event or rating before {@code asOf}.
 */
public final class UserFeatures {
  /** Behavioural feature columns, in output order. Durations are in days, money in input units. */
  public static final List<String> BEHAVIOUR = List.of(
      "recency_days", "recency_event_days", "frequency", "orders", "monetary", "returns", "events", "active_days",
      "events_per_active_day", "distinct_items", "distinct_categories", "views", "view_to_purchase_rate",
      "avg_rating_given", "ratings_given", "tenure_days");

  private static final double SECONDS_PER_DAY = 86_400.0;

  private UserFeatures() {}

  /**
   * User features as of {@code asOf}.
   *
   * @param events {@code clean/events}; rows at or after {@code asOf} are ignored
   * @param ratings {@code clean/ratings} if configured; rows at or after {@code asOf} are ignored,
   *     undated ratings count as known
   * @param users {@code clean/users} if configured: attributes joined as they are (they carry no history)
   * @param items {@code clean/items} if configured: list price when an event has none, and category
   * @param asOf the instant the features describe; durations are measured back from it
   * @param types the event type vocabulary
   */
  public static Dataset<Row> compute(Dataset<Row> events, Optional<Dataset<Row>> ratings, Optional<Dataset<Row>> users,
      Optional<Dataset<Row>> items, Timestamp asOf, EventTypes types) {
    // Strength is not a user feature: the state is built without it.
    FeatureState state = FeatureState.of(before(events, asOf), ratings.map(r -> ratingsBefore(r, asOf)), types, lit(0.0));
    return fromState(state, users, items, asOf, types, false);
  }

  /** Events strictly before {@code asOf}: what features as of that instant may see. */
  static Dataset<Row> before(Dataset<Row> events, Timestamp asOf) {
    return events.filter(col("event_time").lt(lit(asOf)));
  }

  /**
   * Events before {@code asOf} with {@code value} (quantity times the paid price, else the list
   * price, else 0) and {@code category_} (from items, null without them). The same definition of
   * "value" as the state's money columns, which apply the list price when features are derived.
   */
  static Dataset<Row> enrich(Dataset<Row> events, Optional<Dataset<Row>> items, Timestamp asOf) {
    Dataset<Row> e = before(events, asOf);
    Column listPrice = lit(null).cast("double");
    Column category = lit(null).cast("string");
    if (items.isPresent()) {
      e = e.join(items.get().select(col("item_id"), col("category"), col("price").as("list_price")), "item_id", "left");
      listPrice = col("list_price");
      category = col("category");
    }
    return e
        .withColumn("value", coalesce(col("quantity"), lit(1)).multiply(coalesce(col("price"), listPrice, lit(0.0))))
        .withColumn("category_", category);
  }

  /**
   * Net spend per user in two adjacent windows, {@code [from, mid)} as {@code earlier} and
   * {@code [mid, to)} as {@code later}, in one pass over the events: the {@link #enrich value} of
   * purchases minus that of returns, each floored at 0 (a user who returned more than they bought
   * in a window brought no new revenue there; the negative would read as a customer who costs
   * money to contact). Users with no purchase or return in either window have no row; a window
   * without any has 0. Columns: user_id, {@code earlier}, {@code later}.
   */
  public static Dataset<Row> spend(Dataset<Row> events, Optional<Dataset<Row>> items, Timestamp from, Timestamp mid,
      Timestamp to, EventTypes types, String earlier, String later) {
    Column isPurchase = col("event_type").equalTo(types.purchase());
    Column isReturn = col("event_type").equalTo(types.returned());
    Column signed = when(isPurchase, col("value")).otherwise(col("value").multiply(-1.0));
    Column inLater = col("event_time").geq(lit(mid));
    return enrich(events, items, to)
        .filter(col("event_time").geq(lit(from)).and(isPurchase.or(isReturn)))
        .groupBy("user_id")
        .agg(greatest(lit(0.0), coalesce(sum(when(col("event_time").lt(lit(mid)), signed)), lit(0.0))).as(earlier),
            greatest(lit(0.0), coalesce(sum(when(inLater, signed)), lit(0.0))).as(later));
  }

  /** Ratings known before {@code asOf}; undated ratings cannot be placed in time and are kept. */
  static Dataset<Row> ratingsBefore(Dataset<Row> ratings, Timestamp asOf) {
    return ratings.filter(col("event_time").isNull().or(col("event_time").lt(lit(asOf))));
  }

  /**
   * An event log without rows, with the columns of {@code clean/events} these features read: the
   * input of table mode without events, where every user has the "nothing happened" values
   * (counts and money 0, recencies and rates null, tenure from the signup date or 0).
   */
  static Dataset<Row> noEvents(org.apache.spark.sql.SparkSession spark) {
    org.apache.spark.sql.types.StructType schema = new org.apache.spark.sql.types.StructType()
        .add("user_id", DataTypes.StringType).add("item_id", DataTypes.StringType)
        .add("event_type", DataTypes.StringType).add("event_time", DataTypes.TimestampType)
        .add("quantity", DataTypes.IntegerType).add("price", DataTypes.DoubleType)
        .add("session_id", DataTypes.StringType);
    return spark.createDataFrame(new ArrayList<Row>(), schema);
  }

  /**
   * User features from the state as of {@code asOf}: one row per user with a pair or a rating pair.
   *
   * @param items {@code clean/items} if configured: list price of unpriced rows, and category
   * @param everyUser whether every row of {@code users} is a user (table mode: the customer table is
   *     the population, also its rows without any event); else users need an event or rating
   */
  static Dataset<Row> fromState(FeatureState state, Optional<Dataset<Row>> users, Optional<Dataset<Row>> items,
      Timestamp asOf, EventTypes types, boolean everyUser) {
    long asOfSeconds = asOf.getTime() / 1000;
    Column viewed = col(FeatureState.countColumn(types.view())).gt(0);
    Column purchased = col(FeatureState.countColumn(types.purchase())).gt(0);
    Dataset<Row> pairs = withListPrice(state.pairs, items);
    Dataset<Row> u = pairs.groupBy("user_id").agg(
        max("last_event_time").as("last_event_time"),
        min("first_event_time").as("first_event_time"),
        max("last_purchase_time").as("last_purchase_time"),
        sum("events").as("events"),
        sum(FeatureState.countColumn(types.purchase())).as("purchases"),
        sum(FeatureState.countColumn(types.returned())).as("returns"),
        sum(FeatureState.countColumn(types.view())).as("views"),
        sum(purchaseValue()).minus(sum(returnValue())).as("monetary"),
        count(lit(1)).as("distinct_items"),
        countDistinct("category_").as("distinct_categories"),
        // Conversion is counted over items, not events: of the items a user viewed, the share bought.
        sum(when(viewed, 1).otherwise(0)).as("viewed_items"),
        sum(when(viewed.and(purchased), 1).otherwise(0)).as("converted_items"))
        .join(state.userDays.groupBy("user_id").agg(count(lit(1)).as("active_days")), new String[] {"user_id"}, "left")
        .join(state.userOrders.groupBy("user_id").agg(count(lit(1)).as("orders")), new String[] {"user_id"}, "left");
    if (state.ratingPairs.isPresent()) {
      Dataset<Row> userRatings = state.ratingPairs.get().groupBy("user_id").agg(
          sum("rating_sum").divide(sum("rating_count")).as("avg_rating_given"), sum("rating_count").as("ratings_given"),
          min("first_rating_time").as("first_rating_time"));
      u = u.join(userRatings, new String[] {"user_id"}, "full_outer");
    } else {
      u = u.withColumn("avg_rating_given", lit(null).cast("double"))
          .withColumn("ratings_given", lit(0L))
          .withColumn("first_rating_time", lit(null).cast("timestamp"));
    }
    Column firstSeen = least(col("first_event_time"), col("first_rating_time"));
    List<String> attributeColumns = new ArrayList<>();
    if (users.isPresent()) {
      Dataset<Row> attrs = users.get();
      if (everyUser) {
        u = attrs.select("user_id").join(u, new String[] {"user_id"}, "left");
      }
      u = u.join(attrs, new String[] {"user_id"}, "left");
      firstSeen = least(firstSeen, col("signup_date").cast("timestamp"));
      for (String f : attrs.columns()) {
        if (!f.equals("user_id")) {
          attributeColumns.add(f);
        }
      }
    }
    u = u.select(userColumns(firstSeen, asOfSeconds, attributeColumns));
    return users.isPresent() ? indexCategoricals(u, users.get()) : u;
  }

  /** Pairs with {@code list_price} and {@code category_} of their item (null without clean/items). */
  static Dataset<Row> withListPrice(Dataset<Row> pairs, Optional<Dataset<Row>> items) {
    if (items.isEmpty()) {
      return pairs.withColumn("list_price", lit(null).cast("double")).withColumn("category_", lit(null).cast("string"));
    }
    return pairs.join(items.get().select(col("item_id"), col("category").as("category_"), col("price").as("list_price")),
        new String[] {"item_id"}, "left");
  }

  /** Value of a pair's purchases: priced rows as paid, unpriced rows at the list price (else 0). */
  static Column purchaseValue() {
    return col("purchase_value").plus(col("purchase_unpriced_qty").multiply(coalesce(col("list_price"), lit(0.0))));
  }

  /** Value of a pair's returns, as {@link #purchaseValue}. */
  static Column returnValue() {
    return col("return_value").plus(col("return_unpriced_qty").multiply(coalesce(col("list_price"), lit(0.0))));
  }

  private static Column[] userColumns(Column firstSeen, long asOfSeconds, List<String> attributes) {
    List<Column> c = new ArrayList<>();
    c.add(col("user_id"));
    c.add(daysSince(col("last_purchase_time"), asOfSeconds).as("recency_days"));
    c.add(daysSince(col("last_event_time"), asOfSeconds).as("recency_event_days"));
    c.add(coalesce(col("purchases"), lit(0L)).as("frequency"));
    c.add(coalesce(col("orders"), lit(0L)).as("orders"));
    c.add(coalesce(col("monetary"), lit(0.0)).as("monetary"));
    c.add(coalesce(col("returns"), lit(0L)).as("returns"));
    c.add(coalesce(col("events"), lit(0L)).as("events"));
    c.add(coalesce(col("active_days"), lit(0L)).as("active_days"));
    c.add(when(col("active_days").gt(0), col("events").divide(col("active_days"))).as("events_per_active_day"));
    c.add(coalesce(col("distinct_items"), lit(0L)).as("distinct_items"));
    c.add(coalesce(col("distinct_categories"), lit(0L)).as("distinct_categories"));
    c.add(coalesce(col("views"), lit(0L)).as("views"));
    c.add(when(col("viewed_items").gt(0), col("converted_items").divide(col("viewed_items"))).as("view_to_purchase_rate"));
    c.add(col("avg_rating_given"));
    c.add(coalesce(col("ratings_given"), lit(0L)).as("ratings_given"));
    c.add(greatest(daysSince(firstSeen, asOfSeconds), lit(0.0)).as("tenure_days"));
    for (String a : attributes) {
      c.add(col(a));
    }
    return c.toArray(new Column[0]);
  }

  private static Column daysSince(Column ts, long asOfSeconds) {
    return lit(asOfSeconds).minus(functions.unix_seconds(ts)).divide(SECONDS_PER_DAY);
  }

  /** Adds {@code <attr>_idx} for every text attribute: alphabetical index, missing = number of levels. */
  private static Dataset<Row> indexCategoricals(Dataset<Row> u, Dataset<Row> attrs) {
    List<String> in = new ArrayList<>();
    List<String> out = new ArrayList<>();
    for (StructField f : attrs.schema().fields()) {
      if (f.dataType().equals(DataTypes.StringType) && !f.name().equals("user_id")) {
        in.add(f.name());
        out.add(f.name() + "_idx");
      }
    }
    if (in.isEmpty()) {
      return u;
    }
    // One indexer over all columns: its fit computes the user features once for every column
    // (a pipeline of one indexer per column computed them once per column, on top of the write).
    Dataset<Row> indexed = new StringIndexer().setInputCols(in.toArray(new String[0]))
        .setOutputCols(out.toArray(new String[0]))
        .setStringOrderType("alphabetAsc").setHandleInvalid("keep").fit(u).transform(u);
    for (String c : out) {
      indexed = indexed.withColumn(c, col(c).cast("int"));
    }
    return indexed;
  }
}
