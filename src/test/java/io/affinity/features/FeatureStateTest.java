package io.affinity.features;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.affinity.testing.SparkTestBase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kept feature state: nights that fold one day's delta into the state of the night before give the
 * feature tables of a run that derives them from the whole history (doubles within 1e-9 relative,
 * everything else exactly), also after a rerun of an earlier night, which makes the next night
 * start from the last state the rerun left valid.
 *
 * <p>The days are shaped like a shop's log, not like planted archetypes: heavy-tailed activity
 * (a few users with most events, a third with one purchase), sessions that span two days' files
 * (one order), late events delivered with a later day, purchases without a paid price (the list
 * price applies), returns as negative quantities, several ratings per pair, and one item that only
 * ever has ratings.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FeatureStateTest extends SparkTestBase {
  private static final LocalDate FIRST = LocalDate.parse("2026-11-01");
  private static final int NIGHTS = 3;
  private static final List<String> TABLES = List.of("features/users", "features/items", "features/interactions",
      "features/ratings");

  @TempDir
  static Path tmp;
  private static Path root;
  private static String[] inputs;

  @BeforeAll
  static void generate() throws IOException {
    Random rnd = new Random(7);
    Path daily = tmp.resolve("daily");
    List<String> ratings = new ArrayList<>(List.of("user_id,item_id,rating,timestamp"));
    Map<LocalDate, List<String>> days = new HashMap<>();
    for (int n = 0; n < NIGHTS; n++) {
      days.put(FIRST.plusDays(n), new ArrayList<>(List.of("user_id,item_id,event_type,event_time,quantity,price,session_id")));
    }
    for (int u = 0; u < 60; u++) {
      // Heavy tail: user 0 has ~40 events, most users 1-3.
      int events = 1 + (int) (40 / (1 + u * 0.7) * rnd.nextDouble());
      for (int e = 0; e < events; e++) {
        int day = rnd.nextInt(NIGHTS);
        String item = "i" + (int) Math.floor(Math.pow(rnd.nextDouble(), 2) * 25);
        String time = FIRST.plusDays(day) + String.format(" %02d:%02d:00", rnd.nextInt(24), rnd.nextInt(60));
        // A session of this user may run over two days' files: the same order on both.
        String session = "s" + u + "-" + (e / 3);
        // One event in eight is delivered late, with the next day's file.
        LocalDate file = FIRST.plusDays(Math.min(NIGHTS - 1, day + (rnd.nextInt(8) == 0 ? 1 : 0)));
        if (day > 0 && rnd.nextInt(15) == 0) {
          // A clock ahead of UTC: just after midnight, in the day before's file (within the
          // future tolerance, so ingest keeps it; the state holds it back until its night).
          file = FIRST.plusDays(day - 1);
          time = FIRST.plusDays(day) + String.format(" 00:%02d:00", rnd.nextInt(60));
        }
        double r = rnd.nextDouble();
        String row;
        if (r < 0.5) {
          row = "u" + u + "," + item + ",view," + time + ",,," + session;
        } else if (r < 0.6) {
          row = "u" + u + "," + item + ",add_to_cart," + time + ",1,," + session;
        } else if (r < 0.92) {
          String price = rnd.nextInt(4) == 0 ? "" : String.format("%.2f", 2 + rnd.nextInt(30) + rnd.nextInt(4) * 0.25);
          row = "u" + u + "," + item + ",purchase," + time + "," + (1 + rnd.nextInt(3)) + "," + price + "," + session;
        } else {
          row = "u" + u + "," + item + ",purchase," + time + ",-1,," + session;
        }
        days.get(file).add(row);
      }
      if (u % 3 == 0) {
        for (int k = 0; k < 1 + rnd.nextInt(3); k++) {
          long at = FIRST.plusDays(rnd.nextInt(NIGHTS)).atStartOfDay(ZoneOffset.UTC).toEpochSecond() + rnd.nextInt(86_400);
          ratings.add("u" + u + ",i" + (u % 3 == 0 && k == 0 ? "99" : String.valueOf(rnd.nextInt(5))) + ","
              + (1 + rnd.nextInt(5)) + "," + at);
        }
      }
    }
    for (Map.Entry<LocalDate, List<String>> d : days.entrySet()) {
      Path dir = daily.resolve("dt=" + d.getKey());
      Files.createDirectories(dir);
      Files.write(dir.resolve("events.csv"), d.getValue());
    }
    Files.write(tmp.resolve("ratings.csv"), ratings);
    List<String> items = new ArrayList<>(List.of("item_id,category,price,title"));
    for (int i = 0; i < 25; i++) {
      items.add("i" + i + ",c" + (i % 4) + "," + (i % 5 == 0 ? "" : String.valueOf(3 + i)) + ",Item " + i);
    }
    items.add("i99,c9,12.5,Rated only");
    Files.write(tmp.resolve("items.csv"), items);
    root = tmp.resolve("out");
    inputs = new String[] {
        "-Daffinity.output.root=" + root,
        "-Daffinity.input.events.path=" + daily.resolve("dt={run_date}").resolve("events.csv"),
        "-Daffinity.input.items.path=" + tmp.resolve("items.csv"),
        "-Daffinity.input.items.columns.category=category",
        "-Daffinity.input.items.columns.price=price",
        "-Daffinity.input.items.columns.title=title",
        "-Daffinity.input.ratings.path=" + tmp.resolve("ratings.csv"),
        "-Daffinity.features.half-life-days=3",
        // A cutoff one day before the end of each night: the state as of propensity's cutoff then
        // has rows of earlier nights, and moves by one night per fold.
        "-Daffinity.propensity.horizon-days=1",
        "-Daffinity.ingest.outliers.action=off"};
  }

  private static void run(String stage, LocalDate date, String... extra) {
    List<String> a = new ArrayList<>(List.of(stage, "--run-date", date.toString()));
    a.addAll(List.of(inputs));
    a.addAll(List.of(extra));
    Run r = cli(a.toArray(new String[0]));
    assertEquals(0, r.exitCode(), stage + " " + date + ": " + r.stderr());
  }

  private static JsonNode state(LocalDate date) throws IOException {
    return new ObjectMapper().readTree(root.resolve("runs/run_date=" + date + "/manifest.json").toFile())
        .path("stages").path("features").path("state");
  }

  private static JsonNode cutoffState(LocalDate date) throws IOException {
    return new ObjectMapper().readTree(root.resolve("runs/run_date=" + date + "/manifest.json").toFile())
        .path("stages").path("features").path("cutoff_state");
  }

  /**
   * The user features as of the date's cutoff from the kept cutoff state equal those
   * {@link UserFeatures#compute} derives from the whole history (doubles within 1e-9 relative).
   *
   * @return the number of users
   */
  private static int assertCutoffFeaturesOfTheWholeHistory(LocalDate date) {
    io.affinity.io.Datasets ds = new io.affinity.io.Datasets(spark, root.toString(), date);
    java.sql.Timestamp cutoff = java.sql.Timestamp.from(new CutoffState.Spec(1, 24).cutoff(date));
    java.util.Optional<org.apache.spark.sql.Dataset<Row>> items = ds.readIfPresent("clean/items");
    Map<String, List<List<Object>>> kept = Map.of("features/users", sorted(UserFeatures.fromState(
        FeatureState.read(ds, CutoffState.ROOT, date), java.util.Optional.empty(), items, cutoff, UserFeaturesTest.TYPES,
        false)));
    Map<String, List<List<Object>>> whole = Map.of("features/users", sorted(UserFeatures.compute(
        ds.cleanHistory("events", "ingest"), ds.cleanHistoryIfPresent("ratings"), java.util.Optional.empty(), items,
        cutoff, UserFeaturesTest.TYPES)));
    assertSameTables(whole, kept, List.of("features/users"));
    return whole.get("features/users").size();
  }

  private static List<List<Object>> sorted(org.apache.spark.sql.Dataset<Row> rows) {
    List<List<Object>> out = new ArrayList<>();
    for (Row r : rows.collectAsList()) {
      List<Object> v = new ArrayList<>();
      for (int i = 0; i < r.size(); i++) {
        v.add(r.get(i));
      }
      out.add(v);
    }
    out.sort((x, y) -> String.valueOf(x.get(0)).compareTo(String.valueOf(y.get(0))));
    return out;
  }

  /** The rows of the feature tables of a date, sorted, as lists of values. */
  private static Map<String, List<List<Object>>> tables(LocalDate date) {
    Map<String, List<List<Object>>> out = new HashMap<>();
    for (String t : TABLES) {
      List<List<Object>> rows = new ArrayList<>();
      for (Row r : spark.read().parquet(root.resolve(t).resolve("run_date=" + date).toString()).collectAsList()) {
        List<Object> v = new ArrayList<>();
        for (int i = 0; i < r.size(); i++) {
          v.add(r.get(i));
        }
        rows.add(v);
      }
      rows.sort((x, y) -> (x.get(0) + "|" + x.get(1)).compareTo(y.get(0) + "|" + y.get(1)));
      out.put(t, rows);
    }
    return out;
  }

  private static void assertSameTables(Map<String, List<List<Object>>> expected, Map<String, List<List<Object>>> actual) {
    assertSameTables(expected, actual, TABLES);
  }

  private static void assertSameTables(Map<String, List<List<Object>>> expected, Map<String, List<List<Object>>> actual,
      List<String> names) {
    for (String t : names) {
      List<List<Object>> e = expected.get(t);
      List<List<Object>> a = actual.get(t);
      assertEquals(e.size(), a.size(), t + ": rows");
      for (int i = 0; i < e.size(); i++) {
        for (int c = 0; c < e.get(i).size(); c++) {
          Object x = e.get(i).get(c);
          Object y = a.get(i).get(c);
          if (x instanceof Double dx && y instanceof Double dy) {
            assertTrue(Math.abs(dx - dy) <= 1e-9 * Math.max(1.0, Math.max(Math.abs(dx), Math.abs(dy))),
                t + " row " + e.get(i) + " column " + c + ": " + dx + " vs " + dy);
          } else {
            assertEquals(x, y, t + " row " + e.get(i) + " column " + c);
          }
        }
      }
    }
  }

  /** The tables of the date derived from the whole history, without kept state (a full run's). */
  private static Map<String, List<List<Object>>> fromWholeHistory(LocalDate date) {
    run("features", date, "-Daffinity.features.state.mode=off");
    return tables(date);
  }

  @Test
  @Order(1)
  void nightsThatFoldTheirDeltaGiveTheTablesOfTheWholeHistory() throws IOException {
    long pending = 0;
    for (int n = 0; n < NIGHTS; n++) {
      LocalDate night = FIRST.plusDays(n);
      run("ingest", night);
      run("features", night);
      JsonNode s = state(night);
      assertEquals(n == 0 ? "rebuild" : "fold", s.path("mode").asText(), night + ": " + s);
      assertEquals(n == 0 ? "" : night.minusDays(1).toString(), s.path("base").asText(""), night + ": " + s);
      assertEquals(1, s.path("events_partitions_read").asInt(), night + ": only the night's delta is read: " + s);
      assertTrue(Files.exists(root.resolve("features/state/pairs/run_date=" + night + "/_SUCCESS")));
      if (n < NIGHTS - 1) {
        pending += s.path("pending_events").asLong();
      }
      JsonNode c = cutoffState(night);
      assertEquals(night.atStartOfDay(ZoneOffset.UTC).toInstant().toString(), c.path("as_of").asText(), c.toString());
      assertEquals(n == 0 ? "rebuild" : "fold", c.path("mode").asText(), night + ": " + c);
      if (n > 0) {
        // Re-read: the partitions up to the night before whose rows can be at or after its cutoff,
        // with a future tolerance of a day the partition of the day before the cutoff's day too.
        assertEquals(night.minusDays(1).toString(), c.path("base").asText(), c.toString());
        assertEquals(1, c.path("events_partitions_read").asInt(), c.toString());
        assertEquals(Math.min(n, 2), c.path("events_partitions_reread").asInt(), c.toString());
        assertTrue(assertCutoffFeaturesOfTheWholeHistory(night) > 10 * n, night + ": users known at the cutoff");
      }
    }
    assertTrue(pending > 0, "some nights held events of the next day back");
    LocalDate last = FIRST.plusDays(NIGHTS - 1);
    Map<String, List<List<Object>>> folded = tables(last);
    assertTrue(folded.get("features/ratings").size() > 10 && folded.get("features/users").size() > 50, folded.toString());
    Map<String, List<List<Object>>> whole = fromWholeHistory(last);
    assertEquals("off", state(last).path("mode").asText());
    assertSameTables(whole, folded);
  }

  @Test
  @Order(2)
  void aRerunOfAnEarlierNightMakesTheNextStartFromTheLastStateBeforeIt() throws IOException {
    LocalDate last = FIRST.plusDays(NIGHTS - 1);
    Map<String, List<List<Object>>> expected = tables(last);
    // The rerun rewrites night 2's delta: the states of nights 2 and 3 folded the old one.
    run("ingest", FIRST.plusDays(1));
    run("features", last);
    JsonNode s = state(last);
    assertEquals("fold", s.path("mode").asText(), s.toString());
    assertEquals(FIRST.toString(), s.path("base").asText(), s.toString());
    assertEquals(NIGHTS - 1, s.path("events_partitions_read").asInt(), s.toString());
    assertSameTables(expected, tables(last));
    assertEquals(FIRST.toString(), cutoffState(last).path("base").asText(), cutoffState(last).toString());
    assertCutoffFeaturesOfTheWholeHistory(last);
  }

  @Test
  @Order(3)
  void statesOlderThanKeepDaysAreRemovedAndChangedSettingsRebuild() throws IOException {
    LocalDate last = FIRST.plusDays(NIGHTS - 1);
    run("features", last, "-Daffinity.features.state.keep-days=1", "-Daffinity.features.half-life-days=4");
    JsonNode s = state(last);
    assertEquals("rebuild", s.path("mode").asText(), "another half-life: no kept state applies: " + s);
    assertEquals(NIGHTS - 2, s.path("pruned").asInt(), s.toString());
    for (int n = 0; n < NIGHTS - 2; n++) {
      for (String table : List.of("ledger", "pairs", "user_days", "user_orders", "item_prices", "rating_pairs",
          "pending_events", "pending_ratings")) {
        assertFalse(Files.exists(root.resolve("features/state/" + table + "/run_date=" + FIRST.plusDays(n))), table + " " + n);
      }
    }
    assertTrue(Files.exists(root.resolve("features/state/ledger/run_date=" + last.minusDays(1) + "/_SUCCESS")));
  }
}
