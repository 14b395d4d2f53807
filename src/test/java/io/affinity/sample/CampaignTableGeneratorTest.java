package io.affinity.sample;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The generated campaign table has the exact layout of the UCI Bank Marketing table: header,
 * quoting, separators, CRLF, vocabularies, the "yes" rate, and the same bytes for the same seed.
 */
class CampaignTableGeneratorTest {
  private static final String HEADER = "\"age\";\"job\";\"marital\";\"education\";\"default\";\"housing\";\"loan\";"
      + "\"contact\";\"month\";\"day_of_week\";\"duration\";\"campaign\";\"pdays\";\"previous\";\"poutcome\";"
      + "\"emp.var.rate\";\"cons.price.idx\";\"cons.conf.idx\";\"euribor3m\";\"nr.employed\";\"y\"";

  @TempDir
  Path dir;

  @Test
  void theTableHasTheBankMarketingLayoutAndVocabularies() throws IOException {
    CampaignTableGenerator.Summary s = CampaignTableGenerator.generate(
        new CampaignTableGenerator.Options(dir.resolve("a"), 10_000, 7L, 0.0));
    byte[] bytes = Files.readAllBytes(s.table());
    String text = new String(bytes, StandardCharsets.UTF_8);
    assertTrue(text.startsWith(HEADER + "\r\n"), text.substring(0, 300));
    assertEquals(10_001, text.split("\r\n", -1).length - 1, "CRLF after every line");
    assertEquals(-1, text.replace("\r\n", "").indexOf('\n'), "no bare LF");
    Set<String> jobs = new HashSet<>();
    Set<String> months = new HashSet<>();
    Set<String> education = new HashSet<>();
    int yes = 0;
    for (String line : text.split("\r\n")) {
      if (line.equals(HEADER)) {
        continue;
      }
      String[] f = line.split(";", -1);
      assertEquals(21, f.length, line);
      for (int i : new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 14, 20}) {
        assertTrue(f[i].startsWith("\"") && f[i].endsWith("\""), "text value quoted: " + line);
      }
      for (int i : new int[] {0, 10, 11, 12, 13, 15, 16, 17, 18, 19}) {
        Double.parseDouble(f[i]); // numbers are bare
      }
      jobs.add(f[1]);
      months.add(f[8]);
      education.add(f[3]);
      yes += f[20].equals("\"yes\"") ? 1 : 0;
    }
    assertTrue(jobs.contains("\"unknown\"") && jobs.contains("\"admin.\"") && jobs.contains("\"blue-collar\""), jobs.toString());
    assertEquals(Set.of("\"mar\"", "\"apr\"", "\"may\"", "\"jun\"", "\"jul\"", "\"aug\"", "\"sep\"", "\"oct\"", "\"nov\"",
        "\"dec\""), months, "the original has no January or February");
    assertTrue(education.contains("\"basic.4y\"") && education.contains("\"unknown\""), education.toString());
    assertEquals(yes, s.yes());
    assertTrue(Math.abs(yes / 10_000.0 - 0.1127) < 0.01, "yes rate " + yes / 10_000.0);
    assertTrue(s.truthAucRoc() > 0.82 && s.truthAucRoc() < 0.87, "planted AUC-ROC " + s.truthAucRoc());

    List<String> truth = Files.readAllLines(s.truth());
    assertEquals("line;probability;y", truth.get(0));
    assertEquals(10_001, truth.size());
    assertTrue(truth.get(1).startsWith("2;"), "the first customer is line 2 of the table");

    CampaignTableGenerator.Summary again = CampaignTableGenerator.generate(
        new CampaignTableGenerator.Options(dir.resolve("b"), 10_000, 7L, 0.0));
    assertArrayEquals(bytes, Files.readAllBytes(again.table()), "same seed, same bytes");
  }

  @Test
  void unlabelledRowsHaveAnEmptyQuotedLabel() throws IOException {
    CampaignTableGenerator.Summary s = CampaignTableGenerator.generate(
        new CampaignTableGenerator.Options(dir, 2_000, 3L, 0.1));
    long empty = Files.readAllLines(s.table()).stream().filter(l -> l.endsWith(";\"\"")).count();
    assertEquals(2_000 - s.labelled(), empty);
    assertTrue(empty > 150 && empty < 250, "unlabelled rows " + empty);
  }
}
