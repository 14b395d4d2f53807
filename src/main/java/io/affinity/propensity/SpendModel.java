package io.affinity.propensity;

import static org.apache.spark.sql.functions.col;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.feature.SQLTransformer;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The second part of the two-part expected-spend model: E[spend | buys] per user. One spark.ml
 * {@link PipelineModel}: the propensity model's own feature preparation, the linear regression of
 * ln(spend) and an {@link SQLTransformer} that turns the predicted log into a mean,
 * {@code exp(clamp(prediction)) * smearing}. Saved with MLlib's format under
 * {@code models/spend/run_date=D}, so it loads from any Spark program with
 * {@code PipelineModel.load}; every constant it needs is inside the saved stages.
 *
 * <p>{@link #transform} adds {@link #EXPECTED_SPEND} and {@link #EXPECTED_VALUE} (= the calibrated
 * probability times the expected spend: the spend to expect from the user in the horizon, the
 * figure to rank a budget-limited campaign by).
 */
public final class SpendModel {
  /** E[spend in the horizon | the user buys in it], in the input's money unit. */
  public static final String EXPECTED_SPEND = "expected_spend";
  /** P(buy) x E[spend | buy]: the expected spend in the horizon. */
  public static final String EXPECTED_VALUE = "expected_value";

  static final String LOG_PREDICTION = "spend_log_prediction";

  private final PipelineModel pipeline;

  SpendModel(PipelineModel pipeline) {
    Transformer[] stages = pipeline.stages();
    if (!(stages[stages.length - 1] instanceof SQLTransformer)) {
      throw new IllegalArgumentException("not a spend model: the last stage is "
          + stages[stages.length - 1].getClass().getSimpleName() + ", expected the SQLTransformer of the back-transform");
    }
    this.pipeline = pipeline;
  }

  /** Loads a model saved by {@link #save}. */
  public static SpendModel load(String path) {
    return new SpendModel(PipelineModel.load(path));
  }

  /** Saves the model (MLlib format) at {@code path}, replacing what is there. */
  public void save(String path) {
    try {
      pipeline.write().overwrite().save(path);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot save the spend model to " + path, e);
    }
  }

  /** The underlying pipeline. */
  public PipelineModel pipeline() {
    return pipeline;
  }

  /**
   * The back-transform: a log prediction clamped to the range of the training buyers' ln(spend)
   * (a linear model extrapolates without limit; a user far outside the training range gets the
   * largest or smallest spend seen, not exp of an extrapolation), exponentiated and multiplied by
   * Duan's smearing factor, which turns exp(E[ln y]) (a median under log-normal errors) into E[y].
   */
  static SQLTransformer backTransform(double minLog, double maxLog, double smearing) {
    return new SQLTransformer().setStatement(String.format(java.util.Locale.ROOT,
        "SELECT *, exp(least(greatest(%s, %s), %s)) * %s AS %s FROM __THIS__",
        LOG_PREDICTION, Double.toString(minLog), Double.toString(maxLog), Double.toString(smearing), EXPECTED_SPEND));
  }

  /**
   * The input columns plus {@link #EXPECTED_SPEND} and {@link #EXPECTED_VALUE}; {@code users} is
   * shaped like {@code features/users} and holds {@link PropensityModel#PROBABILITY}.
   */
  public Dataset<Row> transform(Dataset<Row> users) {
    List<Column> out = new ArrayList<>();
    for (String c : users.columns()) {
      out.add(col(c));
    }
    out.add(col(EXPECTED_SPEND));
    out.add(col(PropensityModel.PROBABILITY).multiply(col(EXPECTED_SPEND)).as(EXPECTED_VALUE));
    return pipeline.transform(users).select(out.toArray(new Column[0]));
  }
}
