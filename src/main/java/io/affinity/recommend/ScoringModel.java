package io.affinity.recommend;

import java.io.Serializable;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Everything the per-user ranking needs about items, small enough to broadcast: the catalog (item
 * idx and raw id, by ascending idx), the ALS item factors of the catalog items that have them, and
 * the popularity rankings used as fallback. Bounded by the catalog size, never by the user count.
 */
final class ScoringModel implements Serializable {
  private static final long serialVersionUID = 1L;

  /**
   * A fallback ranking: catalog positions best first, and the score reported for each.
   *
   * @param positions catalog positions, best first
   * @param scores the row score of each position (share of users who bought the item)
   */
  record Ranking(int[] positions, double[] scores) implements Serializable {
    static final Ranking EMPTY = new Ranking(new int[0], new double[0]);
  }

  /**
   * The catalog: every item that may be recommended, by ascending item idx. An item's index in
   * these arrays is its catalog position.
   *
   * @param itemIdx item idx, strictly ascending
   * @param itemIds raw item id of each position
   */
  record Catalog(int[] itemIdx, String[] itemIds) implements Serializable {
    Catalog {
      if (itemIds.length != itemIdx.length) {
        throw new IllegalArgumentException("catalog has " + itemIdx.length + " idx but " + itemIds.length + " ids");
      }
      for (int i = 1; i < itemIdx.length; i++) {
        if (itemIdx[i] <= itemIdx[i - 1]) {
          throw new IllegalArgumentException("catalog item idx must be strictly ascending");
        }
      }
    }

    /** Builds the catalog from rows of (item_idx int, item_id string); collects them to the driver. */
    static Catalog of(Dataset<Row> items) {
      List<Row> rows = items.select("item_idx", "item_id").distinct().orderBy("item_idx").collectAsList();
      int[] idx = new int[rows.size()];
      String[] ids = new String[rows.size()];
      for (int i = 0; i < rows.size(); i++) {
        idx[i] = rows.get(i).getInt(0);
        ids[i] = rows.get(i).getString(1);
      }
      return new Catalog(idx, ids);
    }

    int size() {
      return itemIdx.length;
    }

    /** Position of an item idx, or -1 when the item is not in the catalog. */
    int position(int idx) {
      int p = Arrays.binarySearch(itemIdx, idx);
      return p >= 0 ? p : -1;
    }
  }

  /**
   * New items that may enter a user's list by content similarity (source {@code content}): for each
   * catalog position, its most content-similar new items, best first.
   *
   * @param neighbours per catalog position: new-item positions, best first (null = none)
   * @param scores the content cosine of each
   * @param maxSlots at most this many rows per user
   * @param minSimilarity the cosine a new item needs with an item of the user's history
   */
  record NewItems(int[][] neighbours, float[][] scores, int maxSlots, double minSimilarity) implements Serializable {
    static final NewItems NONE = new NewItems(new int[0][], new float[0][], 0, 1.0);
  }

  private NewItems newItems = NewItems.NONE;
  private final int[] itemIdx;
  private final String[] itemIds;
  private final Catalog catalog;
  private final int rank;
  private final float[] factors;
  private final int[] factorPosition;
  private final int[] factorRowOf;
  private final float[] norms;
  private final Ranking popular;
  private final Map<String, Ranking> segments;

  /**
   * @param catalog the items that may be recommended
   * @param rank factor length (0 when there are no factors)
   * @param factorPosition catalog position of each factor row, strictly ascending
   * @param factors factor rows, row-major, in the order of {@code factorPosition}
   * @param popular the global popularity ranking
   * @param segments popularity ranking per segment id
   */
  ScoringModel(Catalog catalog, int rank, int[] factorPosition, float[] factors, Ranking popular,
      Map<String, Ranking> segments) {
    for (int i = 1; i < factorPosition.length; i++) {
      if (factorPosition[i] <= factorPosition[i - 1]) {
        throw new IllegalArgumentException("factor rows must be in ascending catalog order");
      }
    }
    this.catalog = catalog;
    this.itemIdx = catalog.itemIdx();
    this.itemIds = catalog.itemIds();
    this.rank = rank;
    this.factorPosition = factorPosition;
    this.factors = factors;
    this.popular = popular;
    this.segments = segments;
    this.factorRowOf = new int[itemIdx.length];
    Arrays.fill(factorRowOf, -1);
    this.norms = new float[factorPosition.length];
    for (int row = 0; row < factorPosition.length; row++) {
      factorRowOf[factorPosition[row]] = row;
      double sum = 0;
      for (int f = 0; f < rank; f++) {
        double v = factors[row * rank + f];
        sum += v * v;
      }
      norms[row] = (float) Math.sqrt(sum);
    }
  }

  /**
   * A scoring model from ALS item factors (rows of id int, features array of float): only factors
   * of catalog items are kept (collected to the driver; bounded by the catalog).
   */
  static ScoringModel of(Catalog catalog, Dataset<Row> itemFactors, Ranking popular, Map<String, Ranking> segments) {
    List<Row> rows = itemFactors.orderBy("id").collectAsList();
    int rank = rows.isEmpty() ? 0 : rows.get(0).getList(1).size();
    int[] positions = new int[rows.size()];
    float[] factors = new float[rows.size() * rank];
    int n = 0;
    for (Row r : rows) {
      int p = catalog.position(r.getInt(0));
      if (p < 0) {
        continue;
      }
      List<Float> f = r.getList(1);
      for (int i = 0; i < rank; i++) {
        factors[n * rank + i] = f.get(i);
      }
      positions[n++] = p;
    }
    return new ScoringModel(catalog, rank, Arrays.copyOf(positions, n), Arrays.copyOf(factors, n * rank), popular,
        segments);
  }

  Catalog catalog() {
    return catalog;
  }

  int catalogSize() {
    return itemIdx.length;
  }

  /** Catalog position of an item idx, or -1 when the item is not in the catalog. */
  int position(int idx) {
    return catalog.position(idx);
  }

  int itemIdx(int position) {
    return itemIdx[position];
  }

  String itemId(int position) {
    return itemIds[position];
  }

  int rank() {
    return rank;
  }

  int factorRows() {
    return factorPosition.length;
  }

  /** The factor matrix, row-major; shared, do not modify. */
  float[] factors() {
    return factors;
  }

  int positionOfFactorRow(int row) {
    return factorPosition[row];
  }

  /** Factor row of a catalog position, or -1 when the item has no factors. */
  int factorRowOf(int position) {
    return factorRowOf[position];
  }

  /**
   * Cosine similarity of two factor rows; 0 when either vector is zero.
   */
  double cosine(int rowA, int rowB) {
    float na = norms[rowA];
    float nb = norms[rowB];
    if (na == 0f || nb == 0f) {
      return 0.0;
    }
    double dot = 0;
    int a = rowA * rank;
    int b = rowB * rank;
    for (int f = 0; f < rank; f++) {
      dot += (double) factors[a + f] * factors[b + f];
    }
    return dot / ((double) na * nb);
  }

  /** Sets the new items that content may add (before the model is broadcast); returns this model. */
  ScoringModel withNewItems(NewItems items) {
    this.newItems = items;
    return this;
  }

  NewItems newItems() {
    return newItems;
  }

  Ranking popular() {
    return popular;
  }

  /** The ranking of a segment, or null when the segment is unknown (or null). */
  Ranking segment(String segmentId) {
    return segmentId == null ? null : segments.get(segmentId);
  }
}
