package io.affinity.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.affinity.Main;
import io.affinity.io.Datasets;
import io.affinity.pipeline.Pipeline;
import io.affinity.pipeline.Stage;
import io.affinity.pipeline.StageContext;
import io.affinity.pipeline.StageReport;
import io.affinity.testing.SampleRun;
import io.affinity.testing.SparkTestBase;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The run report of a real run (the whole chain on data-samples/, README command 1) opened in
 * headless Chromium: every chart container holds an SVG with drawn paths, the screenshot has colored
 * chart pixels. Then a failed gate run rewrites the report, which says why. Chromium is installed by
 * {@code submit-scripts/ensure-chromium.sh}; without it the test fails, it is not skipped.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReportRenderIT extends SparkTestBase {
  private static final String CHROMIUM = "/usr/bin/chromium";
  private static final String DATE = "2026-11-20";

  /** The shared sample run's output root: read only here (the gate test works on a copy). */
  static Path out;
  @TempDir
  static Path browser;
  private static Path report;

  @BeforeAll
  static void chromiumAndARun() throws IOException, InterruptedException {
    Process p = new ProcessBuilder("submit-scripts/ensure-chromium.sh").redirectErrorStream(true)
        .redirectOutput(browser.resolve("ensure-chromium.log").toFile()).start();
    boolean done = p.waitFor(15, TimeUnit.MINUTES);
    if (!done || p.exitValue() != 0 || !Files.isExecutable(Path.of(CHROMIUM))) {
      fail("headless Chromium is needed and could not be installed (submit-scripts/ensure-chromium.sh): "
          + Files.readString(browser.resolve("ensure-chromium.log")));
    }
    SampleRun.Result sample = SampleRun.get(spark);
    Run r = sample.run();
    out = sample.out();
    report = out.resolve("runs/run_date=" + DATE + "/report.html");
    List<String> lines = r.stdout().strip().lines().toList();
    assertEquals("  report:   " + report, lines.get(lines.size() - 1), "the last line printed is where the report is");
  }

  @Test
  @Order(1)
  void everyChartRendersAsSvgAndTheScreenshotShowsThem() throws IOException, InterruptedException {
    String html = Files.readString(report);
    List<String> charts = chartIds(html);
    assertEquals(List.of("rows", "quarantine", "segment-sizes", "silhouette", "recommend-metrics", "reliability",
        "lift", "timings"), charts);
    assertTrue(html.contains("<td>champions</td>") || html.contains(">champions<"), "segment profiles from the table");
    assertTrue(html.contains("Median days since purchase"), "profiles read from segment_profiles, not only the manifest");

    String dom = chromium("--dump-dom", report);
    assertRendered(dom, charts);

    Path png = browser.resolve("report.png");
    chromium("--screenshot=" + png, report);
    BufferedImage img = ImageIO.read(png.toFile());
    assertEquals(1280, img.getWidth());
    // Colored = clearly saturated: not white, not gray or black text, not the light table shading.
    // Outside the charts only the status badges and heading rules are colored (about 25,000 pixels
    // together), so 100,000 can only come from drawn bars, pies and lines.
    long colored = 0;
    for (int y = 0; y < img.getHeight(); y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        int rgb = img.getRGB(x, y);
        int r = rgb >> 16 & 0xff;
        int g = rgb >> 8 & 0xff;
        int b = rgb & 0xff;
        if (Math.max(r, Math.max(g, b)) - Math.min(r, Math.min(g, b)) > 60) {
          colored++;
        }
      }
    }
    System.out.println("ReportRenderIT: " + colored + " colored pixels in a " + img.getWidth() + "x" + img.getHeight()
        + " screenshot");
    assertTrue(colored > 100_000, "charts drawn in color, found " + colored + " colored pixels");
  }

  @Test
  @Order(2)
  void aFailedGateRunHasAReportThatSaysWhy(@TempDir Path copy) throws IOException, InterruptedException {
    // The sample run is shared with other classes: rerun the stage on a copy of its outputs.
    Path root = SampleRun.copyTo(SampleRun.get(spark), copy);
    Path report = root.resolve("runs/run_date=" + DATE + "/report.html");
    // The stage's data-quality gate (too few buyers to train on) stops it before any model is
    // fitted: the report's failure path is the same as after the model-quality gate (exit 4, which
    // PropensityStageTest covers), and the rerun costs seconds instead of a grid of fits.
    Run r = cli("propensity", "--config", "conf/application.conf", "-Daffinity.output.root=" + root,
        "-Daffinity.propensity.min-class-users=1000000", "-Daffinity.propensity.required=true");
    assertEquals(3, r.exitCode(), "the stage's own exit code, not masked by the report: " + r.stderr());
    List<String> lines = r.stderr().strip().lines().toList();
    assertTrue(lines.get(lines.size() - 1).startsWith("  report:   ") && lines.get(lines.size() - 1).endsWith("report.html"),
        "the last line printed is where the report is: " + r.stderr());
    String html = Files.readString(report);
    assertTrue(html.contains("<div class=\"alert\" id=\"failure-propensity\"><strong>Stage propensity failed:</strong>"),
        "the failure is at the top of the page");
    assertTrue(html.contains("affinity.propensity.min-class-users"), "and says which setting stopped it");
    String dom = chromium("--dump-dom", report);
    assertRendered(dom, chartIds(html));
  }

  @Test
  @Order(3)
  void aReportThatCannotBeWrittenIsOnlyAWarning(@TempDir Path root) throws IOException {
    Datasets ds = new Datasets(spark, root.toString(), LocalDate.parse(DATE));
    // A directory with a file where the report goes: replacing it fails.
    Files.createDirectories(root.resolve("runs/run_date=" + DATE + "/report.html/blocker"));
    Stage ok = stage("ok", () -> new StageReport().put("rows", Map.of("things", 1)));
    Main.runAndReport(new Pipeline(List.of(ok), Map.of()), new StageContext(spark, LocalDate.parse(DATE), ds));
    assertTrue(Files.exists(root.resolve("runs/run_date=" + DATE + "/manifest.json")), "the run itself succeeded");

    IllegalStateException boom = new IllegalStateException("stage broke");
    Stage bad = stage("bad", () -> {
      throw boom;
    });
    IllegalStateException thrown = assertThrows(IllegalStateException.class,
        () -> Main.runAndReport(new Pipeline(List.of(bad), Map.of()), new StageContext(spark, LocalDate.parse(DATE), ds)));
    assertSame(boom, thrown, "the stage's exception, not the report's");
    assertFalse(Files.isRegularFile(root.resolve("runs/run_date=" + DATE + "/report.html")));
  }

  private static Stage stage(String name, java.util.function.Supplier<StageReport> body) {
    return new Stage() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public StageReport run(StageContext ctx) {
        return body.get();
      }
    };
  }

  private static List<String> chartIds(String html) {
    List<String> ids = new ArrayList<>();
    Matcher m = Pattern.compile("<div class=\"chart\" id=\"chart-([a-z-]+)\">").matcher(html);
    while (m.find()) {
      ids.add(m.group(1));
    }
    return ids;
  }

  /** Each chart container in the rendered DOM holds an SVG with drawn paths. */
  private static void assertRendered(String dom, List<String> charts) {
    assertFalse(charts.isEmpty());
    int footer = dom.indexOf("<footer");
    assertTrue(footer > 0, "the page rendered to the end");
    for (int i = 0; i < charts.size(); i++) {
      int start = dom.indexOf("id=\"chart-" + charts.get(i) + "\"");
      assertTrue(start > 0, charts.get(i) + " in the DOM");
      int end = i + 1 < charts.size() ? dom.indexOf("id=\"chart-" + charts.get(i + 1) + "\"") : footer;
      String container = dom.substring(start, end);
      assertTrue(container.contains("<svg"), charts.get(i) + " has an svg");
      Matcher paths = Pattern.compile("<path d=\"M").matcher(container);
      int n = 0;
      while (paths.find()) {
        n++;
      }
      assertTrue(n >= 3, charts.get(i) + " has drawn paths, found " + n);
    }
  }

  /** Runs headless Chromium on the page with a fresh profile; returns its standard output. */
  private static String chromium(String what, Path page) throws IOException, InterruptedException {
    Path profile = Files.createTempDirectory(browser, "profile");
    File stdout = browser.resolve("chromium.out").toFile();
    File stderr = browser.resolve("chromium.err").toFile();
    Process p = new ProcessBuilder(CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--user-data-dir=" + profile, what, "--window-size=1280,4000", page.toUri().toString())
        .redirectOutput(stdout).redirectError(stderr).start();
    if (!p.waitFor(3, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      fail("chromium " + what + " did not finish in 3 minutes");
    }
    assertEquals(0, p.exitValue(), "chromium " + what + ": " + Files.readString(stderr.toPath()));
    return Files.readString(stdout.toPath(), StandardCharsets.UTF_8);
  }
}
