package io.affinity.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The benchmark harness at a tiny size (20k events, one run of each side), so that the command of
 * docs/BENCHMARKS.md keeps working: it must generate the data, run the chain and the bare baseline,
 * and produce a table with every stage and every step timed and every ratio computed. No timing is
 * asserted (the machine may be shared); that is what the hand-run sizes are for.
 *
 * <p>Runs {@code submit-scripts/benchmark.sh} with {@code AFFINITY_NO_BUILD=1} on the build's
 * target/classes and target/test-classes, with this JVM's classpath for the dependencies.
 */
class BenchmarkSmokeIT {
  @TempDir
  static Path tmp;

  @Test
  @SuppressWarnings("unchecked")
  void tinyBenchmarkProducesACompleteTable() throws IOException, InterruptedException {
    Path out = tmp.resolve("out");
    ProcessBuilder pb = new ProcessBuilder("bash", "submit-scripts/benchmark.sh", "--events", "20k", "--runs", "1",
        "--driver-memory", "1g", "--out", out.toString(), "--data", tmp.resolve("data").toString())
        .redirectErrorStream(true)
        .redirectOutput(tmp.resolve("benchmark.log").toFile());
    pb.environment().put("AFFINITY_NO_BUILD", "1");
    // This JVM's classpath holds Spark and the app: the test may run before prepare-package has
    // written target/local-classpath.txt.
    pb.environment().put("AFFINITY_CLASSPATH", System.getProperty("java.class.path"));
    Process p = pb.start();
    boolean done = p.waitFor(10, TimeUnit.MINUTES);
    String log = Files.readString(tmp.resolve("benchmark.log"), StandardCharsets.UTF_8);
    if (!done) {
      p.destroyForcibly();
    }
    assertTrue(done, "benchmark.sh did not finish in 10 minutes:\n" + log);
    assertEquals(0, p.exitValue(), "benchmark.sh failed:\n" + log);

    Map<String, Object> r = BenchmarkReport.build(out, "smoke");
    assertEquals(1, r.get("runs"));
    assertEquals(1, r.get("baseline_runs"));
    assertTrue(((Number) r.get("events")).longValue() >= 19_000, "events read: " + r.get("events"));

    Map<String, Object> stages = (Map<String, Object>) r.get("stages");
    for (String st : new String[] {"ingest", "features", "segment", "propensity", "recommend"}) {
      Map<String, Object> row = (Map<String, Object>) stages.get(st);
      assertNotNull(row, "stage " + st + " in " + stages.keySet());
      assertTrue((Double) row.get("seconds") > 0, st + " seconds: " + row);
      assertTrue(((Number) row.get("events_per_second")).doubleValue() > 0, st + " events/s: " + row);
      assertTrue((Double) row.get("peak_heap_mb") > 0, st + " peak heap: " + row);
    }

    Map<String, Object> steps = (Map<String, Object>) r.get("steps");
    assertEquals(BenchmarkReport.STEPS.size(), steps.size());
    for (Map.Entry<String, Object> e : steps.entrySet()) {
      Map<String, Object> row = (Map<String, Object>) e.getValue();
      double a = (Double) row.get("affinity_seconds");
      double b = (Double) row.get("baseline_seconds");
      assertTrue(a > 0 && b > 0, e.getKey() + ": " + row);
      assertEquals(Math.round(a / b * 100) / 100.0, (Double) row.get("ratio"), 1e-9, e.getKey());
    }

    // What the command prints and leaves behind: the Markdown table and its JSON and CSV forms.
    String md = Files.readString(out.resolve("results.md"), StandardCharsets.UTF_8);
    assertTrue(md.contains("| ALS training (final fit, same params) |"), md);
    assertTrue(log.contains("| chain total (sum of stages) vs sum of bare steps |"), log);
    assertTrue(Files.readString(out.resolve("results.csv")).lines().count() > steps.size() + stages.size(), "csv rows");
    assertTrue(Files.exists(out.resolve("results.json")));
  }
}
