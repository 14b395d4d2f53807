package io.affinity.publish;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.xxhash64;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Holdout (control) groups for measuring a campaign's lift: every audience row gets
 * {@link #COLUMN} = {@link #TARGET} or {@link #CONTROL}, stratified by segment.
 *
 * <p>Within each segment (users without a segment form a stratum of their own) users are ranked by
 * {@code xxhash64(salt, user_id)}, ties by user id, and the first {@code round(share * n)} are
 * control. So every segment holds its share exactly (to one user), and the assignment depends only
 * on the salt, the user id and the segment's membership: a rerun, another night with the same
 * members, or another partitioning gives the same groups. A user changes group when the salt
 * changes, when the user changes segment, or, near the cut only, when the segment's membership
 * changes (new users shift the rank of the cut by their count times the share; the users whose hash
 * lies between the old and the new cut move). Ranking is a distributed sort with
 * {@code zipWithIndex}, like the propensity deciles, not a window that would pull a segment into one
 * task.
 */
public final class ControlGroups {
  public static final String COLUMN = "group";
  public static final String TARGET = "target";
  public static final String CONTROL = "control";

  /**
   * @param share share of every segment held out as control, 0..0.5 (0 = no control group)
   * @param salt salt of the hash; changing it draws new groups
   */
  public record Settings(double share, String salt) implements Serializable {}

  private ControlGroups() {}

  /**
   * Adds {@link #COLUMN} to {@code audience} (columns {@code user_id} and {@code segment_id}, the
   * latter may be null) and records per segment users, control users and share in {@code out}.
   */
  public static Dataset<Row> assign(Dataset<Row> audience, Settings s, Map<String, Object> out) {
    Dataset<Row> hashed = audience.withColumn("_h", xxhash64(lit(s.salt()), col("user_id")));
    // Strata sizes: one row per segment reaches the driver.
    List<Row> sizes = hashed.groupBy("segment_id").agg(count(lit(1))).orderBy(col("segment_id").asc_nulls_first())
        .collectAsList();
    HashMap<Integer, long[]> strata = new HashMap<>(); // segment -> {first global rank, users, control users}
    long start = 0;
    for (Row r : sizes) {
      long n = r.getLong(1);
      strata.put(r.isNullAt(0) ? null : r.getInt(0), new long[] {start, n, Math.round(s.share() * n)});
      start += n;
    }
    int segmentIndex = hashed.schema().fieldIndex("segment_id");
    StructType schema = audience.schema().add(COLUMN, DataTypes.StringType, false);
    int width = audience.schema().size();
    JavaRDD<Row> ranked = hashed
        .orderBy(col("segment_id").asc_nulls_first(), col("_h").asc(), col("user_id").asc())
        .javaRDD().zipWithIndex()
        .map(t -> {
          Row r = t._1();
          long[] st = strata.get(r.isNullAt(segmentIndex) ? null : r.getInt(segmentIndex));
          Object[] v = new Object[width + 1];
          for (int i = 0; i < width; i++) {
            v[i] = r.get(i);
          }
          v[width] = t._2() - st[0] < st[2] ? CONTROL : TARGET;
          return RowFactory.create(v);
        });
    out.put("share", s.share());
    out.put("stratified_by", "segment_id");
    List<Map<String, Object>> per = new ArrayList<>();
    long users = 0;
    long control = 0;
    for (Row r : sizes) {
      long[] st = strata.get(r.isNullAt(0) ? null : r.getInt(0));
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("segment_id", r.isNullAt(0) ? null : r.getInt(0));
      e.put("users", st[1]);
      e.put("control", st[2]);
      e.put("control_share", st[1] == 0 ? 0.0 : Math.round(1e4 * st[2] / (double) st[1]) / 1e4);
      per.add(e);
      users += st[1];
      control += st[2];
    }
    out.put("users", users);
    out.put("control", control);
    out.put("control_share", users == 0 ? 0.0 : Math.round(1e4 * control / (double) users) / 1e4);
    out.put("segments", per);
    return audience.sparkSession().createDataFrame(ranked, schema);
  }
}
