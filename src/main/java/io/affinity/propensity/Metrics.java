package io.affinity.propensity;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.log;
import static org.apache.spark.sql.functions.pow;
import static org.apache.spark.sql.functions.sum;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.evaluation.BinaryClassificationEvaluator;
import org.apache.spark.mllib.evaluation.BinaryClassificationMetrics;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Quality of probabilities against observed 0/1 labels ({@link TrainingData#LABEL}), all computed
 * in Spark; only bounded summaries (a few numbers, one row per bin or decile) reach the driver.
 * Definitions are in docs/PROPENSITY.md.
 */
final class Metrics {
  /** Probabilities are clipped to [EPS, 1 - EPS] for the log loss, so a confident miss costs ~34.5, not infinity. */
  static final double EPS = 1e-15;

  private Metrics() {}

  /**
   * The 95 % interval of an AUC-ROC from its sampling error on {@code positives} and
   * {@code negatives} held-out users, by Hanley and McNeil (1982):
   * SE^2 = (A(1-A) + (n1-1)(Q1-A^2) + (n0-1)(Q2-A^2)) / (n1 n0), Q1 = A/(2-A), Q2 = 2A^2/(1+A).
   * It says how large a difference between two test AUCs must be to mean anything, without a Spark
   * job: the same split with other users would move the AUC by about this much.
   *
   * @return {low, high}, clipped to [0, 1]
   */
  static double[] aucInterval(double auc, long positives, long negatives) {
    if (positives == 0 || negatives == 0) {
      return new double[] {Double.NaN, Double.NaN};
    }
    double q1 = auc / (2 - auc);
    double q2 = 2 * auc * auc / (1 + auc);
    double var = (auc * (1 - auc) + (positives - 1) * (q1 - auc * auc) + (negatives - 1) * (q2 - auc * auc))
        / ((double) positives * negatives);
    double half = 1.96 * Math.sqrt(Math.max(var, 0));
    return new double[] {round(Math.max(0, auc - half)), round(Math.min(1, auc + half))};
  }

  /** Per user: ln p for a buyer, ln(1 - p) for the others, p clipped to [EPS, 1 - EPS] (minus the log loss). */
  static Column logLikelihood(Column p) {
    Column clipped = least(greatest(p, lit(EPS)), lit(1 - EPS));
    return org.apache.spark.sql.functions.when(col(TrainingData.LABEL).equalTo(1.0), log(clipped))
        .otherwise(log(lit(1.0).minus(clipped)));
  }

  /**
   * AUC-ROC or AUC-PR of a score column (any monotone score; a double or a raw-prediction vector),
   * via MLlib's {@link BinaryClassificationEvaluator}.
   *
   * @param metric {@code areaUnderROC} or {@code areaUnderPR}
   */
  static double auc(Dataset<Row> scored, String scoreColumn, String metric) {
    return evaluator(scoreColumn).setMetricName(metric).evaluate(scored);
  }

  /**
   * AUC-ROC and AUC-PR of a score column from one pass: the evaluator's curve (a sort and a few
   * jobs) built once for both, where two {@link #auc} calls build it twice. Same values as
   * {@link #auc}: the evaluator computes its metric from the same curve.
   *
   * @return {auc_roc, auc_pr}
   */
  static double[] aucs(Dataset<Row> scored, String scoreColumn) {
    BinaryClassificationMetrics curve = evaluator(scoreColumn).getMetrics(scored);
    try {
      return new double[] {curve.areaUnderROC(), curve.areaUnderPR()};
    } finally {
      curve.unpersist();
    }
  }

  private static BinaryClassificationEvaluator evaluator(String scoreColumn) {
    return new BinaryClassificationEvaluator().setLabelCol(TrainingData.LABEL).setRawPredictionCol(scoreColumn);
  }

  /**
   * The full report for one probability column: AUC-ROC, AUC-PR, log loss, Brier score, expected
   * calibration error, the reliability table and the lift per decile. Cache {@code scored} first.
   *
   * @param scored rows with user_id, {@link TrainingData#LABEL}, the probability and the tie-break score
   * @param probability the probability column judged
   * @param tieBreak score ordering users of equal probability in the deciles (then user_id)
   */
  static Map<String, Object> evaluate(Dataset<Row> scored, String probability, String tieBreak, int bins) {
    Map<String, Object> m = new LinkedHashMap<>();
    double[] auc = aucs(scored, probability);
    m.put("auc_roc", round(auc[0]));
    m.put("auc_pr", round(auc[1]));
    Column p = col(probability);
    Column y = col(TrainingData.LABEL);
    Column clipped = least(greatest(p, lit(EPS)), lit(1 - EPS));
    Row r = scored.agg(
        avg(y.multiply(log(clipped)).plus(lit(1.0).minus(y).multiply(log(lit(1.0).minus(clipped)))).multiply(-1.0)),
        avg(pow(p.minus(y), 2))).first();
    m.put("log_loss", round(r.getDouble(0)));
    m.put("brier", round(r.getDouble(1)));
    List<Bin> table = reliability(scored, probability, bins);
    m.put("ece", round(ece(table)));
    m.put("reliability", table.stream().map(Bin::asMap).toList());
    Dataset<Row> ranked = Deciles.assign(
        scored.select(col("user_id"), y, p.as("_p"), col(tieBreak).as("_t")),
        col("_p").desc(), col("_t").desc(), col("user_id").asc());
    m.put("lift", lift(ranked));
    return m;
  }

  /**
   * One bin of the reliability table.
   *
   * @param from lower bound (inclusive)
   * @param to upper bound (exclusive; inclusive for the last bin)
   * @param users users whose probability falls in the bin
   * @param meanPredicted their mean probability (NaN when empty)
   * @param observedRate the share of them who bought (NaN when empty)
   */
  record Bin(double from, double to, long users, double meanPredicted, double observedRate) {
    Map<String, Object> asMap() {
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("from", round(from));
      e.put("to", round(to));
      e.put("users", users);
      e.put("mean_predicted", users == 0 ? null : round(meanPredicted));
      e.put("observed_rate", users == 0 ? null : round(observedRate));
      return e;
    }
  }

  /**
   * Reliability table: {@code bins} equal-width bins of the probability over [0, 1] (the last bin
   * includes 1.0); per bin the users, their mean predicted probability and the observed buyer rate.
   */
  static List<Bin> reliability(Dataset<Row> scored, String probability, int bins) {
    Column bin = least(floor(col(probability).multiply(bins)).cast("int"), lit(bins - 1));
    List<Row> rows = scored.groupBy(bin.as("bin"))
        .agg(count(lit(1)).as("users"), avg(col(probability)).as("mean_predicted"), avg(col(TrainingData.LABEL)).as("rate"))
        .collectAsList();
    Row[] byBin = new Row[bins];
    for (Row r : rows) {
      byBin[r.getInt(0)] = r;
    }
    List<Bin> table = new ArrayList<>();
    for (int b = 0; b < bins; b++) {
      Row r = byBin[b];
      table.add(r == null
          ? new Bin((double) b / bins, (double) (b + 1) / bins, 0, Double.NaN, Double.NaN)
          : new Bin((double) b / bins, (double) (b + 1) / bins, r.getLong(1), r.getDouble(2), r.getDouble(3)));
    }
    return table;
  }

  /**
   * Expected calibration error: the user-weighted mean over the bins of
   * |mean predicted - observed rate|.
   */
  static double ece(List<Bin> table) {
    long total = 0;
    double weighted = 0;
    for (Bin b : table) {
      if (b.users() > 0) {
        total += b.users();
        weighted += b.users() * Math.abs(b.meanPredicted() - b.observedRate());
      }
    }
    return total == 0 ? 0 : weighted / total;
  }

  /**
   * Per decile (column {@link Deciles#COLUMN}, probability {@code _p}): users, buyers, observed rate,
   * mean predicted probability, lift (observed rate over the overall rate) and cumulative capture
   * (share of all buyers in this and the higher deciles).
   */
  private static List<Map<String, Object>> lift(Dataset<Row> withDeciles) {
    List<Row> rows = withDeciles.groupBy(Deciles.COLUMN)
        .agg(count(lit(1)).as("users"), sum(col(TrainingData.LABEL)).as("buyers"), avg(col("_p")).as("mean_predicted"))
        .orderBy(Deciles.COLUMN)
        .collectAsList();
    long users = 0;
    double buyers = 0;
    for (Row r : rows) {
      users += r.getLong(1);
      buyers += r.getDouble(2);
    }
    double overall = buyers / users;
    double cumulative = 0;
    List<Map<String, Object>> out = new ArrayList<>();
    for (Row r : rows) {
      long n = r.getLong(1);
      double b = r.getDouble(2);
      cumulative += b;
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("decile", r.getInt(0));
      e.put("users", n);
      e.put("buyers", (long) b);
      e.put("observed_rate", round(b / n));
      e.put("mean_predicted", round(r.getDouble(3)));
      e.put("lift", overall == 0 ? null : round(b / n / overall));
      e.put("cumulative_capture", buyers == 0 ? null : round(cumulative / buyers));
      out.add(e);
    }
    return out;
  }

  /** A small ordered map for the report (Map.of has no stable order, and the manifest is read by people). */
  static Map<String, Object> ordered(Object... keysAndValues) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      m.put((String) keysAndValues[i], keysAndValues[i + 1]);
    }
    return m;
  }

  /** Six decimals: enough for every metric here, and a manifest people can read. */
  static double round(double x) {
    return Math.round(x * 1e6) / 1e6;
  }
}
