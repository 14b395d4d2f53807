package io.affinity.pipeline;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.sequence;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Chooses between candidates (policies of the recommendation lists, model families of propensity)
 * from a per-user score on held-out users, with a margin that knows the noise: a seeded paired
 * bootstrap over the evaluated users.
 *
 * <p>The rule: the published policy is the simplest candidate that no other candidate beats beyond
 * the noise, i.e. for every other candidate the bootstrap interval of {@code other - candidate}
 * reaches 0 (the one with the highest mean when no such candidate is simpler). So a more complex
 * policy is published only when it is better than every simpler one by more than the resampling
 * spread of the users, and ties (including a validation with too few users) go to the simplest.
 * Candidates are always given simplest first.
 *
 * <p>The bootstrap is the Poisson bootstrap: replicate r gives each user a weight drawn from
 * Poisson(1) by a hash of (seed, r, user), which resamples users with replacement in expectation
 * without a shuffle or a collect of the users. Users are paired: every candidate is averaged with
 * the same weights, so the spread of a difference is that of the difference, not of the two means.
 * All replicates of every candidate are one aggregation (one Spark job) that returns one row per
 * replicate to the driver.
 */
public final class PairedBootstrap {
  /** Poisson(1) cumulative probabilities P(X <= j), j = 0..7; the tail beyond 7 is below 1e-5. */
  private static final double[] POISSON_CDF = {0.36787944, 0.73575888, 0.91969860, 0.98101184, 0.99634015,
      0.99940582, 0.99991676, 0.99998975};
  private static final long HASH_RANGE = 1L << 30;

  private PairedBootstrap() {}

  /**
   * Means of every column of {@code perUser} over the users, and over {@code replicates} Poisson
   * bootstrap resamples of the users, in one aggregation.
   *
   * @param perUser the id column plus one double column per candidate (higher = better), one row
   *     per evaluated user
   * @param idColumn the user id (any type xxhash64 takes)
   * @return [0] the plain means per column; [1 + r] replicate r's means per column (NaN when the
   *     resample drew no user)
   */
  public static double[][] means(Dataset<Row> perUser, String idColumn, List<String> columns, int replicates,
      long seed) {
    Column u = pmod(xxhash64(lit(seed), col("rep"), col(idColumn)), lit(HASH_RANGE)).divide((double) HASH_RANGE);
    Column poisson = lit(POISSON_CDF.length);
    for (int j = POISSON_CDF.length - 1; j >= 0; j--) {
      poisson = when(u.lt(POISSON_CDF[j]), lit(j)).otherwise(poisson);
    }
    // Replicate -1 is the plain sample (weight 1 for everyone).
    Dataset<Row> weighted = perUser.withColumn("rep", explode(sequence(lit(-1), lit(replicates - 1))))
        .withColumn("w", when(col("rep").equalTo(-1), lit(1.0)).otherwise(poisson.cast("double")));
    List<Column> aggs = new ArrayList<>();
    for (String c : columns) {
      aggs.add(sum(col("w").multiply(col(c))).as(c));
    }
    Dataset<Row> sums = weighted.groupBy("rep").agg(sum("w").as("w"), aggs.toArray(new Column[0]));
    double[][] out = new double[replicates + 1][columns.size()];
    for (Row r : sums.collectAsList()) {
      int rep = r.getInt(r.fieldIndex("rep"));
      double w = r.getDouble(r.fieldIndex("w"));
      for (int c = 0; c < columns.size(); c++) {
        // A resample that drew no user (likely only with a handful of users) has no mean.
        out[rep + 1][c] = w == 0 ? Double.NaN : r.getDouble(r.fieldIndex(columns.get(c))) / w;
      }
    }
    return out;
  }

  /**
   * One candidate's figures.
   *
   * @param name the policy
   * @param mean the mean score over the evaluated users
   * @param vsSimplest bootstrap interval of {@code mean - simplest's mean}: low, high
   * @param vsChosen bootstrap interval of {@code mean - chosen's mean}: low, high (its low is at most 0
   *     for every candidate: nothing beats the published policy beyond the noise)
   */
  public record Option(String name, double mean, double[] vsSimplest, double[] vsChosen) {}

  /**
   * A decision and why.
   *
   * @param name what was decided (e.g. {@code family})
   * @param metric the per-user score compared, higher = better (its manifest key, e.g. {@code ndcg})
   * @param options every candidate, simplest first
   * @param chosen the published candidate
   * @param reason why, in words
   * @param decided false when the validation could not measure the choice and the simplest was taken
   */
  public record Decision(String name, String metric, List<Option> options, String chosen, String reason,
      boolean decided) {
    /** The decision as a manifest entry. */
    public Map<String, Object> asReport() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("chosen", chosen);
      m.put("decided", decided);
      m.put("reason", reason);
      List<Map<String, Object>> cands = new ArrayList<>();
      for (Option o : options) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("policy", o.name());
        if (Double.isNaN(o.mean())) {
          cands.add(c); // not measured: the name only
          continue;
        }
        c.put(metric, o.mean());
        c.put("vs_simplest_low", o.vsSimplest()[0]);
        c.put("vs_simplest_high", o.vsSimplest()[1]);
        c.put("vs_chosen_low", o.vsChosen()[0]);
        c.put("vs_chosen_high", o.vsChosen()[1]);
        cands.add(c);
      }
      m.put("candidates", cands);
      return m;
    }

    /** The simplest candidate, taken without measuring. */
    public static Decision undecided(String name, String metric, List<String> options, String why) {
      List<Option> os = new ArrayList<>();
      for (String o : options) {
        os.add(new Option(o, Double.NaN, new double[] {Double.NaN, Double.NaN}, new double[] {Double.NaN, Double.NaN}));
      }
      return new Decision(name, metric, os, options.get(0), "not measured: " + why + "; the simplest candidate is published",
          false);
    }
  }

  /**
   * The simplest candidate that no candidate beats beyond the noise.
   *
   * @param names candidates, simplest first
   * @param means {@link #means}' result, columns in the order of {@code names}
   * @param confidence the two-sided level of the intervals, e.g. 0.95
   */
  public static Decision choose(String decision, String metric, List<String> names, double[][] means,
      double confidence) {
    int n = names.size();
    int replicates = means.length - 1;
    int best = 0;
    for (int c = 1; c < n; c++) {
      if (means[0][c] > means[0][best]) {
        best = c;
      }
    }
    int chosen = best;
    for (int c = 0; c < best && chosen == best; c++) {
      boolean unbeaten = true;
      for (int o = 0; o < n; o++) {
        unbeaten &= interval(means, o, c, confidence)[0] <= 0;
      }
      if (unbeaten) {
        chosen = c;
      }
    }
    List<Option> options = new ArrayList<>();
    for (int c = 0; c < n; c++) {
      options.add(new Option(names.get(c), means[0][c], interval(means, c, 0, confidence),
          interval(means, c, chosen, confidence)));
    }
    String level = Math.round(confidence * 100) + " %";
    String reason;
    if (chosen == best) {
      reason = best == 0 ? names.get(0) + " has the highest " + metric
          : names.get(best) + " has the highest " + metric + " and beats every simpler candidate beyond the " + level
              + " bootstrap interval over " + replicates + " resamples of the users";
    } else {
      double[] iv = interval(means, best, chosen, confidence);
      reason = names.get(best) + " has the highest " + metric + " but its gain over the simpler " + names.get(chosen)
          + " ("
          + String.format(java.util.Locale.ROOT, "%.4f .. %.4f", iv[0], iv[1]) + ", " + level
          + ") is inside the noise: the simpler is published";
    }
    return new Decision(decision, metric, options, names.get(chosen), reason, true);
  }

  /** The percentile interval of {@code mean[a] - mean[b]} over the replicates. */
  public static double[] interval(double[][] means, int a, int b, double confidence) {
    int replicates = means.length - 1;
    if (replicates == 0) {
      double d = means[0][a] - means[0][b];
      return new double[] {d, d};
    }
    double[] d = new double[replicates];
    int m = 0;
    for (int r = 0; r < replicates; r++) {
      double v = means[r + 1][a] - means[r + 1][b];
      if (!Double.isNaN(v)) {
        d[m++] = v;
      }
    }
    if (m == 0) {
      double v = means[0][a] - means[0][b];
      return new double[] {v, v};
    }
    d = Arrays.copyOf(d, m);
    Arrays.sort(d);
    double tail = (1 - confidence) / 2;
    return new double[] {quantile(d, tail), quantile(d, 1 - tail)};
  }

  /** Linear interpolation between order statistics of a sorted array. */
  private static double quantile(double[] sorted, double q) {
    double pos = q * (sorted.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(sorted.length - 1, lo + 1);
    return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
  }
}
