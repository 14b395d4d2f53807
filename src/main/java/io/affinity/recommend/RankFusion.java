package io.affinity.recommend;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.when;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;

/**
 * The blend of two ranked lists per user by weighted reciprocal rank fusion (Cormack, Clarke and
 * Buettcher 2009): an item's score is {@code (1 - w) / (C + rank in the first) + w / (C + rank in
 * the second)}, a list that does not hold it adding nothing. Ranks, not scores, are fused, because
 * ALS scores and popularity shares are on scales that do not compare; {@code C} = 60 damps the head
 * so that one list's first item does not outweigh agreement further down. {@code w} = 0 is the first
 * list and {@code w} = 1 the second, so the blend family's grid spans both.
 */
final class RankFusion {
  /** The damping constant of reciprocal rank fusion. */
  static final double C = 60;

  private RankFusion() {}

  /** Manifest name of the blend with weight {@code w} on popularity. */
  static String name(double w) {
    return "blend_" + w;
  }

  /**
   * @param first user_idx, rank, item_idx, score, source, because_item_id (e.g. ALS's lists)
   * @param second the same columns (e.g. popularity's lists of the same users)
   * @param w weight of the second list, in [0, 1]
   * @return the same columns, top {@code n} per user by fused score (ties: the lower item idx); each
   *     row keeps the source and explanation of the list that gave it the larger share
   */
  static Dataset<Row> fuse(Dataset<Row> first, Dataset<Row> second, double w, int n) {
    Dataset<Row> a = first.select(col("user_idx"), col("item_idx"), col("rank").as("ra"), col("source").as("sa"),
        col("because_item_id").as("ba"));
    Dataset<Row> b = second.select(col("user_idx"), col("item_idx"), col("rank").as("rb"), col("source").as("sb"),
        col("because_item_id").as("bb"));
    Column fromA = when(col("ra").isNull(), lit(0.0)).otherwise(lit(1 - w).divide(col("ra").plus(C)));
    Column fromB = when(col("rb").isNull(), lit(0.0)).otherwise(lit(w).divide(col("rb").plus(C)));
    Dataset<Row> fused = a.join(b, new String[] {"user_idx", "item_idx"}, "full_outer")
        .withColumn("fa", fromA).withColumn("fb", fromB)
        .withColumn("score", col("fa").plus(col("fb")))
        .filter(col("score").gt(0));
    Column aWins = col("fa").geq(col("fb"));
    return fused
        .withColumn("rank", row_number().over(Window.partitionBy("user_idx")
            .orderBy(col("score").desc(), col("item_idx").asc())))
        .filter(col("rank").leq(n))
        .select(col("user_idx"), col("rank"), col("item_idx"), col("score"),
            when(aWins, coalesce(col("sa"), col("sb"))).otherwise(coalesce(col("sb"), col("sa"))).as("source"),
            when(aWins, col("ba")).otherwise(col("bb")).as("because_item_id"));
  }
}
