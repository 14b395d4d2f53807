package io.affinity.segment;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.ToDoubleFunction;

/**
 * Names segments with the configured {@link LabelRule}s, each label used at most once per run.
 *
 * <p>Procedure (documented in docs/SEGMENT.md):
 *
 * <ol>
 *   <li>Every segment gets rank scores in [0, 1] among today's segments ({@link #score}).
 *   <li>Sticky labels: a segment matched to yesterday's keeps yesterday's label if that label's rule
 *       still holds for it today, so names do not flicker when ranks shift a little.
 *   <li>The other segments, most valuable first (highest recency + frequency + monetary score, then
 *       buyers share, then lowest id), each take the first rule in config order that they satisfy
 *       and whose label is still free.
 *   <li>A segment no free rule fits is called {@code "<fallback> <segment_id>"}.
 * </ol>
 */
public final class SegmentLabeler {

  /**
   * What labels are decided on, per segment: the profile figures of {@code segment_profiles}.
   *
   * @param segmentId the stable segment id
   * @param medianRecencyDays median days since the last purchase among the segment's buyers; null
   *     when nobody in the segment bought
   * @param meanFrequency mean number of purchases per user
   * @param meanMonetary mean net spend per user
   * @param buyerShare share of users with at least one purchase, 0..1
   * @param activeShare share of users with any event in the last {@code labels.active-days} days, 0..1
   */
  public record Profile(
      int segmentId, Double medianRecencyDays, double meanFrequency, double meanMonetary, double buyerShare,
      double activeShare) {}

  /**
   * Rank scores of one segment among all segments of the run, 0 = worst and 1 = best, plus the
   * buyers and active shares (absolute).
   */
  public record Scores(double recency, double frequency, double monetary, double buyers, double active) {
    double value() {
      return recency + frequency + monetary;
    }
  }

  private final List<LabelRule> rules;
  private final String fallback;
  private final boolean sticky;

  /**
   * @param rules in priority order; labels unique
   * @param fallback prefix of the label of a segment no rule fits
   * @param sticky whether matched segments keep yesterday's label while its rule still holds
   */
  public SegmentLabeler(List<LabelRule> rules, String fallback, boolean sticky) {
    this.rules = List.copyOf(rules);
    this.fallback = fallback;
    this.sticky = sticky;
  }

  /**
   * Rank scores: for each measure, the share of the other segments that are strictly worse, i.e.
   * {@code (number of segments with a worse value) / (k - 1)}. Ties share a score. Recency is better
   * when the buyers' median days since the last purchase is lower; a segment without buyers has the
   * worst recency. With a single segment every score is 1.
   */
  public static Map<Integer, Scores> score(List<Profile> profiles) {
    Map<Integer, Scores> out = new LinkedHashMap<>();
    for (Profile p : profiles) {
      out.put(p.segmentId(), new Scores(
          rank(profiles, p, q -> q.medianRecencyDays() == null ? Double.NEGATIVE_INFINITY : -q.medianRecencyDays()),
          rank(profiles, p, Profile::meanFrequency),
          rank(profiles, p, Profile::meanMonetary),
          p.buyerShare(),
          p.activeShare()));
    }
    return out;
  }

  private static double rank(List<Profile> all, Profile p, ToDoubleFunction<Profile> higherIsBetter) {
    if (all.size() < 2) {
      return 1.0;
    }
    double x = higherIsBetter.applyAsDouble(p);
    int worse = 0;
    for (Profile q : all) {
      if (higherIsBetter.applyAsDouble(q) < x) {
        worse++;
      }
    }
    return worse / (double) (all.size() - 1);
  }

  /**
   * Labels every segment.
   *
   * @param profiles today's segments
   * @param previousLabels yesterday's label of each segment id that was matched to a segment of the
   *     previous run (empty on a first run)
   * @return segment id -> label, unique labels
   */
  public Map<Integer, String> label(List<Profile> profiles, Map<Integer, String> previousLabels) {
    Map<Integer, Scores> scores = score(profiles);
    Map<Integer, String> labels = new LinkedHashMap<>();
    Set<String> taken = new HashSet<>();
    List<Profile> order = new ArrayList<>(profiles);
    order.sort(Comparator.<Profile>comparingDouble(p -> -scores.get(p.segmentId()).value())
        .thenComparingDouble(p -> -p.buyerShare())
        .thenComparingInt(Profile::segmentId));
    if (sticky) {
      for (Profile p : order) {
        String before = previousLabels.get(p.segmentId());
        LabelRule rule = before == null ? null : rule(before);
        if (rule != null && rule.matches(scores.get(p.segmentId())) && taken.add(before)) {
          labels.put(p.segmentId(), before);
        }
      }
    }
    for (Profile p : order) {
      if (labels.containsKey(p.segmentId())) {
        continue;
      }
      String chosen = null;
      for (LabelRule r : rules) {
        if (!taken.contains(r.label()) && r.matches(scores.get(p.segmentId()))) {
          chosen = r.label();
          break;
        }
      }
      if (chosen == null) {
        chosen = fallback + " " + p.segmentId();
      }
      taken.add(chosen);
      labels.put(p.segmentId(), chosen);
    }
    Map<Integer, String> inInputOrder = new LinkedHashMap<>();
    for (Profile p : profiles) {
      inInputOrder.put(p.segmentId(), labels.get(p.segmentId()));
    }
    return inInputOrder;
  }

  private LabelRule rule(String label) {
    for (LabelRule r : rules) {
      if (r.label().equals(label)) {
        return r;
      }
    }
    return null;
  }
}
