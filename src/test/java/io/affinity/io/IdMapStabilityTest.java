package io.affinity.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.affinity.testing.SparkTestBase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Id maps keep every int an id once had: a second run with new users appends them (in sorted order)
 * after the old ones, a rerun of a date gives the same map, and rerunning an earlier date after a
 * later one does not renumber anything.
 */
class IdMapStabilityTest extends SparkTestBase {
  @TempDir
  Path dir;

  private Path events(String name, String... users) throws IOException {
    StringBuilder sb = new StringBuilder("user_id,item_id,event_type,event_time,quantity,price,session_id\n");
    int i = 0;
    for (String u : users) {
      sb.append(u).append(",item-").append(i % 2).append(",view,2026-11-0").append(1 + i % 9).append(" 10:00:00,,,s\n");
      i++;
    }
    Path p = dir.resolve(name);
    Files.writeString(p, sb.toString());
    return p;
  }

  private Map<String, Integer> ingest(Path events, String date) {
    Run r = cli("ingest", "--run-date", date, "-Daffinity.output.root=" + dir.resolve("out"),
        "-Daffinity.input.events.path=" + events);
    assertEquals(0, r.exitCode(), r.stderr());
    Map<String, Integer> map = new LinkedHashMap<>();
    for (Row row : spark.read().parquet(dir.resolve("out/idmaps/users/run_date=" + date).toString())
        .orderBy("idx").collectAsList()) {
      map.put(row.getString(0), row.getInt(1));
    }
    return map;
  }

  @Test
  void idsKeepTheirIntsAndNewIdsAreAppended() throws IOException {
    Map<String, Integer> day1 = ingest(events("d1.csv", "carol", "alice", "bob"), "2026-11-10");
    assertEquals(Map.of("alice", 0, "bob", 1, "carol", 2), day1);

    // Day 2: alice is gone from the data, two new users arrive (one sorting before everyone).
    Map<String, Integer> day2 = ingest(events("d2.csv", "bob", "zoe", "carol", "aaron"), "2026-11-11");
    assertEquals(Map.of("alice", 0, "bob", 1, "carol", 2, "aaron", 3, "zoe", 4), day2);

    // A rerun of day 2 extends the same day-1 map, so it gives the same ints.
    assertEquals(day2, ingest(events("d2.csv", "bob", "zoe", "carol", "aaron"), "2026-11-11"));
    // Rerunning day 1 after day 2 exists builds from nothing older than day 1: unchanged.
    assertEquals(day1, ingest(events("d1.csv", "carol", "alice", "bob"), "2026-11-10"));

    // Day 3 extends day 2 (the latest earlier map), keeping zoe's and aaron's ints.
    Map<String, Integer> day3 = ingest(events("d3.csv", "zoe", "mallory"), "2026-11-12");
    assertEquals(5, day3.get("mallory"));
    assertEquals(4, day3.get("zoe"));
    assertEquals(6, day3.size());
  }
}
