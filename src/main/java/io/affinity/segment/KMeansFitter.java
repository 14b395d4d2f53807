package io.affinity.segment;

import java.util.Arrays;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.clustering.KMeans;
import org.apache.spark.ml.clustering.KMeansModel;
import org.apache.spark.ml.evaluation.ClusteringEvaluator;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;

/**
 * Fits KMeans for one k on the standardized features: {@code restarts} seeded fresh starts, the
 * lowest cost kept, plus a warm start from the previous run's centroids when k is unchanged (kept
 * unless {@link Hysteresis} finds the fresh fit better beyond the noise); then the silhouette of
 * the kept solution.
 */
final class KMeansFitter {
  static final String CLUSTER = "seg_cluster";

  /**
   * The solution kept for one k.
   *
   * @param model the fitted model (null only in unit tests of the k choice)
   * @param cost within-cluster sum of squared distances (standardized units)
   * @param sizes users per cluster found (its length is the number of clusters found)
   * @param iterations Lloyd iterations of a fresh fit; null for a warm start (MLlib does not expose them)
   * @param restartCosts cost of every seeded fresh start, in seed order (their spread is the noise a
   *     hysteresis margin must exceed)
   * @param warmStart the comparison of the warm-started and the best fresh fit, null when no warm
   *     start was tried
   */
  record Fit(KMeansModel model, double cost, long[] sizes, Integer iterations, double[] restartCosts,
      Hysteresis.WarmStart warmStart) {
    /** Whether the kept solution was started from the previous run's centroids. */
    boolean warm() {
      return warmStart != null && warmStart.keptWarm();
    }

    /** (highest - lowest) / lowest cost of the seeded fresh starts; 0 with one start. */
    double restartCostSpread() {
      double lo = Arrays.stream(restartCosts).min().orElse(0);
      double hi = Arrays.stream(restartCosts).max().orElse(0);
      return lo > 0 ? (hi - lo) / lo : 0.0;
    }
  }

  /** One k tried: the kept solution and its silhouette (NaN with fewer than two non-empty clusters). */
  record Candidate(int k, Fit fit, double silhouette) {
    int clusters() {
      return fit.sizes().length;
    }

    long users() {
      return Arrays.stream(fit.sizes()).sum();
    }

    /** Share of the users in the smallest cluster (0 when KMeans found fewer clusters than k). */
    double smallestShare() {
      long smallest = clusters() < k ? 0L : Arrays.stream(fit.sizes()).min().orElse(0L);
      return users() == 0 ? 0.0 : smallest / (double) users();
    }

    /** Share of the users in the largest cluster. */
    double largestShare() {
      return users() == 0 ? 0.0 : Arrays.stream(fit.sizes()).max().orElse(0L) / (double) users();
    }
  }

  private final SegmentSettings settings;

  KMeansFitter(SegmentSettings settings) {
    this.settings = settings;
  }

  /**
   * Fits k and measures the silhouette of the kept solution. When {@code warmCenters} has k rows
   * (the previous run's k), KMeans is also started from them and {@link Hysteresis} decides which
   * solution is kept.
   */
  Candidate candidate(Dataset<Row> scaled, int k, double[][] warmCenters) {
    Candidate fresh = measured(scaled, k, freshFit(scaled, k));
    if (warmCenters == null || warmCenters.length != k) {
      return fresh;
    }
    describe(scaled, "kmeans k=" + k + " warm start from the previous run");
    Candidate warm = measured(scaled, k, fitFrom(scaled, warmCenters, fresh.fit().restartCosts(), true));
    Hysteresis.WarmStart decision = Hysteresis.warmOrFresh(warm, fresh, settings);
    Candidate kept = decision.keptWarm() ? warm : fresh;
    Fit f = kept.fit();
    return new Candidate(k, new Fit(f.model(), f.cost(), f.sizes(), f.iterations(), f.restartCosts(), decision),
        kept.silhouette());
  }

  /** The silhouette of a fit (NaN with fewer than two non-empty clusters). */
  private static Candidate measured(Dataset<Row> scaled, int k, Fit fit) {
    long nonEmpty = Arrays.stream(fit.sizes()).filter(s -> s > 0).count();
    double silhouette = Double.NaN;
    if (nonEmpty >= 2) {
      describe(scaled, "silhouette k=" + k);
      // Spark's silhouette uses squared Euclidean distance (its default and only linear-time form).
      silhouette = new ClusteringEvaluator().setFeaturesCol(FeaturePreparation.FEATURES).setPredictionCol(CLUSTER)
          .setMetricName("silhouette").setDistanceMeasure("squaredEuclidean").evaluate(fit.model().transform(scaled));
    }
    return new Candidate(k, fit, silhouette);
  }

  /** The lowest-cost of {@code restarts} seeded fresh fits; every start's cost is kept. */
  private Fit freshFit(Dataset<Row> scaled, int k) {
    KMeansModel best = null;
    double[] costs = new double[settings.restarts()];
    for (int r = 0; r < settings.restarts(); r++) {
      describe(scaled, "kmeans k=" + k + " restart " + (r + 1) + "/" + settings.restarts());
      KMeansModel m = new KMeans().setK(k).setSeed(settings.seed() + r).setMaxIter(settings.maxIterations())
          .setTol(settings.tolerance()).setInitMode("k-means||").setDistanceMeasure("euclidean")
          .setFeaturesCol(FeaturePreparation.FEATURES).setPredictionCol(CLUSTER).fit(scaled);
      costs[r] = m.summary().trainingCost();
      if (best == null || costs[r] < best.summary().trainingCost()) {
        best = m;
      }
    }
    return new Fit(best, best.summary().trainingCost(), best.summary().clusterSizes(), best.summary().numIter(),
        costs, null);
  }

  /**
   * The previous run's model as it stands: today's users assigned to the previous centroids
   * (standardized with today's scaler), without any Lloyd iteration. What a night below the
   * stability floor publishes.
   */
  Candidate previousModel(Dataset<Row> scaled, double[][] centers) {
    describe(scaled, "assign to the previous run's centroids");
    return measured(scaled, centers.length, fitFrom(scaled, centers, new double[0], false));
  }

  private static KMeansModel wrap(org.apache.spark.mllib.clustering.KMeansModel fitted, int k) {
    KMeansModel model = new KMeansModel(Identifiable.randomUID("kmeans"), fitted);
    return model.copy(new ParamMap()
        .put(model.k().w(k))
        .put(model.featuresCol().w(FeaturePreparation.FEATURES))
        .put(model.predictionCol().w(CLUSTER)));
  }

  /**
   * KMeans from given initial centres. spark.ml's KMeans cannot take initial centres, the RDD-based
   * MLlib one can ({@code setInitialModel}); its result is wrapped in a spark.ml
   * {@link KMeansModel} through the constructor spark.ml itself uses for that (Scala
   * package-private, public in bytecode, unchanged since Spark 1.6), so the saved pipeline stays a
   * standard {@link PipelineModel}. Same Lloyd iterations, tolerance and distance as the fresh fits.
   */
  private Fit fitFrom(Dataset<Row> scaled, double[][] centers, double[] restartCosts, boolean iterate) {
    JavaRDD<org.apache.spark.mllib.linalg.Vector> points = scaled.select(FeaturePreparation.FEATURES).toJavaRDD()
        .map(r -> org.apache.spark.mllib.linalg.Vectors.fromML((Vector) r.get(0)));
    points.persist(StorageLevel.MEMORY_AND_DISK());
    try {
      org.apache.spark.mllib.linalg.Vector[] init = Arrays.stream(centers)
          .map(org.apache.spark.mllib.linalg.Vectors::dense).toArray(org.apache.spark.mllib.linalg.Vector[]::new);
      org.apache.spark.mllib.clustering.KMeansModel start = new org.apache.spark.mllib.clustering.KMeansModel(init);
      org.apache.spark.mllib.clustering.KMeansModel fitted = !iterate ? start
          : new org.apache.spark.mllib.clustering.KMeans()
              .setK(centers.length).setMaxIterations(settings.maxIterations()).setEpsilon(settings.tolerance())
              .setDistanceMeasure("euclidean").setSeed(settings.seed())
              .setInitialModel(start)
              .run(points.rdd());
      KMeansModel model = wrap(fitted, centers.length);
      long[] sizes = new long[centers.length];
      for (Map.Entry<Integer, Long> e : fitted.predict(points).countByValue().entrySet()) {
        sizes[e.getKey()] = e.getValue();
      }
      double cost = iterate ? fitted.trainingCost() : fitted.computeCost(points.rdd());
      return new Fit(model, cost, sizes, null, restartCosts, null);
    } finally {
      points.unpersist(false);
    }
  }

  private static void describe(Dataset<Row> data, String what) {
    data.sparkSession().sparkContext().setJobDescription("segment: " + what);
  }
}
