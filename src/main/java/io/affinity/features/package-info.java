/**
 * Stage {@code features}: user, item, interaction and rating features as of the run date.
 * {@link io.affinity.features.UserFeatures} is the one definition of user features as of any
 * instant, shared with stage {@code propensity}, which computes them as of its training cutoff.
 */
package io.affinity.features;
