package io.affinity.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command lines {@code submit-scripts/affinity-submit.sh --dry-run} builds for each master and
 * deploy mode, argument by argument, and its usage errors (exit 2 with a message). A fake
 * SPARK_HOME stands in for a Spark install; StandaloneClusterIT runs the script for real.
 */
class SubmitScriptTest {
  static final Path SCRIPT = Path.of("submit-scripts/affinity-submit.sh").toAbsolutePath();

  @TempDir
  static Path dir;
  static Path sparkHome;
  static Path jar;
  static Path conf;

  @BeforeAll
  static void fakeSparkInstall() throws IOException {
    sparkHome = dir.resolve("spark");
    Path submit = Files.createDirectories(sparkHome.resolve("bin")).resolve("spark-submit");
    Files.writeString(submit, "#!/bin/sh\necho \"fake spark-submit $*\"\n");
    Files.setPosixFilePermissions(submit, PosixFilePermissions.fromString("rwxr-xr-x"));
    jar = Files.writeString(dir.resolve("affinity-9.9.jar"), "not really a jar");
    conf = Files.writeString(dir.resolve("prod.conf"), "affinity.output.root = \"hdfs:///affinity\"\n");
  }

  record Result(int code, String stdout, String stderr) {}

  static Result run(Map<String, String> env, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("bash", SCRIPT.toString()));
    cmd.addAll(Arrays.asList(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().remove("SPARK_HOME");
    pb.environment().putAll(env);
    Path out = Files.createTempFile(dir, "out", ".txt");
    Path err = Files.createTempFile(dir, "err", ".txt");
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    Process p = pb.start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "script finished");
    return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8).trim(),
        Files.readString(err, StandardCharsets.UTF_8).trim());
  }

  static Result withSpark(String... args) throws IOException, InterruptedException {
    return run(Map.of("SPARK_HOME", sparkHome.toString()), args);
  }

  static String submit() {
    return sparkHome.resolve("bin/spark-submit").toString();
  }

  @Test
  void yarnClusterModeShipsTheConfigAndPassesItsFileName() throws Exception {
    Result r = withSpark("--dry-run", "--master", "yarn", "--deploy-mode", "cluster", "--driver-memory", "4g",
        "--executor-memory", "8g", "--executor-cores", "2", "--num-executors", "10", "--jar", jar.toString(),
        "--conf-file", conf.toString(), "--", "all", "--run-date", "2026-11-20", "-Daffinity.spark.shuffle-partitions=400");
    assertEquals(0, r.code(), r.stderr());
    assertEquals(List.of(submit(), "--master", "yarn", "--deploy-mode", "cluster", "--class", "io.affinity.Main",
        "--name", "affinity-all-2026-11-20", "--driver-memory", "4g", "--executor-memory", "8g", "--executor-cores", "2",
        "--num-executors", "10", "--files", conf.toString(), jar.toString(),
        "all", "--run-date", "2026-11-20", "-Daffinity.spark.shuffle-partitions=400", "--config", "prod.conf"),
        List.of(r.stdout().split(" ")));
  }

  @Test
  void yarnClientModePassesTheLocalPath() throws Exception {
    Result r = withSpark("--dry-run", "--master", "yarn", "--jar", jar.toString(), "--conf-file", conf.toString(),
        "ingest", "--run-date", "2026-11-21");
    assertEquals(0, r.code(), r.stderr());
    assertEquals(List.of(submit(), "--master", "yarn", "--deploy-mode", "client", "--class", "io.affinity.Main",
        "--name", "affinity-ingest-2026-11-21", "--files", conf.toString(), jar.toString(),
        "ingest", "--run-date", "2026-11-21", "--config", conf.toString()), List.of(r.stdout().split(" ")));
  }

  @Test
  void kubernetesClusterModeTakesAnImageJarAndARemoteConfig() throws Exception {
    Result r = withSpark("--dry-run", "--master", "k8s://https://k8s.example:6443", "--deploy-mode", "cluster",
        "--jar", "local:///opt/affinity/affinity.jar", "--conf-file", "s3a://bucket/affinity/prod.conf",
        "--spark-conf", "spark.kubernetes.container.image=registry.example/affinity:1", "--num-executors", "3",
        "recommend", "--run-date", "2026-11-20");
    assertEquals(0, r.code(), r.stderr());
    assertEquals(List.of(submit(), "--master", "k8s://https://k8s.example:6443", "--deploy-mode", "cluster",
        "--class", "io.affinity.Main", "--name", "affinity-recommend-2026-11-20", "--num-executors", "3",
        "--files", "s3a://bucket/affinity/prod.conf", "--conf", "spark.kubernetes.container.image=registry.example/affinity:1",
        "local:///opt/affinity/affinity.jar", "recommend", "--run-date", "2026-11-20", "--config", "prod.conf"),
        List.of(r.stdout().split(" ")));
  }

  @Test
  void kubernetesClusterModeRefusesALocalConfigWithoutAnUploadPath() throws Exception {
    Result r = withSpark("--dry-run", "--master", "k8s://https://k8s.example:6443", "--deploy-mode", "cluster",
        "--jar", "local:///opt/affinity.jar", "--conf-file", conf.toString(), "all");
    assertEquals(2, r.code());
    assertTrue(r.stderr().contains("spark.kubernetes.file.upload.path"), r.stderr());
  }

  @Test
  void standaloneClientModeUsesTotalExecutorCores() throws Exception {
    Result r = withSpark("--dry-run", "--master", "spark://10.0.0.5:7077", "--total-executor-cores", "8",
        "--jar", jar.toString(), "features");
    assertEquals(0, r.code(), r.stderr());
    assertEquals(List.of(submit(), "--master", "spark://10.0.0.5:7077", "--deploy-mode", "client", "--class",
        "io.affinity.Main", "--name", "affinity-features", "--total-executor-cores", "8", jar.toString(), "features"),
        List.of(r.stdout().split(" ")));
  }

  @Test
  void withoutDryRunItEchoesTheCommandAndRunsIt() throws Exception {
    Result r = withSpark("--master", "local[2]", "--jar", jar.toString(), "segment", "--run-date", "2026-11-20");
    assertEquals(0, r.code(), r.stderr());
    assertTrue(r.stderr().startsWith("affinity-submit.sh: " + submit() + " --master local\\[2\\]"), r.stderr());
    assertEquals("fake spark-submit --master local[2] --deploy-mode client --class io.affinity.Main --name "
        + "affinity-segment-2026-11-20 " + jar + " segment --run-date 2026-11-20", r.stdout());
  }

  @Test
  void usageErrorsExitTwoWithAMessage() throws Exception {
    Map<String, String> cases = new java.util.LinkedHashMap<>();
    cases.put("config file not found: " + dir.resolve("missing.conf"),
        "--jar " + jar + " --conf-file " + dir.resolve("missing.conf") + " all");
    cases.put("app jar not found: " + dir.resolve("missing.jar"), "--jar " + dir.resolve("missing.jar") + " all");
    cases.put("--master must be", "--master mesos://x:5050 --jar " + jar + " all");
    cases.put("--deploy-mode cluster needs a cluster master", "--deploy-mode cluster --jar " + jar + " all");
    cases.put("missing the stage", "--jar " + jar);
    cases.put("use --conf-file", "--jar " + jar + " all --config x.conf");
    cases.put("--executor-memory must be a size", "--executor-memory lots --jar " + jar + " all");
    cases.put("unknown option '--bogus'", "--bogus all");
    for (Map.Entry<String, String> c : cases.entrySet()) {
      Result r = withSpark(c.getValue().split(" "));
      assertEquals(2, r.code(), c.getValue());
      assertTrue(r.stderr().contains(c.getKey()), c.getValue() + " -> " + r.stderr());
      assertEquals("", r.stdout(), "nothing submitted for " + c.getValue());
    }
  }

  @Test
  void yarnWithoutASparkInstallIsAUsageError() throws Exception {
    Result r = run(Map.of(), "--master", "yarn", "--jar", jar.toString(), "all");
    assertEquals(2, r.code());
    assertTrue(r.stderr().contains("set SPARK_HOME"), r.stderr());
  }

  @Test
  void helpPrintsUsage() throws Exception {
    Result r = run(Map.of(), "--help");
    assertEquals(0, r.code());
    assertTrue(r.stdout().startsWith("Usage: affinity-submit.sh"), r.stdout());
    assertTrue(r.stdout().contains("k8s://"), r.stdout());
  }

  @Test
  void helpSaysWhichJarGoesWithWhichSpark() throws Exception {
    String help = run(Map.of(), "--help").stdout();
    String mapping = help.substring(help.indexOf("Which jar for which Spark"), help.indexOf("Stage and arguments"));
    List<String> lines = mapping.lines().map(String::strip).toList();
    int spark4 = lines.indexOf(lines.stream().filter(l -> l.startsWith("Spark 4.0.x, 4.1.x, 4.2.x")).findFirst().orElseThrow());
    int spark35 = lines.indexOf(lines.stream().filter(l -> l.startsWith("Spark 3.5.x")).findFirst().orElseThrow());
    assertTrue(lines.get(spark4 + 1).startsWith("target/affinity-<version>.jar"), mapping);
    assertTrue(lines.get(spark35 + 1).startsWith("target/spark3.5/affinity-<version>-spark3.5.jar"), mapping);
    assertTrue(lines.get(spark35 + 1).contains("-P spark-3.5"), mapping);
  }

  @Test
  void sparkJarsStartsSparkSubmitFromThatFolderWithoutASparkInstall() throws Exception {
    Path jars = Files.createDirectories(dir.resolve("spark-4.2.0/jars"));
    Files.writeString(jars.resolve("spark-core_2.13-4.2.0.jar"), "");
    Result r = run(Map.of(), "--dry-run", "--master", "spark://127.0.0.1:7077", "--spark-jars", jars.toString(),
        "--jar", jar.toString(), "all");
    assertEquals(0, r.code(), r.stderr());
    List<String> cmd = List.of(r.stdout().split(" "));
    int cp = cmd.indexOf("-cp");
    assertEquals(jars + "/\\*", cmd.get(cp + 1), "the folder's jars, quoted: " + r.stdout());
    assertEquals("org.apache.spark.deploy.SparkSubmit", cmd.get(cp + 2));

    Result empty = run(Map.of(), "--dry-run", "--spark-jars", dir.toString(), "--jar", jar.toString(), "all");
    assertEquals(2, empty.code());
    assertTrue(empty.stderr().contains("--spark-jars " + dir + " holds no spark-core_*.jar"), empty.stderr());
  }
}
