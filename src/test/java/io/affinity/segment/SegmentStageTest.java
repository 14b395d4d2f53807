package io.affinity.segment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.affinity.io.Datasets;
import io.affinity.testing.SparkTestBase;
import java.io.File;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stage on a hand-made features/users table of three obvious groups: centroids back in real
 * units equal hand-computed means, imputation of never-purchased users, profile figures, labels,
 * the model's save/load round trip, and the errors for bad input.
 */
class SegmentStageTest extends SparkTestBase {
  private static final String DATE = "2026-11-20";

  /**
   * user, recency_days (null = never purchased), recency_event_days, frequency, monetary, orders,
   * tenure_days. Groups: A recent big buyers, B buyers who stopped, C active browsers who never
   * bought (new: first seen 10 days ago).
   */
  private static final Object[][] USERS = {
    {"a1", 2.0, 1.0, 10L, 1000.0, 10L, 200.0}, {"a2", 4.0, 2.0, 12L, 1500.0, 12L, 200.0}, {"a3", 3.0, 1.0, 11L, 1200.0, 11L, 200.0}, {"a4", 5.0, 5.0, 9L, 900.0, 9L, 200.0},
    {"b1", 60.0, 40.0, 2L, 100.0, 2L, 300.0}, {"b2", 70.0, 70.0, 3L, 150.0, 3L, 300.0}, {"b3", 65.0, 50.0, 2L, 80.0, 2L, 300.0}, {"b4", 75.0, 75.0, 1L, 60.0, 1L, 300.0},
    {"c1", null, 2.0, 0L, 0.0, 0L, 10.0}, {"c2", null, 3.0, 0L, 0.0, 0L, 10.0}, {"c3", null, 20.0, 0L, 0.0, 0L, 10.0}, {"c4", null, 45.0, 0L, 0.0, 0L, 10.0},
  };
  private static final StructType SCHEMA = new StructType()
      .add("user_id", DataTypes.StringType, false)
      .add("recency_days", DataTypes.DoubleType, true)
      .add("recency_event_days", DataTypes.DoubleType, true)
      .add("frequency", DataTypes.LongType, false)
      .add("monetary", DataTypes.DoubleType, false)
      .add("orders", DataTypes.LongType, false)
      .add("tenure_days", DataTypes.DoubleType, false);

  @TempDir static Path root;
  private static SparkTestBase.Run run;

  @BeforeAll
  static void segmentTheTable() {
    writeUsers(root, DATE, USERS);
    run = cli(args(root, DATE));
    assertEquals(0, run.exitCode(), run.stderr());
  }

  private static void writeUsers(Path dir, String date, Object[][] users) {
    List<Row> rows = new ArrayList<>();
    for (Object[] u : users) {
      rows.add(RowFactory.create(u));
    }
    new Datasets(spark, dir.toString(), LocalDate.parse(date)).write(spark.createDataFrame(rows, SCHEMA), SegmentStage.USERS);
  }

  private static String[] args(Path dir, String date, String... extra) {
    List<String> a = new ArrayList<>(List.of("segment", "--config", "conf/application.conf", "--run-date", date,
        "-Daffinity.output.root=" + dir,
        "-Daffinity.segment.features=[recency_days, frequency, monetary]",
        "-Daffinity.segment.log-features=[monetary]",
        "-Daffinity.segment.k.fixed=3",
        // Three obvious groups: one k-means|| start finds them.
        "-Daffinity.segment.restarts=1"));
    a.addAll(Arrays.asList(extra));
    return a.toArray(new String[0]);
  }

  private static Dataset<Row> read(String dataset) {
    return spark.read().parquet(root.resolve(dataset).resolve("run_date=" + DATE).toString());
  }

  /** Group letter -> profile row of the segment its users are in. */
  private static Map<Character, Row> profilesByGroup() {
    Map<Integer, Row> byId = new HashMap<>();
    for (Row r : read(SegmentStage.PROFILES).collectAsList()) {
      byId.put(r.getInt(r.fieldIndex("segment_id")), r);
    }
    Map<Character, Row> out = new HashMap<>();
    for (Row r : read(SegmentStage.SEGMENTS).collectAsList()) {
      Row p = byId.get(r.getInt(1));
      Row before = out.put(r.getString(0).charAt(0), p);
      assertTrue(before == null || before == p, "group " + r.getString(0).charAt(0) + " is split over segments");
    }
    return out;
  }

  private static double logMean(double... values) {
    double s = 0;
    for (double v : values) {
      s += Math.log1p(v);
    }
    return s / values.length;
  }

  @Test
  void centroidsAreBackInRealUnits() {
    Map<Character, Row> p = profilesByGroup();
    assertEquals(3, new HashSet<>(p.values()).size(), "three groups, three segments");
    // Plain features: the centroid is the members' mean. Never-purchased users count with the
    // imputed recency max + 1 = 76 days. The log feature's centroid is the mean in log space mapped
    // back: expm1(mean(log1p(x))), the geometric mean of (1 + x) minus 1.
    double[][] expected = {
      {(2 + 4 + 3 + 5) / 4.0, (10 + 12 + 11 + 9) / 4.0, Math.expm1(logMean(1000, 1500, 1200, 900))},
      {(60 + 70 + 65 + 75) / 4.0, (2 + 3 + 2 + 1) / 4.0, Math.expm1(logMean(100, 150, 80, 60))},
      {76.0, 0.0, 0.0},
    };
    char[] groups = {'a', 'b', 'c'};
    for (int g = 0; g < 3; g++) {
      Row r = p.get(groups[g]);
      assertEquals(expected[g][0], r.getDouble(r.fieldIndex("centroid_recency_days")), 1e-9, "recency of " + groups[g]);
      assertEquals(expected[g][1], r.getDouble(r.fieldIndex("centroid_frequency")), 1e-9, "frequency of " + groups[g]);
      assertEquals(expected[g][2], r.getDouble(r.fieldIndex("centroid_monetary")), 1e-6, "monetary of " + groups[g]);
      assertEquals(4L, r.getLong(r.fieldIndex("size")));
      assertEquals(1 / 3.0, r.getDouble(r.fieldIndex("share")), 1e-12);
    }
  }

  @Test
  void profileFiguresAndLabels() {
    Map<Character, Row> p = profilesByGroup();
    Row a = p.get('a');
    Row b = p.get('b');
    Row c = p.get('c');
    // Medians are approximate (a value of the data): the lower middle value of four.
    assertEquals(3.0, a.getDouble(a.fieldIndex("median_recency_days")));
    assertEquals(10.0, a.getDouble(a.fieldIndex("median_frequency")));
    assertEquals(1000.0, a.getDouble(a.fieldIndex("median_monetary")));
    assertEquals(65.0, b.getDouble(b.fieldIndex("median_recency_days")));
    assertTrue(c.isNullAt(c.fieldIndex("median_recency_days")), "nobody in C ever purchased");
    assertEquals(1.0, a.getDouble(a.fieldIndex("buyer_share")));
    assertEquals(0.0, c.getDouble(c.fieldIndex("buyer_share")));
    assertEquals(0.75, c.getDouble(c.fieldIndex("active_share")), "3 of 4 had an event in the last 30 days");
    assertEquals(0.0, b.getDouble(b.fieldIndex("active_share")));
    assertEquals(4600.0 / 4990.0, a.getDouble(a.fieldIndex("revenue_share")), 1e-12);
    assertEquals(10.5, a.getDouble(a.fieldIndex("mean_frequency")), 1e-12);
    // Quintile scores among the 8 customers (A and B; C never bought). Recency days 2, 3, 4, 5 of A
    // score 5, 5, 4, 3 (mid-ranks 6 %, 18.5 %, 31 %, 43.5 %) and 60..75 of B 3, 2, 1, 1; the medians are
    // the lower middle values: A 4, B 1. Orders 9..12 of A score 3, 4, 5, 5 (median 4), B's 1..3
    // score 1, 2, 2, 3 (median 2); the population's medians are 3.
    assertEquals(4.0, a.getDouble(a.fieldIndex("recency_score")));
    assertEquals(4.0, a.getDouble(a.fieldIndex("frequency_score")));
    assertEquals(1.0, b.getDouble(b.fieldIndex("recency_score")));
    assertEquals(2.0, b.getDouble(b.fieldIndex("frequency_score")));
    assertTrue(c.isNullAt(c.fieldIndex("recency_score")), "no customer in C: no score");
    assertEquals(1.0, c.getDouble(c.fieldIndex("new_share")));
    assertEquals(0.0, a.getDouble(a.fieldIndex("new_share")));
    assertEquals(200.0, a.getDouble(a.fieldIndex("median_tenure_days")));
    assertEquals("champions", a.getString(a.fieldIndex("segment_label")));
    assertEquals("hibernating", b.getString(b.fieldIndex("segment_label")),
        "bought 1-3 times long ago: frequency 2 is not above the population's 3, so not 'at risk'");
    // C is all new (new_share 1.0) and never bought: "new visitors who never buy" comes before
    // "browsers who never buy" in the rules, so a recent cohort is told apart from old browsers.
    assertEquals("new visitors who never buy", c.getString(c.fieldIndex("segment_label")));
    assertEquals("passed 4 of 4 claims", a.getString(a.fieldIndex("label_audit")));
    assertEquals(LocalDate.parse(DATE), a.getDate(a.fieldIndex("first_seen_run_date")).toLocalDate());
    assertEquals(Set.of(1, 2, 3), new HashSet<>(read(SegmentStage.PROFILES).select("segment_id").as(org.apache.spark.sql.Encoders.INT()).collectAsList()));
  }

  @Test
  void everyUserIsKeptAndImputationIsReported() throws Exception {
    Dataset<Row> segments = read(SegmentStage.SEGMENTS);
    assertEquals(USERS.length, segments.count());
    assertEquals(0L, segments.filter("distance IS NULL OR distance < 0 OR segment_label IS NULL").count());
    Map<?, ?> report = stageReport(root, DATE);
    List<?> features = (List<?>) report.get("features");
    Map<?, ?> recency = (Map<?, ?>) features.get(0);
    assertEquals("recency_days", recency.get("feature"));
    assertEquals("max-plus-one", recency.get("missing_rule"));
    assertEquals(76.0, ((Number) recency.get("imputed_value")).doubleValue());
    assertEquals(4, ((Number) recency.get("imputed_rows")).intValue());
    Map<?, ?> selection = (Map<?, ?>) report.get("selection");
    assertEquals("fixed", selection.get("mode"));
    assertEquals(1, ((List<?>) selection.get("candidates")).size());
    assertEquals("first_run", ((Map<?, ?>) report.get("stability")).get("status"));
  }

  @Test
  void centroidTableHoldsWhatTheNextRunMatchesOn() {
    List<Row> rows = read(SegmentStage.CENTROIDS).filter("feature = 'recency_days'").collectAsList();
    assertEquals(3, rows.size());
    for (Row r : rows) {
      // Scaler mean of imputed recency over all 12 users: (14 + 270 + 4 * 76) / 12 = 49.
      assertEquals(49.0, r.getDouble(r.fieldIndex("scaler_mean")), 1e-9);
      double z = (r.getDouble(r.fieldIndex("centroid_model")) - 49.0) / r.getDouble(r.fieldIndex("scaler_std"));
      assertEquals(z, r.getDouble(r.fieldIndex("centroid_z")), 1e-9);
      assertEquals(3, r.getInt(r.fieldIndex("id_high_water")));
    }
    Row m = read(SegmentStage.CENTROIDS).filter("feature = 'monetary' AND centroid > 500").first();
    assertTrue(m.getBoolean(m.fieldIndex("log_transformed")));
    assertEquals(logMean(1000, 1500, 1200, 900), m.getDouble(m.fieldIndex("centroid_model")), 1e-9);
  }

  @Test
  void savedModelReproducesTheSegments() {
    PipelineModel model = PipelineModel.load(root.resolve(SegmentStage.MODEL).resolve("run_date=" + DATE).toString());
    assertTrue(new File(root.resolve(SegmentStage.MODEL).resolve("run_date=" + DATE).toFile(), "_SUCCESS").isFile());
    Dataset<Row> users = spark.read().parquet(root.resolve(SegmentStage.USERS).resolve("run_date=" + DATE).toString());
    Dataset<Row> scored = model.transform(users).select("user_id", "segment_id", "segment_label");
    frames().assertDataFrameNoOrderEquals(read(SegmentStage.SEGMENTS).select("user_id", "segment_id", "segment_label"), scored);
  }

  @Test
  void sameTableNextNightKeepsIdsAndLabels() throws Exception {
    String next = "2026-11-21";
    writeUsers(root, next, USERS);
    assertEquals(0, cli(args(root, next)).exitCode());
    Dataset<Row> today = spark.read().parquet(root.resolve(SegmentStage.SEGMENTS).resolve("run_date=" + next).toString());
    frames().assertDataFrameNoOrderEquals(read(SegmentStage.SEGMENTS), today);
    // Warm start and hysteresis: the previous model was refitted from its centroids and kept.
    Map<?, ?> report = stageReport(root, next);
    Map<?, ?> h = (Map<?, ?>) report.get("hysteresis");
    assertEquals("kept_previous", h.get("outcome"), h.toString());
    assertEquals(3, h.get("previous_k"));
    assertEquals(true, ((Map<?, ?>) h.get("warm_start")).get("kept_warm"));
    Map<?, ?> st = (Map<?, ?>) report.get("stability");
    // Every recency_event_days is at least 1 day: nobody had an event on the new date.
    assertEquals(12, st.get("users_without_new_events"));
    assertEquals(1.0, st.get("users_without_new_events_same_segment_share"));
    assertEquals("none", ((Map<?, ?>) st.get("floor")).get("action"));
  }

  /**
   * The stability floor. A fourth segment forced on the same, unchanged users moves some of them to
   * a new id: below the floor the night keeps the previous model (same ids and labels as the last
   * published run), unless below-floor = refit asks for the new fit.
   */
  @Test
  void belowTheFloorTheNightKeepsThePreviousModelUnlessARefitIsAsked() throws Exception {
    String keep = "2026-11-23";
    String refit = "2026-11-24";
    writeUsers(root, keep, USERS);
    writeUsers(root, refit, USERS);
    assertEquals(0, cli(args(root, keep, "-Daffinity.segment.k.fixed=4")).exitCode());
    Map<?, ?> floor = (Map<?, ?>) ((Map<?, ?>) stageReport(root, keep).get("stability")).get("floor");
    assertEquals("kept_previous_model", floor.get("action"), floor.toString());
    assertTrue(((Number) floor.get("fit_same_segment_share")).doubleValue() < 0.95, floor.toString());
    Map<?, ?> keptReport = stageReport(root, keep);
    assertEquals("previous_centroids", ((Map<?, ?>) keptReport.get("model")).get("source"));
    assertEquals(1.0, ((Map<?, ?>) keptReport.get("stability")).get("users_without_new_events_same_segment_share"),
        "the previous centroids with the previous scaler: every unchanged user stays");
    Dataset<Row> kept = spark.read().parquet(root.resolve(SegmentStage.SEGMENTS).resolve("run_date=" + keep).toString());
    frames().assertDataFrameNoOrderEquals(read(SegmentStage.SEGMENTS).select("user_id", "segment_id", "segment_label"),
        kept.select("user_id", "segment_id", "segment_label"));

    assertEquals(0, cli(args(root, refit, "-Daffinity.segment.k.fixed=4",
        "-Daffinity.segment.stability.below-floor=refit")).exitCode());
    Map<?, ?> report = stageReport(root, refit);
    assertEquals("refit_published", ((Map<?, ?>) ((Map<?, ?>) report.get("stability")).get("floor")).get("action"));
    assertEquals(4, ((Map<?, ?>) report.get("rows")).get("segments"));
  }

  @Test
  void badInputIsAUsageOrDataError(@TempDir Path other) {
    writeUsers(other, DATE, USERS);
    Run missing = cli(args(other, DATE, "-Daffinity.segment.features=[recency_days, spend]",
        "-Daffinity.segment.log-features=[]"));
    assertEquals(2, missing.exitCode());
    assertTrue(missing.stderr().contains("'affinity.segment.features' = \"spend\": is not a numeric column"), missing.stderr());

    Run text = cli(args(other, DATE, "-Daffinity.segment.features=[user_id]", "-Daffinity.segment.log-features=[]"));
    assertEquals(2, text.exitCode());
    assertTrue(text.stderr().contains("its type is string"), text.stderr());

    writeUsers(other, "2026-11-22", Arrays.copyOf(USERS, 3));
    Run few = cli(args(other, "2026-11-22"));
    assertEquals(3, few.exitCode(), "3 users cannot make 3 segments");
    assertTrue(few.stderr().contains("at least 4"), few.stderr());
  }

  @Test
  void configErrorsNameTheKey() {
    Run log = capture(args(root, DATE, "-Daffinity.segment.log-features=[events]"));
    assertEquals(2, log.exitCode());
    assertTrue(log.stderr().contains("affinity.segment.log-features"), log.stderr());
    Run rule = capture(args(root, DATE, "-Daffinity.segment.labels.rules=[\"vip: spend > 3\"]"));
    assertEquals(2, rule.exitCode());
    assertTrue(rule.stderr().contains("affinity.segment.labels.rules[0]"), rule.stderr());
    Run twice = capture(args(root, DATE, "-Daffinity.segment.labels.rules=[\"vip: buyers > 0.2\", \"vip: buyers > 0.5\"]"));
    assertEquals(2, twice.exitCode());
    assertTrue(twice.stderr().contains("labels are unique"), twice.stderr());
    Run range = capture(args(root, DATE, "-Daffinity.segment.k.fixed=0", "-Daffinity.segment.k.min=6",
        "-Daffinity.segment.k.max=4"));
    assertEquals(2, range.exitCode());
    assertTrue(range.stderr().contains("affinity.segment.k.max"), range.stderr());
  }

  /** stages.segment of the run's manifest. */
  static Map<?, ?> stageReport(Path dir, String date) throws Exception {
    Map<?, ?> manifest = new ObjectMapper().readValue(dir.resolve("runs").resolve("run_date=" + date)
        .resolve("manifest.json").toFile(), Map.class);
    return (Map<?, ?>) ((Map<?, ?>) manifest.get("stages")).get("segment");
  }

  @Test
  void reportHasNoPreviousOnTheFirstNight() throws Exception {
    Map<?, ?> st = (Map<?, ?>) stageReport(root, DATE).get("stability");
    assertNull(st.get("previous_run_date"));
    assertEquals(List.of(1, 2, 3), st.get("appeared"));
  }
}
