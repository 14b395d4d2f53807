package io.affinity.segment;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.nanvl;
import static org.apache.spark.sql.functions.percentile_approx;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import io.affinity.config.SettingsException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.feature.SQLTransformer;
import org.apache.spark.ml.feature.StandardScaler;
import org.apache.spark.ml.feature.StandardScalerModel;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The model's input side: checks the schema of {@code features/users}, decides the imputation of
 * every feature (the declared invalid-data policy), and fits the first three pipeline stages
 * (imputation and log transform as SQL, assembler, standard scaler). No user is dropped.
 */
final class FeaturePreparation {
  /** Columns of the pipeline's intermediate results; prefixed so they never clash with features. */
  static final String INPUT_PREFIX = "seg_in_";
  static final String VECTOR = "seg_vector";
  static final String FEATURES = "seg_features";

  /** percentile_approx accuracy: rank error at most 1/10,000 of the users. */
  static final int MEDIAN_ACCURACY = 10_000;

  /** The imputation decided for one column: rule, value and how many rows it filled. */
  record Imputation(String column, String rule, double value, long nulls) {}

  /**
   * The fitted input stages.
   *
   * @param prepare imputation and log transform (SQL, carries today's fill values)
   * @param assembler features into one vector
   * @param scaler the fitted standardization
   * @param imputations one per feature, in feature order
   */
  record Prepared(SQLTransformer prepare, VectorAssembler assembler, StandardScalerModel scaler,
      List<Imputation> imputations) {
    double[] mean() {
      return scaler.mean().toArray();
    }

    double[] std() {
      return scaler.std().toArray();
    }

    /** Users with the standardized feature vector in {@link #FEATURES}. */
    Dataset<Row> transform(Dataset<Row> users) {
      return scaler.transform(assembler.transform(prepare.transform(users)));
    }

    /**
     * The same imputation with another scaler: the previous run's, so that a night that keeps the
     * previous model measures distances with the previous yardstick and assigns every user as the
     * previous model would (today's scaler moves when the population changes, and with it the
     * boundaries between segments). Built through the constructor spark.ml itself uses (Scala
     * package-private, public in bytecode), so the saved pipeline stays standard.
     */
    Prepared withScaler(double[] mean, double[] std) {
      StandardScalerModel m = new StandardScalerModel(Identifiable.randomUID("stdScal"), Vectors.dense(std),
          Vectors.dense(mean));
      m = m.copy(new ParamMap().put(m.withMean().w(true)).put(m.withStd().w(true))
          .put(m.inputCol().w(VECTOR)).put(m.outputCol().w(FEATURES)));
      return new Prepared(prepare, assembler, m, imputations);
    }
  }

  private final SegmentSettings settings;

  FeaturePreparation(SegmentSettings settings) {
    this.settings = settings;
  }

  /** Fails before any data moves when a configured or required column is missing or not numeric. */
  void checkSchema(StructType schema, List<String> required) {
    List<String> numeric = new ArrayList<>();
    for (StructField f : schema.fields()) {
      if (f.dataType() instanceof NumericType) {
        numeric.add(f.name());
      }
    }
    for (String f : settings.features()) {
      if (!numeric.contains(f)) {
        throw new SettingsException("affinity.segment.features", f, "is not a numeric column of " + SegmentStage.USERS
            + (Arrays.asList(schema.fieldNames()).contains(f) ? " (its type is " + schema.apply(f).dataType().simpleString() + ")" : "")
            + "; numeric columns are " + numeric);
      }
    }
    for (String c : required) {
      if (!numeric.contains(c)) {
        throw new IllegalStateException(SegmentStage.USERS + " lacks the numeric column " + c + " that segment profiles need");
      }
    }
    if (!Arrays.asList(schema.fieldNames()).contains("user_id")) {
      throw new IllegalStateException(SegmentStage.USERS + " lacks the column user_id");
    }
  }

  /** Decides the imputations on today's users and fits the scaler on the imputed features. */
  Prepared fit(Dataset<Row> users) {
    List<Imputation> imputations = imputations(users);
    SQLTransformer prepare = prepare(imputations);
    VectorAssembler assembler = new VectorAssembler()
        .setInputCols(settings.features().stream().map(f -> INPUT_PREFIX + f).toArray(String[]::new))
        .setOutputCol(VECTOR)
        // Nulls and NaNs were imputed by `prepare`; anything left is a bug upstream and must fail.
        .setHandleInvalid("error");
    users.sparkSession().sparkContext().setJobDescription("segment: standardize features");
    StandardScalerModel scaler = new StandardScaler().setInputCol(VECTOR).setOutputCol(FEATURES)
        .setWithMean(true).setWithStd(true).fit(assembler.transform(prepare.transform(users)));
    return new Prepared(prepare, assembler, scaler, imputations);
  }

  /** A column's observed values as double, with NaN treated as missing like null. */
  private static Column observed(String column) {
    Column d = col(column).cast(DataTypes.DoubleType);
    return nanvl(d, lit(null).cast(DataTypes.DoubleType));
  }

  /** One aggregation over the users: the fill value and null count of every feature. */
  List<Imputation> imputations(Dataset<Row> users) {
    users.sparkSession().sparkContext().setJobDescription("segment: imputation values");
    List<Column> aggs = new ArrayList<>();
    for (String f : settings.features()) {
      String rule = settings.imputation(f);
      Column value = switch (rule) {
        case "max-plus-one" -> max(observed(f)).plus(1.0);
        case "zero" -> lit(0.0);
        default -> percentile_approx(observed(f), lit(0.5), lit(MEDIAN_ACCURACY));
      };
      aggs.add(value.cast(DataTypes.DoubleType));
      aggs.add(sum(when(observed(f).isNull(), 1L).otherwise(0L)));
    }
    Row r = users.agg(aggs.get(0), aggs.subList(1, aggs.size()).toArray(new Column[0])).first();
    List<Imputation> out = new ArrayList<>();
    for (int i = 0; i < settings.features().size(); i++) {
      String f = settings.features().get(i);
      // A column with no observed value at all is constant after imputation: 0 is as good as any.
      double v = r.isNullAt(2 * i) ? 0.0 : r.getDouble(2 * i);
      out.add(new Imputation(f, settings.imputation(f), v, r.isNullAt(2 * i + 1) ? 0L : r.getLong(2 * i + 1)));
    }
    return out;
  }

  /**
   * The first pipeline stage: imputation and log transform as SQL, so the saved model carries the
   * fill values and is self-contained. Negative values of a log feature (net refunds) count as 0.
   */
  SQLTransformer prepare(List<Imputation> imputations) {
    StringBuilder sql = new StringBuilder("SELECT *");
    for (Imputation imp : imputations) {
      String f = imp.column();
      String x = "coalesce(nanvl(CAST(`" + f + "` AS DOUBLE), CAST(NULL AS DOUBLE)), " + literal(imp.value()) + ")";
      if (settings.logFeatures().contains(f)) {
        x = "log1p(greatest(" + x + ", 0.0D))";
      }
      sql.append(", CAST(").append(x).append(" AS DOUBLE) AS `").append(INPUT_PREFIX).append(f).append('`');
    }
    return new SQLTransformer().setStatement(sql.append(" FROM __THIS__").toString());
  }

  /** Centroid in the features' own units: un-standardized, then the log transform inverted. */
  double[] realCentroid(double[] z, double[] mean, double[] std) {
    double[] x = new double[z.length];
    for (int f = 0; f < z.length; f++) {
      double model = z[f] * std[f] + mean[f];
      x[f] = settings.logFeatures().contains(settings.features().get(f)) ? Math.expm1(model) : model;
    }
    return x;
  }

  /** The manifest's {@code features}: rule, value and filled rows per feature. */
  List<Map<String, Object>> report(List<Imputation> imputations) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Imputation imp : imputations) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("feature", imp.column());
      m.put("log_transformed", settings.logFeatures().contains(imp.column()));
      m.put("missing_rule", imp.rule());
      m.put("imputed_value", SegmentStage.round(imp.value()));
      m.put("imputed_rows", imp.nulls());
      out.add(m);
    }
    return out;
  }

  static String literal(double v) {
    return BigDecimal.valueOf(v).toPlainString() + "D";
  }
}
