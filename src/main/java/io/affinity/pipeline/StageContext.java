package io.affinity.pipeline;

import io.affinity.io.Datasets;
import java.time.LocalDate;
import org.apache.spark.sql.SparkSession;

/**
 * What varies per run and is shared by all stages: the session, the run date and the output layout.
 *
 * @param spark the session (local or cluster)
 * @param runDate the partition every output of this run goes to
 * @param datasets reads and writes datasets under the output root for {@code runDate}
 */
public record StageContext(SparkSession spark, LocalDate runDate, Datasets datasets) {}
