package io.affinity.recommend;

import io.affinity.config.ConfigReader;
import io.affinity.config.SettingsException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * Settings of stage {@code recommend}, read and validated with all others before Spark starts.
 *
 * @param implicit true = ALS on implicit interaction strength (top-N), false = ALS on explicit ratings
 * @param topN rows per user in {@code recommendations/}
 * @param similarItems rows per item in {@code similar_items/}
 * @param excludeEventTypes event types whose events exclude the item from that user's recommendations
 * @param seed seed of every random choice of the stage (ALS initial factors)
 * @param validationDays length of the held-out window that ends with the run date, in days
 * @param relevantEventTypes event types that make a held-out item relevant in the evaluation
 * @param k cut-off of the ranking metrics
 * @param search true = grid search on the validation split, false = {@code params} as given
 * @param selectByRmse true = the search picks the lowest RMSE (explicit mode only), false = the highest NDCG@k
 * @param grid the candidates of the search
 * @param params the parameters of fixed mode (and of the final model when validation has no users)
 * @param numBlocks ALS user and item blocks, or {@link #AUTO_BLOCKS}: sized to the training pairs ({@link #blocksFor})
 * @param checkpointInterval ALS checkpoint interval in iterations
 * @param blockSize users scored together in one matrix product
 * @param popularity how the popularity baseline and fallbacks weigh each distinct buyer by recency
 * @param content content similarity from item text and new items in recommendations
 * @param revalidateEveryDays 1 = validate every run; n = reuse the last published run's validation while it is
 *     less than n days old ({@link ValidationReuse})
 * @param policy how the validation sizes itself and decides between policies ({@link PolicyChoice})
 * @param sar the item co-occurrence candidate of the model family ({@link Sar})
 */
public record RecommendSettings(
    boolean implicit,
    int topN,
    int similarItems,
    List<String> excludeEventTypes,
    long seed,
    int validationDays,
    List<String> relevantEventTypes,
    int k,
    boolean search,
    boolean selectByRmse,
    List<AlsParams> grid,
    AlsParams params,
    int numBlocks,
    int checkpointInterval,
    int blockSize,
    Popularity.Recency popularity,
    ContentSettings content,
    int revalidateEveryDays,
    PolicySettings policy,
    SarSettings sar) implements Serializable {

  private static final String P = "affinity.recommend.";
  /** {@code num-blocks = auto}: blocks sized to the training pairs. */
  public static final int AUTO_BLOCKS = 0;
  /** Training pairs per ALS block with {@code num-blocks = auto}. */
  public static final long PAIRS_PER_BLOCK = 500_000;

  /**
   * ALS user and item blocks for a training set of {@code pairs} (user, item) rows: num-blocks, or
   * with auto one block per {@link #PAIRS_PER_BLOCK} pairs, at least 2 (both cores of a small
   * machine) and at most 10,000. Derived from the input, not the cluster, so the same input gives
   * the same factors anywhere. Blocks far smaller than that only add tasks: data-samples (16k pairs)
   * fitted in 1.8 s with 2 blocks against 4.4 s with 10.
   */
  public int blocksFor(long pairs) {
    if (numBlocks != AUTO_BLOCKS) {
      return numBlocks;
    }
    return (int) Math.max(2, Math.min(10_000, (pairs + PAIRS_PER_BLOCK - 1) / PAIRS_PER_BLOCK));
  }

  /**
   * Partitions of the cached ALS input ({@code TrainingData.prepare}): num-blocks when set, else
   * the session's shuffle partitions (its size is not known before the input is built).
   */
  public int inputPartitions(int shufflePartitions) {
    return numBlocks != AUTO_BLOCKS ? numBlocks : shufflePartitions;
  }

  /**
   * One ALS candidate.
   *
   * @param rank number of latent factors
   * @param regParam L2 regularisation
   * @param alpha confidence scale of implicit feedback (ignored in explicit mode)
   * @param maxIter ALS iterations
   */
  public record AlsParams(int rank, double regParam, double alpha, int maxIter) implements Serializable {}

  /**
   * Content similarity from item text (TF-IDF) and how it enters similar items and recommendations.
   *
   * @param enabled false = no content similarity: similar items are ALS only, no {@code content} rows
   * @param blendWeight weight of the ALS cosine in the blended similarity (content gets 1 - weight):
   *     the weight used when {@code tuneBlendWeight} is false or the validation cannot measure one
   * @param maxSlots at most this many of the top-n rows per user may be new items chosen by content
   * @param newItemMaxUsers an item with fewer distinct users than this (or without ALS factors) is new
   * @param minSimilarity content cosine a new item needs with an item of the user's history
   * @param tuneBlendWeight true = the blend weight is the one of {@code blendWeightGrid} with the
   *     highest next-item hit rate on the validation split
   * @param blendWeightGrid the weights compared, each in [0, 1]
   */
  public record ContentSettings(boolean enabled, double blendWeight, int maxSlots, int newItemMaxUsers,
      double minSimilarity, boolean tuneBlendWeight, List<Double> blendWeightGrid) implements Serializable {}

  /**
   * How the validation sizes itself to the data and decides between policies of the published lists.
   *
   * @param minUsers fewest users the time window must hold before the per-user split is used, and
   *     fewest evaluated users a decision needs (below it the simplest policy is taken)
   * @param holdoutShare share of each user's latest events held out by the per-user split; 0 = never
   * @param replicates bootstrap resamples of the evaluated users
   * @param confidence two-sided level of the bootstrap intervals
   * @param seed seed of the resampling
   * @param halfLives half-lives (days) of implicit strength compared, simplest first:
   *     {@link Double#POSITIVE_INFINITY} (no decay), then the longer ones
   * @param blendWeights weights of popularity in the rank fusion of ALS and popularity lists
   *     ({@link RankFusion}), each in (0, 1); empty = no blend candidates
   * @param minSimilarities content cosines a content row needs, compared, simplest (highest) first:
   *     {@code content.min-similarity} and {@code content.min-similarity-grid}
   */
  public record PolicySettings(int minUsers, double holdoutShare, int replicates, double confidence, long seed,
      List<Double> halfLives, List<Double> blendWeights, List<Double> minSimilarities) implements Serializable {
    /** The manifest name of a half-life: "none" or the days. */
    static String halfLifeName(double days) {
      return Double.isInfinite(days) ? "none" : (days == Math.rint(days) ? String.valueOf((long) days)
          : String.valueOf(days)) + "d";
    }
  }

  /**
   * The SAR candidate ({@link Sar}): item co-occurrence similarity times the users' affinity.
   *
   * @param enabled false = the model family is chosen between popularity and ALS only
   * @param similarity how co-occurrence counts become similarity
   * @param minCooccurrence pairs of items with fewer users in common are not neighbours
   * @param maxItemsPerUser a user's strongest items that count for co-occurrence (bounds the self-join)
   * @param neighbours most similar items kept per item
   */
  public record SarSettings(boolean enabled, Sar.Similarity similarity, int minCooccurrence, int maxItemsPerUser,
      int neighbours) implements Serializable {}

  /** Reads and validates every key under {@code affinity.recommend}. */
  public static RecommendSettings from(ConfigReader r) {
    boolean implicit = r.oneOf(P + "mode", "implicit", "explicit").equals("implicit");
    if (!implicit && r.string("affinity.input.ratings.path").trim().isEmpty()) {
      throw new SettingsException(P + "mode", "explicit",
          "needs explicit ratings: set affinity.input.ratings.path, or use mode = implicit");
    }
    List<String> types = r.strings("affinity.event-types.names");
    String returned = r.string("affinity.event-types.return").trim();
    List<String> exclude = eventTypes(r, P + "exclude-event-types", types, returned, true);
    List<String> relevant = eventTypes(r, P + "relevant-event-types", types, returned, false);

    boolean search = r.oneOf(P + "search", "grid", "fixed").equals("grid");
    boolean byRmse = r.oneOf(P + "selection-metric", "ndcg", "rmse").equals("rmse");
    if (byRmse && implicit) {
      throw new SettingsException(P + "selection-metric", "rmse",
          "needs mode = explicit (implicit feedback has no ratings to compare with); use ndcg");
    }
    List<Integer> ranks = r.integerList(P + "grid.rank", 1, 1000);
    List<Double> regs = r.numberList(P + "grid.reg-param", 0, 1e6);
    List<Double> alphas = implicit ? r.numberList(P + "grid.alpha", 0, 1e6) : List.of(0.0);
    List<Integer> iters = r.integerList(P + "grid.max-iter", 1, 1000);
    List<AlsParams> grid = new ArrayList<>();
    for (int rank : ranks) {
      for (double reg : regs) {
        for (double alpha : alphas) {
          for (int it : iters) {
            grid.add(new AlsParams(rank, reg, alpha, it));
          }
        }
      }
    }
    AlsParams params = new AlsParams(
        r.integer(P + "params.rank", 1, 1000),
        r.number(P + "params.reg-param", 0, 1e6, false),
        implicit ? r.number(P + "params.alpha", 0, 1e6, false) : 0.0,
        r.integer(P + "params.max-iter", 1, 1000));

    return new RecommendSettings(
        implicit,
        r.integer(P + "top-n", 1, 1000),
        r.integer(P + "similar-items", 1, 1000),
        exclude,
        r.integer(P + "seed", Integer.MIN_VALUE, Integer.MAX_VALUE),
        r.integer(P + "validation-days", 1, 3650),
        relevant,
        r.integer(P + "k", 1, 1000),
        search,
        byRmse,
        List.copyOf(grid),
        params,
        numBlocks(r),
        r.integer(P + "checkpoint-interval", 1, 1000),
        r.integer(P + "block-size", 1, 65_536),
        new Popularity.Recency(
            r.oneOf(P + "popularity.recency", Popularity.Recency.DECAYED, Popularity.Recency.WINDOW,
                Popularity.Recency.ALL_TIME),
            r.number("affinity.features.half-life-days", 0, 1e6, true),
            r.integer(P + "popularity.window-days", 1, 3650)),
        new ContentSettings(
            r.bool(P + "content.enabled"),
            r.number(P + "content.blend-weight", 0, 1, false),
            r.integer(P + "content.max-slots", 0, 1000),
            r.integer(P + "content.new-item-max-users", 0, 1_000_000),
            r.number(P + "content.min-similarity", 0, 1, false),
            r.oneOf(P + "content.blend-weight-search", "validation", "fixed").equals("validation"),
            r.numberList(P + "content.blend-weight-grid", 0, 1)),
        r.integer(P + "revalidate-every-days", 1, 3650),
        policy(r, implicit),
        new SarSettings(
            r.bool(P + "sar.enabled"),
            Sar.Similarity.of(r.oneOf(P + "sar.similarity", "jaccard", "lift", "cooccurrence")),
            r.integer(P + "sar.min-cooccurrence", 1, 1_000_000),
            r.integer(P + "sar.max-items-per-user", 2, 100_000),
            r.integer(P + "sar.neighbours", 1, 10_000)));
  }

  /**
   * {@code validation-min-users}, {@code validation-holdout-share} and {@code policy.*}. The
   * half-lives compared are none, {@code policy.half-life-days} and features.half-life-days, longest
   * first (none is the simplest: a rating dump is a record of preferences, not of recent intent).
   */
  private static PolicySettings policy(ConfigReader r, boolean implicit) {
    java.util.TreeSet<Double> halfLives = new java.util.TreeSet<>(java.util.Comparator.reverseOrder());
    if (implicit) {
      halfLives.add(Double.POSITIVE_INFINITY);
      halfLives.addAll(r.numberList(P + "policy.half-life-days", 1e-3, 1e6));
    }
    halfLives.add(r.number("affinity.features.half-life-days", 0, 1e6, true));
    return new PolicySettings(
        r.integer(P + "validation-min-users", 1, 1_000_000),
        r.number(P + "validation-holdout-share", 0, 0.9, false),
        r.integer(P + "policy.bootstrap-replicates", 10, 10_000),
        r.number(P + "policy.confidence", 0.5, 0.999, false),
        r.integer(P + "seed", Integer.MIN_VALUE, Integer.MAX_VALUE),
        List.copyOf(halfLives),
        List.copyOf(new java.util.TreeSet<>(r.numberList(P + "policy.blend-weights", 1e-3, 0.999))),
        minSimilarities(r));
  }

  /** content.min-similarity and content.min-similarity-grid, highest first (fewest content rows). */
  private static List<Double> minSimilarities(ConfigReader r) {
    java.util.TreeSet<Double> all = new java.util.TreeSet<>(java.util.Comparator.reverseOrder());
    all.add(r.number(P + "content.min-similarity", 0, 1, false));
    all.addAll(r.numberList(P + "content.min-similarity-grid", 0, 1));
    return List.copyOf(all);
  }

  /** {@code num-blocks}: {@code auto} ({@link #AUTO_BLOCKS}) or a whole number in 1..10000. */
  private static int numBlocks(ConfigReader r) {
    String key = P + "num-blocks";
    if (r.string(key).trim().equalsIgnoreCase("auto")) {
      return AUTO_BLOCKS;
    }
    try {
      return r.integer(key, 1, 10_000);
    } catch (io.affinity.config.SettingsException e) {
      throw new io.affinity.config.SettingsException(key, r.string(key), "must be auto or a whole number in 1..10000");
    }
  }

  private static List<String> eventTypes(ConfigReader r, String key, List<String> names, String returned,
      boolean allowEmpty) {
    List<String> v = r.strings(key);
    if (v.isEmpty() && !allowEmpty) {
      throw new SettingsException(key, "[]", "must list at least one event type of " + names);
    }
    for (String t : v) {
      if (!names.contains(t) && !t.equals(returned)) {
        throw new SettingsException(key, t, "entries must be event types: one of " + names + " or " + returned);
      }
    }
    return List.copyOf(new LinkedHashSet<>(v));
  }
}
