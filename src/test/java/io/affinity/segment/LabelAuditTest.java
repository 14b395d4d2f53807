package io.affinity.segment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every claim of a proposed label is measured; a failing or unknown label is replaced by the neutral one. */
class LabelAuditTest {
  private static final SegmentMeasures POP = SegmentLabelerTest.POPULATION;
  private static final SegmentLabeler LABELER = SegmentLabelerTest.defaultLabeler();

  @Test
  void aPassingLabelRecordsEveryClaimWithValueAndReference() {
    SegmentMeasures s = SegmentLabelerTest.seg(3, 2.0, 4.0, 3.0, 0.05, 1.0, 0.1);
    LabelAudit.Result a = LabelAudit.audit(LABELER, "at risk", s, POP);
    assertTrue(a.passed());
    assertEquals("at risk", a.published());
    assertNull(a.reason());
    assertEquals(4, a.checks().size());
    LabelAudit.ClaimCheck f = a.checks().get(1);
    assertEquals("frequency > population", f.claim());
    assertEquals(4.0, f.measured());
    assertEquals(3.0, f.population());
    assertEquals(3.0, f.bound());
    assertTrue(f.passed());
    assertEquals("passed 4 of 4 claims", a.summary());
    Map<String, Object> m = LabelAudit.report(a);
    assertEquals(4, ((List<?>) m.get("claims")).size());
  }

  @Test
  void aFailingClaimIsNotPublished() {
    // Yesterday's "at risk" carried over to a segment that is now mostly new customers.
    SegmentMeasures cohort = SegmentLabelerTest.seg(3, 2.0, 4.0, 3.0, 0.9, 1.0, 0.6);
    LabelAudit.Result a = LabelAudit.audit(LABELER, "at risk", cohort, POP);
    assertFalse(a.passed());
    assertEquals("segment 3", a.published());
    assertEquals("'at risk' claims new <= 0.2 (measured 0.9)", a.reason());
    assertEquals("failed: 'at risk' claims new <= 0.2 (measured 0.9)", a.summary());
    assertFalse(a.checks().get(3).passed());
  }

  @Test
  void undefinedMeasuresFailAndUnknownLabelsFallBack() {
    SegmentMeasures browsers = SegmentLabelerTest.seg(5, null, null, null, 0.0, 0.6, 0.9);
    LabelAudit.Result a = LabelAudit.audit(LABELER, "champions", browsers, POP);
    assertFalse(a.passed());
    assertTrue(a.reason().contains("recency >= 4 (measured undefined)"), a.reason());
    LabelAudit.Result gone = LabelAudit.audit(LABELER, "vip", browsers, POP);
    assertEquals("segment 5", gone.published());
    assertEquals("no rule gives the label 'vip'", gone.reason());
    LabelAudit.Result neutral = LabelAudit.audit(LABELER, "segment 5", browsers, POP);
    assertTrue(neutral.passed());
    assertEquals("no claims (neutral label)", neutral.summary());
  }
}
