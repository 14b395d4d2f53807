package io.affinity.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * submit-scripts/airflow/affinity_dag.py compiles with python3 and, loaded against a small stub of
 * Airflow (src/test/resources/AirflowDagTest/stubs; Airflow itself is not installable in the build),
 * has one task per stage in the chain's order, calls the wrapper with {@code --run-date {{ ds }}},
 * and maps the wrapper's exit codes: 0 succeeds, 1 is retried, 2/3/4 fail without retries.
 */
class AirflowDagTest {
  static final Path DAG = Path.of("submit-scripts/airflow/affinity_dag.py");
  static final Path HARNESS = Path.of("src/test/resources/AirflowDagTest/harness.py");

  @TempDir
  static Path tmp;
  static JsonNode report;

  record Result(int code, String output) {}

  static Result python(Map<String, String> env, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("python3"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("PYTHONDONTWRITEBYTECODE", "1");
    pb.environment().put("PYTHONPYCACHEPREFIX", tmp.resolve("pycache").toString()); // nothing written next to the DAG
    pb.environment().putAll(env);
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      fail("python3 is needed to check the Airflow DAG (apt-get install python3): " + e.getMessage());
      return null;
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "python3 finished");
    return new Result(p.exitValue(), out);
  }

  @BeforeAll
  static void loadDagWithStubAirflow() throws Exception {
    Path home = Files.createDirectories(tmp.resolve("affinity-home/submit-scripts"));
    Path fake = home.resolve("affinity-submit.sh");
    Files.writeString(fake, "#!/bin/sh\necho \"$@\" > \"$(dirname \"$0\")/../args.txt\"\nexit \"$FAKE_EXIT\"\n");
    Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
    Result r = python(Map.of(), HARNESS.toString(), DAG.toString(), home.getParent().toString());
    assertEquals(0, r.code(), "harness failed:\n" + r.output());
    String json = r.output().lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b).orElseThrow(() ->
        new AssertionError("no JSON from the harness:\n" + r.output()));
    report = new ObjectMapper().readTree(json);
  }

  @Test
  void theDagCompilesWithPython3() throws Exception {
    Result r = python(Map.of(), "-m", "py_compile", DAG.toString());
    assertEquals(0, r.code(), "python3 -m py_compile " + DAG + ":\n" + r.output());
  }

  @Test
  void oneTaskPerStageInChainOrder() {
    List<String> ids = new ArrayList<>();
    String previous = null;
    for (JsonNode t : report.path("tasks")) {
      ids.add(t.path("task_id").asText());
      assertEquals("AffinityStageOperator", t.path("operator").asText(), t.toString());
      List<String> upstream = new ArrayList<>();
      t.path("upstream").forEach(u -> upstream.add(u.asText()));
      assertEquals(previous == null ? List.of() : List.of(previous), upstream, "upstream of " + ids.get(ids.size() - 1));
      previous = ids.get(ids.size() - 1);
    }
    assertEquals(List.of("ingest", "features", "segment", "propensity", "recommend", "publish"), ids);
  }

  @Test
  void oneRunAtATimeWithRetriesAndNoCatchup() {
    assertEquals("affinity_nightly", report.path("dag_id").asText());
    assertEquals(1, report.path("max_active_runs").asInt());
    assertEquals(false, report.path("catchup").asBoolean(true));
    assertTrue(report.path("retries").asInt() >= 1, report.toString());
    assertTrue(report.path("retry_delay_seconds").asDouble() >= 60, report.toString());
    List<String> params = new ArrayList<>();
    report.path("params").forEach(p -> params.add(p.asText()));
    assertTrue(params.containsAll(List.of("affinity_home", "master", "conf_file")), params.toString());
  }

  @Test
  void theTaskCallsTheWrapperForItsStageAndTheRunDate() {
    List<String> args = new ArrayList<>();
    report.path("outcomes").path("0").path("args").forEach(a -> args.add(a.asText()));
    assertEquals(List.of("--master", "yarn", "--deploy-mode", "cluster", "--conf-file", "/opt/affinity/conf/production.conf",
        "--driver-memory", "4g", "--executor-memory", "8g", "--executor-cores", "4", "--num-executors", "10",
        "--", "ingest", "--run-date", "2026-11-20"), args);
  }

  @Test
  void exitCodesTwoThreeAndFourFailWithoutRetriesOthersRetry() {
    Map<String, String> expected = Map.of("0", "success", "1", "fail_retry", "2", "fail_no_retry",
        "3", "fail_no_retry", "4", "fail_no_retry", "99", "fail_retry", "137", "fail_retry");
    for (Map.Entry<String, String> e : expected.entrySet()) {
      assertEquals(e.getValue(), report.path("outcomes").path(e.getKey()).path("outcome").asText(), "exit " + e.getKey());
    }
  }
}
