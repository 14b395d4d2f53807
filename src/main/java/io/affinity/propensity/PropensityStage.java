package io.affinity.propensity;

import static io.affinity.propensity.TrainingData.LABEL;
import static io.affinity.propensity.TrainingData.SPLIT;
import static io.affinity.propensity.TrainingData.TEST;
import static io.affinity.propensity.TrainingData.TRAIN;
import static io.affinity.propensity.TrainingData.VALIDATION;
import static io.affinity.propensity.TrainingData.WEIGHT;
import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import io.affinity.config.Settings.EventTypes;
import io.affinity.features.CutoffState;
import io.affinity.io.Datasets;
import io.affinity.pipeline.DataQualityException;
import io.affinity.pipeline.GateSettings;
import io.affinity.pipeline.QualityGate;
import io.affinity.pipeline.ModelQualityException;
import io.affinity.pipeline.Pipeline;
import io.affinity.pipeline.Stage;
import io.affinity.pipeline.StageContext;
import io.affinity.pipeline.StageReport;
import java.io.IOException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stage {@code propensity}: the calibrated probability that each user purchases within
 * {@code horizon-days} after the run date.
 *
 * <p>Training never sees the future. With {@code end} = the end of the run date (UTC) and
 * {@code cutoff = end - horizon}, the features of every user known at the cutoff are computed by
 * {@link io.affinity.features.UserFeatures} from events and ratings before the cutoff only, and
 * the label is whether the user purchased in {@code [cutoff, end)}. The labelled users are split
 * by a seeded hash of the user id into training (fit every grid point), validation (choose by area
 * under PR, fit the calibration) and test (the metrics in the manifest, never used to fit). If the
 * test AUC-ROC passes the gate, the model is saved under {@code models/propensity/run_date=D} and
 * every user of {@code features/users} (features as of {@code end}) is scored into
 * {@code propensity/run_date=D}: user_id, probability, decile (1 = most likely), raw_score.
 */
public final class PropensityStage implements Stage {
  private static final Logger LOG = LoggerFactory.getLogger(PropensityStage.class);
  /** Dataset name of the saved model. */
  public static final String MODEL_DATASET = "models/propensity";
  /** Dataset name of the saved expected-spend model. */
  public static final String SPEND_MODEL_DATASET = "models/spend";
  /**
   * Dataset name of the test users' scores as of the training cutoff (user_id, label, probability),
   * kept for the fairness report when it is configured: the only users whose outcome is known.
   */
  public static final String TEST_SCORES = "propensity_test";

  private final EventTypes types;
  private final PropensitySettings settings;
  private final QualityGate gate;
  /** The cutoff of a kept state of stage features; without one, training features come from the whole history. */
  private final Optional<CutoffState.Spec> cutoffState;
  /** Whether to write {@link #TEST_SCORES} (the fairness report reads them). */
  private final boolean keepTestScores;

  /** A stage whose gate against the last published run only records (for tests and embedding). */
  public PropensityStage(EventTypes types, PropensitySettings settings) {
    this(types, settings, GateSettings.off().propensity());
  }

  /**
   * @param types event types (the purchase type labels the training users)
   * @param settings this stage's settings
   * @param gate the AUC-PR gate against the last published run, checked before anything is written
   */
  public PropensityStage(EventTypes types, PropensitySettings settings, QualityGate gate) {
    this(types, settings, gate, Optional.empty());
  }

  /**
   * @param cutoffState the cutoff stage features keeps a state for (its horizon is this stage's):
   *     when the state of the run date is current, the training features are derived from it and
   *     only the partitions that can hold rows of the label and spend windows are read
   */
  public PropensityStage(EventTypes types, PropensitySettings settings, QualityGate gate,
      Optional<CutoffState.Spec> cutoffState) {
    this(types, settings, gate, cutoffState, false);
  }

  /** @param keepTestScores whether to write {@link #TEST_SCORES} for the fairness report */
  public PropensityStage(EventTypes types, PropensitySettings settings, QualityGate gate,
      Optional<CutoffState.Spec> cutoffState, boolean keepTestScores) {
    if (cutoffState.isPresent() && cutoffState.get().horizonDays() != settings.horizonDays()) {
      throw new IllegalArgumentException("the kept cutoff state's horizon (" + cutoffState.get().horizonDays()
          + " days) is not affinity.propensity.horizon-days (" + settings.horizonDays() + ")");
    }
    this.types = types;
    this.settings = settings;
    this.gate = gate;
    this.cutoffState = cutoffState;
    this.keepTestScores = keepTestScores;
  }

  @Override
  public String name() {
    return "propensity";
  }

  @Override
  public StageReport run(StageContext ctx) {
    Datasets ds = ctx.datasets();
    SparkContext sc = ctx.spark().sparkContext();
    Instant endInstant = ctx.runDate().plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant();
    Timestamp end = Timestamp.from(endInstant);
    Timestamp cutoff = Timestamp.from(endInstant.minus(settings.horizonDays(), ChronoUnit.DAYS));
    Dataset<Row> current = ds.read("features/users", "features");
    boolean fromTable = settings.label().fromTable();

    StageReport report = new StageReport();
    if (fromTable) {
      report.put("label", Metrics.ordered("source", "users table column", "column", settings.label().column(),
          "positive", settings.label().positives(), "excluded", settings.exclude()));
    } else {
      report.put("horizon_days", settings.horizonDays());
      report.put("training_cutoff", cutoff.toInstant().toString());
      report.put("label_window", Metrics.ordered("from", cutoff.toInstant().toString(), "to", end.toInstant().toString()));
    }
    report.put("scored_as_of", end.toInstant().toString());

    sc.setJobDescription(fromTable ? "propensity: labelled rows of the users table"
        : "propensity: training features as of the cutoff");
    // Scratch copy of the labelled users in the checkpoint directory, removed when the stage ends.
    Path scratch = new Path(sc.getCheckpointDir().isDefined() ? sc.getCheckpointDir().get() : ds.root() + "/_checkpoints",
        "propensity-training-" + ctx.runDate() + "-" + UUID.randomUUID());
    Dataset<Row> labelled = null;
    try {
      labelled = TrainingData.materialize(
          (fromTable ? tableLabels(current, report) : eventLabels(ctx, cutoff, end, report))
              .withColumn(SPLIT, TrainingData.split(settings.seed(), settings.validationShare(), settings.testShare())),
          scratch.toString());
      Map<String, long[]> counts = counts(labelled, report);
      Optional<String> tooLittle = tooLittleToLearn(counts, ctx, cutoff, end);
      if (tooLittle.isPresent()) {
        String why = "propensity: not enough labelled history to train: " + tooLittle.get();
        if (settings.required()) {
          throw new DataQualityException(why + " (affinity.propensity.required = false skips the stage instead and "
              + "lets the chain go on)", report);
        }
        return skip(ds, report, why + ". Skipped (affinity.propensity.required = false): the audience has no "
            + "propensity columns for this date");
      }
      training(counts, report);
      Dataset<Row> train = labelled.filter(col(SPLIT).equalTo(TRAIN)).withColumn(WEIGHT, weight(counts.get(TRAIN)));
      Dataset<Row> validation = labelled.filter(col(SPLIT).equalTo(VALIDATION));
      Dataset<Row> test = labelled.filter(col(SPLIT).equalTo(TEST));

      PropensityModel model = new PropensityTrainer(settings).train(train, validation, report);
      Optional<SpendTrainer.Fitted> spend = trainSpend(model, train, validation, report);

      sc.setJobDescription("propensity: test metrics");
      Dataset<Row> scoredTest = model.transform(test).persist(StorageLevel.MEMORY_AND_DISK());
      double aucRoc = evaluate(scoredTest, report);
      Optional<BaselineCheck.Result> baseline = fromTable ? Optional.empty()
          : Optional.of(BaselineCheck.compare(train, scoredTest, settings.models(), settings.seed()));
      baseline.ifPresent(b -> report.section("metrics").put("against_baseline", b.report()));
      if (fromTable) {
        sc.setJobDescription("propensity: best single attribute baseline");
        report.section("metrics").put("baseline_attribute", AttributeBaseline.best(train, test,
            AttributeBaseline.usable(train, ModelFeatures.attributes(settings, train))));
      }
      if (spend.isPresent()) {
        evaluateSpend(spend.get(), scoredTest, report.section("expected_spend"));
      }
      scoredTest.unpersist();

      Map<String, Object> gate = report.section("gate");
      gate.put("metric", "test auc_roc (calibrated)");
      gate.put("min", settings.minAucRoc());
      gate.put("value", aucRoc);
      gate.put("passed", aucRoc >= settings.minAucRoc());
      if (aucRoc < settings.minAucRoc()) {
        throw new ModelQualityException(String.format(Locale.ROOT,
            "model-quality gate failed: propensity test AUC-ROC %.4f is below affinity.propensity.gate.min-auc-roc %.4f; "
                + "nothing was written for run_date=%s, earlier outputs stay published",
            aucRoc, settings.minAucRoc(), ctx.runDate()), report);
      }
      if (baseline.isPresent() && baseline.get().worse()) {
        String why = "propensity: not published: below its baseline: " + baseline.get().report().get("reason");
        if (settings.required()) {
          throw new ModelQualityException(why + "; nothing was written for run_date=" + ctx.runDate(), report);
        }
        return skip(ds, report, why + ". Skipped (affinity.propensity.required = false)");
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> calibrated = (Map<String, Object>) report.section("metrics").get("calibrated");
      this.gate.check(ds, (Double) calibrated.get("auc_pr"), report);

      if (keepTestScores) {
        sc.setJobDescription("propensity: test scores for the fairness report");
        ds.write(model.transform(test).select(col("user_id"), col(LABEL).as("label"),
            col(PropensityModel.PROBABILITY).as("probability")), TEST_SCORES);
      }
      sc.setJobDescription("propensity: save model");
      report.put("model_path", saveModel(ds, model).toString());
      if (spend.isPresent()) {
        ds.publish(SPEND_MODEL_DATASET, dir -> spend.get().model().save(dir.toString()));
        report.section("expected_spend").put("model_path", ds.path(SPEND_MODEL_DATASET).toString());
      }
      score(ctx, model, spend.map(SpendTrainer.Fitted::model), current, report);
      return report;
    } finally {
      if (labelled != null) {
        labelled.unpersist();
      }
      try {
        ds.fs(scratch).delete(scratch, true);
      } catch (IOException e) {
        LOG.warn("could not remove the scratch copy of the training users at {}: {}", scratch, e.getMessage());
      }
    }
  }

  /**
   * Event mode: features as of the cutoff, label = a purchase in [cutoff, end). The features come
   * from the state stage features kept as of the cutoff when it is current; then the label and the
   * spend of the two horizons before the end are read from the partitions that can hold rows of
   * them only. Otherwise everything comes from the whole history.
   */
  private Dataset<Row> eventLabels(StageContext ctx, Timestamp cutoff, Timestamp end, StageReport report) {
    Datasets ds = ctx.datasets();
    Optional<Dataset<Row>> users = ds.readIfPresent("clean/users");
    Optional<Dataset<Row>> items = ds.readIfPresent("clean/items");
    Map<String, Object> source = report.section("cutoff_features");
    Optional<Dataset<Row>> kept = cutoffState.flatMap(spec -> CutoffState.features(ctx, types, spec, users, items));
    TrainingData.Inputs inputs;
    Dataset<Row> features;
    if (kept.isPresent()) {
      List<LocalDate> recent = CutoffState.partitionsFrom(ds, "events",
          TrainingData.previousWindowStart(cutoff, end).toInstant(),
          cutoffState.get().futureToleranceHours());
      inputs = new TrainingData.Inputs(ds.readPartitions("clean/events", recent), Optional.empty(), users, items);
      features = kept.get();
      source.put("source", "features/cutoff_state of " + ctx.runDate());
      source.put("events_partitions_read", recent.size());
    } else {
      inputs = new TrainingData.Inputs(ds.cleanHistory("events", "ingest"), ds.cleanHistoryIfPresent("ratings"), users,
          items);
      features = TrainingData.features(inputs, cutoff, types);
      source.put("source", "whole history");
      source.put("events_partitions_read", ds.historyDates("events").size());
      source.put("why", cutoffState.isEmpty() ? "no kept state configured"
          : "no current features/cutoff_state of " + ctx.runDate() + " (affinity.features.state off, or clean/events"
              + " changed after stage features ran)");
    }
    return TrainingData.withSpend(TrainingData.label(features, inputs.events(), cutoff, end, types), inputs, cutoff,
        end, types);
  }

  /**
   * The expected-spend model when it applies: on in the settings, and spend known (event mode, or
   * table mode with an amount column). Otherwise, or with too few spending buyers, the section says
   * why and the spend columns of the output are null.
   */
  private Optional<SpendTrainer.Fitted> trainSpend(PropensityModel model, Dataset<Row> train, Dataset<Row> validation,
      StageReport report) {
    Map<String, Object> out = report.section("expected_spend");
    if (!settings.spend().enabled()) {
      out.put("status", "off");
      out.put("reason", "affinity.propensity.spend.enabled = false");
      return Optional.empty();
    }
    if (settings.label().fromTable() && settings.spend().amountColumn().isEmpty()) {
      out.put("status", "off");
      out.put("reason", "table mode without affinity.propensity.spend.amount-column: no spend to learn from");
      return Optional.empty();
    }
    out.put("target", settings.label().fromTable()
        ? "users-table column " + settings.spend().amountColumn() + " of the responders"
        : "net purchase value in the label window (quantity x price minus returns, floored at 0)");
    long started = System.nanoTime();
    Optional<SpendTrainer.Fitted> fitted =
        new SpendTrainer(settings.spend(), settings.minClassUsers()).train(model.preparation(), train, validation, out);
    timing(out, "fit_seconds", started);
    return fitted;
  }

  /**
   * Test-user metrics of expected_value against the actual spend in the label window, beside the
   * simple predictions a marketer would otherwise use: the constant two-part model (P(buy) times the
   * mean spend of the training buyers: what the regression adds), and in event mode the spend of the
   * previous horizon and the all-time spend rate (monetary per horizon of tenure).
   */
  private void evaluateSpend(SpendTrainer.Fitted spend, Dataset<Row> scoredTest, Map<String, Object> out) {
    long started = System.nanoTime();
    Dataset<Row> test = spend.model().transform(scoredTest).persist(StorageLevel.MEMORY_AND_DISK());
    org.apache.spark.sql.Column actual = col(TrainingData.SPEND);
    Map<String, Object> metrics = new LinkedHashMap<>();
    metrics.put("evaluated_on", "test users (non-buyers spend 0)");
    metrics.putAll(SpendEvaluation.actuals(test, actual));
    Map<String, org.apache.spark.sql.Column> predictions = new LinkedHashMap<>();
    predictions.put("model", col(SpendModel.EXPECTED_VALUE));
    predictions.put("constant_spend", col(PropensityModel.PROBABILITY).multiply(spend.meanSpend()));
    if (!settings.label().fromTable()) {
      double h = settings.horizonDays();
      predictions.put("previous_horizon", col(TrainingData.PREVIOUS_SPEND));
      predictions.put("history_rate", coalesce(col("monetary"), lit(0.0)).multiply(h)
          .divide(org.apache.spark.sql.functions.greatest(col("tenure_days"), lit(h))));
    }
    Map<String, Map<String, Object>> all = SpendEvaluation.evaluateAll(test, predictions, actual);
    metrics.put("model", all.remove("model"));
    Map<String, Map<String, Object>> baselines = all;
    metrics.put("baselines", baselines);
    // The second part alone: E[spend | buy] on the test users who bought, against the training
    // buyers' mean (what the regression adds; a constant has no Spearman).
    Dataset<Row> buyers = test.filter(actual.gt(0));
    Map<String, org.apache.spark.sql.Column> given = new LinkedHashMap<>();
    given.put("model", col(SpendModel.EXPECTED_SPEND));
    given.put("constant_spend", lit(spend.meanSpend()));
    Map<String, Object> givenPurchase = new LinkedHashMap<>();
    givenPurchase.put("buyers", metrics.get("spending_users")); // = buyers' rows, counted by actuals()
    givenPurchase.putAll(SpendEvaluation.evaluateAll(buyers, given, actual));
    metrics.put("given_purchase", givenPurchase);
    @SuppressWarnings("unchecked")
    Map<String, Object> model = (Map<String, Object>) metrics.get("model");
    metrics.put("against_strongest_baseline", SpendEvaluation.compare(model, baselines));
    out.put("metrics", metrics);
    test.unpersist();
    timing(out, "evaluate_seconds", started);
  }

  private static void timing(Map<String, Object> section, String key, long startedNanos) {
    @SuppressWarnings("unchecked")
    Map<String, Object> t = (Map<String, Object>) section.computeIfAbsent("timings", k -> new LinkedHashMap<>());
    t.put(key, Math.round((System.nanoTime() - startedNanos) / 1e8) / 10.0);
  }

  /**
   * Table mode: the rows of features/users whose label column has a value, labelled from it. The
   * others are only scored; their count goes to {@code label.unlabelled_rows}.
   */
  private Dataset<Row> tableLabels(Dataset<Row> current, StageReport report) {
    Dataset<Row> all = TrainingData.labelFromColumn(current, settings.label());
    Row c = all.agg(count(lit(1)), count(col(LABEL))).first();
    @SuppressWarnings("unchecked")
    Map<String, Object> label = (Map<String, Object>) report.get("label");
    label.put("rows", c.getLong(0));
    label.put("labelled_rows", c.getLong(1));
    label.put("unlabelled_rows", c.getLong(0) - c.getLong(1));
    String amount = settings.spend().amountColumn();
    return all.filter(col(LABEL).isNotNull())
        .withColumn(TrainingData.SPEND, amount.isEmpty() ? lit(0.0)
            : when(col(LABEL).equalTo(1.0), col(amount).cast("double")).otherwise(lit(0.0)))
        .withColumn(TrainingData.PREVIOUS_SPEND, lit(null).cast("double"));
  }

  /**
   * Users and buyers per split ({users, buyers, longest tenure in days}), recorded under
   * {@code training}.
   */
  private static Map<String, long[]> counts(Dataset<Row> labelled, StageReport report) {
    Map<String, long[]> counts = new LinkedHashMap<>();
    for (String s : List.of(TRAIN, VALIDATION, TEST)) {
      counts.put(s, new long[3]);
    }
    // The third figure: the longest tenure at the cutoff in days, how far the history reaches back.
    for (Row r : labelled.groupBy(SPLIT).agg(count(lit(1)), sum(col(LABEL)), max(col("tenure_days"))).collectAsList()) {
      counts.get(r.getString(0))[0] = r.getLong(1);
      counts.get(r.getString(0))[1] = (long) r.getDouble(2);
      counts.get(r.getString(0))[2] = r.isNullAt(3) ? 0 : (long) ((Number) r.get(3)).doubleValue();
    }
    long users = total(counts, 0);
    long buyers = total(counts, 1);
    Map<String, Object> training = report.section("training");
    Map<String, Object> splits = new LinkedHashMap<>();
    for (Map.Entry<String, long[]> e : counts.entrySet()) {
      splits.put(e.getKey(), Metrics.ordered("users", e.getValue()[0], "buyers", e.getValue()[1]));
    }
    training.put("users", users);
    training.put("buyers", buyers);
    training.put("buyer_rate", users == 0 ? 0.0 : Metrics.round((double) buyers / users));
    training.put("splits", splits);
    return counts;
  }

  private static long total(Map<String, long[]> counts, int index) {
    return counts.values().stream().mapToLong(c -> c[index]).sum();
  }

  /**
   * Why the labelled users are too few to learn from or to measure, with what was measured and the
   * key that changes it: too few buyers or non-buyers overall, or a split without both.
   */
  private Optional<String> tooLittleToLearn(Map<String, long[]> counts, StageContext ctx, Timestamp cutoff,
      Timestamp end) {
    long users = total(counts, 0);
    long buyers = total(counts, 1);
    int min = settings.minClassUsers();
    List<String> problems = new ArrayList<>();
    for (Map.Entry<String, long[]> e : counts.entrySet()) {
      long[] c = e.getValue();
      if (c[1] == 0 || c[1] == c[0]) {
        problems.add(String.format(Locale.ROOT, "the %s split (%d users, %d buyers) does not hold both buyers and "
            + "non-buyers", e.getKey(), c[0], c[1]));
      }
    }
    if (buyers >= min && users - buyers >= min && problems.isEmpty()) {
      return Optional.empty();
    }
    String window = cutoff.toInstant().toString().substring(0, 10) + " .. " + end.toInstant().toString().substring(0, 10);
    String measured;
    String hint;
    if (settings.label().fromTable()) {
      measured = String.format(Locale.ROOT, "%d labelled users of whom %d responded", users, buyers);
      hint = "the labels come from " + settings.label().column() + " with positive values "
          + settings.label().positives() + " (affinity.propensity.label)";
    } else if (counts.values().stream().mapToLong(c -> c[2]).max().orElse(0) < settings.horizonDays()) {
      measured = String.format(Locale.ROOT, "%d users have an event before the training cutoff %s, the earliest "
          + "%d days before it", users, window.substring(0, 10), counts.values().stream().mapToLong(c -> c[2]).max()
          .orElse(0));
      hint = "events must reach back more than affinity.propensity.horizon-days (" + settings.horizonDays()
          + ") before the end of run_date=" + ctx.runDate();
    } else if (buyers < min) {
      measured = String.format(Locale.ROOT, "%d users known at the cutoff, of whom %d made a purchase (event type "
          + "'%s') in the label window %s", users, buyers, types.purchase(), window);
      hint = "the history reaches back far enough, but the label window holds few purchases: a longer "
          + "affinity.propensity.horizon-days holds more, or check affinity.event-types.purchase";
    } else {
      measured = String.format(Locale.ROOT, "%d users known at the cutoff, of whom %d made a purchase in the label "
          + "window %s", users, buyers, window);
      hint = "nearly every user bought: a shorter affinity.propensity.horizon-days separates them";
    }
    problems.add(0, String.format(Locale.ROOT, "%s; need at least %d buyers and %d non-buyers "
        + "(affinity.propensity.min-class-users)", measured, min, min));
    return Optional.of(String.join("; ", problems) + ". " + Character.toUpperCase(hint.charAt(0)) + hint.substring(1));
  }

  /** The class weights of the training users, recorded under {@code training}. */
  private void training(Map<String, long[]> counts, StageReport report) {
    Map<String, Object> weights = new LinkedHashMap<>();
    long[] t = counts.get(TRAIN);
    weights.put("buyer", Metrics.round(settings.balancedClassWeights() ? t[0] / (2.0 * t[1]) : 1.0));
    weights.put("non_buyer", Metrics.round(settings.balancedClassWeights() ? t[0] / (2.0 * (t[0] - t[1])) : 1.0));
    report.section("training").put("class_weights", weights);
  }

  /**
   * Skips the stage with its reason: this date's propensity output and models are removed (a rerun
   * must not leave an earlier attempt's published), the chain goes on and publish writes the
   * audience without the propensity columns.
   */
  private StageReport skip(Datasets ds, StageReport report, String why) {
    ds.delete("propensity");
    ds.delete(MODEL_DATASET);
    ds.delete(SPEND_MODEL_DATASET);
    ds.delete(TEST_SCORES);
    LOG.warn(why);
    return report.put(Pipeline.SKIPPED, why);
  }

  /** Balanced: each class carries half of the training weight (n / (2 n_class) per user); none: 1. */
  private org.apache.spark.sql.Column weight(long[] trainCounts) {
    if (!settings.balancedClassWeights()) {
      return lit(1.0);
    }
    double users = trainCounts[0];
    double buyers = trainCounts[1];
    return when(col(LABEL).equalTo(1.0), lit(users / (2 * buyers))).otherwise(lit(users / (2 * (users - buyers))));
  }

  /**
   * Test-user metrics before and after calibration and for the recency-only baseline.
   *
   * @return the calibrated AUC-ROC, for the gate
   */
  private double evaluate(Dataset<Row> scoredTest, StageReport report) {
    Map<String, Object> metrics = report.section("metrics");
    Row base = scoredTest.agg(count(lit(1)), sum(col(LABEL))).first();
    metrics.put("evaluated_on", "test users");
    metrics.put("users", base.getLong(0));
    metrics.put("buyer_rate", Metrics.round(base.getDouble(1) / base.getLong(0)));
    int bins = settings.reliabilityBins();
    metrics.put("uncalibrated", Metrics.evaluate(scoredTest, PropensityModel.UNCALIBRATED, PropensityModel.RAW_SCORE, bins));
    Map<String, Object> calibrated =
        Metrics.evaluate(scoredTest, PropensityModel.PROBABILITY, PropensityModel.RAW_SCORE, bins);
    metrics.put("calibrated", calibrated);
    long buyers = Math.round(base.getDouble(1));
    double[] iv = Metrics.aucInterval((Double) calibrated.get("auc_roc"), buyers, base.getLong(0) - buyers);
    calibrated.put("auc_roc_interval", Metrics.ordered("low", iv[0], "high", iv[1], "method",
        "95 % Hanley-McNeil: the sampling error of the AUC on this many test buyers and non-buyers"));
    if (settings.label().fromTable()) {
      metrics.put("baseline_recency", "not computed: the label is a users-table column, not a next purchase; "
          + "see baseline_attribute");
      return (Double) calibrated.get("auc_roc");
    }
    // Baseline: the more recent the last purchase, the likelier the next; never purchased ranks last.
    Dataset<Row> baseline = scoredTest.withColumn("_recency_score",
        coalesce(col("recency_days").multiply(-1.0), lit(-Double.MAX_VALUE)));
    Map<String, Object> b = new LinkedHashMap<>();
    b.put("score", "minus days since the last purchase (never purchased = lowest)");
    double[] auc = Metrics.aucs(baseline, "_recency_score");
    b.put("auc_roc", Metrics.round(auc[0]));
    b.put("auc_pr", Metrics.round(auc[1]));
    metrics.put("baseline_recency", b);
    return (Double) calibrated.get("auc_roc");
  }

  /** Saves the model atomically like a dataset: aside first, then renamed into place with _SUCCESS. */
  private static Path saveModel(Datasets ds, PropensityModel model) {
    ds.publish(MODEL_DATASET, dir -> model.save(dir.toString()));
    return ds.path(MODEL_DATASET);
  }

  /** Scores every user of features/users and writes propensity/run_date=D. */
  private void score(StageContext ctx, PropensityModel model, Optional<SpendModel> spend, Dataset<Row> current,
      StageReport report) {
    ctx.spark().sparkContext().setJobDescription("propensity: score users as of the run date");
    Dataset<Row> probabilities = model.transform(current);
    Dataset<Row> withSpend = spend.isPresent() ? spend.get().transform(probabilities)
        : probabilities.withColumn(SpendModel.EXPECTED_SPEND, lit(null).cast("double"))
            .withColumn(SpendModel.EXPECTED_VALUE, lit(null).cast("double"));
    Dataset<Row> scored = withSpend
        .select(col("user_id"), col(PropensityModel.PROBABILITY), col(PropensityModel.RAW_SCORE),
            col(SpendModel.EXPECTED_SPEND), col(SpendModel.EXPECTED_VALUE))
        .persist(StorageLevel.MEMORY_AND_DISK());
    Dataset<Row> out = Deciles.assign(scored,
            col(PropensityModel.PROBABILITY).desc(), col(PropensityModel.RAW_SCORE).desc(), col("user_id").asc())
        .select(col("user_id"), col(PropensityModel.PROBABILITY), col(Deciles.COLUMN), col(PropensityModel.RAW_SCORE),
            col(SpendModel.EXPECTED_SPEND), col(SpendModel.EXPECTED_VALUE));
    ctx.datasets().write(out, "propensity");
    scored.unpersist();

    Dataset<Row> written = ctx.datasets().read("propensity", name());
    Map<String, Object> scoring = report.section("scoring");
    Row all = written.agg(count(lit(1)), avg(col(PropensityModel.PROBABILITY)), sum(col(PropensityModel.PROBABILITY)),
            avg(col(SpendModel.EXPECTED_SPEND)), sum(col(SpendModel.EXPECTED_VALUE)))
        .first();
    scoring.put("users", all.getLong(0));
    scoring.put("mean_probability", Metrics.round(all.getDouble(1)));
    scoring.put("expected_buyers", Metrics.round(all.getDouble(2)));
    if (spend.isPresent()) {
      scoring.put("mean_expected_spend", Metrics.round(all.getDouble(3)));
      scoring.put("expected_revenue", Metrics.round(all.getDouble(4)));
    }
    List<Map<String, Object>> deciles = new ArrayList<>();
    for (Row r : written.groupBy(Deciles.COLUMN)
        .agg(count(lit(1)), min(PropensityModel.PROBABILITY), max(PropensityModel.PROBABILITY), avg(PropensityModel.PROBABILITY))
        .orderBy(Deciles.COLUMN).collectAsList()) {
      Map<String, Object> d = new LinkedHashMap<>();
      d.put("decile", r.getInt(0));
      d.put("users", r.getLong(1));
      d.put("min_probability", Metrics.round(r.getDouble(2)));
      d.put("max_probability", Metrics.round(r.getDouble(3)));
      d.put("mean_probability", Metrics.round(r.getDouble(4)));
      deciles.add(d);
    }
    scoring.put("deciles", deciles);
    report.section("rows").put("propensity", all.getLong(0));
  }
}
