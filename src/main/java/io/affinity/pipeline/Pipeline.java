package io.affinity.pipeline;

import io.affinity.io.Manifest;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs stages in order for one run date, timing each, logging one line per stage and recording
 * status, seconds and the stage's report in the manifest, also when the stage fails. The run report
 * is written from the manifest by the caller ({@code io.affinity.Main}), which sits above this layer.
 */
public final class Pipeline {
  /** Report key of a stage that did not apply ({@link SkippedStage}): its status is then "skipped". */
  public static final String SKIPPED = "skipped";

  private static final Logger LOG = LoggerFactory.getLogger(Pipeline.class);
  private final List<Stage> stages;
  private final Map<String, Object> runInfo;

  /**
   * @param stages the stages to run, in order
   * @param runInfo top-level manifest fields (config digest, versions)
   */
  public Pipeline(List<Stage> stages, Map<String, Object> runInfo) {
    this.stages = stages;
    this.runInfo = runInfo;
  }

  /** Runs the stages in order; the first stage that throws stops the run with its exception. */
  public void run(StageContext ctx) {
    Manifest manifest = new Manifest(ctx.datasets());
    Map<String, Object> top = new LinkedHashMap<>(runInfo);
    top.put("run_date", ctx.runDate().toString());
    for (Stage stage : stages) {
      SparkSession spark = ctx.spark();
      spark.sparkContext().setJobGroup(stage.name(), "affinity " + stage.name() + " run_date=" + ctx.runDate(), false);
      Instant start = Instant.now();
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("status", "running");
      entry.put("started_at", start.toString());
      manifest.update(top, stage.name(), entry);
      HeapSampler heap = HeapSampler.start();
      try {
        StageReport report = stage.run(ctx);
        entry.put("status", report.get(SKIPPED) != null ? "skipped" : "succeeded");
        entry.put("seconds", seconds(start));
        entry.putAll(heap.peaks());
        entry.putAll(report.asMap());
        manifest.update(top, stage.name(), entry);
        if (report.get(SKIPPED) != null) {
          LOG.info("stage {} skipped: {}", stage.name(), report.get(SKIPPED));
        } else {
          LOG.info("stage {} succeeded in {} s: {}", stage.name(), entry.get("seconds"), summary(report));
        }
      } catch (RuntimeException e) {
        entry.put("status", "failed");
        entry.put("seconds", seconds(start));
        entry.put("error", e.getMessage());
        entry.putAll(heap.peaks());
        if (e instanceof DataQualityException dq && dq.report() != null) {
          entry.putAll(dq.report().asMap());
        } else if (e instanceof ModelQualityException mq && mq.report() != null) {
          entry.putAll(mq.report().asMap());
        }
        manifest.update(top, stage.name(), entry);
        LOG.error("stage {} failed after {} s: {}", stage.name(), entry.get("seconds"), e.getMessage());
        throw e;
      } finally {
        heap.close();
        spark.sparkContext().clearJobGroup();
      }
    }
  }

  private static double seconds(Instant start) {
    return Math.round((Instant.now().toEpochMilli() - start.toEpochMilli()) / 100.0) / 10.0;
  }

  /** The row counts of a report in one short line. */
  @SuppressWarnings("unchecked")
  private static String summary(StageReport report) {
    Object rows = report.get("rows");
    if (rows != null) {
      return "rows " + rows;
    }
    Object sources = report.get("sources");
    if (sources instanceof Map<?, ?> m) {
      StringBuilder sb = new StringBuilder();
      for (Map.Entry<?, ?> e : m.entrySet()) {
        Map<String, Object> c = (Map<String, Object>) e.getValue();
        sb.append(e.getKey()).append(" read ").append(c.get("read")).append(" clean ").append(c.get("clean"))
            .append(" quarantined ").append(c.get("quarantined")).append(" duplicates ").append(c.get("duplicates"));
        if (c.get("after_run_date") instanceof Number n && n.longValue() > 0) {
          sb.append(" after_run_date ").append(n);
        }
        sb.append("; ");
      }
      return sb.toString();
    }
    return "";
  }
}
