package io.affinity.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.affinity.testing.SparkTestBase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ratings, users and items are optional: when configured but missing or without data rows, ingest
 * logs a skip, records why in the manifest, and removes a stale partition of an earlier run of the
 * same date, instead of failing or silently keeping yesterday's rows.
 */
class OptionalSourcesTest extends SparkTestBase {
  @TempDir
  Path dir;

  @Test
  void missingOrEmptyOptionalInputsAreSkippedAndRecorded() throws IOException {
    Path events = dir.resolve("events.csv");
    Files.writeString(events, "user_id,item_id,event_type,event_time,quantity,price,session_id\n"
        + "u1,i1,view,2026-11-19 10:00:00,,,s1\nu2,i1,purchase,2026-11-19 11:00:00,1,2.50,s2\n");
    Path users = dir.resolve("users.csv");
    Files.writeString(users, "user_id,region\nu1,north\n");
    String root = "-Daffinity.output.root=" + dir.resolve("out");
    String[] base = {"ingest", "--run-date", "2026-11-20", root, "-Daffinity.input.events.path=" + events,
        "-Daffinity.input.users.path=" + users, "-Daffinity.input.users.categorical=[region]"};

    Run first = cli(concat(base, "-Daffinity.input.ratings.path=" + dir.resolve("no-ratings-*.csv")));
    assertEquals(0, first.exitCode(), first.stderr());
    JsonNode sources = manifest().path("stages").path("ingest").path("sources");
    assertTrue(sources.path("ratings").path("skipped").asText().contains("no file matches"), sources.toString());
    assertTrue(Files.exists(dir.resolve("out/clean/users/run_date=2026-11-20/_SUCCESS")));
    assertEquals(2, sources.path("events").path("clean").asLong());

    // Same date again, now the users file is header-only: skipped, and the earlier partition removed.
    Files.writeString(users, "user_id,region\n");
    Run second = cli(base);
    assertEquals(0, second.exitCode(), second.stderr());
    sources = manifest().path("stages").path("ingest").path("sources");
    assertTrue(sources.path("users").path("skipped").asText().contains("empty or header-only"), sources.toString());
    assertFalse(Files.exists(dir.resolve("out/clean/users/run_date=2026-11-20")), "stale users partition removed");
  }

  private JsonNode manifest() throws IOException {
    return new ObjectMapper().readTree(dir.resolve("out/runs/run_date=2026-11-20/manifest.json").toFile());
  }

  private static String[] concat(String[] a, String b) {
    String[] all = java.util.Arrays.copyOf(a, a.length + 1);
    all[a.length] = b;
    return all;
  }
}
