package io.affinity.recommend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.affinity.sample.ContentProfile;
import io.affinity.sample.SampleGenerator;
import io.affinity.testing.SparkTestBase;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TF-IDF content similarity on five hand-made items, and the similar items it gives alone and
 * blended with ALS factors; then the token rules on small catalogs built to fail under looser rules.
 *
 * <pre>
 * 0 "Aurora Lamp" home      1 "Aurora Mug" kitchen      2 "Steel Mug" kitchen
 * 3 "Aurora Lamp, the" kitchen  ("the" is a stop word)  4 "Banana"      5 no text at all
 * </pre>
 *
 * Terms (min DF 2): home, steel and banana are in one item each and are dropped, so banana has no
 * vector. IDF (MLlib: ln((m + 1) / (df + 1)), m = 5 documents): aurora df 3 -> ln(6/4) = 0.405465,
 * lamp df 2 -> ln(6/3) = 0.693147, mug 2 -> 0.693147, category:kitchen 3 -> 0.405465.
 * |v0| = sqrt(0.164402 + 0.480453) = 0.803029, |v3| = |v1| = sqrt(0.164402 + 0.480453 + 0.164402)
 * = 0.899587, |v2| = sqrt(0.480453 + 0.164402) = 0.803029.
 * cos(0,3) = (0.164402 + 0.480453) / (0.803029 x 0.899587) = 0.644855 / 0.722394 = 0.892663;
 * cos(1,2) = (0.480453 + 0.164402) / 0.722394 = 0.892663; cos(0,1) = 0.164402 / 0.722394 = 0.227579;
 * cos(3,1) = (0.164402 + 0.164402) / 0.809257 = 0.406302; cos(3,2) = 0.164402 / 0.722394 = 0.227579.
 */
class ContentSimilarityTest extends SparkTestBase {
  private static final ScoringModel.Catalog CATALOG = new ScoringModel.Catalog(
      new int[] {0, 1, 2, 3, 4, 5}, new String[] {"lamp", "mug", "steel", "lamp2", "banana", "blank"});

  private static ContentSimilarity.Index index() {
    StructType schema = new StructType().add("item_idx", DataTypes.IntegerType).add("title", DataTypes.StringType)
        .add("category", DataTypes.StringType);
    Dataset<Row> items = spark.createDataFrame(List.of(
        RowFactory.create(0, "Aurora Lamp", "home"), RowFactory.create(1, "Aurora Mug", "kitchen"),
        RowFactory.create(2, "Steel Mug", "kitchen"), RowFactory.create(3, "Aurora Lamp, the", "kitchen"),
        RowFactory.create(4, "Banana", null), RowFactory.create(5, null, " ")), schema);
    return ContentSimilarity.fit(ContentSimilarity.texts(items), CATALOG);
  }

  @Test
  void cosinesOfTfIdfVectorsMatchTheHandComputation() {
    ContentSimilarity.Index ix = index();
    assertEquals(4, ix.rows(), "banana (a term of one item only) and the item without text have no vector");
    assertEquals(-1, ix.rowOf(5));
    assertEquals(-1, ix.rowOf(4));
    assertEquals(0.892663, ix.cosine(ix.rowOf(0), ix.rowOf(3)), 1e-5);
    assertEquals(0.892663, ix.cosine(ix.rowOf(1), ix.rowOf(2)), 1e-5);
    assertEquals(0.227579, ix.cosine(ix.rowOf(0), ix.rowOf(1)), 1e-5);
    assertEquals(0.0, ix.cosine(ix.rowOf(0), ix.rowOf(2)), 1e-12);

    // The inverted index gives the same, best first, never the item itself or a cosine of 0.
    int[] rows = new int[4];
    float[] scores = new float[4];
    int found = ix.top(ix.rowOf(0), null, 4, ix.scratch(), rows, scores);
    assertEquals(2, found, "lamp shares terms with lamp2 and mug only");
    assertEquals(3, ix.positionOfRow(rows[0]));
    assertEquals(1, ix.positionOfRow(rows[1]));
    assertEquals(0.892663, scores[0], 1e-5);
    // With a target mask, only targets qualify.
    boolean[] onlyMug = new boolean[ix.rows()];
    onlyMug[ix.rowOf(1)] = true;
    assertEquals(1, ix.top(ix.rowOf(0), onlyMug, 4, ix.scratch(), rows, scores));
    assertEquals(1, ix.positionOfRow(rows[0]));
  }

  @Test
  void newItemNeighboursListOnlyNewItemsBestFirst() {
    ContentSimilarity.Index ix = index();
    boolean[] fresh = {false, false, false, true, false, false};
    ScoringModel.NewItems n = ContentSimilarity.newItemNeighbours(spark, ix, fresh, 5, 2, 0.2, 2);
    assertArrayEquals(new int[] {3}, n.neighbours()[0]);
    assertEquals(0.892663, n.scores()[0][0], 1e-5);
    assertArrayEquals(new int[] {3}, n.neighbours()[1]);
    assertEquals(0.406302, n.scores()[1][0], 1e-5);
    // steel shares only the category with lamp2: a neighbour, listed (the ranker filters by min-similarity).
    assertArrayEquals(new int[] {3}, n.neighbours()[2]);
    assertEquals(0.227579, n.scores()[2][0], 1e-5);
    assertNull(n.neighbours()[3], "lamp2 is its own only new item");
    assertNull(n.neighbours()[4], "banana has no vector");
  }

  @Test
  void similarItemsUseAlsContentOrTheirBlendByWhatEachItemHas() {
    // Factors for 0, 1, 2 and 5 only: 0 = (1, 0), 1 = (0.6, 0.8), 2 = (0, 1), 5 = (1, 0).
    ScoringModel model = new ScoringModel(CATALOG, 2, new int[] {0, 1, 2, 5},
        new float[] {1f, 0f, 0.6f, 0.8f, 0f, 1f, 1f, 0f}, ScoringModel.Ranking.EMPTY, Map.of());
    RankedRows r = SimilarItems.compute(spark, model, index(), 0.5, null, 2, 8, 2);
    Map<String, List<String>> got = new LinkedHashMap<>();
    for (Row row : r.rows().orderBy("item_id", "rank").collectAsList()) {
      got.computeIfAbsent(row.getString(0), k -> new ArrayList<>()).add(
          row.getString(2) + " " + Math.round(row.getDouble(3) * 1000) / 1000.0 + " " + row.getString(4));
    }
    r.release();
    // lamp (factors + text): blend 0.5 x ALS + 0.5 x content. blank: ALS cos 1 -> 0.5; lamp2: content
    // 0.892663 -> 0.446; mug: 0.5 x 0.6 + 0.5 x 0.227579 = 0.414. Top 2: blank, lamp2.
    assertEquals(List.of("blank 0.5 blend", "lamp2 0.446 blend"), got.get("lamp"));
    // blank has factors only: ALS cosines lamp 1.0, mug 0.6.
    assertEquals(List.of("lamp 1.0 als", "mug 0.6 als"), got.get("blank"));
    // lamp2 has text only: content, lamp 0.892663 and mug 0.406302 (steel 0.227579 is third).
    assertEquals(List.of("lamp 0.893 content", "mug 0.406 content"), got.get("lamp2"));
    assertTrue(got.get("banana") == null, "banana has no vector and no factors: no rows");

    // The weight grid of the validation: lamp's blend list under each weight from one candidate
    // search. w = 1: ALS cosines blank 1.0, mug 0.6; w = 0.5: blank 0.5, lamp2 0.446; w = 0: content
    // lamp2 0.893, mug 0.228. Items
    // without a blend list (blank: factors only; lamp2: text only) give no rows.
    RankedRows grid = SimilarItems.blendGrid(spark, model, index(), null, new double[] {0.0, 0.5, 1.0},
        List.of(0, 3, 5), 2, 8, 2);
    Map<Double, List<Integer>> lists = new LinkedHashMap<>();
    for (Row row : grid.rows().orderBy("weight", "rank").collectAsList()) {
      assertEquals(0, row.getInt(0), "only lamp has a blend list");
      lists.computeIfAbsent(row.getDouble(1), k -> new ArrayList<>()).add(row.getInt(3));
    }
    grid.release();
    assertEquals(Map.of(0.0, List.of(3, 1), 0.5, List.of(5, 3), 1.0, List.of(5, 1)), lists);
  }

  @Test
  void anItemWithoutTitleTakesTheMostFrequentDescriptionOfItsEventLinesTiesToTheSmallest() {
    StructType counts = new StructType().add("item_id", DataTypes.StringType).add("description", DataTypes.StringType)
        .add("lines", DataTypes.LongType);
    // The history of clean/item_descriptions, two partitions: a's "RED MUG" has 2 + 1 lines against
    // "BLUE MUG"'s 2 (the sum over partitions decides); b's two descriptions have 2 lines each (the
    // lexicographically smaller wins, although the larger comes first); c's only one is blank.
    Dataset<Row> history = spark.createDataFrame(List.of(
        RowFactory.create("a", "RED MUG", 2L), RowFactory.create("a", "BLUE MUG", 2L),
        RowFactory.create("b", "ZEBRA LAMP", 2L), RowFactory.create("b", "APPLE LAMP", 2L),
        RowFactory.create("c", "  ", 5L), RowFactory.create("d", "CANDLE", 1L),
        RowFactory.create("a", "RED MUG", 1L)), counts);
    Map<String, String> best = new java.util.TreeMap<>();
    for (Row r : ContentSimilarity.mostFrequentDescriptions(history).collectAsList()) {
      assertTrue(best.put(r.getString(0), r.getString(1)) == null, "one row per item");
    }
    assertEquals(Map.of("a", "RED MUG", "b", "APPLE LAMP", "d", "CANDLE"), best);

    // a has no title: its description joins its category; b keeps its title (the items input wins);
    // c has a blank title and no usable description; e has nothing at all.
    StructType itemSchema = new StructType().add("item_id", DataTypes.StringType).add("item_idx", DataTypes.IntegerType)
        .add("title", DataTypes.StringType).add("category", DataTypes.StringType);
    Dataset<Row> items = spark.createDataFrame(List.of(
        RowFactory.create("a", 0, null, "kitchen"), RowFactory.create("b", 1, "Desk Lamp", "home"),
        RowFactory.create("c", 2, " ", "home"), RowFactory.create("e", 3, null, null)), itemSchema);
    Map<Integer, String> texts = new java.util.TreeMap<>();
    for (Row r : ContentSimilarity.texts(items, java.util.Optional.of(history)).collectAsList()) {
      texts.put(r.getInt(0), r.getString(1) + " / " + r.getString(2));
    }
    // The category stays apart from the text (its labels are terms of their own).
    assertEquals(Map.of(0, "RED MUG / kitchen", 1, "Desk Lamp / home", 2, " / home"), texts);
    // Without descriptions, the texts are those of the items input alone.
    assertEquals(3, ContentSimilarity.texts(items, java.util.Optional.empty()).count());
    assertEquals("kitchen", ContentSimilarity.texts(items, java.util.Optional.empty())
        .filter("item_idx = 0").first().getString(2));
  }

  @Test
  void termsAreWordsOfLettersAndWholeCategoryLabels() {
    StructType schema = new StructType().add("item_idx", DataTypes.IntegerType).add("text", DataTypes.StringType)
        .add("category", DataTypes.StringType);
    Dataset<Row> in = spark.createDataFrame(List.of(
        RowFactory.create(0, "Heat (1995) 500ml 4K X-Men: Ocean's Eleven of the Mp3 (Mépris, Le)",
            " Sci-Fi|Film-Noir ; Home \t & Kitchen|\r|"),
        RowFactory.create(1, "", "")), schema);
    List<Row> rows = new org.apache.spark.ml.Pipeline().setStages(ContentSimilarity.termStages()).fit(in).transform(in)
        .orderBy("item_idx").select("terms").collectAsList();
    // Numbers, years and sizes are dropped whole ("500ml" is not "ml"); one-letter words, English stop
    // words and foreign articles ("le") go.
    assertEquals(List.of("heat", "men", "ocean", "eleven", "mépris", "category:sci-fi", "category:film-noir",
        "category:home & kitchen"), rows.get(0).getList(0));
    assertEquals(List.of(), rows.get(1).getList(0));
  }

  @Test
  void titlesSharingOnlyAYearOrASizeAreNotAlike() {
    // Each word is in two items (so min DF keeps it); the years and sizes are shared too.
    ScoringModel.Catalog catalog = new ScoringModel.Catalog(new int[] {0, 1, 2, 3, 4, 5},
        new String[] {"heat", "jumanji", "heat2", "jumanji2", "mug", "mug2"});
    ContentSimilarity.Index ix = ContentSimilarity.fit(ContentSimilarity.texts(titled(List.of(
        "Heat (1995)", "Jumanji (1995)", "Heat 500ml", "Jumanji 500ml", "Mug 4K", "Mug 4k"), null)), catalog);
    assertEquals(0.0, ix.cosine(ix.rowOf(0), ix.rowOf(1)), 1e-12, "only the year 1995 in common");
    assertEquals(0.0, ix.cosine(ix.rowOf(2), ix.rowOf(3)), 1e-12, "only the size 500ml in common");
    assertEquals(1.0, ix.cosine(ix.rowOf(0), ix.rowOf(2)), 1e-6, "heat is all that is left of both");
    assertEquals(1.0, ix.cosine(ix.rowOf(4), ix.rowOf(5)), 1e-6, "4K and 4k are not terms");
    int[] rows = new int[5];
    float[] scores = new float[5];
    assertEquals(1, ix.top(ix.rowOf(0), null, 5, ix.scratch(), rows, scores));
    assertEquals(2, ix.positionOfRow(rows[0]));
  }

  @Test
  void aTermInNearlyEveryItemDoesNotCountButARareOneDoes() {
    // 24 items in one category: 22 titles "Deluxe <word>", each word in two of them, plus "Kilo
    // Plain" and "Plain Lantern". deluxe (22 items) and category:home (24) are above max(10, 10 % of 24) = 10.
    List<String> titles = new ArrayList<>();
    String[] words = {"Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India", "Juliet",
        "Kilo"};
    for (int i = 0; i < 22; i++) {
      titles.add("Deluxe " + words[i / 2]);
    }
    titles.add("Kilo Plain");
    titles.add("Plain Lantern");
    int[] idx = java.util.stream.IntStream.range(0, titles.size()).toArray();
    ScoringModel.Catalog catalog = new ScoringModel.Catalog(idx,
        java.util.stream.IntStream.range(0, titles.size()).mapToObj(i -> "item" + i).toArray(String[]::new));
    ContentSimilarity.Index ix = ContentSimilarity.fit(ContentSimilarity.texts(titled(titles, "home")), catalog);
    assertEquals(10, ContentSimilarity.maxDocumentFrequency(titles.size()));
    assertEquals(0.0, ix.cosine(ix.rowOf(0), ix.rowOf(2)), 1e-12, "Deluxe Alpha and Deluxe Bravo share only deluxe");
    assertEquals(1.0, ix.cosine(ix.rowOf(0), ix.rowOf(1)), 1e-6, "Deluxe Alpha twice: alpha is rare, they match");
    // kilo is in 3 items, plain in 2, lantern in 1 (dropped): Plain Lantern is plain alone, so
    // cos(Kilo Plain, Plain Lantern) = idf(plain) / |(idf kilo, idf plain)| = 2.120 / 2.800 = 0.757.
    assertEquals(0.757, ix.cosine(ix.rowOf(22), ix.rowOf(23)), 1e-3, "plain is in two items only");
    assertEquals(0.653, ix.cosine(ix.rowOf(20), ix.rowOf(22)), 1e-3, "kilo is shared");
  }

  @Test
  void maxDocumentFrequencyIsAShareOfTheCatalogWithAFloor() {
    assertEquals(10, ContentSimilarity.maxDocumentFrequency(5));
    assertEquals(10, ContentSimilarity.maxDocumentFrequency(103));
    assertEquals(974, ContentSimilarity.maxDocumentFrequency(9742));
  }

  @Test
  void aCatalogWhoseItemsShareNoTermHasNoVectors() {
    ScoringModel.Catalog catalog = new ScoringModel.Catalog(new int[] {0, 1}, new String[] {"a", "b"});
    ContentSimilarity.Index ix = ContentSimilarity.fit(ContentSimilarity.texts(titled(List.of("Heat (1995)",
        "Jumanji (1995)"), null)), catalog);
    assertEquals(0, ix.rows(), "CountVectorizer would fail on the empty vocabulary");
  }

  @Test
  void thePlantedThemeOfRecommendStageItsCatalogStillMatchesAndCategoriesAloneDoNot(@TempDir Path dir)
      throws java.io.IOException {
    // RecommendStageIT's catalog: 100 generated items in 6 categories (about 17 each, above the
    // 10-item cut), then 3 themed items renamed "Aurora Borealis <noun>" and 3 new ones.
    java.time.LocalDate runDate = java.time.LocalDate.of(2026, 11, 20);
    SampleGenerator.generate(new SampleGenerator.Options(dir, 300, 100, 6, 90, runDate, 0, 42, false));
    ContentProfile.Planted planted = ContentProfile.plant(dir, runDate);
    StructType schema = new StructType().add("item_id", DataTypes.StringType).add("category", DataTypes.StringType)
        .add("price", DataTypes.StringType).add("title", DataTypes.StringType);
    List<Row> rows = spark.read().schema(schema).option("header", "true").option("escape", "\"")
        .csv(dir.resolve("items.csv").toString()).orderBy("item_id").collectAsList();
    List<Row> items = new ArrayList<>();
    String[] ids = new String[rows.size()];
    Map<String, Integer> idx = new java.util.HashMap<>();
    for (int i = 0; i < rows.size(); i++) {
      ids[i] = rows.get(i).getString(0);
      idx.put(ids[i], i);
      items.add(RowFactory.create(i, rows.get(i).getString(3), rows.get(i).getString(1)));
    }
    StructType itemSchema = new StructType().add("item_idx", DataTypes.IntegerType).add("title", DataTypes.StringType)
        .add("category", DataTypes.StringType);
    ScoringModel.Catalog catalog = new ScoringModel.Catalog(java.util.stream.IntStream.range(0, ids.length).toArray(), ids);
    ContentSimilarity.Index ix = ContentSimilarity.fit(ContentSimilarity.texts(spark.createDataFrame(items, itemSchema)),
        catalog);
    List<String> theme = new ArrayList<>(planted.themed());
    theme.addAll(planted.newItems());
    for (String a : theme) {
      for (String b : theme) {
        if (!a.equals(b)) {
          assertTrue(ix.cosine(ix.rowOf(idx.get(a)), ix.rowOf(idx.get(b))) > 0.5, a + " and " + b + " share the theme");
        }
      }
    }
    // Each new item's best neighbour is of the theme; no pair that shares no title word matches,
    // unless both are in a category of at most 10 items (which is then a rare term).
    int[] top = new int[1];
    float[] score = new float[1];
    for (String fresh : planted.newItems()) {
      assertEquals(1, ix.top(ix.rowOf(idx.get(fresh)), null, 1, ix.scratch(), top, score));
      assertTrue(theme.contains(ids[ix.positionOfRow(top[0])]), fresh + " -> " + ids[ix.positionOfRow(top[0])]);
    }
    Map<String, Integer> categorySize = new java.util.HashMap<>();
    rows.forEach(r -> categorySize.merge(r.getString(1), 1, Integer::sum));
    int large = 0;
    for (int a = 0; a < ids.length; a++) {
      for (int b = a + 1; b < ids.length; b++) {
        Set<String> shared = words(rows.get(a).getString(3));
        shared.retainAll(words(rows.get(b).getString(3)));
        // A category of at most 10 items here is a term like any rare word, and may match.
        boolean smallCategory = rows.get(a).getString(1).equals(rows.get(b).getString(1))
            && categorySize.get(rows.get(a).getString(1)) <= ContentSimilarity.maxDocumentFrequency(ids.length);
        if (shared.isEmpty() && !smallCategory && ix.rowOf(a) >= 0 && ix.rowOf(b) >= 0) {
          large++;
          assertEquals(0.0, ix.cosine(ix.rowOf(a), ix.rowOf(b)), 1e-12, rows.get(a) + " / " + rows.get(b));
        }
      }
    }
    assertTrue(large > 1000, "pairs checked: " + large + ", categories " + categorySize);
    assertTrue(categorySize.get(rows.get(idx.get(planted.newItems().get(0))).getString(1)) > 10,
        "the planted category is above the cut: " + categorySize);
  }

  private static Set<String> words(String title) {
    Set<String> out = new java.util.HashSet<>();
    for (String w : title.toLowerCase(java.util.Locale.ROOT).split("[^\\p{L}]+")) {
      if (w.length() >= 2) {
        out.add(w);
      }
    }
    return out;
  }

  /** item_idx 0.. with these titles, all of one category (null: none). */
  private static Dataset<Row> titled(List<String> titles, String category) {
    StructType schema = new StructType().add("item_idx", DataTypes.IntegerType).add("title", DataTypes.StringType)
        .add("category", DataTypes.StringType);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < titles.size(); i++) {
      rows.add(RowFactory.create(i, titles.get(i), category));
    }
    return spark.createDataFrame(rows, schema);
  }
}
