package io.affinity.propensity;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.countDistinct;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;

import io.affinity.config.SettingsException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.feature.Imputer;
import org.apache.spark.ml.feature.OneHotEncoder;
import org.apache.spark.ml.feature.SQLTransformer;
import org.apache.spark.ml.feature.StringIndexer;
import org.apache.spark.ml.feature.StringIndexerModel;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;

/**
 * From {@code features/users} columns to the model's feature vector, as spark.ml stages that are
 * fitted on the training users and saved with the model, so scoring applies exactly the training
 * transformation:
 *
 * <ol>
 *   <li>an {@link SQLTransformer}: counts, money and durations become {@code sign(x) ln(1 + |x|)}
 *       (heavy tails would otherwise let a few champions dominate a linear model); rates and ratings
 *       stay as they are; the recency of a user who never purchased is their tenure (no purchase in
 *       all the time we know them), so "never" is the far end of the scale rather than a hole;
 *   <li>an {@link Imputer} (training mean) for what is still null: the declared invalid-data policy,
 *       e.g. the average rating of a user who rated nothing, a missing age;
 *   <li>for text attributes a {@link StringIndexer} (alphabetical, unseen and missing kept as their
 *       own index) and a {@link OneHotEncoder} that drops that last index, so missing or unseen is
 *       the reference level;
 *   <li>a {@link VectorAssembler} into {@link #VECTOR}.
 * </ol>
 *
 * Columns that carry no information in the training users (all null, or constant) are left out and
 * reported, instead of failing the imputer or producing a meaningless coefficient.
 */
final class ModelFeatures {
  static final String VECTOR = "features_vector";

  private static final String ONE_HOT_NOTE = "one-hot; reference level = missing or unseen";

  /**
   * One numeric model input.
   *
   * @param source the {@code features/users} column
   * @param sql the SQL expression computing it
   * @param transform how it is derived, for the report
   */
  record Numeric(String source, String sql, String transform) {
    String transformed() {
      return "t_" + source;
    }

    String imputed() {
      return "x_" + source;
    }
  }

  private final List<Numeric> numeric;
  private final List<String> categorical;
  private final Map<String, String> dropped;

  private ModelFeatures(List<Numeric> numeric, List<String> categorical, Map<String, String> dropped) {
    this.numeric = numeric;
    this.categorical = categorical;
    this.dropped = dropped;
  }

  /**
   * Chooses the inputs from the settings and the training users.
   *
   * @throws SettingsException when a configured attribute is not a text or number column of the data
   */
  static ModelFeatures plan(PropensitySettings s, Dataset<Row> train) {
    List<Numeric> candidates = new ArrayList<>();
    for (String f : s.features()) {
      candidates.add(behaviour(f));
    }
    List<String> categoricalCandidates = new ArrayList<>();
    for (String f : s.features()) {
      // Table mode without events: the behavioural columns exist but hold the "no event" values;
      // the information check below drops them. A missing column is a bug upstream.
      if (!Arrays.asList(train.columns()).contains(f)) {
        throw new IllegalStateException("features/users lacks the behavioural column " + f);
      }
    }
    for (String a : attributes(s, train)) {
      if (!Arrays.asList(train.columns()).contains(a)) {
        throw new SettingsException("affinity.propensity.attributes", a,
            "is not a column of features/users (columns: " + String.join(", ", train.columns()) + ")");
      }
      DataType t = train.schema().apply(a).dataType();
      if (t.equals(DataTypes.StringType)) {
        categoricalCandidates.add(a);
      } else if (t instanceof NumericType) {
        candidates.add(new Numeric(a, "CAST(`" + a + "` AS DOUBLE)", "as is"));
      } else {
        throw new SettingsException("affinity.propensity.attributes", a,
            "must be a text or number column of features/users, not " + t.simpleString());
      }
    }

    // One pass over the training users: which inputs have no information at all.
    Dataset<Row> t = sql(candidates).transform(train);
    List<Column> aggs = new ArrayList<>();
    for (Numeric n : candidates) {
      aggs.add(count(col(n.transformed())));
      aggs.add(min(col(n.transformed())));
      aggs.add(max(col(n.transformed())));
    }
    for (String c : categoricalCandidates) {
      aggs.add(countDistinct(col(c)));
      aggs.add(count(col(c)));
    }
    aggs.add(count(lit(1)));
    Row stats = t.agg(aggs.get(0), aggs.subList(1, aggs.size()).toArray(new Column[0])).first();
    long users = stats.getLong(aggs.size() - 1);

    Map<String, String> dropped = new LinkedHashMap<>();
    List<Numeric> numeric = new ArrayList<>();
    int i = 0;
    for (Numeric n : candidates) {
      long present = stats.getLong(i);
      if (present == 0) {
        dropped.put(n.source(), "no value in the training users");
      } else if (stats.getDouble(i + 1) == stats.getDouble(i + 2)) {
        // Constant where present, so also after imputing the mean: no information.
        dropped.put(n.source(), "constant in the training users");
      } else {
        numeric.add(n);
      }
      i += 3;
    }
    List<String> categorical = new ArrayList<>();
    for (String c : categoricalCandidates) {
      long levels = stats.getLong(i);
      long present = stats.getLong(i + 1);
      if (levels == 0) {
        dropped.put(c, "no value in the training users");
      } else if (levels == 1 && present == users) {
        dropped.put(c, "constant in the training users");
      } else {
        categorical.add(c);
      }
      i += 2;
    }
    if (numeric.isEmpty() && categorical.isEmpty()) {
      throw new SettingsException("affinity.propensity.features", s.features().toString(),
          "none of these varies in the training users: " + dropped);
    }
    return new ModelFeatures(List.copyOf(numeric), List.copyOf(categorical), dropped);
  }

  /** Columns of the training users that are never attribute inputs, besides the behavioural ones. */
  private static final List<String> NOT_ATTRIBUTES = List.of("user_id", "user_idx", "signup_date",
      TrainingData.LABEL, TrainingData.SPLIT, TrainingData.WEIGHT, TrainingData.SPEND, TrainingData.PREVIOUS_SPEND);

  /**
   * The configured attributes, or for {@link PropensitySettings#ALL_ATTRIBUTES} every attribute
   * column of the training users (not an id, index, behavioural or bookkeeping column) except the
   * label column and {@code exclude}, in table order.
   */
  static List<String> attributes(PropensitySettings s, Dataset<Row> train) {
    if (!s.allAttributes()) {
      return s.attributes();
    }
    List<String> out = new ArrayList<>();
    List<String> columns = Arrays.asList(train.columns());
    for (String c : columns) {
      // <attr>_idx is the index features adds for a text attribute (not cons_price_idx, a number).
      boolean index = c.endsWith("_idx") && columns.contains(c.substring(0, c.length() - 4))
          && train.schema().apply(c.substring(0, c.length() - 4)).dataType().equals(DataTypes.StringType);
      if (!io.affinity.features.UserFeatures.BEHAVIOUR.contains(c) && !NOT_ATTRIBUTES.contains(c) && !index
          && !c.equals(s.label().column()) && !s.exclude().contains(c)) {
        out.add(c);
      }
    }
    return out;
  }

  /** How a behavioural column of {@code features/users} enters the model. */
  private static Numeric behaviour(String f) {
    String x = "CAST(`" + f + "` AS DOUBLE)";
    return switch (f) {
      case "recency_days", "recency_event_days" -> new Numeric(f,
          signedLog("CAST(coalesce(`" + f + "`, `tenure_days`) AS DOUBLE)"), "sign(x) ln(1 + |x|); null (never) = tenure_days");
      case "view_to_purchase_rate", "avg_rating_given" -> new Numeric(f, x, "as is");
      default -> new Numeric(f, signedLog(x), "sign(x) ln(1 + |x|)");
    };
  }

  private static String signedLog(String x) {
    return "signum(" + x + ") * log1p(abs(" + x + "))";
  }

  private static SQLTransformer sql(List<Numeric> inputs) {
    StringBuilder sb = new StringBuilder("SELECT *");
    for (Numeric n : inputs) {
      sb.append(", ").append(n.sql()).append(" AS `").append(n.transformed()).append('`');
    }
    return new SQLTransformer().setStatement(sb.append(" FROM __THIS__").toString());
  }

  /** The unfitted preparation pipeline, ending in {@link #VECTOR}. */
  Pipeline pipeline() {
    List<PipelineStage> stages = new ArrayList<>();
    stages.add(sql(numeric));
    List<String> assembled = new ArrayList<>();
    if (!numeric.isEmpty()) {
      stages.add(new Imputer().setStrategy("mean")
          .setInputCols(numeric.stream().map(Numeric::transformed).toArray(String[]::new))
          .setOutputCols(numeric.stream().map(Numeric::imputed).toArray(String[]::new)));
      numeric.forEach(n -> assembled.add(n.imputed()));
    }
    if (!categorical.isEmpty()) {
      String[] in = categorical.toArray(new String[0]);
      String[] idx = categorical.stream().map(c -> "i_" + c).toArray(String[]::new);
      String[] hot = categorical.stream().map(c -> "h_" + c).toArray(String[]::new);
      stages.add(new StringIndexer().setInputCols(in).setOutputCols(idx)
          .setStringOrderType("alphabetAsc").setHandleInvalid("keep"));
      // dropLast drops the index StringIndexer keeps for missing and unseen values: they become the
      // all-zero reference level, and every real level gets its own, readable coefficient.
      stages.add(new OneHotEncoder().setInputCols(idx).setOutputCols(hot).setDropLast(true).setHandleInvalid("error"));
      assembled.addAll(Arrays.asList(hot));
    }
    // Nulls are gone after the imputer and the indexer: any left would be a bug, so fail loudly.
    stages.add(new VectorAssembler().setInputCols(assembled.toArray(new String[0])).setOutputCol(VECTOR)
        .setHandleInvalid("error"));
    return new Pipeline().setStages(stages.toArray(new PipelineStage[0]));
  }

  /** What the model uses, for the report: one entry per input column. */
  List<Map<String, Object>> describe() {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Numeric n : numeric) {
      out.add(entry(n.source(), null, n.transform()));
    }
    for (String c : categorical) {
      out.add(entry(c, null, ONE_HOT_NOTE));
    }
    return out;
  }

  /** Inputs left out because they carry no information, with the reason. */
  Map<String, String> dropped() {
    return dropped;
  }

  /**
   * One entry per slot of {@link #VECTOR} in order (feature, level for one-hot slots, transform),
   * read from the fitted indexer so one-hot slots are named by their level.
   */
  List<Map<String, Object>> slots(PipelineModel prep) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Numeric n : numeric) {
      out.add(entry(n.source(), null, n.transform()));
    }
    if (!categorical.isEmpty()) {
      StringIndexerModel indexer = null;
      for (Transformer t : prep.stages()) {
        if (t instanceof StringIndexerModel m) {
          indexer = m;
        }
      }
      String[][] labels = indexer.labelsArray();
      for (int c = 0; c < categorical.size(); c++) {
        for (String level : labels[c]) {
          out.add(entry(categorical.get(c), level, ONE_HOT_NOTE));
        }
      }
    }
    return out;
  }

  private static Map<String, Object> entry(String feature, String level, String transform) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("feature", feature);
    if (level != null) {
      m.put("level", level);
    }
    m.put("transform", transform);
    return m;
  }
}
