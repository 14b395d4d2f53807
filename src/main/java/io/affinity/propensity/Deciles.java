package io.affinity.propensity;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Exact deciles by rank: 1 = the tenth of rows first in the given order (the most likely buyers),
 * 10 = the last tenth. Group sizes differ by at most one row, also when many scores tie (ties
 * are split by the further order columns, so the result is deterministic). Rows are ranked with a
 * distributed sort and {@code zipWithIndex}, not a window without partitioning, which would pull
 * every user into one task.
 */
final class Deciles {
  static final String COLUMN = "decile";

  private Deciles() {}

  /**
   * Adds an int column {@link #COLUMN} to {@code rows}. Cache {@code rows} first when it is
   * expensive: it is counted and then sorted.
   *
   * @param order the ranking, most likely first, ending in a unique key for determinism
   */
  static Dataset<Row> assign(Dataset<Row> rows, Column... order) {
    long n = rows.count();
    StructType schema = rows.schema().add(COLUMN, DataTypes.IntegerType, false);
    JavaRDD<Row> ranked = rows.orderBy(order).javaRDD().zipWithIndex()
        .map(t -> append(t._1(), decile(t._2(), n)));
    return rows.sparkSession().createDataFrame(ranked, schema);
  }

  /** Decile of the row at 0-based {@code rank} among {@code n}: floor(10 rank / n) + 1. */
  static int decile(long rank, long n) {
    return (int) (rank * 10 / n) + 1;
  }

  private static Row append(Row r, int value) {
    Object[] v = new Object[r.size() + 1];
    for (int i = 0; i < r.size(); i++) {
      v[i] = r.get(i);
    }
    v[r.size()] = value;
    return RowFactory.create(v);
  }
}
