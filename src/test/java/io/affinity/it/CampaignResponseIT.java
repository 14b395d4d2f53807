package io.affinity.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.affinity.sample.CampaignTableGenerator;
import io.affinity.testing.SparkTestBase;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Table mode end to end by {@code conf/examples/campaign-response.conf} alone (only the input path
 * and the output root overridden): a generated Bank-Marketing-shaped table of 4,000 rows without
 * an id column and without an event log, 5 % of them unlabelled. Checks the exit code, that
 * recommend is skipped with its reason, that every row is scored and published with a group, that
 * duration is not a model input, and the response model against the planted truth on the held-out
 * rows.
 */
class CampaignResponseIT extends SparkTestBase {
  private static final int ROWS = 4_000;
  private static final String DATE = "run_date=2026-11-20";

  @TempDir
  static Path tmp;
  static Path out;
  static JsonNode stages;
  static CampaignTableGenerator.Summary table;

  @BeforeAll
  static void runTheExampleConf() throws IOException {
    table = CampaignTableGenerator.generate(new CampaignTableGenerator.Options(tmp.resolve("data"), ROWS, 11L, 0.05));
    out = tmp.resolve("out");
    Run r = cli("all", "--config", "conf/examples/campaign-response.conf",
        "-Daffinity.input.users.path=" + table.table(), "-Daffinity.output.root=" + out);
    assertEquals(0, r.exitCode(), r.stderr());
    stages = new ObjectMapper().readTree(out.resolve("runs/" + DATE + "/manifest.json").toFile()).get("stages");
  }

  @Test
  void everyRowIsScoredAndPublishedAndRecommendIsSkippedWithItsReason() {
    assertEquals("skipped", stages.get("recommend").get("status").asText());
    assertTrue(stages.get("recommend").get("skipped").asText().contains("no event log"));
    JsonNode label = stages.get("propensity").get("label");
    assertEquals(ROWS, label.get("rows").asLong());
    assertEquals(table.labelled(), label.get("labelled_rows").asLong());
    assertEquals(ROWS - table.labelled(), label.get("unlabelled_rows").asLong());
    List<String> inputs = new ArrayList<>();
    stages.get("propensity").get("features").get("used").forEach(f -> inputs.add(f.get("feature").asText()));
    assertTrue(inputs.contains("poutcome") && inputs.contains("nr_employed") && inputs.contains("cons_price_idx"), inputs.toString());
    assertTrue(!inputs.contains("duration") && !inputs.contains("y"), "leaking column or label as input: " + inputs);

    Dataset<Row> propensity = spark.read().parquet(out.resolve("propensity/" + DATE).toString());
    assertEquals(ROWS, propensity.filter("probability IS NOT NULL AND decile BETWEEN 1 AND 10").count());
    Dataset<Row> audience = spark.read().parquet(out.resolve("audience/" + DATE).toString());
    assertEquals(ROWS, audience.count());
    assertEquals(ROWS, audience.filter("top_items IS NULL AND segment_id IS NOT NULL").count());
    long control = audience.filter("`group` = 'control'").count();
    assertTrue(Math.abs(control / (double) ROWS - 0.1) <= 0.01, control + " control rows");
    // The generated ids are the rows' lines: the first customer is line 2 of the file.
    assertEquals(1, audience.filter("user_id = 'bank-additional-full.csv:2'").count());
  }

  @Test
  void theResponseModelRanksAndIsCalibratedNearThePlantedTruthOnHeldOutRows() {
    JsonNode calibrated = stages.get("propensity").get("metrics").get("calibrated");
    double auc = calibrated.get("auc_roc").asDouble();
    double ece = calibrated.get("ece").asDouble();
    // The truth's own AUC on the same held-out rows (the test split is a seeded hash of the id).
    StructType truthSchema = new StructType().add("line", DataTypes.LongType).add("truth", DataTypes.DoubleType)
        .add("y", DataTypes.StringType);
    Dataset<Row> truth = spark.read().option("header", true).option("sep", ";").schema(truthSchema)
        .csv(table.truth().toString())
        .selectExpr("concat('bank-additional-full.csv:', line) AS user_id", "truth");
    Dataset<Row> scored = spark.read().parquet(out.resolve("propensity/" + DATE).toString()).join(truth, "user_id")
        .join(spark.read().parquet(out.resolve("clean/users/" + DATE).toString()).selectExpr("user_id", "y"), "user_id")
        .filter("y IS NOT NULL AND pmod(xxhash64(user_id, CAST(42 AS BIGINT)), 1000000) / 1000000.0 < 0.2")
        .selectExpr("CASE WHEN y = 'yes' THEN 1.0 ELSE 0.0 END AS label", "truth", "probability");
    double truthAuc = new org.apache.spark.ml.evaluation.BinaryClassificationEvaluator().setLabelCol("label")
        .setRawPredictionCol("truth").evaluate(scored);
    assertEquals(stages.get("propensity").get("metrics").get("users").asLong(), scored.count(), "the same held-out rows");
    assertTrue(auc >= truthAuc - 0.03 && auc >= 0.78, "test AUC-ROC " + auc + ", the truth's " + truthAuc);
    assertTrue(ece <= 0.04, "test ECE " + ece + " on " + scored.count() + " rows");
    double corr = spark.read().parquet(out.resolve("propensity/" + DATE).toString()).join(truth, "user_id")
        .stat().corr("probability", "truth");
    assertTrue(corr >= 0.9, "correlation of the probabilities with the planted ones: " + corr);

    // The simple baseline of table mode: the best single attribute, chosen on the training rows.
    // The planted response depends on several attributes, so the model must beat any one of them.
    JsonNode baseline = stages.get("propensity").get("metrics").get("baseline_attribute");
    assertTrue(baseline.get("attributes_tried").asInt() >= 15, baseline.toString());
    assertTrue(auc > baseline.get("auc_roc").asDouble() + 0.02, "model " + auc + " vs " + baseline);
    // No spend model without an amount column, and the manifest says so.
    assertEquals("off", stages.get("propensity").get("expected_spend").get("status").asText());
  }
}
