package io.affinity.propensity;

import static io.affinity.propensity.TrainingData.LABEL;
import static io.affinity.propensity.TrainingData.WEIGHT;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import io.affinity.pipeline.StageReport;
import io.affinity.propensity.PropensitySettings.Family;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.SparkContext;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.classification.GBTClassificationModel;
import org.apache.spark.ml.classification.GBTClassifier;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.classification.ProbabilisticClassifier;
import org.apache.spark.ml.classification.RandomForestClassificationModel;
import org.apache.spark.ml.classification.RandomForestClassifier;
import org.apache.spark.ml.feature.VectorSlicer;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.regression.IsotonicRegression;
import org.apache.spark.ml.regression.IsotonicRegressionModel;
import org.apache.spark.ml.stat.Summarizer;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;

/**
 * Fits a {@link PropensityModel}: the feature preparation and every configured family on the
 * training users (the logistic regression's grid point chosen by area under PR on the validation
 * users), each family calibrated on the validation users (held out from its fit), and the published
 * family chosen by {@link FamilyChoice}. The test users are never seen here.
 */
final class PropensityTrainer {
  /** Validation AUC-PR differences below this are ties, decided for the stronger regularisation. */
  private static final double TIE = 1e-9;

  private final PropensitySettings settings;

  PropensityTrainer(PropensitySettings settings) {
    this.settings = settings;
  }

  /**
   * Trains and records {@code features}, {@code model_selection}, {@code calibration} and the
   * chosen model's {@code coefficients} (logistic) or {@code feature_importances} (trees) in the
   * report.
   *
   * @param train training users: features, {@link TrainingData#LABEL}, {@link TrainingData#WEIGHT}
   * @param validation validation users: user_id, features and label
   */
  PropensityModel train(Dataset<Row> train, Dataset<Row> validation, StageReport report) {
    SparkContext sc = train.sparkSession().sparkContext();
    sc.setJobDescription("propensity: prepare features");
    ModelFeatures spec = ModelFeatures.plan(settings, train);
    Map<String, Object> features = report.section("features");
    features.put("used", spec.describe());
    features.put("dropped", spec.dropped());
    PipelineModel prep = spec.pipeline().fit(train);
    Dataset<Row> trainX = prep.transform(train).select(LABEL, WEIGHT, ModelFeatures.VECTOR)
        .persist(StorageLevel.MEMORY_AND_DISK());
    Dataset<Row> validX = prep.transform(validation).select(LABEL, ModelFeatures.VECTOR)
        .persist(StorageLevel.MEMORY_AND_DISK());
    Map<String, Object> selection = report.section("model_selection");
    VectorSlicer margin = new VectorSlicer().setInputCol(PropensityModel.MODEL_RAW).setOutputCol(PropensityModel.MARGIN)
        .setIndices(new int[] {1});

    Map<Family, Candidate> candidates = new EnumMap<>(Family.class);
    for (Family f : settings.models().families()) {
      sc.setJobDescription("propensity: fit " + f.label());
      long started = System.nanoTime();
      Model<?> m = f == Family.LOGISTIC ? bestLogistic(trainX, validX, selection) : fitTree(f, trainX);
      sc.setJobDescription("propensity: calibrate " + f.label());
      Map<String, Object> calibration = new LinkedHashMap<>();
      Dataset<Row> held = margin.transform(m.transform(validX)).select(LABEL, PropensityModel.MARGIN);
      Transformer calibrator = calibrate(held, calibration);
      List<Transformer> stages = new ArrayList<>(Arrays.asList(prep.stages()));
      stages.add(m);
      stages.add(margin);
      stages.add(calibrator);
      // A Pipeline of fitted transformers only: fit() just checks the schema and wraps them.
      PipelineModel full = new Pipeline().setStages(stages.toArray(new PipelineStage[0])).fit(train);
      candidates.put(f, new Candidate(m, new PropensityModel(full), calibration,
          Math.round((System.nanoTime() - started) / 1e8) / 10.0));
    }
    Family chosen = FamilyChoice.choose(candidates, validation, settings.models(), settings.seed(), selection);
    Candidate c = candidates.get(chosen);
    report.section("calibration").putAll(c.calibration());

    sc.setJobDescription("propensity: " + (chosen == Family.LOGISTIC ? "coefficients" : "feature importances"));
    if (c.model() instanceof LogisticRegressionModel lr) {
      report.put("intercept", Metrics.round(lr.intercept()));
      report.put("coefficients", coefficients(lr, spec.slots(prep), trainX));
    } else {
      report.put("feature_importances", importances(c.model(), spec.slots(prep)));
    }
    trainX.unpersist();
    validX.unpersist();
    return c.fitted();
  }

  /**
   * One fitted family: its classifier, the whole calibrated model and the calibration's description.
   *
   * @param seconds fit and calibration time
   */
  record Candidate(Model<?> model, PropensityModel fitted, Map<String, Object> calibration,
      double seconds) {}

  /**
   * Every grid point of the logistic regression, chosen by area under PR on the validation users
   * (ties: the larger reg-param); the grid goes to {@code selection.logistic_grid}.
   */
  private LogisticRegressionModel bestLogistic(Dataset<Row> trainX, Dataset<Row> validX, Map<String, Object> selection) {
    SparkContext sc = trainX.sparkSession().sparkContext();
    List<Map<String, Object>> grid = new ArrayList<>();
    LogisticRegressionModel best = null;
    double bestPr = Double.NEGATIVE_INFINITY;
    double bestReg = 0;
    for (double reg : settings.regParams()) {
      for (double elasticNet : settings.elasticNetParams()) {
        sc.setJobDescription(String.format(Locale.ROOT, "propensity: fit reg-param=%s elastic-net=%s", reg, elasticNet));
        LogisticRegressionModel m = logistic(reg, elasticNet).fit(trainX);
        double pr = Metrics.auc(m.transform(validX), PropensityModel.MODEL_RAW, "areaUnderPR");
        int iterations = m.summary().totalIterations();
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("reg_param", reg);
        c.put("elastic_net", elasticNet);
        c.put("validation_auc_pr", Metrics.round(pr));
        c.put("iterations", iterations);
        c.put("converged", iterations < settings.maxIter());
        grid.add(c);
        if (best == null || pr > bestPr + TIE || (Math.abs(pr - bestPr) <= TIE && reg > bestReg)) {
          best = m;
          bestPr = pr;
          bestReg = reg;
        }
      }
    }
    Map<String, Object> lr = new LinkedHashMap<>();
    lr.put("metric", "area under PR on the validation users (ties: the larger reg-param)");
    lr.put("candidates", grid);
    lr.put("chosen", Metrics.ordered("reg_param", best.getRegParam(), "elastic_net", best.getElasticNetParam(),
        "validation_auc_pr", Metrics.round(bestPr)));
    selection.put("logistic_grid", lr);
    return best;
  }

  /** A tree family fitted on the training users with their class weights. */
  private Model<?> fitTree(Family f, Dataset<Row> trainX) {
    PropensitySettings.Models m = settings.models();
    if (f == Family.RANDOM_FOREST) {
      RandomForestClassifier rf = new RandomForestClassifier().setNumTrees(m.forestTrees()).setMaxDepth(m.forestDepth())
          .setSeed(settings.seed()).setWeightCol(WEIGHT);
      return columns(rf).fit(trainX);
    }
    GBTClassifier gbt = new GBTClassifier().setMaxIter(m.boostIterations()).setMaxDepth(m.boostDepth())
        .setStepSize(m.boostStep()).setSeed(settings.seed()).setWeightCol(WEIGHT);
    return columns(gbt).fit(trainX);
  }

  /** The input and output columns every family uses, so the margin slicer and calibration fit them all. */
  private static <T extends ProbabilisticClassifier<?, ?, ?>> T columns(T c) {
    c.setFeaturesCol(ModelFeatures.VECTOR);
    c.setLabelCol(LABEL);
    c.setRawPredictionCol(PropensityModel.MODEL_RAW);
    c.setProbabilityCol(PropensityModel.MODEL_PROBABILITY);
    c.setPredictionCol(PropensityModel.MODEL_PREDICTION);
    return c;
  }

  /** A tree model's feature importances (MLlib's, summing to 1) per input slot, largest first. */
  private static List<Map<String, Object>> importances(Model<?> model, List<Map<String, Object>> slots) {
    Vector imp = model instanceof RandomForestClassificationModel rf ? rf.featureImportances()
        : ((GBTClassificationModel) model).featureImportances();
    List<Map<String, Object>> out = new ArrayList<>();
    for (int i = 0; i < imp.size(); i++) {
      Map<String, Object> e = new LinkedHashMap<>(slots.get(i));
      e.put("importance", Metrics.round(imp.apply(i)));
      out.add(e);
    }
    out.sort(Comparator.comparingDouble((Map<String, Object> e) -> -(Double) e.get("importance")));
    return out;
  }

  private LogisticRegression logistic(double reg, double elasticNet) {
    return columns(new LogisticRegression()
        .setFamily("binomial")
        .setWeightCol(WEIGHT)
        .setStandardization(true)
        .setRegParam(reg)
        .setElasticNetParam(elasticNet)
        .setMaxIter(settings.maxIter()));
  }

  /** Fits the configured calibration of the raw score on held-out users and describes it. */
  private Transformer calibrate(Dataset<Row> held, Map<String, Object> out) {
    Row counts = held.agg(org.apache.spark.sql.functions.count(lit(1)), org.apache.spark.sql.functions.sum(col(LABEL)))
        .first();
    long n = counts.getLong(0);
    double positives = counts.getDouble(1);
    out.put("method", settings.calibration().name().toLowerCase(Locale.ROOT));
    out.put("fitted_on", "validation users");
    out.put("users", n);
    if (settings.calibration() == PropensitySettings.Calibration.ISOTONIC) {
      IsotonicRegressionModel m = new IsotonicRegression()
          .setFeaturesCol(PropensityModel.MARGIN)
          .setFeatureIndex(0)
          .setLabelCol(LABEL)
          .setIsotonic(true)
          .setPredictionCol(PropensityModel.CALIBRATION_PREDICTION)
          .fit(held);
      out.put("steps", m.boundaries().size());
      return m;
    }
    // Platt (1999): regress the label on the raw score with the targets pulled slightly towards
    // 1/2, (N+ + 1) / (N+ + 2) for buyers and 1 / (N- + 2) for the others, so a separable or tiny
    // held-out set cannot drive the slope to infinity. MLlib needs 0/1 labels, so each user enters
    // twice, as a buyer with weight t and as a non-buyer with weight 1 - t.
    double tPos = (positives + 1) / (positives + 2);
    double tNeg = 1 / (n - positives + 2);
    Dataset<Row> t = held.withColumn("_t", when(col(LABEL).equalTo(1.0), lit(tPos)).otherwise(lit(tNeg)));
    Dataset<Row> soft = t.withColumn(LABEL, lit(1.0)).withColumn(WEIGHT, col("_t"))
        .unionByName(t.withColumn(LABEL, lit(0.0)).withColumn(WEIGHT, lit(1.0).minus(col("_t"))));
    LogisticRegressionModel m = new LogisticRegression()
        .setFamily("binomial")
        .setFeaturesCol(PropensityModel.MARGIN)
        .setLabelCol(LABEL)
        .setWeightCol(WEIGHT)
        .setRegParam(0.0)
        .setStandardization(false)
        .setMaxIter(100)
        .setRawPredictionCol(PropensityModel.CALIBRATION_RAW)
        .setProbabilityCol(PropensityModel.CALIBRATION_PROBABILITY)
        .setPredictionCol(PropensityModel.CALIBRATION_PREDICTION)
        .fit(soft);
    out.put("slope", Metrics.round(m.coefficients().apply(0)));
    out.put("intercept", Metrics.round(m.intercept()));
    out.put("targets", Metrics.ordered("buyer", Metrics.round(tPos), "non_buyer", Metrics.round(tNeg)));
    return m;
  }

  /**
   * Coefficients with their standardized form (coefficient times the feature's standard deviation
   * in the training users: the change in log-odds for one standard deviation more), largest effect
   * first. The scale is that of the transformed feature (e.g. ln(1 + frequency)).
   */
  private static List<Map<String, Object>> coefficients(LogisticRegressionModel m, List<Map<String, Object>> slots,
      Dataset<Row> trainX) {
    Vector sd = trainX.select(Summarizer.std(col(ModelFeatures.VECTOR))).first().getAs(0);
    Vector beta = m.coefficients();
    List<Map<String, Object>> out = new ArrayList<>();
    for (int i = 0; i < beta.size(); i++) {
      Map<String, Object> e = new LinkedHashMap<>(slots.get(i));
      double standardized = beta.apply(i) * sd.apply(i);
      e.put("coefficient", Metrics.round(beta.apply(i)));
      e.put("standardized", Metrics.round(standardized));
      e.put("odds_ratio_per_sd", Metrics.round(Math.exp(standardized)));
      out.add(e);
    }
    out.sort(Comparator.comparingDouble((Map<String, Object> e) -> -Math.abs((Double) e.get("standardized"))));
    return out;
  }
}
