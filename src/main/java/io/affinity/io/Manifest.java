package io.affinity.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
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

  public Manifest(Datasets datasets) {
    this.datasets = datasets;
  }

  public Path path() {
    return new Path(datasets.path("runs"), "manifest.json");
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
    Path p = path();
    Path tmp = new Path(p.getParent(), "_manifest.json.tmp");
    FileSystem fs = datasets.fs(p);
    datasets.markRoot();
    try {
      fs.mkdirs(p.getParent());
      try (OutputStream out = fs.create(tmp, true)) {
        JSON.writeValue(out, doc);
      }
      if (fs.exists(p)) {
        fs.delete(p, false);
      }
      if (!fs.rename(tmp, p)) {
        throw new IOException("rename " + tmp + " -> " + p + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + p, e);
    }
  }
}
