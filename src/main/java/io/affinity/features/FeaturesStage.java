package io.affinity.features;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.countDistinct;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.percentile_approx;
import static org.apache.spark.sql.functions.pow;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.to_date;
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
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.feature.StringIndexer;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
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
    Optional<Dataset<Row>> ratings = ds.readIfPresent("clean/ratings")
        .map(r -> r.filter(col("event_time").isNull().or(col("event_time").lt(lit(asOf)))));
    Dataset<Row> userMap = IdMaps.read(ds, "users");
    Dataset<Row> itemMap = IdMaps.read(ds, "items");

    Column isPurchase = col("event_type").equalTo(types.purchase());
    Column isReturn = col("event_type").equalTo(types.returned());
    Column isView = col("event_type").equalTo(types.view());

    Dataset<Row> events = allEvents.filter(col("event_time").lt(lit(asOf)));
    Column listPrice = lit(null).cast("double");
    Column category = lit(null).cast("string");
    if (items.isPresent()) {
      events = events.join(items.get().select(col("item_id"), col("category"), col("price").as("list_price")), "item_id", "left");
      listPrice = col("list_price");
      category = col("category");
    }
    events = events
        .withColumn("value", coalesce(col("quantity"), lit(1)).multiply(coalesce(col("price"), listPrice, lit(0.0))))
        .withColumn("weight", decayedWeight(types, settings.halfLifeDays(), asOfSeconds))
        .withColumn("category_", category)
        .persist(StorageLevel.MEMORY_AND_DISK());
    ctx.spark().sparkContext().setJobDescription("features: user-item interactions");

    // One row per (user, item): the ALS input, and the base of the conversion rate.
    Dataset<Row> pairs = events.groupBy("user_id", "item_id").agg(
            sum("weight").as("strength"),
            count(lit(1)).as("events"),
            max(when(isPurchase, true).otherwise(false)).as("purchased"),
            max(when(isView, true).otherwise(false)).as("viewed"),
            max("event_time").as("last_event_time"))
        .persist(StorageLevel.MEMORY_AND_DISK());

    Dataset<Row> interactions = pairs
        .join(userMap.withColumnRenamed("id", "user_id").withColumnRenamed("idx", "user_idx"), "user_id")
        .join(itemMap.withColumnRenamed("id", "item_id").withColumnRenamed("idx", "item_idx"), "item_id")
        .select("user_id", "item_id", "user_idx", "item_idx", "strength", "events", "purchased", "last_event_time");
    ds.write(interactions, "features/interactions");

    ctx.spark().sparkContext().setJobDescription("features: users");
    Dataset<Row> userEvents = events.groupBy("user_id").agg(
        max("event_time").as("last_event_time"),
        min("event_time").as("first_event_time"),
        max(when(isPurchase, col("event_time"))).as("last_purchase_time"),
        count(lit(1)).as("events"),
        countDistinct(to_date(col("event_time"))).as("active_days"),
        sum(when(isPurchase, 1).otherwise(0)).as("purchases"),
        countDistinct(when(isPurchase, coalesce(col("session_id"), to_date(col("event_time")).cast("string")))).as("orders"),
        sum(when(isReturn, 1).otherwise(0)).as("returns"),
        sum(when(isView, 1).otherwise(0)).as("views"),
        coalesce(sum(when(isPurchase, col("value"))), lit(0.0)).minus(coalesce(sum(when(isReturn, col("value"))), lit(0.0))).as("monetary"),
        countDistinct("item_id").as("distinct_items"),
        countDistinct("category_").as("distinct_categories"));
    Dataset<Row> conversion = pairs.groupBy("user_id").agg(
        sum(when(col("viewed"), 1).otherwise(0)).as("viewed_items"),
        sum(when(col("viewed").and(col("purchased")), 1).otherwise(0)).as("converted_items"));

    Dataset<Row> u = userEvents.join(conversion, "user_id");
    if (ratings.isPresent()) {
      Dataset<Row> userRatings = ratings.get().groupBy("user_id").agg(
          avg("rating").as("avg_rating_given"), count(lit(1)).as("ratings_given"), min("event_time").as("first_rating_time"));
      u = u.join(userRatings, Seq.of("user_id"), "full_outer");
    } else {
      u = u.withColumn("avg_rating_given", lit(null).cast("double"))
          .withColumn("ratings_given", lit(0L))
          .withColumn("first_rating_time", lit(null).cast("timestamp"));
    }
    Column firstSeen = least(col("first_event_time"), col("first_rating_time"));
    List<String> attributeColumns = new ArrayList<>();
    if (users.isPresent()) {
      Dataset<Row> attrs = users.get();
      u = u.join(attrs, Seq.of("user_id"), "left");
      firstSeen = least(firstSeen, col("signup_date").cast("timestamp"));
      for (String f : attrs.columns()) {
        if (!f.equals("user_id")) {
          attributeColumns.add(f);
        }
      }
    }
    u = u.join(userMap.withColumnRenamed("id", "user_id").withColumnRenamed("idx", "user_idx"), "user_id")
        .select(userColumns(u, firstSeen, asOfSeconds, attributeColumns));
    if (users.isPresent()) {
      u = indexCategoricals(u, users.get());
    }
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
    itemAggs.add(percentile_approx(when(isPurchase, col("price")), lit(0.5), lit(10000)).as("median_paid_price"));
    itemAggs.add(max("event_time").as("last_event_time"));
    Dataset<Row> it = events.groupBy("item_id").agg(itemAggs.get(0), itemAggs.subList(1, itemAggs.size()).toArray(new Column[0]));
    if (ratings.isPresent()) {
      it = it.join(ratings.get().groupBy("item_id").agg(avg("rating").as("avg_rating"), count(lit(1)).as("ratings_count")),
          Seq.of("item_id"), "full_outer");
    } else {
      it = it.withColumn("avg_rating", lit(null).cast("double")).withColumn("ratings_count", lit(0L));
    }
    if (items.isPresent()) {
      it = it.join(items.get().select(col("item_id"), col("category"), col("price").as("list_price"), col("title")),
          Seq.of("item_id"), "left");
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
    pairs.unpersist();
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

  private static Column[] userColumns(Dataset<Row> u, Column firstSeen, long asOfSeconds, List<String> attributes) {
    List<Column> c = new ArrayList<>();
    c.add(col("user_id"));
    c.add(col("user_idx"));
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
    List<PipelineStage> indexers = new ArrayList<>();
    for (org.apache.spark.sql.types.StructField f : attrs.schema().fields()) {
      if (f.dataType().equals(org.apache.spark.sql.types.DataTypes.StringType) && !f.name().equals("user_id")) {
        indexers.add(new StringIndexer().setInputCol(f.name()).setOutputCol(f.name() + "_idx")
            .setStringOrderType("alphabetAsc").setHandleInvalid("keep"));
      }
    }
    if (indexers.isEmpty()) {
      return u;
    }
    Dataset<Row> out = new Pipeline().setStages(indexers.toArray(new PipelineStage[0])).fit(u).transform(u);
    for (PipelineStage s : indexers) {
      String c = ((StringIndexer) s).getOutputCol();
      out = out.withColumn(c, col(c).cast("int"));
    }
    return out;
  }

  /** Scala Seq of join column names, for outer joins that merge the key. */
  private static final class Seq {
    static scala.collection.immutable.Seq<String> of(String... names) {
      return scala.jdk.javaapi.CollectionConverters.asScala(List.of(names)).toSeq();
    }
  }
}
