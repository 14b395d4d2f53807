package io.affinity.propensity;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.affinity.testing.SparkTestBase;
import java.sql.Date;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Leakage: the training features are a function of what happened before the cutoff only, so no
 * change after it (deleting, retyping, repricing, moving or adding events and ratings) may alter
 * them; and the label window is exactly [cutoff, end).
 */
class TrainingDataTest extends SparkTestBase {
  static final Instant CUTOFF = PropensityStageTest.CUTOFF;
  static final Instant END = PropensityStageTest.END;
  static final Timestamp CUT = Timestamp.from(CUTOFF);

  static final StructType RATINGS = new StructType().add("user_id", DataTypes.StringType)
      .add("item_id", DataTypes.StringType).add("rating", DataTypes.DoubleType).add("event_time", DataTypes.TimestampType);
  static final StructType USERS = new StructType().add("user_id", DataTypes.StringType)
      .add("signup_date", DataTypes.DateType).add("region", DataTypes.StringType).add("age", DataTypes.DoubleType);
  static final StructType ITEMS = new StructType().add("item_id", DataTypes.StringType)
      .add("category", DataTypes.StringType).add("price", DataTypes.DoubleType).add("title", DataTypes.StringType);

  static Dataset<Row> events;
  static Dataset<Row> ratings;
  static Dataset<Row> users;
  static Dataset<Row> items;
  static Dataset<Row> base;

  @BeforeAll
  static void data() {
    List<PlantedPurchases.User> planted = PlantedPurchases.users(400, 11);
    List<Row> ev = new ArrayList<>(PlantedPurchases.events(planted, CUTOFF, END, 12));
    for (int i = 0; i < 20; i++) {
      // The boundary itself: a purchase exactly at the cutoff and a view one second later, which an
      // off-by-one filter (<= instead of <) or a slightly late cutoff would let in.
      String user = planted.get(i).id();
      ev.add(RowFactory.create(user, "i000", "purchase", CUT, 2, 30.0, "edge-" + i));
      ev.add(RowFactory.create(user, "i000", "view", Timestamp.from(CUTOFF.plusSeconds(1)), null, null, "edge-" + i));
    }
    events = spark.createDataFrame(ev, PlantedPurchases.EVENTS).cache();
    Random rng = new Random(13);
    List<Row> r = new ArrayList<>();
    List<Row> u = new ArrayList<>();
    for (PlantedPurchases.User p : planted) {
      for (int k = rng.nextInt(6); k > 0; k--) {
        // Ratings from 60 days before to 30 days after the cutoff: about a third fall after it.
        long t = CUTOFF.getEpochSecond() - 60L * 86_400 + rng.nextInt(90 * 86_400);
        r.add(RowFactory.create(p.id(), String.format(Locale.ROOT, "i%03d", rng.nextInt(40)), 1.0 + rng.nextInt(5),
            Timestamp.from(Instant.ofEpochSecond(t))));
      }
      u.add(RowFactory.create(p.id(), Date.valueOf("2024-01-01"), rng.nextBoolean() ? "north" : "south",
          18.0 + rng.nextInt(60)));
    }
    ratings = spark.createDataFrame(r, RATINGS).cache();
    users = spark.createDataFrame(u, USERS);
    List<Row> it = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      it.add(RowFactory.create(String.format(Locale.ROOT, "i%03d", i), i % 2 == 0 ? "books" : "toys", 12.99, "t" + i));
    }
    items = spark.createDataFrame(it, ITEMS);
    base = features(events, ratings, CUT).cache();
  }

  static Dataset<Row> features(Dataset<Row> ev, Dataset<Row> ra, Timestamp asOf) {
    TrainingData.Inputs in = new TrainingData.Inputs(ev, Optional.of(ra), Optional.of(users), Optional.of(items));
    return TrainingData.features(in, asOf, PropensityStageTest.TYPES).orderBy("user_id");
  }

  /**
   * Approximate to 1e-12 only because a different set of input rows can spread the same pre-cutoff
   * rows differently over partitions, and double sums may then differ in the last bit.
   */
  static void assertSame(Dataset<Row> expected, Dataset<Row> actual) {
    frames().assertDataFrameApproximateEquals(expected, actual, 1e-12);
  }

  @Test
  void theTestDataWouldRevealALeak() {
    // Features as of one day later see post-cutoff events and ratings, so they differ: the
    // equalities below are not vacuous.
    Dataset<Row> later = features(events, ratings, Timestamp.from(CUTOFF.plusSeconds(86_400)));
    assertThrows(AssertionError.class, () -> assertSame(base, later));
    assertEquals(400, base.count());
  }

  @Test
  void deletingEverythingFromTheCutoffOnChangesNothing() {
    assertSame(base, features(events.filter(col("event_time").lt(lit(CUT))), ratings.filter(col("event_time").lt(lit(CUT))),
        CUT));
  }

  @Test
  void changingEventsAndRatingsAfterTheCutoffChangesNothing() {
    Column after = col("event_time").geq(lit(CUT));
    Dataset<Row> changedEvents = events
        .withColumn("event_type", when(after, lit("purchase")).otherwise(col("event_type")))
        .withColumn("quantity", when(after, lit(7)).otherwise(col("quantity")))
        .withColumn("price", when(after, lit(999.0)).otherwise(col("price")))
        .withColumn("item_id", when(after, lit("i999")).otherwise(col("item_id")))
        .withColumn("session_id", when(after, concat(lit("moved-"), col("user_id"))).otherwise(col("session_id")))
        // Moved later, never earlier: still on or after the cutoff.
        .withColumn("event_time", when(after, col("event_time").plus(expr("INTERVAL 3 DAYS"))).otherwise(col("event_time")));
    List<Row> extra = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      // New users and more purchases of known users, all at or after the cutoff.
      extra.add(RowFactory.create(i % 2 == 0 ? "late-" + i : String.format(Locale.ROOT, "p%05d", i), "i001", "purchase",
          Timestamp.from(CUTOFF.plusSeconds(i * 3_600L)), 1, 5.0, "late-" + i));
    }
    changedEvents = changedEvents.unionByName(spark.createDataFrame(extra, PlantedPurchases.EVENTS));
    Dataset<Row> changedRatings = ratings
        .withColumn("rating", when(col("event_time").geq(lit(CUT)), lit(1.0)).otherwise(col("rating")))
        .unionByName(spark.createDataFrame(List.of(RowFactory.create("late-0", "i002", 5.0, CUT)), RATINGS));
    assertSame(base, features(changedEvents, changedRatings, CUT));
  }

  @Test
  void labelIsAPurchaseInTheHalfOpenWindow() {
    long c = CUTOFF.getEpochSecond();
    long e = END.getEpochSecond();
    List<Row> rows = List.of(
        event("a", "purchase", c - 1), event("a", "purchase", c),        // bought at the cutoff: 1
        event("b", "purchase", c - 864_000), event("b", "view", c + 86_400), // only viewed after: 0
        event("c", "view", c - 5), event("c", "purchase", e),             // bought at the end: 0
        event("d", "purchase", c + 10),                                   // unknown at the cutoff: absent
        event("e", "view", c - 5), event("e", "purchase", e - 1));        // bought just before the end: 1
    Dataset<Row> ev = spark.createDataFrame(rows, PlantedPurchases.EVENTS);
    TrainingData.Inputs in = new TrainingData.Inputs(ev, Optional.empty(), Optional.empty(), Optional.empty());
    List<Row> labelled = TrainingData.label(TrainingData.features(in, CUT, PropensityStageTest.TYPES), ev, CUT,
            Timestamp.from(END), PropensityStageTest.TYPES)
        .select("user_id", "frequency", "recency_days", TrainingData.LABEL).orderBy("user_id").collectAsList();
    assertEquals(List.of(
        RowFactory.create("a", 1L, 1 / 86_400.0, 1.0),
        RowFactory.create("b", 1L, 10.0, 0.0),
        RowFactory.create("c", 0L, null, 0.0),
        RowFactory.create("e", 0L, null, 1.0)), labelled);
  }

  @Test
  void splitIsSeededStableAndProportional() {
    List<Row> ids = new ArrayList<>();
    for (int i = 0; i < 20_000; i++) {
      ids.add(RowFactory.create("user-" + i));
    }
    Dataset<Row> d = spark.createDataFrame(ids, new StructType().add("user_id", DataTypes.StringType));
    Dataset<Row> a = d.withColumn("s", TrainingData.split(42, 0.2, 0.1));
    // Same seed, different partitioning: identical assignment.
    frames().assertDataFrameNoOrderEquals(a, d.repartition(7).withColumn("s", TrainingData.split(42, 0.2, 0.1)));
    List<Row> shares = a.groupBy("s").count().orderBy("s").collectAsList();
    assertEquals("test", shares.get(0).getString(0));
    assertEquals(0.1, shares.get(0).getLong(1) / 20_000.0, 0.01);
    assertEquals("train", shares.get(1).getString(0));
    assertEquals(0.7, shares.get(1).getLong(1) / 20_000.0, 0.01);
    assertEquals("validation", shares.get(2).getString(0));
    assertEquals(0.2, shares.get(2).getLong(1) / 20_000.0, 0.01);
    // Another seed moves users between splits.
    long moved = a.join(d.withColumn("s2", TrainingData.split(43, 0.2, 0.1)), "user_id")
        .filter(col("s").notEqual(col("s2"))).count();
    assertTrue(moved > 5_000, "moved " + moved);
  }

  private static Row event(String user, String type, long epochSecond) {
    boolean purchase = type.equals("purchase");
    return RowFactory.create(user, "i001", type, Timestamp.from(Instant.ofEpochSecond(epochSecond)),
        purchase ? 1 : null, purchase ? 10.0 : null, user + "-" + epochSecond);
  }
}
