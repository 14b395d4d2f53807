package io.affinity.segment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.affinity.config.ConfigLoader;
import io.affinity.config.ConfigReader;
import io.affinity.config.SettingsException;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The default rules of reference.conf and custom ones on hand-made segment measures. */
class SegmentLabelerTest {
  /** Median scores 3, tenure 200 days, 5 % new, everybody bought, 40 % active. */
  static final SegmentMeasures POPULATION = new SegmentMeasures(-1, 1000, 3.0, 3.0, 3.0, 200.0, 0.05, 1.0, 0.4);

  /** id, r, f, m (median scores), new share, buyers, active. Tenure follows new. */
  static SegmentMeasures seg(int id, Double r, Double f, Double m, double newShare, double buyers, double active) {
    return new SegmentMeasures(id, 100, r, f, m, newShare > 0.5 ? 30.0 : 300.0, newShare, buyers, active);
  }

  static SegmentLabeler defaultLabeler() {
    SegmentSettings s = SegmentSettings.from(new ConfigReader(ConfigLoader.load(null, Map.of())));
    return new SegmentLabeler(s.labelRules(), s.fallbackLabel(), s.stickyLabels());
  }

  @Test
  void defaultRulesNameTheRfmArchetypes() {
    List<SegmentMeasures> table = List.of(
        seg(1, 5.0, 5.0, 5.0, 0.0, 1.0, 0.9),   // champions
        seg(2, 3.0, 4.0, 4.0, 0.0, 1.0, 0.5),   // loyal
        seg(3, 1.0, 4.0, 4.0, 0.0, 1.0, 0.0),   // can't lose them
        seg(4, 2.0, 3.0, 3.0, 0.1, 1.0, 0.1),   // at risk: frequency above the population's 3? no: 3 is not > 3
        seg(5, 5.0, 1.0, 2.0, 0.9, 1.0, 0.9),   // new customers
        seg(6, 1.0, 1.0, 1.0, 0.0, 1.0, 0.0),   // lost
        seg(7, null, null, null, 0.0, 0.0, 0.8)); // browsers who never buy
    Map<Integer, String> l = defaultLabeler().label(table, POPULATION, Map.of());
    assertEquals("champions", l.get(1));
    assertEquals("loyal", l.get(2));
    assertEquals("can't lose them", l.get(3));
    assertEquals("hibernating", l.get(4), "frequency 3 is not above the population's 3: not 'at risk'");
    assertEquals("new customers", l.get(5));
    assertEquals("lost", l.get(6));
    assertEquals("browsers who never buy", l.get(7));
  }

  @Test
  void aRecentCohortIsNeverAtRisk() {
    // The failure this rule set was written against: a cohort first seen in the last two months,
    // buying less lately than the champions, looked "at risk" when measures were ranks among segments.
    SegmentMeasures lapsing = seg(1, 2.0, 4.0, 3.0, 0.05, 1.0, 0.1);
    SegmentMeasures cohort = seg(2, 2.0, 4.0, 3.0, 0.95, 1.0, 0.6);
    Map<Integer, String> l = defaultLabeler().label(List.of(lapsing, cohort), POPULATION, Map.of());
    assertEquals("at risk", l.get(1));
    assertEquals("new customers", l.get(2));
    SegmentMeasures halfNew = seg(3, 2.0, 4.0, 3.0, 0.3, 1.0, 0.6);
    assertEquals("segment 3", defaultLabeler().label(List.of(halfNew), POPULATION, Map.of()).get(3),
        "30 % new is neither new (>= 50 %) nor old enough (<= 20 %) for a lapsed label: neutral");
  }

  @Test
  void populationClaimsReadThePopulation() {
    SegmentMeasures s = seg(1, 2.0, 4.0, 3.0, 0.0, 1.0, 0.1);
    SegmentMeasures frequentPopulation = new SegmentMeasures(-1, 1000, 3.0, 4.0, 3.0, 200.0, 0.05, 1.0, 0.4);
    assertEquals("hibernating", defaultLabeler().label(List.of(s), frequentPopulation, Map.of()).get(1),
        "frequency 4 is not above a population median of 4");
  }

  @Test
  void labelsAreUniqueAndTheRestFallBack() {
    List<SegmentMeasures> twins = List.of(seg(1, 5.0, 5.0, 5.0, 0.0, 1.0, 1.0), seg(2, 5.0, 5.0, 4.0, 0.0, 1.0, 1.0),
        seg(3, 5.0, 5.0, 4.0, 0.0, 1.0, 1.0));
    SegmentLabeler custom = new SegmentLabeler(List.of(LabelRule.parse("k", "top: monetary >= 4"),
        LabelRule.parse("k", "rest: buyers >= 0.5")), "group", true);
    Map<Integer, String> l = custom.label(twins, POPULATION, Map.of());
    assertEquals("top", l.get(1), "most valuable first");
    assertEquals("rest", l.get(2));
    assertEquals("group 3", l.get(3));
    assertEquals(3, new HashSet<>(l.values()).size());
  }

  @Test
  void matchedSegmentsKeepTheirLabelWhileItsClaimsHold() {
    SegmentMeasures s = seg(4, 5.0, 5.0, 4.0, 0.0, 1.0, 1.0);
    assertEquals("loyal", defaultLabeler().label(List.of(s), POPULATION, Map.of(4, "loyal")).get(4),
        "loyal still holds: kept although champions fits too");
    SegmentMeasures lapsed = seg(4, 2.0, 4.0, 4.0, 0.0, 1.0, 1.0);
    assertEquals("can't lose them", defaultLabeler().label(List.of(lapsed), POPULATION, Map.of(4, "loyal")).get(4),
        "recency 2 breaks loyal's recency >= 3");
  }

  @Test
  void aKeptLabelHoldsWithinTheStickyToleranceAndAChangeSaysWhy() {
    SegmentSettings d = SegmentSettings.from(new ConfigReader(ConfigLoader.load(null, Map.of())));
    SegmentLabeler tolerant = new SegmentLabeler(d.labelRules(), d.fallbackLabel(), true, d.labelKeepWithin());
    // Yesterday's loyal segment: frequency's median slipped from 4 to 3.5, half a score below the bound.
    SegmentMeasures slipped = seg(2, 3.0, 3.5, 3.0, 0.0, 1.0, 0.5);
    SegmentLabeler.Result kept = tolerant.labelAll(List.of(slipped), POPULATION, Map.of(2, "loyal"));
    assertEquals("loyal", kept.labels().get(2));
    assertEquals(Set.of(2), kept.kept());
    LabelAudit.Result audit = LabelAudit.audit(tolerant, "loyal", slipped, POPULATION, d.labelKeepWithin());
    assertTrue(audit.passed());
    assertTrue(audit.checks().get(2).withinTolerance(), "frequency >= 4 holds only within the tolerance");
    assertEquals("passed 3 of 3 claims (1 within the sticky tolerance)", audit.summary());
    assertFalse(LabelAudit.audit(tolerant, "loyal", slipped, POPULATION).passed(), "a new label meets its claims as written");
    assertTrue(defaultLabeler().labelAll(List.of(slipped), POPULATION, Map.of(2, "loyal")).changed().get(2)
        .contains("frequency >= 4 (measured 3.5)"), "without a tolerance loyal is given up, and the reason names the claim");
    // A full score below is beyond the tolerance: the label changes and the manifest says why.
    SegmentMeasures fell = seg(2, 3.0, 3.0, 3.0, 0.0, 1.0, 0.5);
    SegmentLabeler.Result changed = tolerant.labelAll(List.of(fell), POPULATION, Map.of(2, "loyal"));
    assertEquals("'loyal' claims frequency >= 4 (measured 3.0), beyond the sticky tolerance", changed.changed().get(2));
    assertTrue(changed.kept().isEmpty());
  }

  @Test
  void ruleSyntax() {
    LabelRule r = LabelRule.parse("k", "  big spenders :monetary>=4 ,frequency > population, tenure <= 60");
    assertEquals("big spenders", r.label());
    assertEquals("big spenders: monetary >= 4, frequency > population, tenure <= 60", r.toString());
    assertTrue(r.claims().get(1).againstPopulation());
    SettingsException e = assertThrows(SettingsException.class, () -> LabelRule.parse("affinity.segment.labels.rules[3]", "x: spend >= 0.5"));
    assertTrue(e.getMessage().contains("affinity.segment.labels.rules[3]") && e.getMessage().contains("spend >= 0.5"), e.getMessage());
    SettingsException none = assertThrows(SettingsException.class, () -> LabelRule.parse("k", "everyone"));
    assertTrue(none.getMessage().contains("without a claim"), none.getMessage());
    assertThrows(SettingsException.class, () -> LabelRule.parse("k", "x: recency >= 6"));
    assertThrows(SettingsException.class, () -> LabelRule.parse("k", "x: buyers >= 1.5"));
    assertThrows(SettingsException.class, () -> LabelRule.parse("k", "x: recency = 3"));
    assertThrows(SettingsException.class, () -> LabelRule.parse("k", ": recency >= 3"));
    assertThrows(SettingsException.class, () -> LabelRule.parse("k", "x: recency >= 3,"));
  }
}
