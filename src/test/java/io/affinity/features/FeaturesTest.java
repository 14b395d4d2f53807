package io.affinity.features;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.affinity.testing.SparkTestBase;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Features on a two-user, three-item dataset (src/test/resources/FeaturesTest/) against values
 * worked out by hand. Run date 2026-11-20, so "as of" is 2026-11-21T00:00Z; half-life 10 days so
 * the decay factors are round: 10 days old = 0.5, 30 days old = 0.125.
 */
class FeaturesTest extends SparkTestBase {
  private static final String DIR = "src/test/resources/FeaturesTest/";
  private static final double EPS = 1e-9;
  @TempDir
  static Path out;

  @BeforeAll
  static void runIngestAndFeatures() {
    String[] common = {
        "--run-date", "2026-11-20",
        "-Daffinity.output.root=" + out,
        "-Daffinity.input.events.path=" + DIR + "events.csv",
        "-Daffinity.input.items.path=" + DIR + "items.csv",
        "-Daffinity.input.items.columns.category=category",
        "-Daffinity.input.items.columns.price=price",
        "-Daffinity.input.items.columns.title=title",
        "-Daffinity.input.ratings.path=" + DIR + "ratings.csv",
        "-Daffinity.input.users.path=" + DIR + "users.csv",
        "-Daffinity.input.users.columns.signup-date=signup_date",
        "-Daffinity.input.users.categorical=[gender, region]",
        "-Daffinity.input.users.numeric=[age]",
        "-Daffinity.features.half-life-days=10",
        "-Daffinity.ingest.outliers.action=off"};
    assertEquals(0, cli(concat("ingest", common)).exitCode());
    assertEquals(0, cli(concat("features", common)).exitCode());
  }

  private static String[] concat(String first, String[] rest) {
    String[] all = new String[rest.length + 1];
    all[0] = first;
    System.arraycopy(rest, 0, all, 1, rest.length);
    return all;
  }

  private static Dataset<Row> read(String name) {
    return spark.read().parquet(out.resolve(name).resolve("run_date=2026-11-20").toString());
  }

  private static Row user(String id) {
    List<Row> rows = read("features/users").filter("user_id = '" + id + "'").collectAsList();
    assertEquals(1, rows.size(), "one row for user " + id);
    return rows.get(0);
  }

  @Test
  void userWithPurchasesAndAReturn() {
    Row a = user("a");
    assertEquals(0.5, a.<Double>getAs("recency_days"), EPS, "last purchase 2026-11-20 12:00");
    assertEquals(0.5, a.<Double>getAs("recency_event_days"), EPS);
    assertEquals(2L, a.<Long>getAs("frequency"), "two purchases; the negative quantity became a return");
    assertEquals(2L, a.<Long>getAs("orders"), "purchase sessions s1, s2");
    assertEquals(1L, a.<Long>getAs("returns"));
    // 2 x 10.00 + 1 x 4.00 (list price, no paid price) - 1 x 4.00 returned
    assertEquals(20.0, a.<Double>getAs("monetary"), EPS);
    assertEquals(5L, a.<Long>getAs("events"));
    assertEquals(3L, a.<Long>getAs("active_days"), "11-11, 11-12, 11-20");
    assertEquals(5.0 / 3, a.<Double>getAs("events_per_active_day"), EPS);
    assertEquals(3L, a.<Long>getAs("distinct_items"));
    assertEquals(2L, a.<Long>getAs("distinct_categories"));
    assertEquals(2L, a.<Long>getAs("views"));
    assertEquals(0.5, a.<Double>getAs("view_to_purchase_rate"), EPS, "viewed i1, i2; bought i1");
    assertEquals(4.5, a.<Double>getAs("avg_rating_given"), EPS);
    assertEquals(2L, a.<Long>getAs("ratings_given"));
    assertEquals(324.0, a.<Double>getAs("tenure_days"), EPS, "signed up 2026-01-01");
    assertEquals("f", a.getAs("gender"));
    assertEquals(0, a.<Integer>getAs("gender_idx"));
    assertEquals(30.0, a.<Double>getAs("age"), EPS);
  }

  @Test
  void browserWithoutPurchasesAndLaterEventsIgnored() {
    Row b = user("b");
    assertNull(b.getAs("recency_days"), "never purchased: no purchase recency");
    assertEquals(30.0, b.<Double>getAs("recency_event_days"), EPS);
    assertEquals(0L, b.<Long>getAs("frequency"));
    assertEquals(0.0, b.<Double>getAs("monetary"), EPS);
    assertEquals(2L, b.<Long>getAs("events"), "the 2026-11-21 view is after the run date");
    assertEquals(0.0, b.<Double>getAs("view_to_purchase_rate"), EPS);
    assertEquals(30.0, b.<Double>getAs("tenure_days"), EPS, "first event 2026-10-22 precedes signup");
    assertNull(b.getAs("age"));
    assertEquals(1, b.<Integer>getAs("gender_idx"));
    assertEquals(1, b.<Integer>getAs("region_idx"));
  }

  @Test
  void interactionStrengthIsDecayedWeightedSum() {
    StructType schema = new StructType()
        .add("user_id", DataTypes.StringType).add("item_id", DataTypes.StringType)
        .add("strength", DataTypes.DoubleType).add("events", DataTypes.LongType).add("purchased", DataTypes.BooleanType);
    List<Row> expected = List.of(
        RowFactory.create("a", "i1", (1 + 5) * Math.pow(0.5, 0.5 / 10), 2L, true),
        RowFactory.create("a", "i2", 1 * 0.5, 1L, false),
        RowFactory.create("a", "i3", 5 * 0.5 + 0 * Math.pow(0.5, 0.9), 2L, true), // a return weighs 0
        RowFactory.create("b", "i1", 1 * 0.125, 1L, false),
        RowFactory.create("b", "i2", 3 * 0.125, 1L, false));
    Dataset<Row> actual = read("features/interactions").select("user_id", "item_id", "strength", "events", "purchased")
        .orderBy("user_id", "item_id");
    frames().assertDataFrameApproximateEquals(spark.createDataFrame(expected, schema), actual, 1e-9);
  }

  @Test
  void itemFeaturesAndLatestRatings() {
    Row i1 = read("features/items").filter("item_id = 'i1'").first();
    assertEquals(2L, i1.<Long>getAs("view_count"));
    assertEquals(1L, i1.<Long>getAs("purchase_count"));
    assertEquals(1L, i1.<Long>getAs("distinct_buyers"));
    assertEquals(20.0, i1.<Double>getAs("revenue"), EPS);
    assertEquals(4.5, i1.<Double>getAs("avg_rating"), EPS);
    assertEquals(10.0, i1.<Double>getAs("price"), EPS);
    assertEquals("Lamp, brass", i1.getAs("title"));
    Row i3 = read("features/items").filter("item_id = 'i3'").first();
    assertEquals(1L, i3.<Long>getAs("return_count"));
    assertEquals(4.0, i3.<Double>getAs("revenue"), EPS);
    assertNull(i3.getAs("avg_rating"));

    List<Row> ratings = read("features/ratings").orderBy("user_id").collectAsList();
    assertEquals(2, ratings.size(), "one rating per (user, item)");
    assertEquals(5.0, ratings.get(0).<Double>getAs("rating"), EPS, "the later rating of a on i1 wins");
    assertEquals(2.0, ratings.get(1).<Double>getAs("rating"), EPS);
  }

  @Test
  void idsAreDenseAndManifestCountsTheIgnoredEvent() throws Exception {
    List<Row> users = read("features/users").select("user_idx").orderBy("user_idx").collectAsList();
    assertEquals(List.of(0, 1), users.stream().map(r -> r.getInt(0)).toList());
    String manifest = java.nio.file.Files.readString(out.resolve("runs/run_date=2026-11-20/manifest.json"));
    assertTrue(manifest.contains("\"events_after_run_date_ignored\" : 1"), manifest);
  }
}
