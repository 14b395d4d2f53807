package io.affinity.segment;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Quintile scores from percentiles, with ties kept together. */
class RfmScoresTest {

  /** Percentiles 1..99 of the values 1..100 (nearest rank). */
  private static double[] percentilesOf(double[] sorted) {
    double[] p = new double[99];
    for (int i = 0; i < 99; i++) {
      int rank = (int) Math.ceil((i + 1) / 100.0 * sorted.length);
      p[i] = sorted[Math.max(0, rank - 1)];
    }
    return p;
  }

  @Test
  void distinctValuesFallIntoFifths() {
    double[] values = new double[100];
    for (int i = 0; i < 100; i++) {
      values[i] = i + 1;
    }
    double[] p = percentilesOf(values);
    int[] counts = new int[6];
    for (double v : values) {
      counts[RfmScores.score(v, p, false)]++;
    }
    assertEquals("[0, 20, 20, 20, 20, 20]", Arrays.toString(counts));
    assertEquals(5, RfmScores.score(1, p, true), "recency: the fewest days is the best score");
    assertEquals(1, RfmScores.score(100, p, true));
    assertEquals(5, RfmScores.score(1e9, p, false), "above every percentile");
    assertEquals(1, RfmScores.score(-5, p, false));
  }

  @Test
  void tiesShareOneScore() {
    // 35 customers ordered once, 15 twice, then 3..52 orders: a third share the lowest score, and
    // nobody who ordered once scores higher than anybody else who did.
    double[] values = new double[100];
    for (int i = 0; i < 100; i++) {
      values[i] = i < 35 ? 1 : i < 50 ? 2 : i - 47;
    }
    double[] p = percentilesOf(values);
    assertEquals(1, RfmScores.score(1, p, false));
    assertEquals(3, RfmScores.score(2, p, false), "mid-rank of the twice-ordered: (35 + 50) / 2 = 42.5 %");
    assertEquals(5, RfmScores.score(52, p, false));
    assertEquals(3, RfmScores.score(7, new double[0], false), "no customers at all: everyone scores 3");
  }
}
