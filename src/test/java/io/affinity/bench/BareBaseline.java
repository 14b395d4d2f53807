package io.affinity.bench;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.log1p;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.pow;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.affinity.RunSettings;
import io.affinity.config.ConfigLoader;
import io.affinity.pipeline.SparkSessions;
import io.affinity.propensity.PropensitySettings;
import io.affinity.recommend.RecommendSettings;
import io.affinity.segment.SegmentSettings;
import java.io.File;
import java.io.IOException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.clustering.KMeans;
import org.apache.spark.ml.feature.StandardScaler;
import org.apache.spark.ml.feature.StringIndexer;
import org.apache.spark.ml.feature.StringIndexerModel;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.recommendation.ALS;
import org.apache.spark.ml.recommendation.ALSModel;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

/**
 * The bare baseline of the benchmark (docs/BENCHMARKS.md): the model work of the chain written the
 * way a team would with straightforward MLlib calls, on the same CSVs, with the same parameters read
 * from the same configuration as the Affinity run it is compared with. Each step is timed and the
 * times are written as JSON.
 *
 * <p>Steps: {@code load} (spark.read().csv with an explicit schema, StringIndexer ids, events
 * cached), {@code als_data} (time-decayed implicit strength per user and item, cached), {@code
 * als_fit} (ALS with the recommend params, blocks and checkpointing), {@code topn}
 * (recommendForAllUsers(N), then an anti-join removing excluded items, ids mapped back, Parquet),
 * {@code kmeans} (per-user features from a groupBy, standardized, KMeans with the segment k, Parquet),
 * {@code logreg} (features before the propensity cutoff, label = purchase after it, one
 * LogisticRegression with the first grid point, users scored, Parquet).
 *
 * <pre>
 * BareBaseline --config FILE --out DIR [-Dkey=value ...]
 * </pre>
 * Input paths, run date and parameters come from the config (the Affinity keys); DIR receives the
 * outputs and {@code baseline.json}.
 */
public final class BareBaseline {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final SparkSession spark;
  private final RunSettings s;
  private final String out;
  private final Map<String, Object> seconds = new LinkedHashMap<>();
  /** Untimed warm-up work, reported apart and left out of every comparison. */
  private final Map<String, Object> warmup = new LinkedHashMap<>();

  private BareBaseline(SparkSession spark, RunSettings s, String out) {
    this.spark = spark;
    this.s = s;
    this.out = out;
  }

  public static void main(String[] args) throws IOException {
    String config = null;
    String out = null;
    Map<String, String> overrides = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--config") && i + 1 < args.length) {
        config = args[++i];
      } else if (args[i].equals("--out") && i + 1 < args.length) {
        out = args[++i];
      } else if (args[i].startsWith("-D") && args[i].contains("=")) {
        String kv = args[i].substring(2);
        overrides.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
      } else {
        System.err.println("usage: BareBaseline --config FILE --out DIR [-Dkey=value ...]; bad argument: " + args[i]);
        System.exit(2);
      }
    }
    if (out == null) {
      System.err.println("usage: BareBaseline --config FILE --out DIR [-Dkey=value ...]; --out is required");
      System.exit(2);
    }
    RunSettings settings = RunSettings.from(ConfigLoader.load(config, overrides), null);
    long t0 = System.nanoTime();
    SparkSession spark = SparkSessions.create(settings.spark());
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("session_seconds", since(t0));
    BareBaseline b = new BareBaseline(spark, settings, out);
    Map<String, Object> counts = b.run();
    result.put("seconds", b.seconds);
    result.put("warmup_seconds", b.warmup);
    result.put("counts", counts);
    JSON.writeValue(new File(out, "baseline.json"), result);
    spark.stop();
    System.out.println("baseline: " + b.seconds);
  }

  private Map<String, Object> run() {
    Instant asOf = s.runDate().plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant();
    Map<String, Object> counts = new LinkedHashMap<>();

    // load: the CSVs with an explicit schema, rows with a missing key dropped, ids indexed.
    Dataset<Row>[] loaded = timed("load", () -> {
      StructType schema = new StructType()
          .add("user_id", DataTypes.StringType).add("item_id", DataTypes.StringType)
          .add("event_type", DataTypes.StringType).add("event_time", DataTypes.TimestampType)
          .add("quantity", DataTypes.IntegerType).add("price", DataTypes.DoubleType)
          .add("session_id", DataTypes.StringType);
      Dataset<Row> raw = spark.read().option("header", "true").option("timestampFormat", "yyyy-MM-dd HH:mm:ss")
          .schema(schema).csv(s.events().csv().path())
          .na().drop(new String[] {"user_id", "item_id", "event_type", "event_time"})
          .filter(col("event_time").lt(lit(Timestamp.from(asOf))));
      PipelineModel ids = new Pipeline().setStages(new PipelineStage[] {
          new StringIndexer().setInputCol("user_id").setOutputCol("user_idx"),
          new StringIndexer().setInputCol("item_id").setOutputCol("item_idx")}).fit(raw);
      Dataset<Row> events = ids.transform(raw)
          .withColumn("user_idx", col("user_idx").cast("int")).withColumn("item_idx", col("item_idx").cast("int"))
          .persist(StorageLevel.MEMORY_AND_DISK());
      counts.put("events", events.count());
      // The indexer's labels, position = index: the id mapping back for the recommendations.
      String[] labels = ((StringIndexerModel) ids.stages()[1]).labelsArray()[0];
      java.util.List<Row> rows = new java.util.ArrayList<>(labels.length);
      for (int i = 0; i < labels.length; i++) {
        rows.add(org.apache.spark.sql.RowFactory.create(labels[i], i));
      }
      Dataset<Row> itemLabels = spark.createDataFrame(rows, new StructType()
          .add("item_id", DataTypes.StringType).add("item_idx", DataTypes.IntegerType));
      @SuppressWarnings("unchecked")
      Dataset<Row>[] r = new Dataset[] {events, itemLabels};
      return r;
    });
    Dataset<Row> events = loaded[0];

    // als_data: implicit strength = sum over events of type weight x 0.5^(age days / half-life).
    Dataset<Row> ratings = timed("als_data", () -> {
      Column w = lit(0.0);
      for (Map.Entry<String, Double> e : s.eventTypes().weights().entrySet()) {
        w = when(col("event_type").equalTo(e.getKey()), lit(e.getValue())).otherwise(w);
      }
      Column age = lit(asOf.getEpochSecond()).minus(expr("unix_seconds(event_time)")).divide(86_400.0);
      Dataset<Row> r = events.withColumn("w", w.multiply(pow(lit(0.5), age.divide(s.features().halfLifeDays()))))
          .groupBy("user_idx", "item_idx").agg(sum("w").cast("float").as("rating"))
          .filter(col("rating").gt(0))
          .persist(StorageLevel.MEMORY_AND_DISK());
      counts.put("training_pairs", r.count());
      return r;
    });

    RecommendSettings rs = s.recommend();
    RecommendSettings.AlsParams p = rs.params();
    // The blocks Affinity's final fit uses for these pairs (num-blocks, or auto from the pair count).
    int blocks = rs.blocksFor(((Number) counts.get("training_pairs")).longValue());
    Supplier<ALS> als = () -> new ALS()
        .setUserCol("user_idx").setItemCol("item_idx").setRatingCol("rating")
        .setImplicitPrefs(rs.implicit()).setAlpha(p.alpha()).setRank(p.rank()).setRegParam(p.regParam())
        .setMaxIter(p.maxIter()).setSeed(rs.seed()).setNumUserBlocks(blocks).setNumItemBlocks(blocks)
        .setCheckpointInterval(rs.checkpointInterval());
    // Untimed warm-up: Affinity's final fit is the second ALS fit of its JVM (its validation fit
    // comes first), so without this the comparison would time JIT compilation on one side only.
    timed(warmup, "als_fit", () -> als.get().setMaxIter(Math.min(2, p.maxIter())).fit(ratings));
    ALSModel model = timed("als_fit", () -> als.get().fit(ratings));

    // topn: recommendForAllUsers, then the excluded (e.g. bought) items removed by an anti-join.
    timed("topn", () -> {
      Dataset<Row> excluded = events.filter(col("event_type").isin(rs.excludeEventTypes().toArray()))
          .select("user_idx", "item_idx").distinct();
      Dataset<Row> recs = model.recommendForAllUsers(rs.topN())
          .select(col("user_idx"), explode(col("recommendations")).as("r"))
          .select(col("user_idx"), col("r.item_idx").as("item_idx"), col("r.rating").as("score"))
          .join(excluded, new String[] {"user_idx", "item_idx"}, "left_anti")
          .join(loaded[1], "item_idx")
          .join(events.select("user_id", "user_idx").distinct(), "user_idx")
          .select("user_id", "item_id", "score");
      recs.write().mode(SaveMode.Overwrite).parquet(out + "/recommendations");
      return null;
    });
    ratings.unpersist();

    // kmeans: RFM-style features per user, log of the skewed ones, standardized, one KMeans fit.
    SegmentSettings seg = s.segment();
    int k = seg.kFixed() > 0 ? seg.kFixed() : seg.kMin();
    timed("kmeans", () -> {
      Dataset<Row> f = userFeatures(events, asOf, s.eventTypes().purchase());
      PipelineModel m = new Pipeline().setStages(new PipelineStage[] {
          new VectorAssembler().setInputCols(new String[] {"recency_days", "recency_event_days", "frequency",
              "monetary", "events", "tenure_days"}).setOutputCol("raw"),
          new StandardScaler().setInputCol("raw").setOutputCol("features").setWithMean(true).setWithStd(true),
          new KMeans().setK(k).setMaxIter(seg.maxIterations()).setTol(seg.tolerance()).setSeed(seg.seed())}).fit(f);
      m.transform(f).select("user_id", "prediction").write().mode(SaveMode.Overwrite).parquet(out + "/segments");
      return null;
    });

    // logreg: features as of the cutoff, label = a purchase in [cutoff, as-of), one fit, every user scored.
    PropensitySettings ps = s.propensity();
    timed("logreg", () -> {
      Instant cutoff = asOf.minusSeconds(86_400L * ps.horizonDays());
      Dataset<Row> before = events.filter(col("event_time").lt(lit(Timestamp.from(cutoff))));
      Dataset<Row> buyers = events.filter(col("event_time").geq(lit(Timestamp.from(cutoff)))
              .and(col("event_type").equalTo(s.eventTypes().purchase())))
          .select("user_id").distinct().withColumn("label", lit(1.0));
      Dataset<Row> train = userFeatures(before, cutoff, s.eventTypes().purchase())
          .join(buyers, new String[] {"user_id"}, "left").na().fill(0.0, new String[] {"label"});
      PipelineModel m = new Pipeline().setStages(new PipelineStage[] {
          new VectorAssembler().setInputCols(new String[] {"recency_days", "recency_event_days", "frequency",
              "monetary", "events", "tenure_days"}).setOutputCol("raw"),
          new StandardScaler().setInputCol("raw").setOutputCol("features").setWithMean(true).setWithStd(true),
          new LogisticRegression().setRegParam(ps.regParams().get(0)).setElasticNetParam(ps.elasticNetParams().get(0))
              .setMaxIter(ps.maxIter())}).fit(train);
      m.transform(userFeatures(events, asOf, s.eventTypes().purchase())).select("user_id", "probability")
          .write().mode(SaveMode.Overwrite).parquet(out + "/propensity");
      return null;
    });
    events.unpersist();
    return counts;
  }

  /** Per-user recency, frequency, spend, activity and tenure from a groupBy, logs of the skewed ones. */
  private static Dataset<Row> userFeatures(Dataset<Row> events, Instant asOf, String purchase) {
    Column isPurchase = col("event_type").equalTo(purchase);
    Column now = lit(asOf.getEpochSecond());
    Dataset<Row> f = events.groupBy("user_id").agg(
        max(when(isPurchase, col("event_time"))).as("last_purchase"),
        max("event_time").as("last_event"),
        min("event_time").as("first_event"),
        sum(when(isPurchase, 1).otherwise(0)).as("frequency"),
        sum(when(isPurchase, coalesce(col("quantity"), lit(1)).multiply(coalesce(col("price"), lit(0.0))))
            .otherwise(0.0)).as("monetary"),
        count(lit(1)).as("events"));
    Column days = lit(86_400.0);
    return f.select(col("user_id"),
        coalesce(now.minus(expr("unix_seconds(last_purchase)")).divide(days), lit(9999.0)).as("recency_days"),
        now.minus(expr("unix_seconds(last_event)")).divide(days).as("recency_event_days"),
        log1p(col("frequency")).as("frequency"),
        log1p(col("monetary")).as("monetary"),
        log1p(col("events")).as("events"),
        log1p(now.minus(expr("unix_seconds(first_event)")).divide(days)).as("tenure_days"));
  }

  private <T> T timed(String step, Supplier<T> body) {
    return timed(seconds, step, body);
  }

  /** Runs {@code body} under its own job group and records its seconds in {@code into}. */
  private <T> T timed(Map<String, Object> into, String step, Supplier<T> body) {
    String group = (into == warmup ? "baseline warmup " : "baseline ") + step;
    spark.sparkContext().setJobGroup(group, "bare " + group, false);
    long t0 = System.nanoTime();
    T r = body.get();
    into.put(step, since(t0));
    spark.sparkContext().clearJobGroup();
    return r;
  }

  private static double since(long t0) {
    return Math.round((System.nanoTime() - t0) / 1e7) / 100.0;
  }
}
