package io.affinity.propensity;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.log1p;
import static org.apache.spark.sql.functions.when;

import io.affinity.pipeline.PairedBootstrap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.functions;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The model against the simple model a careful engineer would write by hand: a logistic
 * regression of the label on recency alone (ln(1 + days since the last purchase), and whether the
 * user never purchased), fitted unweighted on the training users, so its output is a probability
 * without calibration. Both are scored on the test users by log loss, and the difference gets a
 * paired bootstrap interval over them: the model is "below its baseline" only when the whole
 * interval says it loses, never on a difference inside the noise of a few test buyers.
 */
final class BaselineCheck {
  private static final String X = "_baseline_x";

  /**
   * @param verdict {@code better}, {@code tie} or {@code worse} (the interval of model minus
   *     baseline log-likelihood is above 0, spans 0, or is below 0)
   * @param report the manifest entry
   */
  record Result(String verdict, Map<String, Object> report) {
    boolean worse() {
      return verdict.equals("worse");
    }
  }

  private BaselineCheck() {}

  /**
   * @param train training users with recency_days and the label
   * @param scoredTest test users scored by the model ({@link PropensityModel#PROBABILITY})
   */
  static Result compare(Dataset<Row> train, Dataset<Row> scoredTest, PropensitySettings.Models models, long seed) {
    train.sparkSession().sparkContext().setJobDescription("propensity: recency baseline");
    LogisticRegressionModel baseline = new LogisticRegression()
        .setFamily("binomial")
        .setFeaturesCol(X)
        .setLabelCol(TrainingData.LABEL)
        .setRegParam(0.0)
        .setMaxIter(100)
        .setProbabilityCol("_baseline_probability")
        .setRawPredictionCol("_baseline_raw")
        .setPredictionCol("_baseline_prediction")
        .fit(inputs(train));
    Dataset<Row> wide = baseline.transform(inputs(scoredTest)).select(col("user_id"),
        Metrics.logLikelihood(col(PropensityModel.PROBABILITY)).as("model"),
        Metrics.logLikelihood(functions.vector_to_array(col("_baseline_probability"), "float64").getItem(1)).as("baseline"));
    double[][] means = PairedBootstrap.means(wide, "user_id", List.of("model", "baseline"), models.replicates(), seed);
    double[] iv = PairedBootstrap.interval(means, 0, 1, models.confidence());
    String verdict = iv[0] > 0 ? "better" : iv[1] < 0 ? "worse" : "tie";
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("baseline", "logistic regression on ln(1 + recency_days) and never-purchased, fitted on the training users");
    out.put("evaluated_on", "test users");
    out.put("log_loss_model", Metrics.round(-means[0][0]));
    out.put("log_loss_baseline", Metrics.round(-means[0][1]));
    out.put("gain_low", Metrics.round(iv[0]));
    out.put("gain_high", Metrics.round(iv[1]));
    out.put("verdict", verdict);
    out.put("reason", String.format(Locale.ROOT, "the model's log-likelihood per test user minus the baseline's is "
        + "%.5f .. %.5f (%d %% paired bootstrap interval, %d resamples): %s", iv[0], iv[1],
        Math.round(models.confidence() * 100), models.replicates(),
        verdict.equals("better") ? "the model beats the baseline"
            : verdict.equals("tie") ? "inside the noise" : "the model is below its baseline"));
    return new Result(verdict, out);
  }

  /** The baseline's two inputs as one vector. */
  private static Dataset<Row> inputs(Dataset<Row> users) {
    Column never = when(col("recency_days").isNull(), lit(1.0)).otherwise(lit(0.0));
    Dataset<Row> x = users.withColumn("_b_recency", coalesce(log1p(greatest(col("recency_days"), lit(0.0))), lit(0.0)))
        .withColumn("_b_never", never);
    return new VectorAssembler().setInputCols(new String[] {"_b_recency", "_b_never"}).setOutputCol(X).transform(x);
  }

}
