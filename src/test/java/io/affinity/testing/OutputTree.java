package io.affinity.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The Parquet datasets an output root holds for one run date: every {@code <dataset>/run_date=D/}
 * directory with Parquet files directly inside (saved models, whose partitions hold sub-directories,
 * and the JSON under {@code runs/} are not datasets). Names starting with {@code _} or {@code .}
 * (staging, checkpoints, markers) are skipped, as every Parquet reader skips them.
 */
public final class OutputTree {
  private OutputTree() {}

  /** Dataset name (e.g. {@code clean/events}) to its partition directory, sorted by name. */
  public static TreeMap<String, Path> datasets(Path root, LocalDate runDate) {
    TreeMap<String, Path> found = new TreeMap<>();
    String partition = "run_date=" + runDate;
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.filter(Files::isDirectory).toList()) {
        if (!p.getFileName().toString().equals(partition) || hidden(root, p) || parquetFiles(p).isEmpty()) {
          continue;
        }
        found.put(root.relativize(p.getParent()).toString().replace('\\', '/'), p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return found;
  }

  /** The Parquet part files directly in a partition directory. */
  public static List<Path> parquetFiles(Path partition) {
    try (Stream<Path> files = Files.list(partition)) {
      return files.filter(f -> f.getFileName().toString().endsWith(".parquet")
          && !f.getFileName().toString().startsWith("_") && !f.getFileName().toString().startsWith(".")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static boolean hidden(Path root, Path p) {
    for (Path part : root.relativize(p)) {
      String n = part.toString();
      if (n.startsWith("_") || n.startsWith(".")) {
        return true;
      }
    }
    return false;
  }
}
