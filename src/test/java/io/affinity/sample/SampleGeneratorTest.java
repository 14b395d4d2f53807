package io.affinity.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.affinity.sample.SampleGenerator.Options;
import io.affinity.sample.SampleGenerator.Summary;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.ResolverStyle;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Determinism, provenance of data-samples/, counts and planted-truth consistency of the generator. */
class SampleGeneratorTest {

  private static final DateTimeFormatter TIMESTAMP =
      DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss", Locale.ROOT)
          .withResolverStyle(ResolverStyle.STRICT);

  // One default run shared by the read-only checks: generation is deterministic, so re-running it
  // per test would only cost time.
  @TempDir static Path sharedDir;
  private static Options defaults;
  private static Summary summary;

  @BeforeAll
  static void generateDefaults() throws IOException {
    defaults = Options.defaults(sharedDir);
    summary = SampleGenerator.generate(defaults);
  }

  @Test
  void sameSeedGivesByteIdenticalFilesAndOtherSeedDiffers(
      @TempDir Path first, @TempDir Path second, @TempDir Path other) throws IOException {
    SampleGenerator.generate(Options.defaults(first));
    SampleGenerator.generate(Options.defaults(second));
    List<Path> files = relativeFiles(first);
    assertEquals(files, relativeFiles(second));
    for (Path f : files) {
      assertEquals(-1L, Files.mismatch(first.resolve(f), second.resolve(f)), f + " differs between runs");
    }

    Options d = Options.defaults(other);
    SampleGenerator.generate(
        new Options(
            other, d.users(), d.items(), d.categories(), d.days(), d.endDate(), d.ratings(), 43L,
            d.badRows()));
    assertNotEquals(
        -1L,
        Files.mismatch(first.resolve(SampleGenerator.EVENTS_FILE), other.resolve(SampleGenerator.EVENTS_FILE)),
        "seed 43 produced the same events as seed 42");
  }

  @Test
  void committedSamplesEqualAFreshDefaultRun() throws IOException {
    // Maven runs tests from the project root.
    Path committed = Path.of("data-samples");
    assertTrue(
        Files.isDirectory(committed),
        "data-samples/ not found from working directory " + Path.of("").toAbsolutePath());
    for (Path f : relativeFiles(sharedDir)) {
      Path c = committed.resolve(f);
      assertTrue(Files.isRegularFile(c), "data-samples/" + f + " is missing");
      assertEquals(
          -1L,
          Files.mismatch(sharedDir.resolve(f), c),
          "data-samples/" + f + " differs from a fresh default run; regenerate it (see data-samples/README.md)");
    }
  }

  @Test
  void countsMatchOptionsAndGoodEventsLieInTheWindow() throws IOException {
    assertEquals(defaults.users() + 1, lines(SampleGenerator.USERS_FILE).size());
    assertEquals(defaults.items() + 1, lines(SampleGenerator.ITEMS_FILE).size());
    assertEquals(defaults.users(), summary.users());
    assertEquals(defaults.items(), summary.items());
    assertEquals(defaults.ratings(), summary.ratings());

    Map<String, Set<Integer>> planted = plantedLines();
    List<String> ratings = lines(SampleGenerator.RATINGS_FILE);
    int badRatings = summary.badRowsPerFile().get(SampleGenerator.RATINGS_FILE);
    assertTrue(badRatings > 0, "default run must plant bad ratings rows");
    assertEquals(summary.ratings() + badRatings, ratings.size());
    List<String> events = lines(SampleGenerator.EVENTS_FILE);
    int badEvents = summary.badRowsPerFile().get(SampleGenerator.EVENTS_FILE);
    assertTrue(badEvents > 0, "default run must plant bad events rows");
    assertEquals(summary.events() + badEvents, events.size() - 1);

    LocalDate end = defaults.endDate();
    LocalDate exclusiveStart = end.minusDays(defaults.days());
    Set<Integer> plantedEvents = planted.getOrDefault(SampleGenerator.EVENTS_FILE, Set.of());
    for (int i = 1; i < events.size(); i++) {
      if (plantedEvents.contains(i + 1)) {
        continue;
      }
      String[] f = events.get(i).split(",", -1);
      assertEquals(7, f.length, "line " + (i + 1));
      LocalDate day = LocalDateTime.parse(f[3], TIMESTAMP).toLocalDate();
      assertTrue(
          day.isAfter(exclusiveStart) && !day.isAfter(end),
          "line " + (i + 1) + " outside the window: " + events.get(i));
    }

    Set<Integer> plantedRatings = planted.getOrDefault(SampleGenerator.RATINGS_FILE, Set.of());
    Set<String> pairs = new HashSet<>();
    for (int i = 0; i < ratings.size(); i++) {
      if (plantedRatings.contains(i + 1)) {
        continue;
      }
      String[] f = ratings.get(i).split("::", -1);
      assertEquals(4, f.length, "ratings line " + (i + 1));
      int stars = Integer.parseInt(f[2]);
      assertTrue(stars >= 1 && stars <= 5, "ratings line " + (i + 1));
      assertTrue(pairs.add(f[0] + "::" + f[1]), "duplicate (user, item) at ratings line " + (i + 1));
    }
  }

  @Test
  void plantedTruthPointsAtTheRowsItDescribes() throws IOException {
    List<String> manifest = lines(SampleGenerator.PLANTED_FILE);
    Map<String, Integer> quarantined = new HashMap<>();
    for (String row : manifest.subList(1, manifest.size())) {
      List<String> f = parseCsv(row);
      List<String> file = lines(f.get(0));
      assertEquals(file.get(Integer.parseInt(f.get(1)) - 1), f.get(4), "planted row " + row);
      String code = f.get(2);
      if (!code.startsWith("DUPLICATE_") && !code.equals("OUTLIER_CAPPED")) {
        quarantined.merge(f.get(0), 1, Integer::sum);
      }
    }
    assertEquals(summary.badRowsPerFile().get(SampleGenerator.EVENTS_FILE), quarantined.get("events.csv"));
    assertEquals(summary.badRowsPerFile().get(SampleGenerator.RATINGS_FILE), quarantined.get("ratings.dat"));
  }

  @Test
  void archetypeTruthIsConsistentWithBehaviour() throws IOException {
    Map<String, String> archetype = new HashMap<>();
    for (String row : lines(SampleGenerator.ARCHETYPES_FILE).subList(1, defaults.users() + 1)) {
      String[] f = row.split(",", -1);
      archetype.put(f[0], f[1]);
    }
    Set<Integer> planted = plantedLines().getOrDefault(SampleGenerator.EVENTS_FILE, Set.of());
    List<String> events = lines(SampleGenerator.EVENTS_FILE);
    LocalDate lastQuietDay = defaults.endDate().minusDays(30);
    Map<String, Integer> purchases = new HashMap<>();
    for (int i = 1; i < events.size(); i++) {
      if (planted.contains(i + 1)) {
        continue;
      }
      String[] f = events.get(i).split(",", -1);
      String kind = archetype.get(f[0]);
      if (f[2].equals("purchase")) {
        assertNotEquals("browser", kind, "browser purchased at line " + (i + 1));
        purchases.merge(f[0], 1, Integer::sum);
      }
      if ("lapsed".equals(kind)) {
        LocalDate day = LocalDateTime.parse(f[3], TIMESTAMP).toLocalDate();
        assertFalse(day.isAfter(lastQuietDay), "lapsed user active in the last 30 days, line " + (i + 1));
      }
    }
    double champion = meanPurchases(archetype, purchases, "champion");
    double occasional = meanPurchases(archetype, purchases, "occasional");
    assertTrue(champion > 3 * occasional, "champion " + champion + " vs occasional " + occasional);
  }

  @Test
  void invalidArgumentsNameTheFlag() {
    IllegalArgumentException notANumber =
        assertThrows(
            IllegalArgumentException.class,
            () -> SampleGenerator.parseArgs(new String[] {"--out", "x", "--users", "many"}));
    assertTrue(notANumber.getMessage().contains("--users"), notANumber.getMessage());
    IllegalArgumentException badDate =
        assertThrows(
            IllegalArgumentException.class,
            () -> SampleGenerator.parseArgs(new String[] {"--out", "x", "--end-date", "2026-02-30"}));
    assertTrue(badDate.getMessage().contains("--end-date"), badDate.getMessage());
    IllegalArgumentException noOut =
        assertThrows(IllegalArgumentException.class, () -> SampleGenerator.parseArgs(new String[0]));
    assertTrue(noOut.getMessage().contains("--out"), noOut.getMessage());
  }

  private static double meanPurchases(
      Map<String, String> archetype, Map<String, Integer> purchases, String kind) {
    List<String> users =
        archetype.entrySet().stream()
            .filter(e -> e.getValue().equals(kind))
            .map(Map.Entry::getKey)
            .collect(Collectors.toList());
    assertFalse(users.isEmpty(), "no " + kind + " users");
    return users.stream().mapToInt(u -> purchases.getOrDefault(u, 0)).average().orElse(0);
  }

  /** Planted line numbers (1-based) per file, from truth/planted_rows.csv. */
  private static Map<String, Set<Integer>> plantedLines() throws IOException {
    Map<String, Set<Integer>> byFile = new HashMap<>();
    List<String> manifest = lines(SampleGenerator.PLANTED_FILE);
    for (String row : manifest.subList(1, manifest.size())) {
      List<String> f = parseCsv(row);
      byFile.computeIfAbsent(f.get(0), k -> new HashSet<>()).add(Integer.parseInt(f.get(1)));
    }
    return byFile;
  }

  /** The file's lines; the generator ends every line with '\n', so no trailing empty element. */
  private static List<String> lines(String file) throws IOException {
    String text = Files.readString(sharedDir.resolve(file), StandardCharsets.UTF_8);
    assertTrue(text.isEmpty() || text.endsWith("\n"), file + " must end with a newline");
    assertFalse(text.contains("\r"), file + " must use \\n line endings");
    return text.isEmpty() ? List.of() : List.of(text.substring(0, text.length() - 1).split("\n", -1));
  }

  /** One RFC 4180 record without embedded newlines. */
  private static List<String> parseCsv(String line) {
    List<String> fields = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (quoted) {
        if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
          field.append('"');
          i++;
        } else if (c == '"') {
          quoted = false;
        } else {
          field.append(c);
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        fields.add(field.toString());
        field.setLength(0);
      } else {
        field.append(c);
      }
    }
    fields.add(field.toString());
    return fields;
  }

  private static List<Path> relativeFiles(Path dir) throws IOException {
    try (Stream<Path> walk = Files.walk(dir)) {
      return walk.filter(Files::isRegularFile).map(dir::relativize).sorted().collect(Collectors.toList());
    }
  }
}
