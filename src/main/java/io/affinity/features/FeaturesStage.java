package io.affinity.features;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.countDistinct;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.percentile_approx;
import static org.apache.spark.sql.functions.pow;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import io.affinity.config.Settings.EventTypes;
import io.affinity.config.Settings.FeatureSettings;
import io.affinity.io.Datasets;
import io.affinity.io.IdMaps;
import io.affinity.pipeline.Stage;
import io.affinity.pipeline.StageContext;
import io.affinity.pipeline.StageReport;
import java.sql.Timestamp;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.storage.StorageLevel;

/**
 * Stage {@code features}: user features, item features, implicit interactions and explicit
 * ratings, all as of the end of the run date (later events are ignored, so a backfill for an old
 * date sees only what was known then).
 *
 * <p>Outputs under {@code features/<users|items|interactions|ratings>/run_date=D}; column meanings
 * and units are in docs/OUTPUTS.md.
 */
public final class FeaturesStage implements Stage {
  private static final double SECONDS_PER_DAY = 86_400.0;

  private final LocalDate runDate;
  private final EventTypes types;
  private final FeatureSettings settings;

  public FeaturesStage(LocalDate runDate, EventTypes types, FeatureSettings settings) {
    this.runDate = runDate;
    this.types = types;
    this.settings = settings;
  }

  @Override
  public String name() {
    return "features";
  }

  @Override
  public StageReport run(StageContext ctx) {
    Datasets ds = ctx.datasets();
    Timestamp asOf = Timestamp.from(ctx.runDate().plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant());
    long asOfSeconds = asOf.getTime() / 1000;
    Dataset<Row> allEvents = ds.read("clean/events", "ingest");
    Optional<Dataset<Row>> items = ds.readIfPresent("clean/items");
    Optional<Dataset<Row>> users = ds.readIfPresent("clean/users");
    Optional<Dataset<Row>> ratings = ds.readIfPresent("clean/ratings").map(r -> UserFeatures.ratingsBefore(r, asOf));
    Dataset<Row> userMap = IdMaps.read(ds, "users");
    Dataset<Row> itemMap = IdMaps.read(ds, "items");

    Column isPurchase = col("event_type").equalTo(types.purchase());

    Dataset<Row> events = UserFeatures.enrich(allEvents, items, asOf)
        .withColumn("weight", decayedWeight(types, settings.halfLifeDays(), asOfSeconds))
        .persist(StorageLevel.MEMORY_AND_DISK());
    ctx.spark().sparkContext().setJobDescription("features: user-item interactions");

    // One row per (user, item): the ALS input.
    Dataset<Row> interactions = events.groupBy("user_id", "item_id").agg(
            sum("weight").as("strength"),
            count(lit(1)).as("events"),
            max(when(isPurchase, true).otherwise(false)).as("purchased"),
            max("event_time").as("last_event_time"))
        .join(userMap.withColumnRenamed("id", "user_id").withColumnRenamed("idx", "user_idx"), "user_id")
        .join(itemMap.withColumnRenamed("id", "item_id").withColumnRenamed("idx", "item_idx"), "item_id")
        .select("user_id", "item_id", "user_idx", "item_idx", "strength", "events", "purchased", "last_event_time");
    ds.write(interactions, "features/interactions");

    ctx.spark().sparkContext().setJobDescription("features: users");
    Dataset<Row> u = UserFeatures.fromEnriched(events, ratings, users, asOf, types);
    List<Column> userCols = new ArrayList<>();
    userCols.add(col("user_id"));
    userCols.add(col("user_idx"));
    for (String c : u.columns()) {
      if (!c.equals("user_id")) {
        userCols.add(col(c));
      }
    }
    u = u.join(userMap.withColumnRenamed("id", "user_id").withColumnRenamed("idx", "user_idx"), "user_id")
        .select(userCols.toArray(new Column[0]));
    ds.write(u, "features/users");

    ctx.spark().sparkContext().setJobDescription("features: items");
    List<Column> itemAggs = new ArrayList<>();
    List<String> allTypes = new ArrayList<>(types.names());
    allTypes.add(types.returned());
    for (String t : allTypes) {
      itemAggs.add(sum(when(col("event_type").equalTo(t), 1).otherwise(0)).as(t + "_count"));
    }
    itemAggs.add(countDistinct(when(isPurchase, col("user_id"))).as("distinct_buyers"));
    itemAggs.add(coalesce(sum(when(isPurchase, col("value"))), lit(0.0)).as("revenue"));
    itemAggs.add(max("event_time").as("last_event_time"));
    Dataset<Row> it = events.groupBy("item_id").agg(itemAggs.get(0), itemAggs.subList(1, itemAggs.size()).toArray(new Column[0]));
    // The median over purchase rows only, in its own aggregation: percentile_approx keeps a sketch per
    // group, which makes Spark's object hash aggregate fall back to sorting every input row once a
    // task sees more than 128 items; restricted to purchases, far fewer rows take that path.
    it = it.join(events.filter(isPurchase.and(col("price").isNotNull())).groupBy("item_id")
        .agg(percentile_approx(col("price"), lit(0.5), lit(10000)).as("median_paid_price")),
        new String[] {"item_id"}, "left");
    if (ratings.isPresent()) {
      it = it.join(ratings.get().groupBy("item_id").agg(avg("rating").as("avg_rating"), count(lit(1)).as("ratings_count")),
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
    List<Column> itemCols = new ArrayList<>();
    itemCols.add(col("item_id"));
    itemCols.add(col("item_idx"));
    itemCols.add(col("category"));
    itemCols.add(col("title"));
    itemCols.add(coalesce(col("list_price"), col("median_paid_price")).as("price"));
    for (String t : allTypes) {
      itemCols.add(coalesce(col(t + "_count"), lit(0L)).as(t + "_count"));
    }
    itemCols.add(coalesce(col("distinct_buyers"), lit(0L)).as("distinct_buyers"));
    itemCols.add(coalesce(col("revenue"), lit(0.0)).as("revenue"));
    itemCols.add(col("avg_rating"));
    itemCols.add(coalesce(col("ratings_count"), lit(0L)).as("ratings_count"));
    itemCols.add(col("last_event_time"));
    it = it.join(itemMap.withColumnRenamed("id", "item_id").withColumnRenamed("idx", "item_idx"), "item_id")
        .select(itemCols.toArray(new Column[0]));
    ds.write(it, "features/items");

    if (ratings.isPresent()) {
      ctx.spark().sparkContext().setJobDescription("features: ratings");
      // ALS explicit mode wants one rating per pair: the latest one wins.
      Dataset<Row> latest = ratings.get()
          .withColumn("_rn", row_number().over(Window.partitionBy("user_id", "item_id")
              .orderBy(col("event_time").desc_nulls_last(), col("rating").desc())))
          .filter(col("_rn").equalTo(1))
          .join(userMap.withColumnRenamed("id", "user_id").withColumnRenamed("idx", "user_idx"), "user_id")
          .join(itemMap.withColumnRenamed("id", "item_id").withColumnRenamed("idx", "item_idx"), "item_id")
          .select("user_id", "item_id", "user_idx", "item_idx", "rating", "event_time");
      ds.write(latest, "features/ratings");
    }
    events.unpersist();

    StageReport report = new StageReport();
    report.put("as_of", asOf.toInstant().toString());
    report.put("events_after_run_date_ignored", allEvents.filter(col("event_time").geq(lit(asOf))).count());
    Map<String, Object> rows = report.section("rows");
    for (String name : List.of("users", "items", "interactions", "ratings")) {
      if (ds.exists("features/" + name)) {
        rows.put(name, ctx.spark().read().parquet(ds.path("features/" + name).toString()).count());
      }
    }
    return report;
  }

  /**
   * Implicit-feedback weight of one event as of an instant: its type's configured weight, halved for
   * every {@code halfLifeDays} between the event and {@code asOfSeconds}. Public so that stage
   * recommend can rebuild interaction strength as of its validation split with the same formula.
   */
  public static Column decayedWeight(EventTypes types, double halfLifeDays, long asOfSeconds) {
    Column ageDays = lit(asOfSeconds).minus(expr("unix_seconds(event_time)")).divide(SECONDS_PER_DAY);
    return weightColumn(types).multiply(pow(lit(0.5), ageDays.divide(halfLifeDays)));
  }

  /** Implicit weight of each event's type from config. */
  private static Column weightColumn(EventTypes types) {
    Column w = lit(types.weight(types.returned()));
    for (String t : types.names()) {
      w = when(col("event_type").equalTo(t), lit(types.weight(t))).otherwise(w);
    }
    return w;
  }
}
