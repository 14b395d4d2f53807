package io.affinity.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Map;
import java.util.Optional;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;

/**
 * Which runs are published. Stage publish marks its run date with {@code "published": true} (and
 * {@code published_at}) in the manifest and moves the pointer file {@code <root>/runs/LATEST}, which
 * holds the newest published run date (one line, {@code YYYY-MM-DD}). The model-quality gates
 * compare with the last published run before the run date.
 */
public final class PublishedRuns {
  /** Name of the pointer file under {@code <root>/runs/}. */
  public static final String LATEST = "LATEST";

  private PublishedRuns() {}

  /** A published run's date and its entry for one stage. */
  public record Previous(LocalDate date, Map<String, Object> entry) {}

  public static Path latestPath(Datasets ds) {
    return new Path(new Path(ds.root(), "runs"), LATEST);
  }

  /** The date in {@code runs/LATEST}, if a run was ever published under this root. */
  public static Optional<LocalDate> latest(Datasets ds) {
    Path p = latestPath(ds);
    FileSystem fs = ds.fs(p);
    try {
      if (!fs.exists(p)) {
        return Optional.empty();
      }
      try (InputStream in = fs.open(p)) {
        return Optional.of(LocalDate.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8).trim()));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + p, e);
    }
  }

  /**
   * Marks the run date published in its manifest and moves {@code runs/LATEST} to it unless it
   * already names a later date (a backfill of an older date does not move the pointer back). The
   * pointer is written aside and renamed over the old one, so a reader sees the old or the new date.
   *
   * @return the date LATEST holds afterwards
   */
  public static LocalDate markPublished(Datasets ds) {
    new Manifest(ds).update(Map.of("published", true, "published_at", Instant.now().toString()), null, null);
    LocalDate date = ds.runDate();
    Optional<LocalDate> current = latest(ds);
    if (current.isPresent() && current.get().isAfter(date)) {
      return current.get();
    }
    Path p = latestPath(ds);
    Path tmp = new Path(p.getParent(), "_" + LATEST + ".tmp");
    FileSystem fs = ds.fs(p);
    try {
      try (OutputStream out = fs.create(tmp, true)) {
        out.write((date + "\n").getBytes(StandardCharsets.UTF_8));
      }
      FileContext.getFileContext(p.toUri(), ds.hadoopConf()).rename(tmp, p, Options.Rename.OVERWRITE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + p, e);
    }
    return date;
  }

  /**
   * The last published run before this run date in which {@code stage} succeeded: the newest date
   * before it whose manifest says {@code "published": true} and whose entry for the stage has
   * {@code "status": "succeeded"} (a published date whose stage was later rerun and failed is
   * skipped). Reads manifests only.
   */
  public static Optional<Previous> lastBefore(Datasets ds, String stage) {
    for (LocalDate d : Manifest.runDates(ds)) {
      if (!d.isBefore(ds.runDate())) {
        continue;
      }
      Manifest m = new Manifest(ds, d);
      Map<String, Object> doc = m.read();
      if (!Boolean.TRUE.equals(doc.get("published"))) {
        continue;
      }
      Map<String, Object> entry = m.stage(stage);
      if ("succeeded".equals(entry.get("status"))) {
        return Optional.of(new Previous(d, entry));
      }
    }
    return Optional.empty();
  }
}
