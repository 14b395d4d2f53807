package io.affinity.recommend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.affinity.testing.SparkTestBase;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.Test;

/**
 * Per-user ranking on a hand-made model where every expected row can be worked out on paper:
 * exclusions, the ALS / segment / popular fill order, short catalogs and explanations.
 */
class UserRankerTest extends SparkTestBase {
  // Catalog a..f (idx 10..15); f has no factors. Rank 2.
  private static final ScoringModel.Catalog CATALOG = new ScoringModel.Catalog(
      new int[] {10, 11, 12, 13, 14, 15}, new String[] {"a", "b", "c", "d", "e", "f"});
  private static final float[] FACTORS = {
      1f, 0f,      // a
      0.9f, 0.1f,  // b
      0f, 1f,      // c
      0.1f, 0.9f,  // d
      0.5f, 0.5f}; // e
  private static final ScoringModel.Ranking POPULAR = new ScoringModel.Ranking(
      new int[] {5, 2, 0, 1, 3, 4}, new double[] {0.6, 0.5, 0.4, 0.3, 0.2, 0.1}); // f c a b d e
  private static final ScoringModel.Ranking SEGMENT = new ScoringModel.Ranking(
      new int[] {3, 4}, new double[] {0.9, 0.8}); // d e

  @Test
  void ranksModelUsersByAlsAndColdUsersBySegmentThenOverallPopularity() {
    ScoringModel model = new ScoringModel(CATALOG, 2, new int[] {0, 1, 2, 3, 4}, FACTORS, POPULAR,
        Map.of("s1", SEGMENT));
    List<Row> users = List.of(
        // Scores a 1 (bought), b .9, e .5, d .1, c 0. History a, c.
        user("u1", 1, new float[] {1f, 0f}, List.of(10), List.of(10, 12), null),
        // Cold, segment s1: d is bought, so e from the segment, then f and c overall.
        user("u2", 2, null, List.of(13), null, "s1"),
        // Cold, unknown segment: overall popularity without the bought f and c.
        user("u3", 3, null, List.of(15, 12), null, "s9"),
        // Bought a-d: ALS can only offer e, f has no factors and comes from popularity; 2 rows exist.
        user("u4", 4, new float[] {0f, 1f}, List.of(10, 11, 12, 13), List.of(11), null),
        // Nothing bought, history b: b's own explanation cannot be b itself.
        user("u5", 5, new float[] {1f, 0f}, List.of(), List.of(11), null));

    // Block size 2: two full blocks and a partial one, with cold users mixed in.
    Map<String, List<String>> got = rank(model, users, 2);

    Map<String, List<String>> expected = new LinkedHashMap<>();
    // cos(b,a)=.99 > cos(b,c)=.11; e is equally close to a and c, the lower idx wins; d is closest to c.
    expected.put("u1", List.of("1 b 0.9 als a", "2 e 0.5 als a", "3 d 0.1 als c"));
    expected.put("u2", List.of("1 e 0.8 segment_popular null", "2 f 0.6 popular null", "3 c 0.5 popular null"));
    expected.put("u3", List.of("1 a 0.4 popular null", "2 b 0.3 popular null", "3 d 0.2 popular null"));
    expected.put("u4", List.of("1 e 0.5 als b", "2 f 0.6 popular null"));
    expected.put("u5", List.of("1 a 1.0 als b", "2 b 0.9 als null", "3 e 0.5 als b"));
    assertEquals(expected, got);
  }

  @Test
  void withoutFactorsEveryUserGetsThePopularityBaseline() {
    ScoringModel model = new ScoringModel(CATALOG, 0, new int[0], new float[0], POPULAR, Map.of());
    RankedRows ranked = UserRanker.rankAll(spark, model,
        spark.createDataFrame(List.of(user("u1", 1, null, List.of(15), null, null)), UserRanker.INPUT), 2, 16, false);
    List<String> got = ranked.rows().orderBy("rank").collectAsList().stream()
        .map(r -> r.getString(4) + " " + r.getString(6) + " " + r.getString(7)).toList();
    ranked.release();
    assertEquals(List.of("c popular null", "a popular null"), got);
  }

  @Test
  void newItemsEnterTheLastSlotsByContentUpToTheCapAndNeverWhenExcluded() {
    // f has no factors (new). Content neighbours: a -> f (0.9); c -> f (0.3), e (0.7); e is not
    // new in practice but the neighbour lists decide what content may add. Cap 2 slots, min 0.25.
    int[][] nb = new int[6][];
    float[][] sc = new float[6][];
    nb[0] = new int[] {5};
    sc[0] = new float[] {0.9f};
    nb[2] = new int[] {4, 5};
    sc[2] = new float[] {0.7f, 0.3f};
    ScoringModel model = new ScoringModel(CATALOG, 2, new int[] {0, 1, 2, 3, 4}, FACTORS, POPULAR, Map.of())
        .withNewItems(new ScoringModel.NewItems(nb, sc, 2, 0.25));
    List<Row> users = List.of(
        // History a, c: f by a (0.9) and e by c (0.7) take slots 2 and 3; ALS fills slot 1 with b.
        user("u1", 1, new float[] {1f, 0f}, List.of(10), List.of(10, 12), null),
        // Bought f: only e (by c) can come from content; ALS fills 2 slots. a is orthogonal to the
        // only history item c (cosine 0): nothing explains it.
        user("u2", 2, new float[] {1f, 0f}, List.of(15), List.of(12), null),
        // History without neighbours: ALS only.
        user("u3", 3, new float[] {1f, 0f}, List.of(), List.of(11), null));
    Map<String, List<String>> got = rank(model, users, 4);
    Map<String, List<String>> expected = new LinkedHashMap<>();
    expected.put("u1", List.of("1 b 0.9 als a", "2 f 0.9 content a", "3 e 0.7 content c"));
    expected.put("u2", List.of("1 a 1.0 als null", "2 b 0.9 als c", "3 e 0.7 content c"));
    expected.put("u3", List.of("1 a 1.0 als b", "2 b 0.9 als null", "3 e 0.5 als b"));
    assertEquals(expected, got);
  }

  @Test
  void usersWhoseFactorsRankNothingGetTheFallbackWithItsOwnSources() {
    ScoringModel model = new ScoringModel(CATALOG, 2, new int[] {0, 1, 2, 3, 4}, FACTORS, POPULAR,
        Map.of("s1", SEGMENT));
    List<Row> users = List.of(
        // All-zero factors (every interaction decayed to 0), segment s1, bought d, history a and c:
        // exactly u2's cold rows of the first test. e is as close to a as to c (lower idx a); c's
        // only other history item a is orthogonal to it: no explanation rather than an invented a.
        user("z1", 1, new float[] {0f, 0f}, List.of(13), List.of(10, 12), "s1"),
        // A genuine user in the same block, after an unscored one: its scores must still be its own.
        user("n2", 2, new float[] {1f, 0f}, List.of(10), List.of(10, 12), null),
        // (1, 1) scores every item exactly 1 (each item's factors sum to 1): a constant score vector
        // from a non-zero vector. Without the check: a, b, c as als by item order.
        user("k3", 3, new float[] {1f, 1f}, List.of(), null, null),
        // Non-finite factors rank nothing either.
        user("x4", 4, new float[] {Float.NaN, 1f}, List.of(15), null, null),
        // Bought a-d: only e is a candidate with factors. One candidate is not a tie; the vector is
        // genuine, so e stays als (its one ALS row) and f comes from popularity.
        user("o5", 5, new float[] {0f, 1f}, List.of(10, 11, 12, 13), List.of(11), null));

    Ranked got = rankCounted(model, users, 2);

    Map<String, List<String>> expected = new LinkedHashMap<>();
    expected.put("z1", List.of("1 e 0.8 segment_popular a", "2 f 0.6 popular null", "3 c 0.5 popular null"));
    expected.put("n2", List.of("1 b 0.9 als a", "2 e 0.5 als a", "3 d 0.1 als c"));
    expected.put("k3", List.of("1 f 0.6 popular null", "2 c 0.5 popular null", "3 a 0.4 popular null"));
    expected.put("x4", List.of("1 c 0.5 popular null", "2 a 0.4 popular null", "3 b 0.3 popular null"));
    expected.put("o5", List.of("1 e 0.5 als b", "2 f 0.6 popular null"));
    assertEquals(expected, got.rows());
    assertEquals(3, got.degenerate(), "z1, k3 and x4 fell back; n2 and o5 kept ALS");
  }

  @Test
  void topScoresThatTieButBeatTheRestKeepAls() {
    // a, b, c share one factor vector (items with the same buyers get the same factors), d is
    // weaker, e orthogonal and f zero. For (1, 0) the best three tie exactly, yet they still
    // outrank d, e and f: a ranking, so als. History f (a zero vector): no row has an explanation.
    ScoringModel model = new ScoringModel(CATALOG, 2, new int[] {0, 1, 2, 3, 4, 5},
        new float[] {1f, 0f, 1f, 0f, 1f, 0f, 0.5f, 0f, 0f, 1f, 0f, 0f}, POPULAR, Map.of());
    List<Row> users = List.of(
        user("t1", 1, new float[] {1f, 0f}, List.of(), List.of(15), null),
        // Bought a: b and c tie at the top, d below; the three ALS rows are b, c, d.
        user("t2", 2, new float[] {1f, 0f}, List.of(10), List.of(15), null),
        // Bought a, b, c: d 0.5 and e, f tied at 0 below it, still a ranking.
        user("t3", 3, new float[] {1f, 0f}, List.of(10, 11, 12), List.of(15), null),
        // Bought a-d: e and f both score 0, nothing to rank; popularity gives f first.
        user("t4", 4, new float[] {1f, 0f}, List.of(10, 11, 12, 13), List.of(15), null));

    Ranked got = rankCounted(model, users, 4);

    Map<String, List<String>> expected = new LinkedHashMap<>();
    expected.put("t1", List.of("1 a 1.0 als null", "2 b 1.0 als null", "3 c 1.0 als null"));
    expected.put("t2", List.of("1 b 1.0 als null", "2 c 1.0 als null", "3 d 0.5 als null"));
    expected.put("t3", List.of("1 d 0.5 als null", "2 e 0.0 als null", "3 f 0.0 als null"));
    expected.put("t4", List.of("1 f 0.6 popular null", "2 e 0.1 popular null"));
    assertEquals(expected, got.rows());
    assertEquals(1, got.degenerate());
  }

  /** Top 3 with explanations per user id: "rank item score source because". */
  private static Map<String, List<String>> rank(ScoringModel model, List<Row> users, int blockSize) {
    return rankCounted(model, users, blockSize).rows();
  }

  private record Ranked(Map<String, List<String>> rows, long degenerate) {}

  /** As {@link #rank}, with the fallback count: one action (no sort in Spark, which would run it twice). */
  private static Ranked rankCounted(ScoringModel model, List<Row> users, int blockSize) {
    RankedRows ranked = UserRanker.rankAll(spark, model,
        spark.createDataFrame(users, UserRanker.INPUT).repartition(1), 3, blockSize, true);
    List<Row> rows = new ArrayList<>(ranked.rows().collectAsList());
    long degenerate = ranked.usersDegenerateAls();
    ranked.release();
    rows.sort(Comparator.comparingInt((Row r) -> r.getInt(1)).thenComparingInt(r -> r.getInt(2)));
    Map<String, List<String>> got = new LinkedHashMap<>();
    for (Row r : rows) {
      got.computeIfAbsent(r.getString(0), k -> new ArrayList<>()).add(
          r.getInt(2) + " " + r.getString(4) + " " + round(r.getDouble(5)) + " " + r.getString(6) + " " + r.getString(7));
    }
    return new Ranked(got, degenerate);
  }

  private static Row user(String id, int idx, float[] factors, List<Integer> excluded, List<Integer> history,
      String segment) {
    List<Float> f = null;
    if (factors != null) {
      f = new ArrayList<>();
      for (float v : factors) {
        f.add(v);
      }
    }
    return RowFactory.create(id, idx, f, excluded, history, segment);
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }
}
