package io.affinity.publish;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.commons.math3.distribution.ChiSquaredDistribution;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Whether the audience treats groups of customers alike: for each configured attribute and group,
 * what the published propensity does to them (mean probability, share selected into the campaign
 * target), how well it serves them where the outcome is known (observed rate and true-positive rate
 * on the propensity test users, scored as of the training cutoff), and the control share. Each share
 * is compared with the largest group's as a ratio with a 95 % interval (Katz's log interval for a
 * ratio of two proportions); a ratio is flagged "look at this" only when its whole interval lies
 * outside the configured band, so a small group's noise raises no flag, and no ratio is claimed
 * for a group (or reference) below {@code min-group-users}.
 *
 * <p>All counting is one aggregation over the audience and one over the test users, each row
 * exploded into one (attribute, group) pair per attribute; only one row per group reaches the driver.
 */
final class Fairness {
  static final String DATASET = "fairness";
  static final StructType SCHEMA = new StructType()
      .add("attribute", DataTypes.StringType, false)
      .add("group", DataTypes.StringType, false)
      .add("customers", DataTypes.LongType, false)
      .add("mean_probability", DataTypes.DoubleType)
      .add("selected_share", DataTypes.DoubleType)
      .add("selected_ratio", DataTypes.DoubleType)
      .add("selected_ratio_low", DataTypes.DoubleType)
      .add("selected_ratio_high", DataTypes.DoubleType)
      .add("test_users", DataTypes.LongType)
      .add("test_buyers", DataTypes.LongType)
      .add("test_mean_probability", DataTypes.DoubleType)
      .add("observed_rate", DataTypes.DoubleType)
      .add("true_positive_rate", DataTypes.DoubleType)
      .add("tpr_ratio", DataTypes.DoubleType)
      .add("tpr_ratio_low", DataTypes.DoubleType)
      .add("tpr_ratio_high", DataTypes.DoubleType)
      .add("control_share", DataTypes.DoubleType)
      .add("control_p_value", DataTypes.DoubleType)
      .add("flag", DataTypes.StringType);
  private static final String MISSING = "missing";
  private static final double Z = 1.959964;

  private Fairness() {}

  /**
   * @param audience user_id (raw), segment_id, propensity, propensity_decile, group
   * @param attributes user_id (raw) and the configured attribute columns (features/users)
   * @param test the propensity test users (user_id, label, probability), when propensity published
   * @param controlShare the configured control share
   * @param out the report section: rows, flags, composition
   * @return one row per attribute x group, schema {@link #SCHEMA}
   */
  static Dataset<Row> compute(Dataset<Row> audience, Dataset<Row> attributes, Optional<Dataset<Row>> test,
      FairnessSettings s, double controlShare, Map<String, Object> out) {
    SparkSession spark = audience.sparkSession();
    Dataset<Row> pop = exploded(audience.join(attributes, new String[] {"user_id"}, "left"), s);
    Map<List<String>, Row> population = byGroup(pop.groupBy("_attribute", "_group").agg(count(lit(1)),
        avg(col("propensity")), count(col("propensity")),
        sum(when(col("propensity_decile").leq(s.targetDeciles()), 1L).otherwise(0L)),
        sum(when(col(ControlGroups.COLUMN).equalTo("control"), 1L).otherwise(0L))));
    Map<List<String>, Row> tested = new LinkedHashMap<>();
    Double threshold = null;
    if (test.isPresent()) {
      // The test users' own target: the top target-deciles of their scores as of the cutoff.
      threshold = test.get().stat().approxQuantile("probability", new double[] {1 - s.targetDeciles() / 10.0}, 1e-4)[0];
      Column selected = when(col("probability").geq(threshold), 1L).otherwise(0L);
      tested = byGroup(exploded(test.get().join(attributes, new String[] {"user_id"}, "left"), s)
          .groupBy("_attribute", "_group").agg(count(lit(1)), sum(col("label")), avg(col("probability")), sum(selected),
              sum(selected.multiply(col("label")).cast("long"))));
    }
    List<Row> rows = new ArrayList<>();
    List<String> flags = new ArrayList<>();
    for (String a : s.attributes()) {
      List<String> groups = new ArrayList<>();
      for (List<String> k : population.keySet()) {
        if (k.get(0).equals(a)) {
          groups.add(k.get(1));
        }
      }
      String ref = groups.stream().filter(g -> !g.equals(MISSING))
          .max((x, y) -> Long.compare(population.get(List.of(a, x)).getLong(2), population.get(List.of(a, y)).getLong(2)))
          .orElse(null);
      for (String g : groups) {
        rows.add(row(a, g, ref, population, tested, s, controlShare, flags));
      }
    }
    out.put("attributes", s.attributes());
    out.put("target", "propensity deciles 1.." + s.targetDeciles());
    if (threshold != null) {
      out.put("test_target_threshold", round(threshold));
    }
    out.put("ratio_band", List.of(s.low(), s.high()));
    out.put("model_inputs", s.useAsInput() ? "the attributes may be propensity model inputs (use-as-input = true)"
        : "the attributes are excluded from the propensity model's inputs (use-as-input = false)");
    out.put("flags", flags);
    List<Map<String, Object>> groups = new ArrayList<>();
    for (Row r : rows) {
      Map<String, Object> g = new LinkedHashMap<>();
      for (int i = 0; i < SCHEMA.fields().length; i++) {
        if (!r.isNullAt(i)) {
          g.put(SCHEMA.fields()[i].name(), r.get(i));
        }
      }
      groups.add(g);
    }
    out.put("groups", groups);
    out.put("composition", composition(pop));
    return spark.createDataFrame(rows, SCHEMA);
  }

  /** One (attribute, group) row per user and attribute: the group is the band or the text value. */
  private static Dataset<Row> exploded(Dataset<Row> users, FairnessSettings s) {
    List<Column> pairs = new ArrayList<>();
    for (String a : s.attributes()) {
      pairs.add(struct(lit(a).as("attribute"), group(col(a), s.bands().get(a)).as("group")));
    }
    // "_group", not "group": the audience's control-group column is named group.
    return users.withColumn("_pair", explode(array(pairs.toArray(new Column[0]))))
        .withColumn("_attribute", col("_pair.attribute")).withColumn("_group", col("_pair.group"));
  }

  /** A numeric value's band ("<25", "25-35", ">=65"), a text value as it is; null = "missing". */
  static Column group(Column value, List<Double> edges) {
    if (edges == null) {
      return when(value.isNull(), lit(MISSING)).otherwise(value.cast("string"));
    }
    Column g = lit(">=" + num(edges.get(edges.size() - 1)));
    for (int i = edges.size() - 1; i >= 0; i--) {
      String label = i == 0 ? "<" + num(edges.get(0)) : num(edges.get(i - 1)) + "-" + num(edges.get(i));
      g = when(value.cast("double").lt(edges.get(i)), lit(label)).otherwise(g);
    }
    return when(value.isNull(), lit(MISSING)).otherwise(g);
  }

  private static Row row(String a, String g, String ref, Map<List<String>, Row> population,
      Map<List<String>, Row> tested, FairnessSettings s, double controlShare, List<String> flags) {
    Row p = population.get(List.of(a, g));
    long customers = p.getLong(2);
    long scored = p.getLong(4);
    Row r = ref == null ? null : population.get(List.of(a, ref));
    Double share = scored == 0 ? null : (double) p.getLong(5) / scored;
    double[] sel = ratio(p.getLong(5), scored, r == null ? 0 : r.getLong(5), r == null ? 0 : r.getLong(4),
        s.minGroupUsers());
    Row t = tested.get(List.of(a, g));
    Row tr = ref == null ? null : tested.get(List.of(a, ref));
    long testUsers = t == null ? 0 : t.getLong(2);
    long buyers = t == null ? 0 : Math.round(t.getDouble(3));
    Double tpr = buyers == 0 ? null : (double) t.getLong(6) / buyers;
    double[] tprRatio = t == null || tr == null ? null
        : ratio(t.getLong(6), buyers, tr.getLong(6), Math.round(tr.getDouble(3)), s.minGroupUsers());
    long control = p.getLong(6);
    Double pValue = controlShare <= 0 || controlShare >= 1 ? null : chiSquarePValue(control, customers, controlShare);
    List<String> why = new ArrayList<>();
    flag("share selected", sel, s, why);
    flag("true-positive rate", tprRatio, s, why);
    String flag = why.isEmpty() ? null : "look at this: " + String.join("; ", why) + " against " + ref;
    if (flag != null) {
      flags.add(a + "=" + g + ": " + flag);
    }
    return RowFactory.create(a, g, customers, p.isNullAt(3) ? null : round(p.getDouble(3)),
        share == null ? null : round(share), at(sel, 0), at(sel, 1), at(sel, 2),
        t == null ? null : testUsers, t == null ? null : buyers, t == null ? null : round(t.getDouble(4)),
        t == null || testUsers == 0 ? null : round((double) buyers / testUsers), tpr == null ? null : round(tpr),
        at(tprRatio, 0), at(tprRatio, 1), at(tprRatio, 2),
        customers == 0 ? null : round((double) control / customers), pValue == null ? null : round(pValue), flag);
  }

  /**
   * The ratio of two proportions x1/n1 : x2/n2 with Katz's 95 % log interval (0.5 added to zero
   * counts), or null when either group is below the minimum size.
   *
   * @return {ratio, low, high}
   */
  static double[] ratio(long x1, long n1, long x2, long n2, int minUsers) {
    if (n1 < minUsers || n2 < minUsers || n1 == 0 || n2 == 0) {
      return null;
    }
    double a = x1 == 0 ? 0.5 : x1;
    double b = x2 == 0 ? 0.5 : x2;
    double rr = (a / n1) / (b / n2);
    double se = Math.sqrt(Math.max(0, 1 / a - 1.0 / n1 + 1 / b - 1.0 / n2));
    return new double[] {rr, rr * Math.exp(-Z * se), rr * Math.exp(Z * se)};
  }

  /** The chi-square (1 degree of freedom) p-value of {@code control} of {@code n} against the share. */
  static double chiSquarePValue(long control, long n, double share) {
    if (n == 0) {
      return 1.0;
    }
    double e1 = n * share;
    double e0 = n - e1;
    double chi = Math.pow(control - e1, 2) / e1 + Math.pow((n - control) - e0, 2) / e0;
    return 1 - new ChiSquaredDistribution(1).cumulativeProbability(chi);
  }

  private static void flag(String what, double[] r, FairnessSettings s, List<String> why) {
    if (r != null && (r[2] < s.low() || r[1] > s.high())) {
      why.add(String.format(Locale.ROOT, "%s ratio %.2f (%.2f .. %.2f) outside [%s, %s]", what, r[0], r[1], r[2],
          num(s.low()), num(s.high())));
    }
  }

  /** Per attribute, per segment: users of each group (small: segments x groups). */
  private static Map<String, Object> composition(Dataset<Row> pop) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (Row r : pop.groupBy("_attribute", "segment_id", "_group").agg(count(lit(1)))
        .orderBy(col("_attribute"), col("segment_id").asc_nulls_first(), col("_group")).collectAsList()) {
      @SuppressWarnings("unchecked")
      Map<String, Object> bySegment = (Map<String, Object>) out.computeIfAbsent(r.getString(0), k -> new LinkedHashMap<>());
      @SuppressWarnings("unchecked")
      Map<String, Object> groups = (Map<String, Object>) bySegment.computeIfAbsent(
          r.isNullAt(1) ? "none" : String.valueOf(r.getInt(1)), k -> new LinkedHashMap<>());
      groups.put(r.getString(2), r.getLong(3));
    }
    return out;
  }

  private static Map<List<String>, Row> byGroup(Dataset<Row> agg) {
    Map<List<String>, Row> out = new LinkedHashMap<>();
    for (Row r : agg.orderBy("_attribute", "_group").collectAsList()) {
      out.put(List.of(r.getString(0), r.getString(1)), r);
    }
    return out;
  }

  private static Double at(double[] r, int i) {
    return r == null ? null : round(r[i]);
  }

  private static double round(double v) {
    return Math.round(v * 1e6) / 1e6;
  }

  private static String num(double v) {
    return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
  }
}
