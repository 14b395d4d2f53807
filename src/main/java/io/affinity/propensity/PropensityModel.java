package io.affinity.propensity;

import static org.apache.spark.sql.functions.col;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.functions;
import org.apache.spark.ml.regression.IsotonicRegressionModel;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * A fitted purchase-propensity model: one spark.ml {@link PipelineModel} holding the feature
 * preparation ({@link ModelFeatures}), the class-weighted logistic regression and the calibration
 * fitted on held-out users. Saved and loaded with MLlib's own format, so
 * {@code PipelineModel.load("models/propensity/run_date=D")} works from any Spark program too.
 *
 * <p>{@link #transform} adds three columns to a frame shaped like {@code features/users}:
 * {@link #RAW_SCORE} (the regression's log-odds, before calibration; shifted by the class weights),
 * {@link #UNCALIBRATED} (its sigmoid) and {@link #PROBABILITY} (calibrated).
 */
public final class PropensityModel {
  /** Log-odds of the class-weighted logistic regression. */
  public static final String RAW_SCORE = "raw_score";
  /** Sigmoid of the raw score: a probability under the training class weights, not the real rate. */
  public static final String UNCALIBRATED = "probability_uncalibrated";
  /** Calibrated probability of at least one purchase in the horizon. */
  public static final String PROBABILITY = "probability";

  static final String MODEL_RAW = "model_raw";
  static final String MODEL_PROBABILITY = "model_probability";
  static final String MODEL_PREDICTION = "model_prediction";
  static final String MARGIN = "model_margin";
  static final String CALIBRATION_RAW = "calibration_raw";
  static final String CALIBRATION_PROBABILITY = "calibration_probability";
  static final String CALIBRATION_PREDICTION = "calibration_prediction";

  private final PipelineModel pipeline;

  PropensityModel(PipelineModel pipeline) {
    Transformer[] stages = pipeline.stages();
    Transformer last = stages[stages.length - 1];
    if (!(last instanceof LogisticRegressionModel) && !(last instanceof IsotonicRegressionModel)) {
      throw new IllegalArgumentException("not a propensity model: the last stage is " + last.getClass().getSimpleName()
          + ", expected a calibration (LogisticRegressionModel or IsotonicRegressionModel)");
    }
    this.pipeline = pipeline;
  }

  /** Loads a model saved by {@link #save}. */
  public static PropensityModel load(String path) {
    return new PropensityModel(PipelineModel.load(path));
  }

  /** Saves the model (MLlib format) at {@code path}, replacing what is there. */
  public void save(String path) {
    try {
      pipeline.write().overwrite().save(path);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot save the propensity model to " + path, e);
    }
  }

  /** The underlying pipeline. */
  public PipelineModel pipeline() {
    return pipeline;
  }

  /**
   * The fitted feature preparation ({@link ModelFeatures}: from {@code features/users} columns to
   * {@link ModelFeatures#VECTOR}), without the regression and the calibration: the expected-spend
   * model reuses it, so both parts of the two-part model read the same inputs the same way.
   */
  Transformer[] preparation() {
    Transformer[] stages = pipeline.stages();
    // Layout written by PropensityTrainer: preparation..., regression, margin slicer, calibration.
    return java.util.Arrays.copyOf(stages, stages.length - 3);
  }

  /** The input columns plus {@link #RAW_SCORE}, {@link #UNCALIBRATED} and {@link #PROBABILITY}. */
  public Dataset<Row> transform(Dataset<Row> users) {
    Transformer[] stages = pipeline.stages();
    Column calibrated = stages[stages.length - 1] instanceof LogisticRegressionModel
        ? second(CALIBRATION_PROBABILITY)
        : col(CALIBRATION_PREDICTION);
    List<Column> out = new ArrayList<>();
    for (String c : users.columns()) {
      out.add(col(c));
    }
    out.add(second(MODEL_RAW).as(RAW_SCORE));
    out.add(second(MODEL_PROBABILITY).as(UNCALIBRATED));
    out.add(calibrated.as(PROBABILITY));
    return pipeline.transform(users).select(out.toArray(new Column[0]));
  }

  /** Element 1 (the positive class) of a two-element vector column. */
  private static Column second(String vectorColumn) {
    return functions.vector_to_array(col(vectorColumn), "float64").getItem(1);
  }
}
