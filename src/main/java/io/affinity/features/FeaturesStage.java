package io.affinity.features;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pow;
import static org.apache.spark.sql.functions.when;

import io.affinity.config.Settings.EventTypes;
import io.affinity.config.Settings.FeatureSettings;
import io.affinity.io.Datasets;
import io.affinity.io.IdMaps;
import io.affinity.pipeline.Stage;
import io.affinity.pipeline.StageContext;
import io.affinity.pipeline.StageReport;
import java.sql.Timestamp;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Stage {@code features}: user features, item features, implicit interactions and explicit
 * ratings, all as of the end of the run date (later events are ignored, so a backfill for an old
 * date sees only what was known then).
 *
 * <p>Outputs under {@code features/<users|items|interactions|ratings>/run_date=D}; column meanings
 * and units are in docs/OUTPUTS.md.
 */
public final class FeaturesStage implements Stage {
  private static final double SECONDS_PER_DAY = 86_400.0;

  private final LocalDate runDate;
  private final EventTypes types;
  private final FeatureSettings settings;

  /** Whether there is an event log; without one (table mode) only features/users is written. */
  private final boolean events;
  /** Whether every row of the users table is a user (table mode), not only users with events. */
  private final boolean everyUser;
  /** Propensity's cutoff, when it trains on events: its state is kept too (see {@link CutoffState}). */
  private final Optional<CutoffState.Spec> cutoff;

  public FeaturesStage(LocalDate runDate, EventTypes types, FeatureSettings settings) {
    this(runDate, types, settings, true, false);
  }

  /**
   * @param events whether an event log is configured
   * @param everyUser whether the users table is the population (propensity labels from a column of it)
   */
  public FeaturesStage(LocalDate runDate, EventTypes types, FeatureSettings settings, boolean events, boolean everyUser) {
    this(runDate, types, settings, events, everyUser, Optional.empty());
  }

  /**
   * @param cutoff propensity's cutoff when it trains on events: with kept state, the state as of
   *     the cutoff is kept as well, and propensity derives its training features from it
   */
  public FeaturesStage(LocalDate runDate, EventTypes types, FeatureSettings settings, boolean events, boolean everyUser,
      Optional<CutoffState.Spec> cutoff) {
    this.runDate = runDate;
    this.cutoff = cutoff;
    this.types = types;
    this.settings = settings;
    this.events = events;
    this.everyUser = everyUser;
  }

  @Override
  public String name() {
    return "features";
  }

  @Override
  public StageReport run(StageContext ctx) {
    Datasets ds = ctx.datasets();
    Timestamp asOf = Timestamp.from(ctx.runDate().plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant());
    if (!events) {
      return usersOnly(ctx, asOf);
    }
    // Checked first, so that a missing history fails with its message before any other work.
    ds.cleanHistory("events", "ingest");
    Optional<Dataset<Row>> items = ds.readIfPresent("clean/items");
    Optional<Dataset<Row>> users = ds.readIfPresent("clean/users");
    Dataset<Row> userMap = IdMaps.read(ds, "users").withColumnRenamed("id", "user_id").withColumnRenamed("idx", "user_idx");
    Dataset<Row> itemMap = IdMaps.read(ds, "items").withColumnRenamed("id", "item_id").withColumnRenamed("idx", "item_idx");

    StageReport report = new StageReport();
    report.put("as_of", asOf.toInstant().toString());
    ctx.spark().sparkContext().setJobDescription("features: state");
    FeatureState state = state(ctx, asOf, report);

    ctx.spark().sparkContext().setJobDescription("features: user-item interactions");
    ds.write(ItemFeatures.interactions(state, types).join(userMap, "user_id").join(itemMap, "item_id")
        .select("user_id", "item_id", "user_idx", "item_idx", "strength", "events", "purchased", "last_event_time"),
        "features/interactions");

    ctx.spark().sparkContext().setJobDescription("features: users");
    writeUsers(ds, UserFeatures.fromState(state, users, items, asOf, types, everyUser), userMap);

    ctx.spark().sparkContext().setJobDescription("features: items");
    Dataset<Row> it = ItemFeatures.items(state, items, types).join(itemMap, "item_id");
    List<Column> itemCols = new ArrayList<>();
    for (String c : it.columns()) {
      if (!c.equals("item_idx")) {
        itemCols.add(col(c));
      }
      if (c.equals("item_id")) {
        itemCols.add(col("item_idx"));
      }
    }
    ds.write(it.select(itemCols.toArray(new Column[0])), "features/items");

    if (state.ratingPairs.isPresent()) {
      ctx.spark().sparkContext().setJobDescription("features: ratings");
      // ALS explicit mode wants one rating per pair: the state keeps the latest one.
      ds.write(ItemFeatures.ratings(state.ratingPairs.get()).join(userMap, "user_id").join(itemMap, "item_id")
          .select("user_id", "item_id", "user_idx", "item_idx", "rating", "event_time"), "features/ratings");
    } else {
      ds.delete("features/ratings");
    }
    state.unpersist();
    if (settings.keepState() && cutoff.isPresent()) {
      ctx.spark().sparkContext().setJobDescription("features: state as of propensity's cutoff");
      report.put("cutoff_state", CutoffState.keep(ctx, types, cutoff.get(), settings.stateKeepDays()));
    }

    Map<String, Object> rows = report.section("rows");
    for (String name : List.of("users", "items", "interactions", "ratings")) {
      if (ds.exists("features/" + name)) {
        rows.put(name, ctx.spark().read().parquet(ds.path("features/" + name).toString()).count());
      }
    }
    return report;
  }

  /**
   * The state as of {@code asOf}: with state kept ({@code affinity.features.state}), the latest
   * reusable kept state decayed to this date plus the partitions ingested since, else the whole
   * history; kept for the next night when state is on. Reports how it was made.
   */
  private FeatureState state(StageContext ctx, Timestamp asOf, StageReport report) {
    Datasets ds = ctx.datasets();
    long asOfSeconds = asOf.getTime() / 1000;
    String fingerprint = StateLedger.fingerprint(types, settings.halfLifeDays(),
        ctx.spark().conf().get("spark.sql.session.timeZone"));
    StateLedger.Plan plan = settings.keepState()
        ? StateLedger.plan(ds, FeatureState.ROOT, fingerprint)
        : new StateLedger.Plan(Optional.empty(), ds.historyDates("events"), false, ds.historyDates("ratings"));
    Dataset<Row> newEvents = ds.readPartitions("clean/events", plan.events());
    Optional<Dataset<Row>> newRatings = plan.ratings().isEmpty()
        ? Optional.empty() : Optional.of(ds.readPartitions("clean/ratings", plan.ratings()));
    if (plan.fold()) {
      // Rows the kept state's date left for later (after its end, within ingest's future tolerance).
      LocalDate base = plan.base().get();
      if (ds.exists(FeatureState.PENDING_EVENTS, base)) {
        newEvents = newEvents.unionByName(ds.readPartitions(FeatureState.PENDING_EVENTS, List.of(base)));
      }
      if (plan.ratingsFromBase() && ds.exists(FeatureState.PENDING_RATINGS, base)) {
        Dataset<Row> pending = ds.readPartitions(FeatureState.PENDING_RATINGS, List.of(base));
        newRatings = Optional.of(newRatings.map(n -> n.unionByName(pending)).orElse(pending));
      }
    }
    // Rows at or after the end of the run date are out of its scope. Ingest keeps rows after the
    // run date out of its partitions, except those within future-tolerance-hours (clock skew).
    Column later = col("event_time").geq(lit(asOf));
    long pendingEvents = newEvents.filter(later).count();
    report.put("events_after_run_date_ignored", pendingEvents);

    // Not cached: each state table reads only its own columns of the Parquet partitions, once.
    FeatureState delta = FeatureState.of(UserFeatures.before(newEvents, asOf),
        newRatings.map(r -> UserFeatures.ratingsBefore(r, asOf)), types,
        decayedWeight(types, settings.halfLifeDays(), asOfSeconds));
    FeatureState state = delta;
    Map<String, Object> r = report.section("state");
    r.put("mode", !settings.keepState() ? "off" : plan.fold() ? "fold" : "rebuild");
    if (plan.fold()) {
      LocalDate base = plan.base().get();
      double days = java.time.temporal.ChronoUnit.DAYS.between(base, ctx.runDate());
      FeatureState kept = FeatureState.read(ds, FeatureState.ROOT, base).decayed(Math.pow(0.5, days / settings.halfLifeDays()));
      if (!plan.ratingsFromBase()) {
        kept = kept.withoutRatings();
      }
      state = kept.plus(delta, types);
      r.put("base", base.toString());
    }
    r.put("events_partitions_read", plan.events().size());
    r.put("ratings_partitions_read", plan.ratings().size());
    if (!settings.keepState()) {
      // Several outputs read the state: computed once, kept in memory while they are written.
      return state.persisted();
    }
    StateLedger.invalidate(ds, FeatureState.ROOT);
    state.write(ds, FeatureState.ROOT);
    // Kept for the night whose end they fall before: then they are part of its delta. Usually there
    // are none, and then no table is written (one Spark job less per table).
    writeOrDelete(ds, pendingEvents > 0 ? Optional.of(newEvents.filter(later)) : Optional.empty(),
        FeatureState.PENDING_EVENTS);
    Optional<Dataset<Row>> pendingRatings = newRatings.map(n -> n.filter(later));
    writeOrDelete(ds, pendingRatings.isPresent() && !pendingRatings.get().isEmpty() ? pendingRatings : Optional.empty(),
        FeatureState.PENDING_RATINGS);
    StateLedger.write(ds, FeatureState.ROOT, fingerprint);
    r.put("pending_events", pendingEvents);
    r.put("pruned", StateLedger.prune(ds, FeatureState.ROOT, settings.stateKeepDays()).size());
    return FeatureState.read(ds, FeatureState.ROOT, ctx.runDate());
  }

  private static void writeOrDelete(Datasets ds, Optional<Dataset<Row>> rows, String dataset) {
    if (rows.isPresent()) {
      ds.write(rows.get(), dataset);
    } else {
      ds.delete(dataset);
    }
  }

  /** features/users with user_idx second, from the id map (columns user_id, user_idx). */
  private static void writeUsers(Datasets ds, Dataset<Row> u, Dataset<Row> userMap) {
    List<Column> userCols = new ArrayList<>();
    userCols.add(col("user_id"));
    userCols.add(col("user_idx"));
    for (String c : u.columns()) {
      if (!c.equals("user_id")) {
        userCols.add(col(c));
      }
    }
    ds.write(u.join(userMap, "user_id").select(userCols.toArray(new Column[0])), "features/users");
  }

  /**
   * Table mode without an event log: features/users only, one row per row of the users table with
   * its attributes and the behavioural columns of a user with no event (counts 0, recencies null).
   */
  private StageReport usersOnly(StageContext ctx, Timestamp asOf) {
    Datasets ds = ctx.datasets();
    ctx.spark().sparkContext().setJobDescription("features: users (no event log)");
    FeatureState none = FeatureState.of(UserFeatures.noEvents(ctx.spark()),
        ds.cleanHistoryIfPresent("ratings").map(r -> UserFeatures.ratingsBefore(r, asOf)), types, lit(0.0));
    writeUsers(ds, UserFeatures.fromState(none, Optional.of(ds.read("clean/users", "ingest")), Optional.empty(), asOf,
        types, true), IdMaps.read(ds, "users").withColumnRenamed("id", "user_id").withColumnRenamed("idx", "user_idx"));
    StageReport report = new StageReport();
    report.put("as_of", asOf.toInstant().toString());
    report.put("event_log", "none: features/users from the users table only (table mode)");
    report.section("rows").put("users", ctx.spark().read().parquet(ds.path("features/users").toString()).count());
    return report;
  }

  /**
   * Implicit-feedback weight of one event as of an instant: its type's configured weight, halved for
   * every {@code halfLifeDays} between the event and {@code asOfSeconds}. Public so that stage
   * recommend can rebuild interaction strength as of its validation split with the same formula.
   */
  public static Column decayedWeight(EventTypes types, double halfLifeDays, long asOfSeconds) {
    Column ageDays = lit(asOfSeconds).minus(expr("unix_seconds(event_time)")).divide(SECONDS_PER_DAY);
    return weightColumn(types).multiply(pow(lit(0.5), ageDays.divide(halfLifeDays)));
  }

  /** Implicit weight of each event's type from config. */
  private static Column weightColumn(EventTypes types) {
    Column w = lit(types.weight(types.returned()));
    for (String t : types.names()) {
      w = when(col("event_type").equalTo(t), lit(types.weight(t))).otherwise(w);
    }
    return w;
  }
}
