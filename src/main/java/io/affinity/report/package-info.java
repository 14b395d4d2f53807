/**
 * The run report: {@code runs/run_date=D/report.html}, one self-contained page for people (stage
 * status, data quality, segments, recommendation and propensity metrics, timings, gates), built
 * from the manifest and the small {@code segment_profiles} table after every run, also a failed
 * one. Charts are drawn by Apache ECharts, inlined from its webjar so the page opens offline.
 *
 * <p>Three steps, one class each: {@link io.affinity.report.RunReport} reads and writes,
 * {@link io.affinity.report.ReportModelBuilder} turns the manifest into a typed
 * {@link io.affinity.report.ReportModel}, {@link io.affinity.report.ReportTemplates} draws it with
 * the Mustache templates in {@code src/main/resources/report/} (escaped by default). Adding a
 * section: {@code docs/REPORT.md}.
 */
package io.affinity.report;
