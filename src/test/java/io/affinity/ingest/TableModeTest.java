package io.affinity.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.affinity.testing.SparkTestBase;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Table mode (a users table with a label column, no event log) through ingest and features: row
 * ids from file name and line when the table has no id column, from the column when it has one,
 * every row in features/users with the "no event" behaviour, and the configuration errors that
 * name the key.
 */
class TableModeTest extends SparkTestBase {
  private static final String TABLE = "\"age\";\"job\";\"y\"\r\n"
      + "41;\"admin.\";\"no\"\r\n"
      + "29;\"student\";\"yes\"\r\n"
      + "57;\"unknown\";\"\"\r\n"
      + "33;\"admin.\";\"no\"\r\n";

  @TempDir
  Path dir;

  private Run run(String stage, String table, String... extra) throws IOException {
    Path file = dir.resolve("customers.csv");
    Files.writeString(file, table, StandardCharsets.UTF_8);
    List<String> args = new ArrayList<>(List.of(stage, "--run-date", "2026-11-20",
        "-Daffinity.output.root=" + dir.resolve("out"),
        "-Daffinity.input.events.path=",
        "-Daffinity.input.users.path=" + file,
        "-Daffinity.input.users.delimiter=;",
        "-Daffinity.input.users.columns.user=",
        "-Daffinity.input.users.categorical=[job, y]",
        "-Daffinity.input.users.numeric=[age]",
        "-Daffinity.propensity.label.column=y",
        "-Daffinity.propensity.label.positive=[yes]"));
    args.addAll(List.of(extra));
    return cli(args.toArray(new String[0]));
  }

  private List<String> rows(String dataset, String columns) {
    List<String> out = new ArrayList<>();
    for (Row r : spark.read().parquet(dir.resolve("out/" + dataset + "/run_date=2026-11-20").toString())
        .selectExpr(columns.split(",")).orderBy("user_id").collectAsList()) {
      out.add(r.mkString("|"));
    }
    return out;
  }

  @Test
  void aTableWithoutIdColumnGetsFileAndLineIdsAndEveryRowIsAUser() throws IOException {
    Run r = run("ingest", TABLE);
    assertEquals(0, r.exitCode(), r.stderr());
    // The header is line 1: customers.csv:2 is the first customer, as in the file.
    assertEquals(List.of("customers.csv:2|41.0|admin.|no", "customers.csv:3|29.0|student|yes",
        "customers.csv:4|57.0|unknown|null", "customers.csv:5|33.0|admin.|no"), rows("clean/users", "user_id,age,job,y"));
    Run f = cli("features", "--run-date", "2026-11-20", "-Daffinity.output.root=" + dir.resolve("out"),
        "-Daffinity.input.events.path=", "-Daffinity.input.users.path=" + dir.resolve("customers.csv"),
        "-Daffinity.input.users.delimiter=;", "-Daffinity.input.users.columns.user=",
        "-Daffinity.input.users.categorical=[job, y]", "-Daffinity.input.users.numeric=[age]",
        "-Daffinity.propensity.label.column=y", "-Daffinity.propensity.label.positive=[yes]");
    assertEquals(0, f.exitCode(), f.stderr());
    assertEquals(List.of("customers.csv:2|0|0.0|null|0.0|admin.", "customers.csv:3|0|0.0|null|0.0|student",
            "customers.csv:4|0|0.0|null|0.0|unknown", "customers.csv:5|0|0.0|null|0.0|admin."),
        rows("features/users", "user_id,frequency,monetary,recency_days,tenure_days,job"));
  }

  @Test
  void aTableWithAnIdColumnKeepsItsIds() throws IOException {
    String withIds = "\"customer\";" + TABLE.replace("\r\n41;", "\r\n\"c1\";41;").replace("\r\n29;", "\r\n\"c2\";29;")
        .replace("\r\n57;", "\r\n\"c3\";57;").replace("\r\n33;", "\r\n\"c4\";33;");
    Run r = run("ingest", withIds, "-Daffinity.input.users.columns.user=customer");
    assertEquals(0, r.exitCode(), r.stderr());
    assertEquals(List.of("c1|admin.", "c2|student", "c3|unknown", "c4|admin."), rows("clean/users", "user_id,job"));
  }

  @Test
  void configurationErrorsNameTheKey() throws IOException {
    Run noLabel = run("ingest", TABLE, "-Daffinity.propensity.label.column=");
    assertEquals(2, noLabel.exitCode());
    assertTrue(noLabel.stderr().contains("affinity.input.events.path"), "events are required without a label column: "
        + noLabel.stderr());

    Run notIngested = run("ingest", TABLE, "-Daffinity.input.users.categorical=[job]");
    assertEquals(2, notIngested.exitCode());
    assertTrue(notIngested.stderr().contains("affinity.propensity.label.column") && notIngested.stderr().contains("y"),
        notIngested.stderr());

    Run generatedIdsWithEvents = run("ingest", TABLE, "-Daffinity.input.events.path=" + dir.resolve("events.csv"));
    assertEquals(2, generatedIdsWithEvents.exitCode());
    assertTrue(generatedIdsWithEvents.stderr().contains("affinity.input.users.columns.user"), generatedIdsWithEvents.stderr());

    Run leakAsInput = run("ingest", TABLE, "-Daffinity.propensity.attributes=[age]", "-Daffinity.propensity.exclude=[age]");
    assertEquals(2, leakAsInput.exitCode());
    assertTrue(leakAsInput.stderr().contains("affinity.propensity.attributes"), leakAsInput.stderr());
  }
}
