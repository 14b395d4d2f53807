package io.affinity.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * {@code runs/run_date=D/manifest.json}: one JSON document per run date that every stage adds its
 * section to (status, seconds, rows, metrics). Stages run as separate processes (one Airflow task
 * each), so each update reads the current file, merges and replaces it atomically.
 */
public final class Manifest {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private final Datasets datasets;
  private final LocalDate date;

  /** The manifest of the run date of {@code datasets}. */
  public Manifest(Datasets datasets) {
    this(datasets, datasets.runDate());
  }

  /** The manifest of another run date under the same root (read it; the run of that date writes it). */
  public Manifest(Datasets datasets, LocalDate date) {
    this.datasets = datasets;
    this.date = date;
  }

  public Path path() {
    return new Path(datasets.path("runs", date), "manifest.json");
  }

  /** This date's entry of a stage, or an empty map. */
  @SuppressWarnings("unchecked")
  public Map<String, Object> stage(String name) {
    Object stages = read().get("stages");
    Object entry = stages instanceof Map<?, ?> m ? m.get(name) : null;
    return entry instanceof Map<?, ?> e ? (Map<String, Object>) e : new LinkedHashMap<>();
  }

  /**
   * Run dates under the root that have a manifest, newest first (from the names of
   * {@code runs/run_date=*}; a handful of metadata calls, no data read).
   */
  public static List<LocalDate> runDates(Datasets datasets) {
    Path runs = new Path(datasets.root(), "runs");
    FileSystem fs = datasets.fs(runs);
    List<LocalDate> dates = new ArrayList<>();
    try {
      if (!fs.exists(runs)) {
        return dates;
      }
      for (FileStatus st : fs.listStatus(runs)) {
        String n = st.getPath().getName();
        if (st.isDirectory() && n.startsWith("run_date=")) {
          try {
            dates.add(LocalDate.parse(n.substring("run_date=".length())));
          } catch (RuntimeException e) {
            // not a run directory
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + runs, e);
    }
    dates.sort(Comparator.reverseOrder());
    return dates;
  }

  /** The current document, or an empty one. */
  @SuppressWarnings("unchecked")
  public Map<String, Object> read() {
    Path p = path();
    FileSystem fs = datasets.fs(p);
    try {
      if (!fs.exists(p)) {
        return new LinkedHashMap<>();
      }
      try (InputStream in = fs.open(p)) {
        return JSON.readValue(in, LinkedHashMap.class);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + p, e);
    }
  }

  /** Merges {@code top} into the document's top level and {@code stage} under stages.{name}. */
  @SuppressWarnings("unchecked")
  public synchronized void update(Map<String, Object> top, String stageName, Map<String, Object> stage) {
    Map<String, Object> doc = read();
    doc.putAll(top);
    Map<String, Object> stages = (Map<String, Object>) doc.computeIfAbsent("stages", k -> new LinkedHashMap<>());
    if (stageName != null) {
      stages.put(stageName, stage);
    }
    write(doc);
  }

  private void write(Map<String, Object> doc) {
    datasets.markRoot();
    try {
      datasets.writeFile(path(), JSON.writeValueAsBytes(doc));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + path(), e);
    }
  }
}
