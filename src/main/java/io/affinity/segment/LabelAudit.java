package io.affinity.segment;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks every proposed label against the data before it is published: each claim of the label's
 * rule is measured on the segment's members and compared with its bound (a number, or the same
 * measure over the whole population). A label with a failing claim, or whose rule no longer exists,
 * is not published: the segment gets the neutral fallback label and the audit says why. The
 * fallback label makes no claim.
 */
public final class LabelAudit {
  private LabelAudit() {}

  /**
   * One claim as measured.
   *
   * @param claim the claim as written, e.g. {@code frequency > population}
   * @param measured the segment's value (null when undefined, e.g. scores of a segment without buyers)
   * @param population the population's value of the same measure
   * @param bound what the claim compares with (the population's value, or the claim's number)
   * @param passed whether it holds (for a kept sticky label: within the tolerance)
   * @param withinTolerance whether it holds only thanks to the sticky tolerance (missed the bound as
   *     written by less than the tolerance)
   */
  public record ClaimCheck(String claim, Double measured, Double population, Double bound, boolean passed,
      boolean withinTolerance) {}

  /**
   * The audit of one segment.
   *
   * @param segmentId the segment
   * @param proposed the label the rules proposed
   * @param published the label published: the proposal if it passed, else the fallback
   * @param passed whether every claim of the proposal held (true for a fallback proposal: no claim)
   * @param checks every claim of the proposal, measured
   * @param reason why the proposal was not published; null when it was
   */
  public record Result(int segmentId, String proposed, String published, boolean passed, List<ClaimCheck> checks,
      String reason) {
    /** The {@code label_audit} column of {@code segment_profiles}. */
    public String summary() {
      if (reason != null) {
        return "failed: " + reason;
      }
      if (checks.isEmpty()) {
        return "no claims (neutral label)";
      }
      long slack = checks.stream().filter(ClaimCheck::withinTolerance).count();
      return "passed " + checks.size() + " of " + checks.size() + " claims"
          + (slack == 0 ? "" : " (" + slack + " within the sticky tolerance)");
    }
  }

  /** Whether every claim of {@code rule} holds for the segment. */
  static boolean holds(LabelRule rule, SegmentMeasures segment, SegmentMeasures population) {
    return failing(rule, segment, population, LabelRule.Tolerance.NONE).isEmpty();
  }

  /** The claims of {@code rule} that do not hold for the segment within {@code tolerance}, as audit text. */
  static List<String> failing(LabelRule rule, SegmentMeasures segment, SegmentMeasures population,
      LabelRule.Tolerance tolerance) {
    List<String> failed = new ArrayList<>();
    for (LabelRule.Claim c : rule.claims()) {
      Double measured = segment.get(c.measure());
      if (!c.holds(measured, population.get(c.measure()), tolerance.of(c.measure()))) {
        failed.add(c + " (measured " + (measured == null ? "undefined" : SegmentStage.round(measured)) + ")");
      }
    }
    return failed;
  }

  /** Audits one proposed label, its claims as written. */
  static Result audit(SegmentLabeler labeler, String proposed, SegmentMeasures segment, SegmentMeasures population) {
    return audit(labeler, proposed, segment, population, LabelRule.Tolerance.NONE);
  }

  /**
   * Audits one proposed label.
   *
   * @param tolerance slack for the claims: {@link LabelRule.Tolerance#NONE} for a new label, the
   *     sticky tolerance for a label the segment keeps from the previous run
   */
  static Result audit(SegmentLabeler labeler, String proposed, SegmentMeasures segment, SegmentMeasures population,
      LabelRule.Tolerance tolerance) {
    int id = segment.segmentId();
    String fallback = labeler.fallback(id);
    if (proposed.equals(fallback)) {
      return new Result(id, proposed, proposed, true, List.of(), null);
    }
    LabelRule rule = labeler.rule(proposed);
    if (rule == null) {
      return new Result(id, proposed, fallback, false, List.of(), "no rule gives the label '" + proposed + "'");
    }
    List<ClaimCheck> checks = new ArrayList<>();
    for (LabelRule.Claim c : rule.claims()) {
      Double measured = segment.get(c.measure());
      Double pop = population.get(c.measure());
      boolean strict = c.holds(measured, pop);
      boolean ok = c.holds(measured, pop, tolerance.of(c.measure()));
      checks.add(new ClaimCheck(c.toString(), measured, pop, c.againstPopulation() ? pop : Double.valueOf(c.value()), ok,
          ok && !strict));
    }
    List<String> failed = failing(rule, segment, population, tolerance);
    if (failed.isEmpty()) {
      return new Result(id, proposed, proposed, true, checks, null);
    }
    return new Result(id, proposed, fallback, false, checks, "'" + proposed + "' claims " + String.join(", ", failed));
  }

  /** The manifest entry of one audit. */
  static Map<String, Object> report(Result r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("proposed_label", r.proposed());
    m.put("published_label", r.published());
    m.put("passed", r.passed());
    m.put("reason", r.reason());
    List<Map<String, Object>> claims = new ArrayList<>();
    for (ClaimCheck c : r.checks()) {
      Map<String, Object> x = new LinkedHashMap<>();
      x.put("claim", c.claim());
      x.put("measured", c.measured() == null ? null : SegmentStage.round(c.measured()));
      x.put("population", c.population() == null ? null : SegmentStage.round(c.population()));
      x.put("bound", c.bound() == null ? null : SegmentStage.round(c.bound()));
      x.put("passed", c.passed());
      if (c.withinTolerance()) {
        x.put("within_tolerance", true);
      }
      claims.add(x);
    }
    m.put("claims", claims);
    return m;
  }
}
