package io.affinity.propensity;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

import io.affinity.config.Settings.EventTypes;
import io.affinity.features.UserFeatures;
import java.sql.Timestamp;
import java.util.Optional;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.storage.StorageLevel;

/**
 * The labelled users the model learns from: features as of a cutoff (from events and ratings
 * before it only) and whether the user purchased in {@code [cutoff, end)}. Keeping the two
 * time windows apart here is what makes the training honest: nothing at or after the cutoff can
 * reach a feature, and the label is exactly what a score at the cutoff would have predicted.
 */
final class TrainingData {
  static final String LABEL = "label";
  static final String SPLIT = "split";
  static final String WEIGHT = "weight";
  static final String TRAIN = "train";
  static final String VALIDATION = "validation";
  static final String TEST = "test";
  /** Spend in the label window (event mode) or the amount column of a responder (table mode). */
  static final String SPEND = "_spend";
  /** Spend in the horizon before the cutoff: the naive "they will spend what they just spent" baseline. */
  static final String PREVIOUS_SPEND = "_previous_spend";

  /** Labelled users per partition: ~10 MB at two dozen double features. */
  private static final long ROWS_PER_PARTITION = 50_000;

  /** Hash buckets of the split: shares are resolved to 1e-6. */
  private static final int BUCKETS = 1_000_000;

  /**
   * The cleaned inputs of a run date.
   *
   * @param events {@code clean/events}
   * @param ratings {@code clean/ratings} if configured
   * @param users {@code clean/users} if configured
   * @param items {@code clean/items} if configured
   */
  record Inputs(Dataset<Row> events, Optional<Dataset<Row>> ratings, Optional<Dataset<Row>> users,
      Optional<Dataset<Row>> items) {}

  private TrainingData() {}

  /** User features as of {@code cutoff}: the one shared definition, fed only what happened before it. */
  static Dataset<Row> features(Inputs in, Timestamp cutoff, EventTypes types) {
    return UserFeatures.compute(in.events(), in.ratings(), in.users(), in.items(), cutoff, types);
  }

  /**
   * Adds {@link #LABEL}: 1.0 when the user has a purchase event in {@code [from, to)}, else 0.0.
   * Every row of {@code features} is kept: a user who bought nothing is a negative, not missing.
   */
  static Dataset<Row> label(Dataset<Row> features, Dataset<Row> events, Timestamp from, Timestamp to, EventTypes types) {
    Dataset<Row> buyers = events
        .filter(col("event_type").equalTo(types.purchase())
            .and(col("event_time").geq(lit(from)))
            .and(col("event_time").lt(lit(to))))
        .select(col("user_id"))
        .distinct()
        .withColumn("_bought", lit(1.0));
    return features.join(buyers, "user_id", "left")
        .withColumn(LABEL, coalesce(col("_bought"), lit(0.0)))
        .drop("_bought");
  }

  /**
   * Adds {@link #SPEND} (net spend in {@code [cutoff, end)}) and {@link #PREVIOUS_SPEND} (in the
   * horizon of the same length before the cutoff), both 0 for a user without purchases there. The
   * previous spend is history before the cutoff, so it is known when the features are; it is a
   * baseline, not a model input.
   */
  static Dataset<Row> withSpend(Dataset<Row> labelled, Inputs in, Timestamp cutoff, Timestamp end, EventTypes types) {
    Dataset<Row> spend = UserFeatures.spend(in.events(), in.items(), previousWindowStart(cutoff, end), cutoff, end, types,
        PREVIOUS_SPEND, SPEND);
    return labelled.join(spend, new String[] {"user_id"}, "left")
        .withColumn(SPEND, coalesce(col(SPEND), lit(0.0)))
        .withColumn(PREVIOUS_SPEND, coalesce(col(PREVIOUS_SPEND), lit(0.0)));
  }

  /**
   * Start of the window of {@link #PREVIOUS_SPEND}: one horizon before the cutoff. The events of
   * the label and spend windows are those in [this, end).
   */
  static Timestamp previousWindowStart(Timestamp cutoff, Timestamp end) {
    return new Timestamp(cutoff.getTime() - (end.getTime() - cutoff.getTime()));
  }

  /**
   * Adds {@link #LABEL} from a column of the users table (table mode): 1.0 for a positive value,
   * 0.0 for any other non-empty value, null when the value is empty (a row to score, not to learn
   * from). Text is compared trimmed and ignoring case; numbers as numbers.
   */
  static Dataset<Row> labelFromColumn(Dataset<Row> users, PropensitySettings.Label label) {
    Column v = col(label.column());
    Column positive;
    Column missing;
    if (label.numeric()) {
      positive = v.isin(label.positives().stream().map(Double::valueOf).toArray());
      missing = v.isNull().or(org.apache.spark.sql.functions.isnan(v));
    } else {
      Column t = org.apache.spark.sql.functions.lower(org.apache.spark.sql.functions.trim(v));
      positive = t.isin(label.positives().stream().map(x -> x.toLowerCase(java.util.Locale.ROOT)).toArray());
      missing = v.isNull().or(t.equalTo(""));
    }
    return users.withColumn(LABEL, when(missing, lit(null).cast("double")).when(positive, lit(1.0)).otherwise(lit(0.0)));
  }

  /**
   * The split of a user ({@link #TRAIN}, {@link #VALIDATION} or {@link #TEST}) from a seeded hash of
   * the user id: the same user lands in the same split on every run and on any partitioning,
   * unlike {@code randomSplit}, whose result depends on how rows are spread over partitions.
   */
  static Column split(long seed, double validationShare, double testShare) {
    Column u = pmod(xxhash64(col("user_id"), lit(seed)), lit((long) BUCKETS)).divide((double) BUCKETS);
    return when(u.lt(testShare), lit(TEST))
        .when(u.lt(testShare + validationShare), lit(VALIDATION))
        .otherwise(lit(TRAIN));
  }

  /**
   * Writes the labelled users to {@code scratch} (Parquet) and returns them read back, persisted,
   * in as few partitions as their number needs. The feature plan is large, and every fit,
   * transform and metric after this would otherwise re-analyse it (seconds each on a busy driver);
   * each logistic regression iteration is one Spark job over these partitions, so a few thousand
   * users belong in one partition, not in spark.sql.shuffle-partitions of them. A file copy rather
   * than {@code Dataset.checkpoint} because the caller can remove it when done. Unpersist the
   * result and delete {@code scratch} afterwards.
   */
  static Dataset<Row> materialize(Dataset<Row> labelled, String scratch) {
    labelled.write().mode(SaveMode.ErrorIfExists).parquet(scratch);
    Dataset<Row> back = labelled.sparkSession().read().parquet(scratch);
    long rows = back.count();
    int partitions = (int) Math.max(1, Math.min(back.rdd().getNumPartitions(),
        (rows + ROWS_PER_PARTITION - 1) / ROWS_PER_PARTITION));
    return back.coalesce(partitions).persist(StorageLevel.MEMORY_AND_DISK());
  }
}
