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
    double minAucRoc) {

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
    List<String> attributes = r.strings(P + "attributes");
    if (!attributes.isEmpty() && r.string("affinity.input.users.path").trim().isEmpty()) {
      throw new SettingsException(P + "attributes", attributes.toString(),
          "needs user attributes: set affinity.input.users.path, or leave attributes empty");
    }
    for (String a : attributes) {
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
    return new PropensitySettings(horizon, features, attributes, validation, test, seed, balanced, regParams, elasticNet,
        maxIter, calibration, bins, minClass, minAuc);
  }
}
