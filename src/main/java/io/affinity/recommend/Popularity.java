package io.affinity.recommend;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.pow;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.unix_seconds;
import static org.apache.spark.sql.functions.when;

import java.io.Serializable;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;

/**
 * Popularity rankings, used as the baseline of the evaluation and as the fallback for users the
 * model cannot score. Popularity is the number of distinct buyers (users with a purchase event),
 * ties broken by the number of distinct users with any event, then by item idx, so every catalog
 * item has a place and the order is total. Each distinct user counts with a {@link Recency}
 * weight of the time of their last such event: 1 for all-time counts, 0 or 1 for a window, or
 * halved every half-life for decayed counts, so that a seasonal catalog ranks what sells now.
 *
 * <p>Rankings are collected to the driver: they are bounded by the catalog (times the number of
 * segments), never by the number of users.
 */
final class Popularity {
  private Popularity() {}

  /**
   * How much one distinct user counts, by the age of their last event at the as-of instant.
   *
   * @param mode {@code decayed} (0.5^(age / halfLifeDays)), {@code window} (1 when the age is under
   *     windowDays, else 0) or {@code all-time} (always 1)
   * @param halfLifeDays half-life of decayed counts, in days (&gt; 0)
   * @param windowDays length of the window, in days (&ge; 1)
   */
  record Recency(String mode, double halfLifeDays, int windowDays) implements Serializable {
    static final String DECAYED = "decayed";
    static final String WINDOW = "window";
    static final String ALL_TIME = "all-time";

    static Recency allTime() {
      return new Recency(ALL_TIME, 1, 1);
    }

    boolean isAllTime() {
      return mode.equals(ALL_TIME);
    }

    /** The weight of a user whose last event is at {@code last} (null = no such event: 0). */
    Column weight(Column last, Instant asOf) {
      Column w = switch (mode) {
        case DECAYED -> pow(lit(0.5), lit(asOf.getEpochSecond()).minus(unix_seconds(last))
            .divide(86_400.0 * halfLifeDays));
        case WINDOW -> when(last.geq(lit(Timestamp.from(asOf.minus(Duration.ofDays(windowDays))))), lit(1.0))
            .otherwise(lit(0.0));
        default -> lit(1.0);
      };
      return when(last.isNull(), lit(0.0)).otherwise(w);
    }

    /** In words, for the manifest. */
    String describe() {
      return switch (mode) {
        case DECAYED -> "distinct buyers, each halved every " + halfLifeDays + " days since their last purchase";
        case WINDOW -> "distinct buyers in the last " + windowDays + " days";
        default -> "distinct buyers, all time";
      };
    }
  }

  /**
   * The whole catalog ranked by popularity among all users.
   *
   * @param events events with user_idx, item_idx, event_type, already cut at the as-of instant
   * @param catalog the items (item_idx) in the order of the scoring model's catalog positions
   * @param positions catalog position of each item idx
   * @param purchaseType the purchase event type
   * @param recency how much each distinct user counts
   * @param asOf the instant ages are measured from (the end of the events)
   */
  static ScoringModel.Ranking global(Dataset<Row> events, Dataset<Row> catalog, ScoringModel.Catalog positions,
      String purchaseType, Recency recency, Instant asOf) {
    return global(events, catalog, positions, purchaseType, List.of(recency), asOf).get(0);
  }

  /**
   * Like {@link #global(Dataset, Dataset, ScoringModel.Catalog, String, Recency, Instant)} for
   * several recencies at once, in their order: the events are aggregated per (item, user) once and
   * the distinct users counted once, not once per ranking.
   */
  static List<ScoringModel.Ranking> global(Dataset<Row> events, Dataset<Row> catalog, ScoringModel.Catalog positions,
      String purchaseType, List<Recency> recencies, Instant asOf) {
    long users = events.select("user_idx").distinct().count();
    Dataset<Row> last = lastEvents(events, purchaseType, "item_idx");
    if (recencies.size() > 1) {
      last = last.persist(StorageLevel.MEMORY_AND_DISK());
    }
    List<ScoringModel.Ranking> out = new ArrayList<>();
    try {
      for (Recency recency : recencies) {
        List<Row> rows = catalog.select("item_idx")
            .join(weighted(last, recency, asOf, "item_idx"), new String[] {"item_idx"}, "left")
            .na().fill(0.0, new String[] {"buyers", "users"})
            .orderBy(col("buyers").desc(), col("users").desc(), col("item_idx").asc())
            .collectAsList();
        int[] p = new int[rows.size()];
        double[] s = new double[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
          Row r = rows.get(i);
          p[i] = positions.position(r.getInt(0));
          s[i] = users == 0 ? 0.0 : r.getDouble(1) / users;
        }
        out.add(new ScoringModel.Ranking(p, s));
      }
    } finally {
      last.unpersist();
    }
    return out;
  }

  /**
   * Per segment, the items bought by at least one of its users, ranked by popularity within the
   * segment; items nobody in the segment bought are left to the global ranking.
   *
   * @param events as for {@link #global}, with user_id
   * @param segments user_id, segment (string)
   */
  static Map<String, ScoringModel.Ranking> bySegment(Dataset<Row> events, Dataset<Row> segments,
      ScoringModel.Catalog positions, String purchaseType, Recency recency, Instant asOf) {
    Map<String, Long> sizes = new HashMap<>();
    for (Row r : segments.groupBy("segment").agg(count(lit(1)).as("n")).collectAsList()) {
      sizes.put(r.getString(0), r.getLong(1));
    }
    Dataset<Row> inSegment = events.join(segments, "user_id");
    List<Row> rows = counts(inSegment, purchaseType, recency, asOf, "segment", "item_idx")
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
          s[k] = rows.get(i).getDouble(2) / sizes.get(segment);
          k++;
        }
      }
      out.put(segment, new ScoringModel.Ranking(Arrays.copyOf(p, k), Arrays.copyOf(s, k)));
      start = end;
    }
    return out;
  }

  /**
   * Distinct buyers and distinct users with any event, per key, each user weighted by the recency
   * of their last purchase (buyers) or last event (users); doubles (whole numbers for all-time).
   */
  private static Dataset<Row> counts(Dataset<Row> events, String purchaseType, Recency recency, Instant asOf,
      String... keys) {
    return weighted(lastEvents(events, purchaseType, keys), recency, asOf, keys);
  }

  /** Per keys and user: the time of their last purchase (last_buy, null if none) and last event (last_any). */
  private static Dataset<Row> lastEvents(Dataset<Row> events, String purchaseType, String... keys) {
    Column[] byUser = new Column[keys.length + 1];
    for (int i = 0; i < keys.length; i++) {
      byUser[i] = col(keys[i]);
    }
    byUser[keys.length] = col("user_idx");
    return events.groupBy(byUser).agg(
        max(when(col("event_type").equalTo(purchaseType), col("event_time"))).as("last_buy"),
        max(col("event_time")).as("last_any"));
  }

  /** Per keys: buyers and users, each distinct user counted with its recency weight. */
  private static Dataset<Row> weighted(Dataset<Row> last, Recency recency, Instant asOf, String... keys) {
    Column[] by = new Column[keys.length];
    for (int i = 0; i < keys.length; i++) {
      by[i] = col(keys[i]);
    }
    return last.groupBy(by).agg(
        sum(recency.weight(col("last_buy"), asOf)).as("buyers"),
        sum(recency.weight(col("last_any"), asOf)).as("users"));
  }
}
