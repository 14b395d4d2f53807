package io.affinity.segment;

/**
 * What label claims are about: one segment's members, or the whole population of the run measured
 * the same way (population: {@code segmentId} -1). See {@link LabelRule} for each measure.
 *
 * @param segmentId the stable segment id, -1 for the population
 * @param size members
 * @param recency median recency score (1..5) of the members who bought; null if none bought
 * @param frequency median frequency score of the members who bought; null if none bought
 * @param monetary median monetary score of the members who bought; null if none bought
 * @param tenure median days since the members were first seen; null if unknown
 * @param newShare share of members first seen within {@code labels.new-days}
 * @param buyers share of members with at least one purchase
 * @param active share of members with any event in the last {@code labels.active-days}
 */
public record SegmentMeasures(int segmentId, long size, Double recency, Double frequency, Double monetary,
    Double tenure, double newShare, double buyers, double active) {

  /** The value a claim on {@code m} is checked against. */
  public Double get(LabelRule.Measure m) {
    return switch (m) {
      case RECENCY -> recency;
      case FREQUENCY -> frequency;
      case MONETARY -> monetary;
      case TENURE -> tenure;
      case NEW -> newShare;
      case BUYERS -> buyers;
      case ACTIVE -> active;
    };
  }

  /** Labelling order: most valuable first (sum of the median scores; no buyers counts 0). */
  double value() {
    return (recency == null ? 0 : recency) + (frequency == null ? 0 : frequency) + (monetary == null ? 0 : monetary);
  }

  /** An empty segment: nothing measured. */
  static SegmentMeasures empty(int segmentId) {
    return new SegmentMeasures(segmentId, 0, null, null, null, null, 0.0, 0.0, 0.0);
  }
}
