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
 * lowest cost kept, plus a warm start from the previous run's centroids when k is unchanged; then
 * the silhouette of the kept solution.
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
   * @param warm whether it was started from the previous run's centroids
   * @param freshCost cost of the best fresh start when a warm start was tried, else null
   */
  record Fit(KMeansModel model, double cost, long[] sizes, Integer iterations, boolean warm, Double freshCost) {}

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

  /** Fits k and measures the silhouette of the kept solution. */
  Candidate candidate(Dataset<Row> scaled, int k, double[][] warmCenters) {
    Fit fit = fit(scaled, k, warmCenters);
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

  /**
   * The lowest-cost of {@code restarts} seeded fits, or the warm-started fit when k equals the
   * previous run's and its cost is within {@code warm-start.max-cost-increase} of that.
   */
  Fit fit(Dataset<Row> scaled, int k, double[][] warmCenters) {
    KMeansModel best = null;
    for (int r = 0; r < settings.restarts(); r++) {
      describe(scaled, "kmeans k=" + k + " restart " + (r + 1) + "/" + settings.restarts());
      KMeansModel m = new KMeans().setK(k).setSeed(settings.seed() + r).setMaxIter(settings.maxIterations())
          .setTol(settings.tolerance()).setInitMode("k-means||").setDistanceMeasure("euclidean")
          .setFeaturesCol(FeaturePreparation.FEATURES).setPredictionCol(CLUSTER).fit(scaled);
      if (best == null || m.summary().trainingCost() < best.summary().trainingCost()) {
        best = m;
      }
    }
    Fit fresh = new Fit(best, best.summary().trainingCost(), best.summary().clusterSizes(), best.summary().numIter(),
        false, null);
    if (warmCenters == null || warmCenters.length != k) {
      return fresh;
    }
    describe(scaled, "kmeans k=" + k + " warm start from the previous run");
    Fit warm = fitFrom(scaled, warmCenters);
    if (warm.cost() <= fresh.cost() * (1 + settings.warmStartTolerance())) {
      return new Fit(warm.model(), warm.cost(), warm.sizes(), null, true, fresh.cost());
    }
    return new Fit(fresh.model(), fresh.cost(), fresh.sizes(), fresh.iterations(), false, fresh.cost());
  }

  /**
   * KMeans from given initial centres. spark.ml's KMeans cannot take initial centres, the RDD-based
   * MLlib one can ({@code setInitialModel}); its result is wrapped in a spark.ml
   * {@link KMeansModel} through the constructor spark.ml itself uses for that (Scala
   * package-private, public in bytecode, unchanged since Spark 1.6), so the saved pipeline stays a
   * standard {@link PipelineModel}. Same Lloyd iterations, tolerance and distance as the fresh fits.
   */
  private Fit fitFrom(Dataset<Row> scaled, double[][] centers) {
    JavaRDD<org.apache.spark.mllib.linalg.Vector> points = scaled.select(FeaturePreparation.FEATURES).toJavaRDD()
        .map(r -> org.apache.spark.mllib.linalg.Vectors.fromML((Vector) r.get(0)));
    points.persist(StorageLevel.MEMORY_AND_DISK());
    try {
      org.apache.spark.mllib.linalg.Vector[] init = Arrays.stream(centers)
          .map(org.apache.spark.mllib.linalg.Vectors::dense).toArray(org.apache.spark.mllib.linalg.Vector[]::new);
      org.apache.spark.mllib.clustering.KMeansModel fitted = new org.apache.spark.mllib.clustering.KMeans()
          .setK(centers.length).setMaxIterations(settings.maxIterations()).setEpsilon(settings.tolerance())
          .setDistanceMeasure("euclidean").setSeed(settings.seed())
          .setInitialModel(new org.apache.spark.mllib.clustering.KMeansModel(init))
          .run(points.rdd());
      KMeansModel model = new KMeansModel(Identifiable.randomUID("kmeans"), fitted);
      model = model.copy(new ParamMap()
          .put(model.k().w(centers.length))
          .put(model.featuresCol().w(FeaturePreparation.FEATURES))
          .put(model.predictionCol().w(CLUSTER)));
      long[] sizes = new long[centers.length];
      for (Map.Entry<Integer, Long> e : fitted.predict(points).countByValue().entrySet()) {
        sizes[e.getKey()] = e.getValue();
      }
      return new Fit(model, fitted.trainingCost(), sizes, null, true, null);
    } finally {
      points.unpersist(false);
    }
  }

  private static void describe(Dataset<Row> data, String what) {
    data.sparkSession().sparkContext().setJobDescription("segment: " + what);
  }
}
