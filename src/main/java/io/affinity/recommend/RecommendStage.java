package io.affinity.recommend;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.countDistinct;
import static org.apache.spark.sql.functions.lit;

import io.affinity.config.Settings.EventTypes;
import io.affinity.config.Settings.FeatureSettings;
import io.affinity.io.Datasets;
import io.affinity.io.IdMaps;
import io.affinity.pipeline.DataQualityException;
import io.affinity.pipeline.GateSettings;
import io.affinity.pipeline.QualityGate;
import io.affinity.pipeline.Stage;
import io.affinity.pipeline.StageContext;
import io.affinity.pipeline.StageReport;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.hadoop.fs.Path;
import org.apache.spark.ml.recommendation.ALSModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.storage.StorageLevel;

/**
 * Stage {@code recommend}: ALS (implicit or explicit) chosen on a time-based validation split
 * against a popularity baseline, refit on all data, then top-N recommendations with an explanation
 * for every user of features/users and the most similar items of every item.
 *
 * <p>Reads clean/events (and clean/item_descriptions), idmaps, features/users, features/interactions
 * and features/ratings, features/items and, when present, segments for the run date. Writes {@code recommendations/},
 * {@code similar_items/} and the model at {@code models/recommend/}, all for the run date. Output
 * schemas, metric definitions and operational notes: docs/RECOMMEND.md.
 */
public final class RecommendStage implements Stage {
  /** Where the fitted ALS model goes: {@code <root>/models/recommend/run_date=D/}. */
  public static final String MODEL_DATASET = "models/recommend";

  /** Most content-similar new items kept per item, the candidates of a user's content rows. */
  static final int NEW_ITEM_NEIGHBOURS = 20;

  private final RecommendSettings settings;
  private final EventTypes types;
  private final FeatureSettings features;
  private final QualityGate gate;

  /** A stage whose gate against the last published run only records (for tests and embedding). */
  public RecommendStage(RecommendSettings settings, EventTypes types, FeatureSettings features) {
    this(settings, types, features, GateSettings.off().recommend(settings.k()));
  }

  /**
   * @param settings this stage's settings
   * @param types event types (purchase type, implicit weights)
   * @param features feature settings (the half-life of implicit strength, for the validation split)
   * @param gate the NDCG@k gate against the last published run, checked before anything is written
   */
  public RecommendStage(RecommendSettings settings, EventTypes types, FeatureSettings features, QualityGate gate) {
    this.settings = settings;
    this.types = types;
    this.features = features;
    this.gate = gate;
  }

  @Override
  public String name() {
    return "recommend";
  }

  @Override
  public StageReport run(StageContext ctx) {
    SparkSession spark = ctx.spark();
    Datasets ds = ctx.datasets();
    String checkpoints = ensureCheckpointDir(spark, ds);
    Instant asOf = ctx.runDate().plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant();
    Instant split = asOf.minus(Duration.ofDays(settings.validationDays()));

    Dataset<Row> userMap = IdMaps.read(ds, "users").select(col("id").as("user_id"), col("idx").as("user_idx"));
    Dataset<Row> itemMap = IdMaps.read(ds, "items").select(col("id").as("item_id"), col("idx").as("item_idx"));
    Dataset<Row> cleanEvents = ds.cleanHistory("events", "ingest");
    Dataset<Row> events = cleanEvents.filter(col("event_time").lt(lit(Timestamp.from(asOf))))
        .join(userMap, "user_id").join(itemMap, "item_id")
        .select("user_id", "user_idx", "item_idx", "event_type", "event_time")
        .persist(StorageLevel.MEMORY_AND_DISK());
    Optional<Dataset<Row>> ratings = settings.implicit()
        ? Optional.empty() : Optional.of(ds.read("features/ratings", "features"));

    StageReport report = new StageReport();
    report.put("mode", settings.implicit() ? "implicit" : "explicit");
    report.put("top_n", settings.topN());
    report.put("k", settings.k());
    report.put("as_of", asOf.toString());
    report.put("checkpoint_dir", checkpoints);

    // Item texts: features/items (the items input) and, for items without a title there, the most
    // frequent description of their event lines (clean/item_descriptions, written by ingest when
    // input.events.columns.description is mapped). As of D, also at the validation split, like titles.
    Dataset<Row> itemTexts = settings.content().enabled()
        ? ContentSimilarity.texts(ds.read("features/items", "features"), ds.cleanHistoryIfPresent("item_descriptions"))
        : null;
    // The last published run's validation stands in while it is recent enough (revalidate-every-days).
    String fingerprint = ValidationReuse.fingerprint(settings, types, features.halfLifeDays());
    ValidationReuse.Decision decision = ValidationReuse.decide(ds, settings, fingerprint);
    long validationStart = System.nanoTime();
    Validation.Outcome v = decision.outcome().orElseGet(() -> Validation.run(spark, settings, types,
        features.halfLifeDays(), events, ratings, userMap, itemMap, split, asOf, itemTexts));
    seconds(report, "validation_seconds", validationStart);
    report.section("timings").putAll(v.timings());
    report.put("split", v.split());
    report.put("search", settings.search() ? "grid" : "fixed");
    report.put("selection", decision.outcome().isPresent() ? ValidationReuse.reusedSelection(decision, v) : v.selection());
    report.put(ValidationReuse.SECTION, ValidationReuse.section(decision, v, ctx.runDate(), fingerprint));
    if (!v.candidates().isEmpty()) {
      report.put("candidates", v.candidates());
    }
    report.put("params", Validation.params(v.chosen(), settings.implicit()));
    v.metrics().forEach(report::put);
    // `baseline` is the stronger popularity baseline, so `lift` never flatters the model;
    // `baselines` holds both (recent as configured, all-time) side by side.
    String strongest = v.strongest(settings.k());
    Map<String, Object> baseline = strongest == null ? Map.of() : v.baselines().get(strongest);
    report.put("baseline", baseline);
    if (strongest != null) {
      report.put("baseline_name", strongest);
    }
    report.put("baseline_recency", settings.popularity().describe());
    report.put("baselines", new LinkedHashMap<>(v.baselines()));
    report.put("lift", lift(v.metrics(), baseline));
    // What is published: the policy decisions (model family, content slots, time decay), each with
    // its candidates and bootstrap intervals. `lift` is ALS's; when it is below 1 the family
    // decision names what was published instead.
    report.put("policy", v.policy().report());
    Map<String, Object> published = new LinkedHashMap<>();
    published.put("family", v.policy().family());
    published.put("content_slots", v.policy().contentSlots());
    published.put("half_life", RecommendSettings.PolicySettings.halfLifeName(v.policy().halfLifeDays()));
    published.put("min_similarity", v.policy().minSimilarity());
    report.put("published_policy", published);
    try {
      gate.check(ds, (Double) v.metrics().get("ndcg_at_" + settings.k()), report);
    } catch (RuntimeException e) {
      events.unpersist();
      throw e;
    }

    // ALS keeps the final model's factors cached; they are released once every output is written.
    int catalogSize = TrainingData.releasingCaches(spark,
        () -> refitAndPublish(ctx, v.chosen(), v.blend(), v.policy(), events, userMap, ratings, itemTexts, asOf, report));
    events.unpersist();

    report.put("rows", outputCounts(spark, ds, catalogSize, settings.topN()));
    return report;
  }

  /**
   * Refits ALS with the chosen parameters on everything known at the end of the run date and
   * writes the model, the recommendations for every user and the similar items.
   *
   * @return the size of the catalog recommendations were drawn from
   */
  private int refitAndPublish(StageContext ctx, RecommendSettings.AlsParams chosen, Validation.Blend blend,
      Validation.Policy policy, Dataset<Row> events, Dataset<Row> userMap, Optional<Dataset<Row>> ratings, Dataset<Row> itemTexts, Instant asOf,
      StageReport report) {
    SparkSession spark = ctx.spark();
    Datasets ds = ctx.datasets();
    long t0 = System.nanoTime();
    spark.sparkContext().setJobDescription("recommend: final training data");
    // features/interactions holds the strength at features.half-life-days; another chosen decay is
    // computed from the events.
    Dataset<Row> training = TrainingData.prepare(!settings.implicit()
        ? ratings.orElseThrow().select("user_idx", "item_idx", "rating")
        : policy.halfLifeDays() == features.halfLifeDays()
            ? ds.read("features/interactions", "features").filter(col("strength").cast("float").gt(0))
                .select(col("user_idx"), col("item_idx"), col("strength").as("rating"))
            : TrainingData.implicitStrength(events, types, policy.halfLifeDays(), asOf),
        settings.inputPartitions(spark.sessionState().conf().numShufflePartitions()));
    long trainingPairs = training.count();
    if (trainingPairs == 0) {
      training.unpersist();
      throw new DataQualityException("recommend: nothing to train on for run_date=" + ctx.runDate() + ": "
          + (settings.implicit() ? "features/interactions has no pair with positive strength"
              : "features/ratings is empty"), report);
    }
    seconds(report, "training_data_seconds", t0);
    spark.sparkContext().setJobDescription("recommend: final fit " + chosen);
    long fitStart = System.nanoTime();
    ALSModel model = TrainingData.fit(settings, chosen, training, trainingPairs);
    seconds(report, "als_fit_seconds", fitStart);
    training.unpersist();
    ds.publish(MODEL_DATASET, dir -> model.write().save(dir.toString()));
    Map<String, Object> modelReport = report.section("model");
    modelReport.put("path", ds.path(MODEL_DATASET).toString());
    modelReport.put("training_pairs", trainingPairs);
    modelReport.put("als_blocks", settings.blocksFor(trainingPairs));
    modelReport.put("seconds", Math.round((System.nanoTime() - t0) / 1e8) / 10.0);

    // The catalog, popularity fallbacks and item factors, broadcast to the ranking tasks.
    spark.sparkContext().setJobDescription("recommend: catalog and popularity");
    Dataset<Row> catalogItems = ds.read("features/items", "features").select("item_idx", "item_id");
    ScoringModel.Catalog catalog = ScoringModel.Catalog.of(catalogItems);
    ScoringModel.Ranking popular = Popularity.global(events, catalogItems, catalog, types.purchase(),
        policy.popularity(settings), asOf);
    Optional<Dataset<Row>> segments = ds.readIfPresent("segments")
        .map(s -> ds.withRawUserIds(s, userMap))
        .map(s -> s.select(col("user_id"), col("segment_id").cast("string").as("segment")));
    Map<String, ScoringModel.Ranking> segmentRankings = segments
        .map(s -> Popularity.bySegment(events, s, catalog, types.purchase(), settings.popularity(), asOf))
        .orElse(Map.of());
    report.put("segments", segments.isPresent()
        ? "used: " + ds.path("segments") + " (" + segmentRankings.size() + " segments)"
        : "absent: fallback is overall popularity");
    ScoringModel scoring = ScoringModel.of(catalog, model.itemFactors(), popular, segmentRankings);
    modelReport.put("users", model.userFactors().count());
    modelReport.put("items", scoring.factorRows());
    ContentSimilarity.Index content = null;
    boolean[] fresh = null;
    if (settings.content().enabled()) {
      spark.sparkContext().setJobDescription("recommend: content similarity (TF-IDF)");
      long contentStart = System.nanoTime();
      content = ContentSimilarity.fit(itemTexts, catalog);
      fresh = ContentSimilarity.newItems(events, scoring, settings.content().newItemMaxUsers());
      if (policy.als() && policy.contentSlots() > 0) {
        scoring.withNewItems(ContentSimilarity.newItemNeighbours(spark, content, fresh, NEW_ITEM_NEIGHBOURS,
            policy.contentSlots(), policy.minSimilarity(),
            spark.sessionState().conf().numShufflePartitions()));
      }
      Map<String, Object> contentReport = report.section("content");
      contentReport.put("items_with_text", content.rows());
      int freshCount = 0;
      for (boolean f : fresh) {
        freshCount += f ? 1 : 0;
      }
      contentReport.put("new_items", freshCount);
      contentReport.put("blend_weight", blend.weight());
      contentReport.put("blend_weight_selection", blend.selection());
      if (!blend.measured().isEmpty()) {
        contentReport.put("blend_weight_validation", blend.measured());
      }
      contentReport.put("max_slots", settings.content().maxSlots());
      contentReport.put("slots", policy.als() ? policy.contentSlots() : 0);
      seconds(report, "content_seconds", contentStart);
    }

    // Every user of features/users, with its factors, excluded items, history and segment (RankingInputs).
    Optional<Dataset<Row>> ratingPairs = ds.exists("features/ratings")
        ? Optional.of(ds.read("features/ratings", "features").select("user_idx", "item_idx")) : Optional.empty();
    Dataset<Row> users = RankingInputs.of(ds.read("features/users", "features"), model.userFactors(),
        ds.read("features/interactions", "features"), ratingPairs,
        settings.excludeEventTypes().equals(List.of(types.purchase())),
        () -> TrainingData.pairs(events, settings.excludeEventTypes()), segments);
    if (policy.popularityFamily()) {
      // The validated popularity lists: no user's factors and no segment, only the chosen ranking.
      users = users.withColumn("factors", lit(null).cast(DataTypes.createArrayType(DataTypes.FloatType)))
          .withColumn("segment", lit(null).cast(DataTypes.StringType));
    }

    spark.sparkContext().setJobDescription("recommend: top-" + settings.topN() + " for every user");
    long topNStart = System.nanoTime();
    if (policy.sar()) {
      publishSar(ctx, policy, scoring, users, events, ratings, catalogItems, asOf);
    } else if (!Double.isNaN(policy.blendWeight())) {
      // The blend the validation chose: ALS's lists fused by rank with overall popularity's.
      RankedRows als = UserRanker.rankAll(spark, scoring, users, settings.topN(), settings.blockSize(), true);
      RankedRows pop = UserRanker.rankAll(spark, scoring,
          users.withColumn("factors", lit(null).cast(DataTypes.createArrayType(DataTypes.FloatType)))
              .withColumn("segment", lit(null).cast(DataTypes.StringType)),
          settings.topN(), settings.blockSize(), true);
      Dataset<Row> fused = RankFusion.fuse(als.rows(), pop.rows(), policy.blendWeight(), settings.topN())
          .join(users.select("user_idx", "user_id"), "user_idx")
          .join(catalogItems.select("item_idx", "item_id"), "item_idx");
      ds.write(fused.select("user_id", "rank", "item_id", "score", "source", "because_item_id"), "recommendations");
      als.release();
      pop.release();
    } else {
      RankedRows recs = UserRanker.rankAll(spark, scoring, users, settings.topN(), settings.blockSize(), true);
      ds.write(recs.rows().select("user_id", "rank", "item_id", "score", "source", "because_item_id"),
          "recommendations");
      // Users with factors whose scores rank nothing (all equal), given the fallback instead (UserRanker).
      report.put("users_degenerate_als", recs.usersDegenerateAls());
      recs.release();
    }
    seconds(report, "topn_seconds", topNStart);

    spark.sparkContext().setJobDescription("recommend: similar items");
    long similarStart = System.nanoTime();
    RankedRows similar = SimilarItems.compute(spark, scoring, content, blend.weight(), fresh,
        settings.similarItems(), settings.blockSize(), spark.sessionState().conf().numShufflePartitions());
    ds.write(similar.rows(), "similar_items");
    similar.release();
    seconds(report, "similar_items_seconds", similarStart);
    return catalog.size();
  }

  /**
   * Writes SAR's lists, filled with the popularity fallback (segment, then overall) for users SAR
   * has fewer than top-n items for: the family the validation chose.
   */
  private void publishSar(StageContext ctx, Validation.Policy policy, ScoringModel scoring, Dataset<Row> users,
      Dataset<Row> events, Optional<Dataset<Row>> ratings, Dataset<Row> catalogItems, Instant asOf) {
    SparkSession spark = ctx.spark();
    Datasets ds = ctx.datasets();
    Dataset<Row> affinity = !settings.implicit()
        ? ratings.orElseThrow().select("user_idx", "item_idx", "rating")
        : policy.halfLifeDays() == features.halfLifeDays()
            ? ds.read("features/interactions", "features").select(col("user_idx"), col("item_idx"),
                col("strength").as("rating"))
            : TrainingData.implicitStrength(events, types, policy.halfLifeDays(), asOf);
    RecommendSettings.SarSettings c = settings.sar();
    Sar sar = Sar.fit(affinity, c.similarity(), c.minCooccurrence(), c.maxItemsPerUser(), c.neighbours());
    RankedRows fallback = UserRanker.rankAll(spark, scoring,
        users.withColumn("factors", lit(null).cast(DataTypes.createArrayType(DataTypes.FloatType))),
        settings.topN(), settings.blockSize(), true);
    Dataset<Row> lists = Sar.withFallback(sar.recommend(affinity, users, settings.topN()), fallback.rows(),
        settings.topN())
        .join(users.select("user_idx", "user_id"), "user_idx")
        .join(catalogItems.select("item_idx", "item_id"), "item_idx");
    ds.write(lists.select("user_id", "rank", "item_id", "score", "source", "because_item_id"), "recommendations");
    fallback.release();
    sar.release();
  }

  /**
   * Records the seconds since {@code startNanos} under {@code key} of the report's {@code timings}
   * section (validation, final training data, ALS fit, top-N with its write, similar items), so that
   * the step costs can be compared with plain MLlib calls (docs/BENCHMARKS.md).
   */
  private static void seconds(StageReport report, String key, long startNanos) {
    report.section("timings").put(key, Math.round((System.nanoTime() - startNanos) / 1e7) / 100.0);
  }

  /** ALS needs a checkpoint directory or it silently ignores checkpointInterval; set one if missing. */
  private static String ensureCheckpointDir(SparkSession spark, Datasets ds) {
    if (spark.sparkContext().getCheckpointDir().isEmpty()) {
      spark.sparkContext().setCheckpointDir(new Path(ds.root(), "_checkpoints").toString());
    }
    return spark.sparkContext().getCheckpointDir().get();
  }

  /** ALS metric divided by the baseline's, for the metrics where higher is better. */
  private static Map<String, Object> lift(Map<String, Object> als, Map<String, Object> baseline) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : als.entrySet()) {
      Object b = baseline.get(e.getKey());
      if (e.getKey().contains("_at_") && b instanceof Double bd && e.getValue() instanceof Double ad && bd > 0) {
        out.put(e.getKey(), ad / bd);
      }
    }
    return out;
  }

  /** Row and user counts of the written outputs, read back (what consumers will see). */
  private static Map<String, Object> outputCounts(SparkSession spark, Datasets ds, int catalogSize, int topN) {
    spark.sparkContext().setJobDescription("recommend: output counts");
    Dataset<Row> recs = spark.read().parquet(ds.path("recommendations").toString());
    Row totals = recs.agg(count(lit(1)), countDistinct("user_id"), countDistinct("item_id")).first();
    Map<String, Object> rows = new LinkedHashMap<>();
    rows.put("recommendations", totals.getLong(0));
    rows.put("users", totals.getLong(1));
    rows.put("distinct_items", totals.getLong(2));
    rows.put("catalog_coverage", catalogSize == 0 ? 0.0 : totals.getLong(2) / (double) catalogSize);
    Map<String, Object> bySource = new LinkedHashMap<>();
    for (Row r : recs.groupBy("source").count().orderBy("source").collectAsList()) {
      bySource.put(r.getString(0), r.getLong(1));
    }
    rows.put("by_source", bySource);
    // A user's source is that of its first row: als for every user the model knows.
    Map<String, Object> usersBySource = new LinkedHashMap<>();
    for (Row r : recs.filter(col("rank").equalTo(1)).groupBy("source").count().orderBy("source").collectAsList()) {
      usersBySource.put(r.getString(0), r.getLong(1));
    }
    rows.put("users_by_source", usersBySource);
    // Fewer than top-n rows only when the catalog minus the user's excluded items is too small.
    rows.put("users_with_fewer_than_n", recs.groupBy("user_id").count().filter(col("count").lt(topN)).count());
    Dataset<Row> similar = spark.read().parquet(ds.path("similar_items").toString());
    rows.put("similar_items", similar.count());
    // Items by the method of their similar items (one method per item).
    Map<String, Object> byMethod = new LinkedHashMap<>();
    for (Row r : similar.filter(col("rank").equalTo(1)).groupBy("method").count().orderBy("method").collectAsList()) {
      byMethod.put(r.getString(0), r.getLong(1));
    }
    rows.put("similar_items_by_method", byMethod);
    return rows;
  }
}
