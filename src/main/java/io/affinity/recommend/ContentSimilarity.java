package io.affinity.recommend;

import static org.apache.spark.sql.functions.array_distinct;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.countDistinct;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.length;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.negate;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.trim;
import static org.apache.spark.sql.functions.when;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.feature.CountVectorizer;
import org.apache.spark.ml.feature.IDF;
import org.apache.spark.ml.feature.Normalizer;
import org.apache.spark.ml.feature.RegexTokenizer;
import org.apache.spark.ml.feature.SQLTransformer;
import org.apache.spark.ml.feature.StopWordsRemover;
import org.apache.spark.ml.linalg.SparseVector;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import scala.Tuple2;

/**
 * Content similarity of items from their text: TF-IDF over title, description and category with
 * MLlib, so the dot product of two vectors is their cosine. The terms are chosen so that a shared
 * term says something about what two items are (measured on a real catalog: docs/RECOMMEND.md,
 * "Content text"):
 *
 * <ul>
 *   <li>title and description words are runs of letters standing alone ({@link #WORD}), lower
 *       case, of 2+ letters, English stop words and {@link #FOREIGN_ARTICLES} removed
 *       ({@link StopWordsRemover}): a token with a digit in it ("1995", "500ml", "4k", "mp3") is
 *       dropped whole, since years, sizes and editions make unrelated items look alike;
 *   <li>each category label, split on {@link #CATEGORY_SEPARATORS} ("Sci-Fi|Film-Noir"), is one
 *       term of its own ("category:sci-fi"), never mixed with a title word;
 *   <li>{@link CountVectorizer} keeps a term only when at least {@link #MIN_DF} items have it (a
 *       term of one item cannot make two items alike) and at most {@link #maxDocumentFrequency}
 *       items (a term in more than {@link #MAX_DF_SHARE} of the items carries no identity);
 *       then {@link IDF} and the L2 {@link Normalizer}.
 * </ul>
 *
 * <p>The vectors are sparse (a title has a handful of terms) and collected to the driver: bounded by
 * the catalog. {@link Index} finds an item's most similar items without comparing it with every
 * other item: an inverted index from term to the items that contain it, so only items sharing a
 * term with the query are scored (a blocked sparse product with a bounded top-k per query).
 */
final class ContentSimilarity {
  /** Terms kept by CountVectorizer (the most frequent across items). */
  static final int VOCABULARY = 1 << 18;
  /**
   * A title or description word: a run of letters with no letter or digit on either side, so
   * "500ml", "1080p" and "3D" give nothing (not "ml", "p", "d": a unit names no product) while
   * "X-Men" gives "men" and "Ocean's" gives "ocean".
   */
  static final String WORD = "(?<![\\p{L}\\p{N}])\\p{L}+(?![\\p{L}\\p{N}])";
  /**
   * Stop words beyond the English list: the articles and linking words of French, Spanish, Italian
   * and German titles ("Contempt (Mépris, Le)"), which made films match on "le" alone on
   * ml-latest-small (docs/RECOMMEND.md). Not "die", "den": English words too.
   */
  static final List<String> FOREIGN_ARTICLES = List.of("le", "la", "les", "de", "des", "du", "un", "une", "el",
      "los", "las", "del", "il", "di", "der", "das", "und");
  /** Between two category labels: "|", ";", ",", "/" or ">" (label paths), with any spaces. */
  static final String CATEGORY_SEPARATORS = "\\s*[|;,/>]+\\s*";
  /** Prefix of a category term, so that the label "Drama" and the title word "drama" stay apart. */
  static final String CATEGORY_PREFIX = "category:";
  /** A term counts only when at least this many items have it: a term of one item matches none. */
  static final int MIN_DF = 2;
  /**
   * A term in more than this share of the items is dropped: it says what most items are, not which
   * item this is (on ml-latest-small the genres Drama, Comedy, Thriller, Action; docs/RECOMMEND.md).
   * Would be the config key {@code recommend.content.max-document-share}.
   */
  static final double MAX_DF_SHARE = 0.10;
  /**
   * The share never cuts below this many items: in a catalog of a few dozen items a theme shared by
   * a handful of them is already more than 10 %, and the share tells nothing there.
   */
  static final int MAX_DF_FLOOR = 10;

  private ContentSimilarity() {}

  /**
   * The text of each item: title and description joined with a space (nulls skipped), and its
   * category apart (labels are terms of their own, {@link #CATEGORY_SEPARATORS}).
   *
   * @param items item_idx and any of title, description, category (missing columns count as null)
   * @return item_idx, text, category (both non-null, possibly empty), for items where one of them
   *     is not blank
   */
  static Dataset<Row> texts(Dataset<Row> items) {
    List<String> columns = Arrays.asList(items.columns());
    List<Column> parts = new ArrayList<>();
    for (String c : List.of("title", "description")) {
      if (columns.contains(c)) {
        parts.add(col(c).cast("string")); // concat_ws skips nulls
      }
    }
    Column text = parts.isEmpty() ? lit("") : trim(concat_ws(" ", parts.toArray(new Column[0])));
    Column category = columns.contains("category") ? coalesce(trim(col("category").cast("string")), lit("")) : lit("");
    return items.select(col("item_idx"), text.as("text"), category.as("category"))
        .filter(length(col("text")).gt(0).or(length(col("category")).gt(0)));
  }

  /**
   * {@link #texts(Dataset)} with the descriptions of the event log: an item without a title (none
   * in {@code input.items}, or no items input at all) takes the most frequent description of its
   * event lines ({@link #mostFrequentDescriptions}); an item with a title keeps its title alone, so
   * the items input wins where it says something. "No title" rather than "no text at all": a
   * category alone names a department, not the product, and every item of a department would
   * otherwise match every other by that one term.
   *
   * @param items features/items: item_id, item_idx, title and category (description optional)
   * @param descriptions the history of {@code clean/item_descriptions} (item_id, description,
   *     lines), empty when the event log maps no description column
   * @return item_idx, text, category as {@link #texts(Dataset)} gives them
   */
  static Dataset<Row> texts(Dataset<Row> items, Optional<Dataset<Row>> descriptions) {
    if (descriptions.isEmpty()) {
      return texts(items);
    }
    Column title = Arrays.asList(items.columns()).contains("title") ? col("title").cast("string") : lit(null).cast("string");
    Column untitled = title.isNull().or(length(trim(title)).equalTo(0));
    Column own = Arrays.asList(items.columns()).contains("description") ? col("description") : lit(null).cast("string");
    Dataset<Row> joined = items.join(mostFrequentDescriptions(descriptions.get())
        .withColumnRenamed("description", "_event_description"), new String[] {"item_id"}, "left");
    return texts(joined.withColumn("description", coalesce(own, when(untitled, col("_event_description")))));
  }

  /**
   * Each item's most frequent non-blank description: summed over the partitions of the history,
   * the one on the most lines; a tie goes to the lexicographically smallest (by code point), so
   * the choice does not depend on the order of partitions or tasks. Two aggregations, no collect.
   *
   * @param counts item_id, description, lines (rows of {@code clean/item_descriptions})
   * @return item_id, description: one row per item with a non-blank description
   */
  static Dataset<Row> mostFrequentDescriptions(Dataset<Row> counts) {
    Column best = min(struct(negate(col("lines")).as("minus_lines"), col("description").as("description")));
    return counts.filter(col("description").isNotNull().and(length(trim(col("description"))).gt(0)))
        .groupBy("item_id", "description").agg(sum("lines").as("lines"))
        .groupBy("item_id").agg(best.as("best"))
        .select(col("item_id"), col("best.description").as("description"));
  }

  /**
   * The most items a kept term may be in: {@link #MAX_DF_SHARE} of {@code documents}, but never
   * below {@link #MAX_DF_FLOOR} (nor {@link #MIN_DF}).
   */
  static long maxDocumentFrequency(long documents) {
    return Math.max(Math.max(MAX_DF_FLOOR, MIN_DF), (long) Math.floor(MAX_DF_SHARE * documents));
  }

  /**
   * The stages before {@link CountVectorizer}: {@code text} to {@code words} (stop words removed),
   * {@code category} to labels, both into {@code terms}.
   */
  static PipelineStage[] termStages() {
    RegexTokenizer tokens = new RegexTokenizer().setInputCol("text").setOutputCol("tokens")
        .setPattern(WORD).setGaps(false).setMinTokenLength(2).setToLowercase(true);
    List<String> stopWords = new ArrayList<>(Arrays.asList(StopWordsRemover.loadDefaultStopWords("english")));
    stopWords.addAll(FOREIGN_ARTICLES);
    StopWordsRemover stop = new StopWordsRemover().setInputCol("tokens").setOutputCol("words")
        .setStopWords(stopWords.toArray(new String[0]));
    RegexTokenizer labels = new RegexTokenizer().setInputCol("category").setOutputCol("labels")
        .setPattern(CATEGORY_SEPARATORS).setGaps(true).setMinTokenLength(1).setToLowercase(true);
    // Any run of white space in a label (also a CR left by a CRLF file) becomes one space; a label
    // that is only white space is no term.
    String label = "trim(regexp_replace(l, '\\\\s+', ' '))";
    SQLTransformer terms = new SQLTransformer().setStatement("SELECT *, concat(words, transform(filter("
        + "transform(labels, l -> " + label + "), l -> l != ''), l -> concat('" + CATEGORY_PREFIX + "', l))) AS terms"
        + " FROM __THIS__");
    return new PipelineStage[] {tokens, stop, labels, terms};
  }

  /**
   * The stages after {@link #termStages}: CountVectorizer ({@link #MIN_DF},
   * {@link #maxDocumentFrequency} of {@code documents}), IDF and the L2 norm into {@code v}.
   */
  static PipelineStage[] weightStages(long documents) {
    CountVectorizer tf = new CountVectorizer().setInputCol("terms").setOutputCol("tf").setVocabSize(VOCABULARY)
        .setMinDF(MIN_DF).setMaxDF(maxDocumentFrequency(documents));
    IDF idf = new IDF().setInputCol("tf").setOutputCol("tfidf");
    Normalizer norm = new Normalizer().setInputCol("tfidf").setOutputCol("v").setP(2.0);
    return new PipelineStage[] {tf, idf, norm};
  }

  /** The whole TF-IDF pipeline for a catalog of {@code documents} texts, as {@link #fit} runs it. */
  static Pipeline pipeline(long documents) {
    List<PipelineStage> stages = new ArrayList<>(Arrays.asList(termStages()));
    stages.addAll(Arrays.asList(weightStages(documents)));
    return new Pipeline().setStages(stages.toArray(new PipelineStage[0]));
  }

  /**
   * Fits the TF-IDF pipeline on the texts of the catalog items and indexes the vectors.
   *
   * @param texts item_idx, text, category (from {@link #texts})
   * @param catalog the catalog; items outside it are ignored
   * @return the index; empty (no rows) when no catalog item has a term that another item shares
   */
  static Index fit(Dataset<Row> texts, ScoringModel.Catalog catalog) {
    Dataset<Row> in = texts.select("item_idx", "text", "category");
    Dataset<Row> terms = new Pipeline().setStages(termStages()).fit(in).transform(in).select("item_idx", "terms")
        .cache();
    try {
      long documents = terms.count();
      // CountVectorizer fails on an empty vocabulary; with MIN_DF 2 that is any catalog whose items
      // share no term (one item, or unrelated titles): no vector then, like an item without text.
      boolean anyKept = documents > 0 && !terms.select(explode(array_distinct(col("terms"))).as("term"))
          .groupBy("term").count().filter(col("count").between(MIN_DF, maxDocumentFrequency(documents))).isEmpty();
      if (!anyKept) {
        return Index.of(catalog, new int[0], new int[0][], new float[0][]);
      }
      return index(new Pipeline().setStages(weightStages(documents)).fit(terms).transform(terms), catalog);
    } finally {
      terms.unpersist();
    }
  }

  /**
   * The index of fitted vectors.
   *
   * @param vectors item_idx, v (unit-length vectors, as {@link #pipeline} writes them)
   */
  static Index index(Dataset<Row> vectors, ScoringModel.Catalog catalog) {
    List<Row> rows = vectors.select("item_idx", "v").orderBy("item_idx").collectAsList();
    int[] positions = new int[rows.size()];
    int[][] terms = new int[rows.size()][];
    float[][] weights = new float[rows.size()][];
    int n = 0;
    for (Row r : rows) {
      int p = catalog.position(r.getInt(0));
      SparseVector v = ((Vector) r.get(1)).toSparse();
      if (p < 0 || v.indices().length == 0) {
        continue;
      }
      positions[n] = p;
      terms[n] = v.indices();
      float[] w = new float[v.values().length];
      for (int i = 0; i < w.length; i++) {
        w[i] = (float) v.values()[i];
      }
      weights[n] = w;
      n++;
    }
    return Index.of(catalog, Arrays.copyOf(positions, n), Arrays.copyOf(terms, n), Arrays.copyOf(weights, n));
  }

  /**
   * Which catalog items are new: fewer than {@code maxUsers} distinct users with an event, or no
   * ALS factors in {@code model}.
   *
   * @param events user_idx, item_idx of the events that count (up to the as-of instant)
   */
  static boolean[] newItems(Dataset<Row> events, ScoringModel model, int maxUsers) {
    boolean[] fresh = new boolean[model.catalogSize()];
    for (int p = 0; p < fresh.length; p++) {
      fresh[p] = model.factorRowOf(p) < 0;
    }
    if (maxUsers > 0) {
      Arrays.fill(fresh, true);
      for (Row r : events.groupBy("item_idx").agg(countDistinct("user_idx").as("users"))
          .filter(col("users").geq(maxUsers)).select("item_idx").collectAsList()) {
        int p = model.position(r.getInt(0));
        if (p >= 0 && model.factorRowOf(p) >= 0) {
          fresh[p] = false;
        }
      }
    }
    return fresh;
  }

  /**
   * For every catalog item with text, its {@code k} most content-similar new items (computed on the
   * executors, collected: catalog x k entries), for {@link ScoringModel.NewItems}.
   *
   * @param fresh new items by catalog position
   */
  static ScoringModel.NewItems newItemNeighbours(SparkSession spark, Index index, boolean[] fresh, int k,
      int maxSlots, double minSimilarity, int partitions) {
    int[][] neighbours = new int[fresh.length][];
    float[][] scores = new float[fresh.length][];
    boolean[] target = new boolean[index.rows()];
    boolean any = false;
    for (int r = 0; r < target.length; r++) {
      target[r] = fresh[index.positionOfRow(r)];
      any |= target[r];
    }
    if (!any || maxSlots == 0) {
      return new ScoringModel.NewItems(neighbours, scores, maxSlots, minSimilarity);
    }
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Broadcast<Index> b = jsc.broadcast(index);
    try {
      List<Integer> rows = java.util.stream.IntStream.range(0, index.rows()).boxed().toList();
      List<Tuple2<Integer, Tuple2<int[], float[]>>> found = jsc.parallelize(rows, Math.max(1, partitions))
          .mapPartitions(it -> {
            Index ix = b.value();
            Scratch s = ix.scratch();
            int[] topRows = new int[k];
            float[] topScores = new float[k];
            List<Tuple2<Integer, Tuple2<int[], float[]>>> out = new ArrayList<>();
            while (it.hasNext()) {
              int row = it.next();
              int m = ix.top(row, target, k, s, topRows, topScores);
              if (m > 0) {
                int[] positions = new int[m];
                for (int i = 0; i < m; i++) {
                  positions[i] = ix.positionOfRow(topRows[i]);
                }
                out.add(new Tuple2<>(ix.positionOfRow(row), new Tuple2<>(positions, Arrays.copyOf(topScores, m))));
              }
            }
            return out.iterator();
          }).collect();
      for (Tuple2<Integer, Tuple2<int[], float[]>> f : found) {
        neighbours[f._1()] = f._2()._1();
        scores[f._1()] = f._2()._2();
      }
    } finally {
      b.destroy();
    }
    return new ScoringModel.NewItems(neighbours, scores, maxSlots, minSimilarity);
  }

  /**
   * Unit-length sparse TF-IDF vectors of the items with text, and the inverted index over them.
   * Rows are in ascending catalog position, so a lower row is a lower item idx.
   */
  static final class Index implements Serializable {
    private static final long serialVersionUID = 1L;

    private final int[] positionOfRow;
    private final int[] rowOf;
    private final int[][] terms;
    private final float[][] weights;
    private final int[][] postingRows;
    private final float[][] postingWeights;

    private Index(int catalogSize, int[] positionOfRow, int[][] terms, float[][] weights) {
      this.positionOfRow = positionOfRow;
      this.terms = terms;
      this.weights = weights;
      this.rowOf = new int[catalogSize];
      Arrays.fill(rowOf, -1);
      int vocabulary = 0;
      for (int r = 0; r < positionOfRow.length; r++) {
        rowOf[positionOfRow[r]] = r;
        for (int t : terms[r]) {
          vocabulary = Math.max(vocabulary, t + 1);
        }
      }
      int[] df = new int[vocabulary];
      for (int[] ts : terms) {
        for (int t : ts) {
          df[t]++;
        }
      }
      postingRows = new int[vocabulary][];
      postingWeights = new float[vocabulary][];
      for (int t = 0; t < vocabulary; t++) {
        postingRows[t] = new int[df[t]];
        postingWeights[t] = new float[df[t]];
      }
      int[] fill = new int[vocabulary];
      for (int r = 0; r < terms.length; r++) {
        for (int i = 0; i < terms[r].length; i++) {
          int t = terms[r][i];
          postingRows[t][fill[t]] = r;
          postingWeights[t][fill[t]++] = weights[r][i];
        }
      }
    }

    /**
     * @param positionOfRow catalog position of each vector, strictly ascending
     * @param terms term indices of each vector, ascending
     * @param weights the unit-length vector's value of each term
     */
    static Index of(ScoringModel.Catalog catalog, int[] positionOfRow, int[][] terms, float[][] weights) {
      for (int i = 1; i < positionOfRow.length; i++) {
        if (positionOfRow[i] <= positionOfRow[i - 1]) {
          throw new IllegalArgumentException("content rows must be in ascending catalog order");
        }
      }
      return new Index(catalog.size(), positionOfRow, terms, weights);
    }

    int rows() {
      return positionOfRow.length;
    }

    int positionOfRow(int row) {
      return positionOfRow[row];
    }

    /** Content row of a catalog position, or -1 when the item has no text. */
    int rowOf(int position) {
      return rowOf[position];
    }

    /** Cosine of two rows (dot product of unit vectors, by merging their sorted terms). */
    double cosine(int a, int b) {
      int[] ta = terms[a];
      int[] tb = terms[b];
      double dot = 0;
      int i = 0;
      int j = 0;
      while (i < ta.length && j < tb.length) {
        if (ta[i] == tb[j]) {
          dot += (double) weights[a][i++] * weights[b][j++];
        } else if (ta[i] < tb[j]) {
          i++;
        } else {
          j++;
        }
      }
      return dot;
    }

    /** A reusable scratch space for {@link #top}: one per task. */
    Scratch scratch() {
      return new Scratch(rows());
    }

    /**
     * The k rows with the highest cosine to {@code row} among those sharing a term with it, other
     * than the row itself and only rows with {@code target[row]} when target is not null; best
     * first, ties to the lower row. Rows of cosine 0 never qualify.
     *
     * @return how many rows were found (at most k)
     */
    int top(int row, boolean[] target, int k, Scratch s, int[] outRows, float[] outScores) {
      int touched = 0;
      int[] ts = terms[row];
      for (int i = 0; i < ts.length; i++) {
        float q = weights[row][i];
        int[] pr = postingRows[ts[i]];
        float[] pw = postingWeights[ts[i]];
        for (int j = 0; j < pr.length; j++) {
          int r = pr[j];
          if (r == row || (target != null && !target[r])) {
            continue;
          }
          if (!s.seen[r]) {
            s.seen[r] = true;
            s.touched[touched++] = r;
          }
          s.acc[r] += q * pw[j];
        }
      }
      int found = 0;
      for (int i = 0; i < touched; i++) {
        int r = s.touched[i];
        float v = s.acc[r];
        s.acc[r] = 0f;
        s.seen[r] = false;
        if (v <= 0f) {
          continue;
        }
        // Bounded insertion: outRows/outScores hold the best `found` so far, best first.
        if (found < k || better(v, r, outScores[found - 1], outRows[found - 1])) {
          int at = found < k ? found++ : found - 1;
          while (at > 0 && better(v, r, outScores[at - 1], outRows[at - 1])) {
            outScores[at] = outScores[at - 1];
            outRows[at] = outRows[at - 1];
            at--;
          }
          outScores[at] = v;
          outRows[at] = r;
        }
      }
      return found;
    }

    private static boolean better(float v, int r, float otherV, int otherR) {
      return v > otherV || (v == otherV && r < otherR);
    }
  }

  /** Per-task buffers of {@link Index#top}: accumulated dot products and the rows touched. */
  static final class Scratch {
    final float[] acc;
    final boolean[] seen;
    final int[] touched;

    Scratch(int rows) {
      acc = new float[rows];
      seen = new boolean[rows];
      touched = new int[rows];
    }
  }
}
