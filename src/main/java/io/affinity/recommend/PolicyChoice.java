package io.affinity.recommend;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.log2;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The per-user score that chooses between policies of the published lists (a model family, a
 * number of content slots, a time decay): NDCG@k on the validation split. The choice itself is
 * {@link io.affinity.pipeline.PairedBootstrap}'s, with a margin that knows the noise.
 */
final class PolicyChoice {
  /** Column of {@link #perUserNdcg}'s precision at k. */
  static final String PRECISION = "precision";

  private PolicyChoice() {}

  /**
   * Per-user NDCG@k with binary relevance, as Spark's {@code RankingMetrics.ndcgAt} defines it (the
   * ideal list holds min(relevant, k) hits), so that the mean over users equals that metric.
   *
   * @param recommendations user_idx, rank (1 = best), item_idx
   * @param truth user_idx, items (the relevant held-out items, non-empty)
   * @return user_idx, {@code column}, {@value #PRECISION} (hits in the top k over k, as Spark's
   *     precisionAt): one row per user of {@code truth}; 0 for a user without a list
   */
  static Dataset<Row> perUserNdcg(Dataset<Row> recommendations, Dataset<Row> truth, int k, String column) {
    Dataset<Row> top = recommendations.filter(col("rank").leq(k)).select("user_idx", "rank", "item_idx");
    Column gain = when(expr("array_contains(items, item_idx)"), lit(1.0).divide(log2(col("rank").plus(1))))
        .otherwise(lit(0.0));
    Column hit = when(expr("array_contains(items, item_idx)"), lit(1.0)).otherwise(lit(0.0));
    Dataset<Row> dcg = truth.select("user_idx", "items").join(top, "user_idx").groupBy("user_idx")
        .agg(sum(gain).as("dcg"), sum(hit).as("hits"));
    Column ideal = expr("aggregate(sequence(1, least(size(items), " + k + ")), 0D, (acc, i) -> acc + 1D / log2(i + 1))");
    return truth.select(col("user_idx"), ideal.as("idcg"))
        .join(dcg, new String[] {"user_idx"}, "left")
        .select(col("user_idx"), coalesce(col("dcg"), lit(0.0)).divide(col("idcg")).as(column),
            coalesce(col("hits"), lit(0.0)).divide(k).as(PRECISION));
  }

}
