package io.affinity.recommend;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.countDistinct;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.sum;

import io.affinity.pipeline.PairedBootstrap;
import io.affinity.config.Settings.EventTypes;
import io.affinity.recommend.RecommendSettings.AlsParams;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.ml.recommendation.ALSModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The time-based validation of stage recommend: train on what was known at the split (the start of
 * the held-out window), rank for the users who then had relevant events in the window, and compare
 * with the popularity baseline ranked the same way. In grid mode every candidate is evaluated and
 * the best by the selection metric is chosen; in fixed mode the configured parameters are evaluated.
 * The exact definitions are in docs/RECOMMEND.md.
 */
final class Validation {
  private static final Logger LOG = LoggerFactory.getLogger(Validation.class);

  /**
   * What the validation decided and measured.
   *
   * @param chosen the parameters of the final model
   * @param selection how they were chosen, in words
   * @param split the sizes of the split
   * @param candidates every evaluated candidate: its parameters, metrics and seconds
   * @param metrics the metrics of the chosen candidate (empty when nothing could be evaluated)
   * @param baselines the same metrics for each popularity baseline by name ({@code recent} as
   *     configured, {@code all_time}); empty likewise
   * @param blend the weight of the ALS cosine in blended similar items, and how it was chosen
   * @param timings seconds per part of this validation ({@link Timings}); empty when reused
   * @param policy what the published lists are made of, decided on the split ({@link PolicyChoice})
   */
  record Outcome(AlsParams chosen, String selection, Map<String, Object> split, List<Map<String, Object>> candidates,
      Map<String, Object> metrics, Map<String, Map<String, Object>> baselines, Blend blend, Map<String, Object> timings,
      Policy policy) {

    /** Name of the stronger baseline: the higher NDCG@k ({@code recent} on a tie); null when none. */
    String strongest(int k) {
      String best = null;
      double bestNdcg = Double.NEGATIVE_INFINITY;
      for (Map.Entry<String, Map<String, Object>> e : baselines.entrySet()) {
        Object v = e.getValue().get("ndcg_at_" + k);
        double ndcg = v instanceof Double d ? d : Double.NEGATIVE_INFINITY;
        if (best == null || ndcg > bestNdcg) {
          best = e.getKey();
          bestNdcg = ndcg;
        }
      }
      return best;
    }
  }

  /**
   * The blend weight of {@code similar_items} and how it was chosen.
   *
   * @param weight the weight of the ALS cosine
   * @param selection how, in words
   * @param measured the validation's measurement (users, hit rate per weight); empty when none
   */
  record Blend(double weight, String selection, Map<String, Object> measured) {}

  /**
   * Wall seconds per part of the validation, summed over candidates, so that the manifest shows
   * where a slow validation spends its time. Spark is lazy: a part's time is that of the actions it
   * runs, which include computing the cached inputs they are the first to use.
   */
  static final class Timings {
    private final Map<String, Double> seconds = new LinkedHashMap<>();

    /** Adds the seconds since {@code startNanos} to {@code part}; returns now, to start the next part. */
    long add(String part, long startNanos) {
      long now = System.nanoTime();
      seconds.merge(part, (now - startNanos) / 1e9, Double::sum);
      return now;
    }

    /** {@code validation_<part>_seconds}, rounded to 0.01 s. */
    Map<String, Object> asReport() {
      Map<String, Object> out = new LinkedHashMap<>();
      seconds.forEach((k, v) -> out.put("validation_" + k + "_seconds", Math.round(v * 100) / 100.0));
      return out;
    }
  }

  /**
   * The policy of the published lists.
   *
   * @param family {@link #ALS_FAMILY}, {@link Sar#SOURCE}, or {@link #POPULARITY_PREFIX} plus {@link #RECENT} or
   *     {@link #ALL_TIME}
   * @param contentSlots at most this many new items by content per list (0 = none)
   * @param halfLifeDays half-life of implicit strength ({@link Double#POSITIVE_INFINITY} = no decay)
   * @param minSimilarity content cosine a content row needs
   * @param report the decisions, for the manifest's {@code policy}
   */
  record Policy(String family, int contentSlots, double halfLifeDays, double minSimilarity, Map<String, Object> report) {
    boolean als() {
      return family.equals(ALS_FAMILY);
    }

    boolean sar() {
      return family.equals(Sar.SOURCE);
    }

    /** A popularity family: the lists are one popularity ranking for everyone. */
    boolean popularityFamily() {
      return family.startsWith(POPULARITY_PREFIX);
    }

    /** The popularity weight of a blend family ({@link RankFusion}); NaN for any other family. */
    double blendWeight() {
      return family.startsWith("blend_") ? Double.parseDouble(family.substring("blend_".length())) : Double.NaN;
    }

    /** The popularity recency of the lists' fallback: the chosen one of a popularity family, else the configured. */
    Popularity.Recency popularity(RecommendSettings s) {
      if (!popularityFamily()) {
        return s.popularity();
      }
      return family.equals(POPULARITY_PREFIX + ALL_TIME) ? Popularity.Recency.allTime() : s.popularity();
    }
  }

  /** Policy names: the ALS lists, popularity lists, a half-life, a number of content slots. */
  static final String ALS_FAMILY = "als";
  static final String POPULARITY_PREFIX = "popularity_";
  static final String DECAY_PREFIX = "decay_";
  static final String SLOTS_PREFIX = "slots_";
  /** Policy names of content thresholds. */
  static final String MIN_SIMILARITY_PREFIX = "min_similarity_";
  /** The kept lists of the configured popularity (SAR's fill, the blends' second list). */
  private static final String POPULAR_LISTS = "popular_lists";
  /** The per-user scores of the ALS candidate being evaluated. */
  private static final String CANDIDATE = "candidate";

  /** Manifest key of a candidate's blend-weight measurement. */
  static final String BLEND_WEIGHTS = "blend_weights";

  /** Manifest name of the baseline ranked by the configured recency. */
  static final String RECENT = "recent";
  /** Manifest name of the baseline ranked by all-time distinct buyers. */
  static final String ALL_TIME = "all_time";

  private Validation() {}

  /**
   * @param events events before the as-of instant: user_idx, item_idx, event_type, event_time
   * @param ratings features/ratings (explicit mode only)
   * @param userMap user_id, user_idx
   * @param itemMap item_id, item_idx
   * @param itemTexts item_idx, text ({@link ContentSimilarity#texts}); null when content is off
   */
  static Outcome run(SparkSession spark, RecommendSettings s, EventTypes types, double halfLifeDays,
      Dataset<Row> events, Optional<Dataset<Row>> ratings, Dataset<Row> userMap, Dataset<Row> itemMap, Instant split,
      Instant asOf, Dataset<Row> itemTexts) {
    int k = s.k();
    RecommendSettings.PolicySettings ps = s.policy();
    Timings timings = new Timings();
    long t = System.nanoTime();
    spark.sparkContext().setJobDescription("recommend: validation split");
    ValidationSplit vs = ValidationSplit.of(events, ratings, split, asOf, s.relevantEventTypes(), ps.minUsers(),
        ps.holdoutShare());
    Dataset<Row> before = vs.before();
    Dataset<Row> heldOut = vs.heldOut();
    Instant ref = vs.reference();

    spark.sparkContext().setJobDescription("recommend: validation training data");
    int partitions = s.inputPartitions(spark.sessionState().conf().numShufflePartitions());
    Dataset<Row> train = trainingData(s, types, before, vs, halfLifeDays, ref, partitions);
    // The users known before the split, whatever their training strength: a decay that takes a
    // user's whole history to zero must be measured on that user too (they then get the fallback).
    Dataset<Row> trainUsers = before.select("user_idx").distinct();
    // Used three times (the truth, the users' exclusions, the next items): one pass over the events.
    Dataset<Row> excluded = TrainingData.pairs(before, s.excludeEventTypes()).persist(StorageLevel.MEMORY_AND_DISK());
    Dataset<Row> truthPairs = TrainingData.pairs(heldOut, s.relevantEventTypes())
        .join(excluded, new String[] {"user_idx", "item_idx"}, "left_anti")
        .persist(StorageLevel.MEMORY_AND_DISK());
    // Read by every list's measurement and by the users' exclusions: a one-node plan (LineageCut).
    Dataset<Row> truth = LineageCut.of(TrainingData.perUser(truthPairs.join(trainUsers, "user_idx"), "items"));

    spark.sparkContext().setJobDescription("recommend: validation split sizes");
    // Items first seen inside the held-out window belong to the catalog at the split when they have
    // a text: new items content slots may offer (without them the validation cannot see new items).
    Dataset<Row> known = before.select("item_idx").union(train.select("item_idx"));
    if (itemTexts != null && s.content().maxSlots() > 0) {
      known = known.union(heldOut.select("item_idx").join(itemTexts.select("item_idx"), "item_idx"));
    }
    Dataset<Row> catalogItems = known.distinct().join(itemMap, "item_idx");
    ScoringModel.Catalog catalog = ScoringModel.Catalog.of(catalogItems);
    Map<String, Object> sizes = new LinkedHashMap<>();
    sizes.put("validation_days", s.validationDays());
    sizes.put("split_at", split.toString());
    sizes.putAll(vs.sizes());
    // One aggregation per cached input instead of a count per figure (each count is a Spark job,
    // the distinct ones with a shuffle of their own).
    Row trainSizes = train.agg(count(lit(1)), countDistinct("user_idx")).first();
    sizes.put("training_pairs", trainSizes.getLong(0));
    sizes.put("training_users", trainSizes.getLong(1));
    long[] trainPairs = {trainSizes.getLong(0)};
    sizes.put("als_blocks", s.blocksFor(trainPairs[0]));
    sizes.put("catalog_items", catalog.size());
    long holdoutUsers = truthPairs.agg(countDistinct("user_idx")).first().getLong(0);
    // truth holds one row per evaluated user with its distinct relevant items.
    Row truthSizes = truth.agg(count(lit(1)), coalesce(sum(size(col("items"))), lit(0L))).first();
    long evalUsers = truthSizes.getLong(0);
    sizes.put("holdout_users", holdoutUsers);
    sizes.put("holdout_users_cold", holdoutUsers - evalUsers);
    sizes.put("eval_users", evalUsers);
    sizes.put("eval_relevant_items", truthSizes.getLong(1));
    // Too few evaluated users decide nothing: no grid, no alternative decay, SAR or slot counts are
    // measured (the simplest policies are published), only the configured ALS for the manifest.
    boolean decidable = evalUsers >= ps.minUsers();
    sizes.put("decidable", decidable);
    t = timings.add("split", t);

    Dataset<Row> heldRatings = null;
    Dataset<Row> itemMeans = null;
    long ratedPairs = 0;
    if (!s.implicit()) {
      // Rating accuracy on held-out ratings ALS can score: user and item both seen in training.
      Dataset<Row> allHeld = vs.ratingsHeld().orElseThrow().select("user_idx", "item_idx", "rating");
      heldRatings = allHeld.join(train.select("user_idx").distinct(), "user_idx")
          .join(train.select("item_idx").distinct(), "item_idx")
          .persist(StorageLevel.MEMORY_AND_DISK());
      ratedPairs = heldRatings.count();
      sizes.put("holdout_ratings", allHeld.count());
      sizes.put("holdout_ratings_scored", ratedPairs);
      itemMeans = train.groupBy("item_idx").agg(avg("rating").as("baseline_prediction"));
      t = timings.add("split", t);
    }

    List<AlsParams> candidates = s.search() && decidable ? s.grid() : List.of(s.params());
    boolean canRank = evalUsers > 0;
    boolean canSelect = s.selectByRmse() ? ratedPairs > 0 : canRank;
    List<Map<String, Object>> evaluated = new ArrayList<>();
    Map<String, Map<String, Object>> baselines = new LinkedHashMap<>();
    AlsParams chosen = s.params();
    String selection;
    Map<String, Object> chosenMetrics = new LinkedHashMap<>();
    PerUserScores scores = new PerUserScores(truth, k, evalUsers, catalog.size());
    List<String> families = new ArrayList<>();
    List<String> slotNames = new ArrayList<>();
    for (int slots = 0; slots <= (s.content().enabled() ? s.content().maxSlots() : 0); slots++) {
      slotNames.add(slotName(slots));
    }
    double chosenHalfLife = halfLifeDays;
    double[] minSimilarityChosen = {s.content().minSimilarity()};
    Map<String, Object> policyReport = new LinkedHashMap<>();
    policyReport.put("metric", "ndcg_at_" + k);
    policyReport.put("confidence", ps.confidence());
    policyReport.put("bootstrap_replicates", ps.replicates());
    policyReport.put("eval_users", evalUsers);
    policyReport.put("min_users", ps.minUsers());
    PairedBootstrap.Decision familyDecision;
    PairedBootstrap.Decision slotDecision;
    Map<String, Object> familyReport = null;
    Map<String, Object> slotReport = null;
    if (!canSelect) {
      selection = "params: nothing to validate on (no held-out "
          + (s.selectByRmse() ? "ratings" : "users with relevant items") + " among the training users)";
      LOG.warn("recommend: {}; using the configured params", selection);
      familyDecision = PairedBootstrap.Decision.undecided("family", "ndcg", List.of(ALS_FAMILY), "nothing to validate on");
      slotDecision = PairedBootstrap.Decision.undecided("content_slots", "ndcg", slotNames, "nothing to validate on");
    } else {
      // The recent ranking is what production falls back to; the all-time one is shown beside it
      // because it is what a popularity baseline usually means, and it is the weaker one on
      // seasonal catalogs (lift is claimed against the stronger of the two).
      Map<String, ScoringModel.Ranking> rankings = new LinkedHashMap<>();
      List<ScoringModel.Ranking> ranked = Popularity.global(before, catalogItems, catalog, types.purchase(),
          s.popularity().isAllTime() ? List.of(s.popularity()) : List.of(s.popularity(), Popularity.Recency.allTime()),
          ref);
      ScoringModel.Ranking popular = ranked.get(0);
      if (!s.popularity().isAllTime()) {
        rankings.put(RECENT, popular);
      }
      rankings.put(ALL_TIME, ranked.get(ranked.size() - 1));
      // Exclusion arrays of the evaluated users only (a fifth of the training users at the
      // benchmark's shape), not of every user.
      Dataset<Row> evalIdx = truth.select("user_idx");
      // Ranked for every candidate and baseline: a one-node plan (LineageCut).
      Dataset<Row> users = LineageCut.of(evalIdx.join(userMap, "user_idx")
          .join(TrainingData.perUser(excluded.join(evalIdx, "user_idx"), "excluded"), new String[] {"user_idx"}, "left")
          .withColumn("history", lit(null).cast(DataTypes.createArrayType(DataTypes.IntegerType)))
          .withColumn("segment", lit(null).cast(DataTypes.StringType)));

      // What the beyond-accuracy metrics measure against: the pairs users chose before the split.
      BeyondAccuracy.Reference reference = canRank ? BeyondAccuracy.Reference.of(TrainingData.pairs(before,
          s.relevantEventTypes())) : null;
      // The lists as published also hold up to content.max-slots new items by content: measured
      // for every candidate beside the plain ALS lists, with the users' histories before the split.
      boolean tuneBlend = s.content().enabled() && s.content().tuneBlendWeight();
      ContentSimilarity.Index splitIndex = canRank && itemTexts != null && (s.content().maxSlots() > 0 || tuneBlend)
          ? ContentSimilarity.fit(itemTexts.join(catalogItems.select("item_idx"), "item_idx"), catalog) : null;
      ContentCheck content = splitIndex != null && s.content().maxSlots() > 0 && decidable
          ? new ContentCheck(splitIndex, TrainingData.perUser(before.select("user_idx", "item_idx")
              .join(evalIdx, "user_idx").distinct(), "history"), scores, newItemUsersHolder(),
              new double[] {s.content().minSimilarity()}, new ArrayList<>())
          : null;
      BlendCheck blendCheck = splitIndex != null && tuneBlend
          ? BlendCheck.of(splitIndex, nextItems(before, heldOut, excluded, truth.select("user_idx"),
              catalogItems.select("item_idx"), s.relevantEventTypes()), s.content().blendWeightGrid(), catalog)
          : null;
      t = timings.add("setup", t); // popularity, beyond-accuracy reference, content index, next items
      Dataset<Row> fallbackRows = null;
      Map<String, Object> ratingBaseline = heldRatings != null && ratedPairs > 0
          ? RankingEvaluation.rating(heldRatings.join(itemMeans, "item_idx"), "baseline_prediction") : Map.of();
      for (Map.Entry<String, ScoringModel.Ranking> b : rankings.entrySet()) {
        Map<String, Object> baseline = new LinkedHashMap<>();
        if (canRank) {
          spark.sparkContext().setJobDescription("recommend: validation baseline " + b.getKey());
          RankedRows base = UserRanker.rankAll(spark,
              new ScoringModel(catalog, 0, new int[0], new float[0], b.getValue(), Map.of()),
              users.withColumn("factors", lit(null).cast(DataTypes.createArrayType(DataTypes.FloatType))),
              k, s.blockSize(), false);
          baseline.putAll(RankingEvaluation.ranking(base.rows(), truth, k, catalog.size(), reference));
          scores.put(POPULARITY_PREFIX + b.getKey(), base.rows(), baseline);
          families.add(POPULARITY_PREFIX + b.getKey());
          if (fallbackRows == null && (s.sar().enabled() || !s.policy().blendWeights().isEmpty()) && decidable) {
            // The production fallback's lists (the configured recency): what fills short SAR lists
            // and what the blends fuse with ALS's.
            scores.keepList(POPULAR_LISTS, base.rows());
            fallbackRows = scores.list(POPULAR_LISTS);
          }
          base.release();
        }
        baseline.putAll(ratingBaseline);
        baselines.put(b.getKey(), baseline);
      }
      t = timings.add("baselines", t);

      // The time decay of implicit strength, measured with the configured params before the grid
      // searches the ALS parameters on the chosen training data.
      List<Double> halfLives = s.implicit() && decidable ? s.policy().halfLives() : List.of();
      if (halfLives.size() > 1) {
        List<String> names = new ArrayList<>();
        for (double hl : halfLives) {
          String name = DECAY_PREFIX + RecommendSettings.PolicySettings.halfLifeName(hl);
          names.add(name);
          Dataset<Row> tr = hl == halfLifeDays ? train : trainingData(s, types, before, vs, hl, ref, partitions);
          spark.sparkContext().setJobDescription("recommend: validation half-life " + name);
          long pairs = hl == halfLifeDays ? trainPairs[0] : tr.count();
          TrainingData.releasingCaches(spark, () -> {
            ALSModel model = TrainingData.fit(s, s.params(), tr, Math.max(1, pairs));
            RankedRows recs = UserRanker.rankAll(spark, ScoringModel.of(catalog, model.itemFactors(), popular, Map.of()),
                withFactors(users, model), k, s.blockSize(), false);
            scores.put(name, recs.rows());
            recs.release();
            return null;
          }, scores::rddIds);
          if (tr != train) {
            tr.unpersist();
          }
        }
        PairedBootstrap.Decision d = scores.decide("half_life", names, ps);
        policyReport.put("half_life", scores.report(d));
        chosenHalfLife = halfLives.get(names.indexOf(d.chosen()));
        names.forEach(scores::release);
        if (chosenHalfLife != halfLifeDays) {
          train.unpersist();
          train = trainingData(s, types, before, vs, chosenHalfLife, ref, partitions);
          Row chosenSizes = train.agg(count(lit(1)), countDistinct("user_idx")).first();
          trainPairs[0] = chosenSizes.getLong(0);
          sizes.put("training_pairs", trainPairs[0]);
          sizes.put("training_users", chosenSizes.getLong(1));
        }
        t = timings.add("half_life", t);
      }

      double best = Double.NEGATIVE_INFINITY;
      // The choice is by NDCG (or RMSE) of the plain lists; the content-slot and blend-weight
      // measurements describe the lists as published, so they are taken for the chosen candidate
      // only: with one candidate inside its evaluation, with a grid after the loop on a refit of
      // the winner (same data, same seed, so the same factors).
      boolean single = candidates.size() == 1;
      Dataset<Row> rankTruth = canRank ? truth : null;
      Dataset<Row> rated = heldRatings;
      long scored = ratedPairs;
      Dataset<Row> finalTrain = train;
      for (AlsParams p : candidates) {
        long t0 = System.nanoTime();
        Map<String, Object> m = params(p, s.implicit());
        m.putAll(TrainingData.releasingCaches(spark,
            () -> evaluate(spark, s, p, finalTrain, trainPairs[0], users, rankTruth, catalog, popular, rated, scored,
                reference, before, single ? content : null, single ? blendCheck : null, timings, scores), scores::rddIds));
        m.put("seconds", Math.round((System.nanoTime() - t0) / 1e8) / 10.0);
        t = System.nanoTime();
        LOG.info("recommend: candidate {}", m);
        evaluated.add(m);
        double score = s.selectByRmse() ? -((Double) m.get("rmse")) : (Double) m.get("ndcg_at_" + k);
        if (score > best) {
          best = score;
          chosen = p;
          chosenMetrics = m;
          if (scores.has(CANDIDATE)) {
            scores.release(ALS_FAMILY);
            scores.alias(CANDIDATE, ALS_FAMILY);
          }
        }
        if (scores.has(CANDIDATE)) {
          scores.release(CANDIDATE);
        }
      }
      if (!single && canRank && (content != null || blendCheck != null)) {
        long t0 = System.nanoTime();
        AlsParams winner = chosen;
        Map<String, Object> published = TrainingData.releasingCaches(spark, () -> {
          ALSModel refit = TrainingData.fit(s, winner, finalTrain, trainPairs[0]);
          timings.add("fit", t0);
          return publishedLists(spark, s, winner, refit, users, rankTruth, catalog, popular, before, content, blendCheck,
              timings);
        }, scores::rddIds);
        chosenMetrics.putAll(published);
        chosenMetrics.put("published_lists_seconds", Math.round((System.nanoTime() - t0) / 1e8) / 10.0);
        t = System.nanoTime();
      }
      selection = !decidable && s.search()
          ? "params: " + evalUsers + " evaluated users, fewer than validation-min-users (" + ps.minUsers()
              + "), decide no search"
          : s.search()
              ? "grid search: best of " + candidates.size() + " by " + (s.selectByRmse() ? "lowest rmse" : "highest ndcg_at_" + k)
              : "params (search = fixed)";
      // SAR, simpler than ALS (no latent model), on the same training data and the same users.
      if (fallbackRows != null && s.sar().enabled() && scores.has(ALS_FAMILY)) {
        long t0 = System.nanoTime();
        spark.sparkContext().setJobDescription("recommend: validation SAR");
        Dataset<Row> affinity = sarAffinity(s, types, before, vs, chosenHalfLife, ref);
        Sar sar = Sar.fit(affinity, s.sar().similarity(), s.sar().minCooccurrence(), s.sar().maxItemsPerUser(),
            s.sar().neighbours());
        Dataset<Row> lists = LineageCut.of(Sar.withFallback(sar.recommend(affinity, users, k), fallbackRows, k));
        Map<String, Object> sarMetrics = new LinkedHashMap<>(RankingEvaluation.ranking(lists, truth, k, catalog.size()));
        sarMetrics.put("seconds", Math.round((System.nanoTime() - t0) / 1e8) / 10.0);
        policyReport.put("sar", sarMetrics);
        scores.put(Sar.SOURCE, lists, sarMetrics);
        families.add(Sar.SOURCE);
        LineageCut.release(lists);
        sar.release();
        t = timings.add("sar", t);
      }
      // Blends of ALS's and popularity's lists, more complex than either.
      List<String> blends = new ArrayList<>();
      if (fallbackRows != null && scores.list(ALS_FAMILY) != null) {
        spark.sparkContext().setJobDescription("recommend: validation blends");
        for (double w : s.policy().blendWeights()) {
          scores.put(RankFusion.name(w), RankFusion.fuse(scores.list(ALS_FAMILY), fallbackRows, w, k));
          blends.add(RankFusion.name(w));
        }
        t = timings.add("blends", t);
      }
      // The model family, then the content slots of the chosen family's lists.
      if (canRank && scores.has(ALS_FAMILY)) {
        families.add(ALS_FAMILY);
        families.addAll(blends);
        familyDecision = scores.decide("family", families, ps);
      } else {
        familyDecision = PairedBootstrap.Decision.undecided("family", "ndcg", List.of(ALS_FAMILY),
            "no ranking to compare (selection by rmse or no evaluated users)");
      }
      if (slotNames.size() == 1) {
        slotDecision = PairedBootstrap.Decision.undecided("content_slots", "ndcg", slotNames, "content slots are off");
      } else if (!scores.has(slotNames.get(1))) {
        slotDecision = PairedBootstrap.Decision.undecided("content_slots", "ndcg", slotNames,
            "no content-slot lists were measured (no item texts at the split, or too few users)");
      } else {
        scores.alias(ALS_FAMILY, slotNames.get(0));
        slotDecision = scores.decide("content_slots", slotNames, ps);
        if (content.newItemUsers()[0] != null) {
          policyReport.put("content_slots_new_item_users", scores.meansAmong(content.newItemUsers()[0], slotNames));
        }
        if (!familyDecision.chosen().equals(ALS_FAMILY)) {
          // Measured on ALS's lists, shown as measured, but not what is published.
          slotDecision = new PairedBootstrap.Decision("content_slots", "ndcg", slotDecision.options(), slotNames.get(0),
              "not applied: content slots go into ALS lists, and " + familyDecision.chosen() + " was chosen (on ALS's"
                  + " lists: " + slotDecision.chosen() + ", " + slotDecision.reason() + ")", false);
        }
      }
      if (content != null) {
        minSimilarityChosen[0] = content.minSimilarity()[0];
        if (!content.minSimilarityReport().isEmpty()) {
          policyReport.put("content_min_similarity", content.minSimilarityReport().get(0));
        }
      }
      familyReport = scores.report(familyDecision);
      slotReport = scores.report(slotDecision);
      scores.releaseAll();
      LineageCut.release(users);
      if (reference != null) {
        reference.release();
      }
      if (blendCheck != null) {
        blendCheck.next().unpersist();
      }
    }
    policyReport.put("family", familyReport != null ? familyReport : familyDecision.asReport());
    policyReport.put("content_slots", slotReport != null ? slotReport : slotDecision.asReport());
    Map<String, Object> metrics = new LinkedHashMap<>(chosenMetrics);
    for (String key : List.of("rank", "reg_param", "alpha", "max_iter", "seconds", "published_lists_seconds",
        BLEND_WEIGHTS)) {
      metrics.remove(key);
    }
    Blend blend = chooseBlend(s.content(), chosenMetrics.get(BLEND_WEIGHTS));
    if (heldRatings != null) {
      heldRatings.unpersist();
    }
    LineageCut.release(truth);
    truthPairs.unpersist();
    excluded.unpersist();
    train.unpersist();
    vs.release();
    timings.add("other", t);
    Policy policy = new Policy(familyDecision.chosen(), slotIndex(slotDecision.chosen()), chosenHalfLife,
        minSimilarityChosen[0], policyReport);
    return new Outcome(chosen, selection, sizes, s.search() ? evaluated : List.of(), metrics, baselines, blend,
        timings.asReport(), policy);
  }

  @SuppressWarnings("unchecked")
  private static Dataset<Row>[] newItemUsersHolder() {
    return (Dataset<Row>[]) new Dataset<?>[1];
  }

  /** Manifest name of a number of content slots. */
  static String slotName(int slots) {
    return SLOTS_PREFIX + slots;
  }

  private static int slotIndex(String name) {
    return Integer.parseInt(name.substring(SLOTS_PREFIX.length()));
  }

  /** SAR's affinity before the split: implicit strength at {@code halfLife}, or the ratings. */
  static Dataset<Row> sarAffinity(RecommendSettings s, EventTypes types, Dataset<Row> before, ValidationSplit vs,
      double halfLife, Instant ref) {
    return s.implicit() ? TrainingData.implicitStrength(before, types, halfLife, ref)
        : vs.ratingsBefore().orElseThrow().select("user_idx", "item_idx", "rating");
  }

  /** The cached ALS input of the validation: implicit strength at {@code halfLife}, or the ratings before the split. */
  private static Dataset<Row> trainingData(RecommendSettings s, EventTypes types, Dataset<Row> before,
      ValidationSplit vs, double halfLife, Instant ref, int partitions) {
    return TrainingData.prepare(s.implicit()
        ? TrainingData.implicitStrength(before, types, halfLife, ref)
        : vs.ratingsBefore().orElseThrow().select("user_idx", "item_idx", "rating"), partitions);
  }

  /**
   * The blend weight from the chosen candidate's measurement: the highest hit rate; on a tie the
   * weight nearest {@code blend-weight}, then the lower. {@code blend-weight} itself when tuning is
   * off or there was nothing to measure on.
   *
   * @param measured the chosen candidate's {@link #BLEND_WEIGHTS} entry, or null
   */
  @SuppressWarnings("unchecked")
  static Blend chooseBlend(RecommendSettings.ContentSettings c, Object measured) {
    if (!c.enabled() || !c.tuneBlendWeight()) {
      return new Blend(c.blendWeight(), "fixed: content.blend-weight" + (c.enabled() ? " (blend-weight-search = fixed)"
          : " (content similarity off)"), Map.of());
    }
    if (!(measured instanceof Map<?, ?> m) || ((Number) ((Map<String, Object>) m).get("users")).longValue() == 0) {
      return new Blend(c.blendWeight(), "fixed: content.blend-weight (the validation split has no user whose last"
          + " item before the split has a blend list and who bought an item of the split's catalog after it)",
          measured instanceof Map<?, ?> ? (Map<String, Object>) measured : Map.of());
    }
    Map<String, Object> hitRates = (Map<String, Object>) ((Map<String, Object>) m).get("hit_rate");
    double best = Double.NaN;
    double bestRate = Double.NEGATIVE_INFINITY;
    for (double w : c.blendWeightGrid()) {
      double rate = ((Number) hitRates.get(weightKey(w))).doubleValue();
      boolean better = rate > bestRate || (rate == bestRate && (Math.abs(w - c.blendWeight()) < Math.abs(best - c.blendWeight())
          || (Math.abs(w - c.blendWeight()) == Math.abs(best - c.blendWeight()) && w < best)));
      if (better) {
        best = w;
        bestRate = rate;
      }
    }
    return new Blend(best, "validation: highest next-item hit rate of " + c.blendWeightGrid().size() + " weights",
        (Map<String, Object>) measured);
  }

  /** A weight as a manifest key: "0.25". */
  static String weightKey(double w) {
    return String.valueOf(w);
  }

  /**
   * What the blend weight is measured on: per evaluated user, the item of their last event of
   * {@code relevant} types before the split (the query; on equal times the higher item idx) and the
   * item of their first such event in the held-out window that was not excluded at the split (the
   * next item; on equal times the lower idx), when it is another item of the split's catalog.
   *
   * @return user_idx, query_idx, next_idx
   */
  static Dataset<Row> nextItems(Dataset<Row> before, Dataset<Row> heldOut, Dataset<Row> excluded, Dataset<Row> evalUsers,
      Dataset<Row> catalogIdx, List<String> relevant) {
    org.apache.spark.sql.Column isRelevant = col("event_type").isin(relevant.toArray());
    Dataset<Row> last = before.filter(isRelevant).groupBy("user_idx")
        .agg(max(struct(col("event_time"), col("item_idx"))).as("last"))
        .select(col("user_idx"), col("last.item_idx").as("query_idx"));
    Dataset<Row> first = heldOut.filter(isRelevant).join(excluded, new String[] {"user_idx", "item_idx"}, "left_anti")
        .join(catalogIdx, "item_idx")
        .groupBy("user_idx").agg(min(struct(col("event_time"), col("item_idx"))).as("first"))
        .select(col("user_idx"), col("first.item_idx").as("next_idx"));
    return last.join(first, "user_idx").join(evalUsers, "user_idx").filter(col("query_idx").notEqual(col("next_idx")));
  }

  /**
   * Fits one candidate on the validation training data and measures it.
   *
   * @param truth held-out relevant items per user, or null when there are none to rank for
   * @param heldRatings held-out ratings to predict (explicit mode), or null
   */
  private static Map<String, Object> evaluate(SparkSession spark, RecommendSettings s, AlsParams p,
      Dataset<Row> train, long trainPairs, Dataset<Row> users, Dataset<Row> truth, ScoringModel.Catalog catalog,
      ScoringModel.Ranking popular, Dataset<Row> heldRatings, long ratedPairs, BeyondAccuracy.Reference reference,
      Dataset<Row> before, ContentCheck content, BlendCheck blend, Timings timings, PerUserScores scores) {
    spark.sparkContext().setJobDescription("recommend: validation fit " + p);
    long t = System.nanoTime();
    ALSModel model = TrainingData.fit(s, p, train, trainPairs);
    t = timings.add("fit", t);
    Map<String, Object> m = new LinkedHashMap<>();
    if (truth != null) {
      spark.sparkContext().setJobDescription("recommend: validation ranking " + p);
      ScoringModel sm = ScoringModel.of(catalog, model.itemFactors(), popular, Map.of());
      RankedRows recs = UserRanker.rankAll(spark, sm, withFactors(users, model), s.k(), s.blockSize(), false);
      m.putAll(RankingEvaluation.ranking(recs.rows(), truth, s.k(), catalog.size(), reference));
      scores.put(CANDIDATE, recs.rows(), m);
      if (!s.policy().blendWeights().isEmpty()) {
        scores.keepList(CANDIDATE, recs.rows());
      }
      recs.release();
      t = timings.add("ranking", t);
      m.putAll(publishedLists(spark, s, p, model, users, truth, catalog, popular, before, content, blend, timings));
      t = System.nanoTime();
    }
    if (heldRatings != null && ratedPairs > 0) {
      m.putAll(RankingEvaluation.rating(model.transform(heldRatings), "prediction"));
      timings.add("rating", t);
    }
    return m;
  }

  /** The users with their factors; null factors (the fallback lists) for users the model has none of. */
  private static Dataset<Row> withFactors(Dataset<Row> users, ALSModel model) {
    return users.join(model.userFactors().select(col("id").as("user_idx"), col("features").as("factors")),
        new String[] {"user_idx"}, "left");
  }

  /**
   * The lists as published, for one fitted candidate: ranked with up to {@code content.max-slots}
   * new items by content ({@code content_slots}), and the blend-weight grid's next-item hit rates
   * ({@link #BLEND_WEIGHTS}). Empty when neither is measured.
   */
  private static Map<String, Object> publishedLists(SparkSession spark, RecommendSettings s, AlsParams p,
      ALSModel model, Dataset<Row> users, Dataset<Row> truth, ScoringModel.Catalog catalog,
      ScoringModel.Ranking popular, Dataset<Row> before, ContentCheck content, BlendCheck blend, Timings timings) {
    Map<String, Object> m = new LinkedHashMap<>();
    if (content == null && blend == null) {
      return m;
    }
    long t = System.nanoTime();
    ScoringModel sm = ScoringModel.of(catalog, model.itemFactors(), popular, Map.of());
    // New at the split: too few users before it, or no factors in this candidate's model.
    boolean[] fresh = ContentSimilarity.newItems(before, sm, s.content().newItemMaxUsers());
    if (content != null) {
      // Every slot count up to max-slots, so that the policy decision can take fewer (or none).
      Dataset<Row> withHistory = withFactors(users, model).drop("history")
          .join(content.history(), new String[] {"user_idx"}, "left");
      // The evaluated users with a new item among their held-out items: where content slots can gain.
      List<Integer> freshIdx = new ArrayList<>();
      for (int i = 0; i < fresh.length; i++) {
        if (fresh[i]) {
          freshIdx.add(catalog.itemIdx()[i]);
        }
      }
      content.newItemUsers()[0] = truth.filter(org.apache.spark.sql.functions.arrays_overlap(col("items"),
          lit(freshIdx.stream().mapToInt(Integer::intValue).toArray())))
          .select("user_idx");
      // The threshold first, with max-slots content rows (highest threshold the simplest), then the
      // slot counts at the chosen one.
      List<Double> thresholds = s.policy().minSimilarities();
      double minSimilarity = s.content().minSimilarity();
      if (thresholds.size() > 1) {
        List<String> names = new ArrayList<>();
        for (double ms : thresholds) {
          spark.sparkContext().setJobDescription("recommend: validation content min-similarity " + ms + " " + p);
          ScoringModel withContent = ScoringModel.of(catalog, model.itemFactors(), popular, Map.of());
          withContent.withNewItems(ContentSimilarity.newItemNeighbours(spark, content.index(), fresh,
              RecommendStage.NEW_ITEM_NEIGHBOURS, s.content().maxSlots(), ms,
              spark.sessionState().conf().numShufflePartitions()));
          RankedRows ranked = UserRanker.rankAll(spark, withContent, withHistory, s.k(), s.blockSize(), false);
          content.scores().put(MIN_SIMILARITY_PREFIX + ms, ranked.rows());
          names.add(MIN_SIMILARITY_PREFIX + ms);
          ranked.release();
        }
        PairedBootstrap.Decision d = content.scores().decide("content_min_similarity", names, s.policy());
        content.minSimilarityReport().clear();
        content.minSimilarityReport().add(content.scores().report(d));
        minSimilarity = thresholds.get(names.indexOf(d.chosen()));
        names.forEach(content.scores()::release);
      }
      content.minSimilarity()[0] = minSimilarity;
      for (int slots = 1; slots <= s.content().maxSlots(); slots++) {
        spark.sparkContext().setJobDescription("recommend: validation ranking with " + slots + " content slots " + p);
        ScoringModel withContent = ScoringModel.of(catalog, model.itemFactors(), popular, Map.of());
        withContent.withNewItems(ContentSimilarity.newItemNeighbours(spark, content.index(), fresh,
            RecommendStage.NEW_ITEM_NEIGHBOURS, slots, minSimilarity,
            spark.sessionState().conf().numShufflePartitions()));
        RankedRows slotted = UserRanker.rankAll(spark, withContent, withHistory, s.k(), s.blockSize(), false);
        content.scores().put(slotName(slots), slotted.rows());
        if (slots == s.content().maxSlots()) {
          Map<String, Object> c = new LinkedHashMap<>(RankingEvaluation.ranking(slotted.rows(), truth, s.k(),
              catalog.size()));
          c.put("content_rows", slotted.rows().filter(col("source").equalTo(UserRanker.CONTENT)).count());
          m.put("content_slots", c);
        }
        slotted.release();
      }
      t = timings.add("content_slots", t);
    }
    if (blend != null) {
      spark.sparkContext().setJobDescription("recommend: validation blend weights " + p);
      m.put(BLEND_WEIGHTS, blend.measure(spark, sm, fresh, s));
      timings.add("blend_weights", t);
    }
    return m;
  }

  /**
   * What the content-slot measurement needs.
   *
   * @param index TF-IDF vectors of the catalog at the split
   * @param history user_idx, history: the items of each evaluated user's events before the split
   */
  private record ContentCheck(ContentSimilarity.Index index, Dataset<Row> history, PerUserScores scores,
      Dataset<Row>[] newItemUsers, double[] minSimilarity, List<Map<String, Object>> minSimilarityReport) {}

  /**
   * What the blend-weight measurement needs: the split's content index, the (query, next item)
   * pairs of {@link #nextItems} (cached) and the catalog positions of the distinct query items
   * (bounded by the catalog).
   */
  private record BlendCheck(ContentSimilarity.Index index, Dataset<Row> next, List<Integer> queries, double[] weights) {
    static BlendCheck of(ContentSimilarity.Index index, Dataset<Row> next, List<Double> weights,
        ScoringModel.Catalog catalog) {
      Dataset<Row> cached = next.persist(StorageLevel.MEMORY_AND_DISK());
      List<Integer> queries = new ArrayList<>();
      for (Row r : cached.select("query_idx").distinct().orderBy("query_idx").collectAsList()) {
        int p = catalog.position(r.getInt(0));
        if (p >= 0) {
          queries.add(p);
        }
      }
      return new BlendCheck(index, cached, List.copyOf(queries), weights.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /**
     * For one candidate's factors: the users whose query item has a blend list (factors and text,
     * not new), and per weight the share of them whose next item is in that list (top
     * {@code similar-items}).
     */
    Map<String, Object> measure(SparkSession spark, ScoringModel sm, boolean[] fresh, RecommendSettings s) {
      RankedRows grid = SimilarItems.blendGrid(spark, sm, index, fresh, weights, queries, s.similarItems(), s.blockSize(),
          spark.sessionState().conf().numShufflePartitions());
      Dataset<Row> lists = grid.rows().persist(StorageLevel.MEMORY_AND_DISK());
      long users = next.join(lists.filter(col("rank").equalTo(1).and(col("weight").equalTo(weights[0])))
          .select(col("item_idx").as("query_idx")), "query_idx").count();
      Map<Double, Long> hits = new java.util.HashMap<>();
      for (Row r : next.join(lists, next.col("query_idx").equalTo(lists.col("item_idx"))
              .and(next.col("next_idx").equalTo(lists.col("similar_item_idx"))))
          .groupBy("weight").count().collectAsList()) {
        hits.put(r.getDouble(0), r.getLong(1));
      }
      lists.unpersist();
      grid.release();
      Map<String, Object> rates = new LinkedHashMap<>();
      for (double w : weights) {
        rates.put(weightKey(w), users == 0 ? 0.0 : hits.getOrDefault(w, 0L) / (double) users);
      }
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("users", users);
      out.put("hit_rate", rates);
      return out;
    }
  }

  /** The parameters as manifest entries (alpha only in implicit mode, where it means something). */
  static Map<String, Object> params(AlsParams p, boolean implicit) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("rank", p.rank());
    m.put("reg_param", p.regParam());
    if (implicit) {
      m.put("alpha", p.alpha());
    }
    m.put("max_iter", p.maxIter());
    return m;
  }
}
