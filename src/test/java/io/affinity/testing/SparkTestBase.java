package io.affinity.testing;

import com.holdenkarau.spark.testing.JavaDataFrameSuiteBase;
import com.holdenkarau.spark.testing.SharedJavaSparkContext;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * One local[2] SparkSession per test class (UI off, 2 shuffle partitions, checkpoints in a temp
 * dir), created through spark-testing-base so its DataFrame assertions are available as
 * {@link #frames()}. Composition, not inheritance: JUnit 5 cannot discover tests in a class that
 * extends the JUnit 4 base.
 */
public abstract class SparkTestBase {
  private static JavaDataFrameSuiteBase base;
  private static Path checkpoints;
  protected static SparkSession spark;

  @BeforeAll
  static void startSpark() throws IOException {
    checkpoints = Files.createTempDirectory("affinity-test-ckpt");
    base = new JavaDataFrameSuiteBase() {
      @Override
      public SparkConf conf() {
        return new SparkConf()
            .setMaster("local[2]")
            .setAppName("affinity-test")
            .set("spark.ui.enabled", "false")
            .set("spark.driver.host", "localhost")
            .set("spark.sql.shuffle.partitions", "2")
            .set("spark.default.parallelism", "2")
            .set("spark.sql.session.timeZone", "UTC")
            .set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
            .set("spark.ui.showConsoleProgress", "false");
      }

      @Override
      public boolean enableHiveSupport() {
        return false;
      }
    };
    base.runBefore();
    spark = base.spark();
    spark.sparkContext().setCheckpointDir(checkpoints.toString());
  }

  @AfterAll
  static void stopSpark() throws IOException {
    SharedJavaSparkContext.runAfterClass();
    SparkSession.clearActiveSession();
    SparkSession.clearDefaultSession();
    spark = null;
    base = null;
    // One directory per test class; without this a suite run leaves a few hundred behind in /tmp.
    if (checkpoints != null && Files.exists(checkpoints)) {
      try (java.util.stream.Stream<Path> walk = Files.walk(checkpoints)) {
        for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
    checkpoints = null;
  }

  /** spark-testing-base's DataFrame assertions (exact, approximate, order-free), for any Spark build. */
  protected static DataFrameAssertions frames() {
    return new DataFrameAssertions(base);
  }

  /** The outcome of one command line run in-process. */
  public record Run(int exitCode, String stdout, String stderr) {}

  /**
   * Runs the command line in this JVM (sharing this class's session), with
   * {@code -Daffinity.spark.shuffle-partitions=2} added, capturing stdout and stderr.
   */
  public static Run cli(String... args) {
    List<String> all = new ArrayList<>(Arrays.asList(args));
    all.add("-Daffinity.spark.shuffle-partitions=2");
    return capture(all.toArray(new String[0]));
  }

  /** Runs the command line exactly as given (no Spark needed for configuration errors). */
  public static Run capture(String... args) {
    return capture(System.getenv(), args);
  }

  /** Runs the command line exactly as given, with {@code environment} as the process environment. */
  public static Run capture(java.util.Map<String, String> environment, String... args) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    int code;
    try {
      System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
      code = io.affinity.Main.run(args, environment);
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
    Run r = new Run(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    if (r.exitCode() != 0) {
      err.println("[cli exit " + r.exitCode() + "] " + r.stderr());
    }
    return r;
  }
}
