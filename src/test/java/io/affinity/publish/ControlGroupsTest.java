package io.affinity.publish;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.affinity.testing.SparkTestBase;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * Control groups on uneven segments (50 to 9,000 users, plus users without a segment): the share
 * per segment and overall, stability across reruns, partitionings and nights, how few users move
 * when a segment grows, and that a new salt draws new groups.
 */
class ControlGroupsTest extends SparkTestBase {
  private static final int[] SIZES = {50, 333, 1_200, 4_000, 9_000, 417};
  private static final ControlGroups.Settings TEN = new ControlGroups.Settings(0.1, "affinity-control-1");

  /** Users u<s>_<i> in segments 0..4 with the sizes above (the last block without a segment), plus new users. */
  private static Dataset<Row> audience(int extraPerSegment, int partitions) {
    Dataset<Row> all = null;
    for (int s = 0; s < SIZES.length; s++) {
      Dataset<Row> d = spark.range(SIZES[s] + extraPerSegment).selectExpr(
          "CASE WHEN id < " + SIZES[s] + " THEN concat('u" + s + "_', id) ELSE concat('new" + s + "_', id) END AS user_id",
          (s == SIZES.length - 1 ? "CAST(NULL AS INT)" : "CAST(" + s + " AS INT)") + " AS segment_id");
      all = all == null ? d : all.union(d);
    }
    return all.repartition(partitions);
  }

  private static Map<String, String> groups(Dataset<Row> audience, ControlGroups.Settings s, Map<String, Object> out) {
    Map<String, String> g = new HashMap<>();
    for (Row r : ControlGroups.assign(audience, s, out).select("user_id", ControlGroups.COLUMN).collectAsList()) {
      g.put(r.getString(0), r.getString(1));
    }
    return g;
  }

  @Test
  void everySegmentHoldsItsShareWithinOnePointAndTheCountsAddUp() {
    Map<String, Object> out = new LinkedHashMap<>();
    Map<String, String> g = groups(audience(0, 4), TEN, out);
    long total = 0;
    long control = 0;
    for (int s = 0; s < SIZES.length; s++) {
      final String prefix = "u" + s + "_";
      long n = g.keySet().stream().filter(u -> u.startsWith(prefix)).count();
      long c = g.entrySet().stream().filter(e -> e.getKey().startsWith(prefix) && e.getValue().equals("control")).count();
      assertEquals(SIZES[s], n);
      assertEquals(Math.round(0.1 * n), c, "segment " + s);
      assertTrue(Math.abs(c / (double) n - 0.1) <= 0.01, "segment " + s + ": " + c + " of " + n);
      total += n;
      control += c;
    }
    assertTrue(Math.abs(control / (double) total - 0.1) <= 0.01);
    assertEquals(total, ((Number) out.get("users")).longValue());
    assertEquals(control, ((Number) out.get("control")).longValue());
    assertEquals(SIZES.length, ((List<?>) out.get("segments")).size());
    assertTrue(g.values().stream().allMatch(v -> v.equals("control") || v.equals("target")));
  }

  @Test
  void groupsAreTheSameOnEveryRerunAndPartitioningAndFewMoveWhenSegmentsGrow() {
    Map<String, String> first = groups(audience(0, 4), TEN, new HashMap<>());
    assertEquals(first, groups(audience(0, 1), TEN, new HashMap<>()), "a rerun or another night on another partitioning");

    // Next night every segment has 5 % more users: the old users keep their group but those whose
    // hash lies between the old and the new cut (about the share of new users times the share).
    Map<String, String> grown = groups(audience(40, 4), TEN, new HashMap<>());
    long moved = first.entrySet().stream().filter(e -> !e.getValue().equals(grown.get(e.getKey()))).count();
    assertTrue(moved <= 0.01 * first.size(), moved + " of " + first.size() + " users changed group");

    // A new salt draws new groups: the two control groups overlap about as chance would (share^2).
    Map<String, String> other = groups(audience(0, 4), new ControlGroups.Settings(0.1, "season-2"), new HashMap<>());
    long both = first.entrySet().stream()
        .filter(e -> e.getValue().equals("control") && other.get(e.getKey()).equals("control")).count();
    assertTrue(both < 0.02 * first.size(), both + " users control under both salts");
  }

  @Test
  void shareZeroMakesEveryoneTarget() {
    Map<String, String> g = groups(audience(0, 2), new ControlGroups.Settings(0.0, "x"), new HashMap<>());
    assertTrue(g.values().stream().allMatch(v -> v.equals("target")));
  }
}
