package io.affinity.recommend;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.sort_array;
import static org.apache.spark.sql.functions.sum;

import io.affinity.config.Settings.EventTypes;
import io.affinity.features.FeaturesStage;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.recommendation.ALS;
import org.apache.spark.ml.recommendation.ALSModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;

/**
 * The ALS inputs and the per-user item sets of the stage, built from events that carry
 * user_idx and item_idx. Everything here stays distributed.
 */
final class TrainingData {
  private TrainingData() {}

  /**
   * Implicit interaction strength as of an instant, with the formula of stage features (so the
   * validation model sees what features/interactions would have held on the split date).
   *
   * @param events events before {@code asOf}: user_idx, item_idx, event_type, event_time
   * @return user_idx, item_idx, rating = strength; pairs of zero strength (as a float) dropped (they carry no preference)
   */
  static Dataset<Row> implicitStrength(Dataset<Row> events, EventTypes types, double halfLifeDays, Instant asOf) {
    return events
        .withColumn("w", FeaturesStage.decayedWeight(types, halfLifeDays, asOf.getEpochSecond()))
        .groupBy("user_idx", "item_idx").agg(sum("w").as("rating"))
        // ALS reads floats: a strength that rounds to 0 there carries no preference either.
        .filter(col("rating").cast("float").gt(0));
  }

  /**
   * The ALS input, made deterministic and cached: hash-partitioned by user into {@code partitions},
   * sorted within each partition, so the same rows reach ALS in the same order on every run
   * (ALS's block building depends on input order, and a recomputed shuffle may reorder rows).
   *
   * @param ratings user_idx, item_idx, rating
   */
  static Dataset<Row> prepare(Dataset<Row> ratings, int partitions) {
    return ratings.select(col("user_idx"), col("item_idx"), col("rating").cast("float").as("rating"))
        .repartition(partitions, col("user_idx"))
        .sortWithinPartitions("user_idx", "item_idx")
        .persist(StorageLevel.MEMORY_AND_DISK());
  }

  /** Distinct (user_idx, item_idx) of events whose type is in {@code types}. */
  static Dataset<Row> pairs(Dataset<Row> events, List<String> types) {
    return events.filter(col("event_type").isin(types.toArray()))
        .select("user_idx", "item_idx").distinct();
  }

  /** Per user, the sorted item idx of {@code pairs} (user_idx, item_idx), in column {@code name}. */
  static Dataset<Row> perUser(Dataset<Row> pairs, String name) {
    return pairs.groupBy("user_idx").agg(sort_array(collect_list(col("item_idx"))).as(name));
  }

  /**
   * Runs {@code body} and then unpersists every RDD that became cached during it. ALS caches the
   * final factor RDDs of each model it fits for as long as the model lives and offers no way to
   * release them; once a model's factors have been used (collected, joined and written), this
   * frees them instead of waiting for garbage collection. {@code body} must unpersist whatever else
   * it caches itself, or hand it out (it would be released here).
   */
  static <T> T releasingCaches(SparkSession spark, Supplier<T> body) {
    return releasingCaches(spark, body, Set::of);
  }

  /** As {@link #releasingCaches(SparkSession, Supplier)}, keeping the RDDs whose ids {@code kept} gives at the end. */
  static <T> T releasingCaches(SparkSession spark, Supplier<T> body, Supplier<Set<Integer>> kept) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Set<Integer> before = new HashSet<>(jsc.getPersistentRDDs().keySet());
    try {
      return body.get();
    } finally {
      Set<Integer> keep = kept.get();
      for (Map.Entry<Integer, JavaRDD<?>> e : jsc.getPersistentRDDs().entrySet()) {
        if (!before.contains(e.getKey()) && !keep.contains(e.getKey())) {
          e.getValue().unpersist(false);
        }
      }
    }
  }

  /**
   * Fits ALS with the stage's fixed policies (seed, blocks, checkpointing, cold start) and {@code p}.
   *
   * @param pairs rows of {@code prepared}, which size the blocks with {@code num-blocks = auto}
   */
  static ALSModel fit(RecommendSettings s, RecommendSettings.AlsParams p, Dataset<Row> prepared, long pairs) {
    ALS als = new ALS()
        .setUserCol("user_idx")
        .setItemCol("item_idx")
        .setRatingCol("rating")
        .setImplicitPrefs(s.implicit())
        .setRank(p.rank())
        .setRegParam(p.regParam())
        .setMaxIter(p.maxIter())
        .setSeed(s.seed())
        .setNumUserBlocks(s.blocksFor(pairs))
        .setNumItemBlocks(s.blocksFor(pairs))
        .setCheckpointInterval(s.checkpointInterval())
        .setNonnegative(false)
        // Evaluation uses transform(): pairs with a user or item unseen in training are dropped
        // (counted in the report) instead of becoming NaN; recommendation never calls transform.
        .setColdStartStrategy("drop");
    if (s.implicit()) {
      als.setAlpha(p.alpha());
    }
    return als.fit(prepared);
  }
}
