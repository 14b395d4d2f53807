package io.affinity.recommend;

import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Lazily computed ranked rows and the broadcast item side they are computed from. The broadcast
 * must outlive every action on the rows; destroy it once they are written or evaluated.
 *
 * @param rows the rows (computed when an action runs)
 * @param broadcast what the rows read on the executors
 */
record RankedRows(Dataset<Row> rows, Broadcast<?> broadcast) {

  /** Releases the broadcast on the driver and the executors. */
  void release() {
    broadcast.destroy();
  }
}
