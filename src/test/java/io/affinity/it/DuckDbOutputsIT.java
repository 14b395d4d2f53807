package io.affinity.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.affinity.testing.OutputTree;
import io.affinity.testing.SmallSample;
import io.affinity.testing.SparkTestBase;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/OUTPUTS.md is the contract, checked with DuckDB as an independent Parquet reader after the
 * whole chain ran on a small generated sample ({@link SmallSample}): the datasets on disk for the
 * run date are exactly the documented ones (optional ones may be absent), row counts equal Spark's,
 * columns and types equal the schema tables, nulls appear only where the doc allows them,
 * timestamps are INT64 microseconds (not INT96), and every DuckDB example query of the doc runs and
 * returns rows. A dataset documented with a new {@code ### `name/run_date=D/`} heading and table is
 * covered without touching this test.
 */
class DuckDbOutputsIT extends SparkTestBase {
  private static final LocalDate RUN_DATE = SmallSample.RUN_DATE;
  private static final Path DOC = Path.of("docs/OUTPUTS.md");
  /** {@code ### `clean/events/run_date=D/`} optionally followed by text (which may say "optional"). */
  private static final Pattern DATASET_HEADING = Pattern.compile("^### `([a-z0-9_/]+)/run_date=D/`(.*)$");

  @TempDir
  static Path tmp;
  static Path out;
  static Map<String, DocDataset> documented;
  static TreeMap<String, Path> written;
  static Connection duck;

  /** One documented column: a name (or a pattern for placeholders), its type, whether null is allowed. */
  record DocColumn(String name, Pattern pattern, String docType, String duckType, boolean nullable) {}

  record DocDataset(String name, boolean optional, List<DocColumn> columns) {}

  @BeforeAll
  static void runChainAndOpenDuckDb() throws IOException, SQLException {
    documented = parseSchemas(Files.readString(DOC, StandardCharsets.UTF_8));
    Path conf = SmallSample.write(tmp, 11L).conf();
    out = tmp.resolve("out");
    Run r = cli("all", "--config", conf.toString(), "--run-date", RUN_DATE.toString(), "-Daffinity.output.root=" + out);
    assertEquals(0, r.exitCode(), r.stderr());
    written = OutputTree.datasets(out, RUN_DATE);
    duck = DriverManager.getConnection("jdbc:duckdb:");
  }

  @AfterAll
  static void closeDuckDb() throws SQLException {
    if (duck != null) {
      duck.close();
    }
  }

  @Test
  void theDocumentedDatasetsAreExactlyTheOnesWritten() {
    assertTrue(documented.size() >= 10, "schema tables parsed from " + DOC + ": " + documented.keySet());
    TreeSet<String> undocumented = new TreeSet<>(written.keySet());
    undocumented.removeAll(documented.keySet());
    assertEquals(new TreeSet<>(), undocumented, "written for " + RUN_DATE + " but not documented in " + DOC);
    TreeSet<String> missing = new TreeSet<>();
    for (DocDataset d : documented.values()) {
      if (!d.optional() && !written.containsKey(d.name())) {
        missing.add(d.name());
      }
    }
    assertEquals(new TreeSet<>(), missing, "documented as always written but absent");
  }

  @Test
  void duckDbCountsTheRowsSparkCounts() throws SQLException {
    Map<String, Long> duckRows = new TreeMap<>();
    Map<String, Long> sparkRows = new TreeMap<>();
    for (Map.Entry<String, Path> e : written.entrySet()) {
      duckRows.put(e.getKey(), longValue("SELECT count(*) FROM " + scan(e.getValue())));
      sparkRows.put(e.getKey(), spark.read().parquet(e.getValue().toString()).count());
    }
    assertEquals(sparkRows, duckRows);
    assertTrue(duckRows.values().stream().allMatch(n -> n > 0), "every dataset has rows: " + duckRows);
  }

  @Test
  void columnsAndTypesMatchTheSchemaTables() throws SQLException {
    assertFalse(documented.isEmpty(), "no schema tables parsed from " + DOC);
    List<String> problems = new ArrayList<>();
    for (Map.Entry<String, Path> e : written.entrySet()) {
      DocDataset doc = documented.get(e.getKey());
      if (doc == null) {
        continue; // reported by theDocumentedDatasetsAreExactlyTheOnesWritten
      }
      Map<String, String> actual = describe(e.getValue());
      for (Map.Entry<String, String> col : actual.entrySet()) {
        DocColumn match = match(doc, col.getKey(), col.getValue());
        if (match == null) {
          problems.add(e.getKey() + "." + col.getKey() + " " + col.getValue() + ": not in the table (or another type)");
        } else if (!match.duckType().equals(col.getValue())) {
          problems.add(e.getKey() + "." + col.getKey() + ": documented " + match.docType() + " (" + match.duckType()
              + "), DuckDB reads " + col.getValue());
        } else if (!match.nullable()) {
          long nulls = longValue("SELECT count(*) - count(" + quote(col.getKey()) + ") FROM " + scan(e.getValue()));
          if (nulls > 0) {
            problems.add(e.getKey() + "." + col.getKey() + ": " + nulls + " nulls, but the doc does not say 'null'");
          }
        }
      }
      for (DocColumn c : doc.columns()) {
        if (c.pattern() == null && !actual.containsKey(c.name())) {
          problems.add(e.getKey() + "." + c.name() + ": documented, not written");
        }
      }
    }
    assertEquals(List.of(), problems, "docs/OUTPUTS.md vs the Parquet files");
  }

  @Test
  void timestampsAreInt64MicrosecondsNotInt96() throws SQLException {
    int checked = 0;
    for (Map.Entry<String, Path> e : written.entrySet()) {
      String file = OutputTree.parquetFiles(e.getValue()).get(0).toString();
      try (Statement st = duck.createStatement();
           ResultSet rs = st.executeQuery("SELECT name, type, logical_type, duckdb_type FROM parquet_schema('"
               + file.replace("'", "''") + "') WHERE type = 'INT96' OR duckdb_type LIKE 'TIMESTAMP%'")) {
        while (rs.next()) {
          String where = e.getKey() + "." + rs.getString(1);
          assertEquals("INT64", rs.getString(2), where + " physical type");
          assertTrue(rs.getString(3).contains("isAdjustedToUTC=1") && rs.getString(3).contains("MICROS=MicroSeconds()"),
              where + " logical type " + rs.getString(3));
          checked++;
        }
      }
    }
    assertTrue(checked >= 5, "timestamp columns checked: " + checked);
    // And they are instants on the run's calendar: the newest clean event falls on or before the run date.
    assertEquals(RUN_DATE.toString(), stringValue("SELECT CAST(max(event_time) AT TIME ZONE 'UTC' AS DATE) FROM "
        + scan(written.get("clean/events"))));
  }

  /**
   * The sample has prices, so every user gets a spend prediction: expected_value is probability
   * times expected_spend in propensity/, and audience/ carries the same values.
   */
  @Test
  void expectedSpendIsFilledAndConsistentAcrossPropensityAndAudience() throws SQLException {
    String propensity = scan(written.get("propensity"));
    String audience = scan(written.get("audience"));
    assertTrue(longValue("SELECT count(*) FROM " + propensity) > 0);
    assertEquals(0, longValue("SELECT count(*) FROM " + propensity + " WHERE expected_spend IS NULL OR expected_spend <= 0"
        + " OR abs(expected_value - probability * expected_spend) > 1e-9"));
    assertEquals(0, longValue("SELECT count(*) FROM " + audience + " a FULL JOIN " + propensity + " p USING (user_id)"
        + " WHERE a.expected_value IS DISTINCT FROM p.expected_value OR a.expected_spend IS DISTINCT FROM p.expected_spend"));
  }

  @Test
  void theDocsDuckDbExampleQueriesRunAndReturnRows() throws IOException {
    List<String> queries = exampleQueries(Files.readString(DOC, StandardCharsets.UTF_8));
    assertTrue(queries.size() >= 4, "DuckDB example queries found: " + queries);
    for (String q : queries) {
      String runnable = q.replace("'out/", "'" + out.toString().replace("'", "''") + "/");
      try (Statement st = duck.createStatement(); ResultSet rs = st.executeQuery(runnable)) {
        assertTrue(rs.next(), "example query returns no rows:\n" + q);
      } catch (SQLException e) {
        fail("example query fails: " + e.getMessage() + "\n" + q);
      }
    }
  }

  /** The DuckDB queries of the doc's "Example queries" section: statements of its first sql block. */
  static List<String> exampleQueries(String doc) {
    int section = doc.indexOf("## Example queries");
    assertTrue(section >= 0, "docs/OUTPUTS.md has an '## Example queries' section");
    int start = doc.indexOf("```sql", section);
    int end = doc.indexOf("```", start + 6);
    String block = doc.substring(start + 6, end);
    List<String> queries = new ArrayList<>();
    for (String stmt : block.split(";")) {
      String sql = stmt.lines().filter(l -> !l.strip().startsWith("--")).collect(Collectors.joining("\n")).strip();
      if (!sql.isEmpty()) {
        queries.add(sql);
      }
    }
    return queries;
  }

  /** Every {@code ### `name/run_date=D/`} heading followed by a {@code | column | type | ...} table. */
  static Map<String, DocDataset> parseSchemas(String doc) {
    Map<String, DocDataset> datasets = new LinkedHashMap<>();
    List<String> lines = doc.lines().toList();
    for (int i = 0; i < lines.size(); i++) {
      Matcher h = DATASET_HEADING.matcher(lines.get(i));
      if (!h.matches()) {
        continue;
      }
      List<DocColumn> columns = new ArrayList<>();
      boolean inTable = false;
      for (int j = i + 1; j < lines.size() && !lines.get(j).startsWith("#"); j++) {
        String l = lines.get(j).strip();
        if (l.startsWith("| column")) {
          inTable = true;
        } else if (inTable && l.matches("\\|[ :|-]+")) {
          continue; // the header separator
        } else if (inTable && l.startsWith("|")) {
          String[] cells = l.substring(1).split("\\|");
          columns.add(column(h.group(1), clean(cells[0]), clean(cells[1])));
        } else if (inTable) {
          break;
        }
      }
      if (!columns.isEmpty()) {
        datasets.put(h.group(1), new DocDataset(h.group(1), h.group(2).toLowerCase(Locale.ROOT).contains("optional"), columns));
      }
    }
    return datasets;
  }

  private static DocColumn column(String dataset, String name, String type) {
    String[] parts = type.split(",");
    String base = parts[0].strip();
    boolean nullable = parts.length > 1 && parts[1].strip().startsWith("null");
    Pattern pattern = null;
    if (name.contains("<")) {
      pattern = Pattern.compile(Pattern.quote(name).replaceAll("<[^>]*>", "\\\\E.+\\\\Q"));
    }
    return new DocColumn(name, pattern, base, duckType(dataset + "." + name, base), nullable);
  }

  /** Spark/Parquet type names of the doc to the type DuckDB reports. */
  static String duckType(String where, String docType) {
    if (docType.startsWith("array<") && docType.endsWith(">")) {
      return duckType(where, docType.substring(6, docType.length() - 1)) + "[]";
    }
    return switch (docType) {
      case "string" -> "VARCHAR";
      case "int" -> "INTEGER";
      case "long" -> "BIGINT";
      case "double" -> "DOUBLE";
      case "float" -> "FLOAT";
      case "boolean" -> "BOOLEAN";
      case "date" -> "DATE";
      case "timestamp" -> "TIMESTAMP WITH TIME ZONE";
      default -> throw new AssertionError(DOC + ": " + where + " has type '" + docType
          + "'; use string, int, long, double, float, boolean, date, timestamp or array<...>, with ', null' if nullable");
    };
  }

  private static String clean(String cell) {
    return cell.replace("`", "").replace("&lt;", "<").replace("&gt;", ">").strip();
  }

  private static DocColumn match(DocDataset doc, String name, String duckType) {
    for (DocColumn c : doc.columns()) {
      if (c.pattern() == null && c.name().equals(name)) {
        return c;
      }
    }
    for (DocColumn c : doc.columns()) {
      if (c.pattern() != null && c.pattern().matcher(name).matches() && c.duckType().equals(duckType)) {
        return c;
      }
    }
    return null;
  }

  /** Column name to DuckDB type, partition directories not turned into columns. */
  private static Map<String, String> describe(Path partition) throws SQLException {
    Map<String, String> cols = new LinkedHashMap<>();
    try (Statement st = duck.createStatement(); ResultSet rs = st.executeQuery("DESCRIBE SELECT * FROM " + scan(partition))) {
      while (rs.next()) {
        cols.put(rs.getString("column_name"), rs.getString("column_type"));
      }
    }
    assertFalse(cols.isEmpty(), partition.toString());
    return cols;
  }

  private static String scan(Path partition) {
    return "read_parquet('" + partition.toString().replace("'", "''") + "/*.parquet', hive_partitioning = false)";
  }

  private static String quote(String column) {
    return "\"" + column.replace("\"", "\"\"") + "\"";
  }

  private static long longValue(String sql) throws SQLException {
    try (Statement st = duck.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static String stringValue(String sql) throws SQLException {
    try (Statement st = duck.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }
}
