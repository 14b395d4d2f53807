package io.affinity.segment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.affinity.segment.CentroidMatcher.Previous;
import io.affinity.segment.CentroidMatcher.Result;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Stable ids from centroid matching: permutations, drift of the scaler, appearing and vanishing. */
class CentroidMatcherTest {
  private static final double[] MEAN = {30.0, 2.0};
  private static final double[] STD = {10.0, 0.5};

  /** Model units -> today's standardized units. */
  private static double[] z(double... model) {
    return CentroidMatcher.standardize(model, MEAN, STD);
  }

  @Test
  void firstRunNumbersSegmentsFromOneBySize() {
    Result r = CentroidMatcher.match(new double[][] {z(10, 1), z(50, 3), z(30, 2)}, MEAN, STD, List.of(), 0, 1.0,
        new long[] {20, 50, 30});
    assertArrayEquals(new int[] {3, 1, 2}, r.segmentIds());
    assertEquals(List.of(1, 2, 3), r.appeared());
    assertEquals(List.of(), r.vanished());
    assertEquals(3, r.highWater());
  }

  @Test
  void reorderedClustersKeepTheirIds() {
    List<Previous> prev = List.of(new Previous(7, new double[] {10, 1}), new Previous(3, new double[] {50, 3}),
        new Previous(5, new double[] {30, 2}));
    // Today KMeans numbered the same populations differently, and they moved a little.
    double[][] today = {z(30.5, 2.05), z(9.0, 1.0), z(51, 3.1)};
    Result r = CentroidMatcher.match(today, MEAN, STD, prev, 7, 1.0, new long[] {1, 1, 1});
    assertArrayEquals(new int[] {5, 7, 3}, r.segmentIds());
    // (30.5 - 30) / 10 = 0.05 and (2.05 - 2) / 0.5 = 0.1: distance sqrt(0.05^2 + 0.1^2).
    assertEquals(Math.sqrt(0.05 * 0.05 + 0.1 * 0.1), r.distances()[0], 1e-12);
    assertEquals(List.of(), r.appeared());
    assertEquals(List.of(), r.vanished());
    assertEquals(7, r.highWater());
  }

  @Test
  void distancesUseTodaysScaler() {
    // The same centroid in model units is the same population even if the whole population's mean
    // and spread moved: standardizing yesterday's centroid with today's scaler gives distance 0.
    double[] mean = {40.0, 2.5};
    double[] std = {20.0, 1.0};
    double[][] today = {CentroidMatcher.standardize(new double[] {10, 1}, mean, std)};
    Result r = CentroidMatcher.match(today, mean, std, List.of(new Previous(4, new double[] {10, 1})), 4, 0.0,
        new long[] {1});
    assertArrayEquals(new int[] {4}, r.segmentIds());
    assertEquals(0.0, r.distances()[0], 1e-12);
  }

  @Test
  void aFarCentroidIsANewSegmentWithAFreshId() {
    List<Previous> prev = List.of(new Previous(1, new double[] {10, 1}), new Previous(2, new double[] {50, 3}));
    // Cluster 1 is 2 standardized units away from segment 2: beyond max-distance 1.0.
    double[][] today = {z(10, 1), z(50, 4)};
    Result r = CentroidMatcher.match(today, MEAN, STD, prev, 6, 1.0, new long[] {1, 1});
    assertEquals(1, r.segmentIds()[0]);
    assertEquals(7, r.segmentIds()[1], "a new id goes above the high-water mark 6, never reusing an old id");
    assertTrue(Double.isNaN(r.distances()[1]));
    assertEquals(List.of(7), r.appeared());
    assertEquals(List.of(2), r.vanished());
    assertEquals(7, r.highWater());
  }

  @Test
  void moreOrFewerSegmentsThanBefore() {
    List<Previous> two = List.of(new Previous(1, new double[] {10, 1}), new Previous(2, new double[] {50, 3}));
    Result split = CentroidMatcher.match(new double[][] {z(50, 3), z(30, 2), z(10, 1), z(70, 2)}, MEAN, STD, two, 2,
        1.0, new long[] {10, 40, 10, 30});
    assertArrayEquals(new int[] {2, 3, 1, 4}, split.segmentIds(), "new ids in order of size: 40 users, then 30");
    assertEquals(List.of(3, 4), split.appeared());
    assertEquals(List.of(), split.vanished());

    List<Previous> three = List.of(new Previous(1, new double[] {10, 1}), new Previous(2, new double[] {50, 3}),
        new Previous(3, new double[] {30, 2}));
    Result merged = CentroidMatcher.match(new double[][] {z(49, 3), z(11, 1)}, MEAN, STD, three, 3, 1.0, new long[] {5, 5});
    assertArrayEquals(new int[] {2, 1}, merged.segmentIds());
    assertEquals(List.of(), merged.appeared());
    assertEquals(List.of(3), merged.vanished());
  }

  @Test
  void constantFeatureDoesNotCount() {
    double[] std = {10.0, 0.0};
    double[][] today = {CentroidMatcher.standardize(new double[] {30, 5}, MEAN, std)};
    Result r = CentroidMatcher.match(today, MEAN, std, List.of(new Previous(1, new double[] {30, 9})), 1, 0.0,
        new long[] {1});
    assertArrayEquals(new int[] {1}, r.segmentIds());
  }
}
