package io.affinity.segment;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Gives today's clusters stable segment ids: KMeans numbers clusters arbitrarily on every fit, so
 * today's centroids are matched to the previous run's by a minimum-total-distance assignment
 * ({@link Hungarian}), and a matched cluster inherits the previous segment's id.
 *
 * <p>Distances are Euclidean in today's standardized space: yesterday's centroids are kept in the
 * model's input units (after imputation and log transform, before scaling) and standardized with
 * today's scaler, so both sides are measured with the same yardstick even when the population's
 * mean and spread drift. A pair further apart than {@code maxDistance} is not a match: that
 * segment vanished and today's appeared. Clusters that do not inherit an id get new ids above the
 * highest id ever issued, so an id is never reused for a different population.
 */
final class CentroidMatcher {
  private CentroidMatcher() {}

  /**
   * A segment of the previous run.
   *
   * @param segmentId its id
   * @param centroid its centroid in model input units, in today's feature order
   */
  record Previous(int segmentId, double[] centroid) {}

  /**
   * The outcome.
   *
   * @param segmentIds segment id of each of today's clusters (by cluster index)
   * @param distances distance of each cluster to the previous centroid it matched, NaN if none
   * @param appeared ids of today's segments that matched nothing (new ids), ascending
   * @param vanished ids of previous segments that matched nothing, ascending
   * @param highWater the highest segment id issued so far, including today's
   */
  record Result(int[] segmentIds, double[] distances, List<Integer> appeared, List<Integer> vanished, int highWater) {}

  /**
   * @param todayZ today's centroids, standardized (k x d)
   * @param mean today's scaler means (d), model input units
   * @param std today's scaler standard deviations (d); 0 for a constant feature
   * @param previous the previous run's segments (empty on a first run)
   * @param previousHighWater highest id issued before today (0 on a first run)
   * @param maxDistance largest distance that still counts as the same segment
   * @param sizes users per cluster today; new ids go to bigger clusters first
   */
  static Result match(double[][] todayZ, double[] mean, double[] std, List<Previous> previous,
      int previousHighWater, double maxDistance, long[] sizes) {
    int k = todayZ.length;
    int[] ids = new int[k];
    double[] distances = new double[k];
    java.util.Arrays.fill(ids, -1);
    java.util.Arrays.fill(distances, Double.NaN);
    boolean[] previousUsed = new boolean[previous.size()];
    if (!previous.isEmpty()) {
      double[][] cost = new double[k][previous.size()];
      for (int j = 0; j < previous.size(); j++) {
        double[] z = standardize(previous.get(j).centroid(), mean, std);
        for (int i = 0; i < k; i++) {
          cost[i][j] = distance(todayZ[i], z);
        }
      }
      int[] assignment = Hungarian.solve(cost);
      for (int i = 0; i < k; i++) {
        int j = assignment[i];
        if (j >= 0 && cost[i][j] <= maxDistance) {
          ids[i] = previous.get(j).segmentId();
          distances[i] = cost[i][j];
          previousUsed[j] = true;
        }
      }
    }
    int highWater = previousHighWater;
    for (Previous p : previous) {
      highWater = Math.max(highWater, p.segmentId());
    }
    List<Integer> appeared = new ArrayList<>();
    List<Integer> fresh = IntStream.range(0, k).filter(i -> ids[i] < 0).boxed()
        .sorted(Comparator.<Integer>comparingLong(i -> -sizes[i]).thenComparingInt(i -> i)).toList();
    for (int i : fresh) {
      ids[i] = ++highWater;
      appeared.add(ids[i]);
    }
    List<Integer> vanished = new ArrayList<>();
    for (int j = 0; j < previous.size(); j++) {
      if (!previousUsed[j]) {
        vanished.add(previous.get(j).segmentId());
      }
    }
    vanished.sort(null);
    return new Result(ids, distances, appeared, vanished, highWater);
  }

  /** Like Spark's StandardScalerModel: a feature with zero spread maps to 0. */
  static double[] standardize(double[] x, double[] mean, double[] std) {
    double[] z = new double[x.length];
    for (int f = 0; f < x.length; f++) {
      z[f] = std[f] == 0.0 ? 0.0 : (x[f] - mean[f]) / std[f];
    }
    return z;
  }

  static double distance(double[] a, double[] b) {
    double s = 0;
    for (int f = 0; f < a.length; f++) {
      double d = a[f] - b[f];
      s += d * d;
    }
    return Math.sqrt(s);
  }
}
