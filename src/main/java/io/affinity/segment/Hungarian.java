package io.affinity.segment;

import java.util.Arrays;

/**
 * Minimum-cost assignment (the Hungarian algorithm, Kuhn-Munkres with potentials) on a small dense
 * cost matrix: O(n<sup>2</sup>m) for n rows and m columns. Used on the driver to match today's k
 * centroids to yesterday's, so k is at most a few dozen and speed is irrelevant; exactness is not.
 */
final class Hungarian {
  private Hungarian() {}

  /**
   * Solves the assignment problem.
   *
   * @param cost rows x columns, finite values; rows and columns may differ in number
   * @return for every row the column assigned to it, or -1 when there are more rows than columns
   *     and the row is left over. Every column is used at most once and the total cost of the
   *     assigned pairs is minimal among all assignments of min(rows, columns) pairs.
   */
  static int[] solve(double[][] cost) {
    int rows = cost.length;
    if (rows == 0) {
      return new int[0];
    }
    int cols = cost[0].length;
    for (double[] r : cost) {
      if (r.length != cols) {
        throw new IllegalArgumentException("cost matrix is not rectangular");
      }
      for (double v : r) {
        if (!Double.isFinite(v)) {
          throw new IllegalArgumentException("cost matrix holds a non-finite value: " + v);
        }
      }
    }
    if (cols == 0) {
      int[] none = new int[rows];
      Arrays.fill(none, -1);
      return none;
    }
    if (rows > cols) {
      // The algorithm below needs rows <= columns: solve the transpose and invert the answer.
      double[][] t = new double[cols][rows];
      for (int i = 0; i < rows; i++) {
        for (int j = 0; j < cols; j++) {
          t[j][i] = cost[i][j];
        }
      }
      int[] colToRow = solve(t);
      int[] rowToCol = new int[rows];
      Arrays.fill(rowToCol, -1);
      for (int j = 0; j < cols; j++) {
        rowToCol[colToRow[j]] = j;
      }
      return rowToCol;
    }
    // 1-based arrays; u, v are the row and column potentials, way[] the augmenting path, p[j] the
    // row matched to column j (0 = none).
    double[] u = new double[rows + 1];
    double[] v = new double[cols + 1];
    int[] p = new int[cols + 1];
    int[] way = new int[cols + 1];
    for (int i = 1; i <= rows; i++) {
      p[0] = i;
      int j0 = 0;
      double[] minv = new double[cols + 1];
      Arrays.fill(minv, Double.POSITIVE_INFINITY);
      boolean[] used = new boolean[cols + 1];
      do {
        used[j0] = true;
        int i0 = p[j0];
        double delta = Double.POSITIVE_INFINITY;
        int j1 = 0;
        for (int j = 1; j <= cols; j++) {
          if (!used[j]) {
            double cur = cost[i0 - 1][j - 1] - u[i0] - v[j];
            if (cur < minv[j]) {
              minv[j] = cur;
              way[j] = j0;
            }
            if (minv[j] < delta) {
              delta = minv[j];
              j1 = j;
            }
          }
        }
        for (int j = 0; j <= cols; j++) {
          if (used[j]) {
            u[p[j]] += delta;
            v[j] -= delta;
          } else {
            minv[j] -= delta;
          }
        }
        j0 = j1;
      } while (p[j0] != 0);
      do {
        int j1 = way[j0];
        p[j0] = p[j1];
        j0 = j1;
      } while (j0 != 0);
    }
    int[] rowToCol = new int[rows];
    Arrays.fill(rowToCol, -1);
    for (int j = 1; j <= cols; j++) {
      if (p[j] != 0) {
        rowToCol[p[j] - 1] = j - 1;
      }
    }
    return rowToCol;
  }
}
