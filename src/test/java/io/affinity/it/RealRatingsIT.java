package io.affinity.it;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.affinity.io.Datasets;
import io.affinity.io.Manifest;
import io.affinity.testing.SparkTestBase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Recommendations on a real rating dump: MovieLens latest-small (610 users over 22 years, half-star
 * ratings, titles with years), mapped by {@code conf/examples/movielens-latest.conf} alone, run
 * through ingest, features and recommend for its last day. The data is never part of the project:
 * it is found at {@code ../shared/data/ml-latest-small/} or {@code $AFFINITY_PUBLIC_DATA}, and the
 * test is skipped without it.
 *
 * <p>What it shows that generated data cannot: the validation sizes itself to a dump whose time
 * window holds a handful of users, and every published policy (time decay, model family, content
 * slots) is one that no alternative beats beyond the bootstrap margin on that split. The search
 * is fixed to the configured ALS parameters to keep the test short; the decisions are the same
 * code with a grid.
 */
class RealRatingsIT extends SparkTestBase {
  private static final LocalDate RUN_DATE = LocalDate.of(2018, 9, 24);
  @TempDir static Path out;
  private static Map<String, Object> report;
  private static boolean present;

  /** The shared public data folder, or null. */
  static Path publicData(String name) {
    String env = System.getenv("AFFINITY_PUBLIC_DATA");
    for (Path p : env == null ? List.of(Path.of("../shared/data")) : List.of(Path.of(env), Path.of("../shared/data"))) {
      if (Files.isRegularFile(p.resolve(name).resolve("ratings.csv"))) {
        return p.resolve(name);
      }
    }
    return null;
  }

  @BeforeAll
  @SuppressWarnings("unchecked")
  static void run() {
    Path data = publicData("ml-latest-small");
    present = data != null;
    if (!present) {
      return;
    }
    for (String stage : List.of("ingest", "features", "recommend")) {
      SparkTestBase.Run r = cli(stage, "--config", "conf/examples/movielens-latest.conf",
          "-Daffinity.output.root=" + out,
          "-Daffinity.input.events.path=" + data.resolve("ratings.csv"),
          "-Daffinity.input.ratings.path=" + data.resolve("ratings.csv"),
          "-Daffinity.input.items.path=" + data.resolve("movies.csv"),
          "-Daffinity.recommend.search=fixed");
      assertEquals(0, r.exitCode(), stage + ": " + r.stderr());
    }
    Map<String, Object> doc = new Manifest(new Datasets(spark, out.toString(), RUN_DATE)).read();
    report = (Map<String, Object>) ((Map<String, Object>) doc.get("stages")).get("recommend");
  }

  private static void requireData() {
    assumeTrue(present, "ml-latest-small not found at ../shared/data/ml-latest-small or $AFFINITY_PUBLIC_DATA/"
        + "ml-latest-small: skipped (the public data is never committed)");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> section(Map<String, Object> m, String key) {
    return (Map<String, Object>) m.get(key);
  }

  @Test
  void theValidationSizesItselfToADumpWhoseWindowHoldsFewUsers() {
    requireData();
    Map<String, Object> split = section(report, "split");
    assertTrue(((Number) split.get("window_users")).longValue() < 50, String.valueOf(split));
    assertEquals("per_user", split.get("split_kind"));
    assertTrue(((Number) split.get("eval_users")).longValue() >= 500, String.valueOf(split));
    assertEquals(Boolean.TRUE, split.get("decidable"));
  }

  @Test
  @SuppressWarnings("unchecked")
  void nothingBeatsAPublishedPolicyBeyondTheMargin() {
    requireData();
    Map<String, Object> policy = section(report, "policy");
    String family = (String) section(policy, "family").get("chosen");
    for (String decision : List.of("half_life", "family", "content_slots")) {
      Map<String, Object> d = section(policy, decision);
      if (decision.equals("content_slots") && !family.equals("als")) {
        // Content slots go into ALS lists only: with another family they are not measured, and none is published.
        assertEquals(Boolean.FALSE, d.get("decided"), String.valueOf(d));
        assertEquals("slots_0", d.get("chosen"));
        continue;
      }
      assertEquals(Boolean.TRUE, d.get("decided"), decision + ": " + d);
      List<Map<String, Object>> candidates = (List<Map<String, Object>>) d.get("candidates");
      assertTrue(candidates.size() >= 2, decision + ": " + d);
      for (Map<String, Object> c : candidates) {
        assertTrue(((Number) c.get("vs_chosen_low")).doubleValue() <= 0,
            decision + ": " + c.get("policy") + " beats the published " + d.get("chosen") + ": " + c);
      }
    }
    // The family includes ALS alone, SAR and recent popularity: the published lists are never worse
    // than any of them beyond the margin (checked above), and they are the family's rows.
    List<String> families = ((List<Map<String, Object>>) section(policy, "family").get("candidates")).stream()
        .map(c -> (String) c.get("policy")).toList();
    assertTrue(families.containsAll(List.of("popularity_recent", "popularity_all_time", "sar", "als")),
        String.valueOf(families));
    String source = family.startsWith("popularity_") ? "popular" : family;
    Map<String, Object> bySource = section(section(report, "rows"), "users_by_source");
    assertTrue(((Number) bySource.getOrDefault(source, 0)).longValue() >= 600, family + ": " + bySource);
  }

  @Test
  void noContentRowWhenContentSlotsLoseAndNoAlsListWithoutARanking() {
    requireData();
    Map<String, Object> published = section(report, "published_policy");
    Dataset<Row> recs = spark.read().parquet(out + "/recommendations/run_date=" + RUN_DATE);
    long contentRows = recs.filter(col("source").equalTo("content")).count();
    if (((Number) published.get("content_slots")).intValue() == 0) {
      assertEquals(0, contentRows, String.valueOf(published));
    }
    // Every user of the dump has a list; no ALS list is all ties (a list that ranks nothing).
    assertEquals(610, recs.select("user_id").distinct().count());
    long flat = recs.filter(col("source").equalTo("als")).groupBy("user_id")
        .agg(count("score").as("n"), max("score").as("hi"), min("score").as("lo"))
        .filter(col("n").geq(2).and(col("hi").equalTo(col("lo")))).count();
    assertEquals(0, flat, "users whose als rows all score the same");
  }
}
