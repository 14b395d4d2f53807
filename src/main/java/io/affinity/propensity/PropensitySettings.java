package io.affinity.propensity;

import io.affinity.config.ConfigReader;
import io.affinity.config.SettingsException;
import io.affinity.features.UserFeatures;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Settings of stage {@code propensity}, read and validated with all others before Spark starts.
 * Meaning, units and ranges of every key are in reference.conf under {@code affinity.propensity}.
 *
 * @param horizonDays the probability is of at least one purchase within this many days
 * @param features behavioural columns of {@code features/users} the model uses
 * @param attributes user attribute columns of {@code features/users} the model uses as well
 * @param validationShare share of labelled users for choosing the grid point and fitting calibration
 * @param testShare share of labelled users kept for the reported metrics only
 * @param seed seed of the user split
 * @param balancedClassWeights whether each class gets half of the total training weight
 * @param regParams candidate regularisation strengths (grid)
 * @param elasticNetParams candidate L1 shares of the penalty (grid)
 * @param maxIter iteration limit of each logistic regression fit
 * @param calibration {@link Calibration} method fitted on the validation users
 * @param reliabilityBins equal-width probability bins of the reliability table and the ECE
 * @param minClassUsers fewest buyers and fewest non-buyers the labelled users must contain
 * @param minAucRoc model-quality gate on the test users' AUC-ROC
 * @param label where the training label comes from: {@link Label#EVENTS} (a purchase in the label
 *     window) or a column of the users table
 * @param exclude attribute columns never used as model inputs (they leak the outcome); includes the
 *     spend amount column of table mode
 * @param spend the expected-spend model ({@link Spend})
 * @param required whether too little labelled data or a model below its baseline stops the run
 *     (exit 3 or 4) instead of skipping the stage
 * @param models the model families and how one is chosen ({@link Models})
 */
public record PropensitySettings(
    int horizonDays,
    List<String> features,
    List<String> attributes,
    double validationShare,
    double testShare,
    long seed,
    boolean balancedClassWeights,
    List<Double> regParams,
    List<Double> elasticNetParams,
    int maxIter,
    Calibration calibration,
    int reliabilityBins,
    int minClassUsers,
    double minAucRoc,
    Label label,
    List<String> exclude,
    Spend spend,
    boolean required,
    Models models) {

  /** Every attribute column of the users table except the label and {@code exclude}. */
  public static final String ALL_ATTRIBUTES = "*";

  /** Settings with the label from purchase events and nothing excluded. */
  public PropensitySettings(int horizonDays, List<String> features, List<String> attributes, double validationShare,
      double testShare, long seed, boolean balancedClassWeights, List<Double> regParams, List<Double> elasticNetParams,
      int maxIter, Calibration calibration, int reliabilityBins, int minClassUsers, double minAucRoc) {
    this(horizonDays, features, attributes, validationShare, testShare, seed, balancedClassWeights, regParams,
        elasticNetParams, maxIter, calibration, reliabilityBins, minClassUsers, minAucRoc, Label.EVENTS, List.of(),
        Spend.DEFAULT, false, Models.LOGISTIC_ONLY);
  }

  /** A model family; the order of the constants is that of simplicity (ties go to the first). */
  public enum Family {
    /** Class-weighted logistic regression over the grid: linear in the prepared inputs, explainable. */
    LOGISTIC("logistic", "logistic_regression"),
    /** MLlib RandomForestClassifier: interactions and thresholds, averaged over many trees. */
    RANDOM_FOREST("random-forest", "random_forest"),
    /** MLlib GBTClassifier (logistic loss): interactions and thresholds, fitted stagewise. */
    GRADIENT_BOOSTED_TREES("gradient-boosted-trees", "gradient_boosted_trees");

    private final String key;
    private final String label;

    Family(String key, String label) {
      this.key = key;
      this.label = label;
    }

    /** Its name in the configuration. */
    public String key() {
      return key;
    }

    /** Its name in the manifest and the report. */
    public String label() {
      return label;
    }
  }

  /**
   * The candidate families and the choice among them (key {@code affinity.propensity.families},
   * {@code random-forest}, {@code gradient-boosted-trees}, {@code choice}).
   *
   * @param families candidates, simplest first (the configured order is normalised to the enum's)
   * @param forestTrees trees of the random forest
   * @param forestDepth their maximum depth
   * @param boostIterations boosting iterations of the gradient-boosted trees
   * @param boostDepth their trees' maximum depth
   * @param boostStep shrinkage per iteration
   * @param replicates Poisson bootstrap resamples of the validation users (0 = no interval)
   * @param confidence two-sided level of the bootstrap intervals
   */
  public record Models(List<Family> families, int forestTrees, int forestDepth, int boostIterations, int boostDepth,
      double boostStep, int replicates, double confidence) implements java.io.Serializable {
    /** The logistic regression alone (no choice to make). */
    public static final Models LOGISTIC_ONLY = new Models(List.of(Family.LOGISTIC), 50, 6, 30, 3, 0.1, 200, 0.95);
  }

  /**
   * The second part of the expected-spend model: E[spend | buys], fitted on the buyers of the
   * training users (key {@code affinity.propensity.spend}).
   *
   * @param enabled whether to fit it; off = {@code expected_spend} and {@code expected_value} are null
   * @param regParams candidate ridge strengths of the linear regression on ln(spend)
   * @param amountColumn table mode: the numeric users-table column holding a responder's amount
   *     (snake case, as ingested); empty = no spend model in table mode. Event mode ignores it.
   */
  public record Spend(boolean enabled, List<Double> regParams, String amountColumn) implements java.io.Serializable {
    /** On, with the default grid and no table-mode amount. */
    public static final Spend DEFAULT = new Spend(true, List.of(0.0, 0.01, 0.1, 1.0), "");
  }

  /**
   * The training label.
   *
   * @param column the label column of {@code features/users} (snake case, as ingested); empty = the
   *     label is a purchase event in the label window
   * @param positives values of the column that mean "responded" (text compared trimmed, ignoring
   *     case; numbers compared as numbers); any other non-empty value is a 0, an empty one no label
   * @param numeric whether the column is a numeric attribute (else text)
   */
  public record Label(String column, List<String> positives, boolean numeric) implements java.io.Serializable {
    /** The label is a purchase in the label window of the event log. */
    public static final Label EVENTS = new Label("", List.of(), false);

    /** Whether the label is a users-table column (table mode) rather than later purchases. */
    public boolean fromTable() {
      return !column.isEmpty();
    }
  }

  /** These settings with {@code more} attribute columns excluded from the model's inputs too. */
  public PropensitySettings withExcluded(List<String> more) {
    List<String> all = new java.util.ArrayList<>(exclude);
    more.stream().filter(m -> !all.contains(m)).forEach(all::add);
    return new PropensitySettings(horizonDays, features, attributes, validationShare, testShare, seed,
        balancedClassWeights, regParams, elasticNetParams, maxIter, calibration, reliabilityBins, minClassUsers,
        minAucRoc, label, List.copyOf(all), spend, required, models);
  }

  /** Whether {@code attributes} is {@link #ALL_ATTRIBUTES}. */
  public boolean allAttributes() {
    return attributes.equals(List.of(ALL_ATTRIBUTES));
  }

  /** How raw scores become probabilities. */
  public enum Calibration {
    /** A one-feature logistic regression on the raw score (Platt scaling): smooth, two parameters. */
    PLATT,
    /** MLlib IsotonicRegression on the raw score: any monotone shape, needs more held-out users. */
    ISOTONIC
  }

  private static final String P = "affinity.propensity.";

  /** Reads and validates every key under {@code affinity.propensity}. */
  public static PropensitySettings from(ConfigReader r) {
    int horizon = r.integer(P + "horizon-days", 1, 365);

    List<String> features = r.strings(P + "features");
    if (features.isEmpty()) {
      throw new SettingsException(P + "features", "[]", "must list at least one of " + UserFeatures.BEHAVIOUR);
    }
    Set<String> seen = new HashSet<>();
    for (String f : features) {
      if (!UserFeatures.BEHAVIOUR.contains(f)) {
        throw new SettingsException(P + "features", f, "entries must be behavioural columns of features/users: "
            + UserFeatures.BEHAVIOUR);
      }
      if (!seen.add(f)) {
        throw new SettingsException(P + "features", f, "is listed twice");
      }
    }
    Label label = label(r);
    List<String> exclude = new java.util.ArrayList<>();
    for (String e : r.strings(P + "exclude")) {
      exclude.add(io.affinity.ingest.ColumnNames.attribute(e));
    }
    List<String> attributes = r.strings(P + "attributes");
    if (attributes.contains(ALL_ATTRIBUTES) && attributes.size() > 1) {
      throw new SettingsException(P + "attributes", attributes.toString(),
          "\"*\" (every attribute column but the label and " + P + "exclude) stands alone");
    }
    if (!attributes.isEmpty() && r.string("affinity.input.users.path").trim().isEmpty()) {
      throw new SettingsException(P + "attributes", attributes.toString(),
          "needs user attributes: set affinity.input.users.path, or leave attributes empty");
    }
    for (String a : attributes) {
      if (a.equals(ALL_ATTRIBUTES)) {
        continue;
      }
      if (exclude.contains(io.affinity.ingest.ColumnNames.attribute(a))) {
        throw new SettingsException(P + "attributes", a, "is also in " + P + "exclude " + exclude
            + ": remove it from one of the two");
      }
      if (io.affinity.ingest.ColumnNames.attribute(a).equals(label.column())) {
        throw new SettingsException(P + "attributes", a, "is the label column (" + P + "label.column): the label "
            + "cannot be an input");
      }
      if (UserFeatures.BEHAVIOUR.contains(a) || a.equals("user_id") || a.equals("user_idx") || a.equals("signup_date")
          || a.endsWith("_idx")) {
        throw new SettingsException(P + "attributes", a, "entries must be user attribute columns (from "
            + "affinity.input.users.categorical / numeric, as named in features/users), not ids, signup_date, "
            + "*_idx indices or behavioural features");
      }
      if (!seen.add(a)) {
        throw new SettingsException(P + "attributes", a, "is listed twice");
      }
    }

    double validation = r.number(P + "validation-share", 0, 0.5, true);
    double test = r.number(P + "test-share", 0, 0.5, true);
    if (validation + test > 0.6) {
      throw new SettingsException(P + "test-share", test, "validation-share + test-share must be at most 0.6 "
          + "(validation-share is " + validation + "): at least 40% of the users must remain for training");
    }
    long seed = r.integer(P + "seed", 0, Integer.MAX_VALUE);
    boolean balanced = r.oneOf(P + "class-weighting", "balanced", "none").equals("balanced");
    List<Double> regParams = r.numberList(P + "grid.reg-param", 0, 1e6);
    List<Double> elasticNet = r.numberList(P + "grid.elastic-net", 0, 1);
    int maxIter = r.integer(P + "max-iter", 1, 10_000);
    Calibration calibration = Calibration.valueOf(r.oneOf(P + "calibration", "platt", "isotonic").toUpperCase(java.util.Locale.ROOT));
    int bins = r.integer(P + "reliability-bins", 2, 100);
    int minClass = r.integer(P + "min-class-users", 1, 1_000_000);
    double minAuc = r.number(P + "gate.min-auc-roc", 0, 1, false);
    Spend spend = spend(r, label, attributes);
    if (!spend.amountColumn().isEmpty() && !exclude.contains(spend.amountColumn())) {
      exclude.add(spend.amountColumn()); // the amount is only known after the response: it would leak it
    }
    return new PropensitySettings(horizon, features, attributes, validation, test, seed, balanced, regParams, elasticNet,
        maxIter, calibration, bins, minClass, minAuc, label, List.copyOf(exclude), spend, r.bool(P + "required"),
        models(r));
  }

  private static Models models(ConfigReader r) {
    List<String> keys = r.strings(P + "families");
    if (keys.isEmpty()) {
      throw new SettingsException(P + "families", "[]", "must list at least one of logistic, random-forest, "
          + "gradient-boosted-trees");
    }
    java.util.EnumSet<Family> families = java.util.EnumSet.noneOf(Family.class);
    for (String k : keys) {
      Family f = java.util.Arrays.stream(Family.values()).filter(x -> x.key().equals(k.trim())).findFirst()
          .orElseThrow(() -> new SettingsException(P + "families", k, "entries must be logistic, random-forest or "
              + "gradient-boosted-trees"));
      if (!families.add(f)) {
        throw new SettingsException(P + "families", k, "is listed twice");
      }
    }
    return new Models(List.copyOf(families),
        r.integer(P + "random-forest.trees", 1, 1000),
        r.integer(P + "random-forest.max-depth", 1, 20),
        r.integer(P + "gradient-boosted-trees.iterations", 1, 1000),
        r.integer(P + "gradient-boosted-trees.max-depth", 1, 20),
        r.number(P + "gradient-boosted-trees.step-size", 1e-6, 1, false),
        r.integer(P + "choice.bootstrap-replicates", 0, 10_000),
        r.number(P + "choice.confidence", 0.5, 0.999, false));
  }

  /** The spend model's keys; the amount column must be a numeric users column of a table-mode run. */
  private static Spend spend(ConfigReader r, Label label, List<String> attributes) {
    boolean enabled = r.bool(P + "spend.enabled");
    List<Double> reg = r.numberList(P + "spend.grid.reg-param", 0, 1e6);
    String column = r.string(P + "spend.amount-column").trim();
    if (column.isEmpty()) {
      return new Spend(enabled, List.copyOf(reg), "");
    }
    if (!label.fromTable()) {
      throw new SettingsException(P + "spend.amount-column", column, "is for table mode (" + P + "label.column set); "
          + "with an event log the spend comes from purchase prices: leave it empty");
    }
    if (!r.strings("affinity.input.users.numeric").contains(column)) {
      throw new SettingsException(P + "spend.amount-column", column, "must be one of affinity.input.users.numeric "
          + r.strings("affinity.input.users.numeric") + " (so that it is ingested as a number)");
    }
    String name = io.affinity.ingest.ColumnNames.attribute(column);
    if (name.equals(label.column())) {
      throw new SettingsException(P + "spend.amount-column", column, "is the label column; name the amount column");
    }
    for (String a : attributes) {
      if (io.affinity.ingest.ColumnNames.attribute(a).equals(name)) {
        throw new SettingsException(P + "attributes", a, "is the spend amount column (" + P + "spend.amount-column): "
            + "it is known only after the response and cannot be an input");
      }
    }
    return new Spend(enabled, List.copyOf(reg), name);
  }

  /**
   * The label column and its positive values, checked against the users input: the column must be
   * one of {@code input.users.categorical} or {@code numeric}, so it is ingested with a known type.
   */
  private static Label label(ConfigReader r) {
    String column = r.string(P + "label.column").trim();
    List<String> positives = r.strings(P + "label.positive");
    if (column.isEmpty()) {
      return Label.EVENTS; // events are then required (checked with affinity.input.events.path)
    }
    if (r.string("affinity.input.users.path").trim().isEmpty()) {
      throw new SettingsException(P + "label.column", column, "needs the users table: set affinity.input.users.path");
    }
    boolean numeric = r.strings("affinity.input.users.numeric").contains(column);
    if (!numeric && !r.strings("affinity.input.users.categorical").contains(column)) {
      throw new SettingsException(P + "label.column", column, "must be one of affinity.input.users.categorical "
          + r.strings("affinity.input.users.categorical") + " or numeric " + r.strings("affinity.input.users.numeric")
          + " (so that it is ingested)");
    }
    if (positives.isEmpty()) {
      throw new SettingsException(P + "label.positive", "[]", "must list the value(s) of " + column
          + " that mean a response, e.g. [\"yes\"]");
    }
    List<String> clean = new java.util.ArrayList<>();
    for (String v : positives) {
      String t = v.trim();
      if (numeric) {
        try {
          Double.parseDouble(t);
        } catch (NumberFormatException e) {
          throw new SettingsException(P + "label.positive", v, "must be numbers: " + column + " is a numeric column");
        }
      }
      clean.add(t);
    }
    return new Label(io.affinity.ingest.ColumnNames.attribute(column), List.copyOf(clean), numeric);
  }
}
