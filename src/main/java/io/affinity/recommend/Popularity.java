package io.affinity.recommend;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.countDistinct;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Popularity rankings, used as the baseline of the evaluation and as the fallback for users the
 * model cannot score. Popularity is the number of distinct buyers (users with a purchase event),
 * ties broken by the number of distinct users with any event, then by item idx, so every catalog
 * item has a place and the order is total.
 *
 * <p>Rankings are collected to the driver: they are bounded by the catalog (times the number of
 * segments), never by the number of users.
 */
final class Popularity {
  private Popularity() {}

  /**
   * The whole catalog ranked by popularity among all users.
   *
   * @param events events with user_idx, item_idx, event_type, already cut at the as-of instant
   * @param catalog the items (item_idx) in the order of the scoring model's catalog positions
   * @param positions catalog position of each item idx
   * @param purchaseType the purchase event type
   */
  static ScoringModel.Ranking global(Dataset<Row> events, Dataset<Row> catalog, ScoringModel.Catalog positions,
      String purchaseType) {
    long users = events.select("user_idx").distinct().count();
    List<Row> rows = catalog.select("item_idx")
        .join(counts(events, purchaseType, "item_idx"), new String[] {"item_idx"}, "left")
        .na().fill(0L, new String[] {"buyers", "users"})
        .orderBy(col("buyers").desc(), col("users").desc(), col("item_idx").asc())
        .collectAsList();
    int[] p = new int[rows.size()];
    double[] s = new double[rows.size()];
    for (int i = 0; i < rows.size(); i++) {
      Row r = rows.get(i);
      p[i] = positions.position(r.getInt(0));
      s[i] = users == 0 ? 0.0 : r.getLong(1) / (double) users;
    }
    return new ScoringModel.Ranking(p, s);
  }

  /**
   * Per segment, the items bought by at least one of its users, ranked by popularity within the
   * segment; items nobody in the segment bought are left to the global ranking.
   *
   * @param events as for {@link #global}, with user_id
   * @param segments user_id, segment (string)
   */
  static Map<String, ScoringModel.Ranking> bySegment(Dataset<Row> events, Dataset<Row> segments,
      ScoringModel.Catalog positions, String purchaseType) {
    Map<String, Long> sizes = new HashMap<>();
    for (Row r : segments.groupBy("segment").agg(count(lit(1)).as("n")).collectAsList()) {
      sizes.put(r.getString(0), r.getLong(1));
    }
    Dataset<Row> inSegment = events.join(segments, "user_id");
    List<Row> rows = counts(inSegment, purchaseType, "segment", "item_idx")
        .filter(col("buyers").gt(0))
        .orderBy(col("segment"), col("buyers").desc(), col("users").desc(), col("item_idx").asc())
        .collectAsList();
    Map<String, ScoringModel.Ranking> out = new HashMap<>();
    int start = 0;
    while (start < rows.size()) {
      String segment = rows.get(start).getString(0);
      int end = start;
      while (end < rows.size() && rows.get(end).getString(0).equals(segment)) {
        end++;
      }
      int[] p = new int[end - start];
      double[] s = new double[end - start];
      int k = 0;
      for (int i = start; i < end; i++) {
        int position = positions.position(rows.get(i).getInt(1));
        if (position >= 0) {
          p[k] = position;
          s[k] = rows.get(i).getLong(2) / (double) sizes.get(segment);
          k++;
        }
      }
      out.put(segment, new ScoringModel.Ranking(Arrays.copyOf(p, k), Arrays.copyOf(s, k)));
      start = end;
    }
    return out;
  }

  /** Distinct buyers and distinct users with any event, per key. */
  private static Dataset<Row> counts(Dataset<Row> events, String purchaseType, String... keys) {
    Column[] by = new Column[keys.length];
    for (int i = 0; i < keys.length; i++) {
      by[i] = col(keys[i]);
    }
    return events.groupBy(by).agg(
        countDistinct(when(col("event_type").equalTo(purchaseType), col("user_idx"))).as("buyers"),
        countDistinct(col("user_idx")).as("users"));
  }
}
