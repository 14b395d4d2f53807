package io.affinity.propensity;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.affinity.pipeline.StageReport;
import io.affinity.testing.SparkTestBase;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The paths the stage test does not take: isotonic calibration, user attributes (one-hot text,
 * imputed numbers, a level never seen in training) and the save/load round trip of that model.
 */
class PropensityTrainerTest extends SparkTestBase {

  @Test
  @SuppressWarnings("unchecked")
  void isotonicCalibrationWithAttributes(@TempDir Path dir) {
    List<PlantedPurchases.User> planted = PlantedPurchases.users(3000, 21);
    Dataset<Row> events = spark.createDataFrame(
        PlantedPurchases.events(planted, PropensityStageTest.CUTOFF, PropensityStageTest.END, 22), PlantedPurchases.EVENTS);
    Random rng = new Random(23);
    List<Row> attrs = new ArrayList<>();
    for (PlantedPurchases.User u : planted) {
      // Attributes unrelated to buying; a tenth of each missing.
      String region = rng.nextInt(10) == 0 ? null : rng.nextBoolean() ? "north" : "south";
      Double age = rng.nextInt(10) == 0 ? null : 18.0 + rng.nextInt(60);
      attrs.add(RowFactory.create(u.id(), null, region, age));
    }
    Dataset<Row> users = spark.createDataFrame(attrs, new StructType().add("user_id", DataTypes.StringType)
        .add("signup_date", DataTypes.DateType).add("region", DataTypes.StringType).add("age", DataTypes.DoubleType));
    TrainingData.Inputs in = new TrainingData.Inputs(events, Optional.empty(), Optional.of(users), Optional.empty());
    Timestamp cutoff = Timestamp.from(PropensityStageTest.CUTOFF);
    PropensitySettings settings = new PropensitySettings(30, List.of("frequency", "recency_days"), List.of("region", "age"),
        0.25, 0.25, 5, false, List.of(0.001), List.of(0.0), 100, PropensitySettings.Calibration.ISOTONIC, 10, 20, 0.6);
    Dataset<Row> labelled = TrainingData.materialize(TrainingData.label(
            TrainingData.features(in, cutoff, PropensityStageTest.TYPES), events, cutoff,
            Timestamp.from(PropensityStageTest.END), PropensityStageTest.TYPES)
        .withColumn(TrainingData.SPLIT, TrainingData.split(5, 0.25, 0.25))
        .withColumn(TrainingData.WEIGHT, lit(1.0)), dir.resolve("training").toString());

    StageReport report = new StageReport();
    PropensityModel model = new PropensityTrainer(settings).train(
        labelled.filter(col(TrainingData.SPLIT).equalTo(TrainingData.TRAIN)),
        labelled.filter(col(TrainingData.SPLIT).equalTo(TrainingData.VALIDATION)), report);

    Map<String, Object> calibration = (Map<String, Object>) report.get("calibration");
    assertEquals("isotonic", calibration.get("method"));
    assertTrue((Integer) calibration.get("steps") > 2, calibration.toString());
    List<String> names = new ArrayList<>();
    for (Map<String, Object> c : (List<Map<String, Object>>) report.get("coefficients")) {
      names.add(c.get("feature") + (c.containsKey("level") ? "=" + c.get("level") : ""));
    }
    names.sort(null);
    // Missing or unseen region is the reference level: no slot of its own.
    assertEquals(List.of("age", "frequency", "recency_days", "region=north", "region=south"), names);

    Dataset<Row> test = model.transform(labelled.filter(col(TrainingData.SPLIT).equalTo(TrainingData.TEST))).cache();
    // Isotonic regression is a non-decreasing step function of the raw score.
    double previous = -1;
    for (Row r : test.select(PropensityModel.RAW_SCORE, PropensityModel.PROBABILITY)
        .orderBy(PropensityModel.RAW_SCORE).collectAsList()) {
      assertTrue(r.getDouble(1) >= previous - 1e-12 && r.getDouble(1) <= 1 && r.getDouble(1) >= 0, r.toString());
      previous = r.getDouble(1);
    }
    Map<String, Object> metrics = Metrics.evaluate(test, PropensityModel.PROBABILITY, PropensityModel.RAW_SCORE, 10);
    // ~750 validation users: a step function is noisier than Platt's two parameters, hence 0.08.
    assertTrue((Double) metrics.get("ece") < 0.08, metrics.toString());
    assertTrue((Double) metrics.get("auc_roc") > 0.75, metrics.toString());

    // A region never seen in training and a missing age still get a probability.
    Dataset<Row> odd = labelled.limit(3).withColumn("region", lit("west")).withColumn("age", lit(null).cast("double"));
    assertEquals(0, model.transform(odd).filter(col(PropensityModel.PROBABILITY).isNull()).count());

    model.save(dir.resolve("model").toString());
    PropensityModel loaded = PropensityModel.load(dir.resolve("model").toString());
    Dataset<Row> again = loaded.transform(labelled.filter(col(TrainingData.SPLIT).equalTo(TrainingData.TEST)));
    frames().assertDataFrameEquals(
        test.select("user_id", PropensityModel.RAW_SCORE, PropensityModel.PROBABILITY).orderBy("user_id"),
        again.select("user_id", PropensityModel.RAW_SCORE, PropensityModel.PROBABILITY).orderBy("user_id"));
    assertFalse(List.of(again.columns()).contains(ModelFeatures.VECTOR), "intermediate columns are dropped");
    test.unpersist();
    labelled.unpersist();
  }

  /**
   * Table mode with an amount column: the spend of a responder is the users table's amount, which
   * never enters the model. Planted: 3,000 customers whose chance to respond and whose amount both
   * grow with income; the amount is 0.2% of income times exp(N(0, 0.3)).
   */
  @Test
  @SuppressWarnings("unchecked")
  void tableModeLearnsTheSpendOfAResponderFromTheAmountColumn(@TempDir Path dir) throws Exception {
    java.time.LocalDate date = java.time.LocalDate.of(2026, 6, 30);
    io.affinity.io.Datasets ds = new io.affinity.io.Datasets(spark, dir.toString(), date);
    Random rng = new Random(31);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 3000; i++) {
      double z = rng.nextGaussian();
      double income = Math.round(50_000 * Math.exp(0.5 * z));
      boolean responds = rng.nextDouble() < 1 / (1 + Math.exp(-(-1 + 1.5 * z)));
      Double amount = responds ? Math.round(0.002 * income * Math.exp(0.3 * rng.nextGaussian()) * 100) / 100.0 : null;
      rows.add(RowFactory.create("c" + i, null, income, responds ? "yes" : "no", amount));
    }
    Dataset<Row> users = spark.createDataFrame(rows, new StructType().add("user_id", DataTypes.StringType)
        .add("signup_date", DataTypes.DateType).add("income", DataTypes.DoubleType).add("y", DataTypes.StringType)
        .add("amount", DataTypes.DoubleType));
    ds.write(users, "clean/users");
    io.affinity.io.IdMaps.update(spark, ds, "users", users.select(col("user_id").as("id")));
    PropensitySettings settings = new PropensitySettings(30, List.of("frequency"), List.of("income"), 0.2, 0.2, 42,
        true, List.of(0.01), List.of(0.0), 100, PropensitySettings.Calibration.PLATT, 10, 20, 0.6,
        new PropensitySettings.Label("y", List.of("yes"), false), List.of("amount"),
        new PropensitySettings.Spend(true, List.of(0.0, 0.1), "amount"), false, PropensitySettings.Models.LOGISTIC_ONLY);
    new io.affinity.pipeline.Pipeline(List.of(
            new io.affinity.features.FeaturesStage(date, PropensityStageTest.TYPES,
                new io.affinity.config.Settings.FeatureSettings(30), false, true),
            new PropensityStage(PropensityStageTest.TYPES, settings)), Map.of())
        .run(new io.affinity.pipeline.StageContext(spark, date, ds));

    Map<String, Object> section = new io.affinity.io.Manifest(ds).stage("propensity");
    Map<String, Object> spend = (Map<String, Object>) section.get("expected_spend");
    assertEquals("fitted", spend.get("status"), spend.toString());
    assertEquals("users-table column amount of the responders", spend.get("target"));
    // The amount is an outcome, not an input: only income is.
    for (Map<String, Object> c : (List<Map<String, Object>>) section.get("coefficients")) {
      assertEquals("income", c.get("feature"), section.get("coefficients").toString());
    }
    Map<String, Object> metrics = (Map<String, Object>) spend.get("metrics");
    assertEquals(List.of("constant_spend"), List.copyOf(((Map<String, Object>) metrics.get("baselines")).keySet()));
    Map<String, Object> given = (Map<String, Object>) metrics.get("given_purchase");
    // ln(amount) = ln(income) + const + N(0, 0.3), ln(income) has sd 0.5: rank correlation ~0.85.
    assertTrue((Double) ((Map<String, Object>) given.get("model")).get("spearman") > 0.7, given.toString());
    Map<String, Object> against = (Map<String, Object>) metrics.get("against_strongest_baseline");
    assertEquals(true, ((Map<String, Object>) against.get("rmse")).get("model_better"), against.toString());
    // The only attribute is the baseline; the model on it alone ranks the same way (monotone in income).
    Map<String, Object> baseline = (Map<String, Object>) ((Map<String, Object>) section.get("metrics"))
        .get("baseline_attribute");
    assertEquals("income", baseline.get("attribute"), baseline.toString());
    assertEquals((Double) ((Map<String, Object>) ((Map<String, Object>) section.get("metrics")).get("calibrated"))
        .get("auc_roc"), (Double) baseline.get("auc_roc"), 0.005, baseline.toString());
    assertEquals(0, ds.read("propensity", "test").filter(col("expected_value").isNull()).count(),
        "every row, contacted or not, gets an expected value");
  }

  /**
   * The family choice on planted truths: where buying depends on the product of two attributes (a
   * linear model sees no signal at all), a tree family is published and beats the logistic
   * regression's held-out AUC by far more than 0.02; where the truth is linear in them, the logistic
   * regression is kept (a tree's gain, if any, is inside the bootstrap interval).
   */
  @Test
  @SuppressWarnings("unchecked")
  void treesWinOnAnInteractionAndLogisticKeepsALinearTruth(@TempDir Path dir) {
    for (boolean interaction : new boolean[] {true, false}) {
      Random rng = new Random(interaction ? 41 : 43);
      List<Row> rows = new ArrayList<>();
      for (int i = 0; i < 3000; i++) {
        double x1 = rng.nextGaussian();
        double x2 = rng.nextGaussian();
        double z = interaction ? 3 * x1 * x2 : 1.2 * x1 - 0.8 * x2;
        double label = rng.nextDouble() < 1 / (1 + Math.exp(-z)) ? 1.0 : 0.0;
        rows.add(RowFactory.create("u" + i, (double) rng.nextInt(5), x1, x2, label));
      }
      Dataset<Row> frame = spark.createDataFrame(rows, new StructType().add("user_id", DataTypes.StringType)
              .add("frequency", DataTypes.DoubleType).add("x1", DataTypes.DoubleType).add("x2", DataTypes.DoubleType)
              .add(TrainingData.LABEL, DataTypes.DoubleType))
          .withColumn(TrainingData.SPLIT, TrainingData.split(5, 0.25, 0.25))
          .withColumn(TrainingData.WEIGHT, lit(1.0));
      Dataset<Row> labelled = TrainingData.materialize(frame, dir.resolve("t" + interaction).toString());
      Dataset<Row> train = labelled.filter(col(TrainingData.SPLIT).equalTo(TrainingData.TRAIN));
      Dataset<Row> validation = labelled.filter(col(TrainingData.SPLIT).equalTo(TrainingData.VALIDATION));
      Dataset<Row> test = labelled.filter(col(TrainingData.SPLIT).equalTo(TrainingData.TEST));

      StageReport report = new StageReport();
      PropensityModel chosen = new PropensityTrainer(families(List.of(PropensitySettings.Family.values())))
          .train(train, validation, report);
      Map<String, Object> family = (Map<String, Object>) ((Map<String, Object>) report.get("model_selection"))
          .get("family");
      assertEquals(3, ((List<?>) family.get("candidates")).size(), family.toString());
      double chosenAuc = Metrics.auc(chosen.transform(test), PropensityModel.PROBABILITY, "areaUnderROC");
      if (interaction) {
        assertFalse(family.get("chosen").equals("logistic_regression"), family.toString());
        assertTrue(report.get("feature_importances") != null, "a tree reports its importances");
        // Held-out AUCs of the candidates (calibration is monotone: it leaves them as fitted).
        Map<String, Double> auc = new java.util.HashMap<>();
        for (Map<String, Object> cand : (List<Map<String, Object>>) family.get("candidates")) {
          auc.put((String) cand.get("policy"), ((Number) cand.get("auc_roc")).doubleValue());
        }
        assertTrue(auc.get((String) family.get("chosen")) >= auc.get("logistic_regression") + 0.02, auc.toString());
        assertTrue(chosenAuc >= auc.get("logistic_regression") + 0.02, "test AUC " + chosenAuc + " vs " + auc);
      } else {
        assertEquals("logistic_regression", family.get("chosen"), family.toString());
        assertTrue(chosenAuc > 0.75, "linear truth, AUC " + chosenAuc);
      }
      labelled.unpersist();
    }
  }

  private static PropensitySettings families(List<PropensitySettings.Family> families) {
    return new PropensitySettings(30, List.of("frequency"), List.of("x1", "x2"), 0.25, 0.25, 5, false, List.of(0.001),
        List.of(0.0), 30, PropensitySettings.Calibration.PLATT, 10, 20, 0.6, PropensitySettings.Label.EVENTS,
        List.of(), PropensitySettings.Spend.DEFAULT, false,
        new PropensitySettings.Models(families, 20, 4, 10, 3, 0.3, 200, 0.95));
  }
}
