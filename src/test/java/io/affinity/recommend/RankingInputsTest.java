package io.affinity.recommend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.affinity.testing.SparkTestBase;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * The ranking inputs assembled from the feature tables, on a fixture worked out by hand.
 *
 * <pre>
 * features/users: a (0), b (1), c (2)          c has no interaction (e.g. ratings only)
 * interactions:   a: 10 bought, 11 viewed; b: 11 bought, 12 bought
 * factors:        a and b                       segments: a -> "s1"
 * ratings:        c rated 13, a rated 10
 * events' "return" pairs (another exclusion type): a 11
 * </pre>
 */
class RankingInputsTest extends SparkTestBase {
  private static final StructType USERS = new StructType()
      .add("user_id", DataTypes.StringType).add("user_idx", DataTypes.IntegerType);
  private static final StructType INTERACTIONS = new StructType()
      .add("user_idx", DataTypes.IntegerType).add("item_idx", DataTypes.IntegerType)
      .add("purchased", DataTypes.BooleanType);
  private static final StructType PAIRS = new StructType()
      .add("user_idx", DataTypes.IntegerType).add("item_idx", DataTypes.IntegerType);
  private static final StructType FACTORS = new StructType()
      .add("id", DataTypes.IntegerType).add("features", DataTypes.createArrayType(DataTypes.FloatType));
  private static final StructType SEGMENTS = new StructType()
      .add("user_id", DataTypes.StringType).add("segment", DataTypes.StringType);

  private static Dataset<Row> users() {
    return spark.createDataFrame(List.of(RowFactory.create("a", 0), RowFactory.create("b", 1),
        RowFactory.create("c", 2)), USERS);
  }

  private static Dataset<Row> interactions() {
    return spark.createDataFrame(List.of(RowFactory.create(0, 10, true), RowFactory.create(0, 11, false),
        RowFactory.create(1, 11, true), RowFactory.create(1, 12, true)), INTERACTIONS);
  }

  private static Dataset<Row> pairs(int... userItem) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < userItem.length; i += 2) {
      rows.add(RowFactory.create(userItem[i], userItem[i + 1]));
    }
    return spark.createDataFrame(rows, PAIRS);
  }

  private static Dataset<Row> factors() {
    return spark.createDataFrame(List.of(RowFactory.create(0, List.of(1f, 0f).toArray()),
        RowFactory.create(1, List.of(0f, 1f).toArray())), FACTORS);
  }

  private static Dataset<Row> segments() {
    return spark.createDataFrame(List.of(RowFactory.create("a", "s1")), SEGMENTS);
  }

  /** user_id -> "factors? excluded history segment", with null arrays written as []. */
  private static Map<String, String> summary(Dataset<Row> rows) {
    assertEquals(List.of("user_id", "user_idx", "factors", "excluded", "history", "segment"), List.of(rows.columns()));
    Map<String, String> out = new TreeMap<>();
    for (Row r : rows.collectAsList()) {
      if (out.put(r.getString(0), (r.isNullAt(2) ? "cold" : "als") + " " + list(r, 3) + " " + list(r, 4) + " "
          + r.getString(5)) != null) {
        fail("two rows for user " + r.getString(0));
      }
    }
    return out;
  }

  private static List<Integer> list(Row r, int i) {
    return r.isNullAt(i) ? List.of() : r.getList(i);
  }

  @Test
  void purchasesExcludedFromTheInteractionsAlone() {
    Dataset<Row> rows = RankingInputs.of(users(), factors(), interactions(), Optional.empty(), true,
        () -> fail("the events are not read when the excluded types are the purchase type"), Optional.of(segments()));
    assertEquals(Map.of(
        "a", "als [10] [10, 11] s1",
        "b", "als [11, 12] [11, 12] null",
        "c", "cold [] [] null"), summary(rows));
  }

  @Test
  void ratingsJoinTheHistoryOnceEach() {
    Dataset<Row> rows = RankingInputs.of(users(), factors(), interactions(), Optional.of(pairs(2, 13, 0, 10)), true,
        () -> fail("the events are not read when the excluded types are the purchase type"), Optional.empty());
    assertEquals(Map.of(
        "a", "als [10] [10, 11] null",
        "b", "als [11, 12] [11, 12] null",
        "c", "cold [] [13] null"), summary(rows));
  }

  @Test
  void otherExclusionTypesComeFromTheEvents() {
    Dataset<Row> rows = RankingInputs.of(users(), factors(), interactions(), Optional.empty(), false,
        () -> pairs(0, 11), Optional.empty());
    assertEquals(Map.of(
        "a", "als [11] [10, 11] null",
        "b", "als [] [11, 12] null",
        "c", "cold [] [] null"), summary(rows));
  }
}
