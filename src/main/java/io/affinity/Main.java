package io.affinity;

import com.typesafe.config.Config;
import io.affinity.config.ConfigLoader;
import io.affinity.config.SettingsException;
import io.affinity.features.CutoffState;
import io.affinity.features.FeaturesStage;
import io.affinity.ingest.IngestStage;
import io.affinity.io.Datasets;
import io.affinity.io.MissingInputException;
import io.affinity.io.OutputRoot;
import io.affinity.pipeline.DataQualityException;
import io.affinity.pipeline.ModelQualityException;
import io.affinity.pipeline.Pipeline;
import io.affinity.pipeline.SkippedStage;
import io.affinity.pipeline.SparkSessions;
import io.affinity.pipeline.Stage;
import io.affinity.pipeline.StageContext;
import io.affinity.propensity.PropensityStage;
import io.affinity.publish.PublishStage;
import io.affinity.recommend.RecommendStage;
import io.affinity.report.RunReport;
import io.affinity.segment.SegmentStage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Entry point for spark-submit and local runs. Thin on purpose: parse the command line, load and
 * validate all settings before Spark starts, run the stages, map the outcome to an exit code.
 */
public final class Main {
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  public static final int OK = 0;
  public static final int FAILED = 1;
  public static final int USAGE = 2;
  public static final int DATA_QUALITY = 3;
  public static final int MODEL_QUALITY = 4;

  private Main() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the command line and returns the exit code (never calls System.exit; tests call this). */
  public static int run(String[] args) {
    return run(args, System.getenv());
  }

  /**
   * Runs the command line with the given environment (the pseudonymization key is read from it) and
   * returns the exit code.
   */
  public static int run(String[] args, Map<String, String> environment) {
    RunSettings settings;
    List<Stage> stages;
    Cli cli;
    try {
      cli = Cli.parse(args);
      if (cli.help()) {
        System.out.println(Cli.usage());
        return OK;
      }
      Config config = ConfigLoader.load(cli.configFile(), cli.overrides());
      settings = RunSettings.from(config, cli.runDate(), environment);
      stages = stages(cli.stage(), settings);
      // Before anything is written (Spark creates the checkpoint directory under the root).
      OutputRoot.claim(settings.outputRoot(), OutputRoot.hadoopConf(settings.spark().conf()),
          System.getProperty("user.home"));
    } catch (SettingsException e) {
      System.err.println("affinity: configuration error: " + e.getMessage());
      return USAGE;
    } catch (java.io.UncheckedIOException e) {
      System.err.println("affinity: error: " + e.getMessage() + ": " + e.getCause().getMessage());
      return USAGE;
    }
    LOG.info("affinity {} run_date={} output={} config digest {}\n{}", cli.stage(), settings.runDate(),
        settings.outputRoot(), settings.configDigest(), ConfigLoader.redacted(settings.renderedConfig()));

    boolean ownSession = SparkSession.getActiveSession().isEmpty() && SparkSession.getDefaultSession().isEmpty();
    SparkSession spark = null;
    Datasets datasets = null;
    boolean succeeded = false;
    try {
      spark = SparkSessions.create(settings.spark());
      datasets = new Datasets(spark, settings.outputRoot(), settings.runDate(),
          settings.publish().pseudonymizer());
      Map<String, Object> info = new LinkedHashMap<>();
      info.put("affinity_version", version());
      info.put("spark_version", spark.version());
      info.put("java_version", System.getProperty("java.version"));
      info.put("config_digest", settings.configDigest());
      runAndReport(new Pipeline(stages, info), new StageContext(spark, settings.runDate(), datasets));
      System.out.println("affinity: " + cli.stage() + " done for run_date=" + settings.runDate()
          + "\n  outputs:  " + settings.outputRoot()
          + "\n  manifest: " + datasets.path("runs") + "/manifest.json"
          + "\n" + reportLine(datasets));
      succeeded = true;
      return OK;
    } catch (SettingsException | MissingInputException e) {
      System.err.println("affinity: error: " + e.getMessage());
      return USAGE;
    } catch (DataQualityException e) {
      System.err.println("affinity: " + e.getMessage());
      return DATA_QUALITY;
    } catch (ModelQualityException e) {
      System.err.println("affinity: " + e.getMessage());
      return MODEL_QUALITY;
    } catch (RuntimeException e) {
      LOG.error("affinity failed", e);
      System.err.println("affinity: failed: " + rootMessage(e) + " (stack trace in the log above)");
      return FAILED;
    } finally {
      if (!succeeded && datasets != null) {
        // After the error message: the report of a failed run says which stage failed and why.
        System.err.println(reportLine(datasets));
      }
      if (ownSession && spark != null) {
        removeCheckpoints(spark);
        spark.stop();
      }
    }
  }

  /**
   * Runs the stages, then writes the run report ({@code runs/run_date=D/report.html}) whatever
   * happened, so a failed run also has a page that says why. The report never replaces the stage's
   * exception: if it cannot be written, that is only logged as a warning. Here and not in
   * {@link Pipeline} because the report reads every stage's manifest entry and sits above them.
   */
  public static void runAndReport(Pipeline pipeline, StageContext ctx) {
    try {
      pipeline.run(ctx);
    } finally {
      RunReport.writeQuietly(ctx.datasets());
    }
  }

  /**
   * Removes this application's checkpoint directory (ALS lineage cuts, propensity scratch): Spark
   * names it {@code <checkpoint-dir>/<uuid>} per SparkContext and never deletes it, so without this
   * every night would leave its checkpoints behind. Only for a session this run created: a shared
   * session (tests, notebooks) may still need them.
   */
  static void removeCheckpoints(SparkSession spark) {
    scala.Option<String> dir = spark.sparkContext().getCheckpointDir();
    if (dir.isEmpty()) {
      return;
    }
    org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(dir.get());
    try {
      p.getFileSystem(spark.sparkContext().hadoopConfiguration()).delete(p, true);
    } catch (IOException | RuntimeException e) {
      LOG.warn("checkpoint directory {} not removed: {}", p, e.toString());
    }
  }

  /** The stages a command names, constructed with their settings. */
  static List<Stage> stages(String name, RunSettings s) {
    List<Stage> all = new ArrayList<>();
    all.add(new IngestStage(new IngestStage.Inputs(s.events(), s.ratings(), s.users(), s.items(), s.eventTypes(),
        s.ingest(), s.propensity().label().fromTable())));
    Optional<CutoffState.Spec> cutoff = s.propensity().label().fromTable() ? Optional.empty()
        : Optional.of(new CutoffState.Spec(s.propensity().horizonDays(), s.ingest().futureToleranceHours()));
    all.add(new FeaturesStage(s.runDate(), s.eventTypes(), s.features(), s.events().csv().present(),
        s.propensity().label().fromTable(), cutoff));
    all.add(new SegmentStage(s.segment(), s.gates().segment()));
    all.add(new PropensityStage(s.eventTypes(), s.propensity(), s.gates().propensity(), cutoff,
        s.fairness().enabled()));
    boolean events = s.events().csv().present();
    all.add(events
        ? new RecommendStage(s.recommend(), s.eventTypes(), s.features(), s.gates().recommend(s.recommend().k()))
        : new SkippedStage("recommend", "no event log (affinity.input.events.path is empty): recommendations "
            + "need events; audience is written without top_items"));
    all.add(new PublishStage(s.publish().control(), events && s.stages().contains("recommend"),
        s.stages().contains("propensity"), s.fairness()));
    if (name.equals("all")) {
      return all.stream().filter(st -> s.stages().contains(st.name())).toList();
    }
    for (Stage st : all) {
      if (st.name().equals(name)) {
        return List.of(st);
      }
    }
    throw new SettingsException(null, "unknown stage '" + name + "'");
  }

  /** The last line a run prints: where its report is (runAndReport writes it, also on failure). */
  private static String reportLine(Datasets datasets) {
    Path report = RunReport.path(datasets);
    boolean written;
    try {
      written = datasets.fs(report).exists(report);
    } catch (IOException | RuntimeException e) {
      written = false;
    }
    return "  report:   " + report + (written ? "" : " (not written: see the warning in the log)");
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String m = t.getMessage();
    return t == e ? String.valueOf(m) : e.getMessage() + " <- " + t.getClass().getSimpleName() + ": " + m;
  }

  private static String version() {
    String v = Main.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }
}
