package io.affinity.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The decision rule on replicate means worked out by hand (row 0 the sample, then the replicates). */
class PairedBootstrapTest {
  /** Replicates r = 1..n with the candidates' means shifted by the given offsets times (r - mid). */
  private static double[][] means(double[] sample, double[] spread, int replicates) {
    double[][] m = new double[replicates + 1][sample.length];
    m[0] = sample.clone();
    for (int r = 1; r <= replicates; r++) {
      double z = (r - (replicates + 1) / 2.0) / replicates; // -0.5 .. 0.5, symmetric
      for (int c = 0; c < sample.length; c++) {
        m[r][c] = sample[c] + spread[c] * z;
      }
    }
    return m;
  }

  @Test
  void aClearWinnerIsPublished() {
    // b is 0.05 above a; its spread (+-0.01) never reaches a: b is published.
    PairedBootstrap.Decision d = PairedBootstrap.choose("family", "ndcg", List.of("a", "b"),
        means(new double[] {0.10, 0.15}, new double[] {0.0, 0.02}, 101), 0.95);
    assertEquals("b", d.chosen());
    assertTrue(d.decided());
    double[] iv = d.options().get(1).vsSimplest();
    assertTrue(iv[0] > 0.039 && iv[1] < 0.061, iv[0] + " .. " + iv[1]);
  }

  @Test
  void aGainInsideTheNoiseGoesToTheSimpler() {
    // c has the highest mean but its gain over a (0.01) is inside a spread of +-0.05: a wins,
    // although b is worse than a.
    PairedBootstrap.Decision d = PairedBootstrap.choose("slots", "ndcg", List.of("a", "b", "c"),
        means(new double[] {0.10, 0.09, 0.11}, new double[] {0.0, 0.0, 0.1}, 101), 0.95);
    assertEquals("a", d.chosen());
    assertTrue(d.reason().contains("inside the noise"), d.reason());
  }

  @Test
  void theSimplestCandidateTheBestDoesNotBeatIsChosen() {
    // c beats a clearly but not b: b is published, the simplest that c does not beat.
    PairedBootstrap.Decision d = PairedBootstrap.choose("family", "ndcg", List.of("a", "b", "c"),
        means(new double[] {0.05, 0.119, 0.12}, new double[] {0.0, 0.0, 0.01}, 101), 0.95);
    assertEquals("b", d.chosen());
  }

  @Test
  void tiesGoToTheSimplestAndTooFewUsersDecideNothing() {
    assertEquals("a", PairedBootstrap.choose("x", "ndcg", List.of("a", "b"),
        means(new double[] {0.1, 0.1}, new double[] {0, 0}, 11), 0.95).chosen());
    PairedBootstrap.Decision u = PairedBootstrap.Decision.undecided("x", "ndcg", List.of("a", "b"), "3 evaluated users");
    assertEquals("a", u.chosen());
    assertFalse(u.decided());
    assertTrue(u.reason().startsWith("not measured: 3 evaluated users"), u.reason());
  }
}
