package io.affinity.features;

import io.affinity.config.Settings.EventTypes;
import io.affinity.io.Datasets;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.Path;

/**
 * What a kept {@link FeatureState} is made of, and whether a later night may start from it. The
 * ledger of a state lists every {@code clean/events} and {@code clean/ratings} partition folded
 * into it with its {@link Datasets#partitionIdentity identity}, and the settings the tables depend
 * on. A state is reusable for a later date only when the history of that date, up to the state's
 * date, is exactly those partitions, unchanged: a rerun or a backfill of an earlier day, a new full
 * load or changed settings make the night rebuild from the whole history instead, so the result is
 * always the one a full run would give.
 *
 * <p>The ledger is written after the tables, and removed before they are rewritten: a state
 * without a ledger (a killed run) is never used.
 */
final class StateLedger {
  private static final String FILE = "ledger.txt";

  /** How a run date gets its state: from a kept one plus the partitions since, or from the whole history. */
  record Plan(Optional<LocalDate> base, List<LocalDate> events, boolean ratingsFromBase, List<LocalDate> ratings) {
    boolean fold() {
      return base.isPresent();
    }
  }

  private StateLedger() {}

  /**
   * The settings the state tables depend on: event types and weights, the half-life, the time zone
   * that turns event times into days. Written in a fixed order, so it is the same in every JVM.
   */
  static String fingerprint(EventTypes types, double halfLifeDays, String timeZone) {
    StringBuilder b = new StringBuilder("v1;half-life=").append(halfLifeDays).append(";tz=").append(timeZone)
        .append(";purchase=").append(types.purchase()).append(";view=").append(types.view())
        .append(";returned=").append(types.returned());
    for (String t : FeatureState.countedTypes(types)) {
      b.append(';').append(t).append('=').append(types.weight(t));
    }
    return b.toString();
  }

  /**
   * The plan of this run date: the latest kept state before it whose ledger matches the current
   * history, else a rebuild from the whole history. Ratings fold with the events when their
   * history matches too; otherwise (for example a ratings path without {run_date}, which writes a
   * full copy every night) they are aggregated from their whole history, which is small beside
   * the events.
   */
  static Plan plan(Datasets ds, String root, String fingerprint) {
    Map<LocalDate, String> events = identities(ds, "events");
    Map<LocalDate, String> ratings = identities(ds, "ratings");
    List<LocalDate> states = ds.completeDates(ledger(root));
    for (int i = states.size() - 1; i >= 0; i--) {
      LocalDate s = states.get(i);
      if (!s.isBefore(ds.runDate())) {
        continue;
      }
      Map<String, String> ledger = read(ds, root, s);
      if (!fingerprint.equals(ledger.get("fingerprint")) || !upTo(events, s).equals(folded(ledger, "events"))) {
        continue;
      }
      boolean ratingsMatch = upTo(ratings, s).equals(folded(ledger, "ratings"));
      return new Plan(Optional.of(s), after(events, s), ratingsMatch,
          ratingsMatch ? after(ratings, s) : new ArrayList<>(ratings.keySet()));
    }
    return new Plan(Optional.empty(), new ArrayList<>(events.keySet()), false, new ArrayList<>(ratings.keySet()));
  }

  /** Writes this run date's ledger: the whole history of both sources is now in the state. */
  static void write(Datasets ds, String root, String fingerprint) {
    StringBuilder b = new StringBuilder();
    b.append("fingerprint=").append(fingerprint).append('\n');
    for (String source : List.of("events", "ratings")) {
      for (Map.Entry<LocalDate, String> e : identities(ds, source).entrySet()) {
        b.append(source).append('.').append(e.getKey()).append('=').append(e.getValue()).append('\n');
      }
    }
    byte[] content = b.toString().getBytes(StandardCharsets.UTF_8);
    ds.publish(ledger(root), dir -> {
      try (OutputStream out = ds.fs(dir).create(new Path(dir, FILE), false)) {
        out.write(content);
      }
    });
  }

  /** Removes this run date's ledger, before its tables are rewritten. */
  static void invalidate(Datasets ds, String root) {
    ds.delete(ledger(root));
  }

  /**
   * Whether the state kept under {@code root} for this run date is the state of its current
   * history: its ledger is complete, has this fingerprint, and lists exactly the partitions of both
   * sources as they are now (an ingest rerun after the state was written makes it stale).
   */
  static boolean current(Datasets ds, String root, String fingerprint) {
    if (!ds.exists(ledger(root), ds.runDate())) {
      return false;
    }
    Map<String, String> ledger = read(ds, root, ds.runDate());
    return fingerprint.equals(ledger.get("fingerprint")) && identities(ds, "events").equals(folded(ledger, "events"))
        && identities(ds, "ratings").equals(folded(ledger, "ratings"));
  }

  /** The ledger dataset of the state kept under {@code root}. */
  static String ledger(String root) {
    return root + "/ledger";
  }

  /**
   * Removes the states older than {@code keepDays} before this run date (ledger first, so that a
   * half-removed state is never used).
   *
   * @return the dates removed
   */
  static List<LocalDate> prune(Datasets ds, String root, int keepDays) {
    LocalDate oldest = ds.runDate().minusDays(keepDays);
    List<LocalDate> removed = new ArrayList<>();
    List<String> all = new ArrayList<>(List.of(ledger(root)));
    all.addAll(FeatureState.tables(root));
    for (String dataset : all) {
      for (LocalDate d : ds.completeDates(dataset)) {
        if (d.isBefore(oldest)) {
          ds.delete(dataset, d);
          if (dataset.equals(ledger(root))) {
            removed.add(d);
          }
        }
      }
    }
    return removed;
  }

  private static Map<LocalDate, String> identities(Datasets ds, String source) {
    Map<LocalDate, String> out = new LinkedHashMap<>();
    for (LocalDate d : ds.historyDates(source)) {
      out.put(d, ds.partitionIdentity("clean/" + source, d));
    }
    return out;
  }

  private static Map<LocalDate, String> upTo(Map<LocalDate, String> history, LocalDate s) {
    Map<LocalDate, String> out = new LinkedHashMap<>();
    history.forEach((d, id) -> {
      if (!d.isAfter(s)) {
        out.put(d, id);
      }
    });
    return out;
  }

  private static List<LocalDate> after(Map<LocalDate, String> history, LocalDate s) {
    List<LocalDate> out = new ArrayList<>();
    for (LocalDate d : history.keySet()) {
      if (d.isAfter(s)) {
        out.add(d);
      }
    }
    return out;
  }

  private static Map<LocalDate, String> folded(Map<String, String> ledger, String source) {
    Map<LocalDate, String> out = new LinkedHashMap<>();
    ledger.forEach((k, v) -> {
      if (k.startsWith(source + ".")) {
        out.put(LocalDate.parse(k.substring(source.length() + 1)), v);
      }
    });
    return out;
  }

  private static Map<String, String> read(Datasets ds, String root, LocalDate date) {
    Path file = new Path(ds.path(ledger(root), date), FILE);
    Map<String, String> out = new LinkedHashMap<>();
    try (FSDataInputStream in = ds.fs(file).open(file)) {
      for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
        int eq = line.indexOf('=');
        if (eq > 0) {
          out.put(line.substring(0, eq), line.substring(eq + 1));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the feature state ledger " + file, e);
    }
    return out;
  }
}
