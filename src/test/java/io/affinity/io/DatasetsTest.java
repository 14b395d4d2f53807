package io.affinity.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.affinity.testing.SparkTestBase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Publishing a partition while another writer's (or a crashed run's) staging directory exists. */
class DatasetsTest extends SparkTestBase {

  @Test
  void writeSucceedsNextToALeftoverStagingDirectory(@TempDir Path root) throws Exception {
    Path leftover = Files.createDirectories(root.resolve("things/_staging/run_date=2026-01-01-crashed"));
    Files.writeString(leftover.resolve("part-0.parquet"), "half written");
    Datasets ds = new Datasets(spark, root.toString(), LocalDate.of(2026, 1, 2));
    ds.write(spark.range(3).toDF(), "things");
    assertTrue(ds.exists("things"));
    assertEquals(3, ds.read("things", "test").count());
    // Not ours to remove: another writer may still be using it.
    assertTrue(Files.exists(leftover));
  }
}
