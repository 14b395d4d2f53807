package io.affinity.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Reads the runs of one benchmark (docs/BENCHMARKS.md) and prints the tables: per stage of the
 * Affinity chain wall seconds, events per second and peak heap; per step Affinity seconds, bare
 * baseline seconds and their ratio, and the totals. Every figure is the median over the runs.
 * Also writes {@code results.json} and {@code results.csv} into the benchmark directory.
 *
 * <p>Layout read: {@code DIR/run-N/affinity/runs/run_date=D/manifest.json} (the Affinity manifest)
 * and {@code DIR/run-N/baseline/baseline.json} (written by {@link BareBaseline}), N = 1, 2, ...
 *
 * <pre>
 * BenchmarkReport DIR [LABEL]
 * </pre>
 */
public final class BenchmarkReport {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  /** The chain's stages in order; a stage missing from a manifest is left out of the tables. */
  static final List<String> STAGES = List.of("ingest", "features", "segment", "propensity", "recommend", "publish");

  /**
   * One row of the comparison: what Affinity spends on a step and what the bare calls spend on it.
   *
   * @param step the step's name
   * @param affinity Affinity's seconds from one run's manifest (null when absent)
   * @param baseline the baseline's seconds from one run's baseline.json (null when absent)
   */
  record Step(String step, Function<Map<String, Object>, Double> affinity, Function<Map<String, Object>, Double> baseline) {}

  /** The comparison rows; the last one is the total. */
  static final List<Step> STEPS = List.of(
      new Step("ingest (CSV to clean Parquet) vs load (CSV read, ids indexed, cached)",
          m -> stageSeconds(m, "ingest"), b -> baseSeconds(b, "load")),
      new Step("features (user, item, interaction tables) vs ALS input (implicit strength)",
          m -> stageSeconds(m, "features"), b -> baseSeconds(b, "als_data")),
      new Step("ALS training (final fit, same params)",
          m -> timing(m, "als_fit_seconds"), b -> baseSeconds(b, "als_fit")),
      new Step("top-N with exclusions vs recommendForAllUsers + anti-join",
          m -> timing(m, "topn_seconds"), b -> baseSeconds(b, "topn")),
      new Step("recommend stage (validation, fit, top-N, similar items) vs ALS fit + top-N",
          m -> stageSeconds(m, "recommend"), b -> sum(baseSeconds(b, "als_fit"), baseSeconds(b, "topn"))),
      new Step("segment stage vs KMeans", m -> stageSeconds(m, "segment"), b -> baseSeconds(b, "kmeans")),
      new Step("propensity stage vs LogisticRegression", m -> stageSeconds(m, "propensity"), b -> baseSeconds(b, "logreg")),
      new Step("chain total (sum of stages) vs sum of bare steps", BenchmarkReport::chainSeconds,
          BenchmarkReport::baselineTotal));

  private BenchmarkReport() {}

  public static void main(String[] args) throws IOException {
    if (args.length < 1) {
      System.err.println("usage: BenchmarkReport DIR [LABEL]");
      System.exit(2);
    }
    Path dir = Path.of(args[0]);
    Map<String, Object> result = build(dir, args.length > 1 ? args[1] : dir.getFileName().toString());
    JSON.writeValue(dir.resolve("results.json").toFile(), result);
    Files.writeString(dir.resolve("results.csv"), csv(result), StandardCharsets.UTF_8);
    String md = markdown(result);
    Files.writeString(dir.resolve("results.md"), md, StandardCharsets.UTF_8);
    System.out.print(md);
  }

  /**
   * The medians over every run under {@code dir}: {@code label}, {@code runs}, {@code events},
   * {@code stages} (per stage seconds, events_per_second, peak_heap_mb, peak_heap_after_gc_mb) and
   * {@code steps} (per step affinity_seconds, baseline_seconds, ratio).
   */
  public static Map<String, Object> build(Path dir, String label) throws IOException {
    List<Map<String, Object>> manifests = new ArrayList<>();
    List<Map<String, Object>> baselines = new ArrayList<>();
    for (Path run : runs(dir)) {
      manifests.add(manifest(run.resolve("affinity")));
      Path b = run.resolve("baseline/baseline.json");
      if (Files.exists(b)) {
        baselines.add(read(b));
      }
    }
    if (manifests.isEmpty()) {
      throw new IllegalArgumentException("no runs under " + dir + " (expected run-1/affinity/runs/run_date=*/manifest.json)");
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("label", label);
    out.put("runs", manifests.size());
    out.put("baseline_runs", baselines.size());
    Double events = median(manifests, BenchmarkReport::eventsRead);
    out.put("events", events == null ? null : events.longValue());
    out.put("java_version", manifests.get(0).get("java_version"));
    out.put("spark_version", manifests.get(0).get("spark_version"));

    Map<String, Object> stages = new LinkedHashMap<>();
    for (String st : STAGES) {
      Double secs = median(manifests, m -> stageSeconds(m, st));
      if (secs == null) {
        continue;
      }
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("seconds", secs);
      row.put("events_per_second", events == null || secs <= 0 ? null : Math.round(events / secs));
      row.put("peak_heap_mb", median(manifests, m -> stageNumber(m, st, "peak_heap_mb")));
      row.put("peak_heap_after_gc_mb", median(manifests, m -> stageNumber(m, st, "peak_heap_after_gc_mb")));
      stages.put(st, row);
    }
    Double total = median(manifests, BenchmarkReport::chainSeconds);
    Map<String, Object> totalRow = new LinkedHashMap<>();
    totalRow.put("seconds", total);
    totalRow.put("events_per_second", events == null || total == null || total <= 0 ? null : Math.round(events / total));
    stages.put("total", totalRow);
    out.put("stages", stages);

    Map<String, Object> steps = new LinkedHashMap<>();
    for (Step step : STEPS) {
      Map<String, Object> row = new LinkedHashMap<>();
      Double a = median(manifests, step.affinity());
      Double b = median(baselines, step.baseline());
      row.put("affinity_seconds", a);
      row.put("baseline_seconds", b);
      row.put("ratio", a == null || b == null || b <= 0 ? null : Math.round(a / b * 100) / 100.0);
      steps.put(step.step(), row);
    }
    out.put("steps", steps);

    // --night: one steady-state night after a bootstrap (night/affinity, the newest run date).
    Path night = dir.resolve("night/affinity/runs");
    if (Files.isDirectory(night)) {
      Map<String, Object> m;
      try (Stream<Path> s = Files.list(night)) {
        Path newest = s.filter(p -> p.getFileName().toString().startsWith("run_date=")).max(Path::compareTo)
            .orElseThrow(() -> new IllegalArgumentException("no run_date=* under " + night));
        m = read(newest.resolve("manifest.json"));
      }
      Map<String, Object> n = new LinkedHashMap<>();
      n.put("events_read", eventsRead(m) == null ? null : eventsRead(m).longValue());
      Map<String, Object> secs = new LinkedHashMap<>();
      for (String st : STAGES) {
        Double v = stageSeconds(m, st);
        if (v != null) {
          secs.put(st, v);
        }
      }
      Double nightTotal = chainSeconds(m);
      secs.put("total", nightTotal);
      n.put("stages", secs);
      n.put("recommend_validation_seconds", timing(m, "validation_seconds"));
      n.put("night_vs_full", nightTotal == null || total == null || total <= 0 ? null
          : Math.round(nightTotal / total * 100) / 100.0);
      out.put("night", n);
    }
    return out;
  }

  /** The per-stage table and the comparison table as Markdown, ready to paste into docs/BENCHMARKS.md. */
  @SuppressWarnings("unchecked")
  static String markdown(Map<String, Object> r) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "### %s: %s events, median of %s runs (baseline: %s)%n%n",
        r.get("label"), r.get("events"), r.get("runs"), r.get("baseline_runs")));
    sb.append("| stage | seconds | events/s | peak heap MB | peak heap after GC MB |\n");
    sb.append("| --- | ---: | ---: | ---: | ---: |\n");
    for (Map.Entry<String, Object> e : ((Map<String, Object>) r.get("stages")).entrySet()) {
      Map<String, Object> row = (Map<String, Object>) e.getValue();
      sb.append("| ").append(e.getKey()).append(" | ").append(fmt(row.get("seconds"))).append(" | ")
          .append(fmt(row.get("events_per_second"))).append(" | ").append(fmt(row.get("peak_heap_mb"))).append(" | ")
          .append(fmt(row.get("peak_heap_after_gc_mb"))).append(" |\n");
    }
    sb.append("\n| step | Affinity s | bare MLlib s | Affinity / bare |\n");
    sb.append("| --- | ---: | ---: | ---: |\n");
    for (Map.Entry<String, Object> e : ((Map<String, Object>) r.get("steps")).entrySet()) {
      Map<String, Object> row = (Map<String, Object>) e.getValue();
      sb.append("| ").append(e.getKey()).append(" | ").append(fmt(row.get("affinity_seconds"))).append(" | ")
          .append(fmt(row.get("baseline_seconds"))).append(" | ").append(fmt(row.get("ratio"))).append(" |\n");
    }
    if (r.get("night") instanceof Map<?, ?> night) {
      Map<String, Object> secs = (Map<String, Object>) night.get("stages");
      Map<String, Object> full = (Map<String, Object>) r.get("stages");
      sb.append(String.format(Locale.ROOT, "%n**Steady-state night** (the history up to the day before as a full load,"
          + " then the last day as a delta: %s events read; validation reused): %s of the full run's chain seconds%n%n",
          fmt(night.get("events_read")), fmt(night.get("night_vs_full"))));
      sb.append("| stage | night s | full run s |\n| --- | ---: | ---: |\n");
      for (Map.Entry<String, Object> e : secs.entrySet()) {
        Object f = full.get(e.getKey()) instanceof Map<?, ?> row ? row.get("seconds") : null;
        sb.append("| ").append(e.getKey()).append(" | ").append(fmt(e.getValue())).append(" | ").append(fmt(f)).append(" |\n");
      }
    }
    return sb.toString();
  }

  @SuppressWarnings("unchecked")
  static String csv(Map<String, Object> r) {
    StringBuilder sb = new StringBuilder("table,name,affinity_seconds,baseline_seconds,ratio,events_per_second,peak_heap_mb\n");
    for (Map.Entry<String, Object> e : ((Map<String, Object>) r.get("stages")).entrySet()) {
      Map<String, Object> row = (Map<String, Object>) e.getValue();
      sb.append("stage,").append(e.getKey()).append(',').append(csvValue(row.get("seconds"))).append(",,,")
          .append(csvValue(row.get("events_per_second"))).append(',').append(csvValue(row.get("peak_heap_mb"))).append('\n');
    }
    for (Map.Entry<String, Object> e : ((Map<String, Object>) r.get("steps")).entrySet()) {
      Map<String, Object> row = (Map<String, Object>) e.getValue();
      sb.append("step,\"").append(e.getKey()).append("\",").append(csvValue(row.get("affinity_seconds"))).append(',')
          .append(csvValue(row.get("baseline_seconds"))).append(',').append(csvValue(row.get("ratio"))).append(",,\n");
    }
    return sb.toString();
  }

  private static String csvValue(Object v) {
    return v == null ? "" : v.toString();
  }

  private static String fmt(Object v) {
    if (v == null) {
      return "-";
    }
    if (v instanceof Double d) {
      return String.format(Locale.ROOT, d >= 100 ? "%.0f" : "%.2f", d);
    }
    return v.toString();
  }

  private static List<Path> runs(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().matches("run-\\d+") && Files.isDirectory(p.resolve("affinity")))
          .sorted().toList();
    }
  }

  private static Map<String, Object> manifest(Path root) throws IOException {
    try (Stream<Path> s = Files.list(root.resolve("runs"))) {
      Path dated = s.filter(p -> p.getFileName().toString().startsWith("run_date=")).findFirst()
          .orElseThrow(() -> new IllegalArgumentException("no run_date=* under " + root.resolve("runs")));
      return read(dated.resolve("manifest.json"));
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> read(Path p) {
    try {
      return JSON.readValue(p.toFile(), LinkedHashMap.class);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + p, e);
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> stage(Map<String, Object> manifest, String name) {
    Object stages = manifest.get("stages");
    return stages instanceof Map<?, ?> m ? (Map<String, Object>) m.get(name) : null;
  }

  private static Double stageNumber(Map<String, Object> manifest, String name, String key) {
    Map<String, Object> st = stage(manifest, name);
    return st != null && st.get(key) instanceof Number n ? n.doubleValue() : null;
  }

  private static Double stageSeconds(Map<String, Object> manifest, String name) {
    return stageNumber(manifest, name, "seconds");
  }

  @SuppressWarnings("unchecked")
  private static Double timing(Map<String, Object> manifest, String key) {
    Map<String, Object> rec = stage(manifest, "recommend");
    Object t = rec == null ? null : rec.get("timings");
    return t instanceof Map<?, ?> m && m.get(key) instanceof Number n ? n.doubleValue() : null;
  }

  @SuppressWarnings("unchecked")
  private static Double eventsRead(Map<String, Object> manifest) {
    Map<String, Object> ingest = stage(manifest, "ingest");
    if (ingest != null && ingest.get("sources") instanceof Map<?, ?> sources
        && sources.get("events") instanceof Map<?, ?> ev && ev.get("read") instanceof Number n) {
      return n.doubleValue();
    }
    return null;
  }

  private static Double chainSeconds(Map<String, Object> manifest) {
    Double total = null;
    for (String st : STAGES) {
      total = sum(total, stageSeconds(manifest, st));
    }
    return total;
  }

  @SuppressWarnings("unchecked")
  private static Double baseSeconds(Map<String, Object> baseline, String step) {
    return baseline.get("seconds") instanceof Map<?, ?> m && m.get(step) instanceof Number n ? n.doubleValue() : null;
  }

  private static Double baselineTotal(Map<String, Object> baseline) {
    Double total = null;
    if (baseline.get("seconds") instanceof Map<?, ?> m) {
      for (Object v : m.values()) {
        total = sum(total, v instanceof Number n ? n.doubleValue() : null);
      }
    }
    return total;
  }

  private static Double sum(Double a, Double b) {
    return a == null ? b : b == null ? a : Double.valueOf(a + b);
  }

  private static Double median(List<Map<String, Object>> docs, Function<Map<String, Object>, Double> f) {
    List<Double> values = new ArrayList<>();
    for (Map<String, Object> d : docs) {
      Double v = f.apply(d);
      if (v != null) {
        values.add(v);
      }
    }
    if (values.isEmpty()) {
      return null;
    }
    Collections.sort(values);
    int n = values.size();
    double m = n % 2 == 1 ? values.get(n / 2) : (values.get(n / 2 - 1) + values.get(n / 2)) / 2;
    return Math.round(m * 100) / 100.0;
  }
}
