package io.affinity.recommend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.affinity.config.Settings.EventTypes;
import io.affinity.testing.SparkTestBase;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * SAR on a fixture small enough to work out by hand. Affinity (user: item=weight):
 *
 * <pre>
 *   u1: 0=2   1=0.5  2=1
 *   u2: 0=2   1=1
 *   u3: 1=3   2=1    3=2
 *   u4: 0=1   3=3    4=2
 * </pre>
 *
 * Users per item (the diagonal): c00 = 3 (u1 u2 u4), c11 = 3 (u1 u2 u3), c22 = 2 (u1 u3),
 * c33 = 2 (u3 u4), c44 = 1 (u4). Pairs with users in common, and their similarity:
 *
 * <pre>
 *   pair   c   jaccard c/(cii+cjj-c)   lift c/(cii*cjj)
 *   0-1    2   2/(3+3-2) = 1/2         2/9
 *   0-2    1   1/(3+2-1) = 1/4         1/6
 *   0-3    1   1/(3+2-1) = 1/4         1/6
 *   0-4    1   1/(3+1-1) = 1/3         1/3
 *   1-2    2   2/(3+2-2) = 2/3         2/6 = 1/3
 *   1-3    1   1/(3+2-1) = 1/4         1/6
 *   2-3    1   1/(2+2-1) = 1/3         1/4
 *   3-4    1   1/(2+1-1) = 1/2         1/2
 *   1-4, 2-4: no user in common
 * </pre>
 */
class SarTest extends SparkTestBase {
  private static final double EPS = 1e-9;
  private static final StructType AFFINITY = new StructType()
      .add("user_idx", DataTypes.IntegerType)
      .add("item_idx", DataTypes.IntegerType)
      .add("rating", DataTypes.DoubleType);
  private static final StructType USERS = new StructType()
      .add("user_idx", DataTypes.IntegerType)
      .add("excluded", DataTypes.createArrayType(DataTypes.IntegerType), true);

  private static Dataset<Row> affinity() {
    return spark.createDataFrame(List.of(
        RowFactory.create(1, 0, 2.0), RowFactory.create(1, 1, 0.5), RowFactory.create(1, 2, 1.0),
        RowFactory.create(2, 0, 2.0), RowFactory.create(2, 1, 1.0),
        RowFactory.create(3, 1, 3.0), RowFactory.create(3, 2, 1.0), RowFactory.create(3, 3, 2.0),
        RowFactory.create(4, 0, 1.0), RowFactory.create(4, 3, 3.0), RowFactory.create(4, 4, 2.0)), AFFINITY);
  }

  private static Dataset<Row> users(Object... idAndExcluded) {
    List<Row> rows = new ArrayList<>();
    for (int k = 0; k < idAndExcluded.length; k += 2) {
      rows.add(RowFactory.create(idAndExcluded[k], idAndExcluded[k + 1]));
    }
    return spark.createDataFrame(rows, USERS);
  }

  @Test
  void jaccardNeighboursAreTheHandComputedPairsBothWays() {
    Sar sar = Sar.fit(affinity(), "jaccard", 1, 10, 10);
    try {
      Map<String, Double> expected = Map.of(
          "0-1", 1.0 / 2, "0-2", 1.0 / 4, "0-3", 1.0 / 4, "0-4", 1.0 / 3,
          "1-2", 2.0 / 3, "1-3", 1.0 / 4, "2-3", 1.0 / 3, "3-4", 1.0 / 2);
      List<Row> rows = sar.neighbours().collectAsList();
      assertEquals(2 * expected.size(), rows.size(), rows.toString());
      for (Row r : rows) {
        int i = r.getInt(0);
        int j = r.getInt(1);
        String key = Math.min(i, j) + "-" + Math.max(i, j);
        assertTrue(expected.containsKey(key), "unexpected pair " + r);
        assertEquals(expected.get(key), r.getDouble(2), EPS, key);
      }
    } finally {
      sar.release();
    }
  }

  @Test
  void scoresAreAffinityTimesSimilarityWithoutSeenItems() {
    Sar sar = Sar.fit(affinity(), Sar.Similarity.JACCARD, 1, 10, 10);
    try {
      // u2 has 0 (2) and 1 (1); candidates 2, 3, 4:
      //   2: 2 x s02 + 1 x s12 = 2/4 + 2/3 = 7/6
      //   3: 2 x s03 + 1 x s13 = 2/4 + 1/4 = 3/4
      //   4: 2 x s04 + 1 x 0   = 2/3
      // u1 has 0 (2), 1 (0.5), 2 (1); candidates 3, 4 only, so 2 rows although n = 3:
      //   3: 2/4 + 0.5/4 + 1/3 = 23/24;  4: 2 x 1/3 = 2/3
      // u9 has no affinity at all: no rows.
      List<Row> out = sorted(sar.recommend(affinity(), users(1, null, 2, List.of(), 9, null), 3));
      assertRows(out,
          row(1, 1, 3, 23.0 / 24), row(1, 2, 4, 2.0 / 3),
          row(2, 1, 2, 7.0 / 6), row(2, 2, 3, 3.0 / 4), row(2, 3, 4, 2.0 / 3));

      // n cuts the list: u2's top 2.
      assertRows(sorted(sar.recommend(affinity(), users(2, null), 2)),
          row(2, 1, 2, 7.0 / 6), row(2, 2, 3, 3.0 / 4));

      // Excluded items go too: u2 without 2 gets 3 and 4.
      assertRows(sorted(sar.recommend(affinity(), users(2, List.of(2)), 3)),
          row(2, 1, 3, 3.0 / 4), row(2, 2, 4, 2.0 / 3));

      // No user is ever shown an item they have (u3 and u4 included, long lists).
      List<Row> all = sar.recommend(affinity(), users(1, null, 2, null, 3, null, 4, null), 5).collectAsList();
      for (Row r : affinity().collectAsList()) {
        for (Row o : all) {
          assertTrue(o.getInt(0) != r.getInt(0) || o.getInt(2) != r.getInt(1), "seen item recommended: " + o);
        }
      }
      // u3 (1, 2, 3) can only get 0 and 4; u4 (0, 3, 4) only 1 and 2.
      assertEquals(2, all.stream().filter(r -> r.getInt(0) == 3).count());
      assertEquals(2, all.stream().filter(r -> r.getInt(0) == 4).count());
    } finally {
      sar.release();
    }
  }

  @Test
  void liftAndRawCountsRankTheirOwnWayAndTiesGoToTheLowerItem() {
    Sar lift = Sar.fit(affinity(), "lift", 1, 10, 10);
    try {
      // u2, lift: 2: 2 x 1/6 + 1 x 1/3 = 2/3;  3: 2 x 1/6 + 1 x 1/6 = 1/2;  4: 2 x 1/3 = 2/3.
      // 2 and 4 tie exactly (2 x double(1/3) both ways): the lower item first.
      assertRows(sorted(lift.recommend(affinity(), users(2, null), 3)),
          row(2, 1, 2, 2.0 / 3), row(2, 2, 4, 2.0 / 3), row(2, 3, 3, 1.0 / 2));
    } finally {
      lift.release();
    }
    Sar counts = Sar.fit(affinity(), "cooccurrence", 1, 10, 10);
    try {
      // u2, counts: 2: 2 x 1 + 1 x 2 = 4;  3: 2 x 1 + 1 x 1 = 3;  4: 2 x 1 = 2.
      assertRows(sorted(counts.recommend(affinity(), users(2, null), 3)),
          row(2, 1, 2, 4.0), row(2, 2, 3, 3.0), row(2, 3, 4, 2.0));
    } finally {
      counts.release();
    }
  }

  @Test
  void pairsBelowTheThresholdAreDropped() {
    // minCooccurrence 2 keeps only 0-1 (1/2) and 1-2 (2/3); the diagonal is unchanged.
    Sar sar = Sar.fit(affinity(), "jaccard", 2, 10, 10);
    try {
      assertEquals(List.of("0-1=0.5", "1-0=0.5", "1-2=0.6667", "2-1=0.6667"), neighbourList(sar));
      // u2 (0, 1): only 2 via 1-2: 1 x 2/3. 3 and 4 had only count-1 pairs.
      // u3 (1=3, 2, 3): only 0 via 1-0: 3 x 1/2.  u4 (0=1, 3, 4): only 1 via 0-1: 1 x 1/2.
      assertRows(sorted(sar.recommend(affinity(), users(2, null, 3, null, 4, null), 3)),
          row(2, 1, 2, 2.0 / 3), row(3, 1, 0, 1.5), row(4, 1, 1, 0.5));
    } finally {
      sar.release();
    }
  }

  @Test
  void eachItemKeepsItsTopNeighboursTiesToTheLowerItem() {
    Sar one = Sar.fit(affinity(), "jaccard", 1, 10, 1);
    try {
      // 0: 1 (1/2) over 4 (1/3); 1: 2 (2/3); 2: 1 (2/3); 3: 4 (1/2); 4: 3 (1/2) over 0 (1/3).
      assertEquals(List.of("0-1=0.5", "1-2=0.6667", "2-1=0.6667", "3-4=0.5", "4-3=0.5"), neighbourList(one));
    } finally {
      one.release();
    }
    Sar three = Sar.fit(affinity(), "jaccard", 1, 10, 3);
    try {
      // 3's neighbours: 4 (1/2), 2 (1/3), then 0 and 1 tie at 1/4: 0 is kept.
      List<String> of3 = neighbourList(three).stream().filter(s -> s.startsWith("3-")).toList();
      assertEquals(List.of("3-0=0.25", "3-2=0.3333", "3-4=0.5"), of3);
    } finally {
      three.release();
    }
  }

  @Test
  void theCapKeepsEachUsersStrongestItemsForCooccurrence() {
    // maxItemsPerUser 2: u1 keeps 0 (2), 2 (1); u2 0, 1; u3 1 (3), 3 (2); u4 3 (3), 4 (2).
    // Diagonal: c00 = 2, c11 = 2, c22 = 1, c33 = 2, c44 = 1. Pairs, each with one user:
    // 0-2 1/(2+1-1) = 1/2;  0-1 1/(2+2-1) = 1/3;  1-3 1/3;  3-4 1/(2+1-1) = 1/2.
    Sar sar = Sar.fit(affinity(), "jaccard", 1, 2, 10);
    try {
      assertEquals(List.of("0-1=0.3333", "0-2=0.5", "1-0=0.3333", "1-3=0.3333", "2-0=0.5", "3-1=0.3333",
          "3-4=0.5", "4-3=0.5"), neighbourList(sar));
      // Scoring uses all of a user's items: u2 gets 2: 2 x 1/2 = 1 and 3: 1 x 1/3.
      assertRows(sorted(sar.recommend(affinity(), users(2, null), 3)),
          row(2, 1, 2, 1.0), row(2, 2, 3, 1.0 / 3));
    } finally {
      sar.release();
    }
  }

  @Test
  void timeDecayedAffinityFromEventsWeighsOlderEventsLess() {
    EventTypes types = new EventTypes(List.of("view", "purchase"), Map.of(), "purchase", "view", "return",
        Map.of("view", 1.0, "purchase", 5.0));
    Instant asOf = Instant.parse("2026-01-11T00:00:00Z");
    Timestamp now = Timestamp.from(asOf);
    Timestamp tenDaysAgo = Timestamp.from(asOf.minus(Duration.ofDays(10)));
    StructType schema = new StructType()
        .add("user_idx", DataTypes.IntegerType).add("item_idx", DataTypes.IntegerType)
        .add("event_type", DataTypes.StringType).add("event_time", DataTypes.TimestampType);
    // u1 bought 0 now (5) and viewed 1 ten days ago (1, or 1/2 at a 10-day half-life);
    // u2 bought 0 and 1 and viewed 2, all now. Pairs: 0-1 by 2 users, 0-2 and 1-2 by u2.
    // Jaccard: 0-2 = 1/(2+1-1) = 1/2, 1-2 = 1/2. u1's score of 2: a(1,0)/2 + a(1,1)/2.
    Dataset<Row> events = spark.createDataFrame(List.of(
        RowFactory.create(1, 0, "purchase", now), RowFactory.create(1, 1, "view", tenDaysAgo),
        RowFactory.create(2, 0, "purchase", now), RowFactory.create(2, 1, "purchase", now),
        RowFactory.create(2, 2, "view", now)), schema);
    double[] halfLives = {10.0, Double.POSITIVE_INFINITY};
    double[] expected = {5.0 / 2 + 0.5 / 2, 5.0 / 2 + 1.0 / 2};
    for (int k = 0; k < halfLives.length; k++) {
      Dataset<Row> a = TrainingData.implicitStrength(events, types, halfLives[k], asOf);
      Sar sar = Sar.fit(a, "jaccard", 1, 10, 10);
      try {
        assertRows(sorted(sar.recommend(a, users(1, null), 3)), row(1, 1, 2, expected[k]));
      } finally {
        sar.release();
      }
    }
  }

  @Test
  void noPlanPairsEveryItemWithEveryItem() {
    Sar sar = Sar.fit(affinity(), "jaccard", 1, 10, 10);
    try {
      Dataset<Row> recs = sar.recommend(affinity(), users(2, null), 3);
      recs.collectAsList();
      // The cached neighbour table's plan shows inside the scoring plan.
      String plan = recs.queryExecution().executedPlan().toString()
          + sar.neighbours().queryExecution().optimizedPlan().toString();
      assertTrue(plan.contains("SortMergeJoin") || plan.contains("BroadcastHashJoin"), plan);
      // The per-item and per-user top-k are cut before their shuffle, not after a full sort.
      assertTrue(plan.contains("WindowGroupLimit"), plan);
      for (String crossJoin : List.of("CartesianProduct", "BroadcastNestedLoopJoin", "Cross")) {
        assertTrue(!plan.contains(crossJoin), crossJoin + " in\n" + plan);
      }
    } finally {
      sar.release();
    }
  }

  @Test
  void badArgumentsAreNamed() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Sar.fit(affinity(), "cosine", 1, 10, 10));
    assertTrue(e.getMessage().contains("'cosine'") && e.getMessage().contains("jaccard"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Sar.fit(affinity(), "lift", 0, 10, 10));
    assertTrue(e.getMessage().startsWith("minCooccurrence is 0"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Sar.fit(affinity(), "lift", 1, 1, 10));
    assertTrue(e.getMessage().startsWith("maxItemsPerUser is 1"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> Sar.fit(affinity().drop("rating"), "lift", 1, 10, 10));
    assertTrue(e.getMessage().startsWith("affinity has no column rating"), e.getMessage());
    Sar sar = Sar.fit(affinity(), "lift", 1, 10, 10);
    e = assertThrows(IllegalArgumentException.class,
        () -> sar.recommend(affinity(), affinity().select("user_idx"), 3));
    assertTrue(e.getMessage().startsWith("users has no column excluded"), e.getMessage());
    sar.release();
  }

  private static Row row(int user, int rank, int item, double score) {
    return RowFactory.create(user, rank, item, score);
  }

  private static List<Row> sorted(Dataset<Row> recs) {
    assertEquals(Sar.OUTPUT.fieldNames().length, recs.columns().length);
    return recs.orderBy("user_idx", "rank").collectAsList();
  }

  private static void assertRows(List<Row> actual, Row... expected) {
    assertEquals(expected.length, actual.size(), actual.toString());
    for (int k = 0; k < expected.length; k++) {
      Row e = expected[k];
      Row a = actual.get(k);
      String where = "row " + k + " of " + actual;
      assertEquals(e.getInt(0), a.getInt(0), where);
      assertEquals(e.getInt(1), a.getInt(1), where);
      assertEquals(e.getInt(2), a.getInt(2), where);
      assertEquals(e.getDouble(3), a.getDouble(3), EPS, where);
    }
  }

  /** The neighbour table as sorted "item-neighbour=similarity" (4 decimals). */
  private static List<String> neighbourList(Sar sar) {
    List<String> out = new ArrayList<>();
    for (Row r : sar.neighbours().orderBy("item_idx", "neighbour_idx").collectAsList()) {
      out.add(r.getInt(0) + "-" + r.getInt(1) + "=" + String.format(java.util.Locale.ROOT, "%.4f", r.getDouble(2))
          .replaceAll("0+$", "").replaceAll("\\.$", ""));
    }
    return out;
  }
}
