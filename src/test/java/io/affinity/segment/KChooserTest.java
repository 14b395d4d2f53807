package io.affinity.segment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.affinity.config.ConfigLoader;
import io.affinity.config.ConfigReader;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The choice of k on hand-made candidates (no Spark: a candidate is its sizes and silhouette). */
class KChooserTest {

  private static KChooser chooser(String... overrides) {
    return new KChooser(settings(overrides));
  }

  private static SegmentSettings settings(String... overrides) {
    Map<String, String> o = new HashMap<>();
    for (int i = 0; i < overrides.length; i += 2) {
      o.put(overrides[i], overrides[i + 1]);
    }
    return SegmentSettings.from(new ConfigReader(ConfigLoader.load(null, o)));
  }

  private static KMeansFitter.Candidate fit(double cost, double silhouette, long... sizes) {
    return new KMeansFitter.Candidate(sizes.length, new KMeansFitter.Fit(null, cost, sizes, 10, new double[] {cost}, null),
        silhouette);
  }

  @Test
  void hysteresisKeepsTheWarmFitUnlessTheFreshOneIsBetterBeyondTheMargins() {
    SegmentSettings s = settings();
    double costMargin = s.warmStartTolerance();
    long[] even = {25, 25, 25, 25};
    KMeansFitter.Candidate warm = fit(1000, 0.60, even);
    // Cheaper by a little less than the cost margin, same silhouette: inside the noise of seeded restarts.
    Hysteresis.WarmStart noise = Hysteresis.warmOrFresh(warm, fit(1000 * (1 - costMargin * 0.9), 0.60, even), s);
    assertTrue(noise.keptWarm(), noise.reason());
    assertTrue(noise.reason().contains("not better beyond the margins"), noise.reason());
    // Cheaper by more than the margin, silhouette no worse: a better optimum, taken.
    Hysteresis.WarmStart better = Hysteresis.warmOrFresh(warm, fit(1000 * (1 - costMargin * 1.5), 0.60, even), s);
    assertFalse(better.keptWarm(), better.reason());
    // Cheaper beyond the margin but a clearly worse silhouette: not better, kept.
    assertTrue(Hysteresis.warmOrFresh(warm, fit(1000 * (1 - costMargin * 1.5), 0.60 - 2 * s.keepPreviousWithin(), even),
        s).keptWarm());
    // The warm start broke a size rule the fresh fit meets: the size rule decides, whatever the cost.
    Hysteresis.WarmStart tiny = Hysteresis.warmOrFresh(fit(900, 0.60, 49, 49, 1, 1), fit(1000, 0.60, even), s);
    assertFalse(tiny.keptWarm());
    assertTrue(tiny.reason().contains("below k.min-share"), tiny.reason());
  }

  static KMeansFitter.Candidate candidate(int k, double silhouette, long... sizes) {
    return new KMeansFitter.Candidate(k, new KMeansFitter.Fit(null, 100.0 / k, sizes, 10, new double[] {100.0 / k}, null), silhouette);
  }

  private static Map<?, ?> entry(Map<String, Object> sel, int k) {
    for (Object o : (List<?>) sel.get("candidates")) {
      if (((Map<?, ?>) o).get("k").equals(k)) {
        return (Map<?, ?>) o;
      }
    }
    throw new AssertionError("no candidate k = " + k);
  }

  @Test
  void withinTheToleranceMoreSegmentsWinAndEveryLoserSaysWhy() {
    List<KMeansFitter.Candidate> c = List.of(candidate(4, 0.60, 25, 25, 25, 25), candidate(5, 0.56, 20, 20, 20, 20, 20),
        candidate(6, 0.50, 20, 20, 15, 15, 15, 15));
    Map<String, Object> sel = new HashMap<>();
    assertEquals(5, chooser().choose(c, 0, sel));
    assertEquals(4, sel.get("best_silhouette_k"));
    assertEquals(true, sel.get("max_share_met"));
    assertEquals("fewer segments than k = 5, which is as acceptable", entry(sel, 4).get("lost_because"));
    assertEquals("silhouette 0.5 is more than k.silhouette-tolerance 0.05 below the best 0.6 (k = 4)",
        entry(sel, 6).get("lost_because"));
    assertEquals(true, entry(sel, 5).get("chosen"));
    assertNull(entry(sel, 5).get("lost_because"));
  }

  @Test
  void aTinySegmentIsNotActionable() {
    List<KMeansFitter.Candidate> c = List.of(candidate(4, 0.60, 25, 25, 25, 25), candidate(5, 0.59, 30, 30, 20, 19, 1));
    Map<String, Object> sel = new HashMap<>();
    assertEquals(4, chooser().choose(c, 0, sel));
    assertEquals("smallest segment 1.0 % of users, below k.min-share 3.0 %", entry(sel, 5).get("lost_because"));
  }

  @Test
  void aSegmentAboveMaxShareLosesUnlessNoKAvoidsIt() {
    List<KMeansFitter.Candidate> c = List.of(candidate(4, 0.60, 28, 24, 24, 24), candidate(5, 0.59, 44, 14, 14, 14, 14));
    Map<String, Object> sel = new HashMap<>();
    assertEquals(4, chooser().choose(c, 0, sel));
    assertTrue(((String) entry(sel, 5).get("lost_because")).startsWith("largest segment 44.0 % of users, above k.max-share 30.0 %"));

    List<KMeansFitter.Candidate> heavy = List.of(candidate(4, 0.60, 40, 20, 20, 20), candidate(5, 0.59, 44, 14, 14, 14, 14));
    Map<String, Object> sel2 = new HashMap<>();
    assertEquals(5, chooser().choose(heavy, 0, sel2), "no k avoids a big segment: the most segments");
    assertEquals(false, sel2.get("max_share_met"));
    assertTrue(((String) sel2.get("max_share_note")).contains("the data leaves no such choice"), sel2.toString());
  }

  @Test
  void thePreviousKStaysWhileAsAcceptable() {
    List<KMeansFitter.Candidate> c = List.of(candidate(4, 0.60, 25, 25, 25, 25), candidate(5, 0.59, 20, 20, 20, 20, 20),
        candidate(6, 0.40, 20, 20, 15, 15, 15, 15));
    Map<String, Object> sel = new HashMap<>();
    assertEquals(4, chooser().choose(c, 4, sel), "0.60 is within 0.02 of 0.59");
    assertEquals(true, sel.get("kept_previous_k"));
    assertEquals(5, chooser().choose(c, 6, new HashMap<>()), "k = 6 is not acceptable");
    assertEquals(5, chooser("affinity.segment.k.keep-previous-within", "0").choose(
        List.of(candidate(4, 0.58, 25, 25, 25, 25), candidate(5, 0.59, 20, 20, 20, 20, 20)), 4, new HashMap<>()));
  }

  @Test
  void thePreviousKIsJudgedWithAHysteresisBandOnTheSizeRules() {
    // k = 5's smallest segment holds 2.8 % of users: below k.min-share 3 %, within the 0.5 % band.
    List<KMeansFitter.Candidate> c = List.of(candidate(4, 0.60, 250, 250, 250, 250),
        candidate(5, 0.60, 250, 250, 250, 222, 28));
    assertEquals(5, chooser().choose(c, 5, new HashMap<>()), "yesterday's k stays inside the band");
    Map<String, Object> sel = new HashMap<>();
    assertEquals(4, chooser().choose(c, 0, sel), "a new k must meet the bound as written");
    assertTrue(((String) entry(sel, 5).get("lost_because")).contains("below k.min-share"), sel.toString());
  }

  @Test
  void fixedKIsTheOnlyCandidate() {
    Map<String, Object> sel = new HashMap<>();
    assertEquals(3, chooser("affinity.segment.k.fixed", "3").choose(List.of(candidate(3, 0.2, 50, 30, 20)), 0, sel));
    assertEquals(false, sel.get("max_share_met"), "50 % in one segment is reported even when k is fixed");
  }
}
