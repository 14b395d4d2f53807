package io.affinity.io;

import io.affinity.config.SettingsException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The output-root guard. Reruns replace partitions and remove staging directories under the root,
 * so a root pointed at the wrong place could destroy data that is not Affinity's. Before anything
 * is written (before Spark starts) the root is checked: {@code /}, the user's home directory and
 * any directory above it are refused, and so is a non-empty directory without the marker file
 * {@value #MARKER}. A missing or empty directory is accepted and gets the marker, so from then on
 * it is known to be Affinity's. Works on any Hadoop file system (local, HDFS, S3) with two or three
 * metadata calls.
 */
public final class OutputRoot {
  /** Marker file at the root of every directory Affinity writes into. */
  public static final String MARKER = "_AFFINITY_OUTPUT_ROOT";
  private static final String KEY = "affinity.output.root";

  private OutputRoot() {}

  /**
   * The Hadoop configuration Spark will use, built without starting Spark: Hadoop's defaults plus
   * every {@code spark.hadoop.*} property from the JVM (spark-submit) and from affinity.spark.conf.
   */
  public static Configuration hadoopConf(Map<String, String> sparkConf) {
    Configuration conf = new Configuration();
    for (String name : System.getProperties().stringPropertyNames()) {
      if (name.startsWith("spark.hadoop.")) {
        conf.set(name.substring("spark.hadoop.".length()), System.getProperty(name));
      }
    }
    sparkConf.forEach((k, v) -> {
      if (k.startsWith("spark.hadoop.")) {
        conf.set(k.substring("spark.hadoop.".length()), v);
      }
    });
    return conf;
  }

  /**
   * Accepts the root or throws. On acceptance the root exists and holds the marker.
   *
   * @param root the configured affinity.output.root
   * @param conf Hadoop configuration for the root's file system
   * @param localHome the user's home directory on this machine (user.home)
   * @throws SettingsException naming the path, the reason and the fix (exit code 2)
   */
  public static void claim(String root, Configuration conf, String localHome) {
    Path path;
    FileSystem fs;
    try {
      path = new Path(root);
      fs = path.getFileSystem(conf);
      path = fs.makeQualified(path);
    } catch (IOException | IllegalArgumentException e) {
      throw new SettingsException(KEY, root, "cannot be opened as a file system path: " + e.getMessage());
    }
    if (path.isRoot()) {
      throw refused(root, path, "is the root of the file system",
          "point affinity.output.root at a directory of its own, e.g. /data/affinity");
    }
    checkNotHome(root, path, fs.makeQualified(fs.getHomeDirectory()));
    if (localHome != null && !localHome.isEmpty() && "file".equals(path.toUri().getScheme())) {
      checkNotHome(root, path, fs.makeQualified(new Path(new java.io.File(localHome).getAbsoluteFile().toURI())));
    }
    try {
      Path marker = new Path(path, MARKER);
      if (fs.exists(marker)) {
        return;
      }
      if (fs.exists(path)) {
        FileStatus st = fs.getFileStatus(path);
        if (!st.isDirectory()) {
          throw refused(root, path, "is a file, not a directory", "point affinity.output.root at a directory");
        }
        FileStatus[] entries = fs.listStatus(path);
        if (entries.length > 0) {
          throw refused(root, path, "is a non-empty directory that Affinity did not create (no " + MARKER
              + " marker; it holds " + entries.length + " entries, e.g. " + entries[0].getPath().getName() + ")",
              "use an empty or new directory; or, if this really is an Affinity output root from a version "
                  + "without the marker, create the empty file " + marker);
        }
      }
      mark(fs, path);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot check the output root " + path, e);
    }
  }

  /** Creates the root and its marker if missing (for writers other than the command line, e.g. tests). */
  static void mark(FileSystem fs, Path root) throws IOException {
    Path marker = new Path(root, MARKER);
    if (fs.exists(marker)) {
      return;
    }
    fs.mkdirs(root);
    try (OutputStream out = fs.create(marker, true)) {
      out.write(("Affinity output root, created " + Instant.now() + ".\nAffinity refuses to write into a "
          + "non-empty directory without this file. Do not store anything else here.\n")
          .getBytes(StandardCharsets.UTF_8));
    }
  }

  private static void checkNotHome(String root, Path path, Path home) {
    String r = withSlash(path);
    String h = withSlash(home);
    if (h.equals(r)) {
      throw refused(root, path, "is the home directory", "use a directory of its own, e.g. " + new Path(path, "affinity-out"));
    }
    if (h.startsWith(r)) {
      throw refused(root, path, "contains the home directory " + home, "use a directory of its own below it");
    }
  }

  /** scheme://authority/path/ with an empty authority left out, so file:/x and file:///x compare equal. */
  private static String withSlash(Path p) {
    java.net.URI u = p.toUri();
    String authority = u.getAuthority() == null ? "" : u.getAuthority();
    String s = u.getScheme() + "://" + authority + u.getPath();
    return s.endsWith("/") ? s : s + "/";
  }

  private static SettingsException refused(String root, Path path, String why, String fix) {
    return new SettingsException(KEY, root, "refused as output root: " + path + " " + why
        + ". Reruns replace and delete data under the output root, so Affinity only writes into a directory "
        + "it created. To fix: " + fix + ".");
  }
}
