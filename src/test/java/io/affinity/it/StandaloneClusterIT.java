package io.affinity.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.affinity.sample.SampleGenerator;
import io.affinity.testing.OutputTree;
import io.affinity.testing.SmallSample;
import io.affinity.testing.SparkTestBase;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The app jar on a real Spark standalone cluster on 127.0.0.1, once per Spark version of
 * {@code cluster.spark.versions} (the pom: 4.0.1; submit-scripts/test-all.sh, which CI runs, passes
 * 4.0.1, 4.1.0 and 4.2.0; 3.5.9 in the spark-3.5 profile). Each run starts a Master and a Worker as their own JVMs from that version's
 * jars only (target/spark-dist/spark-&lt;version&gt;/jars, laid out by .ci/spark-dist/fetch.sh), and submits
 * the shaded jar through {@code submit-scripts/affinity-submit.sh --spark-jars ... --master spark://...}
 * — the wrapper users run — so driver, Master, Worker and executors are all that Spark. The whole
 * chain runs on a small generated sample ({@link SmallSample}). Every stage must succeed, executors
 * must have run on the Worker, and the outputs must hold the rows the generated input implies. Master
 * and Worker are always stopped.
 */
@ParameterizedClass(name = "Spark {0}")
@MethodSource("sparkVersions")
class StandaloneClusterIT extends SparkTestBase {
  private static final LocalDate RUN_DATE = SmallSample.RUN_DATE;
  private static final List<Process> DAEMONS = new ArrayList<>();
  /**
   * JVM options of every process of the cluster run (Master, Worker and, through the Worker's
   * environment, the executors; spark-submit's driver). C1 only: four cold JVMs share two cores
   * here, and the chain ends before C2's compile work pays back (4.0.1 alone: the chain took 124 s
   * with C2 and 111 s with C1; the whole Maven run, C1 in every JVM of it, 252 CPU seconds against 151).
   * Compilation does not change what runs, so what the test checks is the same.
   */
  static final String CLUSTER_JVM_OPTIONS = "-XX:TieredStopAtLevel=1";

  @TempDir
  static Path tmp;
  static Path clusterOut;
  static SampleGenerator.Summary generated;
  static Path workDir;
  static Path logs;
  static int submitExit;
  static String submitLog;
  static String masterUrl;

  @Parameter
  String sparkVersion;

  /** The versions the pom names (failsafe system properties), each with its own jars folder. */
  static List<String> sparkVersions() {
    String versions = System.getProperty("affinity.it.spark-versions", "");
    assertFalse(versions.isBlank(), "affinity.it.spark-versions not set: run through mvn verify (see the pom's failsafe setup)");
    return List.of(versions.split(","));
  }

  private static Path sparkHome(String version) {
    return Path.of(System.getProperty("affinity.it.spark-dists", "target/spark-dist"), "spark-" + version);
  }

  @BeforeParameterizedClassInvocation
  static void startClusterAndSubmit(String version) throws Exception {
    Path sparkHome = sparkHome(version);
    assertTrue(Files.isRegularFile(sparkHome.resolve("jars/.complete")),
        sparkHome + "/jars missing: run through mvn verify (.ci/spark-dist/fetch.sh lays it out at pre-integration-test)");
    // The Worker launches executors from $SPARK_HOME/jars; the daemons start from the same jars.
    String classpath = sparkHome.toAbsolutePath().resolve("jars") + File.separator + "*";
    Path appJar = Path.of(System.getProperty("affinity.it.app-jar"));
    assertTrue(Files.isRegularFile(appJar), "app jar " + appJar + " missing: run through mvn verify");
    Path run = Files.createDirectories(tmp.resolve("spark-" + version));
    logs = Files.createDirectories(run.resolve("logs"));
    workDir = Files.createDirectories(run.resolve("worker"));
    long started = System.nanoTime();

    int masterPort = freePort();
    masterUrl = "spark://127.0.0.1:" + masterPort;
    Path masterLog = logs.resolve("master.log");
    Path workerLog = logs.resolve("worker.log");
    DAEMONS.add(daemon(classpath, sparkHome, masterLog, "org.apache.spark.deploy.master.Master",
        "--host", "127.0.0.1", "--port", Integer.toString(masterPort), "--webui-port", Integer.toString(freePort())));
    waitFor(masterLog, "I have been elected leader", 180);
    DAEMONS.add(daemon(classpath, sparkHome, workerLog, "org.apache.spark.deploy.worker.Worker",
        "--host", "127.0.0.1", "--port", Integer.toString(freePort()), "--webui-port", Integer.toString(freePort()),
        "--cores", "2", "--memory", "1536m", "--work-dir", workDir.toString(), masterUrl));
    waitFor(workerLog, "Successfully registered with master", 180);

    SmallSample.Written sample = SmallSample.write(run, 7L);
    Path conf = sample.conf();
    generated = sample.summary();
    clusterOut = run.resolve("cluster-out");

    Path submitOut = logs.resolve("submit.log");
    ProcessBuilder submit = new ProcessBuilder("bash", "submit-scripts/affinity-submit.sh", "--master", masterUrl,
        "--spark-jars", sparkHome.resolve("jars").toString(), "--jar", appJar.toString(),
        "--driver-memory", "1g", "--executor-memory", "1g", "--total-executor-cores", "2", "--conf-file", conf.toString(),
        "all", "--run-date", RUN_DATE.toString(), "-Daffinity.output.root=" + clusterOut,
        "-Daffinity.spark.shuffle-partitions=2")
        .redirectErrorStream(true).redirectOutput(submitOut.toFile());
    submit.environment().remove("SPARK_HOME"); // the wrapper's no-install path: SparkSubmit from that version's jars
    submit.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    submit.environment().put("JAVA_TOOL_OPTIONS", clusterJvmOptions());
    Process p = submit.start();
    // A hang guard, not a timing: generous because on a busy 2-core machine the chain runs many times slower.
    if (!p.waitFor(900, TimeUnit.SECONDS)) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      fail("spark-submit did not finish in 900 s; log:\n" + tail(submitOut));
    }
    submitExit = p.exitValue();
    submitLog = Files.readString(submitOut, StandardCharsets.UTF_8);
    System.out.printf("StandaloneClusterIT: Spark %s cluster started and the chain submitted in %.0f s (exit %d)%n",
        version, (System.nanoTime() - started) / 1e9, submitExit);
  }

  @AfterParameterizedClassInvocation
  static void stopCluster() {
    for (int i = DAEMONS.size() - 1; i >= 0; i--) { // Worker first: it stops its executors
      Process d = DAEMONS.get(i);
      d.descendants().forEach(ProcessHandle::destroy);
      d.destroy();
      try {
        if (!d.waitFor(20, TimeUnit.SECONDS)) {
          d.descendants().forEach(ProcessHandle::destroyForcibly);
          d.destroyForcibly();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        d.destroyForcibly();
      }
    }
    DAEMONS.clear();
  }

  @Test
  void masterWorkerAndDriverRunThatSparkVersion() throws IOException {
    String running = "Running Spark version " + sparkVersion;
    assertTrue(Files.readString(logs.resolve("master.log"), StandardCharsets.UTF_8).contains(running), "master.log: " + running);
    assertTrue(Files.readString(logs.resolve("worker.log"), StandardCharsets.UTF_8).contains(running), "worker.log: " + running);
    // The driver logs at WARN (the app's log4j2 configuration), so its version is read from what it
    // recorded: the manifest's spark_version is SparkSession.version() of the driver.
    assertEquals(sparkVersion, manifest().path("spark_version").asText(), "the driver's Spark version");
  }

  @Test
  void theWrapperSubmitsToTheClusterAndEveryStageSucceeds() throws IOException {
    assertEquals(0, submitExit, "Spark " + sparkVersion + ": exit code of affinity-submit.sh; log:\n" + submitLog);
    assertTrue(submitLog.contains("affinity-submit.sh: java ") && submitLog.contains("--master " + masterUrl),
        "the wrapper echoes the final command:\n" + submitLog.lines().findFirst().orElse(""));
    assertTrue(submitLog.contains("affinity: all done for run_date=" + RUN_DATE), submitLog);
    JsonNode stages = manifest().path("stages");
    List<String> names = new ArrayList<>();
    stages.fieldNames().forEachRemaining(names::add);
    assertTrue(names.containsAll(List.of("ingest", "features", "segment", "propensity", "recommend")), names.toString());
    for (String s : names) {
      assertEquals("succeeded", stages.path(s).path("status").asText(), s + ": " + stages.path(s));
    }
    // ALS checkpoints went to <root>/_checkpoints/<uuid>; the run removes its own when it ends.
    Path checkpoints = clusterOut.resolve("_checkpoints");
    try (java.util.stream.Stream<Path> left = Files.exists(checkpoints) ? Files.list(checkpoints) : java.util.stream.Stream.empty()) {
      assertEquals(List.of(), left.toList(), "checkpoint directories left behind");
    }
  }

  @Test
  void executorsRanOnTheWorker() throws IOException {
    // The Worker keeps one directory per application and executor, with the executor's stderr.
    List<Path> executorLogs;
    try (Stream<Path> s = Files.walk(workDir)) {
      executorLogs = s.filter(f -> f.getFileName().toString().equals("stderr")).toList();
    }
    assertFalse(executorLogs.isEmpty(), "no executor ran under " + workDir);
    boolean ranTasks = false;
    for (Path f : executorLogs) {
      ranTasks |= Files.readString(f, StandardCharsets.UTF_8).contains("Running task");
    }
    assertTrue(ranTasks, "an executor log shows tasks: " + executorLogs);
  }

  @Test
  void outputsHoldTheRowsTheGeneratedInputImplies() throws IOException {
    TreeMap<String, Path> written = OutputTree.datasets(clusterOut, RUN_DATE);
    Map<String, Long> rows = new TreeMap<>();
    for (Map.Entry<String, Path> e : written.entrySet()) {
      rows.put(e.getKey(), spark.read().parquet(e.getValue().toString()).count());
    }
    JsonNode events = manifest().path("stages").path("ingest").path("sources").path("events");
    int planted = generated.badRowsPerFile().values().stream().mapToInt(Integer::intValue).sum();
    long users = SmallSample.USERS;
    Map<String, Long> expected = new TreeMap<>();
    expected.put("clean/users", users);
    expected.put("clean/items", (long) generated.items());
    expected.put("clean/ratings", generated.ratings());
    expected.put("clean/events", generated.events() - events.path("duplicates").asLong());
    expected.put("quarantine", (long) planted);
    expected.put("features/users", users);
    expected.put("segments", users);
    expected.put("segment_profiles", (long) SmallSample.SEGMENTS);
    expected.put("propensity", users);
    expected.put("recommendations", users * 10); // affinity.recommend.top-n
    Map<String, Long> actual = new TreeMap<>(rows);
    actual.keySet().retainAll(expected.keySet());
    assertEquals(expected, actual, "all datasets: " + rows);
    assertTrue(events.path("duplicates").asLong() > 0, "the planted duplicates were removed: " + events);
    assertTrue(rows.keySet().containsAll(List.of("features/items", "features/interactions", "similar_items",
        "segment_centroids", "idmaps/users", "idmaps/items")), rows.keySet().toString());
  }

  private static JsonNode manifest() throws IOException {
    return new ObjectMapper().readTree(clusterOut.resolve("runs/run_date=" + RUN_DATE + "/manifest.json").toFile());
  }

  private static Process daemon(String classpath, Path sparkHome, Path log, String mainClass, String... args)
      throws IOException {
    List<String> cmd = new ArrayList<>(List.of(javaBin(), "-Xmx512m", "-cp", classpath));
    cmd.add(mainClass);
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("SPARK_HOME", sparkHome.toString());
    pb.environment().put("SPARK_SCALA_VERSION", System.getProperty("affinity.it.scala-binary", "2.13"));
    pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    pb.environment().put("SPARK_WORKER_DIR", workDir.toString());
    pb.environment().put("JAVA_TOOL_OPTIONS", clusterJvmOptions()); // the executors inherit it from the Worker
    return pb.start();
  }

  /** Ours after the inherited ones (a proxy or agent the machine sets), so that ours win where they overlap. */
  private static String clusterJvmOptions() {
    String inherited = System.getenv("JAVA_TOOL_OPTIONS");
    return inherited == null || inherited.isBlank() ? CLUSTER_JVM_OPTIONS : inherited + " " + CLUSTER_JVM_OPTIONS;
  }

  private static String javaBin() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private static void waitFor(Path log, String line, int seconds) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < deadline) {
      if (Files.exists(log) && Files.readString(log, StandardCharsets.UTF_8).contains(line)) {
        return;
      }
      for (Process d : DAEMONS) {
        if (!d.isAlive()) {
          fail("a cluster daemon exited (" + d.exitValue() + "); " + log + ":\n" + tail(log));
        }
      }
      Thread.sleep(250);
    }
    fail("no '" + line + "' in " + seconds + " s; " + log + ":\n" + tail(log));
  }

  private static String tail(Path log) throws IOException {
    if (!Files.exists(log)) {
      return "(no log)";
    }
    List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
