/**
 * Stage {@code publish}: the last step of the chain. It joins the run date's segments, propensity
 * and recommendations into {@code audience} (one row per user, the table a campaign tool imports)
 * and then marks the run as published (manifest {@code "published": true}, pointer file
 * {@code runs/LATEST}), which makes it the reference for the next runs' model-quality gates.
 */
package io.affinity.publish;
