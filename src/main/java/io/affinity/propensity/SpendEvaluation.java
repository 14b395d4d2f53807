package io.affinity.propensity;

import static org.apache.spark.sql.functions.abs;
import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pow;
import static org.apache.spark.sql.functions.sqrt;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.linalg.Matrix;
import org.apache.spark.ml.stat.Correlation;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * How well a per-user prediction of the horizon's spend matches what the users then spent, on the
 * test users (buyers and non-buyers alike: the campaign question is whom to spend on, and a
 * non-buyer's actual spend is 0):
 *
 * <ul>
 *   <li>{@code rmse} and {@code mae} of spend, in the money unit of the input;
 *   <li>{@code spearman}: rank correlation of prediction and actual spend (ties get their average
 *       rank), what a campaign ranked by the prediction relies on; null when either side is constant;
 *   <li>{@code top_decile_revenue_share}: the share of the test users' actual revenue spent by the
 *       tenth of them with the highest predictions (ties broken by user id); 0.1 = no better than
 *       a random tenth.
 * </ul>
 */
final class SpendEvaluation {
  private static final String PREDICTED = "_predicted";
  private static final String ACTUAL = "_actual";
  private static final String PAIR = "_vector";

  private SpendEvaluation() {}

  /**
   * @param users test users with {@code user_id}
   * @param predicted the prediction (null counts as 0)
   * @param actual the actual spend in the horizon (null counts as 0)
   */
  static Map<String, Object> evaluate(Dataset<Row> users, Column predicted, Column actual) {
    return evaluateAll(users, Map.of("p", predicted), actual).get("p");
  }

  /**
   * The metrics of several predictions of the same users at once: one cached frame, one pass for
   * the errors, one rank correlation matrix, one sort per prediction for the top decile.
   *
   * @param predictions name to prediction (null counts as 0), in the order of the result
   */
  static Map<String, Map<String, Object>> evaluateAll(Dataset<Row> users, Map<String, Column> predictions,
      Column actual) {
    List<String> names = new ArrayList<>(predictions.keySet());
    List<Column> columns = new ArrayList<>();
    columns.add(col("user_id"));
    columns.add(coalesce(actual, lit(0.0)).cast("double").as(ACTUAL));
    for (int i = 0; i < names.size(); i++) {
      columns.add(coalesce(predictions.get(names.get(i)), lit(0.0)).cast("double").as(PREDICTED + i));
    }
    Dataset<Row> pairs = users.select(columns.toArray(new Column[0])).cache();
    try {
      List<Column> aggs = new ArrayList<>();
      aggs.add(sum(col(ACTUAL)));
      for (int i = 0; i < names.size(); i++) {
        Column error = col(PREDICTED + i).minus(col(ACTUAL));
        aggs.add(sqrt(avg(pow(error, 2))));
        aggs.add(avg(abs(error)));
        aggs.add(avg(col(PREDICTED + i)));
      }
      Row r = pairs.agg(aggs.get(0), aggs.subList(1, aggs.size()).toArray(new Column[0])).first();
      double revenue = r.isNullAt(0) ? 0 : r.getDouble(0);
      Matrix rho = spearman(pairs, names.size());
      Map<String, Map<String, Object>> out = new LinkedHashMap<>();
      for (int i = 0; i < names.size(); i++) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("rmse", Metrics.round(r.getDouble(1 + 3 * i)));
        m.put("mae", Metrics.round(r.getDouble(2 + 3 * i)));
        double c = rho.apply(0, i + 1);
        m.put("spearman", Double.isNaN(c) ? null : Metrics.round(c));
        m.put("top_decile_revenue_share", topDecileShare(pairs, PREDICTED + i, revenue));
        m.put("mean_predicted", Metrics.round(r.getDouble(3 + 3 * i)));
        out.put(names.get(i), m);
      }
      return out;
    } finally {
      pairs.unpersist();
    }
  }

  /** The test users' count, actual revenue and mean spend, for the manifest's header. */
  static Map<String, Object> actuals(Dataset<Row> users, Column actual) {
    Row r = users.agg(count(lit(1)), sum(actual), avg(actual), sum(when(actual.gt(0), 1).otherwise(0))).first();
    return Metrics.ordered("users", r.getLong(0), "revenue", Metrics.round(r.isNullAt(1) ? 0 : r.getDouble(1)),
        "mean_spend", Metrics.round(r.isNullAt(2) ? 0 : r.getDouble(2)), "spending_users", r.getLong(3));
  }

  /**
   * For each metric, the model's value beside the best value any baseline reached and which one,
   * and whether the model is better (lower RMSE and MAE, higher Spearman and top-decile share).
   * "Beats the baseline" is only claimed against the strongest one.
   */
  static Map<String, Object> compare(Map<String, Object> model, Map<String, Map<String, Object>> baselines) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (String metric : new String[] {"rmse", "mae", "spearman", "top_decile_revenue_share"}) {
      boolean lower = metric.equals("rmse") || metric.equals("mae");
      String bestName = null;
      Double best = null;
      for (Map.Entry<String, Map<String, Object>> b : baselines.entrySet()) {
        Double v = (Double) b.getValue().get(metric);
        if (v != null && (best == null || (lower ? v < best : v > best))) {
          best = v;
          bestName = b.getKey();
        }
      }
      Double m = (Double) model.get(metric);
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("model", m);
      e.put("best_baseline", bestName);
      e.put("baseline", best);
      e.put("model_better", m != null && (best == null || (lower ? m < best : m > best)));
      out.put(metric, e);
    }
    return out;
  }

  /** Rank correlations of (actual, prediction 0, 1, ...): row 0 holds each prediction's with the actual. */
  private static Matrix spearman(Dataset<Row> pairs, int predictions) {
    String[] inputs = new String[predictions + 1];
    inputs[0] = ACTUAL;
    for (int i = 0; i < predictions; i++) {
      inputs[i + 1] = PREDICTED + i;
    }
    Dataset<Row> v = new VectorAssembler().setInputCols(inputs).setOutputCol(PAIR).transform(pairs).select(PAIR);
    return Correlation.corr(v, PAIR, "spearman").first().getAs(0);
  }

  private static double topDecileShare(Dataset<Row> pairs, String predicted, double revenue) {
    if (revenue <= 0) {
      return 0.0;
    }
    Dataset<Row> ranked = Deciles.assign(pairs.select(col("user_id"), col(predicted), col(ACTUAL)),
        col(predicted).desc(), col("user_id").asc());
    Row top = ranked.filter(col(Deciles.COLUMN).equalTo(1)).agg(sum(col(ACTUAL))).first();
    return Metrics.round((top.isNullAt(0) ? 0.0 : top.getDouble(0)) / revenue);
  }
}
