package io.affinity.recommend;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.trim;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.feature.CountVectorizer;
import org.apache.spark.ml.feature.CountVectorizerModel;
import org.apache.spark.ml.feature.IDF;
import org.apache.spark.ml.feature.Normalizer;
import org.apache.spark.ml.feature.RegexTokenizer;
import org.apache.spark.ml.feature.StopWordsRemover;
import org.apache.spark.ml.linalg.SparseVector;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Benchmark, not a test: what the content text rules do on a real catalog, MovieLens latest-small
 * {@code movies.csv} (title with the year, genres {@code |}-separated), found at
 * {@code ../shared/data/ml-latest-small/} from the project root or under {@code $AFFINITY_PUBLIC_DATA};
 * without it the program says so and exits 0. For the rules before issue 30 (split on anything but
 * letters and digits, category words in the text, min DF 1, no max DF), for max-DF shares around the
 * chosen one, and for {@link ContentSimilarity#pipeline} itself, it prints: vocabulary size, items
 * with a vector, the share of items whose best neighbour has a cosine above 0.2, and which terms
 * carried those best matches (the term with the largest part of the pair's cosine), by kind:
 * number, genre, title word. How to run it and what it gave: docs/RECOMMEND.md, "Content text".
 */
public final class ContentTextBenchmark {
  private static final double MATCH = 0.2;
  private static final List<String> PROBES = List.of("Heat (1995)", "Toy Story (1995)", "GoldenEye (1995)",
      "Godfather, The (1972)", "Matrix, The (1999)", "Amelie (Fabuleux destin d'Amélie Poulain, Le) (2001)");

  private ContentTextBenchmark() {}

  public static void main(String[] args) {
    String env = System.getenv("AFFINITY_PUBLIC_DATA");
    Path movies = (env != null ? Path.of(env) : Path.of("../shared/data")).resolve("ml-latest-small/movies.csv");
    if (!Files.exists(movies)) {
      System.out.println("skipped: no " + movies + " (put the public data at ../shared/data/ from the project root"
          + " or set AFFINITY_PUBLIC_DATA)");
      return;
    }
    SparkSession spark = SparkSession.builder().master("local[2]").appName("content-text-benchmark")
        .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4").getOrCreate();
    StructType schema = new StructType().add("movieId", DataTypes.IntegerType).add("title", DataTypes.StringType)
        .add("genres", DataTypes.StringType);
    Dataset<Row> items = spark.read().schema(schema).option("header", "true").option("mode", "FAILFAST")
        .csv(movies.toString()).select(col("movieId").as("item_idx"), trim(col("title")).as("title"),
            trim(col("genres")).as("category"))
        .orderBy("item_idx").cache();
    List<Row> catalogRows = items.collectAsList();
    int[] idx = new int[catalogRows.size()];
    String[] ids = new String[idx.length];
    Map<Integer, String> titles = new HashMap<>();
    for (int i = 0; i < idx.length; i++) {
      idx[i] = catalogRows.get(i).getInt(0);
      ids[i] = String.valueOf(idx[i]);
      titles.put(idx[i], catalogRows.get(i).getString(1));
    }
    ScoringModel.Catalog catalog = new ScoringModel.Catalog(idx, ids);
    System.out.printf(Locale.ROOT, "movies %d from %s%n", idx.length, movies);

    // Before: the text was title and category joined with a space, one tokenizer for both.
    Dataset<Row> before = items.select(col("item_idx"), concat_ws(" ", col("title"), col("category")).as("text"));
    report(spark, "before (split on non-letters-or-digits, min DF 1, no max DF)", catalog, titles, before,
        new Pipeline().setStages(new PipelineStage[] {
            new RegexTokenizer().setInputCol("text").setOutputCol("tokens").setPattern("[^\\p{L}\\p{N}]+")
                .setGaps(true).setMinTokenLength(2).setToLowercase(true),
            new StopWordsRemover().setInputCol("tokens").setOutputCol("terms"),
            vectorizer(1, Double.MAX_VALUE), new IDF().setInputCol("tf").setOutputCol("tfidf"),
            new Normalizer().setInputCol("tfidf").setOutputCol("v").setP(2.0)}));
    Dataset<Row> texts = ContentSimilarity.texts(items).cache();
    long n = texts.count();
    for (double share : new double[] {1.0, 0.2, 0.05}) {
      List<PipelineStage> stages = new ArrayList<>(Arrays.asList(ContentSimilarity.termStages()));
      stages.add(vectorizer(ContentSimilarity.MIN_DF,
          Math.max(ContentSimilarity.MAX_DF_FLOOR, Math.floor(share * n))));
      stages.add(new IDF().setInputCol("tf").setOutputCol("tfidf"));
      stages.add(new Normalizer().setInputCol("tfidf").setOutputCol("v").setP(2.0));
      report(spark, "new rules, max DF share " + share, catalog, titles, texts,
          new Pipeline().setStages(stages.toArray(new PipelineStage[0])));
    }
    report(spark, "after: ContentSimilarity.pipeline (max DF share " + ContentSimilarity.MAX_DF_SHARE + ")", catalog,
        titles, texts, ContentSimilarity.pipeline(n));
    spark.stop();
  }

  private static CountVectorizer vectorizer(double minDf, double maxDf) {
    return new CountVectorizer().setInputCol("terms").setOutputCol("tf").setVocabSize(ContentSimilarity.VOCABULARY)
        .setMinDF(minDf).setMaxDF(maxDf);
  }

  private static void report(SparkSession spark, String name, ScoringModel.Catalog catalog, Map<Integer, String> titles,
      Dataset<Row> texts, Pipeline pipeline) {
    long t0 = System.nanoTime();
    PipelineModel model = pipeline.fit(texts);
    Dataset<Row> vectors = model.transform(texts).select("item_idx", "v").cache();
    ContentSimilarity.Index index = ContentSimilarity.index(vectors, catalog);
    double fitSeconds = (System.nanoTime() - t0) / 1e9;
    String[] vocabulary = null;
    for (org.apache.spark.ml.Transformer t : model.stages()) {
      if (t instanceof CountVectorizerModel cv) {
        vocabulary = cv.vocabulary();
      }
    }
    Map<Integer, SparseVector> byIdx = new HashMap<>();
    for (Row r : vectors.collectAsList()) {
      byIdx.put(r.getInt(0), ((Vector) r.get(1)).toSparse());
    }
    vectors.unpersist();
    int[] rows = new int[1];
    float[] scores = new float[1];
    ContentSimilarity.Scratch scratch = index.scratch();
    int matched = 0;
    Map<String, Integer> carriers = new HashMap<>();
    Map<String, Integer> kinds = new LinkedHashMap<>();
    for (String k : List.of("number", "genre", "title word")) {
      kinds.put(k, 0);
    }
    Map<String, String> probes = new LinkedHashMap<>();
    for (int r = 0; r < index.rows(); r++) {
      if (index.top(r, null, 1, scratch, rows, scores) == 0) {
        continue;
      }
      int a = catalog.itemIdx()[index.positionOfRow(r)];
      int b = catalog.itemIdx()[index.positionOfRow(rows[0])];
      String carrier = carrier(byIdx.get(a), byIdx.get(b), vocabulary);
      if (PROBES.contains(titles.get(a))) {
        probes.put(titles.get(a), String.format(Locale.ROOT, "%s  %.3f  by \"%s\"", titles.get(b), scores[0], carrier));
      }
      if (scores[0] > MATCH) {
        matched++;
        carriers.merge(carrier, 1, Integer::sum);
        kinds.merge(kind(carrier), 1, Integer::sum);
      }
    }
    int items = catalog.itemIdx().length;
    System.out.printf(Locale.ROOT, "%n== %s%nvocabulary %d, items with a vector %d of %d, fit+collect %.1f s%n", name,
        vocabulary.length, index.rows(), items, fitSeconds);
    System.out.printf(Locale.ROOT, "items whose best neighbour has cosine > %.1f: %d (%.1f %%); carried by %s%n", MATCH,
        matched, 100.0 * matched / items, kinds);
    // -Dcarriers=N for more than the first 12.
    System.out.print("terms carrying the most best matches:");
    carriers.entrySet().stream()
        .sorted(Map.Entry.<String, Integer>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey())).limit(Integer.getInteger("carriers", 12))
        .forEach(e -> System.out.print(" " + e.getKey() + " " + e.getValue() + ";"));
    System.out.println();
    probes.forEach((t, m) -> System.out.println("  " + t + " -> " + m));
  }

  /** The term with the largest part of the dot product of two unit vectors. */
  private static String carrier(SparseVector a, SparseVector b, String[] vocabulary) {
    double best = -1;
    String term = "";
    for (int i = 0, j = 0; i < a.indices().length && j < b.indices().length;) {
      if (a.indices()[i] == b.indices()[j]) {
        double part = a.values()[i] * b.values()[j];
        if (part > best) {
          best = part;
          term = vocabulary[a.indices()[i]];
        }
        i++;
        j++;
      } else if (a.indices()[i] < b.indices()[j]) {
        i++;
      } else {
        j++;
      }
    }
    return term;
  }

  private static final List<String> GENRES = List.of("action", "adventure", "animation", "children", "comedy",
      "crime", "documentary", "drama", "fantasy", "film", "noir", "horror", "imax", "musical", "mystery", "romance",
      "sci", "fi", "thriller", "war", "western", "genres", "listed");

  private static String kind(String term) {
    if (term.chars().anyMatch(Character::isDigit)) {
      return "number";
    }
    return term.startsWith(ContentSimilarity.CATEGORY_PREFIX) || GENRES.contains(term) ? "genre" : "title word";
  }
}
