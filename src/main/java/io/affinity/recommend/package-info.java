/**
 * Stage {@code recommend}: ALS collaborative filtering (implicit interactions or explicit ratings)
 * tuned on a time-based validation split against a popularity baseline, blocked top-N ranking with
 * exclusions and fallbacks for every user, item-to-item similarity and per-row explanations.
 * Schemas, metric definitions and operations: docs/RECOMMEND.md.
 */
package io.affinity.recommend;
