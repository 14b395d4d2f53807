package io.affinity.report;

import io.affinity.io.Datasets;
import io.affinity.io.Manifest;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructField;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes {@code runs/run_date=D/report.html} next to the manifest, atomically (temporary file and
 * rename), from the manifest and {@code segment_profiles}. Reads nothing user-sized: the manifest is
 * a few kilobytes and the profiles have one row per segment.
 */
public final class RunReport {
  private static final Logger LOG = LoggerFactory.getLogger(RunReport.class);

  /** The report's file name, beside {@code manifest.json}. */
  public static final String FILE = "report.html";

  /** Where the ECharts webjar keeps the minified library (checked by ReportHtmlTest). */
  static final String ECHARTS = "META-INF/resources/webjars/echarts/5.3.1/dist/echarts.min.js";

  /** More segments than this would not be a segmentation; the read is bounded regardless. */
  private static final int MAX_PROFILE_ROWS = 1_000;

  private static final String PROFILES = "segment_profiles";

  /** The Spark job group of the report's reads (it is not a stage, it runs after them). */
  public static final String GROUP = "report";

  private RunReport() {}

  /** The report's path for the run date of {@code datasets}. */
  public static Path path(Datasets datasets) {
    return new Path(datasets.path("runs"), FILE);
  }

  /**
   * Writes the report for this run date and returns its path.
   *
   * @throws IllegalStateException when the ECharts library is missing from the classpath
   */
  public static Path write(Datasets datasets) {
    Map<String, Object> manifest = new Manifest(datasets).read();
    String html = html(manifest, profiles(datasets, manifest), echarts(),
        Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
    Path p = path(datasets);
    datasets.writeFile(p, html.getBytes(StandardCharsets.UTF_8));
    return p;
  }

  /**
   * The page, without Spark: the manifest read into a {@link ReportModel}, drawn by the templates.
   *
   * @param manifest the parsed {@code manifest.json}
   * @param profiles rows of {@code segment_profiles} for the run date (column to value), or empty
   * @param echartsJs the text of {@code echarts.min.js}, inlined
   * @param generatedAt when the report is written (shown in the footer)
   */
  static String html(Map<String, Object> manifest, List<Map<String, Object>> profiles, String echartsJs,
      String generatedAt) {
    return ReportTemplates.render(ReportModelBuilder.build(manifest, profiles, generatedAt), echartsJs);
  }

  /**
   * Writes the report and logs, never throws: a missing report must not turn a good run into a
   * failed one, nor hide why a run failed.
   */
  public static void writeQuietly(Datasets datasets) {
    try {
      LOG.info("run report: {}", write(datasets));
    } catch (RuntimeException | LinkageError e) {
      LOG.warn("run report not written for run_date={}: {}{}", datasets.runDate(), e,
          e.getCause() == null ? "" : " (" + e.getCause() + ")");
    }
  }

  /**
   * This run's segment profiles, only when this run's segment stage succeeded (otherwise the
   * partition could be an earlier run's of the same date).
   */
  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> profiles(Datasets datasets, Map<String, Object> manifest) {
    Object stages = manifest.get("stages");
    Object segment = stages instanceof Map<?, ?> m ? m.get("segment") : null;
    if (!(segment instanceof Map<?, ?> s) || !"succeeded".equals(s.get("status"))) {
      return List.of();
    }
    List<Map<String, Object>> rows = new ArrayList<>();
    // Runs after the stages: its own job group, so the Spark UI does not show nameless jobs.
    org.apache.spark.SparkContext sc = datasets.spark().sparkContext();
    sc.setJobGroup(GROUP, GROUP + ": read " + PROFILES + " run_date=" + datasets.runDate(), false);
    try {
      datasets.readIfPresent(PROFILES).ifPresent(df -> {
        for (Row r : df.limit(MAX_PROFILE_ROWS).collectAsList()) {
          Map<String, Object> row = new LinkedHashMap<>();
          for (StructField f : r.schema().fields()) {
            Object v = r.get(r.fieldIndex(f.name()));
            row.put(f.name(), v instanceof java.util.Date || v instanceof java.time.temporal.Temporal ? v.toString() : v);
          }
          rows.add(row);
        }
      });
    } catch (RuntimeException e) {
      // The page still shows the segment sizes from the manifest.
      LOG.warn("run report: {} not readable, profiles left out: {}", PROFILES, e.toString());
      return List.of();
    } finally {
      sc.clearJobGroup();
    }
    return rows;
  }

  /** The text of echarts.min.js from the webjar on the classpath (shaded into the app jar). */
  static String echarts() {
    try (InputStream in = RunReport.class.getClassLoader().getResourceAsStream(ECHARTS)) {
      if (in == null) {
        throw new IllegalStateException("ECharts not on the classpath (" + ECHARTS
            + "): the app jar must include org.webjars.npm:echarts");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + ECHARTS, e);
    }
  }
}
