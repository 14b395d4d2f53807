package io.affinity.recommend;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;

/**
 * Ranks the catalog for the users of one partition. Each input row carries everything about one
 * user (factor vector, excluded items, history, segment), joined onto it by user before this runs,
 * so no lookup leaves the task. Users are taken in blocks of {@link BlockTopN#blockSize()}; the
 * ALS users of a block are scored in one matrix product against the broadcast item factors.
 *
 * <p>Each user gets up to n rows: ALS items first (source {@code als}) when the user has usable
 * factors, then the segment's most popular items ({@code segment_popular}) when the user has a
 * known segment, then the overall most popular ({@code popular}), never an excluded item and never
 * an item twice. Fewer than n rows only when the catalog minus the user's excluded items has fewer
 * than n items.
 *
 * <p>Factors are usable only when their scores rank something. A user whose interactions all
 * decayed to strength 0 gets a vector of zeros from ALS, so every item scores exactly 0 and the
 * "ranking" is the item order; published as {@code als} it would give all such users the same
 * arbitrary list with explanations that nothing supports. So a user is ranked like a cold user
 * (fallback rows with their own sources) when the vector has a non-finite or no non-zero entry,
 * or when every candidate item (not excluded, not taken by content) scores exactly the same
 * ({@link BlockTopN#lastScoresAllEqual}). The test is on all candidates rather than on the top n:
 * a user whose best items tie (items with identical factors, such as items with the same buyers)
 * but score above the rest still has a ranking, and keeps it. No tolerance: scaling a vector does
 * not change its ranking, so a small spread is still information. Such users are counted in
 * {@link RankedRows#usersDegenerateAls}.
 */
final class UserRanker {
  /** Input: one row per user. excluded and history hold item idx; factors is null for cold users. */
  static final StructType INPUT = new StructType()
      .add("user_id", DataTypes.StringType, false)
      .add("user_idx", DataTypes.IntegerType, false)
      .add("factors", DataTypes.createArrayType(DataTypes.FloatType, false), true)
      .add("excluded", DataTypes.createArrayType(DataTypes.IntegerType, false), true)
      .add("history", DataTypes.createArrayType(DataTypes.IntegerType, false), true)
      .add("segment", DataTypes.StringType, true);

  /** Output: one row per (user, rank). */
  static final StructType OUTPUT = new StructType()
      .add("user_id", DataTypes.StringType, false)
      .add("user_idx", DataTypes.IntegerType, false)
      .add("rank", DataTypes.IntegerType, false)
      .add("item_idx", DataTypes.IntegerType, false)
      .add("item_id", DataTypes.StringType, false)
      .add("score", DataTypes.DoubleType, false)
      .add("source", DataTypes.StringType, false)
      .add("because_item_id", DataTypes.StringType, true);

  static final String ALS = "als";
  static final String SEGMENT_POPULAR = "segment_popular";
  static final String POPULAR = "popular";
  static final String CONTENT = "content";

  // Block slot of a user whose factor vector cannot rank anything (not finite, or all zeros).
  private static final int UNUSABLE_FACTORS = -2;

  private final ScoringModel model;
  private final int n;
  private final boolean explain;
  private final BlockTopN top;
  private final LongAccumulator degenerateAls;
  private final boolean[] taken;
  private int[] touched = new int[64];
  private int touchedCount;
  private final int[] topRows;
  private final float[] topScores;
  // Content picks: best cosine and explaining history position per new item, reset after each user.
  private final float[] contentBest;
  private final int[] contentBecause;
  private int[] contentTouched = new int[64];

  /**
   * @param model the broadcast item side
   * @param n rows per user
   * @param blockSize users per matrix product
   * @param explain whether to compute {@code because_item_id} (evaluation does not need it)
   * @param degenerateAls counts users whose factors rank nothing (null: not counted)
   */
  UserRanker(ScoringModel model, int n, int blockSize, boolean explain, LongAccumulator degenerateAls) {
    this.model = model;
    this.n = n;
    this.explain = explain;
    this.degenerateAls = degenerateAls;
    this.top = new BlockTopN(model.factors(), model.factorRows(), model.rank(), blockSize, n);
    this.taken = new boolean[model.catalogSize()];
    this.topRows = new int[n];
    this.topScores = new float[n];
    this.contentBest = new float[model.newItems().maxSlots() > 0 ? model.catalogSize() : 0];
    this.contentBecause = new int[contentBest.length];
  }

  /**
   * Ranks every user of {@code users} on the executors, {@code n} rows each.
   *
   * @param users one row per user with the columns of {@link #INPUT} (by name)
   * @return rows of {@link #OUTPUT} and the broadcast model, to release after the last action
   */
  static RankedRows rankAll(SparkSession spark, ScoringModel model, Dataset<Row> users, int n, int blockSize,
      boolean explain) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Broadcast<ScoringModel> b = jsc.broadcast(model);
    LongAccumulator degenerate = spark.sparkContext().longAccumulator("users with ALS factors that rank nothing");
    JavaRDD<Row> rows = users.select(Arrays.stream(INPUT.fieldNames()).map(functions::col).toArray(Column[]::new)).javaRDD()
        .mapPartitions(it -> new UserRanker(b.value(), n, blockSize, explain, degenerate).rank(it));
    return new RankedRows(spark.createDataFrame(rows, OUTPUT), b, degenerate);
  }

  /** Lazily ranks every user of {@code users} (rows of {@link #INPUT}); rows of {@link #OUTPUT}. */
  Iterator<Row> rank(Iterator<Row> users) {
    return new Iterator<>() {
      private final List<Row> pending = new ArrayList<>();
      private int next;

      @Override
      public boolean hasNext() {
        while (next == pending.size()) {
          if (!users.hasNext()) {
            return false;
          }
          pending.clear();
          next = 0;
          rankBlock(users, pending);
        }
        return true;
      }

      @Override
      public Row next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return pending.get(next++);
      }
    };
  }

  /** Pulls up to one block of users, scores the ALS ones together and appends every user's rows. */
  private void rankBlock(Iterator<Row> users, List<Row> out) {
    List<Row> block = new ArrayList<>();
    int[] slots = new int[top.blockSize()];
    int scored = 0;
    float[] vector = new float[model.rank()];
    while (block.size() < top.blockSize() && users.hasNext()) {
      Row u = users.next();
      int slot = -1;
      if (!u.isNullAt(2) && model.factorRows() > 0) {
        List<Float> f = u.getList(2);
        if (f.size() != model.rank()) {
          throw new IllegalStateException("user " + u.getString(0) + " has " + f.size()
              + " factors, the item factors have " + model.rank());
        }
        for (int i = 0; i < vector.length; i++) {
          vector[i] = f.get(i);
        }
        if (usable(vector)) {
          slot = scored++;
          top.setQuery(slot, vector);
        } else {
          slot = UNUSABLE_FACTORS;
        }
      }
      slots[block.size()] = slot;
      block.add(u);
    }
    top.multiply(scored);
    for (int b = 0; b < block.size(); b++) {
      rankUser(block.get(b), slots[b], out);
    }
  }

  /** Whether a factor vector can rank anything: every entry finite and at least one not zero. */
  private static boolean usable(float[] vector) {
    boolean nonZero = false;
    for (float v : vector) {
      if (!Float.isFinite(v)) {
        return false;
      }
      nonZero |= v != 0f;
    }
    return nonZero;
  }

  private void rankUser(Row u, int slot, List<Row> out) {
    String userId = u.getString(0);
    int userIdx = u.getInt(1);
    boolean[] skip = top.skip();
    if (!u.isNullAt(3)) {
      List<Integer> excluded = u.getList(3);
      for (int idx : excluded) {
        int p = model.position(idx);
        if (p >= 0 && !taken[p]) {
          take(p);
          int row = model.factorRowOf(p);
          if (row >= 0) {
            skip[row] = true;
          }
        }
      }
    }
    int[] chosen = new int[n];
    double[] scores = new double[n];
    String[] sources = new String[n];
    String[] because = new String[n];
    // New items by content go in first as taken (so ALS skips them), and into the last slots after ALS.
    int[] picks = contentPicks(u);
    for (int i = 0; i < picks.length; i++) {
      take(picks[i]);
      int row = model.factorRowOf(picks[i]);
      if (row >= 0) {
        skip[row] = true;
      }
    }
    int count = 0;
    int limit = n - picks.length;
    boolean degenerate = slot == UNUSABLE_FACTORS;
    if (slot >= 0 && limit > 0) {
      int found = top.top(slot, limit, topRows, topScores);
      if (top.lastScoresAllEqual()) {
        degenerate = true;
        found = 0;
      }
      for (int i = 0; i < found; i++) {
        int p = model.positionOfFactorRow(topRows[i]);
        chosen[count] = p;
        scores[count] = topScores[i];
        sources[count] = ALS;
        count++;
        take(p);
      }
    }
    if (degenerate && degenerateAls != null) {
      degenerateAls.add(1);
    }
    String segment = u.isNullAt(5) ? null : u.getString(5);
    ScoringModel.Ranking segmentRanking = model.segment(segment);
    if (segmentRanking != null) {
      count = fill(segmentRanking, SEGMENT_POPULAR, chosen, scores, sources, count, limit);
    }
    count = fill(model.popular(), POPULAR, chosen, scores, sources, count, limit);
    // Content rows always take the last slots, whatever filled the others.
    for (int pick : picks) {
      chosen[count] = pick;
      scores[count] = contentBest[pick];
      sources[count] = CONTENT;
      because[count] = model.itemId(contentBecause[pick]);
      count++;
    }
    clearContent();

    int[] historyRows = explain ? historyRows(u) : new int[0];
    for (int i = 0; i < count; i++) {
      int p = chosen[i];
      out.add(RowFactory.create(userId, userIdx, i + 1, model.itemIdx(p), model.itemId(p), scores[i], sources[i],
          sources[i].equals(CONTENT) ? because[i] : because(p, historyRows)));
    }
    for (int i = 0; i < touchedCount; i++) {
      int p = touched[i];
      taken[p] = false;
      int row = model.factorRowOf(p);
      if (row >= 0) {
        skip[row] = false;
      }
    }
    touchedCount = 0;
  }

  /**
   * Up to {@code maxSlots} new items for the user, each scored by its best content cosine with an
   * item of the user's history (at least {@code minSimilarity}), excluded items skipped; best
   * first, ties to the lower position. The explaining history item is the first (lowest idx) with
   * that best cosine. Empty when the user has no history or content adds nothing.
   */
  private int[] contentPicks(Row u) {
    ScoringModel.NewItems items = model.newItems();
    if (items.maxSlots() == 0 || u.isNullAt(4)) {
      return new int[0];
    }
    int touched = 0;
    for (int idx : u.<Integer>getList(4)) {
      int h = model.position(idx);
      if (h < 0 || items.neighbours()[h] == null) {
        continue;
      }
      int[] nb = items.neighbours()[h];
      float[] sc = items.scores()[h];
      for (int j = 0; j < nb.length && sc[j] >= items.minSimilarity(); j++) {
        int q = nb[j];
        if (taken[q]) {
          continue;
        }
        if (contentBest[q] == 0f) {
          if (touched == contentTouched.length) {
            contentTouched = Arrays.copyOf(contentTouched, touched * 2);
          }
          contentTouched[touched++] = q;
        }
        if (sc[j] > contentBest[q]) {
          contentBest[q] = sc[j];
          contentBecause[q] = h;
        }
      }
    }
    int k = Math.min(Math.min(items.maxSlots(), n), touched);
    Integer[] order = new Integer[touched];
    for (int i = 0; i < touched; i++) {
      order[i] = contentTouched[i];
    }
    Arrays.sort(order, (a, b) -> contentBest[a] != contentBest[b] ? Float.compare(contentBest[b], contentBest[a])
        : Integer.compare(a, b));
    int[] picks = new int[k];
    for (int i = 0; i < k; i++) {
      picks[i] = order[i];
    }
    // Items not picked are cleared now; picked ones after their rows are written (clearContent).
    for (int i = k; i < touched; i++) {
      contentBest[order[i]] = 0f;
    }
    for (int i = 0; i < k; i++) {
      contentTouched[i] = picks[i];
    }
    contentPicked = k;
    return picks;
  }

  private int contentPicked;

  private void clearContent() {
    for (int i = 0; i < contentPicked; i++) {
      contentBest[contentTouched[i]] = 0f;
    }
    contentPicked = 0;
  }

  /** Appends untaken items of a ranking until {@code limit} rows are chosen. */
  private int fill(ScoringModel.Ranking ranking, String source, int[] chosen, double[] scores, String[] sources,
      int count, int limit) {
    int[] positions = ranking.positions();
    for (int i = 0; i < positions.length && count < limit; i++) {
      int p = positions[i];
      if (!taken[p]) {
        chosen[count] = p;
        scores[count] = ranking.scores()[i];
        sources[count] = source;
        count++;
        take(p);
      }
    }
    return count;
  }

  private void take(int p) {
    taken[p] = true;
    if (touchedCount == touched.length) {
      touched = Arrays.copyOf(touched, touched.length * 2);
    }
    touched[touchedCount++] = p;
  }

  /** Factor rows of the user's history items that have factors, in ascending item idx order. */
  private int[] historyRows(Row u) {
    if (u.isNullAt(4)) {
      return new int[0];
    }
    List<Integer> history = u.getList(4);
    int[] rows = new int[history.size()];
    int k = 0;
    for (int idx : history) {
      int p = model.position(idx);
      int row = p >= 0 ? model.factorRowOf(p) : -1;
      if (row >= 0) {
        rows[k++] = row;
      }
    }
    int[] sorted = Arrays.copyOf(rows, k);
    Arrays.sort(sorted);
    return sorted;
  }

  /**
   * The history item most similar to the recommended item by factor cosine, other than the item
   * itself; ties go to the lower item idx. Null when the item or the history has no factors, and
   * when no history item has a positive cosine with it: a cosine of 0 (a zero vector, which
   * decayed items get, or an orthogonal one) or below supports nothing, and taking the lowest idx
   * among such items would invent the explanation.
   */
  private String because(int position, int[] historyRows) {
    int row = model.factorRowOf(position);
    if (row < 0) {
      return null;
    }
    int best = -1;
    double bestCos = 0.0;
    for (int h : historyRows) {
      if (h == row) {
        continue;
      }
      double c = model.cosine(row, h);
      if (c > bestCos) {
        bestCos = c;
        best = h;
      }
    }
    return best < 0 ? null : model.itemId(model.positionOfFactorRow(best));
  }
}
