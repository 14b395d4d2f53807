package io.affinity.recommend;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * {@code similar_items}: for every item with ALS factors, the n other items with the highest cosine
 * similarity of their factors. Uses the same blocked product as user ranking, on unit-length
 * factors (so the dot product is the cosine), with each item skipping itself.
 */
final class SimilarItems {
  /** Output schema (contract): item_id, rank 1..n, similar_item_id, score = cosine in [-1, 1]. */
  static final StructType OUTPUT = new StructType()
      .add("item_id", DataTypes.StringType, false)
      .add("rank", DataTypes.IntegerType, false)
      .add("similar_item_id", DataTypes.StringType, false)
      .add("score", DataTypes.DoubleType, false);

  /** Unit-length factors of the items that have factors, with their raw ids. */
  private record UnitFactors(String[] ids, float[] unit, int rank) implements Serializable {}

  private SimilarItems() {}

  /**
   * The similar items of every item with factors in {@code model}: min(n, items - 1) rows per item.
   *
   * @param partitions number of tasks to spread the items over
   * @return the rows and the broadcast they read, to release once the rows are written
   */
  static RankedRows compute(SparkSession spark, ScoringModel model, int n, int blockSize, int partitions) {
    int rows = model.factorRows();
    int rank = model.rank();
    float[] unit = new float[rows * rank];
    String[] ids = new String[rows];
    for (int row = 0; row < rows; row++) {
      ids[row] = model.itemId(model.positionOfFactorRow(row));
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
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Broadcast<UnitFactors> b = jsc.broadcast(new UnitFactors(ids, unit, rank));
    List<Integer> items = IntStream.range(0, rows).boxed().toList();
    JavaRDD<Row> out = jsc.parallelize(items, Math.max(1, Math.min(partitions, Math.max(1, rows))))
        .mapPartitions(it -> rankPartition(b.value(), it, n, blockSize).iterator());
    return new RankedRows(spark.createDataFrame(out, OUTPUT), b);
  }

  private static List<Row> rankPartition(UnitFactors f, Iterator<Integer> items, int n, int blockSize) {
    int count = f.ids().length;
    int k = Math.min(n, Math.max(0, count - 1));
    BlockTopN top = new BlockTopN(f.unit(), count, f.rank(), blockSize, Math.max(1, k));
    List<Row> out = new ArrayList<>();
    int[] block = new int[top.blockSize()];
    int[] topRows = new int[Math.max(1, k)];
    float[] topScores = new float[Math.max(1, k)];
    float[] v = new float[f.rank()];
    while (items.hasNext()) {
      int size = 0;
      while (size < block.length && items.hasNext()) {
        int row = items.next();
        System.arraycopy(f.unit(), row * f.rank(), v, 0, f.rank());
        top.setQuery(size, v);
        block[size++] = row;
      }
      top.multiply(size);
      for (int s = 0; s < size; s++) {
        int row = block[s];
        top.skip()[row] = true;
        int found = top.top(s, k, topRows, topScores);
        top.skip()[row] = false;
        for (int i = 0; i < found; i++) {
          out.add(RowFactory.create(f.ids()[row], i + 1, f.ids()[topRows[i]], (double) topScores[i]));
        }
      }
    }
    return out;
  }
}
