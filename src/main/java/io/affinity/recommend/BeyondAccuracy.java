package io.affinity.recommend;

import static org.apache.spark.sql.functions.array_contains;
import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.broadcast;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.log;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.sqrt;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;

/**
 * Beyond-accuracy metrics of top-k lists, defined as in Microsoft Recommenders
 * ({@code recommenders.evaluation.python_evaluation}): distributional coverage, novelty,
 * intra-list diversity and serendipity. Catalog coverage stays in {@link RankingEvaluation}.
 *
 * <p>The "training data" of those definitions is {@link Reference#train}: the distinct (user, item)
 * pairs with a relevant event (by default: a purchase) before the split, i.e. what users chose. The
 * item similarity is theirs by default, {@code item_cooccurrence_count}: the cosine of the items'
 * buyer sets, sim(i, j) = |U(i) ∩ U(j)| / sqrt(|U(i)| |U(j)|), 0 for items never bought together.
 * Definitions with their formulas: docs/RECOMMEND.md.
 */
final class BeyondAccuracy {
  private BeyondAccuracy() {}

  /**
   * What every list is measured against, computed once per validation and cached.
   *
   * @param train distinct user_idx, item_idx
   * @param itemCounts item_idx, n = |U(i)|
   * @param pairs |train|
   */
  record Reference(Dataset<Row> train, Dataset<Row> itemCounts, long pairs) {

    /** @param train user_idx, item_idx (duplicates are dropped) */
    static Reference of(Dataset<Row> train) {
      // Read by every measured list, several times each: one-node plans (LineageCut), materialised
      // here, outside any TrainingData.releasingCaches block.
      Dataset<Row> t = LineageCut.of(train.select("user_idx", "item_idx").distinct());
      Dataset<Row> counts = LineageCut.of(t.groupBy("item_idx").agg(count(lit(1)).as("n")));
      return new Reference(t, counts, t.count());
    }

    /**
     * The co-occurrence cosine of every pair (i1 &lt; i2) bought together at least once in which one
     * item is in {@code listed}. Every pair the metrics look up holds a listed item (two items of a
     * list, or a listed item and a history item), and top-k lists hold few distinct items, so this
     * joins only the chosen pairs of listed items to the users' other pairs, not every user's
     * chosen items to each other (docs/BENCHMARKS.md, 2026-12-03 evening).
     *
     * @param listed distinct item_idx of the lists
     */
    Dataset<Row> similarity(Dataset<Row> listed) {
      Dataset<Row> flagged = train.join(broadcast(listed.withColumn("listed", lit(true))), new String[] {"item_idx"}, "left");
      Dataset<Row> a = flagged.filter(col("listed").isNotNull()).select(col("user_idx"), col("item_idx").as("x"));
      Dataset<Row> b = flagged.select(col("user_idx").as("u"), col("item_idx").as("y"), col("listed").isNotNull().as("y_listed"));
      // A pair of two listed items is joined in one direction only (x < y), so it has one count.
      Dataset<Row> together = a.join(b, col("user_idx").equalTo(col("u"))
              .and(col("x").lt(col("y")).or(col("x").gt(col("y")).and(not(col("y_listed"))))))
          .groupBy(least(col("x"), col("y")).as("i1"), greatest(col("x"), col("y")).as("i2"))
          .agg(count(lit(1)).as("both"));
      return together
          .join(itemCounts.select(col("item_idx").as("i1"), col("n").as("n1")), "i1")
          .join(itemCounts.select(col("item_idx").as("i2"), col("n").as("n2")), "i2")
          .select(col("i1"), col("i2"), col("both").divide(sqrt(col("n1").multiply(col("n2")))).as("sim"));
    }

    void release() {
      LineageCut.release(itemCounts);
      LineageCut.release(train);
    }
  }

  /**
   * @param lists user_idx, item_idx: the top-k rows of the evaluated users (one row per pair)
   * @param truth user_idx, items (array of item_idx): the held-out relevant items
   * @return distributional_coverage, novelty, diversity, serendipity (0.0 where nothing qualifies)
   */
  static Map<String, Object> compute(Dataset<Row> lists, Dataset<Row> truth, Reference ref) {
    // Joined to itself and to the similarity built from it: a one-node plan (LineageCut).
    Dataset<Row> l = LineageCut.of(lists.select("user_idx", "item_idx"));
    Dataset<Row> sim = null;
    try {
      Map<String, Object> out = new LinkedHashMap<>();
      long rows = l.count();
      // Looked up twice (diversity, serendipity): computed once for this list's items.
      sim = ref.similarity(l.select("item_idx").distinct()).persist(StorageLevel.MEMORY_AND_DISK());
      // -sum_i p(i) log2 p(i), p(i) = rows recommending i / all rows.
      Column p = col("c").divide(rows);
      out.put("distributional_coverage", rows == 0 ? 0.0 : value(l.groupBy("item_idx").agg(count(lit(1)).as("c"))
          .agg(sum(p.multiply(log(2.0, p)).multiply(-1.0)))));
      // sum over rows of -log2(|U(i)| / |train|), items never chosen in training left out, / all rows.
      out.put("novelty", rows == 0 || ref.pairs() == 0 ? 0.0 : value(l.join(ref.itemCounts(), "item_idx")
          .agg(sum(log(2.0, col("n").divide(ref.pairs())).multiply(-1.0)))) / rows);
      // Per user with >= 2 items: 1 - mean sim over the distinct pairs of the list; mean over users.
      Dataset<Row> pairSims = l.as("a").join(l.as("b"), col("a.user_idx").equalTo(col("b.user_idx"))
              .and(col("a.item_idx").lt(col("b.item_idx"))))
          .select(col("a.user_idx").as("user_idx"), col("a.item_idx").as("i1"), col("b.item_idx").as("i2"));
      out.put("diversity", value(withSimilarity(pairSims, sim).groupBy("user_idx").agg(avg("sim").as("s"))
          .agg(avg(lit(1.0).minus(col("s"))))));
      // Per (user, item) of users with a training history: (1 - mean sim to each training item of
      // the user) x relevance (1 when the item is in the user's held-out truth); mean per user, then
      // over users.
      Dataset<Row> toHistory = l.join(ref.train().withColumnRenamed("item_idx", "h"), "user_idx")
          .select(col("user_idx"), col("item_idx"), least(col("item_idx"), col("h")).as("i1"),
              greatest(col("item_idx"), col("h")).as("i2"));
      Dataset<Row> unexpected = withSimilarity(toHistory, sim).groupBy("user_idx", "item_idx").agg(avg("sim").as("s"))
          .join(truth.select("user_idx", "items"), new String[] {"user_idx"}, "left")
          .withColumn("relevant", when(coalesce(array_contains(col("items"), col("item_idx")), lit(false)), 1.0)
              .otherwise(0.0));
      out.put("serendipity", value(unexpected.groupBy("user_idx")
          .agg(avg(lit(1.0).minus(col("s")).multiply(col("relevant"))).as("u")).agg(avg("u"))));
      return out;
    } finally {
      if (sim != null) {
        sim.unpersist();
      }
      LineageCut.release(l);
    }
  }

  /** Adds sim to rows with i1 &lt;= i2: 1 for an item with itself, the co-occurrence cosine, or 0. */
  private static Dataset<Row> withSimilarity(Dataset<Row> pairs, Dataset<Row> similarity) {
    return pairs.join(similarity, new String[] {"i1", "i2"}, "left")
        .withColumn("sim", when(col("i1").equalTo(col("i2")), lit(1.0)).otherwise(coalesce(col("sim"), lit(0.0))));
  }

  /** The single value of a one-row aggregate; 0.0 when it is null (nothing to average). */
  private static double value(Dataset<Row> aggregate) {
    Row r = aggregate.first();
    return r.isNullAt(0) ? 0.0 : ((Number) r.get(0)).doubleValue();
  }
}
