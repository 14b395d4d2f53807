package io.affinity.segment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The assignment is optimal (against brute force) and well-formed, square or not. */
class HungarianTest {

  @Test
  void handSolvedSquareCase() {
    // Greedy row by row would take 1 (row 0 -> col 0) and then pay 9 + 9; the optimum is 2 + 2 + 2.
    double[][] cost = {
      {1, 2, 9},
      {2, 9, 9},
      {9, 9, 2},
    };
    assertArrayEquals(new int[] {1, 0, 2}, Hungarian.solve(cost));
  }

  @Test
  void matchesBruteForceOnRandomMatrices() {
    Random rng = new Random(1);
    for (int trial = 0; trial < 300; trial++) {
      int rows = 1 + rng.nextInt(6);
      int cols = 1 + rng.nextInt(6);
      double[][] cost = new double[rows][cols];
      for (double[] r : cost) {
        for (int j = 0; j < cols; j++) {
          // Small integers make ties common, which is where a buggy implementation goes wrong.
          r[j] = rng.nextInt(5) + (trial % 3 == 0 ? rng.nextDouble() : 0);
        }
      }
      int[] a = Hungarian.solve(cost);
      assertEquals(rows, a.length);
      Set<Integer> used = new HashSet<>();
      int assigned = 0;
      double total = 0;
      for (int i = 0; i < rows; i++) {
        if (a[i] >= 0) {
          assertEquals(true, used.add(a[i]), "column used twice");
          assigned++;
          total += cost[i][a[i]];
        }
      }
      assertEquals(Math.min(rows, cols), assigned, "every row or every column must be assigned");
      assertEquals(bruteForce(cost), total, 1e-9, "trial " + trial);
    }
  }

  @Test
  void moreRowsThanColumnsLeavesTheCostliestRowOut() {
    double[][] cost = {{5, 5}, {0, 1}, {1, 0}};
    assertArrayEquals(new int[] {-1, 0, 1}, Hungarian.solve(cost));
  }

  @Test
  void degenerateShapesAndBadValues() {
    assertArrayEquals(new int[0], Hungarian.solve(new double[0][0]));
    assertArrayEquals(new int[] {-1, -1}, Hungarian.solve(new double[2][0]));
    assertThrows(IllegalArgumentException.class, () -> Hungarian.solve(new double[][] {{1, Double.NaN}}));
    assertThrows(IllegalArgumentException.class, () -> Hungarian.solve(new double[][] {{1, 2}, {1}}));
  }

  /** Minimum total cost over all ways to assign min(rows, cols) pairs. */
  private static double bruteForce(double[][] cost) {
    int rows = cost.length;
    int cols = cost[0].length;
    if (rows <= cols) {
      return best(cost, 0, new boolean[cols]);
    }
    double[][] t = new double[cols][rows];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        t[j][i] = cost[i][j];
      }
    }
    return best(t, 0, new boolean[rows]);
  }

  private static double best(double[][] cost, int row, boolean[] used) {
    if (row == cost.length) {
      return 0;
    }
    double b = Double.POSITIVE_INFINITY;
    for (int j = 0; j < used.length; j++) {
      if (!used[j]) {
        used[j] = true;
        b = Math.min(b, cost[row][j] + best(cost, row + 1, used));
        used[j] = false;
      }
    }
    return b;
  }
}
