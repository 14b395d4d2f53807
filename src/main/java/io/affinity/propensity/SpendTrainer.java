package io.affinity.propensity;

import static io.affinity.propensity.TrainingData.LABEL;
import static io.affinity.propensity.TrainingData.SPEND;
import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.exp;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.log;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.pow;
import static org.apache.spark.sql.functions.sqrt;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.SparkContext;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.regression.LinearRegression;
import org.apache.spark.ml.regression.LinearRegressionModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;

/**
 * Fits a {@link SpendModel}: E[spend | buys] as a linear regression of ln(spend) on the propensity
 * model's inputs, on the training users who bought in the label window, the ridge strength chosen
 * on the validation buyers. The test users are never seen here.
 *
 * <p>Why a linear model of the log and not a GLM with a log link: spend is right-skewed over orders
 * of magnitude, and least squares on the log is then close to efficient, has a closed-form solver
 * (MLlib's normal equations, no convergence to watch) and takes a ridge penalty; a Gamma GLM
 * (GeneralizedLinearRegression) models the same log-mean but by iteratively reweighted least
 * squares, which needs a positive mean at every step and fails on the outliers real invoice logs
 * hold (a wholesale order 1,000 times the median). The price is the back-transform: exp of the
 * predicted mean log is the median, not the mean, so Duan's (1983) smearing factor, the mean of
 * exp(residual) over the training buyers, scales it to the mean without assuming normal errors.
 */
final class SpendTrainer {
  /** Validation RMSE differences below this are ties, decided for the stronger regularisation. */
  private static final double TIE = 1e-9;
  private static final String LOG_SPEND = "_log_spend";

  /**
   * A fitted spend model and the mean spend of the training buyers (the constant E[spend | buy] of
   * the simplest two-part baseline).
   */
  record Fitted(SpendModel model, double meanSpend) {}

  private final PropensitySettings.Spend settings;
  private final int minBuyers;

  /**
   * @param minBuyers fewest training users with a positive spend to fit on (else no spend model)
   */
  SpendTrainer(PropensitySettings.Spend settings, int minBuyers) {
    this.settings = settings;
    this.minBuyers = minBuyers;
  }

  /**
   * Fits on the buyers of {@code train}, chooses on those of {@code validation} and records
   * {@code model}, {@code fitted_on}, {@code buyers}, {@code model_selection} and the back-transform
   * in {@code out}. Empty, with {@code status} = skipped and the reason in {@code out}, when there
   * are too few buyers with a positive spend (no prices in the data, or a tiny history).
   *
   * @param preparation the propensity model's fitted feature preparation
   * @param train training users: features, {@link TrainingData#LABEL}, {@link TrainingData#SPEND}
   * @param validation validation users, same columns
   */
  Optional<Fitted> train(Transformer[] preparation, Dataset<Row> train, Dataset<Row> validation,
      Map<String, Object> out) {
    SparkContext sc = train.sparkSession().sparkContext();
    sc.setJobDescription("propensity: expected spend, buyers of the training users");
    PipelineModel prep = new Pipeline().setStages(preparation).fit(train);
    Dataset<Row> trainX = buyers(prep, train).persist(StorageLevel.MEMORY_AND_DISK());
    Dataset<Row> validX = buyers(prep, validation).persist(StorageLevel.MEMORY_AND_DISK());
    try {
      Row t = trainX.agg(count(lit(1)), min(LOG_SPEND), max(LOG_SPEND), avg(LOG_SPEND), avg(SPEND)).first();
      long trainBuyers = t.getLong(0);
      long validBuyers = validX.count();
      out.put("model", "linear regression of ln(spend) on the propensity inputs, Duan smearing");
      out.put("fitted_on", "training users with a positive spend in the label window");
      out.put("buyers", Metrics.ordered("train", trainBuyers, "validation", validBuyers));
      if (trainBuyers < minBuyers || validBuyers == 0) {
        out.put("status", "skipped");
        out.put("reason", String.format(Locale.ROOT, "%d training and %d validation buyers with a positive spend; "
            + "need at least %d and 1 (affinity.propensity.min-class-users). Spend is quantity x price of purchases: "
            + "map input.events.columns.price, or list prices in input.items", trainBuyers, validBuyers, minBuyers));
        return Optional.empty();
      }
      double minLog = t.getDouble(1);
      double maxLog = t.getDouble(2);
      double meanLog = t.getDouble(3);
      double meanSpend = t.getDouble(4);

      List<Map<String, Object>> candidates = new ArrayList<>();
      LinearRegressionModel best = null;
      double bestRmse = Double.POSITIVE_INFINITY;
      for (double reg : settings.regParams()) {
        sc.setJobDescription(String.format(Locale.ROOT, "propensity: expected spend, fit reg-param=%s", reg));
        LinearRegressionModel m = regression(reg).fit(trainX);
        double rmse = rmse(m.transform(validX), col(SpendModel.LOG_PREDICTION));
        candidates.add(Metrics.ordered("reg_param", reg, "validation_rmse_log", Metrics.round(rmse)));
        if (best == null || rmse < bestRmse - TIE || (Math.abs(rmse - bestRmse) <= TIE && reg > best.getRegParam())) {
          best = m;
          bestRmse = rmse;
        }
      }
      // Duan's smearing estimate: mean of exp(residual) over the training buyers.
      double smearing = best.transform(trainX)
          .agg(avg(exp(col(LOG_SPEND).minus(col(SpendModel.LOG_PREDICTION))))).first().getDouble(0);
      Map<String, Object> selection = new LinkedHashMap<>();
      selection.put("metric", "RMSE of ln(spend) on the validation buyers");
      selection.put("candidates", candidates);
      selection.put("chosen", Metrics.ordered("reg_param", best.getRegParam(), "validation_rmse_log", Metrics.round(bestRmse)));
      // What the features add over predicting every buyer the training mean of ln(spend).
      selection.put("validation_rmse_log_constant", Metrics.round(rmse(validX, lit(meanLog))));
      out.put("model_selection", selection);
      out.put("mean_training_spend", Metrics.round(meanSpend));
      out.put("back_transform", Metrics.ordered("smearing_factor", Metrics.round(smearing),
          "min_spend", Metrics.round(Math.exp(minLog)), "max_spend", Metrics.round(Math.exp(maxLog))));
      out.put("status", "fitted");

      List<Transformer> stages = new ArrayList<>(Arrays.asList(preparation));
      stages.add(best);
      stages.add(SpendModel.backTransform(minLog, maxLog, smearing));
      // A Pipeline of fitted transformers only: fit() just checks the schema and wraps them.
      return Optional.of(new Fitted(
          new SpendModel(new Pipeline().setStages(stages.toArray(new PipelineStage[0])).fit(train)), meanSpend));
    } finally {
      trainX.unpersist();
      validX.unpersist();
    }
  }

  /** Users who bought with a positive spend: ln(spend) and the feature vector. */
  private static Dataset<Row> buyers(PipelineModel prep, Dataset<Row> users) {
    return prep.transform(users.filter(col(LABEL).equalTo(1.0).and(col(SPEND).gt(0.0))))
        .select(col(SPEND), log(col(SPEND)).as(LOG_SPEND), col(ModelFeatures.VECTOR));
  }

  private LinearRegression regression(double reg) {
    return new LinearRegression()
        .setFeaturesCol(ModelFeatures.VECTOR)
        .setLabelCol(LOG_SPEND)
        .setPredictionCol(SpendModel.LOG_PREDICTION)
        .setRegParam(reg)
        .setElasticNetParam(0.0)
        .setStandardization(true)
        .setSolver("auto");
  }

  private static double rmse(Dataset<Row> rows, org.apache.spark.sql.Column predicted) {
    return rows.agg(sqrt(avg(pow(predicted.minus(col(LOG_SPEND)), 2)))).first().getDouble(0);
  }
}
