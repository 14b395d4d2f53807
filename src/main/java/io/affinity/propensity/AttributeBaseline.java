package io.affinity.propensity;

import static io.affinity.propensity.TrainingData.LABEL;
import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;

/**
 * The simple baseline of table mode, where there is no "recency" to rank by: the best single
 * attribute, as an analyst would first try. A text attribute scores a user by the response rate of
 * their level among the training users (smoothed towards the overall rate with {@link #PRIOR_USERS}
 * pseudo-users, so a level seen twice does not score 0 or 1; missing and unseen levels get the
 * overall rate); a number scores by its value, in the direction that ranks the training users
 * better (missing = the training mean). The attribute with the highest training AUC-ROC is chosen,
 * so the test users judge it as they judge the model: never seen while choosing.
 */
final class AttributeBaseline {
  /** Pseudo-users at the overall rate added to every level's count. */
  static final double PRIOR_USERS = 10;
  private static final String SCORE = "_attribute_score";

  private AttributeBaseline() {}

  /**
   * @param train training users with the attribute columns and {@link TrainingData#LABEL}
   * @param test test users, same columns
   * @param attributes attribute columns the model uses (text or number)
   * @return score, attribute, train_auc_roc, auc_roc, auc_pr, attributes_tried; or a "not computed"
   *     text when there are no attributes
   */
  static Object best(Dataset<Row> train, Dataset<Row> test, List<String> attributes) {
    if (attributes.isEmpty()) {
      return "not computed: the model uses no attribute columns";
    }
    double prior = train.agg(avg(col(LABEL))).first().getDouble(0);
    String best = null;
    double bestAuc = -1;
    double direction = 1;
    for (String a : attributes) {
      double auc = Metrics.auc(score(train, train, a, prior, 1), SCORE, "areaUnderROC");
      if (Math.max(auc, 1 - auc) > bestAuc) {
        bestAuc = Math.max(auc, 1 - auc);
        best = a;
        direction = auc >= 0.5 ? 1 : -1; // a text level's rate always ranks upwards
      }
    }
    Dataset<Row> scored = score(train, test, best, prior, direction).cache();
    try {
      boolean text = train.schema().apply(best).dataType().equals(DataTypes.StringType);
      double[] auc = Metrics.aucs(scored, SCORE);
      return Metrics.ordered(
          "score", text ? "training response rate of the user's " + best + " level (smoothed)"
              : (direction > 0 ? "" : "minus ") + best,
          "attribute", best,
          "train_auc_roc", Metrics.round(bestAuc),
          "auc_roc", Metrics.round(auc[0]),
          "auc_pr", Metrics.round(auc[1]),
          "attributes_tried", attributes.size());
    } finally {
      scored.unpersist();
    }
  }

  /** {@code users} with {@link #SCORE} from attribute {@code a}, fitted on {@code train}. */
  private static Dataset<Row> score(Dataset<Row> train, Dataset<Row> users, String a, double prior, double direction) {
    if (train.schema().apply(a).dataType().equals(DataTypes.StringType)) {
      Column level = coalesce(col(a), lit("\u0000missing"));
      Dataset<Row> rates = train.groupBy(level.as("_level"))
          .agg(sum(col(LABEL)).plus(PRIOR_USERS * prior).divide(count(lit(1)).plus(PRIOR_USERS)).as("_rate"));
      return users.select(col(LABEL), level.as("_level"))
          .join(rates, new String[] {"_level"}, "left")
          .select(col(LABEL), coalesce(col("_rate"), lit(prior)).as(SCORE));
    }
    Row mean = train.agg(avg(col(a).cast("double"))).first();
    double fill = mean.isNullAt(0) ? 0 : mean.getDouble(0);
    return users.select(col(LABEL), coalesce(col(a).cast("double"), lit(fill)).multiply(direction).as(SCORE));
  }

  /** The text and number attributes of {@code users} among {@code columns}, in order. */
  static List<String> usable(Dataset<Row> users, List<String> columns) {
    List<String> out = new ArrayList<>();
    for (String c : columns) {
      if (List.of(users.columns()).contains(c)) {
        org.apache.spark.sql.types.DataType t = users.schema().apply(c).dataType();
        if (t.equals(DataTypes.StringType) || t instanceof org.apache.spark.sql.types.NumericType) {
          out.add(c);
        }
      }
    }
    return out;
  }
}
