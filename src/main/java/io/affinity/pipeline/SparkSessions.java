package io.affinity.pipeline;

import io.affinity.config.Settings.SparkSettings;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** Builds the session for a run, honouring what spark-submit already set. */
public final class SparkSessions {
  private SparkSessions() {}

  public static SparkSession create(SparkSettings s) {
    SparkConf conf = new SparkConf();
    if (!conf.contains("spark.master")) {
      conf.setMaster(s.master()); // not launched by spark-submit: embedded local mode
    }
    conf.setIfMissing("spark.app.name", s.appName());
    conf.set("spark.sql.shuffle.partitions", Integer.toString(s.shufflePartitions()));
    // Timestamps are instants; UTC keeps day boundaries and Parquet values independent of the host zone.
    conf.set("spark.sql.session.timeZone", "UTC");
    // INT64 micros: DuckDB, Trino and pandas read these as timestamps (INT96 is deprecated).
    conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS");
    conf.setIfMissing("spark.ui.enabled", Boolean.toString(s.uiEnabled()));
    conf.setIfMissing("spark.ui.showConsoleProgress", "false");
    for (Map.Entry<String, String> e : s.conf().entrySet()) {
      conf.set(e.getKey(), e.getValue());
    }
    SparkSession spark = SparkSession.builder().config(conf).getOrCreate();
    spark.sparkContext().setCheckpointDir(s.checkpointDir());
    return spark;
  }
}
