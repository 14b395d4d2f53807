package io.affinity.segment;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.nanvl;
import static org.apache.spark.sql.functions.percentile_approx;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import io.affinity.config.SettingsException;
import io.affinity.io.Datasets;
import io.affinity.pipeline.DataQualityException;
import io.affinity.pipeline.GateSettings;
import io.affinity.pipeline.QualityGate;
import io.affinity.pipeline.Stage;
import io.affinity.pipeline.StageContext;
import io.affinity.pipeline.StageReport;
import java.math.BigDecimal;
import java.sql.Date;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.clustering.KMeans;
import org.apache.spark.ml.clustering.KMeansModel;
import org.apache.spark.ml.evaluation.ClusteringEvaluator;
import org.apache.spark.ml.feature.SQLTransformer;
import org.apache.spark.ml.feature.StandardScaler;
import org.apache.spark.ml.feature.StandardScalerModel;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stage {@code segment}: KMeans customer segments on configured user features.
 *
 * <ol>
 *   <li>Nulls (and NaNs) in the features are imputed by the declared rule of each column
 *       (max observed + 1, 0 or the median), chosen features are log-transformed, all are
 *       standardized; no user is dropped.
 *   <li>k is fixed or chosen by silhouette over a range; each k is fitted with several seeds and
 *       the lowest cost kept. Every candidate's silhouette and cost go to the manifest.
 *   <li>Today's centroids are matched to the previous run's ({@link CentroidMatcher}) so a
 *       population keeps its segment id, and segments are named by {@link SegmentLabeler}.
 *   <li>Outputs: {@code segments} (per user), {@code segment_centroids} (per segment and feature,
 *       what the next run matches against), the fitted {@code PipelineModel} under
 *       {@code models/segment}, and last {@code segment_profiles} (per segment), whose presence
 *       marks the run as published.
 * </ol>
 *
 * <p>Schemas, metrics and keys: docs/SEGMENT.md.
 */
public final class SegmentStage implements Stage {
  private static final Logger LOG = LoggerFactory.getLogger(SegmentStage.class);
  public static final String SEGMENTS = "segments";
  public static final String PROFILES = "segment_profiles";
  public static final String CENTROIDS = "segment_centroids";
  public static final String MODEL = "models/segment";
  static final String USERS = "features/users";

  /** Columns of the pipeline's intermediate results; prefixed so they never clash with features. */
  static final String INPUT_PREFIX = "seg_in_";
  static final String VECTOR = "seg_vector";
  static final String FEATURES = "seg_features";
  static final String CLUSTER = "seg_cluster";

  /** percentile_approx accuracy: rank error at most 1/10,000 of the segment's users. */
  private static final int MEDIAN_ACCURACY = 10_000;

  private final SegmentSettings settings;
  private final QualityGate gate;

  /** A stage whose gate against the last published run only records (for tests and embedding). */
  public SegmentStage(SegmentSettings settings) {
    this(settings, GateSettings.off().segment());
  }

  /**
   * @param settings this stage's settings
   * @param gate the silhouette gate against the last published run, checked before anything is written
   */
  public SegmentStage(SegmentSettings settings, QualityGate gate) {
    this.settings = settings;
    this.gate = gate;
  }

  @Override
  public String name() {
    return "segment";
  }

  /** The imputation decided for one column: rule, value and how many rows it filled. */
  record Imputation(String column, String rule, double value, long nulls) {}

  /**
   * The solution kept for one k.
   *
   * @param model the fitted model
   * @param cost within-cluster sum of squared distances (standardized units)
   * @param sizes users per cluster
   * @param iterations Lloyd iterations of a fresh fit; null for a warm start (MLlib does not expose them)
   * @param warm whether it was started from the previous run's centroids
   * @param freshCost cost of the best fresh start when a warm start was tried, else null
   */
  record Fit(KMeansModel model, double cost, long[] sizes, Integer iterations, boolean warm, Double freshCost) {}

  /** Users per partition of the KMeans input (see run). */
  private static final long USERS_PER_PARTITION = 100_000;

  /** One k tried: the kept solution and its silhouette. */
  record Candidate(int k, Fit fit, double silhouette, double smallestShare) {
    int clusters() {
      return fit.model().clusterCenters().length;
    }
  }

  @Override
  public StageReport run(StageContext ctx) {
    SparkSession spark = ctx.spark();
    Datasets ds = ctx.datasets();
    Dataset<Row> users = ds.read(USERS, "features");
    checkSchema(users.schema());
    // KMeans|| samples its initial centres partition by partition, so the result depends on which
    // rows sit in which partition in which order. How features/users was split into files varies
    // from run to run (shuffle order); a fixed hash partitioning, sorted within, makes a rerun of
    // the same data give the same segments.
    // The partition count follows the data (one per 100,000 users, at most the shuffle partitions),
    // so the same data always gets the same layout, and a small table is not spread over many tiny
    // partitions that every KMeans iteration would visit.
    long inputUsers = users.count();
    int partitions = (int) Math.max(1, Math.min(spark.sessionState().conf().numShufflePartitions(),
        (inputUsers + USERS_PER_PARTITION - 1) / USERS_PER_PARTITION));
    users = users.repartition(partitions, col("user_id")).sortWithinPartitions("user_id");
    PreviousRun previous = PreviousRun.read(spark, ds, settings.features(), settings.logFeatures());
    StageReport report = new StageReport();

    describe(spark, "imputation values");
    List<Imputation> imputations = imputations(users);
    SQLTransformer prepare = prepare(imputations);
    VectorAssembler assembler = new VectorAssembler()
        .setInputCols(settings.features().stream().map(f -> INPUT_PREFIX + f).toArray(String[]::new))
        .setOutputCol(VECTOR)
        // Nulls and NaNs were imputed by `prepare`; anything left is a bug upstream and must fail.
        .setHandleInvalid("error");
    Dataset<Row> assembled = assembler.transform(prepare.transform(users));
    describe(spark, "standardize features");
    StandardScalerModel scaler = new StandardScaler().setInputCol(VECTOR).setOutputCol(FEATURES)
        .setWithMean(true).setWithStd(true).fit(assembled);
    Dataset<Row> scaled = scaler.transform(assembled)
        .select(col("user_id"), col("recency_days"), col("recency_event_days"), col("frequency"), col("monetary"),
            col(FEATURES))
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      describe(spark, "count users");
      long n = scaled.count();
      Map<String, Object> rows = report.section("rows");
      rows.put("users", n);
      report.put("features", featureReport(imputations));

      double[] mean = scaler.mean().toArray();
      double[] std = scaler.std().toArray();
      double[][] warmCenters = warmStart(previous, mean, std);
      List<Candidate> candidates = new ArrayList<>();
      for (int k : candidateKs(n, report)) {
        long start = System.nanoTime();
        Candidate c = evaluate(spark, scaled, fit(spark, scaled, k, warmCenters), k, n);
        candidates.add(c);
        LOG.info("segment: k={} silhouette {} cost {}{} ({} s)", k, round(c.silhouette()), round(c.fit().cost()),
            c.fit().warm() ? " (warm start)" : "", Math.round((System.nanoTime() - start) / 1e8) / 10.0);
      }
      int chosen = choose(candidates, previous, report.section("selection"));
      Candidate best = candidates.stream().filter(c -> c.k() == chosen).findFirst().orElseThrow();
      gate.check(ds, Double.isNaN(best.silhouette()) ? null : round(best.silhouette()), report);
      KMeansModel kmeans = best.fit().model();

      double[][] centersZ = Arrays.stream(kmeans.clusterCenters()).map(Vector::toArray).toArray(double[][]::new);
      int k = centersZ.length;
      rows.put("segments", k);

      describe(spark, "segment statistics");
      Dataset<Row> clustered = kmeans.transform(scaled);
      Row[] stats = clusterStats(clustered, k, settings.activeDays());
      long[] sizes = new long[k];
      for (int c = 0; c < k; c++) {
        sizes[c] = stats[c] == null ? 0L : stats[c].getLong(stats[c].fieldIndex("size"));
      }

      CentroidMatcher.Result match = CentroidMatcher.match(centersZ, mean, std, previous.centroids(),
          previous.highWater(), settings.maxMatchDistance(), sizes);
      int[] ids = match.segmentIds();

      List<SegmentLabeler.Profile> profiles = new ArrayList<>();
      Map<Integer, String> previousLabels = new HashMap<>();
      for (int c = 0; c < k; c++) {
        profiles.add(labelProfile(ids[c], stats[c]));
        if (!Double.isNaN(match.distances()[c])) {
          previousLabels.put(ids[c], previous.labels().get(ids[c]));
        }
      }
      Map<Integer, String> labels =
          new SegmentLabeler(settings.labelRules(), settings.fallbackLabel(), settings.stickyLabels())
              .label(profiles, previousLabels);
      Map<Integer, SegmentLabeler.Scores> scores = SegmentLabeler.score(profiles);

      SQLTransformer assign = assignment(ids, labels);
      describe(spark, "write segments");
      Dataset<Row> segments = assign.transform(clustered)
          .select(col("user_id"), col("segment_id"), col("segment_label"),
              distance(centersZ).apply(col(FEATURES), col(CLUSTER)).as("distance"));
      ds.write(segments, SEGMENTS);

      LocalDate runDate = ctx.runDate();
      describe(spark, "write segment centroids");
      ds.write(spark.createDataFrame(centroidRows(ids, centersZ, mean, std, match.highWater()), CENTROIDS_SCHEMA),
          CENTROIDS);

      PipelineModel model = new Pipeline()
          .setStages(new PipelineStage[] {prepare, assembler, scaler, kmeans, assign})
          .fit(users); // every stage is already fitted: this only checks the schema and wraps them
      describe(spark, "save model");
      saveModel(ds, model);

      describe(spark, "write segment profiles");
      double revenue = 0;
      for (Row s : stats) {
        revenue += s == null ? 0.0 : s.getDouble(s.fieldIndex("revenue"));
      }
      List<Row> profileRows = new ArrayList<>();
      List<Map<String, Object>> segmentReport = new ArrayList<>();
      for (int c = 0; c < k; c++) {
        int id = ids[c];
        LocalDate since = previousLabels.containsKey(id) ? previous.firstSeen().getOrDefault(id, runDate) : runDate;
        profileRows.add(profileRow(id, labels.get(id), stats[c], sizes[c], n, revenue, scores.get(id),
            realCentroid(centersZ[c], mean, std), since));
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("segment_id", id);
        s.put("label", labels.get(id));
        s.put("size", sizes[c]);
        s.put("share", round(sizes[c] / (double) n));
        segmentReport.add(s);
      }
      profileRows.sort((a, b) -> Integer.compare(a.getInt(0), b.getInt(0)));
      segmentReport.sort((a, b) -> Integer.compare((Integer) a.get("segment_id"), (Integer) b.get("segment_id")));
      ds.write(spark.createDataFrame(profileRows, profileSchema()).coalesce(1), PROFILES);

      Map<String, Object> modelReport = report.section("model");
      modelReport.put("path", ds.path(MODEL).toString());
      modelReport.put("k", k);
      modelReport.put("silhouette", Double.isNaN(best.silhouette()) ? null : round(best.silhouette()));
      modelReport.put("cost", round(best.fit().cost()));
      modelReport.put("warm_start", best.fit().warm());
      report.put("segments", segmentReport);
      report.put("stability", stabilityReport(spark, ds, previous, match, ids, labels, centersZ));
      return report;
    } finally {
      scaled.unpersist();
    }
  }

  // ---- schema and imputation ------------------------------------------------------------------

  /** Fails before any data moves when a configured or required column is missing or not numeric. */
  private void checkSchema(StructType schema) {
    List<String> numeric = new ArrayList<>();
    for (StructField f : schema.fields()) {
      if (f.dataType() instanceof NumericType) {
        numeric.add(f.name());
      }
    }
    for (String f : settings.features()) {
      if (!numeric.contains(f)) {
        throw new SettingsException("affinity.segment.features", f, "is not a numeric column of " + USERS
            + (Arrays.asList(schema.fieldNames()).contains(f) ? " (its type is " + schema.apply(f).dataType().simpleString() + ")" : "")
            + "; numeric columns are " + numeric);
      }
    }
    List<String> required = List.of("recency_days", "recency_event_days", "frequency", "monetary");
    for (String c : required) {
      if (!numeric.contains(c)) {
        throw new IllegalStateException(USERS + " lacks the numeric column " + c + " that segment profiles need");
      }
    }
    if (!Arrays.asList(schema.fieldNames()).contains("user_id")) {
      throw new IllegalStateException(USERS + " lacks the column user_id");
    }
  }

  /** A column's observed values as double, with NaN treated as missing like null. */
  private static Column observed(String column) {
    Column d = col(column).cast(DataTypes.DoubleType);
    return nanvl(d, lit(null).cast(DataTypes.DoubleType));
  }

  /** One aggregation over the users: the fill value and null count of every feature. */
  private List<Imputation> imputations(Dataset<Row> users) {
    List<Column> aggs = new ArrayList<>();
    for (String f : settings.features()) {
      String rule = settings.imputation(f);
      Column value = switch (rule) {
        case "max-plus-one" -> max(observed(f)).plus(1.0);
        case "zero" -> lit(0.0);
        default -> percentile_approx(observed(f), lit(0.5), lit(MEDIAN_ACCURACY));
      };
      aggs.add(value.cast(DataTypes.DoubleType));
      aggs.add(sum(when(observed(f).isNull(), 1L).otherwise(0L)));
    }
    Row r = users.agg(aggs.get(0), aggs.subList(1, aggs.size()).toArray(new Column[0])).first();
    List<Imputation> out = new ArrayList<>();
    for (int i = 0; i < settings.features().size(); i++) {
      String f = settings.features().get(i);
      // A column with no observed value at all is constant after imputation: 0 is as good as any.
      double v = r.isNullAt(2 * i) ? 0.0 : r.getDouble(2 * i);
      out.add(new Imputation(f, settings.imputation(f), v, r.isNullAt(2 * i + 1) ? 0L : r.getLong(2 * i + 1)));
    }
    return out;
  }

  /**
   * The first pipeline stage: imputation and log transform as SQL, so the saved model carries the
   * fill values and is self-contained. Negative values of a log feature (net refunds) count as 0.
   */
  private SQLTransformer prepare(List<Imputation> imputations) {
    StringBuilder sql = new StringBuilder("SELECT *");
    for (Imputation imp : imputations) {
      String f = imp.column();
      String x = "coalesce(nanvl(CAST(`" + f + "` AS DOUBLE), CAST(NULL AS DOUBLE)), " + literal(imp.value()) + ")";
      if (settings.logFeatures().contains(f)) {
        x = "log1p(greatest(" + x + ", 0.0D))";
      }
      sql.append(", CAST(").append(x).append(" AS DOUBLE) AS `").append(INPUT_PREFIX).append(f).append('`');
    }
    return new SQLTransformer().setStatement(sql.append(" FROM __THIS__").toString());
  }

  private static String literal(double v) {
    return BigDecimal.valueOf(v).toPlainString() + "D";
  }

  private static String literal(String s) {
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
  }

  private List<Map<String, Object>> featureReport(List<Imputation> imputations) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Imputation imp : imputations) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("feature", imp.column());
      m.put("log_transformed", settings.logFeatures().contains(imp.column()));
      m.put("missing_rule", imp.rule());
      m.put("imputed_value", round(imp.value()));
      m.put("imputed_rows", imp.nulls());
      out.add(m);
    }
    return out;
  }

  // ---- choosing k ---------------------------------------------------------------------------

  /** The k values to try: silhouette needs at least one user more than clusters. */
  private List<Integer> candidateKs(long n, StageReport report) {
    Map<String, Object> sel = report.section("selection");
    List<Integer> ks = new ArrayList<>();
    if (settings.chooseK()) {
      sel.put("mode", "silhouette");
      sel.put("k_range", List.of(settings.kMin(), settings.kMax()));
      for (int k = settings.kMin(); k <= settings.kMax() && k < n; k++) {
        ks.add(k);
      }
    } else {
      sel.put("mode", "fixed");
      if (settings.kFixed() < n) {
        ks.add(settings.kFixed());
      }
    }
    if (ks.isEmpty()) {
      int needed = (settings.chooseK() ? settings.kMin() : settings.kFixed()) + 1;
      throw new DataQualityException("segment: " + USERS + " has " + n + " users; at least " + needed
          + " are needed for " + (needed - 1) + " segments", report);
    }
    return ks;
  }

  /**
   * Yesterday's centroids in today's standardized space, to start KMeans from; null when there is
   * nothing comparable (first run, other features) or warm starts are off.
   */
  private double[][] warmStart(PreviousRun previous, double[] mean, double[] std) {
    if (!settings.warmStart() || !PreviousRun.COMPARED.equals(previous.status())) {
      return null;
    }
    return previous.centroids().stream().map(p -> CentroidMatcher.standardize(p.centroid(), mean, std))
        .toArray(double[][]::new);
  }

  /**
   * The lowest-cost of {@code restarts} seeded fits, or the warm-started fit when k equals the
   * previous run's and its cost is within {@code warm-start.max-cost-increase} of that.
   */
  private Fit fit(SparkSession spark, Dataset<Row> scaled, int k, double[][] warmCenters) {
    KMeansModel best = null;
    for (int r = 0; r < settings.restarts(); r++) {
      describe(spark, "kmeans k=" + k + " restart " + (r + 1) + "/" + settings.restarts());
      KMeansModel m = new KMeans().setK(k).setSeed(settings.seed() + r).setMaxIter(settings.maxIterations())
          .setTol(settings.tolerance()).setInitMode("k-means||").setDistanceMeasure("euclidean")
          .setFeaturesCol(FEATURES).setPredictionCol(CLUSTER).fit(scaled);
      if (best == null || m.summary().trainingCost() < best.summary().trainingCost()) {
        best = m;
      }
    }
    Fit fresh = new Fit(best, best.summary().trainingCost(), best.summary().clusterSizes(), best.summary().numIter(),
        false, null);
    if (warmCenters == null || warmCenters.length != k) {
      return fresh;
    }
    describe(spark, "kmeans k=" + k + " warm start from the previous run");
    Fit warm = fitFrom(scaled, warmCenters);
    if (warm.cost() <= fresh.cost() * (1 + settings.warmStartTolerance())) {
      return new Fit(warm.model(), warm.cost(), warm.sizes(), null, true, fresh.cost());
    }
    return new Fit(fresh.model(), fresh.cost(), fresh.sizes(), fresh.iterations(), false, fresh.cost());
  }

  /**
   * KMeans from given initial centres. spark.ml's KMeans cannot take initial centres, the RDD-based
   * MLlib one can ({@code setInitialModel}); its result is wrapped in a spark.ml
   * {@link KMeansModel} through the constructor spark.ml itself uses for that (Scala
   * package-private, public in bytecode, unchanged since Spark 1.6), so the saved pipeline stays a
   * standard {@link PipelineModel}. Same Lloyd iterations, tolerance and distance as the fresh fits.
   */
  private Fit fitFrom(Dataset<Row> scaled, double[][] centers) {
    JavaRDD<org.apache.spark.mllib.linalg.Vector> points = scaled.select(FEATURES).toJavaRDD()
        .map(r -> org.apache.spark.mllib.linalg.Vectors.fromML((Vector) r.get(0)));
    points.persist(StorageLevel.MEMORY_AND_DISK());
    try {
      org.apache.spark.mllib.linalg.Vector[] init = Arrays.stream(centers)
          .map(org.apache.spark.mllib.linalg.Vectors::dense).toArray(org.apache.spark.mllib.linalg.Vector[]::new);
      org.apache.spark.mllib.clustering.KMeansModel fitted = new org.apache.spark.mllib.clustering.KMeans()
          .setK(centers.length).setMaxIterations(settings.maxIterations()).setEpsilon(settings.tolerance())
          .setDistanceMeasure("euclidean").setSeed(settings.seed())
          .setInitialModel(new org.apache.spark.mllib.clustering.KMeansModel(init))
          .run(points.rdd());
      KMeansModel model = new KMeansModel(Identifiable.randomUID("kmeans"), fitted);
      model = model.copy(new ParamMap()
          .put(model.k().w(centers.length))
          .put(model.featuresCol().w(FEATURES))
          .put(model.predictionCol().w(CLUSTER)));
      long[] sizes = new long[centers.length];
      for (Map.Entry<Integer, Long> e : fitted.predict(points).countByValue().entrySet()) {
        sizes[e.getKey()] = e.getValue();
      }
      return new Fit(model, fitted.trainingCost(), sizes, null, true, null);
    } finally {
      points.unpersist(false);
    }
  }

  private Candidate evaluate(SparkSession spark, Dataset<Row> scaled, Fit fit, int k, long n) {
    long nonEmpty = Arrays.stream(fit.sizes()).filter(s -> s > 0).count();
    long smallest = Arrays.stream(fit.sizes()).min().orElse(0L);
    double silhouette = Double.NaN;
    if (nonEmpty >= 2) {
      describe(spark, "silhouette k=" + k);
      // Spark's silhouette uses squared Euclidean distance (its default and only linear-time form).
      silhouette = new ClusteringEvaluator().setFeaturesCol(FEATURES).setPredictionCol(CLUSTER)
          .setMetricName("silhouette").setDistanceMeasure("squaredEuclidean").evaluate(fit.model().transform(scaled));
    }
    return new Candidate(k, fit, silhouette, smallest / (double) n);
  }

  /**
   * The best silhouette wins (ties: the smaller k); with {@code keep-previous-within} the previous
   * run's k stays while it is nearly as good, so the number of segments does not flip nightly.
   */
  private int choose(List<Candidate> candidates, PreviousRun previous, Map<String, Object> sel) {
    List<Map<String, Object>> list = new ArrayList<>();
    Candidate best = null;
    for (Candidate c : candidates) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("k", c.k());
      m.put("silhouette", Double.isNaN(c.silhouette()) ? null : round(c.silhouette()));
      m.put("cost", round(c.fit().cost()));
      m.put("iterations", c.fit().iterations());
      m.put("smallest_share", round(c.smallestShare()));
      if (c.fit().freshCost() != null) {
        m.put("warm_start", c.fit().warm());
        m.put("fresh_cost", round(c.fit().freshCost()));
      }
      if (c.clusters() != c.k()) {
        m.put("clusters_found", c.clusters());
      }
      list.add(m);
      if (!Double.isNaN(c.silhouette()) && (best == null || c.silhouette() > best.silhouette())) {
        best = c;
      }
    }
    sel.put("candidates", list);
    if (best == null) {
      best = candidates.get(0); // fixed k, or no candidate has two non-empty clusters
    }
    int chosen = best.k();
    boolean kept = false;
    if (settings.chooseK() && PreviousRun.COMPARED.equals(previous.status()) && previous.k() != best.k()) {
      for (Candidate c : candidates) {
        if (c.k() == previous.k() && c.silhouette() >= best.silhouette() - settings.keepPreviousWithin()) {
          chosen = c.k();
          kept = true;
        }
      }
    }
    sel.put("best_k", best.k());
    sel.put("chosen_k", chosen);
    sel.put("kept_previous_k", kept);
    return chosen;
  }

  // ---- statistics, labels, assignment ------------------------------------------------------

  /** Per cluster: size, buyers and active shares, revenue, medians and means of RFM (k rows). */
  private static Row[] clusterStats(Dataset<Row> clustered, int k, int activeDays) {
    Column frequency = coalesce(col("frequency").cast(DataTypes.DoubleType), lit(0.0));
    Column monetary = coalesce(col("monetary").cast(DataTypes.DoubleType), lit(0.0));
    List<Row> rows = clustered.groupBy(CLUSTER).agg(
            count(lit(1)).as("size"),
            avg(when(frequency.gt(0), 1.0).otherwise(0.0)).as("buyer_share"),
            // No event at all (null) is not active.
            avg(when(col("recency_event_days").leq(activeDays), 1.0).otherwise(0.0)).as("active_share"),
            sum(monetary).as("revenue"),
            percentile_approx(col("recency_days").cast(DataTypes.DoubleType), lit(0.5), lit(MEDIAN_ACCURACY)).as("median_recency_days"),
            percentile_approx(frequency, lit(0.5), lit(MEDIAN_ACCURACY)).as("median_frequency"),
            percentile_approx(monetary, lit(0.5), lit(MEDIAN_ACCURACY)).as("median_monetary"),
            avg(frequency).as("mean_frequency"),
            avg(monetary).as("mean_monetary"))
        .collectAsList();
    Row[] out = new Row[k];
    for (Row r : rows) {
      out[r.getInt(0)] = r;
    }
    return out;
  }

  private static SegmentLabeler.Profile labelProfile(int id, Row s) {
    if (s == null) { // an empty cluster: nothing to rank it by
      return new SegmentLabeler.Profile(id, null, 0.0, 0.0, 0.0, 0.0);
    }
    return new SegmentLabeler.Profile(id, nullableDouble(s, "median_recency_days"), s.getDouble(s.fieldIndex("mean_frequency")),
        s.getDouble(s.fieldIndex("mean_monetary")), s.getDouble(s.fieldIndex("buyer_share")),
        s.getDouble(s.fieldIndex("active_share")));
  }

  private static Double nullableDouble(Row r, String field) {
    int i = r.fieldIndex(field);
    return r.isNullAt(i) ? null : r.getDouble(i);
  }

  /** The last pipeline stage: cluster index -> stable segment id and label. */
  private static SQLTransformer assignment(int[] ids, Map<Integer, String> labels) {
    StringBuilder id = new StringBuilder("CAST(CASE `" + CLUSTER + "`");
    StringBuilder label = new StringBuilder("CASE `" + CLUSTER + "`");
    for (int c = 0; c < ids.length; c++) {
      id.append(" WHEN ").append(c).append(" THEN ").append(ids[c]);
      label.append(" WHEN ").append(c).append(" THEN ").append(literal(labels.get(ids[c])));
    }
    id.append(" END AS INT) AS segment_id");
    label.append(" END AS segment_label");
    return new SQLTransformer().setStatement("SELECT *, " + id + ", " + label + " FROM __THIS__");
  }

  /** Euclidean distance of a user's standardized features to its cluster's centroid. */
  private static UserDefinedFunction distance(double[][] centersZ) {
    UDF2<Vector, Integer, Double> f = (v, c) -> Math.sqrt(Vectors.sqdist(v, Vectors.dense(centersZ[c])));
    return functions.udf(f, DataTypes.DoubleType);
  }

  // ---- outputs ------------------------------------------------------------------------------

  /** Centroid in the features' own units: un-standardized, then the log transform inverted. */
  private double[] realCentroid(double[] z, double[] mean, double[] std) {
    double[] x = new double[z.length];
    for (int f = 0; f < z.length; f++) {
      double model = z[f] * std[f] + mean[f];
      x[f] = settings.logFeatures().contains(settings.features().get(f)) ? Math.expm1(model) : model;
    }
    return x;
  }

  static final StructType CENTROIDS_SCHEMA = new StructType()
      .add("segment_id", DataTypes.IntegerType, false)
      .add("feature", DataTypes.StringType, false)
      .add("feature_index", DataTypes.IntegerType, false)
      .add("log_transformed", DataTypes.BooleanType, false)
      .add("centroid", DataTypes.DoubleType, false)
      .add("centroid_model", DataTypes.DoubleType, false)
      .add("centroid_z", DataTypes.DoubleType, false)
      .add("scaler_mean", DataTypes.DoubleType, false)
      .add("scaler_std", DataTypes.DoubleType, false)
      .add("id_high_water", DataTypes.IntegerType, false);

  private List<Row> centroidRows(int[] ids, double[][] centersZ, double[] mean, double[] std, int highWater) {
    List<Row> rows = new ArrayList<>();
    for (int c = 0; c < ids.length; c++) {
      double[] real = realCentroid(centersZ[c], mean, std);
      for (int f = 0; f < settings.features().size(); f++) {
        String name = settings.features().get(f);
        rows.add(RowFactory.create(ids[c], name, f, settings.logFeatures().contains(name), real[f],
            centersZ[c][f] * std[f] + mean[f], centersZ[c][f], mean[f], std[f], highWater));
      }
    }
    rows.sort((a, b) -> a.getInt(0) != b.getInt(0) ? Integer.compare(a.getInt(0), b.getInt(0)) : Integer.compare(a.getInt(2), b.getInt(2)));
    return rows;
  }

  private StructType profileSchema() {
    StructType s = new StructType()
        .add("segment_id", DataTypes.IntegerType, false)
        .add("segment_label", DataTypes.StringType, false)
        .add("size", DataTypes.LongType, false)
        .add("share", DataTypes.DoubleType, false)
        .add("buyer_share", DataTypes.DoubleType, true)
        .add("active_share", DataTypes.DoubleType, true)
        .add("revenue_share", DataTypes.DoubleType, true)
        .add("median_recency_days", DataTypes.DoubleType, true)
        .add("median_frequency", DataTypes.DoubleType, true)
        .add("median_monetary", DataTypes.DoubleType, true)
        .add("mean_frequency", DataTypes.DoubleType, true)
        .add("mean_monetary", DataTypes.DoubleType, true)
        .add("recency_score", DataTypes.DoubleType, false)
        .add("frequency_score", DataTypes.DoubleType, false)
        .add("monetary_score", DataTypes.DoubleType, false);
    for (String f : settings.features()) {
      s = s.add("centroid_" + f, DataTypes.DoubleType, false);
    }
    return s.add("first_seen_run_date", DataTypes.DateType, false);
  }

  private static Row profileRow(int id, String label, Row s, long size, long n, double revenue,
      SegmentLabeler.Scores scores, double[] centroid, LocalDate since) {
    List<Object> v = new ArrayList<>();
    v.add(id);
    v.add(label);
    v.add(size);
    v.add(size / (double) n);
    if (s == null) {
      v.addAll(Arrays.asList(null, null, null, null, null, null, null, null));
    } else {
      v.add(s.getDouble(s.fieldIndex("buyer_share")));
      v.add(s.getDouble(s.fieldIndex("active_share")));
      // Undefined when nobody spent anything (or refunds cancel all spend).
      v.add(revenue > 0 ? s.getDouble(s.fieldIndex("revenue")) / revenue : null);
      v.add(nullableDouble(s, "median_recency_days"));
      v.add(nullableDouble(s, "median_frequency"));
      v.add(nullableDouble(s, "median_monetary"));
      v.add(s.getDouble(s.fieldIndex("mean_frequency")));
      v.add(s.getDouble(s.fieldIndex("mean_monetary")));
    }
    v.add(scores.recency());
    v.add(scores.frequency());
    v.add(scores.monetary());
    for (double c : centroid) {
      v.add(c);
    }
    v.add(Date.valueOf(since));
    return RowFactory.create(v.toArray());
  }

  /**
   * The fitted pipeline under {@code models/segment/run_date=D}, published like a dataset: saved
   * aside, marked with {@code _SUCCESS}, then renamed into place.
   */
  private static void saveModel(Datasets ds, PipelineModel model) {
    ds.publish(MODEL, dir -> model.write().save(dir.toString()));
  }

  private Map<String, Object> stabilityReport(SparkSession spark, Datasets ds, PreviousRun previous,
      CentroidMatcher.Result match, int[] ids, Map<Integer, String> labels, double[][] centersZ) {
    Map<String, Object> st = new LinkedHashMap<>();
    st.put("previous_run_date", previous.date() == null ? null : previous.date().toString());
    st.put("status", previous.status());
    st.put("max_match_distance", settings.maxMatchDistance());
    List<Map<String, Object>> matched = new ArrayList<>();
    List<Map<String, Object>> relabelled = new ArrayList<>();
    for (int c = 0; c < ids.length; c++) {
      if (Double.isNaN(match.distances()[c])) {
        continue;
      }
      Map<String, Object> m = new LinkedHashMap<>();
      String before = previous.labels().get(ids[c]);
      m.put("segment_id", ids[c]);
      m.put("distance", round(match.distances()[c]));
      m.put("label", labels.get(ids[c]));
      matched.add(m);
      if (!labels.get(ids[c]).equals(before)) {
        relabelled.add(Map.of("segment_id", ids[c], "from", before, "to", labels.get(ids[c])));
      }
    }
    matched.sort((a, b) -> Integer.compare((Integer) a.get("segment_id"), (Integer) b.get("segment_id")));
    st.put("matched", matched);
    st.put("appeared", match.appeared());
    st.put("vanished", match.vanished());
    st.put("relabelled", relabelled);
    // For scale: how far apart today's own segments are (a match distance far below this is tight).
    double closest = Double.NaN;
    for (int a = 0; a < centersZ.length; a++) {
      for (int b = a + 1; b < centersZ.length; b++) {
        double d = CentroidMatcher.distance(centersZ[a], centersZ[b]);
        closest = Double.isNaN(closest) ? d : Math.min(closest, d);
      }
    }
    st.put("closest_centroids_today", Double.isNaN(closest) ? null : round(closest));
    if (previous.date() != null && ds.exists(SEGMENTS, previous.date())) {
      describe(spark, "compare with previous segments");
      Row r = spark.read().parquet(ds.path(SEGMENTS, previous.date()).toString())
          .select(col("user_id"), col("segment_id").as("previous_segment_id"))
          .join(spark.read().parquet(ds.path(SEGMENTS).toString()).select("user_id", "segment_id"), "user_id")
          .agg(count(lit(1)), sum(when(col("segment_id").equalTo(col("previous_segment_id")), 1L).otherwise(0L)))
          .first();
      long both = r.getLong(0);
      st.put("users_in_both_runs", both);
      st.put("users_same_segment_share", both == 0 ? null : round((r.isNullAt(1) ? 0L : r.getLong(1)) / (double) both));
    }
    return st;
  }

  private static void describe(SparkSession spark, String what) {
    spark.sparkContext().setJobDescription("segment: " + what);
  }

  private static double round(double v) {
    return Double.isFinite(v) ? Math.round(v * 1e6) / 1e6 : v;
  }
}
