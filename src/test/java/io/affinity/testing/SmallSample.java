package io.affinity.testing;

import io.affinity.sample.SampleGenerator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;

/**
 * A small generated input (300 users, 100 items, 60 days ending on {@link #RUN_DATE}, planted bad
 * rows included) and a config for it: conf/application.conf pointed at the generated files, with the
 * model searches cut to one candidate each so end-to-end tests of launching and reading stay fast.
 * What they check (stages, layouts, schemas) does not depend on the search.
 */
public final class SmallSample {
  public static final LocalDate RUN_DATE = LocalDate.of(2026, 11, 20);
  public static final int USERS = 300;
  /** {@code affinity.segment.k.fixed} in the config. */
  public static final int SEGMENTS = 4;

  private SmallSample() {}

  /** The config file to run with and what the generator wrote. */
  public record Written(Path conf, SampleGenerator.Summary summary) {}

  /** Generates the inputs under {@code dir/input} and the config {@code dir/small.conf}. */
  public static Written write(Path dir, long seed) throws IOException {
    Path input = dir.resolve("input");
    SampleGenerator.Summary summary = SampleGenerator.generate(
        new SampleGenerator.Options(input, USERS, 100, 10, 60, RUN_DATE, 2000, seed, true));
    String conf = Files.readString(Path.of("conf/application.conf"))
        .replace("data-samples/", input.toAbsolutePath() + "/")
        + "\n# One candidate per model search (tests of launching and outputs, not of model choice).\n"
        + "affinity.recommend.search = fixed\n"
        + "affinity.segment.k.fixed = " + SEGMENTS + "\n"
        + "affinity.segment.restarts = 1\n"
        + "affinity.propensity.grid { reg-param = [0.01], elastic-net = [0.0] }\n";
    return new Written(Files.writeString(dir.resolve("small.conf"), conf), summary);
  }
}
