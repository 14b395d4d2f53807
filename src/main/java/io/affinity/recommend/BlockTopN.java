package io.affinity.recommend;

import dev.ludovic.netlib.blas.BLAS;
import dev.ludovic.netlib.blas.JavaBLAS;

/**
 * Top-n selection of candidate rows for a block of query vectors, by dot product. The scores of a
 * whole block come from one matrix product (BLAS {@code sgemm}), which is what makes ranking the
 * catalog for every user cheap: one pass over the candidate matrix per block instead of one per
 * user, and no (user, item) pair ever becomes a row.
 *
 * <p>Per query only a bounded heap of n entries is kept. Rows the caller marks in {@link #skip()}
 * (items the user bought, items already chosen) are passed over while scanning, so the heap never
 * has to make room for them and exactly n rows come out whenever n unmarked rows exist. Ties are
 * broken by the lower row number, which makes the result independent of scan order.
 *
 * <p>One instance per task: it owns reusable buffers and is not thread-safe.
 */
final class BlockTopN {
  /** Cap on the score buffer (block size x rows), 32 MB of floats, whatever block size is asked. */
  static final int MAX_BLOCK_FLOATS = 8 << 20;

  // The pure-Java BLAS (vectorised when jdk.incubator.vector is present): at the ranks ALS uses,
  // native BLAS loses to it on call overhead (docs/RECOMMEND.md).
  private static final BLAS BLAS_INSTANCE = JavaBLAS.getInstance();

  private final float[] candidates;
  private final int rows;
  private final int rank;
  private final int blockSize;
  private final float[] queries;
  private final float[] scores;
  private final boolean[] skip;
  private final float[] heapScore;
  private final int[] heapRow;
  // Spread of the scores the last top call scanned (unskipped, not NaN), for lastScoresAllEqual.
  private int lastScanned;
  private float lastMin;
  private float lastMax;

  /**
   * @param candidates the candidate matrix, row-major: row j is {@code candidates[j*rank, (j+1)*rank)}
   * @param rows number of candidate rows
   * @param rank vector length
   * @param requestedBlockSize queries per matrix product (capped by {@link #MAX_BLOCK_FLOATS})
   * @param maxN the largest n that {@link #top} will be asked for
   */
  BlockTopN(float[] candidates, int rows, int rank, int requestedBlockSize, int maxN) {
    if (candidates.length != (long) rows * rank) {
      throw new IllegalArgumentException("candidate matrix has " + candidates.length + " floats, expected "
          + rows + " x " + rank);
    }
    this.candidates = candidates;
    this.rows = rows;
    this.rank = rank;
    this.blockSize = Math.max(1, Math.min(requestedBlockSize, MAX_BLOCK_FLOATS / Math.max(1, rows)));
    this.queries = new float[blockSize * rank];
    this.scores = new float[Math.max(1, blockSize * rows)];
    this.skip = new boolean[rows];
    this.heapScore = new float[maxN];
    this.heapRow = new int[maxN];
  }

  /** Queries per matrix product: the requested block size, capped so the score buffer stays bounded. */
  int blockSize() {
    return blockSize;
  }

  /** Rows to pass over in the next {@link #top} call. The caller sets and clears the marks. */
  boolean[] skip() {
    return skip;
  }

  /** Puts query vector {@code v} (length rank) in slot {@code slot} of the current block. */
  void setQuery(int slot, float[] v) {
    System.arraycopy(v, 0, queries, slot * rank, rank);
  }

  /** Scores the first {@code count} query slots against every candidate row. */
  void multiply(int count) {
    if (rows == 0 || count == 0) {
      return;
    }
    // Column-major view: candidates are a rank x rows matrix A, queries a rank x count matrix B;
    // scores = A^T B is rows x count, so each query's scores are contiguous.
    BLAS_INSTANCE.sgemm("T", "N", rows, count, rank, 1.0f, candidates, rank, queries, rank, 0.0f, scores, rows);
  }

  /**
   * The best {@code n} unskipped rows for query {@code slot} of the last {@link #multiply}, best
   * first (score descending, then row ascending).
   *
   * @return how many rows were written to {@code outRows}/{@code outScores} (less than n only when
   *     fewer than n rows are unskipped)
   */
  int top(int slot, int n, int[] outRows, float[] outScores) {
    if (n > heapRow.length) {
      throw new IllegalArgumentException("n " + n + " is above the maximum " + heapRow.length);
    }
    int size = 0;
    int base = slot * rows;
    int scanned = 0;
    float min = Float.POSITIVE_INFINITY;
    float max = Float.NEGATIVE_INFINITY;
    for (int j = 0; j < rows; j++) {
      if (skip[j]) {
        continue;
      }
      float s = scores[base + j];
      if (Float.isNaN(s)) {
        continue;
      }
      scanned++;
      min = Math.min(min, s);
      max = Math.max(max, s);
      if (size < n) {
        heapScore[size] = s;
        heapRow[size] = j;
        siftUp(size);
        size++;
      } else if (n > 0 && better(s, j, heapScore[0], heapRow[0])) {
        heapScore[0] = s;
        heapRow[0] = j;
        siftDown(0, size);
      }
    }
    // Pop the worst first into the back of the output: the result is best first.
    for (int out = size - 1; out >= 0; out--) {
      outRows[out] = heapRow[0];
      outScores[out] = heapScore[0];
      int last = out;
      heapScore[0] = heapScore[last];
      heapRow[0] = heapRow[last];
      siftDown(0, last);
    }
    lastScanned = scanned;
    lastMin = min;
    lastMax = max;
    return size;
  }

  /**
   * Whether the last {@link #top} call saw at least two candidate rows (unskipped, not NaN) and
   * every one of them had exactly the same score. Then the scores rank nothing: which rows came
   * out, and in what order, was decided by the row number alone (a user vector of zeros does
   * this, and so does one orthogonal to every candidate). The whole scan counts, not only the top
   * n, so a query whose best rows tie but which still tells them apart from the rest is not
   * affected. Exact comparison on purpose: any difference at all is a ranking, whatever its scale.
   */
  boolean lastScoresAllEqual() {
    return lastScanned >= 2 && lastMin == lastMax;
  }

  /** Whether (s1, r1) ranks before (s2, r2): higher score, then lower row. */
  private static boolean better(float s1, int r1, float s2, int r2) {
    return s1 > s2 || (s1 == s2 && r1 < r2);
  }

  // Min-heap on rank order: the root is the worst entry kept so far.
  private void siftUp(int i) {
    while (i > 0) {
      int parent = (i - 1) >>> 1;
      if (!better(heapScore[parent], heapRow[parent], heapScore[i], heapRow[i])) {
        return;
      }
      swap(i, parent);
      i = parent;
    }
  }

  private void siftDown(int i, int size) {
    while (true) {
      int l = 2 * i + 1;
      if (l >= size) {
        return;
      }
      int worst = l;
      int r = l + 1;
      if (r < size && better(heapScore[l], heapRow[l], heapScore[r], heapRow[r])) {
        worst = r;
      }
      if (!better(heapScore[i], heapRow[i], heapScore[worst], heapRow[worst])) {
        return;
      }
      swap(i, worst);
      i = worst;
    }
  }

  private void swap(int a, int b) {
    float s = heapScore[a];
    heapScore[a] = heapScore[b];
    heapScore[b] = s;
    int r = heapRow[a];
    heapRow[a] = heapRow[b];
    heapRow[b] = r;
  }
}
