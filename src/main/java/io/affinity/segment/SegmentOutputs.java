package io.affinity.segment;

import io.affinity.io.Datasets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.feature.SQLTransformer;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The pieces of the written outputs that are not profiles: the pipeline's last stage (cluster
 * index to segment id and label), the per-user distance, the {@code segment_centroids} rows and
 * the saved model.
 */
final class SegmentOutputs {
  private SegmentOutputs() {}

  static final StructType CENTROIDS_SCHEMA = new StructType()
      .add("segment_id", DataTypes.IntegerType, false)
      .add("feature", DataTypes.StringType, false)
      .add("feature_index", DataTypes.IntegerType, false)
      .add("log_transformed", DataTypes.BooleanType, false)
      .add("centroid", DataTypes.DoubleType, false)
      .add("centroid_model", DataTypes.DoubleType, false)
      .add("centroid_z", DataTypes.DoubleType, false)
      .add("scaler_mean", DataTypes.DoubleType, false)
      .add("scaler_std", DataTypes.DoubleType, false)
      .add("id_high_water", DataTypes.IntegerType, false);

  /** The last pipeline stage: cluster index -> stable segment id and label. */
  static SQLTransformer assignment(int[] ids, Map<Integer, String> labels) {
    String cluster = KMeansFitter.CLUSTER;
    StringBuilder id = new StringBuilder("CAST(CASE `" + cluster + "`");
    StringBuilder label = new StringBuilder("CASE `" + cluster + "`");
    for (int c = 0; c < ids.length; c++) {
      id.append(" WHEN ").append(c).append(" THEN ").append(ids[c]);
      label.append(" WHEN ").append(c).append(" THEN ").append(literal(labels.get(ids[c])));
    }
    id.append(" END AS INT) AS segment_id");
    label.append(" END AS segment_label");
    return new SQLTransformer().setStatement("SELECT *, " + id + ", " + label + " FROM __THIS__");
  }

  static String literal(String s) {
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
  }

  /** Euclidean distance of a user's standardized features to its cluster's centroid. */
  static UserDefinedFunction distance(double[][] centersZ) {
    UDF2<Vector, Integer, Double> f = (v, c) -> Math.sqrt(Vectors.sqdist(v, Vectors.dense(centersZ[c])));
    return functions.udf(f, DataTypes.DoubleType);
  }

  /** {@code segment_centroids}: per segment and feature, every space plus the scaler, sorted. */
  static List<Row> centroidRows(FeaturePreparation prep, List<String> features, List<String> logFeatures, int[] ids,
      double[][] centersZ, double[] mean, double[] std, int highWater) {
    List<Row> rows = new ArrayList<>();
    for (int c = 0; c < ids.length; c++) {
      double[] real = prep.realCentroid(centersZ[c], mean, std);
      for (int f = 0; f < features.size(); f++) {
        String name = features.get(f);
        rows.add(RowFactory.create(ids[c], name, f, logFeatures.contains(name), real[f],
            centersZ[c][f] * std[f] + mean[f], centersZ[c][f], mean[f], std[f], highWater));
      }
    }
    rows.sort((a, b) -> a.getInt(0) != b.getInt(0) ? Integer.compare(a.getInt(0), b.getInt(0)) : Integer.compare(a.getInt(2), b.getInt(2)));
    return rows;
  }

  /**
   * The fitted pipeline under {@code models/segment/run_date=D}, published like a dataset: saved
   * aside, marked with {@code _SUCCESS}, then renamed into place.
   */
  static void saveModel(Datasets ds, PipelineModel model) {
    ds.publish(SegmentStage.MODEL, dir -> model.write().save(dir.toString()));
  }
}
