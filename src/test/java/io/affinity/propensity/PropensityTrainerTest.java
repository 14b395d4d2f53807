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
}
