package io.affinity.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.affinity.RunSettings;
import io.affinity.testing.SparkTestBase;
import io.affinity.testing.SparkTestBase.Run;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every configuration error stops the run before Spark starts, with exit code 2 and a message
 * naming the key and the bad value. No SparkSession is created in this class: if validation let a
 * bad value through, the run would try to start Spark and the exit code would differ.
 */
class ConfigValidationTest {

  /** key, bad value (as typed after -Dkey=), text the message must also contain. */
  static Stream<Arguments> badValues() {
    return Stream.of(
        Arguments.of("affinity.output.root", "", "must not be empty"),
        Arguments.of("affinity.input.events.path", "", "must name the events"),
        Arguments.of("affinity.input.events.delimiter", "", "one or more characters"),
        Arguments.of("affinity.input.events.header", "maybe", "true or false"),
        Arguments.of("affinity.input.events.quote", "ab", "one character"),
        Arguments.of("affinity.input.events.quote", ",", "must differ from the delimiter"),
        Arguments.of("affinity.input.events.encoding", "klingon", "character set"),
        Arguments.of("affinity.input.events.encoding", "UTF-16", "ASCII-compatible"),
        Arguments.of("affinity.input.events.max-lines-per-record", "0", "1..1000"),
        Arguments.of("affinity.input.events.columns.user", "", "must name the column"),
        Arguments.of("affinity.input.events.columns.item", "", "must name the column"),
        Arguments.of("affinity.input.events.columns.timestamp", "", "must name the column"),
        Arguments.of("affinity.input.events.timestamp.format", "\"yyyy-MM-dd {HH}\"", "valid java.time pattern"),
        Arguments.of("affinity.input.events.timestamp.format", "", "must not be empty"),
        Arguments.of("affinity.input.events.timestamp.zone", "Mars/Olympus", "time zone id"),
        Arguments.of("affinity.input.ratings.scale.max", "0", "greater than scale.min"),
        Arguments.of("affinity.input.ratings.scale.min", "low", "must be a number"),
        Arguments.of("affinity.input.ratings.timestamp.format", "", "must not be empty"),
        Arguments.of("affinity.event-types.names", "[]", "at least one event type"),
        Arguments.of("affinity.event-types.names", "[View, purchase]", "lower-case words"),
        Arguments.of("affinity.event-types.purchase", "buy", "must be one of"),
        Arguments.of("affinity.event-types.view", "", "must not be empty"),
        Arguments.of("affinity.event-types.return", "view", "must not be one of"),
        Arguments.of("affinity.event-types.weights.view", "-1", "must be a number"),
        Arguments.of("affinity.event-types.weights.wishlist", "2", "not in"),
        Arguments.of("affinity.event-types.aliases.pv", "pageview", "must map to one of"),
        Arguments.of("affinity.ingest.max-reject-share", "1.5", "[0.0, 1.0]"),
        Arguments.of("affinity.ingest.max-reject-share", "lots", "must be a number"),
        Arguments.of("affinity.ingest.future-tolerance-hours", "-1", "0..8760"),
        Arguments.of("affinity.ingest.ids.trim", "sometimes", "true or false"),
        Arguments.of("affinity.ingest.min-event-date", "1990-13-01", "YYYY-MM-DD"),
        Arguments.of("affinity.ingest.outliers.action", "drop", "cap, quarantine, off"),
        Arguments.of("affinity.ingest.outliers.quantile", "1.0", "(0.5, 1.0)"),
        Arguments.of("affinity.ingest.outliers.columns", "[weight]", "quantity or price"),
        Arguments.of("affinity.ingest.outliers.columns", "[quantity # price]", "outside quotes"),
        Arguments.of("affinity.input.events.path", "[/data//a.csv]", "outside quotes"),
        Arguments.of("affinity.input.events.path", "/drop/{run_date:HH}/a.csv", "not a java.time date pattern"),
        Arguments.of("affinity.input.events.path", "/drop/{run_date:}/a.csv", "empty {run_date:} pattern"),
        Arguments.of("affinity.input.ratings.path", "/drop/{run-date}/r.csv", "malformed placeholder"),
        Arguments.of("affinity.ingest.dedup-window-days", "-1", "0..366"),
        Arguments.of("affinity.features.half-life-days", "0", "must be a number"),
        Arguments.of("affinity.spark.shuffle-partitions", "0", "1..100000"),
        Arguments.of("affinity.spark.master", "", "must not be empty"),
        Arguments.of("affinity.spark.ui-enabled", "yes please", "true or false"),
        Arguments.of("affinity.gates.enabled", "maybe", "true or false"),
        Arguments.of("affinity.gates.recommend.max-ndcg-drop", "-0.1", "[0.0, 1.0]"),
        Arguments.of("affinity.gates.propensity.max-auc-pr-drop", "1.5", "[0.0, 1.0]"),
        Arguments.of("affinity.gates.segment.max-silhouette-drop", "3", "[0.0, 2.0]"),
        Arguments.of("affinity.publish.pseudonymize.enabled", "perhaps", "true or false"),
        Arguments.of("affinity.publish.pseudonymize.key-env", "\"MY KEY\"", "name of an environment variable"),
        Arguments.of("affinity.stages", "[ingest, scoring]", "entries must be stages"),
        Arguments.of("affinity.stages", "[ingest, publish]", "publish needs segment"),
        Arguments.of("affinity.propensity.families", "[logistic, svm]", "random-forest"),
        Arguments.of("affinity.propensity.families", "[]", "at least one"),
        Arguments.of("affinity.propensity.gradient-boosted-trees.step-size", "0", "must be a number"),
        Arguments.of("affinity.propensity.choice.confidence", "1", "must be a number"),
        // An attribute the users input does not have.
        Arguments.of("affinity.fairness.attributes", "[income]", "categorical"),
        Arguments.of("affinity.fairness.target-deciles", "10", "1..9"),
        // gender is compared by the sample's fairness report, so it cannot also be a model input.
        Arguments.of("affinity.propensity.attributes", "[gender]", "use-as-input"));
  }

  @ParameterizedTest(name = "{0} = {1}")
  @MethodSource("badValues")
  void badValueNamesTheKey(String key, String value, String allowed) {
    Run r = SparkTestBase.capture("ingest", "--config", "conf/application.conf", "-D" + key + "=" + value);
    assertEquals(2, r.exitCode(), r.stderr());
    assertTrue(r.stderr().contains("'" + key + "'"), "message names the key: " + r.stderr());
    assertTrue(r.stderr().contains(allowed), "message says what is allowed (" + allowed + "): " + r.stderr());
    assertFalse(r.stderr().contains("\tat "), "no stack trace: " + r.stderr());
  }

  /**
   * -D values are plain strings unless clearly HOCON: in HOCON "//" and "#" start a comment, so a
   * path with a double slash used to become "/data" silently.
   */
  @Test
  void commandLineValuesAreTakenAsTheyAreUnlessClearlyHocon() {
    Map<String, String> d = new java.util.LinkedHashMap<>();
    d.put("affinity.input.events.path", "/data//events/*.csv");
    d.put("affinity.input.ratings.path", "s3a://lake/ratings/#1/part-*.csv");
    d.put("affinity.input.events.timestamp.format", "yyyy-MM-dd HH:mm");
    d.put("affinity.ingest.outliers.columns", "[quantity, price]");
    d.put("affinity.ingest.max-reject-share", "0.25");
    d.put("affinity.ingest.ids.trim", "false");
    d.put("affinity.input.events.columns.session", "\"\"");
    com.typesafe.config.Config c = ConfigLoader.load(null, d);
    assertEquals("/data//events/*.csv", c.getString("affinity.input.events.path"));
    assertEquals("s3a://lake/ratings/#1/part-*.csv", c.getString("affinity.input.ratings.path"));
    assertEquals("yyyy-MM-dd HH:mm", c.getString("affinity.input.events.timestamp.format"));
    assertEquals(List.of("quantity", "price"), c.getStringList("affinity.ingest.outliers.columns"));
    assertEquals(0.25, c.getDouble("affinity.ingest.max-reject-share"));
    assertFalse(c.getBoolean("affinity.ingest.ids.trim"));
    assertEquals("", c.getString("affinity.input.events.columns.session"));
  }

  /**
   * Spark properties reach Spark under their own names whether quoted or nested: Typesafe's
   * entrySet() keeps the quotes of a quoted key, which Spark then ignored as an unknown property.
   */
  @Test
  void sparkPropertiesKeepTheirNamesQuotedOrNested() throws java.io.IOException {
    java.nio.file.Path f = java.nio.file.Files.createTempFile("spark-conf", ".conf");
    java.nio.file.Files.writeString(f, String.join("\n",
        "include file(\"" + java.nio.file.Path.of("conf/application.conf").toAbsolutePath() + "\")",
        "affinity.spark.conf { \"spark.eventLog.enabled\" = true, spark.executor.memory = 4g,",
        "  \"spark.hadoop.fs.s3a.endpoint\" = \"http://minio:9000\" }"));
    try {
      RunSettings s = RunSettings.from(ConfigLoader.load(f.toString(), Map.of()), null);
      assertEquals(Map.of("spark.eventLog.enabled", "true", "spark.executor.memory", "4g",
          "spark.hadoop.fs.s3a.endpoint", "http://minio:9000"), s.spark().conf());
    } finally {
      java.nio.file.Files.delete(f);
    }
  }

  /** The {run_date} placeholders, as ingest resolves them for the run date. */
  @Test
  void runDatePlaceholdersResolveToTheRunDate() {
    RunSettings s = RunSettings.from(ConfigLoader.load("conf/application.conf", Map.of(
        "affinity.input.events.path", "s3a://lake/events/dt={run_date}/*.csv",
        "affinity.input.ratings.path", "/drop/{run_date:yyyy}/ratings-{run_date:yyyyMMdd}.dat")), "2026-11-20");
    java.time.LocalDate d = java.time.LocalDate.of(2026, 11, 20);
    assertTrue(s.events().csv().dated());
    assertEquals("s3a://lake/events/dt=2026-11-20/*.csv", s.events().csv().forDate(d).path());
    assertEquals("/drop/2026/ratings-20261120.dat", s.ratings().csv().forDate(d).path());
    assertFalse(RunSettings.from(ConfigLoader.load("conf/application.conf", Map.of()), "2026-11-20").events().csv().dated());
  }

  @Test
  void fixedEventTypeMustBeKnownWhenThereIsNoTypeColumn() {
    Run r = SparkTestBase.capture("ingest", "--config", "conf/application.conf",
        "-Daffinity.input.events.columns.event-type=", "-Daffinity.input.events.fixed-event-type=gift");
    assertEquals(2, r.exitCode());
    assertTrue(r.stderr().contains("affinity.input.events.fixed-event-type") && r.stderr().contains("gift"), r.stderr());
  }

  @Test
  void invoicePrefixNeedsAnInvoiceColumn() {
    Run r = SparkTestBase.capture("ingest", "--config", "conf/application.conf",
        "-Daffinity.input.events.cancellation.invoice-prefix=C");
    assertEquals(2, r.exitCode());
    assertTrue(r.stderr().contains("affinity.input.events.columns.invoice"), r.stderr());
  }

  @Test
  void headerlessInputNeedsNamesThatCoverTheColumns() {
    Run r = SparkTestBase.capture("ingest", "--config", "conf/application.conf", "-Daffinity.input.ratings.names=[]");
    assertEquals(2, r.exitCode());
    assertTrue(r.stderr().contains("affinity.input.ratings.names"), r.stderr());
    r = SparkTestBase.capture("ingest", "--config", "conf/application.conf", "-Daffinity.input.ratings.columns.rating=stars");
    assertEquals(2, r.exitCode());
    assertTrue(r.stderr().contains("affinity.input.ratings.columns.rating") && r.stderr().contains("stars"), r.stderr());
  }

  @Test
  void misspeltKeyIsRejectedWithASuggestion() {
    Run r = SparkTestBase.capture("ingest", "--config", "conf/application.conf", "-Daffinity.ingest.max-reject-shares=0.1");
    assertEquals(2, r.exitCode());
    assertTrue(r.stderr().contains("affinity.ingest.max-reject-shares") && r.stderr().contains("did you mean 'affinity.ingest.max-reject-share'"),
        r.stderr());
  }

  @Test
  void badRunDateAndMissingConfigFileAndUnknownStage() {
    Run r = SparkTestBase.capture("ingest", "--config", "conf/application.conf", "--run-date", "2026-02-30");
    assertEquals(2, r.exitCode());
    assertTrue(r.stderr().contains("--run-date") && r.stderr().contains("2026-02-30") && r.stderr().contains("YYYY-MM-DD"), r.stderr());

    r = SparkTestBase.capture("ingest", "--config", "conf/no-such-file.conf");
    assertEquals(2, r.exitCode());
    assertTrue(r.stderr().contains("--config") && r.stderr().contains("no-such-file.conf"), r.stderr());

    r = SparkTestBase.capture("train");
    assertEquals(2, r.exitCode());
    assertTrue(r.stderr().contains("unknown stage 'train'") && r.stderr().contains("ingest"), r.stderr());

    r = SparkTestBase.capture();
    assertEquals(2, r.exitCode());
    assertTrue(r.stderr().contains("usage: affinity <stage>"), r.stderr());

    r = SparkTestBase.capture("ingest", "-Dspark.master=local");
    assertEquals(2, r.exitCode());
    assertTrue(r.stderr().contains("must start with 'affinity.'"), r.stderr());
  }

  @Test
  void helpListsStagesAndExitCodes() {
    Run r = SparkTestBase.capture("--help");
    assertEquals(0, r.exitCode());
    List<String> expected = new ArrayList<>(List.of("ingest", "features", "publish", "all", "--run-date", "--config", "-Dkey=value", "exit codes"));
    for (String s : expected) {
      assertTrue(r.stdout().contains(s), "help mentions " + s + ":\n" + r.stdout());
    }
  }

  @Test
  void pseudonymizationWithoutItsKeyStopsBeforeSparkAndNamesTheVariableNotTheValue() {
    String[] args = {"ingest", "--config", "conf/application.conf", "-Daffinity.publish.pseudonymize.enabled=true",
        "-Daffinity.publish.pseudonymize.key-env=AFFINITY_TEST_KEY"};
    for (Map<String, String> env : List.of(Map.<String, String>of(), Map.of("AFFINITY_TEST_KEY", ""),
        Map.of("AFFINITY_TEST_KEY", "short-key-x"))) {
      PrintStream err = System.err;
      ByteArrayOutputStream captured = new ByteArrayOutputStream();
      int code;
      try {
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        code = io.affinity.Main.run(args, env);
      } finally {
        System.setErr(err);
      }
      String message = captured.toString(StandardCharsets.UTF_8);
      assertEquals(2, code, message);
      assertTrue(message.contains("AFFINITY_TEST_KEY") && message.contains("affinity.publish.pseudonymize.key-env"), message);
      assertFalse(message.contains("short-key-x"), "the value is never printed: " + message);
    }
  }

  @Test
  void secretLookingValuesAreRedactedAndOrdinaryOnesKept() {
    String printed = ConfigLoader.redacted(String.join("\n",
        "spark {", "  conf {",
        "    \"spark.hadoop.fs.s3a.access.key\"=\"AKIAEXAMPLE1\"",
        "    \"spark.hadoop.fs.azure.account.key.acct.blob.core.windows.net\"=\"azurekey2\"",
        "    \"spark.jdbc.password\"=\"hunter:3\"",
        "    \"spark.auth.token\"=\"tok4\"",
        "    \"spark.api-key\"=\"api5\"",
        "    \"spark.executor.memory\"=\"4g\"",
        "  }", "}",
        "publish { pseudonymize { key-env=\"AFFINITY_PSEUDONYM_KEY\" } }", ""));
    for (String secret : List.of("AKIAEXAMPLE1", "azurekey2", "hunter", ":3", "tok4", "api5")) {
      assertFalse(printed.contains(secret), secret + " hidden: " + printed);
    }
    assertTrue(printed.contains("4g") && printed.contains("AFFINITY_PSEUDONYM_KEY"), printed);
  }

  @Test
  void secretsAreRedactedWhenTheConfigIsPrinted() {
    String printed = ConfigLoader.redacted("spark {\n  conf {\n    \"spark.hadoop.fs.s3a.secret.key\"=\"abc123\"\n    \"spark.executor.memory\"=\"4g\"\n  }\n}\n");
    assertFalse(printed.contains("abc123"), printed);
    assertTrue(printed.contains("4g"), printed);
  }

  /** The documented example mappings for real datasets stay valid as keys change. */
  @ParameterizedTest(name = "{0}")
  @org.junit.jupiter.params.provider.ValueSource(strings = {"conf/application.conf", "conf/examples/retail-invoices.conf",
      "conf/examples/movielens.conf"})
  void shippedConfigsAreValid(String file) {
    RunSettings s = RunSettings.from(ConfigLoader.load(file, java.util.Map.of()), null);
    assertFalse(s.events().csv().path().isEmpty());
  }
}
