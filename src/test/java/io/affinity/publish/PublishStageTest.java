package io.affinity.publish;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.affinity.io.Datasets;
import io.affinity.io.Manifest;
import io.affinity.io.PublishedRuns;
import io.affinity.io.Pseudonymizer;
import io.affinity.pipeline.GateSettings;
import io.affinity.pipeline.ModelQualityException;
import io.affinity.pipeline.QualityGate;
import io.affinity.pipeline.StageReport;
import io.affinity.testing.SparkTestBase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stage publish on a hand-built night (exact audience rows, counts, the published mark and the
 * LATEST pointer), and the model-quality gate's choice of the previous run and its verdicts on
 * hand-written manifests.
 */
class PublishStageTest extends SparkTestBase {
  private static final LocalDate DATE = LocalDate.of(2026, 11, 20);

  @TempDir
  Path root;

  private void write(LocalDate date, String dataset, StructType schema, Object[]... rows) {
    List<Row> list = new ArrayList<>();
    for (Object[] r : rows) {
      list.add(RowFactory.create(r));
    }
    new Datasets(spark, root.toString(), date).write(spark.createDataFrame(list, schema), dataset);
  }

  private void writeNight(LocalDate date) {
    write(date, "segments", new StructType().add("user_id", DataTypes.StringType).add("segment_id", DataTypes.IntegerType)
            .add("segment_label", DataTypes.StringType).add("distance", DataTypes.DoubleType),
        new Object[] {"u1", 1, "champions", 0.1}, new Object[] {"u2", 2, "loyal", 0.2}, new Object[] {"u3", 1, "champions", 0.3});
    write(date, "propensity", new StructType().add("user_id", DataTypes.StringType).add("probability", DataTypes.DoubleType)
            .add("decile", DataTypes.IntegerType).add("raw_score", DataTypes.DoubleType)
            .add("expected_spend", DataTypes.DoubleType).add("expected_value", DataTypes.DoubleType),
        new Object[] {"u1", 0.9, 1, 2.0, 50.0, 45.0}, new Object[] {"u2", 0.2, 2, -1.0, 20.0, 4.0},
        new Object[] {"u4", 0.5, 1, 0.0, 10.0, 5.0});
    write(date, "recommendations", new StructType().add("user_id", DataTypes.StringType).add("rank", DataTypes.IntegerType)
            .add("item_id", DataTypes.StringType).add("score", DataTypes.DoubleType).add("source", DataTypes.StringType)
            .add("because_item_id", DataTypes.StringType),
        new Object[] {"u1", 2, "i7", 0.8, "als", null}, new Object[] {"u1", 1, "i3", 0.9, "als", "i9"},
        new Object[] {"u1", 3, "i1", 0.7, "als", null}, new Object[] {"u2", 2, "i8", 5.0, "segment_popular", null},
        new Object[] {"u2", 1, "i9", 7.0, "segment_popular", null}, new Object[] {"u5", 1, "i2", 3.0, "popular", null});
  }

  private Run publish(LocalDate date) {
    // The fixture writes the stage outputs publish joins, not features/users: the sample
    // configuration's fairness report (which reads it) has its own tests.
    return cli("publish", "--config", "conf/application.conf", "--run-date", date.toString(),
        "-Daffinity.output.root=" + root, "-Daffinity.fairness.attributes=[]");
  }

  @Test
  void audienceHasOneRowPerUserWithItemsInRankOrderAndTheRunIsMarkedPublished() {
    writeNight(DATE);
    Run r = publish(DATE);
    assertEquals(0, r.exitCode(), r.stderr());

    List<String> actual = new ArrayList<>();
    // top_items joined by Spark: Scala's own Seq.toString differs by Scala version (ArraySeq / WrappedArray).
    for (Row row : spark.read().parquet(root.resolve("audience/run_date=" + DATE).toString())
        .withColumn("top_items", org.apache.spark.sql.functions.array_join(org.apache.spark.sql.functions.col("top_items"), ","))
        .orderBy("user_id").collectAsList()) {
      actual.add(row.mkString("|"));
    }
    assertEquals(List.of(
        "u1|1|champions|0.9|1|50.0|45.0|i3,i7,i1|als|target",
        "u2|2|loyal|0.2|2|20.0|4.0|i9,i8|segment_popular|target",
        "u3|1|champions|null|null|null|null|null|null|target",
        "u4|null|null|0.5|1|10.0|5.0|null|null|target",
        "u5|null|null|null|null|null|null|i2|popular|target"), actual);
    assertEquals(List.of("user_id", "segment_id", "segment_label", "propensity", "propensity_decile", "expected_spend",
        "expected_value", "top_items", "top_items_source", "group"),
        Arrays.asList(spark.read().parquet(root.resolve("audience/run_date=" + DATE).toString()).columns()));

    Datasets ds = new Datasets(spark, root.toString(), DATE);
    Map<String, Object> doc = new Manifest(ds).read();
    assertEquals(true, doc.get("published"));
    Map<String, Object> entry = new Manifest(ds).stage("publish");
    assertEquals("succeeded", entry.get("status"));
    assertEquals(Map.of("audience", 5, "users_without_segment", 2, "users_without_propensity", 2,
        "users_without_recommendations", 2), entry.get("rows"));
    assertEquals(DATE, PublishedRuns.latest(ds).orElseThrow());

    // A backfill of an earlier date is published too, but LATEST keeps the newest date.
    LocalDate earlier = DATE.minusDays(3);
    writeNight(earlier);
    assertEquals(0, publish(earlier).exitCode());
    assertEquals(true, new Manifest(ds, earlier).read().get("published"));
    assertEquals(DATE, PublishedRuns.latest(ds).orElseThrow());
  }

  @Test
  void publishBeforeItsInputsExitsTwoNamingTheStageToRunFirst() {
    Run r = publish(DATE);
    assertEquals(2, r.exitCode());
    assertTrue(r.stderr().contains("segments") && r.stderr().contains("run stage 'segment'"), r.stderr());
    assertTrue(Files.notExists(root.resolve("runs/LATEST")));
  }

  // ---- the gate ------------------------------------------------------------------------------

  private void manifest(LocalDate date, boolean published, String status, double silhouette) {
    Datasets ds = new Datasets(spark, root.toString(), date);
    Map<String, Object> entry = new LinkedHashMap<>();
    entry.put("status", status);
    entry.put("model", Map.of("silhouette", silhouette));
    new Manifest(ds).update(Map.of("published", published), "segment", entry);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> gateEntry(StageReport report) {
    return (Map<String, Object>) report.get(QualityGate.SECTION);
  }

  @Test
  void gateComparesWithTheLastPublishedRunInWhichTheStageSucceeded() {
    manifest(LocalDate.of(2026, 1, 1), true, "succeeded", 0.6);
    manifest(LocalDate.of(2026, 1, 2), true, "failed", 0.1); // published, then a rerun of the stage failed
    manifest(LocalDate.of(2026, 1, 3), false, "succeeded", 0.9); // never published
    Datasets today = new Datasets(spark, root.toString(), LocalDate.of(2026, 1, 4));
    QualityGate gate = new GateSettings(true, 0.05, 0.05, 0.05).segment();

    StageReport ok = new StageReport();
    gate.check(today, 0.58, ok);
    assertEquals(true, gateEntry(ok).get("passed"));
    assertEquals(0.6, gateEntry(ok).get("previous"));
    assertEquals("2026-01-01", gateEntry(ok).get("previous_run_date"));
    assertTrue(((String) gateEntry(ok).get("reason")).contains("within 0.0500"), gateEntry(ok).toString());

    StageReport bad = new StageReport();
    ModelQualityException e = assertThrows(ModelQualityException.class, () -> gate.check(today, 0.5, bad));
    assertTrue(e.getMessage().contains("silhouette dropped from 0.6000 (published run of 2026-01-01) to 0.5000")
        && e.getMessage().contains("affinity.gates.segment.max-silhouette-drop"), e.getMessage());
    assertEquals(false, gateEntry(bad).get("passed"));
    assertEquals(0.5, gateEntry(bad).get("current"));
    assertEquals(0.05, gateEntry(bad).get("tolerance"));

    StageReport notEnforced = new StageReport();
    new GateSettings(false, 0.05, 0.05, 0.05).segment().check(today, 0.5, notEnforced);
    assertEquals(true, gateEntry(notEnforced).get("passed"));
    assertTrue(((String) gateEntry(notEnforced).get("reason")).contains("not enforced"));

    StageReport first = new StageReport();
    gate.check(new Datasets(spark, root.toString(), LocalDate.of(2026, 1, 1)), 0.1, first);
    assertEquals(true, gateEntry(first).get("passed"));
    assertEquals("no previous published run", gateEntry(first).get("reason"));

    StageReport unmeasured = new StageReport();
    gate.check(today, null, unmeasured);
    assertEquals(true, gateEntry(unmeasured).get("passed"));
    assertTrue(((String) gateEntry(unmeasured).get("reason")).contains("could not be measured"));
  }

  @Test
  void pseudonymIsTheTruncatedHmacSha256OfTheRawId() {
    // RFC 4231-style known answer: HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog").
    Pseudonymizer p = Pseudonymizer.withKey("key", "test");
    assertEquals("f7bc83f430538424b13298e6aa6fb143", p.pseudonym("The quick brown fox jumps over the lazy dog"));
    List<Row> rows = spark.createDataFrame(List.of(RowFactory.create("The quick brown fox jumps over the lazy dog")),
        new StructType().add("user_id", DataTypes.StringType)).select(p.apply(org.apache.spark.sql.functions.col("user_id")))
        .collectAsList();
    assertEquals("f7bc83f430538424b13298e6aa6fb143", rows.get(0).getString(0));
  }
}
