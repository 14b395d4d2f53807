package io.affinity.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.affinity.testing.SparkTestBase;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The layout contract of clean/events and clean/ratings: full copies and daily deltas, which
 * partitions make up the history of a date, and which ones a night checks for re-deliveries.
 * Each partition here holds one row whose value is its date, so a history reads as its dates.
 */
class CleanHistoryTest extends SparkTestBase {
  private static final LocalDate D = LocalDate.of(2026, 11, 20);

  private static void write(Path root, String source, LocalDate date, boolean delta) {
    Dataset<Row> one = spark.sql("SELECT '" + date + "' AS day, CAST(NULL AS TIMESTAMP) AS event_time");
    new Datasets(spark, root.toString(), date).writeClean(one, source, delta);
  }

  private static List<String> history(Path root, LocalDate date) {
    return new Datasets(spark, root.toString(), date).cleanHistory("events", "ingest").collectAsList().stream()
        .map(r -> r.getString(0)).sorted().collect(Collectors.toList());
  }

  @Test
  void aFullCopyIsItsOwnHistoryAndDeltasStackOnTheLatestFullCopy(@TempDir Path root) {
    write(root, "events", D.minusDays(5), false);
    write(root, "events", D.minusDays(4), false);
    for (int i = 3; i >= 0; i--) {
      write(root, "events", D.minusDays(i), true);
    }
    assertEquals(List.of(D.minusDays(4).toString()), history(root, D.minusDays(4)), "a full copy alone");
    assertEquals(List.of("2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20"), history(root, D));
    assertEquals(List.of("2026-11-16", "2026-11-17", "2026-11-18"), history(root, D.minusDays(2)), "nothing after the date");

    // A full rerun of a date starts the history again there.
    write(root, "events", D.minusDays(1), false);
    assertEquals(List.of("2026-11-19", "2026-11-20"), history(root, D));
    assertTrue(new Datasets(spark, root.toString(), D).isDelta("events", D));
  }

  @Test
  void aMissingDeltaStopsTheReadersNamingTheDate(@TempDir Path root) {
    write(root, "events", D.minusDays(3), false);
    write(root, "events", D.minusDays(2), true);
    write(root, "events", D, true);
    MissingInputException e = assertThrows(MissingInputException.class, () -> history(root, D));
    assertTrue(e.getMessage().contains("[2026-11-19]") && e.getMessage().contains("run stage 'ingest'"), e.getMessage());
    e = assertThrows(MissingInputException.class, () -> history(root, D.plusDays(1)));
    assertTrue(e.getMessage().contains("clean/events for run_date=2026-11-21 not found"), e.getMessage());
  }

  @Test
  void anOptionalSourceWithoutAPartitionOnAFullNightHasNoHistory(@TempDir Path root) {
    write(root, "ratings", D.minusDays(1), false);
    Datasets night = new Datasets(spark, root.toString(), D);
    assertTrue(night.cleanHistoryIfPresent("ratings").isEmpty(), "yesterday's full copy is not today's");
    write(root, "ratings", D.minusDays(2), false);
    write(root, "ratings", D.minusDays(1), true);
    // A night without a ratings delta: the history is the deltas and the full copy before it.
    assertEquals(2, night.cleanHistoryIfPresent("ratings").orElseThrow().count());
  }

  @Test
  void reDeliveriesAreLookedForOnBothSidesWithinTheWindowUpToAFullCopy(@TempDir Path root) {
    write(root, "events", D.minusDays(12), true);
    write(root, "events", D.minusDays(9), false);
    write(root, "events", D.minusDays(6), true);
    write(root, "events", D.minusDays(1), true);
    write(root, "events", D, true);
    write(root, "events", D.plusDays(2), true);
    write(root, "events", D.plusDays(5), false);
    write(root, "events", D.plusDays(6), true);
    Datasets night = new Datasets(spark, root.toString(), D);
    List<LocalDate> delta = night.redeliveryWindow("events", 7, true);
    assertEquals(List.of(D.minusDays(6), D.minusDays(1), D.plusDays(2)), delta, "not beyond 7 days, not past a full copy");
    assertEquals(List.of(D.minusDays(9), D.minusDays(6), D.minusDays(1), D.plusDays(2)), night.redeliveryWindow("events", 10, true),
        "the full copy before the date is part of its history");
    assertEquals(List.of(D.plusDays(2)), night.redeliveryWindow("events", 7, false), "a full load looks only at later deltas");
  }
}
