/**
 * Stage {@code ingest}: config-mapped CSV parsing with explicit schemas, quarantine with reason
 * codes, outliers, deduplication, row accounting, the data-quality gate and stable id maps.
 */
package io.affinity.ingest;
