/**
 * Stage {@code propensity}: calibrated probability of a purchase within the next horizon, trained
 * on features as of an earlier cutoff so that no future event leaks into training
 * ({@link io.affinity.propensity.PropensityStage}); the saved model is a
 * {@link io.affinity.propensity.PropensityModel}.
 */
package io.affinity.propensity;
