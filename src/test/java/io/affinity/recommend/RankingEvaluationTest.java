package io.affinity.recommend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.affinity.pipeline.PairedBootstrap;
import io.affinity.testing.SparkTestBase;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** Metric definitions on an example small enough to compute by hand (k = 3). */
class RankingEvaluationTest extends SparkTestBase {
  private static final StructType RECS = new StructType()
      .add("user_idx", DataTypes.IntegerType)
      .add("rank", DataTypes.IntegerType)
      .add("item_idx", DataTypes.IntegerType);
  private static final StructType TRUTH = new StructType()
      .add("user_idx", DataTypes.IntegerType)
      .add("items", DataTypes.createArrayType(DataTypes.IntegerType));

  @Test
  void rankingMetricsMatchHandComputedValues() {
    List<Row> recs = new ArrayList<>();
    // user 1: [1 2 3 | 11], relevant {1, 3}: hits at ranks 1 and 3; rank 4 is beyond k.
    add(recs, 1, 1, 2, 3, 11);
    // user 2: [4 5 6], relevant {6 7 8 9}: one hit at rank 3, more relevant items than k.
    add(recs, 2, 4, 5, 6);
    // user 3: a single recommendation [7], relevant {7}.
    add(recs, 3, 7);
    // user 4 has relevant {1} but no recommendations at all; user 5 has no held-out items.
    add(recs, 5, 10, 12, 13);
    Dataset<Row> truth = spark.createDataFrame(List.of(
        RowFactory.create(1, List.of(1, 3)),
        RowFactory.create(2, List.of(6, 7, 8, 9)),
        RowFactory.create(3, List.of(7)),
        RowFactory.create(4, List.of(1))), TRUTH);

    Map<String, Object> m = RankingEvaluation.ranking(spark.createDataFrame(recs, RECS), truth, 3, 20);

    double l2 = 1 / log2(3); // discount of rank 2; rank 1 is 1, rank 3 is 1/log2(4) = 0.5
    // precision@3 divides hits by k, also for short lists: (2/3 + 1/3 + 1/3 + 0) / 4
    assertEquals((2.0 / 3 + 1.0 / 3 + 1.0 / 3 + 0) / 4, (double) m.get("precision_at_3"), 1e-12);
    // recall@3 divides hits by the number of relevant items: (2/2 + 1/4 + 1/1 + 0) / 4
    assertEquals((1.0 + 0.25 + 1.0 + 0) / 4, (double) m.get("recall_at_3"), 1e-12);
    // NDCG@3, binary: user 1 (1 + .5) / (1 + l2); user 2 .5 / (1 + l2 + .5); user 3 1 / 1; user 4 0
    double ndcg = ((1 + 0.5) / (1 + l2) + 0.5 / (1 + l2 + 0.5) + 1.0 + 0) / 4;
    assertEquals(ndcg, (double) m.get("ndcg_at_3"), 1e-12);
    // AP@3 = sum of precision at each hit / min(relevant, k): user 1 (1/1 + 2/3) / 2;
    // user 2 (1/3) / 3; user 3 (1/1) / 1; user 4 0
    double map = ((1.0 + 2.0 / 3) / 2 + (1.0 / 3) / 3 + 1.0 + 0) / 4;
    assertEquals(map, (double) m.get("map_at_3"), 1e-12);
    // Coverage: items in the top 3 of evaluated users {1..7} over a catalog of 20; user 5's
    // items and rank-4 items do not count.
    assertEquals(7.0 / 20, (double) m.get("catalog_coverage"), 1e-12);

    // The per-user NDCG the policy decisions resample: one row per evaluated user, the values
    // above, and a mean equal to Spark's ndcgAt.
    Map<Integer, Double> perUser = new java.util.TreeMap<>();
    for (Row r : PolicyChoice.perUserNdcg(spark.createDataFrame(recs, RECS), truth, 3, "ndcg").collectAsList()) {
      perUser.put(r.getInt(0), r.getDouble(1));
    }
    assertEquals(List.of(1, 2, 3, 4), List.copyOf(perUser.keySet()));
    assertEquals((1 + 0.5) / (1 + l2), perUser.get(1), 1e-12);
    assertEquals(0.5 / (1 + l2 + 0.5), perUser.get(2), 1e-12);
    assertEquals(1.0, perUser.get(3), 1e-12);
    assertEquals(0.0, perUser.get(4), 1e-12);

    // The Poisson bootstrap: row 0 is the plain mean; the replicate means scatter around it, are
    // reproducible with the seed and differ with another.
    Dataset<Row> scores = PolicyChoice.perUserNdcg(spark.createDataFrame(recs, RECS), truth, 3, "a")
        .withColumn("b", org.apache.spark.sql.functions.lit(0.5));
    double[][] means = PairedBootstrap.means(scores, "user_idx", List.of("a", "b"), 200, 7);
    assertEquals(201, means.length);
    assertEquals(ndcg, means[0][0], 1e-12);
    assertEquals(0.5, means[0][1], 1e-12);
    double avg = 0;
    int distinct = 0;
    int empty = 0;
    for (int r = 1; r <= 200; r++) {
      if (Double.isNaN(means[r][0])) {
        empty++; // a resample of 4 users draws none with probability e^-4 = 1.8 %
        assertTrue(Double.isNaN(means[r][1]));
        continue;
      }
      avg += means[r][0];
      distinct += Math.abs(means[r][0] - ndcg) > 1e-9 ? 1 : 0;
      assertEquals(0.5, means[r][1], 1e-12, "a constant column has the same mean under every weighting");
    }
    assertTrue(empty < 12, empty + " empty resamples of 200");
    assertEquals(ndcg, avg / (200 - empty), 0.05, "replicate means centre on the sample mean");
    assertTrue(distinct > 100, "replicates resample: " + distinct + " of 200 differ from the sample mean");
    assertTrue(java.util.Arrays.deepEquals(means, PairedBootstrap.means(scores, "user_idx", List.of("a", "b"), 200, 7)));
    assertFalse(java.util.Arrays.deepEquals(means, PairedBootstrap.means(scores, "user_idx", List.of("a", "b"), 200, 8)));
  }

  @Test
  void rankFusionWeighsRanksByHand() {
    StructType lists = new StructType().add("user_idx", DataTypes.IntegerType).add("rank", DataTypes.IntegerType)
        .add("item_idx", DataTypes.IntegerType).add("score", DataTypes.DoubleType).add("source", DataTypes.StringType)
        .add("because_item_id", DataTypes.StringType);
    Dataset<Row> als = spark.createDataFrame(List.of(RowFactory.create(1, 1, 10, 0.9, "als", "b10"),
        RowFactory.create(1, 2, 20, 0.8, "als", "b20"), RowFactory.create(1, 3, 30, 0.7, "als", "b30")), lists);
    Dataset<Row> pop = spark.createDataFrame(List.of(RowFactory.create(1, 1, 30, 0.5, "popular", null),
        RowFactory.create(1, 2, 40, 0.4, "popular", null)), lists);
    // w = 0.5: 30 gets 0.5/63 + 0.5/61 (in both), 10 gets 0.5/61, 20 and 40 tie at 0.5/62 (lower idx
    // first); 30's larger share is popularity's (rank 1 there), so its row is `popular`.
    List<Row> half = RankFusion.fuse(als, pop, 0.5, 3).orderBy("rank").collectAsList();
    assertEquals(List.of(30, 10, 20), half.stream().map(r -> r.getInt(2)).toList());
    assertEquals(0.5 / 63 + 0.5 / 61, half.get(0).getDouble(3), 1e-12);
    assertEquals(List.of("popular", "als", "als"), half.stream().map(r -> r.getString(4)).toList());
    assertEquals("b10", half.get(1).getString(5));
    // The ends of the grid are the two lists themselves.
    assertEquals(List.of(10, 20, 30), RankFusion.fuse(als, pop, 0.0, 3).orderBy("rank").collectAsList().stream()
        .map(r -> r.getInt(2)).toList());
    assertEquals(List.of(30, 40), RankFusion.fuse(als, pop, 1.0, 3).orderBy("rank").collectAsList().stream()
        .map(r -> r.getInt(2)).toList());
  }

  @Test
  void rmseAndMaeMatchHandComputedValues() {
    StructType schema = new StructType()
        .add("rating", DataTypes.DoubleType)
        .add("prediction", DataTypes.DoubleType);
    Dataset<Row> p = spark.createDataFrame(List.of(
        RowFactory.create(4.0, 3.5), RowFactory.create(2.0, 3.0), RowFactory.create(5.0, 5.0)), schema);
    Map<String, Object> m = RankingEvaluation.rating(p, "prediction");
    // errors .5, -1, 0
    assertEquals(Math.sqrt((0.25 + 1 + 0) / 3), (double) m.get("rmse"), 1e-12);
    assertEquals((0.5 + 1 + 0) / 3, (double) m.get("mae"), 1e-12);
  }

  private static void add(List<Row> rows, int user, int... items) {
    for (int i = 0; i < items.length; i++) {
      rows.add(RowFactory.create(user, i + 1, items[i]));
    }
  }

  private static double log2(double x) {
    return Math.log(x) / Math.log(2);
  }
}
