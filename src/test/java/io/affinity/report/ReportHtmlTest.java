package io.affinity.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The report page (model builder and templates, through {@link RunReport#html}) without Spark or a
 * browser: a section per part of the manifest that is there and none for a part that is not,
 * everything from the data escaped in every kind of cell, chart data that cannot end its script
 * element, nothing loaded from the network. The golden manifest is a real sample run's
 * ({@code src/test/resources/ReportHtmlTest/}).
 */
class ReportHtmlTest {
  private static final String NASTY = "</script><script>alert(\"x\")</script> & 'q' <img src=x onerror=alert(1)>";
  /** Stands in for echarts.min.js where the library's own text does not matter. */
  private static final String LIB = "/* echarts */";

  @SuppressWarnings("unchecked")
  private static Map<String, Object> goldenManifest() throws IOException {
    try (InputStream in = ReportHtmlTest.class.getResourceAsStream("/ReportHtmlTest/manifest.json")) {
      return new ObjectMapper().readValue(in, LinkedHashMap.class);
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> stage(Map<String, Object> manifest, String name) {
    return (Map<String, Object>) ((Map<String, Object>) manifest.get("stages")).get(name);
  }

  private static String render(Map<String, Object> manifest, List<Map<String, Object>> profiles) {
    return RunReport.html(manifest, profiles, LIB, "2026-11-21T06:00:00Z");
  }

  /** The page without the inlined library and the chart data script: what the data put into HTML. */
  private static String markup(String html) {
    return html.substring(0, html.indexOf("<script>"));
  }

  private static int count(String s, String part) {
    int n = 0;
    for (int i = s.indexOf(part); i >= 0; i = s.indexOf(part, i + 1)) {
      n++;
    }
    return n;
  }

  @Test
  void aLiftBelowOneOrAnUndecidableValidationIsAWarningThatNamesThePublishedPolicy() throws IOException {
    Map<String, Object> manifest = goldenManifest();
    Map<String, Object> rec = stage(manifest, "recommend");
    rec.put("lift", new LinkedHashMap<>(Map.of("ndcg_at_10", 0.74)));
    rec.put("published_policy", new LinkedHashMap<>(Map.of("family", "popularity_recent", "content_slots", 0,
        "half_life", "none")));
    @SuppressWarnings("unchecked")
    Map<String, Object> split = new LinkedHashMap<>((Map<String, Object>) rec.get("split"));
    split.put("decidable", false);
    split.put("eval_users", 10);
    rec.put("split", split);
    String html = markup(render(manifest, List.of()));
    assertEquals(1, count(html, "id=\"warning-recommend\""), "one warning, beside the stage");
    assertTrue(html.contains("0.74 of the stronger popularity baseline"), "the lift, as a warning");
    assertTrue(html.contains("evaluated 10 users, fewer than validation-min-users"), "too few to decide");
    assertTrue(html.contains("Published: family popularity_recent, content slots 0, time decay none."), "what was published");

    rec.put("lift", new LinkedHashMap<>(Map.of("ndcg_at_10", 1.3)));
    split.put("decidable", true);
    assertFalse(markup(render(manifest, List.of())).contains("warning-recommend"), "a lift above 1 on enough users is no warning");
  }

  @Test
  void fullRunHasEverySectionAndEveryChart() throws IOException {
    String html = render(goldenManifest(), List.of());
    for (String section : List.of("data-quality", "segments", "recommendations", "propensity", "timings")) {
      assertEquals(1, count(html, "<section id=\"" + section + "\">"), section);
    }
    for (String chart : List.of("rows", "quarantine", "segment-sizes", "silhouette", "recommend-metrics",
        "reliability", "lift", "timings")) {
      assertEquals(1, count(html, "id=\"chart-" + chart + "\""), "container of " + chart);
      assertEquals(1, count(html, "\"" + chart + "\":{"), "option of " + chart);
    }
    assertEquals(8, count(html, "class=\"chart\""), "no other chart containers");
    assertFalse(html.contains("id=\"gates\""), "no gates in this manifest, so no gates section");
    assertFalse(html.contains("class=\"alert"), "nothing failed");
    // Header facts and a few figures from the golden run.
    assertTrue(html.contains("abd75de0640a877d3441defcacd45c7febd36207855e0e9ff2575c3d84f309fa"), "config digest");
    assertTrue(html.contains("<td>4.1.0</td>"), "spark version");
    assertTrue(html.contains("97.3 s"), "total time = 14.5 + 8.4 + 16.4 + 15.5 + 42.5");
    assertTrue(html.contains("<td class=\"n\">48,063</td>"), "clean events");
    assertTrue(html.contains("<code>BAD_TIMESTAMP</code>"), "reason codes listed");
    assertTrue(html.contains("<td>ndcg@10</td><td class=\"n\">0.3465</td><td class=\"n\">0.0937</td>"), "ALS vs baseline");
    // Reliability: the diagonal plus both curves; lift: observed rate of decile 1 and the base rate.
    assertTrue(html.contains("\"name\":\"perfect calibration\",\"type\":\"line\",\"data\":[[0,0],[1,1]]"));
    assertTrue(html.contains("\"name\":\"calibrated\""));
    assertTrue(html.contains("\"data\":[0.95,0.7895,"), "lift bars by decile");
    assertTrue(html.contains("\"yAxis\":0.2775"), "base rate line");
    // Without the profiles table the segment sizes from the manifest fill the profile table.
    assertTrue(html.contains("<td>champions</td><td class=\"n\">310</td><td class=\"n\">31.0%</td>"));
  }

  @Test
  void profilesTableIsReadable() throws IOException {
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("segment_id", 2);
    row.put("segment_label", "champions");
    row.put("size", 310L);
    row.put("share", 0.31);
    row.put("buyer_share", 0.98);
    row.put("median_monetary", 1234.5);
    row.put("first_seen_run_date", "2026-11-20");
    row.put("centroid_frequency", 3.2);
    String html = render(goldenManifest(), List.of(row));
    assertTrue(html.contains("<th>Segment</th><th>Label</th><th class=\"n\">Users</th><th class=\"n\">Share</th>"
        + "<th class=\"n\">Buyers</th><th class=\"n\">Median spend</th><th>First seen</th>"), markup(html));
    assertTrue(html.contains("<td>2</td><td>champions</td><td class=\"n\">310</td><td class=\"n\">31.0%</td>"
        + "<td class=\"n\">98.0%</td><td class=\"n\">1,234.50</td><td>2026-11-20</td>"));
    assertFalse(html.contains("centroid_frequency"), "model internals stay out of the people's table");
  }

  @Test
  void recommendationsShowBothPopularityBaselinesAndTheBeyondAccuracyMetrics() throws IOException {
    Map<String, Object> manifest = goldenManifest();
    Map<String, Object> rec = stage(manifest, "recommend");
    rec.put("baselines", Map.of("recent", Map.of("ndcg_at_10", 0.25, "novelty", 1.5),
        "all_time", Map.of("ndcg_at_10", 0.125, "novelty", 1.25)));
    rec.put("baseline_name", "recent");
    rec.put("novelty", 3.5);
    rec.put("content_slots", Map.of("ndcg_at_10", 0.3125, "content_rows", 7));
    String html = render(manifest, List.of());
    assertTrue(html.contains("<th class=\"n\">Recent popularity</th><th class=\"n\">All-time popularity</th>"),
        markup(html));
    assertTrue(html.contains("<td class=\"n\">0.2500</td><td class=\"n\">0.1250</td>"), "ndcg of both baselines");
    assertTrue(html.contains("<td>novelty</td><td class=\"n\">3.5000</td><td class=\"n\">1.5000</td>"
        + "<td class=\"n\">1.2500</td>"), "a beyond-accuracy row");
    assertTrue(html.contains("recent popularity (the stronger baseline)"));
    assertTrue(html.contains("ndcg@10 0.3125"), "NDCG with content slots");
  }

  @Test
  @SuppressWarnings("unchecked")
  void dataQualityShowsReDeliveredDuplicatesAndRowsAfterTheRunDate() throws IOException {
    Map<String, Object> manifest = goldenManifest();
    Map<String, Object> events = (Map<String, Object>) ((Map<String, Object>) stage(manifest, "ingest").get("sources"))
        .get("events");
    events.put("duplicates_redelivered", 1234);
    events.put("after_run_date", 56);
    String html = markup(render(manifest, List.of()));
    assertTrue(html.contains("<th class=\"n\">of which re-delivered</th><th class=\"n\">After the run date</th>"), html);
    assertTrue(html.contains("<td class=\"n\">1,234</td><td class=\"n\">56</td>"), html);
  }

  @Test
  void expectedSpendIsTabledAgainstItsBaselinesOrSaysWhyItIsMissing() throws IOException {
    Map<String, Object> manifest = goldenManifest();
    Map<String, Object> spend = new LinkedHashMap<>();
    spend.put("status", "fitted");
    spend.put("buyers", Map.of("train", 815, "validation", 277));
    spend.put("back_transform", Map.of("smearing_factor", 1.0809));
    Map<String, Object> metrics = new LinkedHashMap<>();
    metrics.put("users", 958);
    metrics.put("spending_users", 270);
    metrics.put("revenue", 15374.25);
    metrics.put("model", Map.of("rmse", 32.78, "mae", 18.0858, "spearman", 0.3721, "top_decile_revenue_share", 0.46));
    Map<String, Object> baselines = new LinkedHashMap<>();
    baselines.put("previous_horizon", Map.of("rmse", 46.23, "mae", 17.7219, "spearman", 0.3454,
        "top_decile_revenue_share", 0.2781));
    baselines.put("constant_spend", Map.of("rmse", 38.34, "mae", 20.1454, "spearman", 0.4712,
        "top_decile_revenue_share", 0.2718));
    metrics.put("baselines", baselines);
    metrics.put("against_strongest_baseline", Map.of("rmse", Map.of("model_better", true),
        "mae", Map.of("model_better", false), "spearman", Map.of("model_better", false),
        "top_decile_revenue_share", Map.of("model_better", true)));
    spend.put("metrics", metrics);
    stage(manifest, "propensity").put("expected_spend", spend);
    String html = markup(render(manifest, List.of()));
    assertTrue(html.contains("<h3>Expected spend</h3>"), html);
    assertTrue(html.contains("<th class=\"n\">Model</th><th class=\"n\">previous horizon</th>"
        + "<th class=\"n\">constant spend</th><th>Model better</th>"), html);
    assertTrue(html.contains("<tr><td>RMSE of spend</td><td class=\"n\">32.7800</td><td class=\"n\">46.2300</td>"
        + "<td class=\"n\">38.3400</td><td>yes</td></tr>"), html);
    assertTrue(html.contains("<tr><td>MAE of spend</td><td class=\"n\">18.0858</td><td class=\"n\">17.7219</td>"
        + "<td class=\"n\">20.1454</td><td>no</td></tr>"), html);
    assertTrue(html.contains("<th>Buyers (train / validation)</th><td>815 / 277</td>"), html);

    stage(manifest, "propensity").put("expected_spend", Map.of("status", "skipped",
        "reason", "0 training and 0 validation buyers with a positive spend"));
    html = markup(render(manifest, List.of()));
    assertTrue(html.contains("<p>No spend model (skipped): 0 training and 0 validation buyers with a positive spend</p>"),
        html);
    assertFalse(html.contains("RMSE of spend"));
  }

  @Test
  void missingPartsAreLeftOut() throws IOException {
    Map<String, Object> manifest = goldenManifest();
    @SuppressWarnings("unchecked")
    Map<String, Object> stages = (Map<String, Object>) manifest.get("stages");
    stages.keySet().retainAll(List.of("ingest"));
    String html = render(manifest, List.of());
    assertTrue(html.contains("<section id=\"data-quality\">"));
    assertTrue(html.contains("<section id=\"timings\">"));
    for (String absent : List.of("segments", "recommendations", "propensity")) {
      assertFalse(html.contains("<section id=\"" + absent + "\">"), absent);
    }
    assertEquals(3, count(html, "class=\"chart\""), "rows, quarantine, timings");

    // An empty manifest (nothing ran yet) still gives a page, not an exception.
    String empty = render(new LinkedHashMap<>(), List.of());
    assertTrue(empty.contains("no stages"));
    assertEquals(0, count(empty, "class=\"chart\""));
    assertTrue(empty.contains("var AFFINITY_CHARTS = {};"));

    // No quarantined rows: a sentence instead of an empty chart.
    Map<String, Object> clean = goldenManifest();
    @SuppressWarnings("unchecked")
    Map<String, Object> sources = (Map<String, Object>) stage(clean, "ingest").get("sources");
    for (Object s : sources.values()) {
      @SuppressWarnings("unchecked")
      Map<String, Object> c = (Map<String, Object>) s;
      c.put("quarantined_by_reason", Map.of());
    }
    String none = render(clean, List.of());
    assertTrue(none.contains("No rows were quarantined."));
    assertFalse(none.contains("id=\"chart-quarantine\""));
  }

  @Test
  void campaignSectionShowsTheTableLabelAndTheControlGroupsOnlyWhenRecorded() throws IOException {
    assertFalse(render(goldenManifest(), List.of()).contains("<section id=\"campaign\">"), "no label, no groups");
    Map<String, Object> manifest = goldenManifest();
    Map<String, Object> label = new LinkedHashMap<>();
    label.put("source", "users table column");
    label.put("column", "y");
    label.put("positive", List.of("yes"));
    label.put("excluded", List.of("duration"));
    label.put("rows", 41188);
    label.put("labelled_rows", 40000);
    label.put("unlabelled_rows", 1188);
    stage(manifest, "propensity").put("label", label);
    Map<String, Object> groups = new LinkedHashMap<>();
    groups.put("share", 0.1);
    groups.put("users", 1000);
    groups.put("control", 100);
    groups.put("control_share", 0.1);
    groups.put("segments", List.of(Map.of("segment_id", 1, "users", 600, "control", 60, "control_share", 0.1),
        Map.of("segment_id", 2, "users", 400, "control", 40, "control_share", 0.1)));
    Map<String, Object> publish = new LinkedHashMap<>();
    publish.put("status", "succeeded");
    publish.put("control_groups", groups);
    @SuppressWarnings("unchecked")
    Map<String, Object> stages = (Map<String, Object>) manifest.get("stages");
    stages.put("publish", publish);
    String html = markup(render(manifest, List.of()));
    assertTrue(html.contains("<section id=\"campaign\">"));
    assertTrue(html.contains("<tr><th>Label column</th><td>y</td></tr>"), html);
    assertTrue(html.contains("<tr><th>Unlabelled rows (scored only)</th><td>1,188</td></tr>"));
    assertTrue(html.contains("<tr><th>Excluded inputs (leak the outcome)</th><td>duration</td></tr>"));
    assertTrue(html.contains("<tr><td>2</td><td class=\"n\">400</td><td class=\"n\">40</td><td class=\"n\">10.0%</td></tr>"));
    assertTrue(html.contains("<tr><td>all</td><td class=\"n\">1,000</td>"));
  }

  @Test
  void failedStageErrorIsShownFirstAndGatesAreTabled() throws IOException {
    Map<String, Object> manifest = goldenManifest();
    Map<String, Object> p = stage(manifest, "propensity");
    p.put("status", "failed");
    p.put("error", "model-quality gate failed: test auc_roc 0.55 < 0.6 (affinity.propensity.gate.min-auc-roc)");
    p.put("gates", List.of(
        Map.of("metric", "auc_roc", "current", 0.55, "previous", 0.86, "passed", false, "reason", "dropped 36%"),
        Map.of("metric", "users", "current", 1000, "passed", true, "reason", "ok")));
    String html = render(manifest, List.of());
    int alert = html.indexOf("<div class=\"alert\" id=\"failure-propensity\">");
    assertTrue(alert > 0 && alert < html.indexOf("<section"), "the failure is at the top, before any section");
    assertTrue(html.contains("Stage propensity failed:</strong> <span class=\"error\">model-quality gate failed: "
        + "test auc_roc 0.55 &lt; 0.6 (affinity.propensity.gate.min-auc-roc)</span>"));
    assertTrue(html.contains(">failed</span></p>"), "overall status failed");
    assertTrue(html.contains("<section id=\"gates\">"));
    assertTrue(html.contains("<tr class=\"bad\"><td>propensity</td><td>auc_roc</td><td class=\"n\">0.5500</td>"
        + "<td class=\"n\">0.8600</td><td>FAILED</td><td>dropped 36%</td></tr>"), markup(html));
    assertTrue(html.contains("<tr><td>propensity</td><td>users</td><td class=\"n\">1,000</td><td class=\"n\"></td>"
        + "<td>passed</td><td>ok</td></tr>"));
  }

  @Test
  @SuppressWarnings("unchecked")
  void segmentLabelAuditAndKChoiceAreTables() throws IOException {
    Map<String, Object> manifest = goldenManifest();
    Map<String, Object> seg = stage(manifest, "segment");
    Map<String, Object> claim = new LinkedHashMap<>(Map.of("claim", "new <= 0.2", "measured", 0.9, "population", 0.13,
        "bound", 0.2, "passed", false));
    Map<String, Object> audit = new LinkedHashMap<>();
    audit.put("proposed_label", "at risk");
    audit.put("published_label", "segment 3");
    audit.put("passed", false);
    audit.put("reason", "'at risk' claims new <= 0.2 (measured 0.9)");
    audit.put("claims", List.of(claim));
    ((Map<String, Object>) ((List<Object>) seg.get("segments")).get(0)).put("audit", audit);
    Map<String, Object> candidate = new LinkedHashMap<>(Map.of("k", 4, "silhouette", 0.56, "largest_share", 0.352,
        "chosen", false, "lost_because", "largest segment 35.2 % of users, above k.max-share 30.0 %"));
    ((Map<String, Object>) seg.get("selection")).put("candidates", List.of(candidate));
    String markup = markup(render(manifest, List.of()));
    assertTrue(markup.contains("<h3>Label audit</h3>"));
    assertTrue(markup.contains("<td>segment 3</td><td>at risk</td><td>new &lt;= 0.2</td><td class=\"n\">0.9000</td>"
        + "<td class=\"n\">0.1300</td><td class=\"n\">0.2000</td><td>FAIL</td>"), markup);
    assertTrue(markup.contains("<td class=\"n\">4</td><td class=\"n\">0.5600</td><td class=\"n\">35.2%</td>"
        + "<td>largest segment 35.2 % of users, above k.max-share 30.0 %</td>"), markup);
    ((Map<String, Object>) ((List<Object>) seg.get("segments")).get(0)).remove("audit");
    ((Map<String, Object>) seg.get("selection")).remove("candidates");
    assertFalse(markup(render(manifest, List.of())).contains("Label audit"), "no audit in the manifest, no table");
  }

  @Test
  void everythingFromTheDataIsEscaped() throws IOException {
    Map<String, Object> manifest = goldenManifest();
    manifest.put("run_date", NASTY);
    Map<String, Object> ingest = stage(manifest, "ingest");
    @SuppressWarnings("unchecked")
    Map<String, Object> sources = (Map<String, Object>) ingest.get("sources");
    Map<String, Object> renamed = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : sources.entrySet()) {
      renamed.put(e.getKey().equals("events") ? NASTY : e.getKey(), e.getValue());
    }
    ingest.put("sources", renamed);
    ingest.put("status", "failed");
    ingest.put("error", NASTY);
    @SuppressWarnings("unchecked")
    Map<String, Object> seg = (Map<String, Object>) ((List<Object>) stage(manifest, "segment").get("segments")).get(0);
    seg.put("label", NASTY);
    Map<String, Object> profile = new LinkedHashMap<>();
    profile.put("segment_id", 1);
    profile.put("segment_label", NASTY);
    List<Map<String, Object>> profiles = new ArrayList<>(List.of(profile));

    String html = render(manifest, profiles);
    assertEquals(2, count(html, "<script>"), "only the library and the chart script: " + html.length());
    assertEquals(2, count(html, "</script>"));
    assertFalse(html.contains("<img"), "no element from the data");
    assertFalse(html.contains("alert(\"x\")</script>"));
    String markup = markup(html);
    assertTrue(markup.contains("&lt;/script&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39; "
        + "&lt;img src=x onerror=alert(1)&gt;"), "text escaped in tables, header and the error box");
    assertFalse(markup.contains(NASTY));
    String data = html.substring(html.indexOf("var AFFINITY_CHARTS"));
    assertTrue(data.contains("\\u003c/script\\u003e\\u003cscript\\u003ealert(\\\"x\\\")"), "chart labels as escaped JSON");
    assertTrue(data.contains("\\u0026 'q'"));
    assertFalse(data.substring(0, data.indexOf("</script>")).contains("<"), "no '<' inside the data script");
  }

  @Test
  void nothingIsLoadedFromTheNetwork() throws IOException {
    String html = RunReport.html(goldenManifest(), List.of(), RunReport.echarts(), "now");
    Matcher tags = Pattern.compile("<(script|link|img|iframe|object|embed)\\b[^>]*>", Pattern.CASE_INSENSITIVE)
        .matcher(markup(html) + html.substring(html.lastIndexOf("<script>")));
    while (tags.find()) {
      assertFalse(tags.group().matches("(?is).*\\b(src|href)\\s*=.*"), "external reference: " + tags.group());
    }
    assertFalse(Pattern.compile("(?i)<(script|link)[^>]*(src|href)\\s*=\\s*[\"']?(https?:)?//").matcher(html).find(),
        "no script or link with a URL anywhere in the page");
    assertFalse(Pattern.compile("(?i)@import|url\\(\\s*['\"]?https?:").matcher(html).find(), "no remote CSS or fonts");
    assertEquals(2, count(html, "<script>"), "the library inlined, no other script elements");
  }

  @Test
  void echartsComesFromTheWebjarOnTheClasspath() {
    String js = RunReport.echarts();
    assertTrue(js.length() > 500_000, "the full minified library: " + js.length());
    assertTrue(js.contains("echarts") && js.contains("registerPainter(\"svg\""), "with the SVG renderer");
    assertFalse(ReportTemplates.inlineScript("a</script>b").contains("</script"));
  }

  /** Data that tries everything: closes a script, opens one, breaks out of a quoted attribute, looks like an entity. */
  private static final String HOSTILE = "</script><script>alert(1)</script>\" onmouseover=\"x\" ' & &amp; <b>";
  private static final String HOSTILE_ESCAPED = "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&quot; "
      + "onmouseover=&quot;x&quot; &#39; &amp; &amp;amp; &lt;b&gt;";

  /**
   * The golden manifest with {@code text} in every kind of cell the page has: every text value of
   * the manifest, the names that are map keys (a stage, a source, a reason code, a row count), a
   * text where a number belongs (gate values, counts, a profile number, the k of ndcg@k).
   */
  @SuppressWarnings("unchecked")
  private static Map<String, Object> everywhere(Map<String, Object> manifest, String text) {
    Map<String, Object> m = (Map<String, Object>) replaceTexts(manifest, text);
    Map<String, Object> stages = (Map<String, Object>) m.get("stages");
    Map<String, Object> extra = new LinkedHashMap<>();
    extra.put("status", "failed");
    extra.put("started_at", text);
    extra.put("seconds", 1.0);
    extra.put("error", text);
    extra.put("gates", List.of(Map.of("metric", text, "current", text, "previous", text, "passed", false,
        "reason", text)));
    extra.put("rows", Map.of(text, text));
    stages.put(text, extra);
    Map<String, Object> unfinished = new LinkedHashMap<>(Map.of("status", "running"));
    stages.put(text + " 2", unfinished);
    Map<String, Object> ingest = (Map<String, Object>) stages.get("ingest");
    Map<String, Object> sources = (Map<String, Object>) ingest.get("sources");
    sources.put(text, new LinkedHashMap<>(Map.of("read", text, "clean", 1, "quarantined", 1,
        "quarantined_by_reason", Map.of(text, 1))));
    Map<String, Object> seg = (Map<String, Object>) stages.get("segment");
    seg.put("stability", Map.of("status", text, "previous_run_date", text));
    Map<String, Object> prop = (Map<String, Object>) stages.get("propensity");
    prop.put("gate", Map.of("metric", text, "value", text, "min", text, "passed", true));
    ((Map<String, Object>) prop.get("metrics")).put("users", text);
    Map<String, Object> rec = (Map<String, Object>) stages.get("recommend");
    rec.put("mode", text);
    rec.put("k", text); // the metric names: ndcg@<k>
    return m;
  }

  /** A copy with every text value (not the keys) replaced. */
  @SuppressWarnings("unchecked")
  private static Object replaceTexts(Object o, String text) {
    if (o instanceof Map<?, ?> map) {
      Map<String, Object> out = new LinkedHashMap<>();
      map.forEach((k, v) -> out.put((String) k, k.equals("status") ? v : replaceTexts(v, text)));
      return out;
    }
    if (o instanceof List<?> list) {
      List<Object> out = new ArrayList<>();
      list.forEach(v -> out.add(replaceTexts(v, text)));
      return out;
    }
    return o instanceof String ? text : o;
  }

  private static List<Map<String, Object>> profileRow(String text) {
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("segment_id", text);
    row.put("segment_label", text);
    row.put("size", text);
    row.put("first_seen_run_date", text);
    return List.of(row);
  }

  /** Every element of the markup as its name and attribute names: what the page's structure is. */
  private static List<String> structure(String markup) {
    List<String> tags = new ArrayList<>();
    Matcher m = Pattern.compile("<(/?[a-zA-Z0-9!]+)([^>]*)>").matcher(markup);
    while (m.find()) {
      // A quoted value ends at the next '"': text breaking out of one would add an attribute here.
      Matcher attrs = Pattern.compile("\\s+([a-zA-Z-]+)(?:=(?:\"[^\"]*\"|[^\\s\">]+))?").matcher(m.group(2));
      StringBuilder t = new StringBuilder(m.group(1));
      while (attrs.find()) {
        t.append(' ').append(attrs.group(1));
      }
      tags.add(t.toString());
    }
    return tags;
  }

  @Test
  void hostileTextIsEscapedInEveryKindOfCell() throws IOException {
    String marker = "zqxmarker";
    String benign = markup(render(everywhere(goldenManifest(), marker), profileRow(marker)));
    String hostile = markup(render(everywhere(goldenManifest(), HOSTILE), profileRow(HOSTILE)));
    int places = count(benign, marker);
    assertTrue(places >= 40, "the marker reached every kind of cell: " + places);
    assertEquals(places, count(hostile, HOSTILE_ESCAPED), "escaped, whole, in every place the marker went");
    assertEquals(structure(benign), structure(hostile), "the data added no element and no attribute");
    assertFalse(hostile.contains("<b>") || hostile.contains("<script") || hostile.contains("\" onmouseover"));
    // Each kind of cell, by where it stands.
    for (String place : List.of(
        "<span class=\"date\">", // header
        "<td>", // fact, stage, gate, source, profile text, row count
        "<td class=\"n\">", // a text where a number belongs (gate value, count, profile number)
        "<th class=\"n\">", // reason table: a source as a column heading
        "<code>", // reason code
        "<span class=\"error\">", // failed stage's error
        "<strong>Stage ", // stage name in an alert
        "id=\"failure-", // stage name in an attribute
        "<strong>", // stability status
        "(previous run ", // previous run date
        "Model gate: ", // gate metric
        "Evaluated on ")) { // propensity evaluated_on
      assertTrue(hostile.contains(place + HOSTILE_ESCAPED), "escaped after " + place);
    }
    String title = render(everywhere(goldenManifest(), HOSTILE), List.of());
    assertTrue(title.contains("<title>Affinity run report " + HOSTILE_ESCAPED + "</title>"));
    // In the chart data the same text is JSON with unicode escapes, and the data script stays one element.
    String data = title.substring(title.indexOf("var AFFINITY_CHARTS"));
    assertFalse(data.substring(0, data.indexOf("</script>")).contains("<"));
    assertEquals(2, count(title, "</script>"));
  }

  @Test
  void chartDataCannotCloseItsScriptElement() throws IOException {
    String label = "</script><script>alert(1)</script><!-- </SCRIPT > & \u2028";
    ReportModel.Chart chart = new ReportModel.Chart("x", "t", Map.of("series", List.of(Map.of("name", label))));
    ReportModel model = new ReportModel("d", new ReportModel.Badge("ok", "#000"), List.of(), List.of(), List.of(),
        null, null, null, null, null, null, null, null, "now", List.of(chart));
    String html = ReportTemplates.render(model, "var lib = \"</script><script>evil()</script></SCRIPT\";");
    assertEquals(2, count(html.toLowerCase(java.util.Locale.ROOT), "</script"),
        "the page's two script elements, each closed once, by the page");
    assertTrue(html.contains("var lib = \"<\\/script><script>evil()<\\/script><\\/SCRIPT\";"),
        "the library keeps its text for JavaScript");
    String json = html.substring(html.indexOf("var AFFINITY_CHARTS = ") + "var AFFINITY_CHARTS = ".length());
    json = json.substring(0, json.indexOf(";\n"));
    assertFalse(json.contains("<") || json.contains(">") || json.contains("&") || json.contains("\u2028"), json);
    @SuppressWarnings("unchecked")
    Map<String, Object> parsed = new ObjectMapper().readValue(json, LinkedHashMap.class);
    assertEquals(Map.of("x", Map.of("series", List.of(Map.of("name", label)))), parsed,
        "the same data once the script reads it");
  }
}
