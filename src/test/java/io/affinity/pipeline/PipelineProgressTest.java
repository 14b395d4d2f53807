package io.affinity.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.affinity.io.Datasets;
import io.affinity.io.Manifest;
import io.affinity.testing.SparkTestBase;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.Appender;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.WriterAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.layout.PatternLayout;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an operator sees while the chain runs: one log line per stage with its rows and seconds, and
 * every Spark job in a job group named after its stage, with a description that names the stage
 * (the Spark UI's job list), cleared when the stage ends. Uses toy stages; the real chain's jobs are
 * checked the same way in SamplePipelineIT.
 */
class PipelineProgressTest extends SparkTestBase {
  private static final LocalDate RUN_DATE = LocalDate.of(2026, 11, 20);

  @TempDir
  Path out;
  private final List<String[]> jobs = new ArrayList<>();
  private final SparkListener listener = new SparkListener() {
    @Override
    public void onJobStart(SparkListenerJobStart start) {
      synchronized (jobs) {
        jobs.add(new String[] {start.properties().getProperty("spark.jobGroup.id"),
            start.properties().getProperty("spark.job.description")});
      }
    }
  };
  private final StringWriter log = new StringWriter();
  private Appender appender;

  @BeforeEach
  void listen() {
    spark.sparkContext().addSparkListener(listener);
    LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
    Configuration cfg = ctx.getConfiguration();
    appender = WriterAppender.createAppender(PatternLayout.newBuilder().withPattern("%p %m%n").build(), null, log,
        "pipeline-progress-test", false, true);
    appender.start();
    LoggerConfig lc = new LoggerConfig(Pipeline.class.getName(), Level.INFO, true);
    lc.addAppender(appender, Level.INFO, null);
    cfg.addLogger(Pipeline.class.getName(), lc);
    ctx.updateLoggers();
  }

  @AfterEach
  void stopListening() {
    spark.sparkContext().removeSparkListener(listener);
    LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
    ctx.getConfiguration().removeLogger(Pipeline.class.getName());
    ctx.updateLoggers();
    appender.stop();
  }

  /** A stage that runs one Spark job, optionally under its own step description. */
  record CountingStage(String name, long rows, String step) implements Stage {
    @Override
    public StageReport run(StageContext ctx) {
      if (step != null) {
        ctx.spark().sparkContext().setJobDescription(name + ": " + step);
      }
      long n = ctx.spark().range(rows).count();
      StageReport r = new StageReport();
      r.section("rows").put(name, n);
      return r;
    }
  }

  record FailingStage(String name) implements Stage {
    @Override
    public StageReport run(StageContext ctx) {
      ctx.spark().range(3).count();
      throw new DataQualityException("too many bad rows in " + name, null);
    }
  }

  private StageContext context() {
    return new StageContext(spark, RUN_DATE, new Datasets(spark, out.toString(), RUN_DATE));
  }

  private List<String[]> jobsSoFar() {
    try {
      spark.sparkContext().listenerBus().waitUntilEmpty();
    } catch (TimeoutException e) {
      throw new AssertionError("Spark listener events not delivered", e);
    }
    synchronized (jobs) {
      return new ArrayList<>(jobs);
    }
  }

  @Test
  void everyJobIsInItsStagesGroupAndItsDescriptionNamesTheStage() {
    new Pipeline(List.of(new CountingStage("alpha", 5, null), new CountingStage("beta", 7, "step one")), Map.of())
        .run(context());
    List<String[]> seen = jobsSoFar();
    Map<String, List<String>> descriptions = new java.util.TreeMap<>();
    for (String[] job : seen) {
      descriptions.computeIfAbsent(String.valueOf(job[0]), g -> new ArrayList<>()).add(job[1]);
    }
    assertEquals(List.of("alpha", "beta"), List.copyOf(descriptions.keySet()), "every job is in a stage's group");
    assertTrue(descriptions.get("alpha").stream().allMatch("affinity alpha run_date=2026-11-20"::equals),
        descriptions.toString());
    assertTrue(descriptions.get("beta").contains("beta: step one"), "a stage's own step description: " + descriptions);
    assertTrue(descriptions.get("beta").stream().allMatch(d -> d.startsWith("beta: ") || d.startsWith("affinity beta ")),
        descriptions.toString());

    spark.range(2).count(); // after the pipeline: no stage's name sticks to unrelated jobs
    List<String[]> all = jobsSoFar();
    String[] after = all.get(all.size() - 1);
    assertEquals(null, after[0]);
    assertEquals(null, after[1]);
  }

  @Test
  void oneLogLinePerStageWithRowsAndSeconds() {
    new Pipeline(List.of(new CountingStage("alpha", 5, null), new CountingStage("beta", 7, null)), Map.of())
        .run(context());
    List<String> lines = log.toString().lines().toList();
    assertEquals(2, lines.size(), log.toString());
    assertTrue(lines.get(0).matches("INFO stage alpha succeeded in \\d+\\.\\d s: rows \\{alpha=5}"), lines.get(0));
    assertTrue(lines.get(1).matches("INFO stage beta succeeded in \\d+\\.\\d s: rows \\{beta=7}"), lines.get(1));
  }

  @Test
  void aSkippedStageSaysSkippedAndWhyNotSucceeded() {
    StageContext ctx = context();
    new Pipeline(List.of(new SkippedStage("recommend", "no event log (affinity.input.events.path is empty)")), Map.of())
        .run(ctx);
    List<String> lines = log.toString().lines().toList();
    assertEquals(List.of("INFO stage recommend skipped: no event log (affinity.input.events.path is empty)"), lines);
    @SuppressWarnings("unchecked")
    Map<String, Object> entry = (Map<String, Object>) ((Map<String, Object>) new Manifest(ctx.datasets()).read()
        .get("stages")).get("recommend");
    assertEquals("skipped", entry.get("status"));
  }

  @Test
  void aFailedStageLogsOneErrorLineAndTheManifestSaysWhy() {
    Pipeline p = new Pipeline(List.of(new CountingStage("alpha", 5, null), new FailingStage("gamma")), Map.of());
    StageContext ctx = context();
    assertThrows(DataQualityException.class, () -> p.run(ctx));
    List<String> lines = log.toString().lines().toList();
    assertEquals(2, lines.size(), log.toString());
    assertTrue(lines.get(1).matches("ERROR stage gamma failed after \\d+\\.\\d s: too many bad rows in gamma"), lines.get(1));
    List<String[]> seen = jobsSoFar();
    assertEquals("gamma", seen.get(seen.size() - 1)[0], "the failing stage's job ran in its group");
    @SuppressWarnings("unchecked")
    Map<String, Object> gamma = (Map<String, Object>) ((Map<String, Object>) new Manifest(ctx.datasets()).read()
        .get("stages")).get("gamma");
    assertEquals("failed", gamma.get("status"));
    assertEquals("too many bad rows in gamma", gamma.get("error"));
  }
}
