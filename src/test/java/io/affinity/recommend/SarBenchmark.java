package io.affinity.recommend;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

/**
 * Benchmark, not a test: {@link Sar} on a real rating dump (MovieLens {@code ratings.csv}:
 * userId, movieId, rating, timestamp). Each user's latest 20 % of ratings (by time, ties by movie)
 * are held out; Sar is fitted on the rest with affinity 1 per rated pair, and the held-out movies
 * are the relevant items. Prints NDCG@10, P@10 and coverage for each similarity, the users that got
 * fewer than 10 rows (left unfilled here: no popularity fill), and most-rated-first popularity
 * (seen items removed) for scale. Exits quietly when the file is missing.
 */
public final class SarBenchmark {
  private SarBenchmark() {}

  /** {@code --ratings ../shared/data/ml-latest-small/ratings.csv --cap 500 --neighbours 50 --min 1}. */
  public static void main(String[] args) {
    Map<String, String> a = new HashMap<>(Map.of("--ratings", "../shared/data/ml-latest-small/ratings.csv",
        "--cap", "500", "--neighbours", "50", "--min", "1", "--master", "local[2]",
        "--similarities", "jaccard,lift,cooccurrence"));
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!a.containsKey(args[i])) {
        throw new IllegalArgumentException("unknown option " + args[i] + "; options: " + a.keySet());
      }
      a.put(args[i], args[i + 1]);
    }
    Path ratings = Path.of(a.get("--ratings"));
    if (!Files.isRegularFile(ratings)) {
      System.out.println("no rating dump at " + ratings + ": nothing measured");
      return;
    }
    int cap = Integer.parseInt(a.get("--cap"));
    int neighbours = Integer.parseInt(a.get("--neighbours"));
    int min = Integer.parseInt(a.get("--min"));
    SparkSession spark = SparkSession.builder().master(a.get("--master")).appName("sar-benchmark")
        .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4").getOrCreate();
    StructType schema = new StructType().add("userId", DataTypes.IntegerType).add("movieId", DataTypes.IntegerType)
        .add("rating", DataTypes.DoubleType).add("timestamp", DataTypes.LongType);
    Dataset<Row> raw = spark.read().schema(schema).option("header", "true").option("mode", "FAILFAST")
        .csv(ratings.toString())
        .select(col("userId").as("user_idx"), col("movieId").as("item_idx"), col("timestamp"));
    Dataset<Row> positioned = raw
        .withColumn("pos", row_number().over(Window.partitionBy("user_idx").orderBy("timestamp", "item_idx")))
        .withColumn("n", count(lit(1)).over(Window.partitionBy("user_idx")))
        .persist(StorageLevel.MEMORY_AND_DISK());
    Column cut = floor(col("n").multiply(0.8));
    Dataset<Row> train = positioned.filter(col("pos").leq(cut))
        .select(col("user_idx"), col("item_idx"), lit(1.0).as("rating")).persist(StorageLevel.MEMORY_AND_DISK());
    Dataset<Row> truth = positioned.filter(col("pos").gt(cut))
        .groupBy("user_idx").agg(collect_list("item_idx").as("items")).persist(StorageLevel.MEMORY_AND_DISK());
    Dataset<Row> users = truth.select(col("user_idx"), lit(null).cast("array<int>").as("excluded"));
    long catalog = train.select("item_idx").distinct().count();
    System.out.printf(Locale.ROOT, "train pairs %d, users evaluated %d, catalog %d, cap %d, neighbours %d, min %d%n",
        train.count(), truth.count(), catalog, cap, neighbours, min);

    Dataset<Row> popular = train.groupBy("item_idx").agg(count(lit(1)).as("c"))
        .withColumn("p", row_number().over(Window.orderBy(col("c").desc(), col("item_idx")))).filter(col("p").leq(1000));
    Dataset<Row> popularity = users.select("user_idx").crossJoin(popular)
        .join(train, new String[] {"user_idx", "item_idx"}, "left_anti")
        .withColumn("rank", row_number().over(Window.partitionBy("user_idx").orderBy("p")))
        .filter(col("rank").leq(10));
    report("popularity", RankingEvaluation.ranking(popularity, truth, 10, catalog), 0, 0);

    for (String similarity : a.get("--similarities").split(",")) {
      long t0 = System.nanoTime();
      Sar sar = Sar.fit(train, similarity, min, cap, neighbours);
      Dataset<Row> recs = sar.recommend(train, users, 10).persist(StorageLevel.MEMORY_AND_DISK());
      long shortLists = recs.groupBy("user_idx").count().filter(col("count").lt(10)).count()
          + users.join(recs, new String[] {"user_idx"}, "left_anti").count();
      double seconds = (System.nanoTime() - t0) / 1e9;
      report(similarity, RankingEvaluation.ranking(recs, truth, 10, catalog), shortLists, seconds);
      recs.unpersist();
      sar.release();
    }
    spark.stop();
  }

  private static void report(String name, Map<String, Object> m, long shortLists, double seconds) {
    System.out.printf(Locale.ROOT, "%-13s ndcg@10 %.4f  p@10 %.4f  coverage %.4f  users with < 10 rows %d  %.1f s%n",
        name, (double) m.get("ndcg_at_10"), (double) m.get("precision_at_10"), (double) m.get("catalog_coverage"),
        shortLists, seconds);
  }
}
