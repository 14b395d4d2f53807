package io.affinity.recommend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.affinity.testing.SparkTestBase;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * TF-IDF content similarity on five hand-made items, and the similar items it gives alone and
 * blended with ALS factors.
 *
 * <pre>
 * 0 "Aurora Lamp" home      1 "Aurora Mug" kitchen      2 "Steel Mug" kitchen
 * 3 "Aurora Lamp, the"  (no category: "the" is a stop word, so the same terms as 0 bar "home")
 * 4 "Banana"            (shares no term)                5 no text at all
 * </pre>
 *
 * IDF (MLlib: ln((m + 1) / (df + 1)), m = 5 documents): aurora df 3 -> ln(6/4) = 0.405465,
 * lamp df 2 -> ln(6/3) = 0.693147, mug 2 -> 0.693147, kitchen 2 -> 0.693147, home 1 -> ln(6/2) =
 * 1.098612, steel 1 -> 1.098612, banana 1 -> 1.098612.
 * cos(0,3) = (0.405465^2 + 0.693147^2) / (|v0| |v3|) with |v0| = sqrt(0.164402 + 0.480453 + 1.206949)
 * = 1.360810 and |v3| = sqrt(0.164402 + 0.480453) = 0.803029: 0.644855 / 1.092767 = 0.590111.
 * cos(1,2) = (0.480453 + 0.480453) / (|v1| |v2|), |v1| = sqrt(0.164402 + 0.480453 + 0.480453) =
 * 1.060805, |v2| = sqrt(1.206949 + 0.480453 + 0.480453) = 1.472364: 0.960906 / 1.561894 = 0.615218.
 * cos(0,1) = 0.164402 / (1.360810 x 1.060805) = 0.113890.
 */
class ContentSimilarityTest extends SparkTestBase {
  private static final ScoringModel.Catalog CATALOG = new ScoringModel.Catalog(
      new int[] {0, 1, 2, 3, 4, 5}, new String[] {"lamp", "mug", "steel", "lamp2", "banana", "blank"});

  private static ContentSimilarity.Index index() {
    StructType schema = new StructType().add("item_idx", DataTypes.IntegerType).add("title", DataTypes.StringType)
        .add("category", DataTypes.StringType);
    Dataset<Row> items = spark.createDataFrame(List.of(
        RowFactory.create(0, "Aurora Lamp", "home"), RowFactory.create(1, "Aurora Mug", "kitchen"),
        RowFactory.create(2, "Steel Mug", "kitchen"), RowFactory.create(3, "Aurora Lamp, the", null),
        RowFactory.create(4, "Banana", null), RowFactory.create(5, null, " ")), schema);
    return ContentSimilarity.fit(ContentSimilarity.texts(items), CATALOG);
  }

  @Test
  void cosinesOfTfIdfVectorsMatchTheHandComputation() {
    ContentSimilarity.Index ix = index();
    assertEquals(5, ix.rows(), "the item without text has no vector");
    assertEquals(-1, ix.rowOf(5));
    assertEquals(0.590111, ix.cosine(ix.rowOf(0), ix.rowOf(3)), 1e-5);
    assertEquals(0.615218, ix.cosine(ix.rowOf(1), ix.rowOf(2)), 1e-5);
    assertEquals(0.113890, ix.cosine(ix.rowOf(0), ix.rowOf(1)), 1e-5);
    assertEquals(0.0, ix.cosine(ix.rowOf(0), ix.rowOf(4)), 1e-12);

    // The inverted index gives the same, best first, never the item itself or a cosine of 0.
    int[] rows = new int[4];
    float[] scores = new float[4];
    int found = ix.top(ix.rowOf(0), null, 4, ix.scratch(), rows, scores);
    assertEquals(2, found, "lamp shares terms with lamp2 and mug only");
    assertEquals(3, ix.positionOfRow(rows[0]));
    assertEquals(1, ix.positionOfRow(rows[1]));
    assertEquals(0.590111, scores[0], 1e-5);
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
    assertEquals(0.590111, n.scores()[0][0], 1e-5);
    // mug shares "aurora" with lamp2: a neighbour, below min-similarity but listed (the ranker filters).
    assertArrayEquals(new int[] {3}, n.neighbours()[1]);
    assertNull(n.neighbours()[2], "steel shares no term with lamp2");
    assertNull(n.neighbours()[3], "lamp2 is its own only new item");
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
    // 0.590 -> 0.295; mug: 0.5 x 0.6 + 0.5 x 0.114 = 0.357. Top 2: blank, mug.
    assertEquals(List.of("blank 0.5 blend", "mug 0.357 blend"), got.get("lamp"));
    // blank has factors only: ALS cosines lamp 1.0, mug 0.6.
    assertEquals(List.of("lamp 1.0 als", "mug 0.6 als"), got.get("blank"));
    // lamp2 has text only: content. cos(3,1) = 0.164402 / (0.803029 x 1.060805) = 0.192993.
    assertEquals(List.of("lamp 0.59 content", "mug 0.193 content"), got.get("lamp2"));
    assertTrue(got.get("banana") == null, "banana shares no term and has no factors: no rows");

    // The weight grid of the validation: lamp's blend list under each weight from one candidate
    // search. w = 1: ALS cosines blank 1.0, mug 0.6; w = 0: content lamp2 0.590, mug 0.114. Items
    // without a blend list (blank: factors only; lamp2: text only) give no rows.
    RankedRows grid = SimilarItems.blendGrid(spark, model, index(), null, new double[] {0.0, 0.5, 1.0},
        List.of(0, 3, 5), 2, 8, 2);
    Map<Double, List<Integer>> lists = new LinkedHashMap<>();
    for (Row row : grid.rows().orderBy("weight", "rank").collectAsList()) {
      assertEquals(0, row.getInt(0), "only lamp has a blend list");
      lists.computeIfAbsent(row.getDouble(1), k -> new ArrayList<>()).add(row.getInt(3));
    }
    grid.release();
    assertEquals(Map.of(0.0, List.of(3, 1), 0.5, List.of(5, 1), 1.0, List.of(5, 1)), lists);
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
      texts.put(r.getInt(0), r.getString(1));
    }
    assertEquals(Map.of(0, "RED MUG kitchen", 1, "Desk Lamp home", 2, "home"), texts);
    // Without descriptions, the texts are those of the items input alone.
    assertEquals(3, ContentSimilarity.texts(items, java.util.Optional.empty()).count());
    assertEquals("kitchen", ContentSimilarity.texts(items, java.util.Optional.empty())
        .filter("item_idx = 0").first().getString(1));
  }
}
