package io.affinity.io;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.max;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Dense int ids for MLlib (ALS needs Int ids) that stay stable from one run to the next: the map
 * for date D starts from the latest complete map before D, keeps every id it had, and appends ids
 * not seen before in sorted order. Building from the map before D (not D itself) makes a rerun of
 * D give the same ints. Stored at {@code idmaps/<users|items>/run_date=D} with columns (id, idx).
 */
public final class IdMaps {
  public static final StructType SCHEMA = new StructType()
      .add("id", DataTypes.StringType, false)
      .add("idx", DataTypes.IntegerType, false);

  private IdMaps() {}

  public static String dataset(String kind) {
    return "idmaps/" + kind;
  }

  /**
   * Extends the previous map with the ids in {@code ids} (column "id") and writes it for this date.
   *
   * @return counts for the manifest: total, new, and the date the map was extended from
   */
  public static Map<String, Object> update(SparkSession spark, Datasets datasets, String kind, Dataset<Row> ids) {
    String name = dataset(kind);
    Optional<java.time.LocalDate> previous = datasets.latestBefore(name);
    Dataset<Row> base = previous
        .map(d -> spark.read().parquet(datasets.path(name, d).toString()))
        .orElseGet(() -> spark.createDataFrame(new ArrayList<Row>(), SCHEMA));
    Row m = base.agg(max(col("idx"))).first();
    long next = m.isNullAt(0) ? 0 : m.getInt(0) + 1L;
    Dataset<Row> fresh = ids.select("id").distinct().join(base, ids.col("id").equalTo(base.col("id")), "left_anti");
    final long start = next;
    JavaRDD<Row> numbered = fresh.javaRDD().sortBy(r -> r.getString(0), true, Math.max(1, fresh.rdd().getNumPartitions()))
        .zipWithIndex()
        .map(t -> {
          long idx = start + t._2();
          if (idx > Integer.MAX_VALUE) {
            throw new IllegalStateException("more than " + Integer.MAX_VALUE + " distinct ids: ALS needs int ids");
          }
          return RowFactory.create(t._1().getString(0), (int) idx);
        });
    Dataset<Row> added = spark.createDataFrame(numbered, SCHEMA);
    Dataset<Row> all = base.select("id", "idx").unionByName(added);
    datasets.write(all, name);
    Dataset<Row> written = spark.read().parquet(datasets.path(name).toString());
    long total = written.count();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("total", total);
    out.put("new", total - next);
    out.put("extended_from", previous.map(Object::toString).orElse(null));
    return out;
  }

  /** The map for this run date; ingest must have run. */
  public static Dataset<Row> read(Datasets datasets, String kind) {
    return datasets.read(dataset(kind), "ingest");
  }
}
