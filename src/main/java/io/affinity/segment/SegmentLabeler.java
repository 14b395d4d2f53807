package io.affinity.segment;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Proposes a label for every segment from the configured {@link LabelRule}s, each label used at
 * most once per run; {@link LabelAudit} then checks the proposal before it is published.
 *
 * <p>Procedure (documented in docs/SEGMENT.md):
 *
 * <ol>
 *   <li>Sticky labels: a segment matched to yesterday's keeps yesterday's label if every claim of
 *       that label's rule holds for it today within the sticky tolerance, so names do not flicker
 *       on a median that moved half a score.
 *   <li>The other segments, most valuable first (highest sum of median recency, frequency and
 *       monetary scores, then buyers share, then lowest id), each take the first rule in config
 *       order whose claims all hold and whose label is still free.
 *   <li>A segment no free rule fits is called {@code "<fallback> <segment_id>"}.
 * </ol>
 */
public final class SegmentLabeler {
  private final List<LabelRule> rules;
  private final String fallback;
  private final boolean sticky;
  private final LabelRule.Tolerance keepWithin;

  /**
   * Labels of the run and, for each segment matched to the previous run whose label changed, why.
   *
   * @param labels segment id -> label, unique labels, in input order
   * @param kept ids of the segments that kept the previous run's label (audited with the tolerance)
   * @param changed segment id -> why it did not keep the previous run's label (matched segments only)
   */
  public record Result(Map<Integer, String> labels, Set<Integer> kept, Map<Integer, String> changed) {}

  /** A labeler whose sticky labels must hold as written (no tolerance). */
  public SegmentLabeler(List<LabelRule> rules, String fallback, boolean sticky) {
    this(rules, fallback, sticky, LabelRule.Tolerance.NONE);
  }

  /**
   * @param rules in priority order; labels unique
   * @param fallback prefix of the label of a segment no rule fits
   * @param sticky whether matched segments keep yesterday's label while its claims hold
   * @param keepWithin how far a sticky label's claims may miss their bounds
   */
  public SegmentLabeler(List<LabelRule> rules, String fallback, boolean sticky, LabelRule.Tolerance keepWithin) {
    this.rules = List.copyOf(rules);
    this.fallback = fallback;
    this.sticky = sticky;
    this.keepWithin = keepWithin;
  }

  /** How far a kept label's claims may miss their bounds. */
  public LabelRule.Tolerance keepWithin() {
    return keepWithin;
  }

  /** The neutral label of a segment: {@code "<fallback> <segment_id>"}. */
  public String fallback(int segmentId) {
    return fallback + " " + segmentId;
  }

  /** The rule that gives {@code label}, or null (a fallback label, or a rule since removed). */
  public LabelRule rule(String label) {
    for (LabelRule r : rules) {
      if (r.label().equals(label)) {
        return r;
      }
    }
    return null;
  }

  /**
   * Labels every segment.
   *
   * @param segments today's segments
   * @param population the same measures over all users of the run
   * @param previousLabels yesterday's label of each segment id that was matched to a segment of the
   *     previous run (empty on a first run)
   * @return segment id -> label, unique labels, in input order
   */
  public Map<Integer, String> label(List<SegmentMeasures> segments, SegmentMeasures population,
      Map<Integer, String> previousLabels) {
    return labelAll(segments, population, previousLabels).labels();
  }

  /** Labels every segment (as {@link #label}) and says which kept their label and why others did not. */
  public Result labelAll(List<SegmentMeasures> segments, SegmentMeasures population,
      Map<Integer, String> previousLabels) {
    Map<Integer, String> labels = new LinkedHashMap<>();
    Map<Integer, String> changed = new LinkedHashMap<>();
    Set<Integer> kept = new HashSet<>();
    Set<String> taken = new HashSet<>();
    List<SegmentMeasures> order = new ArrayList<>(segments);
    order.sort(Comparator.<SegmentMeasures>comparingDouble(p -> -p.value())
        .thenComparingDouble(p -> -p.buyers())
        .thenComparingInt(SegmentMeasures::segmentId));
    if (sticky) {
      for (SegmentMeasures p : order) {
        String before = previousLabels.get(p.segmentId());
        if (before == null) {
          continue;
        }
        LabelRule rule = rule(before);
        List<String> failing = rule == null ? List.of() : LabelAudit.failing(rule, p, population, keepWithin);
        if (rule == null) {
          changed.put(p.segmentId(), before.equals(fallback(p.segmentId())) ? "had the neutral label"
              : "no rule gives '" + before + "' any more");
        } else if (!failing.isEmpty()) {
          changed.put(p.segmentId(), "'" + before + "' claims " + String.join(", ", failing)
              + ", beyond the sticky tolerance");
        } else if (!taken.add(before)) {
          changed.put(p.segmentId(), "'" + before + "' was kept by a more valuable segment");
        } else {
          labels.put(p.segmentId(), before);
          kept.add(p.segmentId());
        }
      }
    } else {
      for (Map.Entry<Integer, String> e : previousLabels.entrySet()) {
        changed.put(e.getKey(), "labels.sticky is false");
      }
    }
    for (SegmentMeasures p : order) {
      if (labels.containsKey(p.segmentId())) {
        continue;
      }
      String chosen = null;
      for (LabelRule r : rules) {
        if (!taken.contains(r.label()) && LabelAudit.holds(r, p, population)) {
          chosen = r.label();
          break;
        }
      }
      if (chosen == null) {
        chosen = fallback(p.segmentId());
      }
      taken.add(chosen);
      labels.put(p.segmentId(), chosen);
    }
    Map<Integer, String> inInputOrder = new LinkedHashMap<>();
    for (SegmentMeasures p : segments) {
      inInputOrder.put(p.segmentId(), labels.get(p.segmentId()));
    }
    changed.keySet().removeIf(id -> !previousLabels.containsKey(id) || labels.get(id).equals(previousLabels.get(id)));
    return new Result(inInputOrder, kept, changed);
  }
}
