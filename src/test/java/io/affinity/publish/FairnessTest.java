package io.affinity.publish;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.affinity.testing.SparkTestBase;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * The fairness report on planted audiences: three regions of 3,000, 2,000 and 1,000 customers, age
 * in four bands. With a planted bias, region "c" is selected into the campaign target at a third of
 * the others' rate and its buyers are found at half their rate: exactly c is flagged, on both
 * ratios. Without one, nothing is flagged, although the groups' shares differ by sampling noise.
 */
class FairnessTest extends SparkTestBase {
  private static final FairnessSettings SETTINGS = new FairnessSettings(List.of("region", "age"),
      Map.of("age", List.of(30.0, 45.0, 60.0)), 3, 50, 0.8, 1.25, false);

  @Test
  @SuppressWarnings("unchecked")
  void flagsExactlyThePlantedGroupAndNothingWithoutABias() {
    for (boolean biased : new boolean[] {true, false}) {
      Random rng = new Random(biased ? 1 : 2);
      List<Row> audience = new ArrayList<>();
      List<Row> attributes = new ArrayList<>();
      List<Row> test = new ArrayList<>();
      int id = 0;
      for (String region : List.of("a", "b", "c")) {
        int n = region.equals("a") ? 3000 : region.equals("b") ? 2000 : 1000;
        boolean disadvantaged = biased && region.equals("c");
        for (int i = 0; i < n; i++, id++) {
          String user = "u" + id;
          double selectP = disadvantaged ? 0.1 : 0.3;
          int decile = rng.nextDouble() < selectP ? 1 + rng.nextInt(3) : 4 + rng.nextInt(7);
          String group = rng.nextDouble() < 0.1 ? "control" : "target";
          audience.add(RowFactory.create(user, 1 + rng.nextInt(3), 0.5, decile, group));
          attributes.add(RowFactory.create(user, region, rng.nextDouble() < 0.02 ? null : 18.0 + rng.nextInt(60)));
          // Test users: a buyer is scored high (and so selected) with 0.7, or 0.35 when disadvantaged.
          if (rng.nextDouble() < 0.5) {
            boolean buys = rng.nextDouble() < 0.3;
            double high = disadvantaged ? 0.35 : 0.7;
            double p = buys ? (rng.nextDouble() < high ? 0.8 : 0.2) : (rng.nextDouble() < 0.2 ? 0.8 : 0.2);
            test.add(RowFactory.create(user, buys ? 1.0 : 0.0, p + rng.nextDouble() * 0.01));
          }
        }
      }
      Dataset<Row> a = spark.createDataFrame(audience, new StructType().add("user_id", DataTypes.StringType)
          .add("segment_id", DataTypes.IntegerType).add("propensity", DataTypes.DoubleType)
          .add("propensity_decile", DataTypes.IntegerType).add("group", DataTypes.StringType));
      Dataset<Row> attrs = spark.createDataFrame(attributes, new StructType().add("user_id", DataTypes.StringType)
          .add("region", DataTypes.StringType).add("age", DataTypes.DoubleType));
      Dataset<Row> t = spark.createDataFrame(test, new StructType().add("user_id", DataTypes.StringType)
          .add("label", DataTypes.DoubleType).add("probability", DataTypes.DoubleType));
      Map<String, Object> out = new LinkedHashMap<>();
      Map<String, Row> rows = new LinkedHashMap<>();
      for (Row r : Fairness.compute(a, attrs, Optional.of(t), SETTINGS, 0.1, out).collectAsList()) {
        rows.put(r.getString(0) + "=" + r.getString(1), r);
      }
      assertEquals(List.of("age=30-45", "age=45-60", "age=<30", "age=>=60", "age=missing", "region=a", "region=b",
          "region=c"), rows.keySet().stream().sorted().toList());
      assertEquals(6000, rows.entrySet().stream().filter(e -> e.getKey().startsWith("age="))
          .mapToLong(e -> e.getValue().getLong(2)).sum(), "every customer in one age band");
      List<String> flags = (List<String>) out.get("flags");
      Row c = rows.get("region=c");
      if (biased) {
        assertEquals(1, flags.size(), flags.toString());
        assertTrue(flags.get(0).startsWith("region=c: look at this: share selected ratio")
            && flags.get(0).contains("true-positive rate ratio") && flags.get(0).endsWith("against a"), flags.toString());
        assertTrue(c.getDouble(7) < 0.8, "the interval's high end of c's selection ratio " + c);
      } else {
        assertEquals(List.of(), flags);
        assertNull(c.get(18));
      }
      // The reference group has ratio 1, and the control share is the configured one within noise.
      assertEquals(1.0, rows.get("region=a").getDouble(5), 1e-9);
      assertTrue(rows.get("region=a").getDouble(17) > 0.001, "control share p-value " + rows.get("region=a"));
    }
  }

  @Test
  void aSmallGroupGetsNoRatio() {
    assertNull(Fairness.ratio(3, 10, 300, 1000, 50));
    double[] r = Fairness.ratio(30, 100, 300, 1000, 50);
    assertEquals(1.0, r[0], 1e-12);
    assertTrue(r[1] < 0.8 && r[2] > 1.25, "100 users cannot show a ratio of 1 is inside the band: " + r[1] + ".." + r[2]);
    // 5 % control of 10,000 against a planned 10 %: no doubt.
    assertTrue(Fairness.chiSquarePValue(500, 10_000, 0.1) < 1e-10);
    assertEquals(1.0, Fairness.chiSquarePValue(1000, 10_000, 0.1), 1e-12);
  }
}
