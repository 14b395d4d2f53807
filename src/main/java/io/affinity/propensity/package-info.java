/**
 * Stage {@code propensity}: calibrated probability of a purchase within the next horizon (or of a
 * response, in table mode), trained on features as of an earlier cutoff so that no future event
 * leaks into training, and the spend to expect. {@link io.affinity.propensity.PropensityStage}
 * only orchestrates; one class per concern:
 *
 * <ul>
 *   <li>{@link io.affinity.propensity.TrainingData}: labelled users (time split or label column),
 *       the seeded user split, the label window's spend;
 *   <li>{@link io.affinity.propensity.ModelFeatures}: columns to the feature vector, as fitted stages;
 *   <li>{@link io.affinity.propensity.PropensityTrainer}: the logistic regression grid and the
 *       calibration, giving a {@link io.affinity.propensity.PropensityModel};
 *   <li>{@link io.affinity.propensity.SpendTrainer}: E[spend | buy] on the training buyers, giving a
 *       {@link io.affinity.propensity.SpendModel};
 *   <li>{@link io.affinity.propensity.Metrics}, {@link io.affinity.propensity.Deciles},
 *       {@link io.affinity.propensity.SpendEvaluation} and
 *       {@link io.affinity.propensity.AttributeBaseline}: what the test users say, against the
 *       simple baselines.
 * </ul>
 */
package io.affinity.propensity;
