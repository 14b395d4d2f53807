package io.affinity.segment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.affinity.config.ConfigLoader;
import io.affinity.config.ConfigReader;
import io.affinity.config.SettingsException;
import io.affinity.segment.SegmentLabeler.Profile;
import io.affinity.segment.SegmentLabeler.Scores;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Label rules from reference.conf and custom ones on tiny hand-made profile tables. */
class SegmentLabelerTest {

  /**
   * Six segments shaped like the sample archetypes. Hand-ranked scores (k = 6, steps of 1/5):
   * recency by median days (lower is better, no buyers is worst): 6 (3.4 d) 1.0, 1 (5 d) 0.8,
   * 2 (18 d) 0.6, 3 (56 d) 0.4, 4 (74 d) 0.2, 5 (none) 0; frequency and monetary both order
   * 1, 2, 3, 6, 4, 5 from 1.0 down to 0.
   */
  private static final List<Profile> TABLE = List.of(
      new Profile(1, 5.0, 16.0, 1450.0, 1.0, 0.95),
      new Profile(2, 18.0, 3.1, 180.0, 1.0, 0.9),
      new Profile(3, 56.0, 2.7, 163.0, 1.0, 0.1),
      new Profile(4, 74.0, 0.4, 20.0, 0.3, 0.2),
      new Profile(5, null, 0.0, 0.0, 0.0, 0.8),
      new Profile(6, 3.4, 0.5, 25.0, 0.22, 1.0));

  private static SegmentSettings defaults() {
    return SegmentSettings.from(new ConfigReader(ConfigLoader.load(null, Map.of())));
  }

  private static SegmentLabeler defaultLabeler() {
    SegmentSettings s = defaults();
    return new SegmentLabeler(s.labelRules(), s.fallbackLabel(), s.stickyLabels());
  }

  @Test
  void scoresAreRanksAmongSegments() {
    Map<Integer, Scores> s = SegmentLabeler.score(TABLE);
    assertEquals(new Scores(0.8, 1.0, 1.0, 1.0, 0.95), s.get(1));
    assertEquals(new Scores(0.6, 0.8, 0.8, 1.0, 0.9), s.get(2));
    assertEquals(new Scores(0.4, 0.6, 0.6, 1.0, 0.1), s.get(3));
    assertEquals(new Scores(0.2, 0.2, 0.2, 0.3, 0.2), s.get(4));
    assertEquals(new Scores(0.0, 0.0, 0.0, 0.0, 0.8), s.get(5));
    assertEquals(new Scores(1.0, 0.4, 0.4, 0.22, 1.0), s.get(6));
  }

  @Test
  void tiesShareAScoreAndOneSegmentScoresOne() {
    Map<Integer, Scores> s = SegmentLabeler.score(List.of(
        new Profile(1, 10.0, 2.0, 50.0, 1.0, 1.0), new Profile(2, 10.0, 2.0, 80.0, 1.0, 1.0),
        new Profile(3, 30.0, 1.0, 10.0, 1.0, 1.0)));
    assertEquals(0.5, s.get(1).recency());
    assertEquals(0.5, s.get(2).recency());
    assertEquals(0.0, s.get(3).recency());
    assertEquals(0.5, s.get(1).frequency());
    assertEquals(1.0, s.get(2).monetary());
    assertEquals(new Scores(1.0, 1.0, 1.0, 0.5, 0.25),
        SegmentLabeler.score(List.of(new Profile(9, null, 0.0, 0.0, 0.5, 0.25))).get(9));
  }

  @Test
  void defaultRulesNameTheArchetypes() {
    // Walk-through of the default rules, most valuable segment first (score sums 1: 2.8, 2: 2.2,
    // 6: 1.8, 3: 1.6, 4: 0.6, 5: 0):
    // 1 champions (R .8, F 1, M 1); 2 champions taken -> loyal (R .6 > .5, F .8);
    // 6 not at risk (R 1) -> promising new (R >= .6); 3 at risk (R .4, F .6);
    // 4 hibernating (R .2; buyers .3 are too many for browsers); 5 browsers (buyers 0, active .8).
    Map<Integer, String> labels = defaultLabeler().label(TABLE, Map.of());
    assertEquals(Map.of(1, "champions", 2, "loyal", 3, "at risk", 4, "hibernating", 5, "browsers who never buy",
        6, "promising new"), labels);
    assertEquals(List.of(1, 2, 3, 4, 5, 6), List.copyOf(labels.keySet()), "labels come back in input order");
  }

  @Test
  void labelsAreUniqueAndTheRestFallBack() {
    // Both top segments satisfy "top", but a label is used once: the more valuable one (1) takes
    // it, 2 takes the next rule it fits, and 3 and 4 find every rule taken and fall back.
    List<Profile> twins = List.of(
        new Profile(1, 4.0, 10.0, 900.0, 1.0, 1.0), new Profile(2, 4.5, 9.5, 880.0, 1.0, 1.0),
        new Profile(3, 40.0, 1.0, 30.0, 0.5, 0.4), new Profile(4, null, 0.0, 0.0, 0.0, 0.7));
    SegmentLabeler custom = new SegmentLabeler(
        List.of(LabelRule.parse("k", "top: monetary >= 0.5"), LabelRule.parse("k", "rest")), "group", true);
    assertEquals(Map.of(1, "top", 2, "rest", 3, "group 3", 4, "group 4"), custom.label(twins, Map.of()));
    Map<Integer, String> six = custom.label(TABLE, Map.of());
    assertEquals(six.size(), new HashSet<>(six.values()).size());

    // The defaults on the same four: 2 cannot be champions (frequency 2/3 < 0.8) and is loyal.
    assertEquals(Map.of(1, "champions", 2, "loyal", 3, "hibernating", 4, "browsers who never buy"),
        defaultLabeler().label(twins, Map.of()));
  }

  @Test
  void neverBuyersAreBrowsersOnlyWhileActive() {
    // Two segments that (almost) never buy: the active one browses, the quiet one hibernates, even
    // though the quiet one comes first in value order (its few buyers bought more recently). Its
    // middle frequency rank (0.5) does not make it "at risk": that needs most users to be buyers.
    List<Profile> table = List.of(
        new Profile(1, 6.0, 9.0, 700.0, 1.0, 0.9),
        new Profile(2, 80.0, 0.03, 1.0, 0.03, 0.9),
        new Profile(3, 60.0, 0.05, 2.0, 0.04, 0.3));
    assertEquals(Map.of(1, "champions", 2, "browsers who never buy", 3, "hibernating"),
        defaultLabeler().label(table, Map.of()));
  }

  @Test
  void matchedSegmentsKeepTheirLabelWhileItsRuleHolds() {
    // Yesterday segment 2 was "champions" and still satisfies that rule (R .6, F .8, M .8): it keeps
    // the name, and segment 1 moves on to loyal.
    Map<Integer, String> kept = defaultLabeler().label(TABLE, Map.of(2, "champions"));
    assertEquals("champions", kept.get(2));
    assertEquals("loyal", kept.get(1));
    // Yesterday segment 3 was "loyal", but recency 0.4 no longer fits "recency > 0.5": relabelled.
    Map<Integer, String> moved = defaultLabeler().label(TABLE, Map.of(3, "loyal"));
    assertEquals("at risk", moved.get(3));
    assertEquals("loyal", moved.get(2));
    // A previous fallback name is not sticky, and with sticky = false nothing is.
    assertEquals("champions", defaultLabeler().label(TABLE, Map.of(1, "segment 1")).get(1));
    SegmentSettings s = defaults();
    SegmentLabeler fresh = new SegmentLabeler(s.labelRules(), s.fallbackLabel(), false);
    assertEquals("champions", fresh.label(TABLE, Map.of(2, "champions")).get(1));
  }

  @Test
  void ruleSyntax() {
    LabelRule r = LabelRule.parse("k", "  big spenders :monetary>=0.75 ,buyers > .5");
    assertEquals("big spenders", r.label());
    assertEquals("big spenders: monetary >= 0.75, buyers > 0.5", r.toString());
    assertTrue(r.matches(new Scores(0, 0, 0.75, 0.6, 0)));
    assertEquals(false, r.matches(new Scores(0, 0, 0.75, 0.5, 0)));
    assertTrue(LabelRule.parse("k", "everyone").matches(new Scores(0, 0, 0, 0, 0)));
    assertTrue(LabelRule.parse("k", "awake: active >= 0.5").matches(new Scores(0, 0, 0, 0, 0.5)));

    SettingsException e = assertThrows(SettingsException.class, () -> LabelRule.parse("affinity.segment.labels.rules[3]", "x: spend >= 0.5"));
    assertTrue(e.getMessage().contains("affinity.segment.labels.rules[3]") && e.getMessage().contains("spend >= 0.5"), e.getMessage());
    assertThrows(SettingsException.class, () -> LabelRule.parse("k", "x: recency >= 1.5"));
    assertThrows(SettingsException.class, () -> LabelRule.parse("k", "x: recency = 0.5"));
    assertThrows(SettingsException.class, () -> LabelRule.parse("k", ": recency >= 0.5"));
    assertThrows(SettingsException.class, () -> LabelRule.parse("k", "x: recency >= 0.5,"));
  }
}
