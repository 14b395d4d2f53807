package io.affinity.recommend;

import static org.apache.spark.sql.functions.col;

import io.affinity.pipeline.PairedBootstrap;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The per-user NDCG@k of every list the validation measured, kept by policy name until the
 * decisions between them are made ({@link PolicyChoice}). Each is a small one-node table (one row
 * per evaluated user, {@link LineageCut}), so a decision joins a few of them without recomputing a
 * ranking.
 */
final class PerUserScores {
  private final Dataset<Row> truth;
  private final int k;
  private final long users;
  private final long catalogSize;
  private final Map<String, Dataset<Row>> cuts = new LinkedHashMap<>();
  private final Map<String, Map<String, Object>> figures = new LinkedHashMap<>();
  private final Map<String, Dataset<Row>> lists = new LinkedHashMap<>();

  /**
   * @param truth user_idx, items: the evaluated users and their relevant held-out items
   * @param users how many rows {@code truth} has
   * @param catalogSize items that could have been recommended (denominator of coverage)
   */
  PerUserScores(Dataset<Row> truth, int k, long users, long catalogSize) {
    this.truth = truth;
    this.k = k;
    this.users = users;
    this.catalogSize = catalogSize;
  }

  /**
   * Keeps the per-user NDCG of {@code recommendations} under {@code name} (replacing an older one),
   * and the lists' precision@k and catalog coverage for the manifest.
   */
  void put(String name, Dataset<Row> recommendations) {
    put(name, recommendations, null);
  }

  /**
   * As {@link #put(String, Dataset)}, taking precision@k and coverage from {@code measured}
   * ({@link RankingEvaluation#ranking}'s result for the same lists and truth) instead of two more
   * Spark jobs; null = compute them.
   */
  void put(String name, Dataset<Row> recommendations, Map<String, Object> measured) {
    release(name);
    Dataset<Row> cut = LineageCut.of(PolicyChoice.perUserNdcg(recommendations, truth, k, "ndcg"));
    cuts.put(name, cut);
    Map<String, Object> f = new LinkedHashMap<>();
    String precision = "precision_at_" + k;
    if (measured != null && measured.containsKey(precision) && measured.containsKey("catalog_coverage")) {
      f.put(precision, measured.get(precision));
      f.put("catalog_coverage", measured.get("catalog_coverage"));
    } else {
      f.put(precision, cut.agg(org.apache.spark.sql.functions.avg(PolicyChoice.PRECISION)).first().get(0));
      long covered = recommendations.filter(col("rank").leq(k)).join(truth.select("user_idx"), "user_idx")
          .select("item_idx").distinct().count();
      f.put("catalog_coverage", catalogSize == 0 ? 0.0 : covered / (double) catalogSize);
    }
    figures.put(name, f);
  }

  /** Keeps {@code from}'s scores (and list, if kept) under {@code to} as well. */
  void alias(String from, String to) {
    cuts.put(to, cuts.get(from));
    figures.put(to, figures.get(from));
    if (lists.containsKey(from)) {
      lists.put(to, lists.get(from));
    }
  }

  /**
   * Keeps the lists themselves under {@code name} (user_idx, rank, item_idx, score, source,
   * because_item_id; one-node), for candidates built from them (a blend, a fill).
   */
  void keepList(String name, Dataset<Row> recommendations) {
    releaseList(name);
    lists.put(name, LineageCut.of(recommendations.select("user_idx", "rank", "item_idx", "score", "source",
        "because_item_id")));
  }

  /** A list kept by {@link #keepList}, or null. */
  Dataset<Row> list(String name) {
    return lists.get(name);
  }

  private void releaseList(String name) {
    Dataset<Row> old = lists.remove(name);
    if (old != null && !lists.containsValue(old)) {
      LineageCut.release(old);
    }
  }

  /** The decision's manifest entry, each measured candidate with its precision@k and coverage too. */
  @SuppressWarnings("unchecked")
  Map<String, Object> report(PairedBootstrap.Decision d) {
    Map<String, Object> m = d.asReport();
    for (Object o : (List<Object>) m.get("candidates")) {
      Map<String, Object> c = (Map<String, Object>) o;
      if (c.containsKey("ndcg") && figures.containsKey(c.get("policy"))) {
        c.putAll(figures.get(c.get("policy")));
      }
    }
    return m;
  }

  /** The RDDs that hold the kept scores (so that {@link TrainingData#releasingCaches} spares them). */
  java.util.Set<Integer> rddIds() {
    java.util.Set<Integer> ids = new java.util.HashSet<>();
    cuts.values().forEach(c -> ids.add(LineageCut.rddId(c)));
    lists.values().forEach(c -> ids.add(LineageCut.rddId(c)));
    return ids;
  }

  boolean has(String name) {
    return cuts.containsKey(name);
  }

  /**
   * Decides between {@code names} (simplest first, each {@link #put} before). Undecided, with the
   * simplest, when fewer than {@code minUsers} users were evaluated.
   */
  PairedBootstrap.Decision decide(String decision, List<String> names, RecommendSettings.PolicySettings p) {
    if (users < p.minUsers()) {
      return PairedBootstrap.Decision.undecided(decision, "ndcg", names, users + " evaluated users, fewer than"
          + " validation-min-users (" + p.minUsers() + ")");
    }
    Dataset<Row> wide = truth.select("user_idx");
    List<String> columns = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      String c = "c" + i;
      columns.add(c);
      wide = wide.join(cuts.get(names.get(i)).select(col("user_idx"), col("ndcg").as(c)), "user_idx");
    }
    double[][] means = PairedBootstrap.means(wide, "user_idx", columns, p.replicates(), p.seed());
    return PairedBootstrap.choose(decision, "ndcg", names, means, p.confidence());
  }

  /**
   * Mean NDCG of each of {@code names} among the evaluated users of {@code subset} (user_idx), and
   * how many they are: one aggregation. Describes, does not decide.
   */
  Map<String, Object> meansAmong(Dataset<Row> subset, List<String> names) {
    Dataset<Row> wide = truth.select("user_idx").join(subset.select("user_idx").distinct(), "user_idx");
    List<org.apache.spark.sql.Column> aggs = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      wide = wide.join(cuts.get(names.get(i)).select(col("user_idx"), col("ndcg").as("c" + i)), "user_idx");
      aggs.add(org.apache.spark.sql.functions.avg("c" + i));
    }
    Row r = wide.agg(org.apache.spark.sql.functions.count(org.apache.spark.sql.functions.lit(1)),
        aggs.toArray(new org.apache.spark.sql.Column[0])).first();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("users", r.getLong(0));
    Map<String, Object> ndcg = new LinkedHashMap<>();
    for (int i = 0; i < names.size(); i++) {
      ndcg.put(names.get(i), r.isNullAt(i + 1) ? null : r.getDouble(i + 1));
    }
    out.put("ndcg", ndcg);
    return out;
  }

  void release(String name) {
    Dataset<Row> old = cuts.remove(name);
    if (old != null && !cuts.containsValue(old)) {
      LineageCut.release(old);
    }
    releaseList(name);
  }

  void releaseAll() {
    for (String name : new ArrayList<>(cuts.keySet())) {
      release(name);
    }
    for (String name : new ArrayList<>(lists.keySet())) {
      releaseList(name);
    }
  }
}
