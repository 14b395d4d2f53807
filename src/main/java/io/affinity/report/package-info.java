/**
 * The run report: {@code runs/run_date=D/report.html}, one self-contained page for people (stage
 * status, data quality, segments, recommendation and propensity metrics, timings, gates), built
 * from the manifest and the small {@code segment_profiles} table after every run, also a failed
 * one. Charts are drawn by Apache ECharts, inlined from its webjar so the page opens offline.
 */
package io.affinity.report;
