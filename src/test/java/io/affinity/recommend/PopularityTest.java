package io.affinity.recommend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.affinity.testing.SparkTestBase;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * Popularity by recency on a hand-made log: item a had three buyers 100 days ago, item b two
 * buyers yesterday, item c one buyer today. All time, a leads; recently, b does.
 */
class PopularityTest extends SparkTestBase {
  private static final Instant AS_OF = Instant.parse("2026-11-21T00:00:00Z");
  private static final StructType EVENTS = new StructType()
      .add("user_id", DataTypes.StringType)
      .add("user_idx", DataTypes.IntegerType)
      .add("item_idx", DataTypes.IntegerType)
      .add("event_type", DataTypes.StringType)
      .add("event_time", DataTypes.TimestampType);
  private static final ScoringModel.Catalog CATALOG =
      new ScoringModel.Catalog(new int[] {0, 1, 2, 3}, new String[] {"a", "b", "c", "d"});

  private static Row event(int user, int item, String type, long daysAgo) {
    return RowFactory.create("u" + user, user, item, type, Timestamp.from(AS_OF.minusSeconds(daysAgo * 86_400)));
  }

  private static Dataset<Row> events() {
    return spark.createDataFrame(List.of(
        event(1, 0, "purchase", 100), event(2, 0, "purchase", 100), event(3, 0, "purchase", 100),
        // User 1 also bought a again yesterday: a user counts once, by their last purchase.
        event(1, 0, "purchase", 1),
        event(4, 1, "purchase", 1), event(5, 1, "purchase", 1),
        event(6, 2, "purchase", 0),
        // d: only views; views order items with equal buyers, never before a bought item.
        event(7, 3, "view", 0), event(8, 3, "view", 0)), EVENTS);
  }

  private static Dataset<Row> catalog() {
    return spark.createDataFrame(List.of(RowFactory.create(0), RowFactory.create(1), RowFactory.create(2),
        RowFactory.create(3)), new StructType().add("item_idx", DataTypes.IntegerType));
  }

  @Test
  void allTimeCountsEveryDistinctBuyerOnce() {
    ScoringModel.Ranking r = Popularity.global(events(), catalog(), CATALOG, "purchase",
        Popularity.Recency.allTime(), AS_OF);
    // a 3 buyers, b 2, c 1, d 0; scores are shares of the 8 users.
    assertArrayEquals(new int[] {0, 1, 2, 3}, r.positions());
    assertArrayEquals(new double[] {3 / 8.0, 2 / 8.0, 1 / 8.0, 0.0}, r.scores(), 1e-12);
  }

  @Test
  void decayedCountsHalveEveryHalfLifeSinceEachBuyersLastPurchase() {
    ScoringModel.Ranking r = Popularity.global(events(), catalog(), CATALOG, "purchase",
        new Popularity.Recency(Popularity.Recency.DECAYED, 10, 1), AS_OF);
    // Half-life 10 days: a = 0.5^0.1 (user 1, yesterday) + 2 x 0.5^10 = 0.9330 + 0.0020 = 0.9350;
    // b = 2 x 0.5^0.1 = 1.8661; c = 0.5^0 = 1; d = 0.
    double day = Math.pow(0.5, 0.1);
    assertArrayEquals(new int[] {1, 2, 0, 3}, r.positions());
    assertArrayEquals(new double[] {2 * day / 8, 1 / 8.0, (day + 2 * Math.pow(0.5, 10)) / 8, 0.0}, r.scores(),
        1e-9);
  }

  @Test
  void aWindowCountsOnlyBuyersWhoseLastPurchaseIsInsideIt() {
    ScoringModel.Ranking r = Popularity.global(events(), catalog(), CATALOG, "purchase",
        new Popularity.Recency(Popularity.Recency.WINDOW, 30, 30), AS_OF);
    // 30 days: a 1 (user 1), b 2, c 1; a and c tie on buyers and on users with any event in the
    // window (1 each), so the lower idx, a, goes first.
    assertArrayEquals(new int[] {1, 0, 2, 3}, r.positions());
    assertEquals(2 / 8.0, r.scores()[0], 1e-12);
  }

  @Test
  void severalRecenciesAtOnceGiveTheRankingsOfOneAtATime() {
    Popularity.Recency decayed = new Popularity.Recency(Popularity.Recency.DECAYED, 10, 1);
    Popularity.Recency window = new Popularity.Recency(Popularity.Recency.WINDOW, 30, 30);
    List<ScoringModel.Ranking> both = Popularity.global(events(), catalog(), CATALOG, "purchase",
        List.of(decayed, window, Popularity.Recency.allTime()), AS_OF);
    assertEquals(3, both.size());
    int i = 0;
    for (Popularity.Recency r : List.of(decayed, window, Popularity.Recency.allTime())) {
      ScoringModel.Ranking one = Popularity.global(events(), catalog(), CATALOG, "purchase", r, AS_OF);
      assertArrayEquals(one.positions(), both.get(i).positions(), r.mode());
      assertArrayEquals(one.scores(), both.get(i).scores(), 0.0, r.mode());
      i++;
    }
    // Not all the same ranking, so the order of the list is checked too.
    assertNotEquals(java.util.Arrays.toString(both.get(0).positions()), java.util.Arrays.toString(both.get(1).positions()));
  }

  @Test
  void segmentsRankOnlyWhatTheirUsersBought() {
    Dataset<Row> segments = spark.createDataFrame(List.of(RowFactory.create("u1", "x"), RowFactory.create("u4", "x"),
        RowFactory.create("u6", "y")), new StructType().add("user_id", DataTypes.StringType)
        .add("segment", DataTypes.StringType));
    Map<String, ScoringModel.Ranking> r = Popularity.bySegment(events(), segments, CATALOG, "purchase",
        new Popularity.Recency(Popularity.Recency.DECAYED, 10, 1), AS_OF);
    // x: a (user 1, yesterday) and b (user 4, yesterday) tie; lower idx first. Shares of 2 users.
    assertArrayEquals(new int[] {0, 1}, r.get("x").positions());
    assertArrayEquals(new double[] {Math.pow(0.5, 0.1) / 2, Math.pow(0.5, 0.1) / 2}, r.get("x").scores(), 1e-9);
    assertArrayEquals(new int[] {2}, r.get("y").positions());
  }
}
