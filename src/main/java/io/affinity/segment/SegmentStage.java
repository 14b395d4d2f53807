package io.affinity.segment;

import static org.apache.spark.sql.functions.col;

import io.affinity.io.Datasets;
import io.affinity.pipeline.GateSettings;
import io.affinity.pipeline.QualityGate;
import io.affinity.pipeline.Stage;
import io.affinity.pipeline.StageContext;
import io.affinity.pipeline.StageReport;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.clustering.KMeansModel;
import org.apache.spark.ml.feature.SQLTransformer;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stage {@code segment}: KMeans customer segments on configured user features. This class only
 * orchestrates; each step has its own class:
 *
 * <ol>
 *   <li>{@link FeaturePreparation}: schema check, imputation by each column's declared rule, log
 *       transform, standardization; no user is dropped.
 *   <li>{@link KMeansFitter} fits each k (seeded restarts, warm start from the previous run) and
 *       {@link KChooser} picks k; {@link Hysteresis} keeps the previous model unless a challenger
 *       is better beyond the noise of seeded restarts; every candidate goes to the manifest.
 *   <li>{@link IdStability} measures who would keep their segment id; below the stability floor the
 *       night publishes the previous run's centroids instead.
 *   <li>{@link SegmentProfiler} measures each segment on its members.
 *   <li>{@link CentroidMatcher} matches today's centroids to the previous run's so a population
 *       keeps its segment id; {@link SegmentLabeler} names segments.
 *   <li>Outputs ({@link SegmentOutputs}): {@code segments} (per user), {@code segment_centroids}
 *       (what the next run matches against), the fitted {@code PipelineModel} under
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


  /** Users per partition of the KMeans input (see run). */
  private static final long USERS_PER_PARTITION = 100_000;

  private final SegmentSettings settings;
  private final QualityGate gate;
  private final FeaturePreparation preparation;
  private final KMeansFitter fitter;
  private final KChooser chooser;
  private final SegmentProfiler profiler;

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
    this.preparation = new FeaturePreparation(settings);
    this.fitter = new KMeansFitter(settings);
    this.chooser = new KChooser(settings);
    this.profiler = new SegmentProfiler(settings);
  }

  @Override
  public String name() {
    return "segment";
  }

  @Override
  public StageReport run(StageContext ctx) {
    SparkSession spark = ctx.spark();
    Datasets ds = ctx.datasets();
    Dataset<Row> users = ds.read(USERS, "features");
    List<String> profileColumns = profileColumns();
    preparation.checkSchema(users.schema(), profileColumns);
    // The laid-out users feed three passes (imputation values, score boundaries, scaler fit) and
    // the scaled copy: cached, the repartition and sort run once instead of four times.
    users = stableLayout(users).persist(StorageLevel.MEMORY_AND_DISK());
    PreviousRun previous = PreviousRun.read(spark, ds, settings.features(), settings.logFeatures());
    StageReport report = new StageReport();

    Dataset<Row> scaled = null;
    try {
      FeaturePreparation.Prepared prep = preparation.fit(users);
      RfmScores.Boundaries boundaries = RfmScores.fit(users, settings.frequencyColumn());
      scaled = scale(prep, users, boundaries, profileColumns);
      describe(spark, "count users");
      long n = scaled.count();
      Map<String, Object> rows = report.section("rows");
      rows.put("users", n);
      report.put("features", preparation.report(prep.imputations()));

      double[] mean = prep.mean();
      double[] std = prep.std();
      List<KMeansFitter.Candidate> candidates = fitCandidates(scaled, n, warmStart(previous, mean, std), report);
      KMeansFitter.Candidate best = chooseModel(candidates, previous, report);
      report.put("hysteresis", Hysteresis.report(previous, candidates, best, report.section("selection"), settings));
      Assignment assigned = assign(scaled, best.fit().model(), mean, std, previous);
      IdStability.Shares shares = IdStability.measure(ds, previous, ctx.runDate(), assigned.clustered(), assigned.ids());
      Map<String, Object> floor = floorReport(shares, previous);
      boolean keptPrevious = "kept_previous_model".equals(floor.get("action"));
      if (keptPrevious) {
        // The previous model as it was: its centroids and its scaler (today's imputation).
        prep = prep.withScaler(previous.scalerMean(), previous.scalerStd());
        mean = prep.mean();
        std = prep.std();
        scaled.unpersist();
        scaled = scale(prep, users, boundaries, profileColumns);
        best = fitter.previousModel(scaled, previousCentersZ(previous, mean, std));
        assigned = assign(scaled, best.fit().model(), mean, std, previous);
        shares = IdStability.measure(ds, previous, ctx.runDate(), assigned.clustered(), assigned.ids());
      }
      gate.check(ds, Double.isNaN(best.silhouette()) ? null : round(best.silhouette()), report);
      KMeansModel kmeans = assigned.kmeans();
      double[][] centersZ = assigned.centersZ();
      int k = centersZ.length;
      rows.put("segments", k);

      describe(spark, "population statistics");
      Row populationStats = profiler.populationStats(scaled);
      SegmentMeasures population = SegmentProfiler.measures(-1, populationStats);
      Dataset<Row> clustered = assigned.clustered();
      Row[] stats = assigned.stats();
      long[] sizes = assigned.sizes();
      CentroidMatcher.Result match = assigned.match();
      int[] ids = assigned.ids();

      List<SegmentMeasures> measures = new ArrayList<>();
      Map<Integer, String> previousLabels = new HashMap<>();
      for (int c = 0; c < k; c++) {
        measures.add(SegmentProfiler.measures(ids[c], stats[c]));
        if (!Double.isNaN(match.distances()[c])) {
          previousLabels.put(ids[c], previous.labels().get(ids[c]));
        }
      }
      SegmentLabeler labeler = new SegmentLabeler(settings.labelRules(), settings.fallbackLabel(), settings.stickyLabels(),
          settings.labelKeepWithin());
      SegmentLabeler.Result proposed = labeler.labelAll(measures, population, previousLabels);
      Map<Integer, LabelAudit.Result> audits = new HashMap<>();
      Map<Integer, String> labels = new HashMap<>();
      for (SegmentMeasures m : measures) {
        // A label kept from the previous run is audited with the sticky tolerance; a new one as written.
        LabelAudit.Result audit = LabelAudit.audit(labeler, proposed.labels().get(m.segmentId()), m, population,
            proposed.kept().contains(m.segmentId()) ? settings.labelKeepWithin() : LabelRule.Tolerance.NONE);
        audits.put(m.segmentId(), audit);
        labels.put(m.segmentId(), audit.published());
      }

      SQLTransformer assign = SegmentOutputs.assignment(ids, labels);
      describe(spark, "write segments");
      ds.write(assign.transform(clustered).select(col("user_id"), col("segment_id"), col("segment_label"),
          SegmentOutputs.distance(centersZ).apply(col(FeaturePreparation.FEATURES), col(KMeansFitter.CLUSTER)).as("distance"),
          col(RfmScores.R), col(RfmScores.F), col(RfmScores.M)),
          SEGMENTS);

      describe(spark, "write segment centroids");
      ds.write(spark.createDataFrame(SegmentOutputs.centroidRows(preparation, settings.features(), settings.logFeatures(),
          ids, centersZ, mean, std, match.highWater()), SegmentOutputs.CENTROIDS_SCHEMA), CENTROIDS);

      PipelineModel model = new Pipeline()
          .setStages(new PipelineStage[] {prep.prepare(), prep.assembler(), prep.scaler(), kmeans, assign})
          .fit(users); // every stage is already fitted: this only checks the schema and wraps them
      describe(spark, "save model");
      SegmentOutputs.saveModel(ds, model);

      describe(spark, "write segment profiles");
      double revenue = Arrays.stream(stats).mapToDouble(SegmentProfiler::revenue).sum();
      LocalDate runDate = ctx.runDate();
      List<Row> profileRows = new ArrayList<>();
      List<Map<String, Object>> segmentReport = new ArrayList<>();
      for (int c = 0; c < k; c++) {
        int id = ids[c];
        LocalDate since = previousLabels.containsKey(id) ? previous.firstSeen().getOrDefault(id, runDate) : runDate;
        profileRows.add(SegmentProfiler.profileRow(audits.get(id), stats[c], sizes[c], n, revenue,
            preparation.realCentroid(centersZ[c], mean, std), since));
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("segment_id", id);
        s.put("label", labels.get(id));
        s.put("size", sizes[c]);
        s.put("share", round(sizes[c] / (double) n));
        s.put("measures", measuresReport(measures.get(c)));
        s.put("audit", LabelAudit.report(audits.get(id)));
        segmentReport.add(s);
      }
      profileRows.sort((a, b) -> Integer.compare(a.getInt(0), b.getInt(0)));
      segmentReport.sort((a, b) -> Integer.compare((Integer) a.get("segment_id"), (Integer) b.get("segment_id")));
      ds.write(spark.createDataFrame(profileRows, profiler.profileSchema()).coalesce(1), PROFILES);

      Map<String, Object> modelReport = report.section("model");
      modelReport.put("path", ds.path(MODEL).toString());
      modelReport.put("k", k);
      modelReport.put("silhouette", Double.isNaN(best.silhouette()) ? null : round(best.silhouette()));
      modelReport.put("cost", round(best.fit().cost()));
      modelReport.put("warm_start", best.fit().warm());
      modelReport.put("source", keptPrevious ? "previous_centroids" : best.fit().warm() ? "warm_start" : "fresh");
      report.put("population", measuresReport(population));
      report.put("segments", segmentReport);
      report.put("stability", StabilityReport.of(previous, settings.maxMatchDistance(), match, ids, labels,
          proposed.changed(), centersZ, shares, floor));
      return report;
    } finally {
      if (scaled != null) {
        scaled.unpersist();
      }
      users.unpersist();
    }
  }

  /** The users' standardized features, profile columns and RFM scores, cached. */
  private Dataset<Row> scale(FeaturePreparation.Prepared prep, Dataset<Row> users,
      RfmScores.Boundaries boundaries, List<String> profileColumns) {
    List<String> kept = new ArrayList<>(List.of("user_id"));
    kept.addAll(profileColumns);
    kept.add(FeaturePreparation.FEATURES);
    return RfmScores.withScores(
            prep.transform(users).select(kept.stream().map(c -> col(c)).toArray(org.apache.spark.sql.Column[]::new)),
            boundaries, settings.frequencyColumn())
        .persist(StorageLevel.MEMORY_AND_DISK());
  }

  /** Columns the profiles and label measures need besides the features. */
  private List<String> profileColumns() {
    List<String> c = new ArrayList<>(List.of("recency_days", "recency_event_days", "frequency", "monetary", "tenure_days"));
    if (!c.contains(settings.frequencyColumn())) {
      c.add(settings.frequencyColumn());
    }
    return c;
  }

  /** A segment's (or the population's) label measures for the manifest. */
  private static Map<String, Object> measuresReport(SegmentMeasures m) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("users", m.size());
    for (LabelRule.Measure x : LabelRule.Measure.values()) {
      Double v = m.get(x);
      r.put(x.configName(), v == null ? null : round(v));
    }
    return r;
  }

  /**
   * KMeans|| samples its initial centres partition by partition, so the result depends on which
   * rows sit in which partition in which order. How features/users was split into files varies
   * from run to run (shuffle order); a fixed hash partitioning, sorted within, makes a rerun of the
   * same data give the same segments. The partition count follows the data (one per 100,000 users,
   * at most the shuffle partitions), so the same data always gets the same layout, and a small
   * table is not spread over many tiny partitions that every KMeans iteration would visit.
   */
  private static Dataset<Row> stableLayout(Dataset<Row> users) {
    long inputUsers = users.count();
    int partitions = (int) Math.max(1, Math.min(users.sparkSession().sessionState().conf().numShufflePartitions(),
        (inputUsers + USERS_PER_PARTITION - 1) / USERS_PER_PARTITION));
    return users.repartition(partitions, col("user_id")).sortWithinPartitions("user_id");
  }

  /** Fits every candidate k (the previous k also from the previous centroids). */
  private List<KMeansFitter.Candidate> fitCandidates(Dataset<Row> scaled, long n, double[][] warmCenters,
      StageReport report) {
    List<KMeansFitter.Candidate> candidates = new ArrayList<>();
    for (int k : chooser.candidateKs(n, report)) {
      long start = System.nanoTime();
      KMeansFitter.Candidate c = fitter.candidate(scaled, k, warmCenters);
      candidates.add(c);
      LOG.info("segment: k={} silhouette {} cost {}{} ({} s)", k, round(c.silhouette()), round(c.fit().cost()),
          c.fit().warm() ? " (warm start)" : "", Math.round((System.nanoTime() - start) / 1e8) / 10.0);
    }
    return candidates;
  }

  /** The chosen candidate ({@link KChooser}). */
  private KMeansFitter.Candidate chooseModel(List<KMeansFitter.Candidate> candidates, PreviousRun previous,
      StageReport report) {
    int previousK = PreviousRun.COMPARED.equals(previous.status()) ? previous.k() : 0;
    int chosen = chooser.choose(candidates, previousK, report.section("selection"));
    return candidates.stream().filter(c -> c.k() == chosen).findFirst().orElseThrow();
  }

  /**
   * Today's users under one model.
   *
   * @param clustered the scaled users with their cluster index (not cached: recomputed per use)
   * @param stats per-cluster statistics ({@link SegmentProfiler#clusterStats})
   * @param match the stable ids of the clusters
   */
  private record Assignment(KMeansModel kmeans, double[][] centersZ, Dataset<Row> clustered, Row[] stats, long[] sizes,
      CentroidMatcher.Result match) {
    int[] ids() {
      return match.segmentIds();
    }
  }

  private Assignment assign(Dataset<Row> scaled, KMeansModel kmeans, double[] mean, double[] std, PreviousRun previous) {
    double[][] centersZ = Arrays.stream(kmeans.clusterCenters()).map(Vector::toArray).toArray(double[][]::new);
    describe(scaled.sparkSession(), "segment statistics");
    Dataset<Row> clustered = kmeans.transform(scaled);
    Row[] stats = profiler.clusterStats(clustered, centersZ.length);
    long[] sizes = Arrays.stream(stats).mapToLong(SegmentProfiler::size).toArray();
    CentroidMatcher.Result match = CentroidMatcher.match(centersZ, mean, std, previous.centroids(),
        previous.highWater(), settings.maxMatchDistance(), sizes);
    return new Assignment(kmeans, centersZ, clustered, stats, sizes, match);
  }

  /**
   * The stability floor: what the night does when today's fit would move more of the users without
   * new events than {@code stability.floor} allows. The manifest's {@code stability.floor}.
   */
  private Map<String, Object> floorReport(IdStability.Shares shares, PreviousRun previous) {
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("floor", settings.stabilityFloor());
    f.put("below_floor", settings.belowFloor().configName());
    if (shares == null || shares.unchangedKeptShare() == null) {
      f.put("action", "none");
      f.put("reason", "no previous run's segments to compare with, or no user without new events");
      return f;
    }
    f.put("fit_users_without_new_events", shares.unchanged());
    f.put("fit_same_segment_share", round(shares.unchangedKeptShare()));
    String measured = percent(shares.unchangedKeptShare()) + " of the " + shares.unchanged()
        + " users without new events since " + previous.date() + " keep their segment id with today's fit";
    if (!shares.below(settings.stabilityFloor())) {
      f.put("action", "none");
      f.put("reason", measured + ", at or above stability.floor " + percent(settings.stabilityFloor()));
    } else if (settings.belowFloor() == SegmentSettings.BelowFloor.REFIT) {
      f.put("action", "refit_published");
      f.put("reason", measured + ", below stability.floor " + percent(settings.stabilityFloor())
          + "; stability.below-floor = refit publishes today's fit anyway");
    } else if (!PreviousRun.COMPARED.equals(previous.status())) {
      f.put("action", "refit_published");
      f.put("reason", measured + ", below stability.floor " + percent(settings.stabilityFloor())
          + ", but the previous run's centroids cannot be reused (" + previous.status() + ")");
    } else {
      f.put("action", "kept_previous_model");
      f.put("reason", measured + ", below stability.floor " + percent(settings.stabilityFloor())
          + ": today's users are assigned to the previous run's " + previous.k() + " centroids instead");
    }
    return f;
  }

  private static String percent(double share) {
    return Math.round(share * 1000) / 10.0 + " %";
  }

  /**
   * Yesterday's centroids in today's standardized space, to start KMeans from; null when there is
   * nothing comparable (first run, other features) or warm starts are off.
   */
  private double[][] warmStart(PreviousRun previous, double[] mean, double[] std) {
    return settings.warmStart() ? previousCentersZ(previous, mean, std) : null;
  }

  /** The previous run's centroids standardized with today's scaler; null when not comparable. */
  private static double[][] previousCentersZ(PreviousRun previous, double[] mean, double[] std) {
    if (!PreviousRun.COMPARED.equals(previous.status())) {
      return null;
    }
    return previous.centroids().stream().map(p -> CentroidMatcher.standardize(p.centroid(), mean, std))
        .toArray(double[][]::new);
  }

  private static void describe(SparkSession spark, String what) {
    spark.sparkContext().setJobDescription("segment: " + what);
  }

  static double round(double v) {
    return Double.isFinite(v) ? Math.round(v * 1e6) / 1e6 : v;
  }
}
