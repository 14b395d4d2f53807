package io.affinity.recommend;

import static org.apache.spark.sql.functions.array_contains;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.sum;

import java.util.Arrays;
import java.util.Locale;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

/**
 * An item-to-item co-occurrence recommender, a candidate beside ALS: SAR as Microsoft Recommenders
 * defines it ({@code sar_singlenode.py}), written with Spark SQL joins so that it runs at the size of
 * the 20M rating benchmark. It needs no factors and no iterations, and on sparse catalogs, where
 * "bought together" says more than a low-rank fit, it can beat ALS; validation decides.
 *
 * <p>Definitions, with A the user x item affinity and B its binary form (1 where A &gt; 0):
 *
 * <ul>
 *   <li>affinity {@code a(u,i)}: the caller's, one row per (user, item). SAR's time-decayed affinity
 *       {@code sum(weight x 2^(-(t_ref - t) / T))} is what {@link TrainingData#implicitStrength}
 *       computes (half-life T in days, infinite for none); a rating dump can pass its ratings, or 1
 *       per rated pair. A null or non-positive affinity counts as no interaction;
 *   <li>co-occurrence {@code c(i,j) = (B^T B)(i,j)}: the number of users with both i and j, and
 *       {@code c(i,i)} the number of users with i, both over the capped pairs (below), so that
 *       {@code c(i,j) <= min(c(i,i), c(j,j))} and Jaccard stays within [0, 1];
 *   <li>a pair with {@code c(i,j) < minCooccurrence} is dropped (SAR's threshold);
 *   <li>similarity {@code s(i,j)}: {@link Similarity#JACCARD} {@code c(i,j) / (c(i,i) + c(j,j) - c(i,j))},
 *       {@link Similarity#LIFT} {@code c(i,j) / (c(i,i) x c(j,j))}, or {@link Similarity#COOCCURRENCE}
 *       {@code c(i,j)} itself;
 *   <li>score {@code r(u,j) = sum over the user's items i of a(u,i) x s(i,j)} (SAR's A x S).
 * </ul>
 *
 * <p>Where it differs from the dense reference, and why:
 *
 * <ul>
 *   <li>No all-pairs cross join: pairs come from a self-join of the user-item pairs on the user, so
 *       only pairs that co-occur ever become rows. A user's n items make n(n-1)/2 rows; to bound that
 *       for heavy users, each user's items are capped at {@code maxItemsPerUser}, their strongest by
 *       affinity (ties by lower item idx). The join then makes at most users x cap x (cap - 1) / 2
 *       rows, and the counts are aggregated per partition before they are shuffled;
 *   <li>per item only its {@code neighbours} most similar other items are kept (ties by lower item
 *       idx), so the neighbour table has at most items x neighbours rows and scoring a user costs
 *       their items x neighbours rows. The diagonal (an item with itself) is not kept: it only adds
 *       to the scores of the user's own items, which are never recommended.
 * </ul>
 *
 * <p>The neighbour table is persisted when first used, because every {@link #recommend} call reads
 * it; {@link #release()} frees it. Nothing user-sized reaches the driver. An instance is immutable
 * apart from that cache and may be shared between threads that submit Spark jobs.
 */
final class Sar {
  /** How co-occurrence counts become item similarity (SAR's {@code similarity_type}). */
  enum Similarity {
    /** {@code c(i,j) / (c(i,i) + c(j,j) - c(i,j))}: overlap of the two items' user sets. */
    JACCARD,
    /** {@code c(i,j) / (c(i,i) x c(j,j))}: co-occurrence against chance; favours rare items. */
    LIFT,
    /** {@code c(i,j)}: raw counts; favours popular items. */
    COOCCURRENCE;

    /** The similarity named {@code name} (case-insensitive): jaccard, lift or cooccurrence. */
    static Similarity of(String name) {
      for (Similarity s : values()) {
        if (s.name().equalsIgnoreCase(name)) {
          return s;
        }
      }
      throw new IllegalArgumentException("similarity is '" + name + "', expected one of "
          + Arrays.toString(values()).toLowerCase(Locale.ROOT));
    }
  }

  /** The neighbour table's schema: item_idx, neighbour_idx, similarity. */
  static final StructType NEIGHBOURS = new StructType()
      .add("item_idx", DataTypes.IntegerType, false)
      .add("neighbour_idx", DataTypes.IntegerType, false)
      .add("similarity", DataTypes.DoubleType, false);

  /** The schema of {@link #recommend}'s output: user_idx, rank (1 = best), item_idx, score. */
  static final StructType OUTPUT = new StructType()
      .add("user_idx", DataTypes.IntegerType, false)
      .add("rank", DataTypes.IntegerType, false)
      .add("item_idx", DataTypes.IntegerType, false)
      .add("score", DataTypes.DoubleType, false);

  private final Dataset<Row> neighbours;

  private Sar(Dataset<Row> neighbours) {
    this.neighbours = neighbours;
  }

  /**
   * Builds the neighbour table. Lazy: nothing runs until the table is first read.
   *
   * @param affinity user_idx (int), item_idx (int), rating (numeric): one row per pair
   * @param similarity how counts become similarity
   * @param minCooccurrence pairs with fewer users in common are dropped; at least 1
   * @param maxItemsPerUser a user's strongest items that count for co-occurrence; at least 2
   * @param neighbours most similar items kept per item; at least 1
   */
  static Sar fit(Dataset<Row> affinity, Similarity similarity, int minCooccurrence, int maxItemsPerUser,
      int neighbours) {
    requireColumns(affinity.schema(), "affinity");
    if (minCooccurrence < 1) {
      throw new IllegalArgumentException("minCooccurrence is " + minCooccurrence + ", expected at least 1");
    }
    if (maxItemsPerUser < 2) {
      throw new IllegalArgumentException("maxItemsPerUser is " + maxItemsPerUser
          + ", expected at least 2 (a pair needs two items of one user)");
    }
    if (neighbours < 1) {
      throw new IllegalArgumentException("neighbours is " + neighbours + ", expected at least 1");
    }
    Dataset<Row> pairs = interactions(affinity)
        .withColumn("pos", row_number().over(Window.partitionBy("user_idx")
            .orderBy(col("rating").desc(), col("item_idx").asc())))
        .filter(col("pos").leq(maxItemsPerUser))
        .select("user_idx", "item_idx");

    Dataset<Row> occurrence = pairs.groupBy("item_idx").agg(count(lit(1)).as("c"));
    Dataset<Row> a = pairs.select(col("user_idx"), col("item_idx").as("i"));
    Dataset<Row> b = pairs.select(col("user_idx"), col("item_idx").as("j"));
    // Each unordered pair once (i < j), mirrored after the similarity: half the join's rows.
    Dataset<Row> counts = a.join(b, "user_idx").filter(col("i").lt(col("j")))
        .groupBy("i", "j").agg(count(lit(1)).as("cij"))
        .filter(col("cij").geq(minCooccurrence));
    Dataset<Row> withDiagonal = counts
        .join(occurrence.select(col("item_idx").as("i"), col("c").as("cii")), "i")
        .join(occurrence.select(col("item_idx").as("j"), col("c").as("cjj")), "j");
    Dataset<Row> scored = withDiagonal.select(col("i"), col("j"), similarity(similarity).as("s"));
    Dataset<Row> both = scored.select(col("i").as("item_idx"), col("j").as("neighbour_idx"), col("s"))
        .unionByName(scored.select(col("j").as("item_idx"), col("i").as("neighbour_idx"), col("s")));
    // row_number with a limit: Spark keeps only the top rows per item before the shuffle (its
    // window group limit), so the mirrored pairs are never sorted whole.
    Dataset<Row> top = both
        .withColumn("pos", row_number().over(Window.partitionBy("item_idx")
            .orderBy(col("s").desc(), col("neighbour_idx").asc())))
        .filter(col("pos").leq(neighbours))
        .select(col("item_idx"), col("neighbour_idx"), col("s").as("similarity"));
    return new Sar(top.persist(StorageLevel.MEMORY_AND_DISK()));
  }

  /** {@link #fit(Dataset, Similarity, int, int, int)} with the similarity by name. */
  static Sar fit(Dataset<Row> affinity, String similarity, int minCooccurrence, int maxItemsPerUser, int neighbours) {
    return fit(affinity, Similarity.of(similarity), minCooccurrence, maxItemsPerUser, neighbours);
  }

  /** The neighbour table ({@link #NEIGHBOURS}): per item, its kept neighbours and their similarity. */
  Dataset<Row> neighbours() {
    return neighbours;
  }

  /**
   * The top {@code n} items per user by SAR score, best first (score descending, then lower item
   * idx). Never recommended: the user's own items (every item with a positive affinity, not only the
   * capped ones; SAR's {@code remove_seen}) and the user's {@code excluded} items. Only positive
   * scores count, so a user none of whose items has a kept neighbour outside what they have gets no
   * rows at all, and a user may get fewer than n: the caller fills the rest (with popularity).
   *
   * <p>Scores are sums of doubles aggregated across partitions: two items whose exact scores are
   * equal may differ in the last bit, and then their order follows that bit, not the item idx.
   *
   * @param affinity as given to {@link #fit} (or newer): the users' items and their weights
   * @param users user_idx (int), excluded (array of int, nullable): who to score, and what not to show
   * @param n list length, at least 1
   * @return {@link #OUTPUT} rows
   */
  Dataset<Row> recommend(Dataset<Row> affinity, Dataset<Row> users, int n) {
    requireColumns(affinity.schema(), "affinity");
    requireType(users.schema(), "users", "user_idx", DataTypes.IntegerType);
    requireType(users.schema(), "users", "excluded", DataTypes.createArrayType(DataTypes.IntegerType));
    if (n < 1) {
      throw new IllegalArgumentException("n is " + n + ", expected at least 1");
    }
    Dataset<Row> who = users.select(col("user_idx"), col("excluded"));
    Dataset<Row> owned = interactions(affinity).join(who.select("user_idx"), "user_idx");
    Dataset<Row> scores = owned
        .join(neighbours, "item_idx")
        .groupBy(col("user_idx"), col("neighbour_idx").as("item_idx"))
        .agg(sum(col("rating").multiply(col("similarity"))).as("score"))
        .filter(col("score").gt(0))
        .join(owned.select("user_idx", "item_idx"), new String[] {"user_idx", "item_idx"}, "left_anti")
        .join(who, "user_idx")
        // A null list excludes nothing (array_contains of null is null).
        .filter(not(coalesce(array_contains(col("excluded"), col("item_idx")), lit(false))));
    return scores
        .withColumn("rank", row_number().over(Window.partitionBy("user_idx")
            .orderBy(col("score").desc(), col("item_idx").asc())))
        .filter(col("rank").leq(n))
        .select(col("user_idx"), col("rank"), col("item_idx"), col("score"));
  }

  /** Source of a SAR row in recommendations. */
  static final String SOURCE = "sar";

  /**
   * SAR's rows first, then the fallback's rows for items SAR did not give, up to {@code n} per
   * user: what a SAR list is when published (a user SAR has nothing for gets the fallback alone).
   *
   * @param sarRows {@link #OUTPUT} rows of {@link #recommend}
   * @param fallback user_idx, rank, item_idx, score, source, because_item_id: the fallback lists of
   *     the same users (already without their excluded items)
   * @return user_idx, rank, item_idx, score, source, because_item_id (null on SAR rows)
   */
  static Dataset<Row> withFallback(Dataset<Row> sarRows, Dataset<Row> fallback, int n) {
    Dataset<Row> first = sarRows.select(col("user_idx"), col("rank"), col("item_idx"), col("score"),
        lit(SOURCE).as("source"), lit(null).cast(DataTypes.StringType).as("because_item_id"), lit(0).as("tier"));
    Dataset<Row> rest = fallback.select(col("user_idx"), col("rank"), col("item_idx"), col("score"), col("source"),
        col("because_item_id"), lit(1).as("tier"))
        .join(sarRows.select("user_idx", "item_idx"), new String[] {"user_idx", "item_idx"}, "left_anti");
    return first.unionByName(rest)
        .withColumn("pos", row_number().over(Window.partitionBy("user_idx").orderBy(col("tier"), col("rank"))))
        .filter(col("pos").leq(n))
        .select(col("user_idx"), col("pos").as("rank"), col("item_idx"), col("score"), col("source"),
            col("because_item_id"));
  }

  /** Frees the neighbour table; the instance must not be used afterwards. */
  void release() {
    neighbours.unpersist(false);
  }

  /** Positive affinity as double: user_idx, item_idx, rating. */
  private static Dataset<Row> interactions(Dataset<Row> affinity) {
    return affinity
        .select(col("user_idx"), col("item_idx"), col("rating").cast("double").as("rating"))
        .filter(col("rating").gt(0));
  }

  private static Column similarity(Similarity similarity) {
    // Counts are longs: as doubles, every similarity (cooccurrence too) has one type, and lift's
    // product of two popular items' counts cannot overflow.
    Column cij = col("cij").cast("double");
    Column cii = col("cii").cast("double");
    Column cjj = col("cjj").cast("double");
    return switch (similarity) {
      case JACCARD -> cij.divide(cii.plus(cjj).minus(cij));
      case LIFT -> cij.divide(cii.multiply(cjj));
      case COOCCURRENCE -> cij;
    };
  }

  private static void requireColumns(StructType schema, String what) {
    requireType(schema, what, "user_idx", DataTypes.IntegerType);
    requireType(schema, what, "item_idx", DataTypes.IntegerType);
    StructField rating = field(schema, what, "rating");
    if (!(rating.dataType() instanceof NumericType)) {
      throw new IllegalArgumentException(what + ".rating is " + rating.dataType().simpleString()
          + ", expected a number");
    }
  }

  private static void requireType(StructType schema, String what, String name, DataType type) {
    DataType actual = field(schema, what, name).dataType();
    boolean ok = type instanceof ArrayType t && actual instanceof ArrayType a
        ? t.elementType().equals(a.elementType())
        : actual.equals(type);
    if (!ok) {
      throw new IllegalArgumentException(what + "." + name + " is " + actual.simpleString() + ", expected "
          + type.simpleString());
    }
  }

  private static StructField field(StructType schema, String what, String name) {
    for (StructField f : schema.fields()) {
      if (f.name().equals(name)) {
        return f;
      }
    }
    throw new IllegalArgumentException(what + " has no column " + name + " (columns: "
        + String.join(", ", schema.fieldNames()) + ")");
  }
}
