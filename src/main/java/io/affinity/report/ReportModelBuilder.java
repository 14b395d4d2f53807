package io.affinity.report;

import io.affinity.report.ReportModel.Badge;
import io.affinity.report.ReportModel.Cell;
import io.affinity.report.ReportModel.Chart;
import io.affinity.report.ReportModel.Column;
import io.affinity.report.ReportModel.DataQuality;
import io.affinity.report.ReportModel.Fact;
import io.affinity.report.ReportModel.GateRow;
import io.affinity.report.ReportModel.Gates;
import io.affinity.report.ReportModel.ModelGate;
import io.affinity.report.ReportModel.ProfileRow;
import io.affinity.report.ReportModel.ProfileTable;
import io.affinity.report.ReportModel.Propensity;
import io.affinity.report.ReportModel.PropensityMetric;
import io.affinity.report.ReportModel.ReasonRow;
import io.affinity.report.ReportModel.ReasonTable;
import io.affinity.report.ReportModel.RecommendMetric;
import io.affinity.report.ReportModel.Recommendations;
import io.affinity.report.ReportModel.RowCount;
import io.affinity.report.ReportModel.AuditRow;
import io.affinity.report.ReportModel.KCandidate;
import io.affinity.report.ReportModel.SegmentAudit;
import io.affinity.report.ReportModel.Segments;
import io.affinity.report.ReportModel.SourceRow;
import io.affinity.report.ReportModel.Stability;
import io.affinity.report.ReportModel.StageAlert;
import io.affinity.report.ReportModel.StageRow;
import io.affinity.report.ReportModel.Timings;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads a run's manifest (and the small {@code segment_profiles} table) into a {@link ReportModel}:
 * what each section shows, with numbers formatted for people and chart options as data. No Spark,
 * no HTML. A section is built only when its part of the manifest is there, so a stage that did not
 * run leaves no empty section behind.
 */
final class ReportModelBuilder {
  /** Status colors (also used by the stage timing bars). */
  private static final Map<String, String> STATUS_COLOR = Map.of(
      "succeeded", "#2e7d32", "failed", "#c62828", "running", "#ef6c00", "skipped", "#607d8b");

  private final Map<String, Object> manifest;
  private final List<Map<String, Object>> profiles;
  /** Every chart made so far, in page order (sections are built in page order). */
  private final List<Chart> charts = new ArrayList<>();

  private ReportModelBuilder(Map<String, Object> manifest, List<Map<String, Object>> profiles) {
    this.manifest = manifest;
    this.profiles = profiles;
  }

  /**
   * The model of the whole page.
   *
   * @param manifest the parsed {@code manifest.json}
   * @param profiles rows of {@code segment_profiles} for the run date (column to value), or empty
   * @param generatedAt when the report is written (shown in the footer)
   */
  static ReportModel build(Map<String, Object> manifest, List<Map<String, Object>> profiles, String generatedAt) {
    ReportModelBuilder b = new ReportModelBuilder(manifest, profiles);
    Map<String, Object> stages = b.stages();
    // Page order: the charts list follows the order in which the sections make their charts.
    Gates gates = b.gates();
    DataQuality dataQuality = b.dataQuality();
    Segments segments = b.segments();
    Recommendations recommendations = b.recommendations();
    Propensity propensity = b.propensity();
    ReportModel.Campaign campaign = b.campaign();
    ReportModel.Fairness fairness = b.fairness();
    Timings timings = b.timings();
    return new ReportModel(str(manifest.get("run_date")), badge(overallStatus(stages)), alerts(stages),
        b.facts(stages), stageRows(stages), gates, dataQuality, segments, recommendations, propensity, campaign, fairness,
        timings, generatedAt, List.copyOf(b.charts));
  }

  // ---------------------------------------------------------------- header

  private static List<StageAlert> alerts(Map<String, Object> stages) {
    List<StageAlert> alerts = new ArrayList<>();
    for (Map.Entry<String, Object> e : stages.entrySet()) {
      Map<String, Object> st = map(e.getValue());
      if ("failed".equals(st.get("status"))) {
        alerts.add(new StageAlert(e.getKey(), str(st.get("error")), true, false, null, null));
      } else if ("running".equals(st.get("status"))) {
        alerts.add(new StageAlert(e.getKey(), null, false, true, null, null));
      } else if ("recommend".equals(e.getKey())) {
        String warning = recommendWarning(st);
        if (warning != null) {
          alerts.add(new StageAlert(e.getKey(), null, false, false, warning, null));
        }
      } else if ("skipped".equals(st.get("status")) && st.get("skipped") != null) {
        alerts.add(new StageAlert(e.getKey(), null, false, false, null, str(st.get("skipped"))));
      }
    }
    return alerts;
  }

  /**
   * Recommend's warning beside its status: ALS below the stronger popularity baseline (lift below 1),
   * or a validation too small to decide, each naming the published policy; null when neither.
   */
  static String recommendWarning(Map<String, Object> rec) {
    Map<String, Object> published = map(rec.get("published_policy"));
    String policy = published.isEmpty() ? "ALS" : "family " + published.get("family") + ", content slots "
        + published.get("content_slots") + ", time decay " + published.get("half_life");
    List<String> parts = new ArrayList<>();
    Object lift = map(rec.get("lift")).get("ndcg_at_" + rec.get("k"));
    if (lift instanceof Number l && l.doubleValue() < 1) {
      parts.add(String.format(Locale.ROOT, "ALS's NDCG is %.2f of the stronger popularity baseline's (lift below 1)",
          l.doubleValue()));
    }
    if (Boolean.FALSE.equals(map(rec.get("split")).get("decidable"))) {
      parts.add("the validation evaluated " + map(rec.get("split")).get("eval_users") + " users, fewer than"
          + " validation-min-users: too few to decide, so the simplest policies were taken");
    }
    return parts.isEmpty() ? null : String.join("; ", parts) + ". Published: " + policy + ".";
  }

  private List<Fact> facts(Map<String, Object> stages) {
    double total = 0;
    for (Object st : stages.values()) {
      total += num(map(st).get("seconds"), 0);
    }
    List<Fact> facts = new ArrayList<>();
    fact(facts, "Run date", manifest.get("run_date"));
    fact(facts, "Stages", String.join(", ", stages.keySet()));
    fact(facts, "Total stage time", String.format(Locale.ROOT, "%.1f s", total));
    fact(facts, "Affinity version", manifest.get("affinity_version"));
    fact(facts, "Spark version", manifest.get("spark_version"));
    fact(facts, "Java version", manifest.get("java_version"));
    fact(facts, "Config digest", manifest.get("config_digest"));
    return facts;
  }

  private static List<StageRow> stageRows(Map<String, Object> stages) {
    List<StageRow> rows = new ArrayList<>();
    for (Map.Entry<String, Object> e : stages.entrySet()) {
      Map<String, Object> st = map(e.getValue());
      rows.add(new StageRow(e.getKey(), badge(String.valueOf(st.get("status"))), str(st.get("started_at")),
          seconds(st.get("seconds"))));
    }
    return rows;
  }

  // ---------------------------------------------------------------- sections

  /** Quality gates as other stages record them: {@code gates: [{metric, current, previous, passed, reason}]}. */
  private Gates gates() {
    List<GateRow> rows = new ArrayList<>();
    for (Map.Entry<String, Object> e : stages().entrySet()) {
      for (Object g : list(map(e.getValue()).get("gates"))) {
        Map<String, Object> m = map(g);
        rows.add(new GateRow(e.getKey(), str(m.get("metric")), fmt(m.get("current")), fmt(m.get("previous")),
            Boolean.TRUE.equals(m.get("passed")) || "true".equals(m.get("passed")), str(m.get("reason"))));
      }
    }
    return rows.isEmpty() ? null : new Gates(rows);
  }

  private DataQuality dataQuality() {
    Map<String, Object> sources = map(stage("ingest").get("sources"));
    if (sources.isEmpty()) {
      return null;
    }
    List<String> names = new ArrayList<>(sources.keySet());
    List<SourceRow> rows = new ArrayList<>();
    Set<String> reasons = new LinkedHashSet<>();
    for (String s : names) {
      Map<String, Object> c = map(sources.get(s));
      reasons.addAll(map(c.get("quarantined_by_reason")).keySet());
      rows.add(new SourceRow(s, fmt(c.get("read")), fmt(c.get("clean")), fmt(c.get("quarantined")),
          pct(c.get("quarantined_share"), 3), fmt(c.get("duplicates")), fmt(c.get("duplicates_redelivered")),
          fmt(c.get("after_run_date")), fmt(map(c.get("outliers")).get("capped"))));
    }
    Chart rowsChart = rowsChart(sources, names);
    if (reasons.isEmpty()) {
      return new DataQuality(rows, null, rowsChart, null);
    }
    List<String> reasonList = new ArrayList<>(reasons);
    List<ReasonRow> reasonRows = new ArrayList<>();
    for (String reason : reasonList) {
      List<String> counts = new ArrayList<>();
      for (String s : names) {
        counts.add(fmt(map(map(sources.get(s)).get("quarantined_by_reason")).get(reason)));
      }
      reasonRows.add(new ReasonRow(reason, counts));
    }
    List<Object> series = new ArrayList<>();
    for (String s : names) {
      Map<String, Object> byReason = map(map(sources.get(s)).get("quarantined_by_reason"));
      if (byReason.isEmpty()) {
        continue;
      }
      List<Object> data = new ArrayList<>();
      for (String reason : reasonList) {
        data.add(num(byReason.get(reason), 0));
      }
      series.add(obj("name", s, "type", "bar", "stack", "reasons", "data", data));
    }
    Chart quarantine = chart("quarantine", "Quarantined rows per reason code", obj(
        "tooltip", obj("trigger", "axis"), "legend", obj("top", 0), "grid", grid(),
        "xAxis", obj("type", "category", "data", reasonList, "axisLabel", obj("interval", 0, "rotate", 30)),
        "yAxis", obj("type", "value", "name", "rows", "minInterval", 1),
        "series", series));
    return new DataQuality(rows, new ReasonTable(names, reasonRows), rowsChart, quarantine);
  }

  /** Rows read, clean, quarantined and duplicated per source, on a log axis (they differ by 1000s). */
  private Chart rowsChart(Map<String, Object> sources, List<String> names) {
    List<Object> rowSeries = new ArrayList<>();
    for (String measure : List.of("read", "clean", "quarantined", "duplicates")) {
      List<Object> data = new ArrayList<>();
      for (String s : names) {
        double v = num(map(sources.get(s)).get(measure), 0);
        data.add(v > 0 ? v : null); // a log axis cannot draw 0
      }
      rowSeries.add(obj("name", measure, "type", "bar", "data", data));
    }
    return chart("rows", "Rows per source (log scale; zero is not drawn)", obj(
        "tooltip", obj("trigger", "axis"), "legend", obj("top", 0), "grid", grid(),
        "xAxis", obj("type", "category", "data", names),
        "yAxis", obj("type", "log", "name", "rows", "logBase", 10),
        "series", rowSeries));
  }

  private Segments segments() {
    Map<String, Object> seg = stage("segment");
    List<Object> sizes = list(seg.get("segments"));
    List<Object> candidates = list(map(seg.get("selection")).get("candidates"));
    if (sizes.isEmpty() && profiles.isEmpty() && candidates.isEmpty()) {
      return null;
    }
    Chart sizesChart = null;
    List<Object> pie = new ArrayList<>();
    for (Object o : sizes) {
      Map<String, Object> m = map(o);
      pie.add(obj("name", m.get("label") + " (" + m.get("segment_id") + ")", "value", m.get("size")));
    }
    if (!pie.isEmpty()) {
      sizesChart = chart("segment-sizes", "Users per segment", obj(
          "tooltip", obj("trigger", "item"),
          "series", List.of(obj("type", "pie", "radius", List.of("28%", "55%"), "data", pie,
              "label", obj("formatter", "{b}\n{c} users ({d}%)", "lineHeight", 16)))));
    }
    Chart silhouetteChart = null;
    if (!candidates.isEmpty()) {
      List<Object> points = new ArrayList<>();
      for (Object o : candidates) {
        Map<String, Object> c = map(o);
        points.add(List.of(num(c.get("k"), 0), num(c.get("silhouette"), 0)));
      }
      Map<String, Object> series = obj("name", "silhouette", "type", "line", "data", points, "symbolSize", 8);
      Object chosen = map(seg.get("selection")).get("chosen_k");
      if (chosen != null) {
        series.put("markLine", obj("symbol", "none", "label", obj("formatter", "chosen k = " + chosen),
            "data", List.of(obj("xAxis", chosen))));
      }
      silhouetteChart = chart("silhouette", "Silhouette by number of segments k (higher = better separated)", obj(
          "tooltip", obj("trigger", "axis"), "grid", grid(),
          "xAxis", obj("type", "value", "name", "k", "minInterval", 1, "min", "dataMin", "max", "dataMax"),
          "yAxis", obj("type", "value", "name", "silhouette", "scale", true),
          "series", List.of(series)));
    }
    Map<String, Object> stability = map(seg.get("stability"));
    return new Segments(sizesChart, silhouetteChart, profileTable(sizes), stability.isEmpty() ? null
        : new Stability(str(stability.get("status")), stability.get("previous_run_date") == null ? null
            : str(stability.get("previous_run_date"))), segmentAudit(seg));
  }

  /** The label audit and the k candidates of {@code stages.segment}, or null when the manifest has neither. */
  private static SegmentAudit segmentAudit(Map<String, Object> seg) {
    List<AuditRow> claims = new ArrayList<>();
    for (Object o : list(seg.get("segments"))) {
      Map<String, Object> s = map(o);
      Map<String, Object> audit = map(s.get("audit"));
      String id = str(s.get("segment_id"));
      String published = str(audit.get("published_label"));
      String proposed = str(audit.get("proposed_label"));
      List<Object> checks = list(audit.get("claims"));
      if (checks.isEmpty() && !audit.isEmpty()) {
        claims.add(new AuditRow(id, published, proposed, audit.get("reason") == null ? "(no claims: neutral label)"
            : str(audit.get("reason")), "", "", "", Boolean.TRUE.equals(audit.get("passed")) ? "pass" : "FAIL"));
      }
      for (Object c : checks) {
        Map<String, Object> m = map(c);
        claims.add(new AuditRow(id, published, proposed, str(m.get("claim")),
            m.get("measured") == null ? "undefined" : fmt(m.get("measured")), fmt(m.get("population")),
            fmt(m.get("bound")), Boolean.TRUE.equals(m.get("passed")) ? "pass" : "FAIL"));
      }
    }
    Map<String, Object> sel = map(seg.get("selection"));
    List<KCandidate> candidates = new ArrayList<>();
    for (Object o : list(sel.get("candidates"))) {
      Map<String, Object> c = map(o);
      candidates.add(new KCandidate(str(c.get("k")), fmt(c.get("silhouette")), pct(c.get("largest_share"), 1),
          Boolean.TRUE.equals(c.get("chosen")) ? "chosen" : str(c.get("lost_because"))));
    }
    if (claims.isEmpty() && candidates.isEmpty()) {
      return null;
    }
    return new SegmentAudit(claims, candidates, sel.get("max_share_note") == null ? null : str(sel.get("max_share_note")));
  }

  /** Readable columns of segment_profiles: header, column, how to show it. */
  private static final String[][] PROFILE_COLUMNS = {
      {"Segment", "segment_id", "text"}, {"Label", "segment_label", "text"}, {"Users", "size", "num"},
      {"Share", "share", "pct"}, {"Buyers", "buyer_share", "pct"}, {"Active", "active_share", "pct"},
      {"Revenue share", "revenue_share", "pct"}, {"Median days since purchase", "median_recency_days", "num"},
      {"Median purchases", "median_frequency", "num"}, {"Median spend", "median_monetary", "num"},
      {"Mean purchases", "mean_frequency", "num"}, {"Mean spend", "mean_monetary", "num"},
      {"First seen", "first_seen_run_date", "text"}};

  private ProfileTable profileTable(List<Object> sizes) {
    List<Map<String, Object>> rows = new ArrayList<>(profiles);
    if (rows.isEmpty()) {
      // No profiles table (the stage failed before writing it): the manifest's sizes still tell a lot.
      for (Object o : sizes) {
        Map<String, Object> m = new LinkedHashMap<>(map(o));
        m.put("segment_label", m.get("label"));
        rows.add(m);
      }
    }
    if (rows.isEmpty()) {
      return null;
    }
    List<String[]> present = new ArrayList<>();
    List<Column> columns = new ArrayList<>();
    for (String[] c : PROFILE_COLUMNS) {
      if (rows.get(0).containsKey(c[1])) {
        present.add(c);
        columns.add(new Column(c[0], !c[2].equals("text")));
      }
    }
    List<ProfileRow> out = new ArrayList<>();
    for (Map<String, Object> r : rows) {
      List<Cell> cells = new ArrayList<>();
      for (String[] c : present) {
        Object v = r.get(c[1]);
        cells.add(switch (c[2]) {
          case "pct" -> new Cell(pct(v, 1), true);
          case "num" -> new Cell(fmt(v), true);
          default -> new Cell(str(v), false);
        });
      }
      out.add(new ProfileRow(cells));
    }
    return new ProfileTable(columns, out);
  }

  private Recommendations recommendations() {
    Map<String, Object> rec = stage("recommend");
    Map<String, Object> baseline = map(rec.get("baseline"));
    if (baseline.isEmpty()) {
      return null;
    }
    String k = str(rec.get("k"));
    List<String> keys = new ArrayList<>();
    List<String> labels = new ArrayList<>();
    for (String m : List.of("ndcg", "precision", "recall", "map")) {
      keys.add(m + "_at_" + k);
      labels.add(m + "@" + k);
    }
    keys.add("catalog_coverage");
    labels.add("coverage");
    List<Object> als = new ArrayList<>();
    List<Object> pop = new ArrayList<>();
    List<RecommendMetric> metrics = new ArrayList<>();
    // Both popularity baselines side by side (recent as configured, all-time); the lift is against
    // the stronger one (`baseline`). Manifests from before the recent baseline have `baseline` only.
    Map<String, Object> baselines = map(rec.get("baselines"));
    Map<String, Object> recent = baselines.isEmpty() ? baseline : map(baselines.get("recent"));
    Map<String, Object> allTime = map(baselines.get("all_time"));
    for (int i = 0; i < keys.size(); i++) {
      Object a = rec.get(keys.get(i));
      Object b = baseline.get(keys.get(i));
      als.add(round(a));
      pop.add(round(b));
      metrics.add(new RecommendMetric(labels.get(i), fmt(a), fmt(recent.get(keys.get(i))),
          fmt(allTime.get(keys.get(i))), fmt(map(rec.get("lift")).get(keys.get(i)))));
    }
    for (String beyond : List.of("distributional_coverage", "novelty", "diversity", "serendipity")) {
      if (rec.containsKey(beyond)) {
        metrics.add(new RecommendMetric(beyond.replace('_', ' '), fmt(rec.get(beyond)), fmt(recent.get(beyond)),
            fmt(allTime.get(beyond)), ""));
      }
    }
    Chart chart = chart("recommend-metrics", "ALS against the popularity baseline on held-out interactions", obj(
        "tooltip", obj("trigger", "axis"), "legend", obj("top", 0), "grid", grid(),
        "xAxis", obj("type", "category", "data", labels, "axisLabel", obj("interval", 0)),
        "yAxis", obj("type", "value", "min", 0),
        "series", List.of(obj("name", "ALS", "type", "bar", "data", als),
            obj("name", "popularity baseline", "type", "bar", "data", pop))));
    Map<String, Object> split = map(rec.get("split"));
    List<Fact> facts = new ArrayList<>();
    fact(facts, "Mode", rec.get("mode"));
    fact(facts, "Chosen parameters", rec.get("params") == null ? null : ReportTemplates.json(rec.get("params")));
    fact(facts, "Users evaluated", split.get("eval_users"));
    fact(facts, "Recommendation rows", map(rec.get("rows")).get("recommendations"));
    if (rec.get("baseline_name") != null) {
      fact(facts, "Lift against", rec.get("baseline_name") + " popularity (the stronger baseline); recent = "
          + rec.get("baseline_recency"));
    }
    Map<String, Object> slots = map(rec.get("content_slots"));
    if (!slots.isEmpty()) {
      fact(facts, "With content slots", labels.get(0) + " " + fmt(slots.get(keys.get(0))) + " (without: "
          + fmt(rec.get(keys.get(0))) + "), " + slots.get("content_rows") + " content rows");
    }
    policyFacts(facts, rec, labels.get(0));
    Map<String, Object> byMethod = map(map(rec.get("rows")).get("similar_items_by_method"));
    if (!byMethod.isEmpty()) {
      fact(facts, "Similar items by method", ReportTemplates.json(byMethod));
    }
    return new Recommendations(metrics, chart, facts);
  }

  /**
   * The recommendation policy: what was published, each decision's candidates with their NDCG and
   * interval against the simplest, and a warning when ALS's lift is below 1 or a decision could not
   * be measured, naming what was published instead.
   */
  private static void policyFacts(List<Fact> facts, Map<String, Object> rec, String metric) {
    Map<String, Object> published = map(rec.get("published_policy"));
    if (published.isEmpty()) {
      return;
    }
    fact(facts, "Published policy", "family " + published.get("family") + ", content slots "
        + published.get("content_slots") + ", time decay " + published.get("half_life"));
    Object lift = map(rec.get("lift")).get(metric.replace("@", "_at_"));
    if (lift instanceof Number l && l.doubleValue() < 1) {
      fact(facts, "Warning", "ALS " + metric + " lift " + fmt(lift) + " is below 1: ALS is not published; the published"
          + " family is " + published.get("family"));
    }
    Map<String, Object> policy = map(rec.get("policy"));
    for (String decision : List.of("half_life", "family", "content_min_similarity", "content_slots")) {
      Map<String, Object> d = map(policy.get(decision));
      if (d.isEmpty()) {
        continue;
      }
      StringBuilder text = new StringBuilder();
      text.append(d.get("chosen"));
      if (Boolean.FALSE.equals(d.get("decided"))) {
        text.append(" (warning: ");
      } else {
        text.append(" (");
      }
      text.append(d.get("reason")).append(")");
      for (Object o : list(d.get("candidates"))) {
        Map<String, Object> c = map(o);
        if (c.get("ndcg") instanceof Number) {
          text.append("; ").append(c.get("policy")).append(' ').append(metric).append(' ').append(fmt(c.get("ndcg")))
              .append(" [").append(fmt(c.get("vs_simplest_low"))).append(", ").append(fmt(c.get("vs_simplest_high")))
              .append("]");
        }
      }
      fact(facts, "Policy: " + decision.replace('_', ' '), text.toString());
    }
  }

  /** The response label of table mode and the control groups; null when neither was recorded. */
  private ReportModel.Campaign campaign() {
    Map<String, Object> label = map(stage("propensity").get("label"));
    Map<String, Object> groups = map(stage("publish").get("control_groups"));
    if (label.isEmpty() && groups.isEmpty()) {
      return null;
    }
    List<Fact> facts = new ArrayList<>();
    fact(facts, "Label column", label.get("column"));
    fact(facts, "Positive values", label.get("positive") == null ? null : String.join(", ",
        list(label.get("positive")).stream().map(String::valueOf).toList()));
    fact(facts, "Rows", label.get("rows"));
    fact(facts, "Labelled rows (trained on)", label.get("labelled_rows"));
    fact(facts, "Unlabelled rows (scored only)", label.get("unlabelled_rows"));
    fact(facts, "Excluded inputs (leak the outcome)", label.get("excluded") == null ? null : String.join(", ",
        list(label.get("excluded")).stream().map(String::valueOf).toList()));
    List<ReportModel.GroupRow> rows = new ArrayList<>();
    for (Object o : list(groups.get("segments"))) {
      Map<String, Object> g = map(o);
      rows.add(new ReportModel.GroupRow(g.get("segment_id") == null ? "none" : fmt(g.get("segment_id")),
          fmt(g.get("users")), fmt(g.get("control")), pct(g.get("control_share"), 1)));
    }
    if (!groups.isEmpty()) {
      rows.add(new ReportModel.GroupRow("all", fmt(groups.get("users")), fmt(groups.get("control")),
          pct(groups.get("control_share"), 1)));
    }
    return new ReportModel.Campaign(facts, !label.isEmpty(), rows, !groups.isEmpty(), pct(groups.get("share"), 1));
  }

  /** The fairness section from publish's manifest entry, or null when it has none. */
  private ReportModel.Fairness fairness() {
    Map<String, Object> f = map(stage("publish").get("fairness"));
    if (f.isEmpty()) {
      return null;
    }
    List<ReportModel.FairnessRow> rows = new ArrayList<>();
    for (Object o : list(f.get("groups"))) {
      Map<String, Object> g = map(o);
      rows.add(new ReportModel.FairnessRow(str(g.get("attribute")), str(g.get("group")), fmt(g.get("customers")),
          pct(g.get("selected_share"), 1), interval(g, "selected_ratio"), pct(g.get("observed_rate"), 1),
          pct(g.get("test_mean_probability"), 1), pct(g.get("true_positive_rate"), 1), interval(g, "tpr_ratio"),
          pct(g.get("control_share"), 1), g.get("flag") == null ? "" : str(g.get("flag"))));
    }
    List<String> flags = new ArrayList<>();
    for (Object o : list(f.get("flags"))) {
      flags.add(str(o));
    }
    return new ReportModel.Fairness(str(f.get("target")), str(f.get("model_inputs")), rows, flags);
  }

  /** "0.93 (0.84 .. 1.03)", or "" when no ratio was claimed. */
  private static String interval(Map<String, Object> g, String key) {
    if (g.get(key) == null) {
      return "";
    }
    return fmt(g.get(key)) + " (" + fmt(g.get(key + "_low")) + " .. " + fmt(g.get(key + "_high")) + ")";
  }

  private Propensity propensity() {
    Map<String, Object> p = stage("propensity");
    Map<String, Object> metrics = map(p.get("metrics"));
    if (metrics.isEmpty() || "skipped".equals(p.get("status"))) {
      return null;
    }
    Map<String, Object> cal = map(metrics.get("calibrated"));
    Map<String, Object> uncal = map(metrics.get("uncalibrated"));
    Map<String, Object> base = map(metrics.get("baseline_recency"));
    String baselineName = "Recency baseline";
    if (base.isEmpty() && !map(metrics.get("baseline_attribute")).isEmpty()) {
      base = map(metrics.get("baseline_attribute"));
      baselineName = "Best single attribute (" + str(base.get("attribute")) + ")";
    }
    Map<String, Object> main = cal.isEmpty() ? uncal : cal;
    List<PropensityMetric> rows = new ArrayList<>();
    String[][] names = {{"AUC-ROC", "auc_roc"}, {"AUC-PR", "auc_pr"}, {"Log loss", "log_loss"},
        {"Brier score", "brier"}, {"Expected calibration error", "ece"}};
    for (String[] r : names) {
      rows.add(new PropensityMetric(r[0], fmt(cal.get(r[1])), fmt(uncal.get(r[1])), fmt(base.get(r[1]))));
    }
    Map<String, Object> gate = map(p.get("gate"));
    ModelGate modelGate = gate.isEmpty() ? null : new ModelGate(str(gate.get("metric")), fmt(gate.get("value")),
        fmt(gate.get("min")), Boolean.TRUE.equals(gate.get("passed")));

    List<Object> series = new ArrayList<>();
    series.add(obj("name", "perfect calibration", "type", "line", "data", List.of(List.of(0, 0), List.of(1, 1)),
        "symbol", "none", "lineStyle", obj("type", "dashed", "color", "#888"), "itemStyle", obj("color", "#888")));
    for (String variant : List.of("calibrated", "uncalibrated")) {
      List<Object> points = new ArrayList<>();
      for (Object o : list(map(metrics.get(variant)).get("reliability"))) {
        Map<String, Object> bin = map(o);
        if (num(bin.get("users"), 1) > 0 && bin.get("mean_predicted") != null && bin.get("observed_rate") != null) {
          points.add(List.of(round(bin.get("mean_predicted")), round(bin.get("observed_rate"))));
        }
      }
      if (!points.isEmpty()) {
        series.add(obj("name", variant, "type", "line", "data", points, "symbolSize", 8));
      }
    }
    Chart reliability = null;
    if (series.size() > 1) {
      reliability = chart("reliability",
          "Reliability: observed purchase rate against mean predicted probability, per bin", obj(
          "tooltip", obj("trigger", "item"), "legend", obj("top", 0), "grid", grid(),
          "xAxis", obj("type", "value", "name", "predicted", "min", 0, "max", 1),
          "yAxis", obj("type", "value", "name", "observed", "min", 0, "max", 1),
          "series", series));
    }

    List<Object> deciles = new ArrayList<>();
    List<Object> rates = new ArrayList<>();
    for (Object o : list(main.get("lift"))) {
      Map<String, Object> d = map(o);
      deciles.add(String.valueOf(d.get("decile")));
      rates.add(round(d.get("observed_rate")));
    }
    Chart lift = null;
    if (!deciles.isEmpty()) {
      Map<String, Object> bars = obj("name", "observed purchase rate", "type", "bar", "data", rates);
      if (metrics.get("buyer_rate") != null) {
        bars.put("markLine", obj("symbol", "none", "label", obj("formatter", "base rate {c}", "position", "insideEndTop"),
            "lineStyle", obj("color", "#c62828"), "data", List.of(obj("yAxis", round(metrics.get("buyer_rate"))))));
      }
      lift = chart("lift", "Observed purchase rate by predicted decile (1 = most likely) against the base rate", obj(
          "tooltip", obj("trigger", "axis"), "grid", grid(),
          "xAxis", obj("type", "category", "name", "decile", "data", deciles),
          "yAxis", obj("type", "value", "name", "purchase rate", "min", 0, "max", 1),
          "series", List.of(bars)));
    }
    Map<String, Object> family = map(map(p.get("model_selection")).get("family"));
    List<ReportModel.FamilyRow> families = new ArrayList<>();
    for (Object o : list(family.get("candidates"))) {
      Map<String, Object> c = map(o);
      families.add(new ReportModel.FamilyRow(str(c.get("policy")), fmt(c.get("log_loss")), fmt(c.get("auc_roc")),
          fmt(c.get("auc_pr")), fmt(c.get("vs_simplest_low")), fmt(c.get("vs_simplest_high")),
          c.get("policy") != null && c.get("policy").equals(family.get("chosen"))));
    }
    Map<String, Object> against = map(metrics.get("against_baseline"));
    return new Propensity(fmt(metrics.get("users")), str(metrics.get("evaluated_on")), pct(metrics.get("buyer_rate"), 1),
        rows, baselineName, modelGate, reliability, lift, spend(map(p.get("expected_spend"))), families,
        family.isEmpty() ? null : str(family.get("reason")), against.isEmpty() ? null : str(against.get("reason")));
  }

  /** The expected-spend part of the propensity section (null when the manifest has none). */
  private static ReportModel.Spend spend(Map<String, Object> s) {
    if (s.isEmpty()) {
      return null;
    }
    Map<String, Object> metrics = map(s.get("metrics"));
    List<Fact> facts = new ArrayList<>();
    if (s.get("target") != null) {
      facts.add(new Fact("Target", str(s.get("target"))));
    }
    if (s.get("model") != null) {
      facts.add(new Fact("Model", str(s.get("model"))));
    }
    Map<String, Object> buyers = map(s.get("buyers"));
    if (!buyers.isEmpty()) {
      facts.add(new Fact("Buyers (train / validation)", fmt(buyers.get("train")) + " / " + fmt(buyers.get("validation"))));
    }
    Map<String, Object> chosen = map(map(s.get("model_selection")).get("chosen"));
    if (!chosen.isEmpty()) {
      facts.add(new Fact("Chosen ridge (validation RMSE of ln spend)", fmt(chosen.get("reg_param")) + " ("
          + fmt(chosen.get("validation_rmse_log")) + "; constant: "
          + fmt(map(s.get("model_selection")).get("validation_rmse_log_constant")) + ")"));
    }
    Map<String, Object> back = map(s.get("back_transform"));
    if (!back.isEmpty()) {
      facts.add(new Fact("Smearing factor", fmt(back.get("smearing_factor"))));
    }
    if (!metrics.isEmpty()) {
      facts.add(new Fact("Test users (spending) / their revenue", fmt(metrics.get("users")) + " ("
          + fmt(metrics.get("spending_users")) + ") / " + fmt(metrics.get("revenue"))));
    }
    Map<String, Object> baselines = map(metrics.get("baselines"));
    Map<String, Object> against = map(metrics.get("against_strongest_baseline"));
    Map<String, Object> model = map(metrics.get("model"));
    List<String> heads = new ArrayList<>();
    for (String b : baselines.keySet()) {
      heads.add(b.replace('_', ' '));
    }
    List<ReportModel.SpendMetric> rows = new ArrayList<>();
    String[][] names = {{"RMSE of spend", "rmse"}, {"MAE of spend", "mae"}, {"Spearman correlation", "spearman"},
        {"Top-decile share of revenue", "top_decile_revenue_share"}};
    if (!model.isEmpty()) {
      for (String[] r : names) {
        List<String> values = new ArrayList<>();
        for (Object b : baselines.values()) {
          values.add(fmt(map(b).get(r[1])));
        }
        rows.add(new ReportModel.SpendMetric(r[0], fmt(model.get(r[1])), values,
            Boolean.TRUE.equals(map(against.get(r[1])).get("model_better"))));
      }
    }
    return new ReportModel.Spend("fitted".equals(s.get("status")), str(s.get("status")), str(s.get("reason")), facts,
        heads, rows);
  }

  private Timings timings() {
    Map<String, Object> stages = stages();
    if (stages.isEmpty()) {
      return null;
    }
    List<String> names = new ArrayList<>(stages.keySet());
    List<Object> data = new ArrayList<>();
    for (String n : names) {
      Map<String, Object> st = map(stages.get(n));
      data.add(obj("value", num(st.get("seconds"), 0), "itemStyle", obj("color", color(str(st.get("status"))))));
    }
    Chart chart = chart("timings", "Seconds per stage (green succeeded, red failed, orange unfinished)", obj(
        "tooltip", obj("trigger", "axis"), "grid", grid(),
        "yAxis", obj("type", "category", "data", names, "inverse", true),
        "xAxis", obj("type", "value", "name", "seconds"),
        "series", List.of(obj("type", "bar", "data", data, "label", obj("show", true, "position", "right")))));
    List<RowCount> counts = new ArrayList<>();
    for (String n : names) {
      Map<String, Object> flat = new LinkedHashMap<>();
      flatten("", map(map(stages.get(n)).get("rows")), flat);
      for (Map.Entry<String, Object> e : flat.entrySet()) {
        counts.add(new RowCount(n, e.getKey(), fmt(e.getValue())));
      }
    }
    return new Timings(chart, counts);
  }

  // ---------------------------------------------------------------- helpers

  /** A chart, remembered for the page's chart script in the order charts are made. */
  private Chart chart(String id, String title, Object option) {
    Chart c = new Chart(id, title, option);
    charts.add(c);
    return c;
  }

  private static void fact(List<Fact> facts, String key, Object value) {
    if (value != null) {
      facts.add(new Fact(key, fmt(value)));
    }
  }

  private static Map<String, Object> grid() {
    return obj("left", 40, "right", 80, "top", 50, "bottom", 40, "containLabel", true);
  }

  private Map<String, Object> stages() {
    return map(manifest.get("stages"));
  }

  private Map<String, Object> stage(String name) {
    return map(stages().get(name));
  }

  private static String overallStatus(Map<String, Object> stages) {
    String overall = stages.isEmpty() ? "no stages" : "succeeded";
    for (Object st : stages.values()) {
      Object s = map(st).get("status");
      if ("failed".equals(s)) {
        return "failed";
      }
      if ("running".equals(s)) {
        overall = "running";
      }
    }
    return overall;
  }

  private static Badge badge(String status) {
    return new Badge(status, color(status));
  }

  private static String color(String status) {
    return STATUS_COLOR.getOrDefault(status, "#607d8b");
  }

  private static void flatten(String prefix, Map<String, Object> m, Map<String, Object> out) {
    for (Map.Entry<String, Object> e : m.entrySet()) {
      String key = prefix.isEmpty() ? e.getKey() : prefix + " / " + e.getKey();
      if (e.getValue() instanceof Map<?, ?>) {
        flatten(key, map(e.getValue()), out);
      } else {
        out.put(key, e.getValue());
      }
    }
  }

  /** An ordered map from alternating keys and values. */
  static Map<String, Object> obj(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    return o instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
  }

  @SuppressWarnings("unchecked")
  private static List<Object> list(Object o) {
    return o instanceof List<?> l ? (List<Object>) l : List.of();
  }

  private static double num(Object o, double otherwise) {
    return o instanceof Number n ? n.doubleValue() : otherwise;
  }

  private static String str(Object o) {
    return o == null ? "" : String.valueOf(o);
  }

  /** A number rounded to 4 decimals for chart data (or null). */
  private static Object round(Object o) {
    return o instanceof Number n ? Math.round(n.doubleValue() * 10000) / 10000.0 : null;
  }

  /**
   * A value for a table cell: integers with thousands separators, other numbers to 4 decimals (2
   * from 100 on), anything else as its text (the template escapes it).
   */
  static String fmt(Object o) {
    if (o == null) {
      return "";
    }
    if (o instanceof Integer || o instanceof Long) {
      return String.format(Locale.ROOT, "%,d", ((Number) o).longValue());
    }
    if (o instanceof Number n) {
      double d = n.doubleValue();
      if (Double.isNaN(d) || Double.isInfinite(d)) {
        return String.valueOf(d);
      }
      if (d == Math.rint(d) && Math.abs(d) < 1e15) {
        return String.format(Locale.ROOT, "%,d", (long) d);
      }
      return Math.abs(d) >= 100 ? String.format(Locale.ROOT, "%,.2f", d) : String.format(Locale.ROOT, "%.4f", d);
    }
    return String.valueOf(o);
  }

  private static String seconds(Object o) {
    return o instanceof Number n ? String.format(Locale.ROOT, "%.1f", n.doubleValue()) : "";
  }

  private static String pct(Object o, int decimals) {
    return o instanceof Number n ? String.format(Locale.ROOT, "%." + decimals + "f%%", n.doubleValue() * 100) : "";
  }
}
