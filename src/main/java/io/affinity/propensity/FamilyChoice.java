package io.affinity.propensity;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.affinity.pipeline.PairedBootstrap;
import io.affinity.propensity.PropensitySettings.Family;
import io.affinity.propensity.PropensityTrainer.Candidate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;

/**
 * Chooses the published model family from the calibrated probabilities of every candidate on the
 * validation users, by log loss: a proper score, so it rewards a family for probabilities that are
 * right, not only for a better ranking (AUC-PR is not proper, and the audience and the expected
 * value use the probabilities themselves). Each family's calibration was fitted on the same users;
 * with two parameters per family the optimism that leaves is small and alike for all.
 *
 * <p>The rule is {@link PairedBootstrap#choose}'s: the simplest family (logistic regression first)
 * that no other beats beyond the bootstrap interval over the validation users, so a tree model is
 * published only when its gain is larger than the resampling spread of the users.
 */
final class FamilyChoice {
  private FamilyChoice() {}

  /**
   * @param candidates fitted candidates, in the enum's order (simplest first)
   * @param validation validation users: user_id, label and the features the models read
   * @param selection the report section {@code model_selection}: gets {@code family}
   * @return the published family
   */
  static Family choose(Map<Family, Candidate> candidates, Dataset<Row> validation, PropensitySettings.Models models,
      long seed, Map<String, Object> selection) {
    List<Family> families = new ArrayList<>(candidates.keySet());
    if (families.size() == 1) {
      Map<String, Object> only = new LinkedHashMap<>();
      only.put("chosen", families.get(0).label());
      only.put("decided", false);
      only.put("reason", "the only family configured (affinity.propensity.families)");
      selection.put("family", only);
      return families.get(0);
    }
    validation.sparkSession().sparkContext().setJobDescription("propensity: compare families on the validation users");
    Dataset<Row> wide = validation.select(col("user_id"), col(TrainingData.LABEL));
    List<String> names = new ArrayList<>();
    for (Family f : families) {
      names.add(f.label());
      Dataset<Row> scored = candidates.get(f).fitted().transform(validation)
          .select(col("user_id"), Metrics.logLikelihood(col(PropensityModel.PROBABILITY)).as(f.label()),
              col(PropensityModel.PROBABILITY).as(f.label() + "_p"));
      wide = wide.join(scored, "user_id");
    }
    wide = wide.persist(StorageLevel.MEMORY_AND_DISK());
    double[][] means = PairedBootstrap.means(wide, "user_id", names, models.replicates(), seed);
    PairedBootstrap.Decision d = PairedBootstrap.choose("family", "log_likelihood", names, means, models.confidence());
    Map<String, Object> out = d.asReport();
    out.put("metric", "log loss of the calibrated probabilities on the validation users (log_likelihood = minus "
        + "the log loss per user; intervals: " + models.replicates() + " paired Poisson bootstrap resamples)");
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> rows = (List<Map<String, Object>>) out.get("candidates");
    for (int i = 0; i < families.size(); i++) {
      Candidate c = candidates.get(families.get(i));
      double[] auc = Metrics.aucs(wide, families.get(i).label() + "_p");
      Map<String, Object> row = rows.get(i);
      row.put("log_loss", Metrics.round(-means[0][i]));
      row.put("auc_roc", Metrics.round(auc[0]));
      row.put("auc_pr", Metrics.round(auc[1]));
      row.put("fit_seconds", c.seconds());
    }
    wide.unpersist();
    selection.put("family", out);
    return families.get(names.indexOf(d.chosen()));
  }

}
