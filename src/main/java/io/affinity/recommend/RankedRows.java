package io.affinity.recommend;

import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.util.LongAccumulator;

/**
 * Lazily computed ranked rows and the broadcast item side they are computed from. The broadcast
 * must outlive every action on the rows; destroy it once they are written or evaluated.
 *
 * @param rows the rows (computed when an action runs)
 * @param broadcast what the rows read on the executors
 * @param degenerateAls users with ALS factors that rank nothing, given the fallback instead
 *     ({@link UserRanker}); null when the rows are not per user
 */
record RankedRows(Dataset<Row> rows, Broadcast<?> broadcast, LongAccumulator degenerateAls) {

  RankedRows(Dataset<Row> rows, Broadcast<?> broadcast) {
    this(rows, broadcast, null);
  }

  /**
   * How many users had ALS factors whose scores rank nothing and got the fallback rows instead
   * (manifest {@code users_degenerate_als}). Counted while the rows are computed, so read it after
   * the one action that writes them: each further action on the rows, or a retried task, counts
   * its users again (Spark's rule for accumulators updated in transformations).
   */
  long usersDegenerateAls() {
    return degenerateAls == null ? 0 : degenerateAls.value();
  }

  /** Releases the broadcast on the driver and the executors. */
  void release() {
    broadcast.destroy();
  }
}
