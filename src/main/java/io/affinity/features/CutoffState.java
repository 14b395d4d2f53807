package io.affinity.features;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.affinity.config.Settings.EventTypes;
import io.affinity.io.Datasets;
import io.affinity.pipeline.StageContext;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The state as of propensity's training cutoff (the end of the run date minus the horizon), kept
 * next to the state as of the end of the run date so that a night derives the training features
 * from the same aggregates instead of a second pass over the whole history.
 *
 * <p>Stage features keeps it under {@code features/cutoff_state/<table>/run_date=D} with its own
 * {@link StateLedger ledger}, when it keeps its own state. A night of D folds it forward from the
 * latest valid state S before D: the cutoff moves from {@code c(S)} to {@code c(D)}, so the delta
 * is the rows before {@code c(D)} of the partitions after S, plus the rows in
 * {@code [c(S), c(D))} of the partitions up to S, which the state of S did not count yet. Those are
 * re-read rather than kept as pending rows (unlike the end-of-day state, whose pending rows are
 * the few within the clock-skew tolerance, these are a whole horizon of events): only the
 * partitions that can hold such rows, see {@link #partitionsFrom}. The pair strength is not a user
 * feature and is kept as 0.
 *
 * <p>Stage propensity reads the state with {@link #features}, which checks that it is the state
 * of the history as it is now, and else derives the features from the whole history.
 */
public final class CutoffState {
  /** Root of the kept state. */
  static final String ROOT = "features/cutoff_state";

  /**
   * What places the cutoff and bounds the partitions to re-read.
   *
   * @param horizonDays {@code affinity.propensity.horizon-days}: the cutoff is the end of the run
   *     date minus this many days
   * @param futureToleranceHours {@code affinity.ingest.future-tolerance-hours}: ingest keeps no row at
   *     or after the end of a partition's date plus this in that partition
   */
  public record Spec(int horizonDays, int futureToleranceHours) {
    /** The training cutoff of a run date. */
    public Instant cutoff(LocalDate runDate) {
      return runDate.plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant().minus(horizonDays, ChronoUnit.DAYS);
    }
  }

  private CutoffState() {}

  /**
   * The settings the state depends on. The half-life is not among them (the strength is kept as 0);
   * the horizon places the cutoff, and the tolerance decides which partitions a fold re-reads.
   */
  static String fingerprint(EventTypes types, Spec spec, SparkSession spark) {
    return "cutoff;horizon-days=" + spec.horizonDays() + ";future-tolerance-hours=" + spec.futureToleranceHours() + ";"
        + StateLedger.fingerprint(types, 0.0, spark.conf().get("spark.sql.session.timeZone"));
  }

  /**
   * Folds (or rebuilds) and writes the state as of this run date's cutoff. Called by stage features
   * after its own state, when it keeps state.
   *
   * @return the report: as_of, mode (fold | rebuild), base, the partitions read and re-read, pruned
   */
  static Map<String, Object> keep(StageContext ctx, EventTypes types, Spec spec, int keepDays) {
    Datasets ds = ctx.datasets();
    Timestamp asOf = Timestamp.from(spec.cutoff(ctx.runDate()));
    String fingerprint = fingerprint(types, spec, ctx.spark());
    StateLedger.Plan plan = StateLedger.plan(ds, ROOT, fingerprint);
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("as_of", asOf.toInstant().toString());
    r.put("mode", plan.fold() ? "fold" : "rebuild");
    Optional<Dataset<Row>> events = rows(ds, "clean/events", plan.events()).map(e -> UserFeatures.before(e, asOf));
    Optional<Dataset<Row>> ratings = rows(ds, "clean/ratings", plan.ratings())
        .map(x -> UserFeatures.ratingsBefore(x, asOf));
    Optional<FeatureState> base = Optional.empty();
    if (plan.fold()) {
      LocalDate s = plan.base().get();
      Timestamp from = Timestamp.from(spec.cutoff(s));
      List<LocalDate> reread = upTo(partitionsFrom(ds, "events", from.toInstant(), spec.futureToleranceHours()), s);
      events = union(events, rows(ds, "clean/events", reread).map(e -> between(e, from, asOf)));
      if (plan.ratingsFromBase()) {
        List<LocalDate> rereadRatings =
            upTo(partitionsFrom(ds, "ratings", from.toInstant(), spec.futureToleranceHours()), s);
        ratings = union(ratings, rows(ds, "clean/ratings", rereadRatings).map(x -> between(x, from, asOf)));
        r.put("ratings_partitions_reread", rereadRatings.size());
      }
      FeatureState kept = FeatureState.read(ds, ROOT, s);
      base = Optional.of(plan.ratingsFromBase() ? kept : kept.withoutRatings());
      r.put("base", s.toString());
      r.put("events_partitions_reread", reread.size());
    }
    r.put("events_partitions_read", plan.events().size());
    r.put("ratings_partitions_read", plan.ratings().size());
    FeatureState delta = FeatureState.of(events.orElseGet(() -> UserFeatures.noEvents(ctx.spark())), ratings, types,
        lit(0.0));
    FeatureState state = base.map(b -> b.plus(delta, types)).orElse(delta);
    StateLedger.invalidate(ds, ROOT);
    state.write(ds, ROOT);
    StateLedger.write(ds, ROOT, fingerprint);
    r.put("pruned", StateLedger.prune(ds, ROOT, keepDays).size());
    return r;
  }

  /**
   * User features as of this run date's cutoff from the kept state, as {@link UserFeatures#compute}
   * gives them from the whole history; empty when there is no kept state of this date for the
   * current history and these settings (state off, stage features not run for the date, or an
   * ingest of the date run after it).
   */
  public static Optional<Dataset<Row>> features(StageContext ctx, EventTypes types, Spec spec,
      Optional<Dataset<Row>> users, Optional<Dataset<Row>> items) {
    Datasets ds = ctx.datasets();
    if (!StateLedger.current(ds, ROOT, fingerprint(types, spec, ctx.spark()))) {
      return Optional.empty();
    }
    return Optional.of(UserFeatures.fromState(FeatureState.read(ds, ROOT, ds.runDate()), users, items,
        Timestamp.from(spec.cutoff(ds.runDate())), types, false));
  }

  /**
   * The partitions of the history of {@code clean/<source>} that can hold rows at or after
   * {@code from}. Ingest keeps in the partition of date P only rows before the end of P plus the
   * tolerance; such a row is at or after {@code from} only if {@code P >= date(from - tolerance)}.
   */
  public static List<LocalDate> partitionsFrom(Datasets ds, String source, Instant from, int toleranceHours) {
    LocalDate first = LocalDate.ofInstant(from.minus(toleranceHours, ChronoUnit.HOURS), ZoneOffset.UTC);
    List<LocalDate> out = new ArrayList<>();
    for (LocalDate d : ds.historyDates(source)) {
      if (!d.isBefore(first)) {
        out.add(d);
      }
    }
    return out;
  }

  private static List<LocalDate> upTo(List<LocalDate> dates, LocalDate last) {
    return dates.stream().filter(d -> !d.isAfter(last)).toList();
  }

  private static Optional<Dataset<Row>> rows(Datasets ds, String dataset, List<LocalDate> dates) {
    return dates.isEmpty() ? Optional.empty() : Optional.of(ds.readPartitions(dataset, dates));
  }

  /** Rows with a time in {@code [from, to)} (undated ratings were counted with their partition). */
  private static Dataset<Row> between(Dataset<Row> rows, Timestamp from, Timestamp to) {
    return rows.filter(col("event_time").geq(lit(from)).and(col("event_time").lt(lit(to))));
  }

  private static Optional<Dataset<Row>> union(Optional<Dataset<Row>> a, Optional<Dataset<Row>> b) {
    return a.isEmpty() ? b : b.isEmpty() ? a : Optional.of(a.get().unionByName(b.get()));
  }
}
