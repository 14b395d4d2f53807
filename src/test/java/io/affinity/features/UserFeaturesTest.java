package io.affinity.features;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.affinity.config.Settings.EventTypes;
import io.affinity.testing.SparkTestBase;
import java.sql.Date;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** {@link UserFeatures#compute} on a handful of events whose features are worked out by hand. */
class UserFeaturesTest extends SparkTestBase {
  static final EventTypes TYPES = new EventTypes(List.of("view", "add_to_cart", "purchase"), Map.of(), "purchase", "view",
      "return", Map.of("view", 1.0, "add_to_cart", 3.0, "purchase", 5.0));
  static final Timestamp AS_OF = ts("2026-01-11 00:00:00");

  /** A UTC instant (Timestamp.valueOf would use the JVM's zone, Spark here uses UTC). */
  static Timestamp ts(String utc) {
    return Timestamp.from(java.time.Instant.parse(utc.replace(' ', 'T') + "Z"));
  }

  static Row event(String user, String item, String type, String time, Integer quantity, Double price, String session) {
    return RowFactory.create(user, item, type, ts(time), quantity, price, session);
  }

  @Test
  void featuresAsOfAnInstantByHand() {
    StructType eventSchema = new StructType().add("user_id", DataTypes.StringType).add("item_id", DataTypes.StringType)
        .add("event_type", DataTypes.StringType).add("event_time", DataTypes.TimestampType)
        .add("quantity", DataTypes.IntegerType).add("price", DataTypes.DoubleType).add("session_id", DataTypes.StringType);
    Dataset<Row> events = spark.createDataFrame(List.of(
        event("u1", "i1", "view", "2026-01-01 10:00:00", null, null, "s1"),
        event("u1", "i1", "add_to_cart", "2026-01-01 10:05:00", 1, 10.0, "s1"),
        event("u1", "i1", "purchase", "2026-01-01 10:10:00", 2, 9.0, "s1"),     // value 18
        event("u1", "i2", "view", "2026-01-05 12:00:00", null, null, "s2"),
        event("u1", "i2", "purchase", "2026-01-10 12:00:00", null, null, "s3"), // value 1 x list price 4
        event("u1", "i1", "return", "2026-01-10 18:00:00", 1, 9.0, "s3"),       // value 9, subtracted
        event("u1", "i2", "purchase", "2026-01-11 00:00:00", 1, 4.0, "s4"),     // at asOf: ignored
        event("u2", "i2", "view", "2026-01-09 00:00:00", null, null, null),
        event("u4", "i1", "purchase", "2026-01-12 00:00:00", 1, 10.0, "s9")),   // later: u4 unknown
        eventSchema);
    Dataset<Row> ratings = spark.createDataFrame(List.of(
            RowFactory.create("u1", "i1", 4.0, ts("2026-01-02 00:00:00")),
            RowFactory.create("u1", "i2", 2.0, ts("2026-01-12 00:00:00")), // later: ignored
            RowFactory.create("u3", "i1", 5.0, ts("2026-01-03 00:00:00"))),
        new StructType().add("user_id", DataTypes.StringType).add("item_id", DataTypes.StringType)
            .add("rating", DataTypes.DoubleType).add("event_time", DataTypes.TimestampType));
    Dataset<Row> users = spark.createDataFrame(List.of(
            RowFactory.create("u1", Date.valueOf("2025-12-01"), "north"),
            RowFactory.create("u2", null, null)),
        new StructType().add("user_id", DataTypes.StringType).add("signup_date", DataTypes.DateType)
            .add("region", DataTypes.StringType));
    Dataset<Row> items = spark.createDataFrame(List.of(
            RowFactory.create("i1", "books", 10.0, "a"), RowFactory.create("i2", "toys", 4.0, "b")),
        new StructType().add("item_id", DataTypes.StringType).add("category", DataTypes.StringType)
            .add("price", DataTypes.DoubleType).add("title", DataTypes.StringType));

    Dataset<Row> actual = UserFeatures.compute(events, Optional.of(ratings), Optional.of(users), Optional.of(items), AS_OF,
        TYPES).orderBy("user_id");

    List<String> expectedColumns = new ArrayList<>();
    expectedColumns.add("user_id");
    expectedColumns.addAll(UserFeatures.BEHAVIOUR);
    expectedColumns.addAll(List.of("signup_date", "region", "region_idx"));
    assertEquals(expectedColumns, List.of(actual.columns()));
    // recency_days, recency_event_days, frequency, orders, monetary, returns, events, active_days,
    // events_per_active_day, distinct_items, distinct_categories, views, view_to_purchase_rate,
    // avg_rating_given, ratings_given, tenure_days, signup_date, region, region_idx
    List<Row> expected = List.of(
        // Last purchase 12 h and last event 6 h before asOf; orders = sessions s1 and s3; 18 + 4 - 9;
        // 6 events on 3 days; both viewed items bought; tenure from the signup on 1 December.
        RowFactory.create("u1", 0.5, 0.25, 2L, 2L, 13.0, 1L, 6L, 3L, 2.0, 2L, 2L, 2L, 1.0, 4.0, 1L, 41.0,
            Date.valueOf("2025-12-01"), "north", 0),
        // One view, no purchase: recency null, conversion 0 of 1; missing region = index 1 (levels: north).
        RowFactory.create("u2", null, 2.0, 0L, 0L, 0.0, 0L, 1L, 1L, 1.0, 1L, 1L, 1L, 0.0, null, 0L, 2.0, null, null, 1),
        // Ratings only: no event features, tenure from the rating, unknown attributes.
        RowFactory.create("u3", null, null, 0L, 0L, 0.0, 0L, 0L, 0L, null, 0L, 0L, 0L, null, 5.0, 1L, 8.0, null, null, 1));
    frames().assertDataFrameEquals(spark.createDataFrame(expected, actual.schema()), actual);
  }
}
