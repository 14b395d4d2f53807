package io.affinity.recommend;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.execution.LogicalRDD;

/**
 * A small intermediate that many later queries read, materialised with a one-node plan.
 *
 * <p>Why not {@code persist()}: a query over a persisted Dataset carries the Dataset's whole plan
 * as an inner child of its cache node, and a persisted Dataset built on persisted Datasets nests
 * them. Spark renders that plan text for every SQL execution and again on every adaptive
 * re-plan, whether or not a UI reads it, and keeps it for the SQL listener. The validation's
 * beyond-accuracy queries join each measured list twice with a similarity built on the training
 * pairs, so each of them carried the nested plans of the list, the pairs and the similarity. A
 * local checkpoint keeps the rows (executor storage, memory then disk, as persist) and the plan
 * becomes a single scan: stage recommend alone at 1M events took 0.87 of its wall time and 0.61 of
 * its peak memory with these cuts (docs/BENCHMARKS.md, 2026-12-06).
 *
 * <p>Local checkpoints are not in Spark's cache manager, so {@link #release} drops their blocks
 * explicitly once the last query has read them, as unpersist does for a cache. Lost executors
 * lose the blocks (they are not recomputed): fine for a validation that is rerun with its job.
 * Dynamic allocation does not remove an executor for idleness while it holds such blocks, as
 * for cached ones ({@code spark.dynamicAllocation.cachedExecutorIdleTimeout}, infinite by default).
 */
final class LineageCut {
  private LineageCut() {}

  /** The rows of {@code ds}, computed now, behind a one-node plan. */
  static Dataset<Row> of(Dataset<Row> ds) {
    return ds.localCheckpoint(true);
  }

  /** The id of the RDD that holds the rows of a Dataset made by {@link #of}; -1 for any other Dataset. */
  static int rddId(Dataset<Row> cut) {
    return cut.queryExecution().logical() instanceof LogicalRDD rdd ? rdd.rdd().id() : -1;
  }

  /** Drops the blocks of a Dataset made by {@link #of}; a no-op for any other Dataset. */
  static void release(Dataset<Row> cut) {
    LogicalPlan plan = cut.queryExecution().logical();
    if (plan instanceof LogicalRDD rdd) {
      rdd.rdd().unpersist(false);
    }
  }
}
