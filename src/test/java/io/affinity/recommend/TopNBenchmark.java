package io.affinity.recommend;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.row_number;

import io.affinity.Main;
import io.affinity.sample.SampleGenerator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.ml.recommendation.ALSModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.storage.StorageLevel;

/**
 * Benchmark, not a test: top-N with exclusions for every user, our blocked ranking against
 * {@code ALSModel.recommendForAllUsers} followed by an anti-join. Generates data with the
 * project's generator, runs ingest and features through the command line, fits one ALS model and
 * times each approach {@code --runs} times after one warm-up round (median reported). Every approach ends in a {@code noop}
 * write, so all rows are computed and none are stored. How to run it: docs/RECOMMEND.md.
 *
 * <p>Approaches:
 * <ul>
 *   <li>{@code blocked}: what stage recommend does (users joined with their exclusions, broadcast
 *       item factors, one sgemm per block of users, a heap of N that skips excluded items);
 *   <li>{@code recommendForAllUsers(N) + anti-join}: the usual idiom; users who bought some of
 *       their top N end up with fewer than N rows (the count is printed);
 *   <li>{@code recommendForAllUsers(N + max excluded) + anti-join + re-rank}: the same idiom made
 *       correct (N rows whenever possible), which is what it takes to match our output.
 * </ul>
 */
public final class TopNBenchmark {
  private TopNBenchmark() {}

  /**
   * {@code --users 20000 --items 3000 --rank 10 --n 10 --runs 3 --dir /tmp/affinity-bench
   * --master local[2]}.
   */
  public static void main(String[] args) throws IOException {
    Map<String, String> a = new HashMap<>(Map.of(
        "--users", "20000", "--items", "3000", "--rank", "10", "--n", "10", "--runs", "3",
        "--dir", "/tmp/affinity-bench", "--master", "local[2]"));
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!a.containsKey(args[i])) {
        throw new IllegalArgumentException("unknown option " + args[i] + "; options: " + a.keySet());
      }
      a.put(args[i], args[i + 1]);
    }
    int users = Integer.parseInt(a.get("--users"));
    int items = Integer.parseInt(a.get("--items"));
    int rank = Integer.parseInt(a.get("--rank"));
    int n = Integer.parseInt(a.get("--n"));
    int runs = Integer.parseInt(a.get("--runs"));
    Path dir = Path.of(a.get("--dir"));
    LocalDate runDate = LocalDate.of(2026, 11, 20);

    Path data = dir.resolve("data");
    if (!Files.exists(data.resolve("events.csv"))) {
      SampleGenerator.generate(new SampleGenerator.Options(data, users, items, 10, 90, runDate, 0, 42, false));
    }
    String root = dir.resolve("out").toString();
    SparkSession spark = SparkSession.builder().master(a.get("--master")).appName("topn-benchmark")
        .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.session.timeZone", "UTC").getOrCreate();
    spark.sparkContext().setCheckpointDir(dir.resolve("checkpoints").toString());
    String[] common = {"--run-date", runDate.toString(), "-Daffinity.output.root=" + root,
        "-Daffinity.input.events.path=" + data.resolve("events.csv"), "-Daffinity.spark.shuffle-partitions=8"};
    for (String stage : List.of("ingest", "features")) {
      if (!Files.exists(Path.of(root, stage.equals("ingest") ? "clean" : "features"))) {
        String[] cmd = concat(new String[] {stage}, common);
        if (Main.run(cmd) != 0) {
          throw new IllegalStateException(stage + " failed");
        }
      }
    }

    String day = "/run_date=" + runDate;
    Dataset<Row> interactions = spark.read().parquet(root + "/features/interactions" + day);
    RecommendSettings settings = new RecommendSettings(true, n, n, List.of("purchase"), 42, 14, List.of("purchase"),
        n, false, false, List.of(), new RecommendSettings.AlsParams(rank, 0.1, 10.0, 10), 10, 5, 1024,
        Popularity.Recency.allTime(), new RecommendSettings.ContentSettings(false, 1.0, 0, 0, 1.0, false, List.of(1.0)), 1,
        new RecommendSettings.PolicySettings(50, 0.0, 200, 0.95, 42, List.of(Double.POSITIVE_INFINITY), List.of(), List.of(1.0)),
        new RecommendSettings.SarSettings(false, Sar.Similarity.JACCARD, 2, 500, 50));
    Dataset<Row> training = TrainingData.prepare(interactions.filter(col("strength").gt(0))
        .select(col("user_idx"), col("item_idx"), col("strength").as("rating")), settings.numBlocks());
    ALSModel model = TrainingData.fit(settings, settings.params(), training, 0); // 10 blocks: pairs unused
    model.userFactors().persist(StorageLevel.MEMORY_AND_DISK()).count();
    model.itemFactors().persist(StorageLevel.MEMORY_AND_DISK()).count();

    Dataset<Row> itemMap = spark.read().parquet(root + "/idmaps/items" + day)
        .select(col("id").as("item_id"), col("idx").as("item_idx"));
    Dataset<Row> bought = spark.read().parquet(root + "/clean/events" + day)
        .filter(col("event_type").equalTo("purchase")).join(itemMap, "item_id")
        .join(spark.read().parquet(root + "/idmaps/users" + day).select(col("id").as("user_id"), col("idx").as("user_idx")),
            "user_id")
        .select("user_id", "user_idx", "item_idx").distinct().persist(StorageLevel.MEMORY_AND_DISK());
    Dataset<Row> allUsers = interactions.select("user_id", "user_idx").distinct().persist(StorageLevel.MEMORY_AND_DISK());
    Dataset<Row> catalogItems = spark.read().parquet(root + "/features/items" + day).select("item_idx", "item_id")
        .persist(StorageLevel.MEMORY_AND_DISK());
    long boughtPairs = bought.count();
    long userCount = allUsers.count();
    catalogItems.count();
    int maxExcluded = (int) bought.groupBy("user_idx").count().agg(max("count"))
        .first().getLong(0);
    System.out.printf(Locale.ROOT, "%n%d users, %d items, %d interactions, %d bought pairs (max %d per user), rank %d, N %d%n",
        userCount, catalogItems.count(), interactions.count(), boughtPairs, maxExcluded, rank, n);

    List<double[]> times = new ArrayList<>();
    String[] names = {"blocked (stage recommend)", "blocked + because_item_id", "recommendForAllUsers(N) + anti-join",
        "recommendForAllUsers(N + max excluded) + anti-join + re-rank"};
    for (int i = 0; i < names.length; i++) {
      times.add(new double[runs]);
    }
    // Run 0 warms up the JIT and Spark's code generation and is not counted.
    for (int run = 0; run <= runs; run++) {
      for (int i = 0; i < names.length; i++) {
        long t0 = System.nanoTime();
        Plan plan = switch (i) {
          case 0, 1 -> blocked(spark, model, allUsers, bought, catalogItems, interactions, n, i == 1);
          case 2 -> naive(model, bought, n, n);
          default -> naive(model, bought, n, n + maxExcluded);
        };
        plan.rows().write().format("noop").mode("overwrite").save();
        double seconds = (System.nanoTime() - t0) / 1e9;
        // Counted after the clock stops, once: the row count shows what each approach delivers.
        String rows = run == 0 ? plan.rows().count() + " rows" : "";
        plan.release().run();
        if (run > 0) {
          times.get(i)[run - 1] = seconds;
        }
        System.out.printf(Locale.ROOT, "%s  %-62s %7.2f s  %s%n", run == 0 ? "warm-up" : "run " + run, names[i],
            seconds, rows);
      }
    }
    Dataset<Row> cut = naive(model, bought, n, n).rows();
    long fullUsers = cut.groupBy("user_idx").count().filter(col("count").equalTo(n)).count();
    System.out.printf(Locale.ROOT, "%nmedian of %d runs:%n", runs);
    for (int i = 0; i < names.length; i++) {
      double[] t = times.get(i).clone();
      Arrays.sort(t);
      System.out.printf(Locale.ROOT, "  %-62s %7.2f s%n", names[i], t[t.length / 2]);
    }
    System.out.printf(Locale.ROOT, "users left with fewer than %d rows by recommendForAllUsers(N) + anti-join: %d of %d%n",
        n, userCount - fullUsers, userCount);
    spark.stop();
  }

  /** The rows of one approach (lazy) and what to release once they are written. */
  private record Plan(Dataset<Row> rows, Runnable release) {}

  /** Our ranking, end to end from the model: catalog, broadcast, joins, blocked scoring. */
  private static Plan blocked(SparkSession spark, ALSModel model, Dataset<Row> users, Dataset<Row> bought,
      Dataset<Row> catalogItems, Dataset<Row> interactions, int n, boolean explain) {
    ScoringModel.Catalog catalog = ScoringModel.Catalog.of(catalogItems);
    // No popularity fallback: every benchmarked user has factors.
    ScoringModel scoring = ScoringModel.of(catalog, model.itemFactors(), ScoringModel.Ranking.EMPTY, Map.of());
    Dataset<Row> input = users
        .join(model.userFactors().select(col("id").as("user_idx"), col("features").as("factors")), "user_idx")
        .join(TrainingData.perUser(bought.select("user_idx", "item_idx"), "excluded"),
            new String[] {"user_idx"}, "left")
        .join(explain ? TrainingData.perUser(interactions.select("user_idx", "item_idx"), "history")
            : users.select("user_idx").withColumn("history", lit(null).cast("array<int>")),
            new String[] {"user_idx"}, "left")
        .withColumn("segment", lit(null).cast("string"));
    RankedRows ranked = UserRanker.rankAll(spark, scoring, input, n, 1024, explain);
    return new Plan(ranked.rows(), ranked::release);
  }

  /** recommendForAllUsers(fetch), exploded, anti-joined with what was bought, cut to n per user. */
  private static Plan naive(ALSModel model, Dataset<Row> bought, int n, int fetch) {
    Dataset<Row> recs = model.recommendForAllUsers(fetch)
        .select(col("user_idx"), explode(col("recommendations")).as("r"))
        .select(col("user_idx"), col("r.item_idx").as("item_idx"), col("r.rating").as("score"))
        .join(bought.select("user_idx", "item_idx"), new String[] {"user_idx", "item_idx"}, "left_anti");
    if (fetch > n) {
      recs = recs.withColumn("rank", row_number().over(Window.partitionBy("user_idx")
              .orderBy(col("score").desc(), col("item_idx").asc())))
          .filter(col("rank").leq(n));
    }
    return new Plan(recs, () -> { });
  }

  private static String[] concat(String[] a, String[] b) {
    String[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
