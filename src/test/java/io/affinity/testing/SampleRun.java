package io.affinity.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.affinity.testing.SparkTestBase.Run;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.sql.SparkSession;

/**
 * README command 1 (the whole chain on data-samples/ with conf/application.conf), run once per test
 * JVM and shared by the classes that check its outputs ({@code SamplePipelineIT},
 * {@code ReportRenderIT}): the chain takes over a minute, and running it once per class made the
 * suite slower without checking anything more. The outputs are read-only for the users of this
 * class; a test that reruns a stage works on a {@link #copyTo copy}.
 */
public final class SampleRun {
  /**
   * @param out the output root of the run
   * @param run exit code and what the command line printed
   * @param jobs (job group, description) of every Spark job the run started
   */
  public record Result(Path out, Run run, List<String[]> jobs) {}

  private static Result result;

  private SampleRun() {}

  /** Runs the chain on the given session the first time; later calls return the same result. */
  public static synchronized Result get(SparkSession spark) {
    if (result != null) {
      return result;
    }
    Path out;
    try {
      out = Files.createTempDirectory("affinity-sample-run");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteQuietly(out)));
    List<String[]> jobs = Collections.synchronizedList(new ArrayList<>());
    SparkListener listener = new SparkListener() {
      @Override
      public void onJobStart(SparkListenerJobStart start) {
        jobs.add(new String[] {start.properties().getProperty("spark.jobGroup.id"),
            start.properties().getProperty("spark.job.description")});
      }
    };
    spark.sparkContext().addSparkListener(listener);
    Run r;
    try {
      r = SparkTestBase.cli("all", "--config", "conf/application.conf", "-Daffinity.output.root=" + out);
    } finally {
      try {
        spark.sparkContext().listenerBus().waitUntilEmpty();
      } catch (java.util.concurrent.TimeoutException e) {
        throw new IllegalStateException("Spark listener bus did not drain", e);
      }
      spark.sparkContext().removeSparkListener(listener);
    }
    assertEquals(0, r.exitCode(), "the sample chain failed: " + r.stderr());
    result = new Result(out, r, List.copyOf(jobs));
    return result;
  }

  /** Copies the whole output root of the shared run into {@code target}, for a test that changes it. */
  public static Path copyTo(Result from, Path target) throws IOException {
    return copyTree(from.out(), target);
  }

  /** Copies a directory tree into {@code target} (created as needed). */
  public static Path copyTree(Path from, Path target) throws IOException {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Path dest = target.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(dest);
        } else {
          Files.copy(p, dest);
        }
      }
    }
    return target;
  }

  private static void deleteQuietly(Path root) {
    try (Stream<Path> files = Files.walk(root)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      // A temp directory left behind is not worth failing a test run over.
    }
  }
}
