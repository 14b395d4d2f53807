package io.affinity.report;

import java.util.List;

/**
 * What the run report shows, as typed data: built from the manifest by {@link ReportModelBuilder},
 * drawn by the templates in {@code src/main/resources/report/} through {@link ReportTemplates}.
 *
 * <p>Every text here is plain text (numbers already formatted for people, nothing escaped): the
 * template engine escapes it. A section that is {@code null} is left out of the page, as is a
 * chart that is {@code null}. Field names are what the templates say ({@code {{runDate}}}), so a
 * rename here is a rename there; avoid names of methods of {@code List} or {@code String}
 * ({@code size}, {@code empty}, {@code length}), which Mustache would find first on a list or text.
 *
 * @param runDate the manifest's {@code run_date}
 * @param overall the run's overall status
 * @param alerts a failed or unfinished stage, each shown in a box at the top
 * @param facts the header's key/value table (run date, versions, config digest, ...)
 * @param stages one row per stage in the order they ran
 * @param gates quality gates, or null when no stage recorded any
 * @param dataQuality ingest's counts per source, or null
 * @param segments segment sizes, model selection and profiles, or null
 * @param recommendations ALS against the popularity baseline, or null
 * @param propensity the purchase propensity model's metrics, or null
 * @param campaign the response label of table mode and the audience's control groups, or null
 * @param fairness the fairness report of the audience, or null when not configured
 * @param timings seconds and row counts per stage, or null when no stage ran
 * @param generatedAt when the page was written (footer)
 * @param charts every chart of the page in page order: the chart script draws them from this
 */
public record ReportModel(
    String runDate,
    Badge overall,
    List<StageAlert> alerts,
    List<Fact> facts,
    List<StageRow> stages,
    Gates gates,
    DataQuality dataQuality,
    Segments segments,
    Recommendations recommendations,
    Propensity propensity,
    Campaign campaign,
    Fairness fairness,
    Timings timings,
    String generatedAt,
    List<Chart> charts) {

  /**
   * The fairness report: one row per attribute group, the flags and what the ratios are of.
   *
   * @param flags "look at this" lines, empty when none
   */
  public record Fairness(String target, String modelInputs, List<FairnessRow> rows, List<String> flags) {}

  /** One attribute group of the fairness report (formatted). */
  public record FairnessRow(String attribute, String group, String customers, String selectedShare,
      String selectedRatio, String observedRate, String testMeanProbability, String truePositiveRate, String tprRatio,
      String controlShare, String flag) {}

  /** A status as a colored label ({@code color} is a CSS color from a fixed list, never from data). */
  public record Badge(String text, String color) {}

  /** A key/value row; rows whose value is unknown are not made. */
  public record Fact(String key, String value) {}

  /**
   * A stage that failed ({@code failed}, with its error), still says running ({@code running}), or
   * succeeded with a claim the reader must not miss ({@code warning}: e.g. a model below its
   * baseline, and what was published instead).
   */
  public record StageAlert(String stage, String error, boolean failed, boolean running, String warning,
      String skipped) {}

  /** One stage in the header's table. */
  public record StageRow(String name, Badge status, String startedAt, String seconds) {}

  /**
   * A chart: a container with a title in the page; {@code option} is the ECharts option (maps,
   * lists, numbers and texts), which goes into the page as JSON, not through a template.
   */
  public record Chart(String id, String title, Object option) {}

  /** Quality gates as stages record them. */
  public record Gates(List<GateRow> rows) {}

  /** One gate: {@code current} and {@code previous} are formatted numbers (or empty). */
  public record GateRow(String stage, String metric, String current, String previous, boolean passed,
      String reason) {}

  /**
   * Ingest's accounting per source.
   *
   * @param reasonTable quarantined rows per reason code and source, or null when none was quarantined
   * @param quarantineChart the same as stacked bars, or null
   */
  public record DataQuality(List<SourceRow> sources, ReasonTable reasonTable, Chart rowsChart,
      Chart quarantineChart) {}

  /**
   * One source's counts, formatted: read = clean + quarantined + duplicates + afterRunDate.
   * {@code redelivered} is the part of the duplicates already clean from an earlier night.
   */
  public record SourceRow(String source, String read, String clean, String quarantined, String quarantinedShare,
      String duplicates, String redelivered, String afterRunDate, String outliersCapped) {}

  /** Reason codes down, sources across. */
  public record ReasonTable(List<String> sources, List<ReasonRow> rows) {}

  /** One reason code's count per source, in the order of {@link ReasonTable#sources}. */
  public record ReasonRow(String reason, List<String> counts) {}

  /** The segment stage: each part null when the manifest does not have it. */
  public record Segments(Chart sizesChart, Chart silhouetteChart, ProfileTable profiles, Stability stability,
      SegmentAudit audit) {}

  /** The label audit (one row per claim of each segment's proposed label) and why each k won or lost. */
  public record SegmentAudit(List<AuditRow> claims, List<KCandidate> candidates, String maxShareNote) {
    public boolean hasClaims() {
      return !claims.isEmpty();
    }

    public boolean hasCandidates() {
      return !candidates.isEmpty();
    }
  }

  /** One claim as measured; {@code verdict} is "pass" or "FAIL"; {@code published} differs from {@code proposed} on a failure. */
  public record AuditRow(String segmentId, String published, String proposed, String claim, String measured,
      String population, String bound, String verdict) {}

  /** One k tried: silhouette, largest segment and the outcome ("chosen" or why it lost). */
  public record KCandidate(String k, String silhouette, String largestShare, String outcome) {}

  /** The segment profile table: only the columns the rows have. */
  public record ProfileTable(List<Column> columns, List<ProfileRow> rows) {}

  /** A column heading; numeric columns are right-aligned. */
  public record Column(String title, boolean numeric) {}

  /** One segment's cells, in the order of {@link ProfileTable#columns}. */
  public record ProfileRow(List<Cell> cells) {}

  /** A table cell. */
  public record Cell(String text, boolean numeric) {}

  /** How the segments compare with the previous run's ({@code previousRunDate} may be null). */
  public record Stability(String status, String previousRunDate) {}

  /** ALS against the popularity baseline. */
  public record Recommendations(List<RecommendMetric> metrics, Chart chart, List<Fact> facts) {}

  /** One ranking metric: ALS, baseline and lift, formatted. */
  public record RecommendMetric(String metric, String als, String recent, String allTime, String lift) {}

  /**
   * The purchase propensity model on its evaluation users.
   *
   * @param users how many users it was evaluated on
   * @param evaluatedOn which users (the manifest's words)
   * @param buyerRate the base purchase rate, as a percentage
   * @param gate the model gate, or null when none ran
   */
  public record Propensity(String users, String evaluatedOn, String buyerRate, List<PropensityMetric> metrics,
      String baselineName, ModelGate gate, Chart reliabilityChart, Chart liftChart, Spend spend,
      List<FamilyRow> families, String familyReason, String againstBaseline) {}

  /**
   * One candidate model family on the validation users.
   *
   * @param chosen whether it was published
   */
  public record FamilyRow(String name, String logLoss, String aucRoc, String aucPr, String gainLow, String gainHigh,
      boolean chosen) {}

  /**
   * The expected-spend model: fitted (with test metrics beside the simple baselines) or why not.
   *
   * @param fitted whether there is a model; else {@code reason} says why
   * @param facts what it was fitted on, chosen ridge, smearing, test users and revenue
   * @param baselines the baseline column heads, in the order of {@link SpendMetric#baselines}
   */
  public record Spend(boolean fitted, String status, String reason, List<Fact> facts, List<String> baselines,
      List<SpendMetric> metrics) {}

  /** One spend metric: the model, each baseline, and whether the model beats the strongest. */
  public record SpendMetric(String metric, String model, List<String> baselines, boolean better) {}

  /** One metric for the calibrated and uncalibrated model and the recency baseline, formatted. */
  public record PropensityMetric(String metric, String calibrated, String uncalibrated, String baseline) {}

  /** A model gate: metric, measured value, minimum, outcome. */
  public record ModelGate(String metric, String value, String min, boolean passed) {}

  /**
   * Campaign readiness: where the response label comes from (table mode; empty otherwise) and the
   * control groups of the audience per segment.
   */
  public record Campaign(List<Fact> label, boolean labelled, List<GroupRow> groups, boolean grouped,
      String controlShare) {}

  /** One segment's control group. */
  public record GroupRow(String segment, String users, String control, String controlShare) {}

  /** Seconds per stage (chart) and every row count a stage recorded. */
  public record Timings(Chart chart, List<RowCount> rowCounts) {}

  /** One row count: {@code output} is the manifest's path under {@code rows}, joined with " / ". */
  public record RowCount(String stage, String output, String rows) {}
}
