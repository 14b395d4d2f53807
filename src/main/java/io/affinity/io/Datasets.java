package io.affinity.io;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.time.LocalDate;
import java.util.Optional;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

/**
 * The output layout: {@code <root>/<dataset>/run_date=YYYY-MM-DD/} in Parquet. A dataset is
 * written into {@code <root>/<dataset>/_staging/} and renamed into place only when complete (with
 * Spark's {@code _SUCCESS}), so readers never see a half-written partition; names starting with
 * '_' are ignored by Spark, DuckDB and Trino partition discovery.
 */
public final class Datasets {
  private final SparkSession spark;
  private final String root;
  private final LocalDate runDate;
  private final Pseudonymizer pseudonymizer;
  private boolean rootMarked;
  /** When this run started writing through this object (staging of this date older than that is stale). */
  private final long createdAt = System.currentTimeMillis();

  /**
   * Published outputs keyed by user whose {@code user_id} {@link #write} pseudonymizes when that is
   * on. The stages build them from raw ids; {@code audience} is built from these (already
   * pseudonymized) and so is not listed. Working datasets (clean/, features/, idmaps/, quarantine/)
   * keep raw ids: they must join the raw input.
   */
  public static final java.util.Set<String> USER_KEYED = java.util.Set.of("segments", "propensity", "recommendations");

  public Datasets(SparkSession spark, String root, LocalDate runDate) {
    this(spark, root, runDate, Pseudonymizer.OFF);
  }

  /** @param pseudonymizer applied to user ids of the {@link #USER_KEYED} datasets on write */
  public Datasets(SparkSession spark, String root, LocalDate runDate, Pseudonymizer pseudonymizer) {
    this.spark = spark;
    this.root = root;
    this.runDate = runDate;
    this.pseudonymizer = pseudonymizer;
  }

  /**
   * A user-keyed output read back with raw user ids, for stages that join it to working data (the
   * inverse of the pseudonymization on write, through the known raw ids). Unchanged when
   * pseudonymization is off.
   *
   * @param published rows of a {@link #USER_KEYED} dataset as written
   * @param rawUserIds every raw user id that may occur, in a column {@code user_id}
   */
  public Dataset<Row> withRawUserIds(Dataset<Row> published, Dataset<Row> rawUserIds) {
    if (!pseudonymizer.enabled()) {
      return published;
    }
    Dataset<Row> map = rawUserIds.select(org.apache.spark.sql.functions.col("user_id").as("_raw_user_id"))
        .withColumn("user_id", pseudonymizer.apply(org.apache.spark.sql.functions.col("_raw_user_id")));
    return published.join(map, "user_id").drop("user_id").withColumnRenamed("_raw_user_id", "user_id");
  }

  /** How user ids are written in the user-keyed outputs (for the manifest). */
  public String userIds() {
    return pseudonymizer.describe();
  }

  /** The session this layout reads and writes with. */
  public SparkSession spark() {
    return spark;
  }

  public String root() {
    return root;
  }

  public LocalDate runDate() {
    return runDate;
  }

  /** Path of a dataset's partition for this run date. */
  public Path path(String dataset) {
    return path(dataset, runDate);
  }

  public Path path(String dataset, LocalDate date) {
    return new Path(new Path(root, dataset), "run_date=" + date);
  }

  public FileSystem fs(Path p) {
    try {
      return p.getFileSystem(hadoopConf());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open file system for " + p, e);
    }
  }

  Configuration hadoopConf() {
    return spark.sparkContext().hadoopConfiguration();
  }

  /**
   * Creates the root's {@link OutputRoot#MARKER} before the first write through this instance, so a
   * root written by any writer (not only the command line, which checks it first) is recognised as
   * Affinity's by the next run.
   */
  public void markRoot() {
    if (rootMarked) {
      return;
    }
    Path r = new Path(root);
    try {
      OutputRoot.mark(fs(r), r);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the marker in the output root " + r, e);
    }
    rootMarked = true;
  }

  /** Whether a complete partition (with _SUCCESS) exists for the date. */
  public boolean exists(String dataset, LocalDate date) {
    Path p = path(dataset, date);
    try {
      return fs(p).exists(new Path(p, "_SUCCESS"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public boolean exists(String dataset) {
    return exists(dataset, runDate);
  }

  /**
   * Writes the partition atomically: into a unique staging directory first, then the previous
   * partition for this date (if any) is removed and the new one renamed into place. Other dates are
   * never touched. The user ids of {@link #USER_KEYED} datasets are pseudonymized when that is on.
   */
  public void write(Dataset<Row> data, String dataset) {
    // The Spark UI's job list reads "<stage>: write <dataset>": Pipeline names the job group after the stage.
    String stage = spark.sparkContext().getLocalProperty("spark.jobGroup.id");
    spark.sparkContext().setJobDescription((stage == null ? "" : stage + ": ") + "write " + dataset + " run_date=" + runDate);
    Dataset<Row> out = USER_KEYED.contains(dataset) && pseudonymizer.enabled()
        ? data.withColumn("user_id", pseudonymizer.apply(data.col("user_id")))
        : data;
    publish(dataset, staging -> out.write().mode(SaveMode.ErrorIfExists).parquet(staging.toString()));
  }

  /** Writes something into a directory it creates (a Parquet dataset, a saved MLlib model). */
  @FunctionalInterface
  public interface DirectoryWriter {
    void writeTo(Path directory) throws IOException;
  }

  /**
   * Publishes this date's partition of {@code dataset} atomically, whatever writes it: the writer
   * fills a unique staging directory, which gets {@code _SUCCESS} (if the writer did not add one)
   * and replaces the previous partition by a rename.
   */
  public void publish(String dataset, DirectoryWriter writer) {
    Path target = path(dataset);
    Path staging = new Path(new Path(new Path(root, dataset), "_staging"),
        "run_date=" + runDate + "-" + UUID.randomUUID());
    FileSystem fs = fs(target);
    markRoot();
    try {
      removeStaleStaging(fs, staging.getParent());
      writer.writeTo(staging);
      Path success = new Path(staging, "_SUCCESS");
      if (!fs.exists(success)) {
        fs.create(success, false).close();
      }
      if (fs.exists(target) && !fs.delete(target, true)) {
        throw new IOException("could not remove the previous " + target);
      }
      fs.mkdirs(target.getParent());
      if (!fs.rename(staging, target)) {
        throw new IOException("could not move " + staging + " to " + target);
      }
      // Remove _staging only when no other writer's (or crashed run's) directory is left in it: a
      // non-recursive delete of a non-empty directory throws on the local file system.
      if (fs.listStatus(staging.getParent()).length == 0) {
        fs.delete(staging.getParent(), false);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("publishing " + dataset + " failed", e);
    }
  }

  /**
   * Replaces one small file (the manifest, the run report) atomically: the bytes go to a temporary
   * file beside it ({@code _<name>.tmp}), which is then renamed over the old one, so a reader sees
   * either the old or the new file, never a half-written one.
   */
  public void writeFile(Path target, byte[] content) {
    Path tmp = new Path(target.getParent(), "_" + target.getName() + ".tmp");
    FileSystem fs = fs(target);
    try {
      fs.mkdirs(target.getParent());
      try (OutputStream out = fs.create(tmp, true)) {
        out.write(content);
      }
      if (fs.exists(target)) {
        fs.delete(target, false);
      }
      if (!fs.rename(tmp, target)) {
        throw new IOException("rename " + tmp + " -> " + target + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + target, e);
    }
  }

  /**
   * Removes what a killed run of this date left in {@code _staging}: directories for this run date
   * last modified before this run started (this object was created). Other dates' staging
   * directories are left alone: they may belong to a job still running.
   */
  private void removeStaleStaging(FileSystem fs, Path stagingDir) throws IOException {
    if (!fs.exists(stagingDir)) {
      return;
    }
    String prefix = "run_date=" + runDate + "-";
    for (FileStatus st : fs.listStatus(stagingDir)) {
      if (st.getPath().getName().startsWith(prefix) && st.getModificationTime() < createdAt) {
        fs.delete(st.getPath(), true);
      }
    }
  }

  /** Removes this run date's partition of a dataset if present (e.g. an input that is now skipped). */
  public void delete(String dataset) {
    delete(dataset, runDate);
  }

  /** Removes a date's partition of a dataset if present. */
  public void delete(String dataset, LocalDate date) {
    Path p = path(dataset, date);
    try {
      fs(p).delete(p, true);
    } catch (IOException e) {
      throw new UncheckedIOException("could not remove " + p, e);
    }
  }

  /** Reads this run date's partition of a dataset that an earlier stage must have written. */
  public Dataset<Row> read(String dataset, String producedBy) {
    if (!exists(dataset)) {
      throw new MissingInputException("dataset " + dataset + " for run_date=" + runDate + " not found at "
          + path(dataset) + ": run stage '" + producedBy + "' for this date first");
    }
    return spark.read().parquet(path(dataset).toString());
  }

  /** Reads this run date's partition if present (an optional input was configured). */
  public Optional<Dataset<Row>> readIfPresent(String dataset) {
    return exists(dataset) ? Optional.of(spark.read().parquet(path(dataset).toString())) : Optional.empty();
  }

  /** The latest date strictly before this run's date for which the dataset is complete. */
  public Optional<LocalDate> latestBefore(String dataset) {
    LocalDate best = null;
    for (LocalDate d : completeDates(dataset)) {
      if (d.isBefore(runDate)) {
        best = d;
      }
    }
    return Optional.ofNullable(best);
  }

  // -----------------------------------------------------------------------------------------------
  // clean/<source> as daily deltas. A partition is either a full copy (everything known up to its
  // date: what a path without {run_date} produces, and every partition written before deltas
  // existed) or one day's delta, marked by DELTA_MARKER. Every reader of clean/events and
  // clean/ratings goes through cleanHistory, so no stage knows which kind it reads.
  // -----------------------------------------------------------------------------------------------

  /** File in a {@code clean/<source>} partition that holds one day's delta; absent = a full copy. */
  public static final String DELTA_MARKER = "_DELTA";

  /** Writes this date's {@code clean/<source>} partition, as a delta (with the marker) or a full copy. */
  public void writeClean(Dataset<Row> data, String source, boolean delta) {
    String dataset = "clean/" + source;
    String stage = spark.sparkContext().getLocalProperty("spark.jobGroup.id");
    spark.sparkContext().setJobDescription((stage == null ? "" : stage + ": ") + "write " + dataset + " run_date=" + runDate);
    publish(dataset, staging -> {
      data.write().mode(SaveMode.ErrorIfExists).parquet(staging.toString());
      if (delta) {
        fs(staging).create(new Path(staging, DELTA_MARKER), false).close();
      }
    });
  }

  /** Whether the date's complete {@code clean/<source>} partition is a delta. */
  public boolean isDelta(String source, LocalDate date) {
    Path p = new Path(path("clean/" + source, date), DELTA_MARKER);
    try {
      return fs(p).exists(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Dates with a complete partition of the dataset, oldest first. */
  public java.util.List<LocalDate> completeDates(String dataset) {
    Path dir = new Path(root, dataset);
    java.util.List<LocalDate> out = new java.util.ArrayList<>();
    try {
      FileSystem fs = fs(dir);
      if (!fs.exists(dir)) {
        return out;
      }
      for (FileStatus st : fs.listStatus(dir)) {
        String n = st.getPath().getName();
        if (st.isDirectory() && n.startsWith("run_date=")) {
          try {
            LocalDate d = LocalDate.parse(n.substring("run_date=".length()));
            if (exists(dataset, d)) {
              out.add(d);
            }
          } catch (RuntimeException e) {
            // not a partition of ours
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    java.util.Collections.sort(out);
    return out;
  }

  /**
   * The partitions of {@code clean/<source>} that make up its history as of this run date, oldest
   * first: this date alone when its partition is a full copy; otherwise the deltas up to this date
   * back to the latest full copy before them (included), or back to the first delta. Empty when
   * this date has no partition and the latest one before it is a full copy (a run without the source).
   */
  public java.util.List<LocalDate> historyDates(String source) {
    java.util.List<LocalDate> dates = completeDates("clean/" + source);
    java.util.LinkedList<LocalDate> out = new java.util.LinkedList<>();
    for (int i = dates.size() - 1; i >= 0; i--) {
      LocalDate d = dates.get(i);
      if (d.isAfter(runDate)) {
        continue;
      }
      boolean delta = isDelta(source, d);
      if (!delta && out.isEmpty() && !d.equals(runDate)) {
        break; // the latest partition before this date is a full copy of an earlier date
      }
      out.addFirst(d);
      if (!delta) {
        break;
      }
    }
    return out;
  }

  /**
   * {@code clean/<source>} as known at the end of this run date: its full copy, or the union of its
   * deltas (see {@link #historyDates}). Columns as in docs/OUTPUTS.md, no partition column. The
   * single way to read clean/events and clean/ratings.
   *
   * @param producedBy the stage to run first when this date has no partition
   * @throws MissingInputException when this date's partition is missing, or (for events) a date
   *     between the first delta and this date has none: the history would silently lack a day
   */
  public Dataset<Row> cleanHistory(String source, String producedBy) {
    String dataset = "clean/" + source;
    if (!exists(dataset)) {
      throw new MissingInputException("dataset " + dataset + " for run_date=" + runDate + " not found at "
          + path(dataset) + ": run stage '" + producedBy + "' for this date first");
    }
    java.util.List<LocalDate> dates = historyDates(source);
    if (source.equals("events")) {
      java.util.List<LocalDate> missing = new java.util.ArrayList<>();
      LocalDate first = isDelta(source, dates.get(0)) ? dates.get(0) : dates.get(0).plusDays(1);
      java.util.Set<LocalDate> have = new java.util.HashSet<>(dates);
      for (LocalDate d = first; !d.isAfter(runDate); d = d.plusDays(1)) {
        if (!have.contains(d)) {
          missing.add(d);
        }
      }
      if (!missing.isEmpty()) {
        throw new MissingInputException("the history of " + dataset + " up to run_date=" + runDate + " lacks the daily"
            + " deltas of " + (missing.size() > 5 ? missing.subList(0, 5) + " and " + (missing.size() - 5) + " more" : missing)
            + ": run stage '" + producedBy + "' for those dates first (see docs/OPERATIONS.md, incremental ingest)");
      }
    }
    return readPartitions(dataset, dates);
  }

  /** Like {@link #cleanHistory} for an optional source: empty when it has no history at this date. */
  public Optional<Dataset<Row>> cleanHistoryIfPresent(String source) {
    java.util.List<LocalDate> dates = historyDates(source);
    return dates.isEmpty() ? Optional.empty() : Optional.of(readPartitions("clean/" + source, dates));
  }

  /**
   * The {@code clean/<source>} partitions an event re-delivered on this date may already be in:
   * within {@code windowDays} before this date (deltas and the latest full copy, not beyond it) and
   * after it (deltas only, up to the next full copy), this date excluded. Looking both ways makes
   * the history the same whatever order the dates are ingested in.
   *
   * @param earlier false for a full load: it replaces the history before it, so only later deltas count
   */
  public java.util.List<LocalDate> redeliveryWindow(String source, int windowDays, boolean earlier) {
    java.util.List<LocalDate> out = new java.util.ArrayList<>();
    java.util.List<LocalDate> dates = completeDates("clean/" + source);
    for (int i = earlier ? dates.size() - 1 : -1; i >= 0; i--) {
      LocalDate d = dates.get(i);
      if (d.isBefore(runDate) && !d.isBefore(runDate.minusDays(windowDays))) {
        out.add(d);
        if (!isDelta(source, d)) {
          break;
        }
      }
    }
    for (LocalDate d : dates) {
      if (d.isAfter(runDate) && !d.isAfter(runDate.plusDays(windowDays))) {
        if (!isDelta(source, d)) {
          break;
        }
        out.add(d);
      }
    }
    java.util.Collections.sort(out);
    return out;
  }

  /**
   * What identifies the content of a complete partition without reading it: a digest of the names
   * and sizes of its files. Every write of a partition names its files anew (Spark puts the job's
   * UUID in them), so a rerun of the date changes the identity even when its rows do not.
   */
  public String partitionIdentity(String dataset, LocalDate date) {
    Path dir = path(dataset, date);
    try {
      java.util.List<String> files = new java.util.ArrayList<>();
      for (FileStatus st : fs(dir).listStatus(dir)) {
        files.add(st.getPath().getName() + ":" + st.getLen());
      }
      java.util.Collections.sort(files);
      java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
      byte[] d = sha.digest(String.join("\n", files).getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return java.util.HexFormat.of().formatHex(d, 0, 12);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir, e);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The given complete partitions of a dataset as one Dataset (no partition column). */
  public Dataset<Row> readPartitions(String dataset, java.util.List<LocalDate> dates) {
    String[] paths = dates.stream().map(d -> path(dataset, d).toString()).toArray(String[]::new);
    return spark.read().parquet(paths);
  }
}
