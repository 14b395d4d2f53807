package io.affinity.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Builds the run report page from a run's manifest (and the small {@code segment_profiles} table):
 * pure string building, no Spark, so it is tested fast. Every section is drawn only when its part
 * of the manifest is there; a stage that did not run leaves no empty section behind.
 *
 * <p>Safety: every value from the manifest or a table goes into HTML through {@link #esc} and into
 * the charts' JavaScript as JSON through {@link #scriptJson}, which also escapes {@code <}, {@code >}
 * and {@code &} so no label can close the script element. The page loads nothing from anywhere: the
 * ECharts library is inlined and the fonts are the reader's own.
 */
public final class ReportHtml {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Status colors (also used by the stage timing bars). */
  private static final Map<String, String> STATUS_COLOR = Map.of(
      "succeeded", "#2e7d32", "failed", "#c62828", "running", "#ef6c00");

  private final Map<String, Object> manifest;
  private final List<Map<String, Object>> profiles;
  private final StringBuilder body = new StringBuilder();
  /** Chart container id (without the "chart-" prefix) to its ECharts option, in page order. */
  private final Map<String, Object> charts = new LinkedHashMap<>();

  private ReportHtml(Map<String, Object> manifest, List<Map<String, Object>> profiles) {
    this.manifest = manifest;
    this.profiles = profiles;
  }

  /**
   * The whole page.
   *
   * @param manifest the parsed {@code manifest.json}
   * @param profiles rows of {@code segment_profiles} for the run date (column to value), or empty
   * @param echartsJs the text of {@code echarts.min.js}, inlined
   * @param generatedAt when the report is written (shown in the footer)
   */
  public static String render(Map<String, Object> manifest, List<Map<String, Object>> profiles,
      String echartsJs, String generatedAt) {
    ReportHtml r = new ReportHtml(manifest, profiles);
    r.header();
    r.gates();
    r.dataQuality();
    r.segments();
    r.recommendations();
    r.propensity();
    r.timings();
    return r.page(echartsJs, generatedAt);
  }

  // ---------------------------------------------------------------- sections

  private void header() {
    Map<String, Object> stages = stages();
    String overall = overallStatus(stages);
    body.append("<header><h1>Affinity run report <span class=\"date\">").append(esc(manifest.get("run_date")))
        .append("</span></h1><p><span class=\"badge\" style=\"background:").append(color(overall)).append("\">")
        .append(esc(overall)).append("</span></p>\n");
    for (Map.Entry<String, Object> e : stages.entrySet()) {
      Map<String, Object> st = map(e.getValue());
      if ("failed".equals(st.get("status"))) {
        body.append("<div class=\"alert\" id=\"failure-").append(esc(e.getKey())).append("\"><strong>Stage ")
            .append(esc(e.getKey())).append(" failed:</strong> <span class=\"error\">").append(esc(st.get("error")))
            .append("</span></div>\n");
      } else if ("running".equals(st.get("status"))) {
        body.append("<div class=\"alert warn\"><strong>Stage ").append(esc(e.getKey()))
            .append(" did not finish:</strong> the manifest still says running (the process stopped before it"
                + " could record an outcome, or it is still running).</div>\n");
      }
    }
    double total = 0;
    for (Object st : stages.values()) {
      total += num(map(st).get("seconds"), 0);
    }
    body.append("<table class=\"kv\">");
    kv("Run date", manifest.get("run_date"));
    kv("Stages", String.join(", ", stages.keySet()));
    kv("Total stage time", String.format(Locale.ROOT, "%.1f s", total));
    kv("Affinity version", manifest.get("affinity_version"));
    kv("Spark version", manifest.get("spark_version"));
    kv("Java version", manifest.get("java_version"));
    kv("Config digest", manifest.get("config_digest"));
    body.append("</table>\n");

    body.append("<table><tr><th>Stage</th><th>Status</th><th>Started (UTC)</th><th class=\"n\">Seconds</th></tr>");
    for (Map.Entry<String, Object> e : stages.entrySet()) {
      Map<String, Object> st = map(e.getValue());
      String status = String.valueOf(st.get("status"));
      body.append("<tr><td>").append(esc(e.getKey())).append("</td><td><span class=\"badge\" style=\"background:")
          .append(color(status)).append("\">").append(esc(status)).append("</span></td><td>")
          .append(esc(st.get("started_at"))).append("</td><td class=\"n\">").append(seconds(st.get("seconds")))
          .append("</td></tr>");
    }
    body.append("</table></header>\n");
  }

  /** Quality gates as other stages record them: {@code gates: [{metric, current, previous, passed, reason}]}. */
  private void gates() {
    List<String[]> rows = new ArrayList<>();
    for (Map.Entry<String, Object> e : stages().entrySet()) {
      for (Object g : list(map(e.getValue()).get("gates"))) {
        Map<String, Object> m = map(g);
        rows.add(new String[] {e.getKey(), str(m.get("metric")), fmt(m.get("current")), fmt(m.get("previous")),
            String.valueOf(m.get("passed")), str(m.get("reason"))});
      }
    }
    if (rows.isEmpty()) {
      return;
    }
    section("gates", "Gates");
    body.append("<table><tr><th>Stage</th><th>Metric</th><th class=\"n\">Current</th><th class=\"n\">Previous</th>"
        + "<th>Passed</th><th>Reason</th></tr>");
    for (String[] r : rows) {
      boolean passed = "true".equals(r[4]);
      body.append(passed ? "<tr>" : "<tr class=\"bad\">");
      for (int i = 0; i < r.length; i++) {
        String cell = i == 4 ? (passed ? "passed" : "FAILED") : r[i];
        body.append(i == 2 || i == 3 ? "<td class=\"n\">" : "<td>").append(i == 2 || i == 3 ? cell : esc(cell)).append("</td>");
      }
      body.append("</tr>");
    }
    body.append("</table></section>\n");
  }

  private void dataQuality() {
    Map<String, Object> sources = map(stage("ingest").get("sources"));
    if (sources.isEmpty()) {
      return;
    }
    section("data-quality", "Data quality");
    body.append("<table><tr><th>Source</th><th class=\"n\">Read</th><th class=\"n\">Clean</th>"
        + "<th class=\"n\">Quarantined</th><th class=\"n\">Share quarantined</th><th class=\"n\">Duplicates</th>"
        + "<th class=\"n\">Outliers capped</th></tr>");
    List<String> names = new ArrayList<>(sources.keySet());
    Set<String> reasons = new LinkedHashSet<>();
    for (String s : names) {
      Map<String, Object> c = map(sources.get(s));
      reasons.addAll(map(c.get("quarantined_by_reason")).keySet());
      body.append("<tr><td>").append(esc(s)).append("</td><td class=\"n\">").append(fmt(c.get("read")))
          .append("</td><td class=\"n\">").append(fmt(c.get("clean"))).append("</td><td class=\"n\">")
          .append(fmt(c.get("quarantined"))).append("</td><td class=\"n\">").append(pct(c.get("quarantined_share"), 3))
          .append("</td><td class=\"n\">").append(fmt(c.get("duplicates"))).append("</td><td class=\"n\">")
          .append(fmt(map(c.get("outliers")).get("capped"))).append("</td></tr>");
    }
    body.append("</table>\n");

    if (reasons.isEmpty()) {
      body.append("<p>No rows were quarantined.</p>\n");
      rowsChart(sources, names);
      body.append("</section>\n");
      return;
    }
    List<String> reasonList = new ArrayList<>(reasons);
    List<Object> series = new ArrayList<>();
    body.append("<h3>Quarantined rows per reason code</h3><table><tr><th>Reason</th>");
    for (String s : names) {
      body.append("<th class=\"n\">").append(esc(s)).append("</th>");
    }
    body.append("</tr>");
    for (String reason : reasonList) {
      body.append("<tr><td><code>").append(esc(reason)).append("</code></td>");
      for (String s : names) {
        body.append("<td class=\"n\">").append(fmt(map(map(sources.get(s)).get("quarantined_by_reason")).get(reason)))
            .append("</td>");
      }
      body.append("</tr>");
    }
    body.append("</table>\n");
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
    rowsChart(sources, names);
    chart("quarantine", "Quarantined rows per reason code", obj(
        "tooltip", obj("trigger", "axis"), "legend", obj("top", 0), "grid", grid(),
        "xAxis", obj("type", "category", "data", reasonList, "axisLabel", obj("interval", 0, "rotate", 30)),
        "yAxis", obj("type", "value", "name", "rows", "minInterval", 1),
        "series", series));
    body.append("</section>\n");
  }

  /** Rows read, clean, quarantined and duplicated per source, on a log axis (they differ by 1000s). */
  private void rowsChart(Map<String, Object> sources, List<String> names) {
    List<Object> rowSeries = new ArrayList<>();
    for (String measure : List.of("read", "clean", "quarantined", "duplicates")) {
      List<Object> data = new ArrayList<>();
      for (String s : names) {
        double v = num(map(sources.get(s)).get(measure), 0);
        data.add(v > 0 ? v : null); // a log axis cannot draw 0
      }
      rowSeries.add(obj("name", measure, "type", "bar", "data", data));
    }
    chart("rows", "Rows per source (log scale; zero is not drawn)", obj(
        "tooltip", obj("trigger", "axis"), "legend", obj("top", 0), "grid", grid(),
        "xAxis", obj("type", "category", "data", names),
        "yAxis", obj("type", "log", "name", "rows", "logBase", 10),
        "series", rowSeries));
  }

  private void segments() {
    Map<String, Object> seg = stage("segment");
    List<Object> sizes = list(seg.get("segments"));
    List<Object> candidates = list(map(seg.get("selection")).get("candidates"));
    if (sizes.isEmpty() && profiles.isEmpty() && candidates.isEmpty()) {
      return;
    }
    section("segments", "Segments");
    List<Object> pie = new ArrayList<>();
    for (Object o : sizes) {
      Map<String, Object> m = map(o);
      pie.add(obj("name", m.get("label") + " (" + m.get("segment_id") + ")", "value", m.get("size")));
    }
    if (!pie.isEmpty()) {
      chart("segment-sizes", "Users per segment", obj(
          "tooltip", obj("trigger", "item"),
          "series", List.of(obj("type", "pie", "radius", List.of("28%", "55%"), "data", pie,
              "label", obj("formatter", "{b}\n{c} users ({d}%)", "lineHeight", 16)))));
    }
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
      chart("silhouette", "Silhouette by number of segments k (higher = better separated)", obj(
          "tooltip", obj("trigger", "axis"), "grid", grid(),
          "xAxis", obj("type", "value", "name", "k", "minInterval", 1, "min", "dataMin", "max", "dataMax"),
          "yAxis", obj("type", "value", "name", "silhouette", "scale", true),
          "series", List.of(series)));
    }
    profileTable(sizes);
    Map<String, Object> stability = map(seg.get("stability"));
    if (!stability.isEmpty()) {
      body.append("<p>Compared with the previous run: <strong>").append(esc(stability.get("status")))
          .append("</strong>").append(stability.get("previous_run_date") == null ? ""
              : " (previous run " + esc(stability.get("previous_run_date")) + ")").append(".</p>\n");
    }
    body.append("</section>\n");
  }

  /** Readable columns of segment_profiles: header, column, how to show it. */
  private static final String[][] PROFILE_COLUMNS = {
      {"Segment", "segment_id", "text"}, {"Label", "segment_label", "text"}, {"Users", "size", "num"},
      {"Share", "share", "pct"}, {"Buyers", "buyer_share", "pct"}, {"Active", "active_share", "pct"},
      {"Revenue share", "revenue_share", "pct"}, {"Median days since purchase", "median_recency_days", "num"},
      {"Median purchases", "median_frequency", "num"}, {"Median spend", "median_monetary", "num"},
      {"Mean purchases", "mean_frequency", "num"}, {"Mean spend", "mean_monetary", "num"},
      {"First seen", "first_seen_run_date", "text"}};

  private void profileTable(List<Object> sizes) {
    List<Map<String, Object>> rows = new ArrayList<>(profiles);
    String[][] columns = PROFILE_COLUMNS;
    if (rows.isEmpty()) {
      // No profiles table (the stage failed before writing it): the manifest's sizes still tell a lot.
      for (Object o : sizes) {
        Map<String, Object> m = new LinkedHashMap<>(map(o));
        m.put("segment_label", m.get("label"));
        rows.add(m);
      }
    }
    if (rows.isEmpty()) {
      return;
    }
    body.append("<h3>Segment profiles</h3><table class=\"profiles\"><tr>");
    List<String[]> present = new ArrayList<>();
    for (String[] c : columns) {
      if (rows.get(0).containsKey(c[1])) {
        present.add(c);
        body.append(c[2].equals("text") ? "<th>" : "<th class=\"n\">").append(esc(c[0])).append("</th>");
      }
    }
    body.append("</tr>");
    for (Map<String, Object> r : rows) {
      body.append("<tr>");
      for (String[] c : present) {
        Object v = r.get(c[1]);
        switch (c[2]) {
          case "pct" -> body.append("<td class=\"n\">").append(pct(v, 1)).append("</td>");
          case "num" -> body.append("<td class=\"n\">").append(fmt(v)).append("</td>");
          default -> body.append("<td>").append(esc(v)).append("</td>");
        }
      }
      body.append("</tr>");
    }
    body.append("</table>\n");
  }

  private void recommendations() {
    Map<String, Object> rec = stage("recommend");
    Map<String, Object> baseline = map(rec.get("baseline"));
    if (baseline.isEmpty()) {
      return;
    }
    section("recommendations", "Recommendations");
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
    body.append("<table><tr><th>Metric</th><th class=\"n\">ALS</th><th class=\"n\">Popularity baseline</th>"
        + "<th class=\"n\">Lift</th></tr>");
    for (int i = 0; i < keys.size(); i++) {
      Object a = rec.get(keys.get(i));
      Object b = baseline.get(keys.get(i));
      als.add(round(a));
      pop.add(round(b));
      body.append("<tr><td>").append(esc(labels.get(i))).append("</td><td class=\"n\">").append(fmt(a))
          .append("</td><td class=\"n\">").append(fmt(b)).append("</td><td class=\"n\">")
          .append(fmt(map(rec.get("lift")).get(keys.get(i)))).append("</td></tr>");
    }
    body.append("</table>\n");
    chart("recommend-metrics", "ALS against the popularity baseline on held-out interactions", obj(
        "tooltip", obj("trigger", "axis"), "legend", obj("top", 0), "grid", grid(),
        "xAxis", obj("type", "category", "data", labels, "axisLabel", obj("interval", 0)),
        "yAxis", obj("type", "value", "min", 0),
        "series", List.of(obj("name", "ALS", "type", "bar", "data", als),
            obj("name", "popularity baseline", "type", "bar", "data", pop))));
    Map<String, Object> split = map(rec.get("split"));
    body.append("<table class=\"kv\">");
    kv("Mode", rec.get("mode"));
    kv("Chosen parameters", rec.get("params") == null ? null : json(rec.get("params")));
    kv("Users evaluated", split.get("eval_users"));
    kv("Recommendation rows", map(rec.get("rows")).get("recommendations"));
    body.append("</table></section>\n");
  }

  private void propensity() {
    Map<String, Object> p = stage("propensity");
    Map<String, Object> metrics = map(p.get("metrics"));
    if (metrics.isEmpty()) {
      return;
    }
    section("propensity", "Purchase propensity");
    Map<String, Object> cal = map(metrics.get("calibrated"));
    Map<String, Object> uncal = map(metrics.get("uncalibrated"));
    Map<String, Object> base = map(metrics.get("baseline_recency"));
    Map<String, Object> main = cal.isEmpty() ? uncal : cal;
    body.append("<p>Evaluated on ").append(fmt(metrics.get("users"))).append(" ").append(esc(metrics.get("evaluated_on")))
        .append("; base purchase rate ").append(pct(metrics.get("buyer_rate"), 1)).append(".</p>\n");
    body.append("<table><tr><th>Metric</th><th class=\"n\">Calibrated</th><th class=\"n\">Uncalibrated</th>"
        + "<th class=\"n\">Recency baseline</th></tr>");
    String[][] rows = {{"AUC-ROC", "auc_roc"}, {"AUC-PR", "auc_pr"}, {"Log loss", "log_loss"}, {"Brier score", "brier"},
        {"Expected calibration error", "ece"}};
    for (String[] r : rows) {
      body.append("<tr><td>").append(r[0]).append("</td><td class=\"n\">").append(fmt(cal.get(r[1])))
          .append("</td><td class=\"n\">").append(fmt(uncal.get(r[1]))).append("</td><td class=\"n\">")
          .append(fmt(base.get(r[1]))).append("</td></tr>");
    }
    body.append("</table>\n");
    Map<String, Object> gate = map(p.get("gate"));
    if (!gate.isEmpty()) {
      body.append("<p>Model gate: ").append(esc(gate.get("metric"))).append(" = ").append(fmt(gate.get("value")))
          .append(", minimum ").append(fmt(gate.get("min"))).append(": <strong>")
          .append(Boolean.TRUE.equals(gate.get("passed")) ? "passed" : "FAILED").append("</strong></p>\n");
    }

    List<Object> series = new ArrayList<>();
    series.add(obj("name", "perfect calibration", "type", "line", "data", List.of(List.of(0, 0), List.of(1, 1)),
        "symbol", "none", "lineStyle", obj("type", "dashed", "color", "#888"), "itemStyle", obj("color", "#888")));
    for (String[] variant : new String[][] {{"calibrated", "calibrated"}, {"uncalibrated", "uncalibrated"}}) {
      List<Object> points = new ArrayList<>();
      for (Object o : list(map(metrics.get(variant[0])).get("reliability"))) {
        Map<String, Object> bin = map(o);
        if (num(bin.get("users"), 1) > 0 && bin.get("mean_predicted") != null && bin.get("observed_rate") != null) {
          points.add(List.of(round(bin.get("mean_predicted")), round(bin.get("observed_rate"))));
        }
      }
      if (!points.isEmpty()) {
        series.add(obj("name", variant[1], "type", "line", "data", points, "symbolSize", 8));
      }
    }
    if (series.size() > 1) {
      chart("reliability", "Reliability: observed purchase rate against mean predicted probability, per bin", obj(
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
    if (!deciles.isEmpty()) {
      Map<String, Object> bars = obj("name", "observed purchase rate", "type", "bar", "data", rates);
      if (metrics.get("buyer_rate") != null) {
        bars.put("markLine", obj("symbol", "none", "label", obj("formatter", "base rate {c}", "position", "insideEndTop"),
            "lineStyle", obj("color", "#c62828"), "data", List.of(obj("yAxis", round(metrics.get("buyer_rate"))))));
      }
      chart("lift", "Observed purchase rate by predicted decile (1 = most likely) against the base rate", obj(
          "tooltip", obj("trigger", "axis"), "grid", grid(),
          "xAxis", obj("type", "category", "name", "decile", "data", deciles),
          "yAxis", obj("type", "value", "name", "purchase rate", "min", 0, "max", 1),
          "series", List.of(bars)));
    }
    body.append("</section>\n");
  }

  private void timings() {
    Map<String, Object> stages = stages();
    if (stages.isEmpty()) {
      return;
    }
    section("timings", "Stage timings and row counts");
    List<String> names = new ArrayList<>(stages.keySet());
    List<Object> data = new ArrayList<>();
    for (String n : names) {
      Map<String, Object> st = map(stages.get(n));
      data.add(obj("value", num(st.get("seconds"), 0), "itemStyle", obj("color", color(str(st.get("status"))))));
    }
    chart("timings", "Seconds per stage (green succeeded, red failed, orange unfinished)", obj(
        "tooltip", obj("trigger", "axis"), "grid", grid(),
        "yAxis", obj("type", "category", "data", names, "inverse", true),
        "xAxis", obj("type", "value", "name", "seconds"),
        "series", List.of(obj("type", "bar", "data", data, "label", obj("show", true, "position", "right")))));
    body.append("<table><tr><th>Stage</th><th>Output</th><th class=\"n\">Rows</th></tr>");
    for (String n : names) {
      Map<String, Object> flat = new LinkedHashMap<>();
      flatten("", map(map(stages.get(n)).get("rows")), flat);
      for (Map.Entry<String, Object> e : flat.entrySet()) {
        body.append("<tr><td>").append(esc(n)).append("</td><td>").append(esc(e.getKey())).append("</td><td class=\"n\">")
            .append(fmt(e.getValue())).append("</td></tr>");
      }
    }
    body.append("</table></section>\n");
  }

  // ---------------------------------------------------------------- page

  private String page(String echartsJs, String generatedAt) {
    StringBuilder html = new StringBuilder(echartsJs.length() + body.length() + 8192);
    html.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Affinity run report ")
        .append(esc(manifest.get("run_date"))).append("</title>\n<style>").append(CSS).append("</style></head>\n<body>\n")
        .append(body)
        .append("<footer>Written ").append(esc(generatedAt))
        .append(" from manifest.json. Charts drawn with Apache ECharts (Apache License 2.0), inlined in this file.")
        .append("</footer>\n<script>\n").append(inlineScript(echartsJs)).append("\n</script>\n<script>\n")
        .append("var AFFINITY_CHARTS = ").append(scriptJson(charts)).append(";\n")
        .append("Object.keys(AFFINITY_CHARTS).forEach(function (id) {\n"
            + "  var el = document.getElementById('chart-' + id);\n"
            + "  var option = AFFINITY_CHARTS[id];\n"
            + "  option.animation = false;\n"
            + "  var chart = echarts.init(el, null, {renderer: 'svg'});\n"
            + "  chart.setOption(option);\n"
            + "  window.addEventListener('resize', function () { chart.resize(); });\n"
            + "});\n</script>\n</body></html>\n");
    return html.toString();
  }

  private static final String CSS = """
      body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0 auto;\
      max-width:1180px;padding:16px 24px;color:#222;background:#fff}
      h1{font-size:1.6em;margin:.2em 0}h1 .date{color:#1565c0}h2{border-bottom:2px solid #1565c0;padding-bottom:4px;\
      margin-top:1.6em}h3{margin-bottom:.3em}
      table{border-collapse:collapse;margin:8px 0 12px;font-size:.92em}th,td{border:1px solid #ddd;padding:4px 8px;\
      text-align:left;vertical-align:top}th{background:#f3f6fa}td.n,th.n{text-align:right;\
      font-variant-numeric:tabular-nums}table.kv th{width:190px}tr.bad td{background:#fdecea}
      .badge{color:#fff;border-radius:4px;padding:2px 8px;font-weight:600;font-size:.9em}
      .alert{border-left:6px solid #c62828;background:#fdecea;padding:10px 14px;margin:10px 0;font-size:1.05em}
      .alert.warn{border-color:#ef6c00;background:#fff3e0}.error{font-family:ui-monospace,monospace;\
      white-space:pre-wrap}
      section{overflow:hidden}h2,h3,p,table{clear:both}\
      .chart-box{float:left;width:calc(50% - 16px);margin:8px 16px 16px 0}\
      .chart{width:100%;height:340px}.chart-title{font-weight:600;margin-top:12px;min-height:2.4em}
      footer{margin-top:2em;color:#666;font-size:.85em}code{font-size:.95em}
      """;

  // ---------------------------------------------------------------- helpers

  private void section(String id, String title) {
    body.append("<section id=\"").append(id).append("\"><h2>").append(esc(title)).append("</h2>\n");
  }

  /** A chart container; the option is drawn by the script at the end of the page. */
  private void chart(String id, String title, Object option) {
    charts.put(id, option);
    body.append("<div class=\"chart-box\"><div class=\"chart-title\">").append(esc(title))
        .append("</div><div class=\"chart\" id=\"chart-").append(id).append("\"></div></div>\n");
  }

  private void kv(String key, Object value) {
    if (value == null) {
      return;
    }
    body.append("<tr><th>").append(esc(key)).append("</th><td>").append(fmt(value)).append("</td></tr>");
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

  /** A number for a table cell: integers with thousands separators, others to 4 significant decimals. */
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
    return esc(o);
  }

  private static String seconds(Object o) {
    return o instanceof Number n ? String.format(Locale.ROOT, "%.1f", n.doubleValue()) : "";
  }

  private static String pct(Object o, int decimals) {
    return o instanceof Number n ? String.format(Locale.ROOT, "%." + decimals + "f%%", n.doubleValue() * 100) : "";
  }

  /** Text for HTML content and attribute values. */
  static String esc(Object o) {
    if (o == null) {
      return "";
    }
    String s = String.valueOf(o);
    StringBuilder b = new StringBuilder(s.length() + 16);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '&' -> b.append("&amp;");
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&#39;");
        default -> b.append(c);
      }
    }
    return b.toString();
  }

  /**
   * JSON that is safe inside a {@code <script>} element: {@code <}, {@code >} and {@code &} become
   * unicode escapes (still the same strings to JavaScript), and so do U+2028/U+2029, which are line
   * ends in older JavaScript but not in JSON.
   */
  static String scriptJson(Object value) {
    return json(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029");
  }

  private static String json(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise report data: " + e.getMessage(), e);
    }
  }

  /** A library's text inlined in a script element: nothing in it may end the element early. */
  static String inlineScript(String js) {
    return js.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT");
  }
}
