package io.affinity.recommend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.affinity.testing.SparkTestBase;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * The beyond-accuracy metrics on a fixture small enough to work out by hand (the definitions of
 * Microsoft Recommenders, item similarity = co-occurrence cosine of the training pairs).
 *
 * <pre>
 * training pairs: u1 {1, 2}, u2 {1, 2, 3}, u3 {3}     |train| = 6
 *   U(1) = {u1, u2}, U(2) = {u1, u2}, U(3) = {u2, u3}; item 4 was never chosen
 *   sim(1,2) = 2 / sqrt(2 x 2) = 1.0, sim(1,3) = sim(2,3) = 1 / sqrt(2 x 2) = 0.5, sim(x,4) = 0
 * lists: u1 [3, 4], u2 [4], u3 [1, 2]      (5 rows)
 * truth: u1 {3}, u2 {5}, u3 {2}
 *
 * distributional coverage: p(3) = 1/5, p(4) = 2/5, p(1) = p(2) = 1/5
 *   -(3 x 0.2 log2 0.2 + 0.4 log2 0.4) = 1.3931569 + 0.5287712 = 1.9219281
 * novelty: rows of items in training: 3, 1, 2, each -log2(2/6) = log2 3 = 1.5849625
 *   3 x 1.5849625 / 5 rows = 0.9509775
 * diversity: u1 pair (3,4) sim 0 -> 1; u3 pair (1,2) sim 1 -> 0; u2 has no pair (left out)
 *   (1 + 0) / 2 = 0.5
 * serendipity, per item (1 - mean sim to the user's training items) x relevant:
 *   u1 (history 1, 2): item 3 (1 - 0.5) x 1 = 0.5, item 4 (1 - 0) x 0 = 0 -> 0.25
 *   u2 (history 1, 2, 3): item 4 x 0 = 0 -> 0
 *   u3 (history 3): item 1 (1 - 0.5) x 0 = 0, item 2 (1 - 0.5) x 1 = 0.5 -> 0.25
 *   (0.25 + 0 + 0.25) / 3 = 0.1666667
 * </pre>
 */
class BeyondAccuracyTest extends SparkTestBase {
  private static final StructType PAIRS = new StructType()
      .add("user_idx", DataTypes.IntegerType).add("item_idx", DataTypes.IntegerType);

  private static Dataset<Row> pairs(int... userItem) {
    List<Row> rows = new java.util.ArrayList<>();
    for (int i = 0; i < userItem.length; i += 2) {
      rows.add(RowFactory.create(userItem[i], userItem[i + 1]));
    }
    return spark.createDataFrame(rows, PAIRS);
  }

  @Test
  void matchesTheHandComputedFixture() {
    BeyondAccuracy.Reference ref = BeyondAccuracy.Reference.of(pairs(1, 1, 1, 2, 2, 1, 2, 2, 2, 3, 3, 3));
    Dataset<Row> lists = pairs(1, 3, 1, 4, 2, 4, 3, 1, 3, 2);
    Dataset<Row> truth = TrainingData.perUser(pairs(1, 3, 2, 5, 3, 2), "items");
    Map<String, Object> m = BeyondAccuracy.compute(lists, truth, ref);
    ref.release();
    assertEquals(1.9219281, (Double) m.get("distributional_coverage"), 1e-6);
    assertEquals(0.9509775, (Double) m.get("novelty"), 1e-6);
    assertEquals(0.5, (Double) m.get("diversity"), 1e-9);
    assertEquals(1 / 6.0, (Double) m.get("serendipity"), 1e-9);
  }

  @Test
  void oneItemRecommendedToEveryoneHasNoSpreadAndNoPairs() {
    BeyondAccuracy.Reference ref = BeyondAccuracy.Reference.of(pairs(1, 1, 2, 1, 2, 2));
    Map<String, Object> m = BeyondAccuracy.compute(pairs(1, 2, 2, 3), TrainingData.perUser(pairs(1, 2), "items"), ref);
    ref.release();
    // Two rows, two items: H = -2 x 0.5 log2 0.5 = 1. Item 2 chosen by 1 of 3 pairs: log2 3, item 3
    // never: (1.5849625 + 0) / 2. No list has two items: diversity 0 (nothing to average).
    assertEquals(1.0, (Double) m.get("distributional_coverage"), 1e-9);
    assertEquals(1.5849625 / 2, (Double) m.get("novelty"), 1e-6);
    assertEquals(0.0, (Double) m.get("diversity"), 1e-9);
    // U(1) = {u1, u2}, U(2) = {u2}: sim(1,2) = 1 / sqrt(2 x 1) = 0.7071068. u1 history {1}: item 2
    // is relevant: (1 - 0.7071068) x 1 = 0.2928932. u2 history {1, 2}: item 3, not relevant: 0.
    // Mean (0.2928932 + 0) / 2 = 0.1464466.
    assertEquals(0.1464466, (Double) m.get("serendipity"), 1e-6);
  }

  @Test
  void theSimilarityOfListedItemsIsTheAllPairsCosineOfEveryPairWithAListedItem() {
    // 40 users, 12 items, skewed: item i is chosen by a user with probability 1 / (1 + i / 3).
    java.util.Random random = new java.util.Random(7);
    List<Integer> flat = new java.util.ArrayList<>();
    Map<Integer, java.util.Set<Integer>> buyers = new java.util.TreeMap<>();
    for (int u = 0; u < 40; u++) {
      for (int i = 0; i < 12; i++) {
        if (random.nextDouble() < 1 / (1 + i / 3.0)) {
          flat.add(u);
          flat.add(i);
          buyers.computeIfAbsent(i, x -> new java.util.TreeSet<>()).add(u);
        }
      }
    }
    BeyondAccuracy.Reference ref = BeyondAccuracy.Reference.of(pairs(flat.stream().mapToInt(Integer::intValue).toArray()));
    java.util.Set<Integer> listed = java.util.Set.of(0, 3, 4, 11);
    Dataset<Row> listedRows = spark.createDataFrame(listed.stream().map(i -> RowFactory.create(i)).toList(),
        new StructType().add("item_idx", DataTypes.IntegerType));
    Map<String, Double> got = new java.util.TreeMap<>();
    for (Row r : ref.similarity(listedRows).collectAsList()) {
      assertTrue(r.getInt(0) < r.getInt(1), r.toString());
      assertEquals(null, got.put(r.getInt(0) + "," + r.getInt(1), r.getDouble(2)), "one row per pair: " + r);
    }
    ref.release();
    Map<String, Double> expected = new java.util.TreeMap<>();
    for (int a : buyers.keySet()) {
      for (int b : buyers.keySet()) {
        if (a < b && (listed.contains(a) || listed.contains(b))) {
          java.util.Set<Integer> both = new java.util.TreeSet<>(buyers.get(a));
          both.retainAll(buyers.get(b));
          if (!both.isEmpty()) {
            expected.put(a + "," + b, both.size() / Math.sqrt(buyers.get(a).size() * (double) buyers.get(b).size()));
          }
        }
      }
    }
    assertEquals(expected.keySet(), got.keySet());
    assertTrue(expected.size() > 20, "pairs: " + expected.size());
    expected.forEach((k, v) -> assertEquals(v, got.get(k), 1e-12, k));
  }
}
