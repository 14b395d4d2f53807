package io.affinity.propensity;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.affinity.testing.SparkTestBase;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** Metrics and deciles against values worked out by hand. */
class MetricsTest extends SparkTestBase {
  static final StructType SCORED = new StructType().add("user_id", DataTypes.StringType)
      .add("p", DataTypes.DoubleType).add(TrainingData.LABEL, DataTypes.DoubleType).add("raw", DataTypes.DoubleType);

  /** Ten users, one per probability bin; buyers at 0.95, 0.85, 0.65 and 0.35. */
  static Dataset<Row> ten() {
    double[] p = {0.95, 0.85, 0.75, 0.65, 0.55, 0.45, 0.35, 0.25, 0.15, 0.05};
    double[] y = {1, 1, 0, 1, 0, 0, 1, 0, 0, 0};
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < p.length; i++) {
      rows.add(RowFactory.create("u" + i, p[i], y[i], p[i] - 0.5));
    }
    return spark.createDataFrame(rows, SCORED);
  }

  @Test
  @SuppressWarnings("unchecked")
  void allMetricsOfTenUsers() {
    Map<String, Object> m = Metrics.evaluate(ten(), "p", "raw", 10);
    // Buyer/non-buyer pairs ranked right: 6 + 6 + 5 + 3 of 4 x 6.
    assertEquals(20 / 24.0, (Double) m.get("auc_roc"), 1e-6);
    // Both areas come from one curve; each must equal MLlib's evaluator asked for that metric alone.
    assertEquals(Metrics.auc(ten(), "p", "areaUnderPR"), (Double) m.get("auc_pr"), 1e-6);
    assertEquals(Metrics.auc(ten(), "p", "areaUnderROC"), (Double) m.get("auc_roc"), 1e-6);
    // Mean of -ln p over buyers and -ln(1 - p) over the others.
    double logLoss = -(Math.log(0.95) + Math.log(0.85) + Math.log(0.65) + Math.log(0.35)
        + Math.log(0.25) + Math.log(0.45) + Math.log(0.55) + Math.log(0.75) + Math.log(0.85) + Math.log(0.95)) / 10;
    assertEquals(logLoss, (Double) m.get("log_loss"), 1e-6);
    assertEquals(1.725 / 10, (Double) m.get("brier"), 1e-6);
    // One user per bin: ECE is the mean |p - y| = 3.4 / 10.
    assertEquals(0.34, (Double) m.get("ece"), 1e-6);
    List<Map<String, Object>> reliability = (List<Map<String, Object>>) m.get("reliability");
    assertEquals(10, reliability.size());
    assertEquals(Map.of("from", 0.9, "to", 1.0, "users", 1L, "mean_predicted", 0.95, "observed_rate", 1.0),
        reliability.get(9));
    List<Map<String, Object>> lift = (List<Map<String, Object>>) m.get("lift");
    assertEquals(10, lift.size());
    // Decile 1 is the 0.95 buyer: rate 1 against 0.4 overall.
    assertEquals(1, lift.get(0).get("decile"));
    assertEquals(2.5, (Double) lift.get(0).get("lift"), 1e-6);
    assertEquals(0.25, (Double) lift.get(0).get("cumulative_capture"), 1e-6);
    assertEquals(0.0, (Double) lift.get(2).get("observed_rate"), 1e-6);
    assertEquals(0.75, (Double) lift.get(3).get("cumulative_capture"), 1e-6);
    assertEquals(1.0, (Double) lift.get(9).get("cumulative_capture"), 1e-6);
  }

  @Test
  void reliabilityBinsIncludeOneAndLeaveEmptyBinsEmpty() {
    List<Row> rows = List.of(RowFactory.create("a", 1.0, 1.0, 0.0), RowFactory.create("b", 0.9, 0.0, 0.0),
        RowFactory.create("c", 0.1, 0.0, 0.0), RowFactory.create("d", 0.3, 1.0, 0.0));
    List<Metrics.Bin> bins = Metrics.reliability(spark.createDataFrame(rows, SCORED), "p", 4);
    // [0, .25): c; [.25, .5): d; [.5, .75): none; [.75, 1]: a and b.
    assertEquals(List.of(1L, 1L, 0L, 2L), bins.stream().map(Metrics.Bin::users).toList());
    assertEquals(0.95, bins.get(3).meanPredicted(), 1e-12);
    assertEquals(0.5, bins.get(3).observedRate(), 1e-12);
    assertNull(bins.get(2).asMap().get("mean_predicted"));
    // (1 * 0.1 + 1 * 0.7 + 2 * 0.45) / 4
    assertEquals(1.7 / 4, Metrics.ece(bins), 1e-12);
  }

  @Test
  void decilesAreNearEqualAndSplitTiesByTheNextKey() {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 23; i++) {
      // Three probability levels, heavily tied; raw score equal within a level.
      double p = i < 5 ? 0.9 : i < 15 ? 0.5 : 0.1;
      rows.add(RowFactory.create(String.format(java.util.Locale.ROOT, "u%02d", i), p, 0.0, p));
    }
    Dataset<Row> d = Deciles.assign(spark.createDataFrame(rows, SCORED), col("p").desc(), col("raw").desc(),
        col("user_id").asc()).orderBy("user_id");
    List<Integer> deciles = d.select(Deciles.COLUMN).collectAsList().stream().map(r -> r.getInt(0)).toList();
    // floor(10 rank / 23) + 1 for ranks 0..22: sizes 3,2,2,3,2,2,3,2,2,2, in user order within ties.
    assertEquals(List.of(1, 1, 1, 2, 2, 3, 3, 4, 4, 4, 5, 5, 6, 6, 7, 7, 7, 8, 8, 9, 9, 10, 10), deciles);
    assertEquals(1, Deciles.decile(0, 3));
    assertEquals(4, Deciles.decile(1, 3));
    assertEquals(7, Deciles.decile(2, 3));
    assertEquals(10, Deciles.decile(999, 1000));
  }

  /**
   * Spend metrics of ten users predicted 10, 9, ..., 1 who spent 20, 0, 8, 0, 0, 5, 0, 0, 0, 1.
   * Errors -10, 9, 0, 7, 6, 0, 4, 3, 2, 0: squares sum to 295, absolutes to 41. Spearman: the
   * prediction ranks are 10..1; the actual ranks are 10, 3.5, 9, 3.5, 3.5, 8, 3.5, 3.5, 3.5, 7 (six
   * zeros share ranks 1..6); both have mean 5.5, the cross products of the deviations sum to 25 and
   * the squares to 82.5 and 65, so rho = 25 / sqrt(82.5 x 65). The top tenth is u0: 20 of 34.
   */
  @Test
  void spendMetricsOfTenUsers() {
    double[] predicted = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
    double[] actual = {20, 0, 8, 0, 0, 5, 0, 0, 0, 1};
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < predicted.length; i++) {
      rows.add(RowFactory.create("u" + i, predicted[i], actual[i]));
    }
    Dataset<Row> users = spark.createDataFrame(rows, new StructType().add("user_id", DataTypes.StringType)
        .add("predicted", DataTypes.DoubleType).add("actual", DataTypes.DoubleType));
    Map<String, Object> m = SpendEvaluation.evaluate(users, col("predicted"), col("actual"));
    assertEquals(Math.sqrt(29.5), (Double) m.get("rmse"), 1e-6);
    assertEquals(4.1, (Double) m.get("mae"), 1e-6);
    assertEquals(25 / Math.sqrt(82.5 * 65), (Double) m.get("spearman"), 1e-6);
    assertEquals(20 / 34.0, (Double) m.get("top_decile_revenue_share"), 1e-6);
    assertEquals(5.5, (Double) m.get("mean_predicted"), 1e-6);

    // A constant prediction has no ranking: Spearman is undefined, not 0.
    Map<String, Object> flat = SpendEvaluation.evaluate(users, org.apache.spark.sql.functions.lit(3.4), col("actual"));
    assertNull(flat.get("spearman"));
    // |3.4 - y| summed: six zeros give 20.4, then 16.6 + 4.6 + 1.6 + 2.4 = 25.2: 45.6 over 10.
    assertEquals(4.56, (Double) flat.get("mae"), 1e-6);
  }

  @Test
  void spendComparisonNamesTheStrongestBaselinePerMetric() {
    Map<String, Object> model = Map.of("rmse", 5.0, "mae", 3.0, "spearman", 0.5, "top_decile_revenue_share", 0.4);
    Map<String, Map<String, Object>> baselines = new java.util.LinkedHashMap<>();
    baselines.put("a", Map.of("rmse", 6.0, "mae", 2.0, "spearman", 0.2, "top_decile_revenue_share", 0.45));
    java.util.HashMap<String, Object> b = new java.util.HashMap<>(
        Map.of("rmse", 5.5, "mae", 2.5, "top_decile_revenue_share", 0.3));
    b.put("spearman", null);
    baselines.put("b", b);
    Map<String, Object> c = SpendEvaluation.compare(model, baselines);
    assertEquals(Map.of("model", 5.0, "best_baseline", "b", "baseline", 5.5, "model_better", true), c.get("rmse"));
    assertEquals(Map.of("model", 3.0, "best_baseline", "a", "baseline", 2.0, "model_better", false), c.get("mae"));
    assertEquals(Map.of("model", 0.5, "best_baseline", "a", "baseline", 0.2, "model_better", true), c.get("spearman"));
    assertEquals(Map.of("model", 0.4, "best_baseline", "a", "baseline", 0.45, "model_better", false),
        c.get("top_decile_revenue_share"));
  }
}
