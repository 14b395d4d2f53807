package io.affinity.recommend;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.row_number;

import io.affinity.sample.SampleGenerator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Benchmark, not a test: the content similarity of stage recommend alone, at a given catalog size.
 * Generates the catalog with the project's generator (titles "adjective noun" from a small
 * vocabulary per category, so terms are shared by many items: a hard case for an inverted index),
 * then times, {@code --runs} times after one warm-up round (median reported): the TF-IDF fit with
 * the collect of the vectors, and the top-{@code --n} content-similar items of every item written
 * to {@code noop}. How to run it: docs/BENCHMARKS.md.
 */
public final class ContentSimilarityBenchmark {
  private ContentSimilarityBenchmark() {}

  /** {@code --items 41666 --n 10 --runs 3 --dir /tmp/affinity-content-bench --master local[2]}. */
  public static void main(String[] args) throws IOException {
    Map<String, String> a = new HashMap<>(Map.of("--items", "41666", "--n", "10", "--runs", "3",
        "--dir", "/tmp/affinity-content-bench", "--master", "local[2]"));
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!a.containsKey(args[i])) {
        throw new IllegalArgumentException("unknown option " + args[i] + "; options: " + a.keySet());
      }
      a.put(args[i], args[i + 1]);
    }
    int items = Integer.parseInt(a.get("--items"));
    int n = Integer.parseInt(a.get("--n"));
    int runs = Integer.parseInt(a.get("--runs"));
    Path data = Path.of(a.get("--dir")).resolve("items-" + items);
    if (!Files.exists(data.resolve("items.csv"))) {
      SampleGenerator.generate(new SampleGenerator.Options(data, 20, items, 10, 31, LocalDate.of(2026, 11, 20), 0, 42,
          false));
    }
    SparkSession spark = SparkSession.builder().master(a.get("--master")).appName("content-benchmark")
        .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "8").getOrCreate();
    StructType schema = new StructType().add("item_id", DataTypes.StringType).add("category", DataTypes.StringType)
        .add("price", DataTypes.StringType).add("title", DataTypes.StringType);
    Dataset<Row> raw = spark.read().schema(schema).option("header", "true").option("escape", "\"")
        .csv(data.resolve("items.csv").toString());
    Dataset<Row> catalogItems = raw.withColumn("item_idx", row_number().over(Window.orderBy("item_id")).minus(1))
        .select(col("item_idx"), col("item_id"), col("title"), col("category")).cache();
    ScoringModel.Catalog catalog = ScoringModel.Catalog.of(catalogItems);
    ScoringModel model = new ScoringModel(catalog, 0, new int[0], new float[0], ScoringModel.Ranking.EMPTY, Map.of());

    List<double[]> times = new ArrayList<>();
    long rows = 0;
    int withText = 0;
    for (int run = 0; run <= runs; run++) {
      long t0 = System.nanoTime();
      ContentSimilarity.Index index = ContentSimilarity.fit(ContentSimilarity.texts(catalogItems), catalog);
      long t1 = System.nanoTime();
      RankedRows similar = SimilarItems.compute(spark, model, index, 0.5, null, n, 1024, 8);
      similar.rows().write().format("noop").mode("overwrite").save();
      long t2 = System.nanoTime();
      rows = similar.rows().count();
      similar.release();
      withText = index.rows();
      if (run > 0) {
        times.add(new double[] {(t1 - t0) / 1e9, (t2 - t1) / 1e9});
      }
    }
    System.out.printf(Locale.ROOT, "items %d (with text %d), similar-item rows %d%n", items, withText, rows);
    System.out.printf(Locale.ROOT, "TF-IDF fit + collect: median %.2f s; similar items (top %d): median %.2f s%n",
        median(times, 0), n, median(times, 1));
    spark.stop();
  }

  private static double median(List<double[]> times, int column) {
    double[] v = times.stream().mapToDouble(t -> t[column]).sorted().toArray();
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }
}
