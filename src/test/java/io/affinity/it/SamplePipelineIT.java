package io.affinity.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.affinity.report.RunReport;
import io.affinity.testing.SampleRun;
import io.affinity.testing.SparkTestBase;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * README command 1 end to end: the whole chain on data-samples/ with conf/application.conf, then
 * checks that every row the generator planted as bad (data-samples/truth/planted_rows.csv) is in
 * quarantine with the expected reason and nothing else is, and that row accounting adds up.
 */
class SamplePipelineIT extends SparkTestBase {
  static Path out;
  private static JsonNode manifest;
  /** (job group, description) of every Spark job the run started. */
  private static List<String[]> jobs;

  @BeforeAll
  static void runAll() throws IOException {
    SampleRun.Result run = SampleRun.get(spark);
    out = run.out();
    jobs = run.jobs();
    assertTrue(run.run().stdout().contains("manifest.json"), "prints where the manifest is: " + run.run().stdout());
    manifest = new ObjectMapper().readTree(out.resolve("runs/run_date=2026-11-20/manifest.json").toFile());
  }

  @Test
  void everySparkJobIsNamedAfterItsStageForTheSparkUi() {
    List<String> stages = new ArrayList<>();
    manifest.path("stages").fieldNames().forEachRemaining(stages::add);
    Map<String, Integer> jobsPerStage = new HashMap<>();
    List<String> unnamed = new ArrayList<>();
    assertTrue(jobs.size() > stages.size(), "jobs seen: " + jobs.size());
    for (String[] job : jobs) {
      String group = job[0];
      String description = String.valueOf(job[1]);
      boolean known = stages.contains(group) || RunReport.GROUP.equals(group);
      if (!known || !(description.equals("affinity " + group + " run_date=2026-11-20")
          || description.startsWith(group + ": "))) {
        unnamed.add(group + " / " + description);
      }
      jobsPerStage.merge(String.valueOf(group), 1, Integer::sum);
    }
    assertEquals(List.of(), unnamed, "jobs whose group is not a stage or whose description does not start with it");
    jobsPerStage.remove(RunReport.GROUP);
    assertEquals(stages.size(), jobsPerStage.size(), "every stage ran Spark jobs: " + jobsPerStage);
  }

  /** (file, line, code) of each planted row, parsed from the generator's truth file. */
  private static List<String[]> planted() throws IOException {
    List<String[]> rows = new ArrayList<>();
    List<String> lines = Files.readAllLines(Path.of("data-samples/truth/planted_rows.csv"), StandardCharsets.UTF_8);
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.split(",", 4);
      rows.add(new String[] {f[0], f[1], f[2]});
    }
    return rows;
  }

  @Test
  void everyPlantedBadRowIsQuarantinedWithItsReasonAndNothingElseIs() throws IOException {
    Map<String, String> actual = new HashMap<>();
    for (Row r : spark.read().parquet(out.resolve("quarantine/run_date=2026-11-20").toString())
        .select("source_file", "line_number", "reason").collectAsList()) {
      String file = r.getString(0).substring(r.getString(0).lastIndexOf('/') + 1);
      actual.put(file + ":" + r.getLong(1), r.getString(2));
    }
    int expectedQuarantined = 0;
    for (String[] p : planted()) {
      String where = p[0] + ":" + p[1];
      if (p[2].startsWith("DUPLICATE") || p[2].startsWith("OUTLIER_CAPPED")) {
        assertTrue(!actual.containsKey(where), where + " is a " + p[2] + ", not a quarantined row");
        continue;
      }
      expectedQuarantined++;
      assertEquals(p[2], actual.get(where), "reason for planted row " + where);
    }
    assertEquals(expectedQuarantined, actual.size(), "only planted rows are quarantined: " + actual);
  }

  @Test
  void rowAccountingAddsUpForEverySource() {
    JsonNode sources = manifest.path("stages").path("ingest").path("sources");
    for (String s : List.of("events", "ratings", "users", "items")) {
      JsonNode c = sources.path(s);
      long read = c.path("read").asLong();
      assertTrue(read > 0, s);
      assertEquals(read, c.path("clean").asLong() + c.path("quarantined").asLong() + c.path("duplicates").asLong(), s);
      long written = spark.read().parquet(out.resolve("clean/" + s + "/run_date=2026-11-20").toString()).count();
      assertEquals(c.path("clean").asLong(), written, "clean rows written for " + s);
    }
    JsonNode events = sources.path("events");
    assertEquals(3, events.path("duplicates_exact").asLong());
    assertEquals(2, events.path("duplicates_key").asLong());
    assertEquals(2, events.path("outliers").path("capped").asLong(), "the two planted quantity-900 purchases");
    assertEquals(0, spark.read().parquet(out.resolve("clean/events/run_date=2026-11-20").toString())
        .filter("quantity >= 900").count(), "outliers capped in the clean data");
  }

  @Test
  void featuresCoverEveryUserAndItem() {
    JsonNode rows = manifest.path("stages").path("features").path("rows");
    assertEquals("succeeded", manifest.path("stages").path("features").path("status").asText());
    long users = spark.read().parquet(out.resolve("clean/events/run_date=2026-11-20").toString())
        .select("user_id").union(spark.read().parquet(out.resolve("clean/ratings/run_date=2026-11-20").toString())
            .select("user_id")).distinct().count();
    assertEquals(users, rows.path("users").asLong());
    assertEquals(300, rows.path("items").asLong());
  }

  @Test
  void propensityScoresEveryUserAndRanksArchetypes() throws IOException {
    JsonNode p = manifest.path("stages").path("propensity");
    assertEquals("succeeded", p.path("status").asText());
    long users = manifest.path("stages").path("features").path("rows").path("users").asLong();
    assertEquals(users, p.path("rows").path("propensity").asLong());
    JsonNode metrics = p.path("metrics");
    assertTrue(metrics.path("calibrated").path("auc_roc").asDouble() > metrics.path("baseline_recency").path("auc_roc").asDouble(),
        "model beats recency alone: " + metrics);
    assertTrue(metrics.path("calibrated").path("ece").asDouble() < metrics.path("uncalibrated").path("ece").asDouble());
    // The generator's archetypes (never read by the pipeline): champions buy ~20 times in 90 days,
    // browsers never; every champion must rank above the browsers' average.
    Map<String, String> archetype = new HashMap<>();
    List<String> lines = Files.readAllLines(Path.of("data-samples/truth/user_archetypes.csv"), StandardCharsets.UTF_8);
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.split(",", 3);
      archetype.put(f[0], f[1]);
    }
    double browserMean = 0;
    int browsers = 0;
    double championMin = 1;
    for (Row r : spark.read().parquet(out.resolve("propensity/run_date=2026-11-20").toString())
        .select("user_id", "probability").collectAsList()) {
      String a = archetype.get(r.getString(0));
      if ("browser".equals(a)) {
        browserMean += r.getDouble(1);
        browsers++;
      } else if ("champion".equals(a)) {
        championMin = Math.min(championMin, r.getDouble(1));
      }
    }
    browserMean /= browsers;
    assertTrue(championMin > browserMean, "least likely champion " + championMin + " vs mean browser " + browserMean);
  }

  @Test
  void recommendationsCoverEveryUserAndAlsBeatsPopularity() {
    JsonNode r = manifest.path("stages").path("recommend");
    assertEquals("succeeded", r.path("status").asText());
    long users = manifest.path("stages").path("features").path("rows").path("users").asLong();
    assertEquals(users, r.path("rows").path("users").asLong());
    assertEquals(users * r.path("top_n").asLong(), r.path("rows").path("recommendations").asLong());
    // Measured on the samples: 0.35 against 0.09.
    assertTrue(r.path("ndcg_at_10").asDouble() > 2 * r.path("baseline").path("ndcg_at_10").asDouble(),
        "ALS against popularity: " + r);
  }

  @Test
  void audienceHasOneCompleteRowPerUserAndTheRunIsPublished() throws IOException {
    JsonNode p = manifest.path("stages").path("publish");
    assertEquals("succeeded", p.path("status").asText());
    long users = manifest.path("stages").path("features").path("rows").path("users").asLong();
    assertEquals(users, p.path("rows").path("audience").asLong());
    for (String missing : List.of("users_without_segment", "users_without_propensity", "users_without_recommendations")) {
      assertEquals(0, p.path("rows").path(missing).asLong(), missing);
    }
    assertEquals(0, spark.read().parquet(out.resolve("audience/run_date=2026-11-20").toString())
        .filter("segment_label IS NULL OR propensity IS NULL OR size(top_items) = 0").count());
    assertTrue(manifest.path("published").asBoolean());
    assertEquals("2026-11-20", Files.readString(out.resolve("runs/LATEST")).trim());
  }

  /** The sample configuration's fairness report: every customer in one group of each attribute. */
  @Test
  void fairnessGroupsAddUpToTheAudience() {
    JsonNode f = manifest.path("stages").path("publish").path("fairness");
    long audience = manifest.path("stages").path("publish").path("rows").path("audience").asLong();
    java.util.Map<String, Long> customers = new java.util.TreeMap<>();
    java.util.Map<String, Long> tested = new java.util.TreeMap<>();
    for (JsonNode g : f.path("groups")) {
      customers.merge(g.path("attribute").asText(), g.path("customers").asLong(), Long::sum);
      tested.merge(g.path("attribute").asText(), g.path("test_users").asLong(), Long::sum);
    }
    assertEquals(java.util.Map.of("age", audience, "gender", audience, "region", audience), customers);
    long testUsers = manifest.path("stages").path("propensity").path("metrics").path("users").asLong();
    assertTrue(testUsers > 0);
    assertEquals(java.util.Map.of("age", testUsers, "gender", testUsers, "region", testUsers), tested);
    assertEquals(f.path("rows").asLong(), spark.read().parquet(out.resolve("fairness/run_date=2026-11-20").toString())
        .count());
    assertTrue(f.path("model_inputs").asText().contains("excluded"), f.path("model_inputs").asText());
  }
}
