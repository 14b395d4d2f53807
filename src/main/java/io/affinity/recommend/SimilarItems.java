package io.affinity.recommend;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * {@code similar_items}: for every catalog item with ALS factors or text, the n other items most
 * similar to it. The method depends on what the item has:
 *
 * <ul>
 *   <li>{@code als}: factors only: the highest cosine of the ALS item factors, by the same blocked
 *       product as user ranking on unit-length factors (so the dot product is the cosine);
 *   <li>{@code content}: text only (e.g. a new item): the highest cosine of the TF-IDF vectors
 *       ({@link ContentSimilarity.Index});
 *   <li>{@code blend}: both: score = w x ALS cosine + (1 - w) x content cosine with w =
 *       {@code content.blend-weight}, over the union of the item's top {@link #CANDIDATES} x n by
 *       each method (a candidate without factors or text counts 0 for that part).
 * </ul>
 *
 * <p>A new item (too little history, see {@code content.new-item-max-users}) that has text is
 * ranked by content, and in other items' blends its ALS part is its content cosine: factors learnt
 * from a handful of events say little, and a new item would otherwise never look similar to
 * anything.
 */
final class SimilarItems {
  /** Output schema (contract): item_id, rank 1..n, similar_item_id, score, method. */
  static final StructType OUTPUT = new StructType()
      .add("item_id", DataTypes.StringType, false)
      .add("rank", DataTypes.IntegerType, false)
      .add("similar_item_id", DataTypes.StringType, false)
      .add("score", DataTypes.DoubleType, false)
      .add("method", DataTypes.StringType, false);

  static final String ALS = "als";
  static final String CONTENT = "content";
  static final String BLEND = "blend";
  /** Blend candidates: the top this-many-times-n of each method. */
  static final int CANDIDATES = 4;

  /** Output of {@link #blendGrid}: an item's blend list under one weight, by item idx. */
  static final StructType GRID = new StructType()
      .add("item_idx", DataTypes.IntegerType, false)
      .add("weight", DataTypes.DoubleType, false)
      .add("rank", DataTypes.IntegerType, false)
      .add("similar_item_idx", DataTypes.IntegerType, false);

  /** Everything a task needs: ids, unit-length factors, the content index and the blend weight. */
  private record Space(String[] ids, int[] idx, int[] factorRowOf, int[] positionOfFactorRow, float[] unit, int rank,
      ContentSimilarity.Index content, double blendWeight, boolean[] fresh) implements Serializable {

    /** Factor row an item is ranked by; -1 for a new item with text (its factors rest on too few events). */
    int queryRow(int position) {
      return fresh[position] && content != null && content.rowOf(position) >= 0 ? -1 : factorRowOf[position];
    }

    /** The ALS part of a blend: the content cosine stands in when either item is new. */
    double alsCosine(int positionA, int positionB) {
      if (fresh[positionA] || fresh[positionB]) {
        return contentCosine(positionA, positionB);
      }
      int a = factorRowOf[positionA];
      int b = factorRowOf[positionB];
      if (a < 0 || b < 0) {
        return 0.0;
      }
      double dot = 0;
      for (int f = 0; f < rank; f++) {
        dot += (double) unit[a * rank + f] * unit[b * rank + f];
      }
      return dot;
    }

    double contentCosine(int positionA, int positionB) {
      int a = content == null ? -1 : content.rowOf(positionA);
      int b = content == null ? -1 : content.rowOf(positionB);
      return a < 0 || b < 0 ? 0.0 : content.cosine(a, b);
    }
  }

  private SimilarItems() {}

  /**
   * The similar items of every item with factors in {@code model} or a vector in {@code content}:
   * min(n, items with factors - 1) rows per {@code als} item, up to n per {@code content} or
   * {@code blend} item (content rows need a shared term).
   *
   * @param content the content index, or null for ALS only
   * @param blendWeight weight of the ALS cosine in {@code blend} scores
   * @param fresh new items by catalog position (too little history to trust their factors), or null
   * @param partitions number of tasks to spread the items over
   * @return the rows and the broadcast they read, to release once the rows are written
   */
  static RankedRows compute(SparkSession spark, ScoringModel model, ContentSimilarity.Index content,
      double blendWeight, boolean[] fresh, int n, int blockSize, int partitions) {
    Space space = space(model, content, blendWeight, fresh);
    List<Integer> items = new ArrayList<>();
    for (int p = 0; p < space.ids().length; p++) {
      if (space.factorRowOf()[p] >= 0 || (content != null && content.rowOf(p) >= 0)) {
        items.add(p);
      }
    }
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Broadcast<Space> b = jsc.broadcast(space);
    JavaRDD<Row> out = jsc.parallelize(items, Math.max(1, Math.min(partitions, Math.max(1, items.size()))))
        .mapPartitions(it -> rankPartition(b.value(), it, n, blockSize, null).iterator());
    return new RankedRows(spark.createDataFrame(out, OUTPUT), b);
  }

  /**
   * The {@code blend} lists of the given items under each of several weights, from one candidate
   * search per item (the candidates do not depend on the weight, only their order does): what the
   * validation compares to choose {@code blend-weight}. Items without a blend list (no factors, no
   * text, or new) give no rows.
   *
   * @param positions catalog positions of the items to list
   * @return rows of {@link #GRID}, and the broadcast they read
   */
  static RankedRows blendGrid(SparkSession spark, ScoringModel model, ContentSimilarity.Index content, boolean[] fresh,
      double[] weights, List<Integer> positions, int n, int blockSize, int partitions) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Broadcast<Space> b = jsc.broadcast(space(model, content, weights.length == 0 ? 0.0 : weights[0], fresh));
    double[] grid = weights.clone();
    JavaRDD<Row> out = jsc.parallelize(positions, Math.max(1, Math.min(partitions, Math.max(1, positions.size()))))
        .mapPartitions(it -> rankPartition(b.value(), it, n, blockSize, grid).iterator());
    return new RankedRows(spark.createDataFrame(out, GRID), b);
  }

  /** Unit-length factors and the lookups of {@code model}, with the content index, for the tasks. */
  private static Space space(ScoringModel model, ContentSimilarity.Index content, double blendWeight, boolean[] fresh) {
    int rows = model.factorRows();
    int rank = model.rank();
    float[] unit = new float[rows * rank];
    int[] positionOfFactorRow = new int[rows];
    for (int row = 0; row < rows; row++) {
      positionOfFactorRow[row] = model.positionOfFactorRow(row);
      double norm = 0;
      for (int f = 0; f < rank; f++) {
        double v = model.factors()[row * rank + f];
        norm += v * v;
      }
      norm = Math.sqrt(norm);
      for (int f = 0; f < rank; f++) {
        unit[row * rank + f] = norm == 0 ? 0f : (float) (model.factors()[row * rank + f] / norm);
      }
    }
    String[] ids = new String[model.catalogSize()];
    int[] idx = new int[model.catalogSize()];
    int[] factorRowOf = new int[model.catalogSize()];
    for (int p = 0; p < ids.length; p++) {
      ids[p] = model.itemId(p);
      idx[p] = model.itemIdx(p);
      factorRowOf[p] = model.factorRowOf(p);
    }
    return new Space(ids, idx, factorRowOf, positionOfFactorRow, unit, rank, content, blendWeight,
        fresh == null ? new boolean[ids.length] : fresh);
  }

  /**
   * The lists of one task's items: rows of {@link #OUTPUT}, or with a weight grid only the blend
   * lists, one per weight, as rows of {@link #GRID}.
   */
  private static List<Row> rankPartition(Space s, Iterator<Integer> items, int n, int blockSize, double[] grid) {
    int factorRows = s.positionOfFactorRow().length;
    int alsK = Math.max(1, Math.min(CANDIDATES * n, Math.max(0, factorRows - 1)));
    int contentK = CANDIDATES * n;
    BlockTopN top = factorRows == 0 ? null : new BlockTopN(s.unit(), factorRows, s.rank(), blockSize, alsK);
    ContentSimilarity.Scratch scratch = s.content() == null ? null : s.content().scratch();
    List<Row> out = new ArrayList<>();
    int[] block = new int[top == null ? Math.max(1, blockSize) : top.blockSize()];
    int[] slots = new int[block.length];
    int[] alsRows = new int[alsK];
    float[] alsScores = new float[alsK];
    int[] contentRows = new int[contentK];
    float[] contentScores = new float[contentK];
    float[] v = new float[s.rank()];
    double[] score = new double[alsK + contentK];
    while (items.hasNext()) {
      int size = 0;
      int scored = 0;
      while (size < block.length && items.hasNext()) {
        int p = items.next();
        int row = s.queryRow(p);
        slots[size] = -1;
        if (row >= 0) {
          System.arraycopy(s.unit(), row * s.rank(), v, 0, s.rank());
          top.setQuery(scored, v);
          slots[size] = scored++;
        }
        block[size++] = p;
      }
      if (scored > 0) {
        top.multiply(scored);
      }
      for (int i = 0; i < size; i++) {
        int p = block[i];
        int row = s.queryRow(p);
        int alsFound = 0;
        if (row >= 0) {
          top.skip()[row] = true;
          alsFound = top.top(slots[i], Math.min(alsK, factorRows - 1), alsRows, alsScores);
          top.skip()[row] = false;
        }
        int contentRow = s.content() == null ? -1 : s.content().rowOf(p);
        int contentFound = contentRow < 0 ? 0
            : s.content().top(contentRow, null, contentK, scratch, contentRows, contentScores);
        if (row >= 0 && contentRow >= 0) {
          int[] candidates = candidates(s, alsRows, alsFound, contentRows, contentFound);
          for (double w : grid == null ? new double[] {s.blendWeight()} : grid) {
            Integer[] order = blend(s, p, w, candidates, score);
            for (int r = 0; r < Math.min(n, order.length); r++) {
              int q = candidates[order[r]];
              out.add(grid == null ? RowFactory.create(s.ids()[p], r + 1, s.ids()[q], score[order[r]], BLEND)
                  : RowFactory.create(s.idx()[p], w, r + 1, s.idx()[q]));
            }
          }
        } else if (grid != null) {
          continue; // no blend list
        } else if (row >= 0) {
          for (int r = 0; r < Math.min(n, alsFound); r++) {
            out.add(RowFactory.create(s.ids()[p], r + 1, s.ids()[s.positionOfFactorRow()[alsRows[r]]],
                (double) alsScores[r], ALS));
          }
        } else {
          for (int r = 0; r < Math.min(n, contentFound); r++) {
            out.add(RowFactory.create(s.ids()[p], r + 1, s.ids()[s.content().positionOfRow(contentRows[r])],
                (double) contentScores[r], CONTENT));
          }
        }
      }
    }
    return out;
  }

  /** The distinct catalog positions of both candidate lists. */
  private static int[] candidates(Space s, int[] alsRows, int alsFound, int[] contentRows, int contentFound) {
    int[] candidates = new int[alsFound + contentFound];
    int c = 0;
    for (int i = 0; i < alsFound; i++) {
      candidates[c++] = s.positionOfFactorRow()[alsRows[i]];
    }
    for (int i = 0; i < contentFound; i++) {
      candidates[c++] = s.content().positionOfRow(contentRows[i]);
    }
    return Arrays.stream(candidates, 0, c).distinct().toArray();
  }

  /**
   * The candidates ordered by w x ALS cosine + (1 - w) x content cosine, best first, ties to the
   * lower catalog position.
   *
   * @param score filled with each candidate's blended score (by candidate index)
   * @return candidate indices, best first
   */
  private static Integer[] blend(Space s, int p, double w, int[] candidates, double[] score) {
    Integer[] order = new Integer[candidates.length];
    for (int i = 0; i < candidates.length; i++) {
      order[i] = i;
      score[i] = w * s.alsCosine(p, candidates[i]) + (1 - w) * s.contentCosine(p, candidates[i]);
    }
    Arrays.sort(order, (a, b) -> score[a] != score[b] ? Double.compare(score[b], score[a])
        : Integer.compare(candidates[a], candidates[b]));
    return order;
  }
}
