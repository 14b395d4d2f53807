package io.affinity.recommend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The blocked top-n against a brute-force ranking, exclusions, short catalogs and ties. */
class BlockTopNTest {

  @Test
  void blockedProductGivesTheBruteForceTopNWithExclusions() {
    SplittableRandom rnd = new SplittableRandom(7);
    int rows = 257;
    int rank = 6;
    int n = 12;
    float[] items = random(rnd, rows * rank);
    // Block size 5 with 23 queries: several full blocks and a partial last one.
    BlockTopN top = new BlockTopN(items, rows, rank, 5, n);
    assertEquals(5, top.blockSize());
    int queries = 23;
    float[][] q = new float[queries][];
    int[][] excluded = new int[queries][];
    for (int u = 0; u < queries; u++) {
      q[u] = random(rnd, rank);
      excluded[u] = rnd.ints(rnd.nextInt(0, 40), 0, rows).distinct().toArray();
    }
    int[] rowsOut = new int[n];
    float[] scoresOut = new float[n];
    for (int start = 0; start < queries; start += top.blockSize()) {
      int count = Math.min(top.blockSize(), queries - start);
      for (int s = 0; s < count; s++) {
        top.setQuery(s, q[start + s]);
      }
      top.multiply(count);
      for (int s = 0; s < count; s++) {
        int u = start + s;
        for (int j : excluded[u]) {
          top.skip()[j] = true;
        }
        int found = top.top(s, n, rowsOut, scoresOut);
        for (int j : excluded[u]) {
          top.skip()[j] = false;
        }
        assertEquals(n, found);
        int[] expected = bruteForce(items, rows, rank, q[u], excluded[u], n);
        assertArrayEquals(expected, Arrays.copyOf(rowsOut, found), "query " + u);
        for (int i = 0; i < found; i++) {
          assertEquals(dot(items, rowsOut[i], rank, q[u]), scoresOut[i], 1e-4, "score of query " + u + " rank " + i);
        }
      }
    }
  }

  @Test
  void returnsFewerRowsOnlyWhenFewerAreLeftAfterExclusion() {
    float[] items = {1f, 2f, 3f, 4f};
    BlockTopN top = new BlockTopN(items, 4, 1, 8, 3);
    top.setQuery(0, new float[] {1f});
    top.multiply(1);
    top.skip()[3] = true;
    top.skip()[1] = true;
    int[] rows = new int[3];
    float[] scores = new float[3];
    assertEquals(2, top.top(0, 3, rows, scores));
    assertArrayEquals(new int[] {2, 0}, Arrays.copyOf(rows, 2));
    assertArrayEquals(new float[] {3f, 1f}, Arrays.copyOf(scores, 2));
  }

  @Test
  void tiesGoToTheLowerRow() {
    float[] items = {1f, 5f, 5f, 5f, 2f};
    BlockTopN top = new BlockTopN(items, 5, 1, 1, 2);
    top.setQuery(0, new float[] {1f});
    top.multiply(1);
    int[] rows = new int[2];
    float[] scores = new float[2];
    assertEquals(2, top.top(0, 2, rows, scores));
    assertArrayEquals(new int[] {1, 2}, rows);
  }

  @Test
  void allEqualLooksAtEveryUnskippedRowNotOnlyTheTopN() {
    // Scores 2, 2, 2, 1 for query 1; 0 everywhere for the zero query.
    float[] items = {2f, 2f, 2f, 1f};
    BlockTopN top = new BlockTopN(items, 4, 1, 2, 2);
    top.setQuery(0, new float[] {1f});
    top.setQuery(1, new float[] {0f});
    top.multiply(2);
    int[] rows = new int[2];
    float[] scores = new float[2];
    top.top(0, 2, rows, scores);
    assertFalse(top.lastScoresAllEqual(), "the top 2 tie, row 3 scores less");
    top.top(1, 2, rows, scores);
    assertTrue(top.lastScoresAllEqual(), "a zero query scores every row 0");
    top.skip()[3] = true;
    top.top(0, 2, rows, scores);
    assertTrue(top.lastScoresAllEqual(), "without row 3 every candidate scores 2");
    top.skip()[0] = true;
    top.skip()[1] = true;
    top.top(0, 2, rows, scores);
    assertFalse(top.lastScoresAllEqual(), "one candidate is not a tie");
  }

  @Test
  void blockSizeIsCappedByTheScoreBuffer() {
    int rows = 100_000;
    BlockTopN top = new BlockTopN(new float[rows], rows, 1, 65_536, 1);
    assertEquals(BlockTopN.MAX_BLOCK_FLOATS / rows, top.blockSize());
  }

  private static int[] bruteForce(float[] items, int rows, int rank, float[] q, int[] excluded, int n) {
    List<Integer> candidates = new ArrayList<>();
    for (int j = 0; j < rows; j++) {
      final int row = j;
      if (Arrays.stream(excluded).noneMatch(e -> e == row)) {
        candidates.add(j);
      }
    }
    candidates.sort(Comparator.<Integer>comparingDouble(j -> -dot(items, j, rank, q)).thenComparing(j -> j));
    return candidates.stream().limit(n).mapToInt(Integer::intValue).toArray();
  }

  private static float dot(float[] items, int row, int rank, float[] q) {
    float s = 0;
    for (int f = 0; f < rank; f++) {
      s += items[row * rank + f] * q[f];
    }
    return s;
  }

  private static float[] random(SplittableRandom rnd, int size) {
    float[] v = new float[size];
    for (int i = 0; i < size; i++) {
      v[i] = (float) rnd.nextGaussian();
    }
    return v;
  }
}
