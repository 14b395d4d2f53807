package io.affinity.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.affinity.config.SettingsException;
import io.affinity.testing.SparkTestBase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The output-root guard: what it refuses (before anything is written) and what it accepts and marks. */
class OutputRootTest {
  private static final Configuration CONF = OutputRoot.hadoopConf(Map.of());

  @TempDir
  Path tmp;

  private static List<String> entries(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      // Hadoop's local file system adds hidden .crc checksum files.
      return s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList();
    }
  }

  @Test
  void fileSystemRootIsRefused() {
    SettingsException e = assertThrows(SettingsException.class, () -> OutputRoot.claim("/", CONF, tmp.toString()));
    assertTrue(e.getMessage().contains("'affinity.output.root' = \"/\"") && e.getMessage().contains("root of the file system"),
        e.getMessage());
    assertTrue(e.getMessage().contains("To fix:"), e.getMessage());
  }

  @Test
  void homeDirectoryAndItsParentsAreRefused() throws IOException {
    Path home = Files.createDirectories(tmp.resolve("home/alice"));
    SettingsException e = assertThrows(SettingsException.class, () -> OutputRoot.claim(home.toString(), CONF, home.toString()));
    assertTrue(e.getMessage().contains("is the home directory"), e.getMessage());
    e = assertThrows(SettingsException.class, () -> OutputRoot.claim(tmp.resolve("home").toString(), CONF, home.toString()));
    assertTrue(e.getMessage().contains("contains the home directory"), e.getMessage());
    // With a trailing slash and as a file: URI it is the same directory.
    assertThrows(SettingsException.class, () -> OutputRoot.claim(home.toUri().toString(), CONF, home.toString()));
    assertFalse(Files.exists(home.resolve(OutputRoot.MARKER)), "nothing written when refused");
    // A directory below the home directory is fine.
    OutputRoot.claim(home.resolve("affinity-out").toString(), CONF, home.toString());
    assertTrue(Files.exists(home.resolve("affinity-out").resolve(OutputRoot.MARKER)));
  }

  @Test
  void nonEmptyDirectoryWithoutMarkerIsRefusedAndLeftAlone() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("photos"));
    Files.writeString(dir.resolve("holiday.jpg"), "not ours");
    SettingsException e = assertThrows(SettingsException.class, () -> OutputRoot.claim(dir.toString(), CONF, null));
    assertTrue(e.getMessage().contains("non-empty directory that Affinity did not create"), e.getMessage());
    assertTrue(e.getMessage().contains("holiday.jpg") && e.getMessage().contains(OutputRoot.MARKER), e.getMessage());
    assertEquals(List.of("holiday.jpg"), entries(dir));
  }

  @Test
  void markerPresentIsAccepted() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("out"));
    Files.writeString(dir.resolve(OutputRoot.MARKER), "");
    Files.createDirectories(dir.resolve("segments/run_date=2026-11-20"));
    OutputRoot.claim(dir.toString(), CONF, null);
    assertEquals(List.of(OutputRoot.MARKER, "segments"), entries(dir));
  }

  @Test
  void emptyOrMissingDirectoryIsAcceptedAndMarked() throws IOException {
    Path empty = Files.createDirectories(tmp.resolve("empty"));
    OutputRoot.claim(empty.toString(), CONF, null);
    assertEquals(List.of(OutputRoot.MARKER), entries(empty));
    Path missing = tmp.resolve("new/deeper");
    OutputRoot.claim(missing.toString(), CONF, null);
    assertEquals(List.of(OutputRoot.MARKER), entries(missing));
    // Accepted again on the next run, now that it holds outputs.
    Files.createDirectories(missing.resolve("runs"));
    OutputRoot.claim(missing.toString(), CONF, null);
  }

  @Test
  void aFileIsRefused() throws IOException {
    Path file = Files.writeString(tmp.resolve("out.txt"), "x");
    SettingsException e = assertThrows(SettingsException.class, () -> OutputRoot.claim(file.toString(), CONF, null));
    assertTrue(e.getMessage().contains("is a file"), e.getMessage());
  }

  @Test
  void commandLineExitsTwoBeforeSparkStartsAndNamesThePath() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("taken"));
    Files.writeString(dir.resolve("notes.txt"), "not ours");
    for (String root : List.of("/", System.getProperty("user.home"), dir.toString())) {
      SparkTestBase.Run r = SparkTestBase.capture("all", "--config", "conf/application.conf", "-Daffinity.output.root=" + root);
      assertEquals(2, r.exitCode(), r.stderr());
      assertTrue(r.stderr().contains("refused as output root") && r.stderr().contains(root), r.stderr());
    }
    assertEquals(List.of("notes.txt"), entries(dir));
  }
}
