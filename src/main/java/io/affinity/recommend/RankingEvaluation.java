package io.affinity.recommend;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.sort_array;
import static org.apache.spark.sql.functions.struct;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.evaluation.RegressionEvaluator;
import org.apache.spark.mllib.evaluation.RankingMetrics;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

/**
 * Offline metrics of a set of top-k lists against held-out truth. Precision, recall, NDCG and MAP
 * come from Spark's {@link RankingMetrics} (binary relevance); catalog coverage is ours because
 * Spark has no coverage metric; RMSE and MAE come from Spark's {@link RegressionEvaluator}.
 * Definitions: docs/RECOMMEND.md.
 */
final class RankingEvaluation {
  private RankingEvaluation() {}

  /**
   * Ranking metrics at {@code k} over the users of {@code truth}.
   *
   * @param recommendations user_idx, rank (1 = best), item_idx; users missing here count as empty lists
   * @param truth user_idx, items (array of item_idx, non-empty): the relevant held-out items
   * @param catalogSize items that could have been recommended (denominator of coverage)
   * @return precision_at_k, recall_at_k, ndcg_at_k, map_at_k, catalog_coverage
   */
  static Map<String, Object> ranking(Dataset<Row> recommendations, Dataset<Row> truth, int k, long catalogSize) {
    return ranking(recommendations, truth, k, catalogSize, null);
  }

  /**
   * As {@link #ranking(Dataset, Dataset, int, long)}, plus the {@link BeyondAccuracy} metrics of
   * the same top-k lists when {@code reference} is not null.
   */
  static Map<String, Object> ranking(Dataset<Row> recommendations, Dataset<Row> truth, int k, long catalogSize,
      BeyondAccuracy.Reference reference) {
    Dataset<Row> top = recommendations.filter(col("rank").leq(k))
        .join(truth.select("user_idx"), "user_idx")
        .persist(StorageLevel.MEMORY_AND_DISK());
    Dataset<Row> predicted = top.groupBy("user_idx")
        .agg(sort_array(collect_list(struct(col("rank"), col("item_idx")))).as("p"))
        .select(col("user_idx"), col("p.item_idx").as("predicted"));
    JavaRDD<Tuple2<List<Integer>, List<Integer>>> pairs = truth.select("user_idx", "items")
        .join(predicted, new String[] {"user_idx"}, "left")
        .javaRDD()
        .map(r -> new Tuple2<>(copy(r, 2), copy(r, 1)))
        // One partition: RankingMetrics averages with reduce(), which adds partition results in
        // task completion order; a single partition makes the last digits repeatable. Per-user
        // work is k comparisons, so one task copes with millions of users.
        .coalesce(1)
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      RankingMetrics<Integer> m = RankingMetrics.of(pairs);
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("precision_at_" + k, m.precisionAt(k));
      out.put("recall_at_" + k, m.recallAt(k));
      out.put("ndcg_at_" + k, m.ndcgAt(k));
      out.put("map_at_" + k, m.meanAveragePrecisionAt(k));
      long covered = top.select("item_idx").distinct().count();
      out.put("catalog_coverage", catalogSize == 0 ? 0.0 : covered / (double) catalogSize);
      if (reference != null) {
        out.putAll(BeyondAccuracy.compute(top, truth, reference));
      }
      return out;
    } finally {
      pairs.unpersist(false);
      top.unpersist();
    }
  }

  /**
   * RMSE and MAE of predictions against ratings.
   *
   * @param predictions rows with columns rating and {@code predictionCol}, no nulls or NaN
   */
  static Map<String, Object> rating(Dataset<Row> predictions, String predictionCol) {
    RegressionEvaluator e = new RegressionEvaluator().setLabelCol("rating").setPredictionCol(predictionCol);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("rmse", e.setMetricName("rmse").evaluate(predictions));
    out.put("mae", e.setMetricName("mae").evaluate(predictions));
    return out;
  }

  /** A serialisable copy of an int array column; empty when null. */
  private static List<Integer> copy(Row r, int i) {
    return r.isNullAt(i) ? new ArrayList<>() : new ArrayList<>(r.<Integer>getList(i));
  }
}
