/**
 * Stage {@code segment}: customer segments from user features with MLlib KMeans (imputation, log
 * transform and standardization in one saved {@code PipelineModel}), k chosen among nearly-as-good
 * silhouettes for actionable segment sizes, profiles in real units, labels from configured RFM
 * claims audited against the whole customer base, and segment ids kept stable from one night to the
 * next by an optimal assignment of today's centroids to the previous run's. Outputs, metrics and
 * config keys are described in docs/SEGMENT.md.
 */
package io.affinity.segment;
