package io.affinity.segment;

import io.affinity.config.ConfigReader;
import io.affinity.config.SettingsException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Settings of stage {@code segment}, read and validated with all others before Spark starts. Every
 * key, its meaning and range is documented in reference.conf under {@code affinity.segment}.
 *
 * @param features columns of {@code features/users} the clusters are built on, in this order
 * @param logFeatures the subset transformed with ln(1 + max(x, 0)) before standardizing
 * @param imputeMaxPlusOne columns whose null means "never happened": imputed as max observed + 1
 * @param imputeZero columns whose null means "none": imputed as 0 (all others: the median)
 * @param kFixed the number of segments, or 0 to choose it by silhouette
 * @param kMin smallest k tried when choosing
 * @param kMax largest k tried when choosing
 * @param keepPreviousWithin hysteresis on silhouette: the previous run's model (k and warm-started
 *     fit) stays unless another k or a fresh fit has a silhouette higher by more than this
 * @param silhouetteTolerance a k whose silhouette is within this of the best candidate's is acceptable
 * @param minShare an acceptable k has no segment smaller than this share of the users
 * @param maxShare the more actionable k has no segment larger than this share of the users
 * @param restarts KMeans fits per k with different seeds; the lowest cost wins
 * @param warmStart whether KMeans also starts from the previous run's centroids (same k, same features)
 * @param warmStartTolerance hysteresis on cost: keep the warm-started solution unless a fresh start's
 *     cost is lower by more than this share
 * @param maxIterations KMeans iteration limit
 * @param tolerance KMeans convergence tolerance (centroid movement, standardized units)
 * @param seed base seed of KMeans initialisation
 * @param labelRules naming rules in priority order
 * @param fallbackLabel prefix of the label of a segment no rule fits
 * @param stickyLabels whether a matched segment keeps its label while its rule still holds
 * @param activeDays a user with an event in this many last days counts as active ({@code active})
 * @param newDays a user first seen within this many days counts as new ({@code new})
 * @param frequencyColumn the column of features/users the frequency score ranks (orders by default)
 * @param maxMatchDistance largest centroid distance (standardized units) that still counts as the
 *     same segment as in the previous run
 * @param keepPreviousShareMargin hysteresis on the size rules: the previous run's k (and its warm
 *     fit) may break k.min-share / k.max-share by this share of users before it is replaced
 * @param labelKeepWithin how far a sticky label's claims may miss their bounds before it is given up
 * @param stabilityFloor least share of the users without new events since the previous run who
 *     must keep their segment id; below it {@code belowFloor} applies
 * @param belowFloor what a night below the floor publishes
 */
public record SegmentSettings(
    List<String> features,
    List<String> logFeatures,
    List<String> imputeMaxPlusOne,
    List<String> imputeZero,
    int kFixed,
    int kMin,
    int kMax,
    double keepPreviousWithin,
    double silhouetteTolerance,
    double minShare,
    double maxShare,
    int restarts,
    boolean warmStart,
    double warmStartTolerance,
    int maxIterations,
    double tolerance,
    long seed,
    List<LabelRule> labelRules,
    String fallbackLabel,
    boolean stickyLabels,
    int activeDays,
    int newDays,
    String frequencyColumn,
    double maxMatchDistance,
    double keepPreviousShareMargin,
    LabelRule.Tolerance labelKeepWithin,
    double stabilityFloor,
    BelowFloor belowFloor) {

  /** What a night whose fit would move too many unchanged users publishes ({@code stability.below-floor}). */
  public enum BelowFloor {
    /** The previous run's centroids, every user assigned to the nearest: the segments stay put. */
    KEEP_PREVIOUS_MODEL,
    /** Today's fit anyway: a deliberate model change (e.g. after changing the features' meaning). */
    REFIT;

    String configName() {
      return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
  }

  private static final String P = "affinity.segment.";
  /** Column names go into SQL (backquoted) and Parquet column names: plain identifiers only. */
  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

  public SegmentSettings {
    features = List.copyOf(features);
    logFeatures = List.copyOf(logFeatures);
    imputeMaxPlusOne = List.copyOf(imputeMaxPlusOne);
    imputeZero = List.copyOf(imputeZero);
    labelRules = List.copyOf(labelRules);
  }

  /** Whether k is chosen by silhouette rather than fixed. */
  public boolean chooseK() {
    return kFixed == 0;
  }

  /** The imputation rule of a column: {@code max-plus-one}, {@code zero} or {@code median}. */
  public String imputation(String column) {
    if (imputeMaxPlusOne.contains(column)) {
      return "max-plus-one";
    }
    return imputeZero.contains(column) ? "zero" : "median";
  }

  /** Reads and validates every key under {@code affinity.segment}. */
  public static SegmentSettings from(ConfigReader r) {
    List<String> features = identifiers(r, P + "features");
    if (features.isEmpty()) {
      throw new SettingsException(P + "features", "[]", "must list at least one numeric column of features/users");
    }
    List<String> logFeatures = identifiers(r, P + "log-features");
    for (String f : logFeatures) {
      if (!features.contains(f)) {
        throw new SettingsException(P + "log-features", f, "must be one of affinity.segment.features " + features);
      }
    }
    List<String> maxPlusOne = identifiers(r, P + "missing.max-plus-one");
    List<String> zero = identifiers(r, P + "missing.zero");
    for (String f : zero) {
      if (maxPlusOne.contains(f)) {
        throw new SettingsException(P + "missing.zero", f, "must not repeat a column listed in missing.max-plus-one");
      }
    }

    int kFixed = r.integer(P + "k.fixed", 0, 1000);
    if (kFixed == 1) {
      throw new SettingsException(P + "k.fixed", 1, "must be 0 (choose by silhouette) or a whole number in 2..1000");
    }
    int kMin = r.integer(P + "k.min", 2, 1000);
    int kMax = r.integer(P + "k.max", 2, 1000);
    if (kMax < kMin) {
      throw new SettingsException(P + "k.max", kMax, "must be at least k.min (" + kMin + ")");
    }
    if (kFixed == 0 && kMax - kMin > 50) {
      throw new SettingsException(P + "k.max", kMax, "must be at most k.min + 50: every k in the range is fitted");
    }
    double keepPrevious = r.number(P + "k.keep-previous-within", 0, 2, false);
    double tolerance = r.number(P + "k.silhouette-tolerance", 0, 2, false);
    double minShare = r.number(P + "k.min-share", 0, 1, false);
    double maxShare = r.number(P + "k.max-share", 0, 1, false);
    if (maxShare <= minShare) {
      throw new SettingsException(P + "k.max-share", maxShare, "must be above k.min-share (" + minShare + ")");
    }
    String frequencyColumn = r.nonEmpty(P + "measures.frequency-column");
    if (!IDENTIFIER.matcher(frequencyColumn).matches()) {
      throw new SettingsException(P + "measures.frequency-column", frequencyColumn, "must be a column name ([A-Za-z_][A-Za-z0-9_]*)");
    }

    List<LabelRule> rules = new ArrayList<>();
    Set<String> labels = new HashSet<>();
    List<String> ruleTexts = r.strings(P + "labels.rules");
    String fallback = r.nonEmpty(P + "labels.fallback");
    Pattern fallbackLabels = Pattern.compile(Pattern.quote(fallback) + " [0-9]+");
    for (int i = 0; i < ruleTexts.size(); i++) {
      String key = P + "labels.rules[" + i + "]";
      LabelRule rule = LabelRule.parse(key, ruleTexts.get(i));
      if (!labels.add(rule.label())) {
        throw new SettingsException(key, ruleTexts.get(i), "repeats the label '" + rule.label() + "': labels are unique per run");
      }
      if (fallbackLabels.matcher(rule.label()).matches()) {
        throw new SettingsException(key, ruleTexts.get(i),
            "the label looks like a fallback label (labels.fallback + id) and could repeat one");
      }
      rules.add(rule);
    }
    if (fallback.length() > 48 || fallback.contains(":") || fallback.contains(",")) {
      throw new SettingsException(P + "labels.fallback", fallback, "must be at most 48 characters without ':' or ','");
    }

    return new SegmentSettings(
        features, logFeatures, maxPlusOne, zero, kFixed, kMin, kMax, keepPrevious, tolerance, minShare, maxShare,
        r.integer(P + "restarts", 1, 20),
        r.bool(P + "warm-start.enabled"),
        r.number(P + "warm-start.max-cost-increase", 0, 1, false),
        r.integer(P + "max-iterations", 1, 1000),
        r.number(P + "tolerance", 0, 1, true),
        r.integer(P + "seed", 0, Integer.MAX_VALUE),
        rules, fallback,
        r.bool(P + "labels.sticky"),
        r.integer(P + "labels.active-days", 1, 3650),
        r.integer(P + "labels.new-days", 1, 3650),
        frequencyColumn,
        r.number(P + "matching.max-distance", 0, 1e9, false),
        r.number(P + "k.keep-previous-share-margin", 0, 1, false),
        new LabelRule.Tolerance(r.number(P + "labels.keep-within.score", 0, 4, false),
            r.number(P + "labels.keep-within.share", 0, 1, false),
            r.number(P + "labels.keep-within.days", 0, 3650, false)),
        r.number(P + "stability.floor", 0, 1, false),
        BelowFloor.valueOf(r.oneOf(P + "stability.below-floor", "keep-previous-model", "refit")
            .toUpperCase(java.util.Locale.ROOT).replace('-', '_')));
  }

  private static List<String> identifiers(ConfigReader r, String key) {
    List<String> out = r.strings(key);
    Set<String> seen = new HashSet<>();
    for (String s : out) {
      if (!IDENTIFIER.matcher(s).matches()) {
        throw new SettingsException(key, s, "entries must be column names ([A-Za-z_][A-Za-z0-9_]*)");
      }
      if (!seen.add(s)) {
        throw new SettingsException(key, s, "is listed twice");
      }
    }
    return out;
  }
}
