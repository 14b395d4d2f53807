package io.affinity;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import io.affinity.config.ConfigReader;
import io.affinity.config.CsvFormat;
import io.affinity.config.Settings.EventTypes;
import io.affinity.config.Settings.EventsInput;
import io.affinity.config.Settings.FeatureSettings;
import io.affinity.config.Settings.IngestSettings;
import io.affinity.config.Settings.ItemsInput;
import io.affinity.config.Settings.RatingsInput;
import io.affinity.config.Settings.SparkSettings;
import io.affinity.config.Settings.UsersInput;
import io.affinity.config.SettingsException;
import io.affinity.config.TimestampFormat;
import io.affinity.pipeline.GateSettings;
import io.affinity.propensity.PropensitySettings;
import io.affinity.publish.FairnessSettings;
import io.affinity.publish.PublishSettings;
import io.affinity.recommend.RecommendSettings;
import io.affinity.segment.SegmentSettings;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Every setting of a run, read and validated once, before Spark starts: the configuration-level
 * records of {@link io.affinity.config.Settings} and every stage's own settings, with the checks
 * that span sections. Stages receive the typed parts they need through their constructors and
 * never see {@link Config}. It lives beside {@link Main}, above the stages it gathers, so that
 * {@code config} stays at the bottom of the layers.
 */
public record RunSettings(
    LocalDate runDate,
    String outputRoot,
    SparkSettings spark,
    EventsInput events,
    RatingsInput ratings,
    UsersInput users,
    ItemsInput items,
    EventTypes eventTypes,
    IngestSettings ingest,
    FeatureSettings features,
    RecommendSettings recommend,
    SegmentSettings segment,
    PropensitySettings propensity,
    GateSettings gates,
    PublishSettings publish,
    FairnessSettings fairness,
    List<String> stages,
    String configDigest,
    String renderedConfig) {

  /**
   * Reads and validates every key.
   *
   * @param config the resolved config (overrides > file > reference)
   * @param runDateArg the --run-date argument, or null
   */
  public static RunSettings from(Config config, String runDateArg) {
    return from(config, runDateArg, System.getenv());
  }

  /**
   * Reads and validates every key, taking environment variables (the pseudonymization key) from
   * {@code env}.
   */
  public static RunSettings from(Config config, String runDateArg, Map<String, String> env) {
    ConfigReader r = new ConfigReader(config);
    LocalDate runDate = runDate(r, runDateArg);
    String root = r.nonEmpty("affinity.output.root");

    String checkpoint = r.string("affinity.spark.checkpoint-dir").trim();
    SparkSettings spark = new SparkSettings(
        r.nonEmpty("affinity.spark.master"),
        r.nonEmpty("affinity.spark.app-name"),
        r.integer("affinity.spark.shuffle-partitions", 1, 100_000),
        checkpoint.isEmpty() ? root + "/_checkpoints" : checkpoint,
        r.bool("affinity.spark.ui-enabled"),
        r.stringMap("affinity.spark.conf"));

    EventTypes types = eventTypes(r);

    CsvFormat ev = CsvFormat.read(r, "events",
        List.of("user", "item", "event-type", "timestamp", "quantity", "price", "session", "invoice", "description"),
        // Optional only in table mode: a users table whose label column is the propensity label.
        List.of("user", "item", "timestamp"), r.string("affinity.input.users.path").trim().isEmpty()
            || r.string("affinity.propensity.label.column").trim().isEmpty());
    String fixedType = r.string("affinity.input.events.fixed-event-type").trim();
    if (ev.column("event-type") == null && !types.names().contains(fixedType)) {
      throw new SettingsException("affinity.input.events.fixed-event-type", fixedType,
          "must be one of affinity.event-types.names " + types.names() + " when columns.event-type is empty");
    }
    String invoicePrefix = r.string("affinity.input.events.cancellation.invoice-prefix").trim();
    if (!invoicePrefix.isEmpty() && ev.column("invoice") == null) {
      throw new SettingsException("affinity.input.events.columns.invoice", "",
          "must name the invoice column when cancellation.invoice-prefix is set");
    }
    EventsInput events = new EventsInput(ev, TimestampFormat.read(r, "affinity.input.events.timestamp"), fixedType,
        r.bool("affinity.input.events.cancellation.negative-quantity"), invoicePrefix);

    CsvFormat ra = CsvFormat.read(r, "ratings", List.of("user", "item", "rating", "timestamp"),
        List.of("user", "item", "rating"), false);
    double min = r.number("affinity.input.ratings.scale.min", -1e9, 1e9, false);
    double max = r.number("affinity.input.ratings.scale.max", -1e9, 1e9, false);
    if (max <= min) {
      throw new SettingsException("affinity.input.ratings.scale.max", max, "must be greater than scale.min (" + min + ")");
    }
    RatingsInput ratings = new RatingsInput(ra, TimestampFormat.read(r, "affinity.input.ratings.timestamp"), min, max);

    // Without an id column (columns.user = "") every row gets the id <file name>:<line number>: a
    // customer table with a label needs no event log to join to (docs/PROPENSITY.md, table mode).
    CsvFormat us = CsvFormat.read(r, "users", List.of("user", "signup-date"), List.of(), false);
    if (us.present() && us.column("user") == null && ev.present()) {
      throw new SettingsException("affinity.input.users.columns.user", "", "must name the user id column when there "
          + "is an event log (affinity.input.events.path): generated row ids cannot be joined to events");
    }
    List<String> categorical = r.strings("affinity.input.users.categorical");
    List<String> numeric = r.strings("affinity.input.users.numeric");
    for (String c : categorical) {
      if (numeric.contains(c)) {
        throw new SettingsException("affinity.input.users.numeric", c, "must not repeat a column listed in users.categorical");
      }
    }
    UsersInput users = new UsersInput(us, TimestampFormat.read(r, "affinity.input.users.timestamp"), categorical, numeric);

    ItemsInput items = new ItemsInput(CsvFormat.read(r, "items", List.of("item", "category", "price", "title"),
        List.of("item"), false));

    List<String> outlierColumns = r.strings("affinity.ingest.outliers.columns");
    for (String c : outlierColumns) {
      if (!c.equals("quantity") && !c.equals("price")) {
        throw new SettingsException("affinity.ingest.outliers.columns", c, "entries must be quantity or price");
      }
    }
    IngestSettings ingest = new IngestSettings(
        r.number("affinity.ingest.max-reject-share", 0, 1, false),
        r.integer("affinity.ingest.future-tolerance-hours", 0, 8760),
        date(r, "affinity.ingest.min-event-date"),
        r.bool("affinity.ingest.ids.trim"),
        r.bool("affinity.ingest.ids.strip-float-suffix"),
        r.oneOf("affinity.ingest.outliers.action", "cap", "quarantine", "off"),
        r.number("affinity.ingest.outliers.quantile", 0.5, 1.0, true),
        outlierColumns,
        r.integer("affinity.ingest.dedup-window-days", 0, 366));

    // auto: keep the state when a night ingests one day's files; a full copy every night replaces
    // the history, so no kept state could ever be reused and writing it would only cost time.
    String stateMode = r.oneOf("affinity.features.state.mode", "auto", "on", "off");
    boolean keepState = stateMode.equals("on") || (stateMode.equals("auto") && (ev.dated() || ra.dated()));
    FeatureSettings features = new FeatureSettings(r.number("affinity.features.half-life-days", 0, 1e6, true),
        keepState, r.integer("affinity.features.state.keep-days", 1, 366));

    String rendered = config.getConfig("affinity").root()
        .render(ConfigRenderOptions.concise().setFormatted(true).setJson(false));
    RecommendSettings recommend = RecommendSettings.from(r);
    SegmentSettings segment = SegmentSettings.from(r);
    PropensitySettings propensity = PropensitySettings.from(r);
    GateSettings gates = GateSettings.from(r);
    PublishSettings publish = PublishSettings.from(r, env);
    FairnessSettings fairness = FairnessSettings.from(r);
    if (fairness.enabled() && !fairness.useAsInput()) {
      // Cross-section: the compared attributes stay out of the model unless the config says otherwise.
      for (String a : fairness.attributes()) {
        if (propensity.attributes().stream().anyMatch(x -> io.affinity.ingest.ColumnNames.attribute(x).equals(a))) {
          throw new SettingsException("affinity.propensity.attributes", a, "is compared by affinity.fairness.attributes,"
              + " which keeps it out of the model (affinity.fairness.use-as-input = false): remove it from one, or set "
              + "use-as-input = true");
        }
      }
      propensity = propensity.withExcluded(fairness.attributes());
    }

    return new RunSettings(runDate, root, spark, events, ratings, users, items, types, ingest, features,
        recommend, segment, propensity, gates, publish, fairness, stages(r),
        sha256(config.getConfig("affinity").root().render(ConfigRenderOptions.concise())), rendered);
  }

  /** Every stage, in the order {@code all} runs them. */
  public static final List<String> STAGES = List.of("ingest", "features", "segment", "propensity", "recommend", "publish");

  /** {@code affinity.stages}: known names, each once; publish needs segment (its audience rows). */
  private static List<String> stages(ConfigReader r) {
    List<String> listed = r.strings("affinity.stages");
    if (listed.isEmpty()) {
      throw new SettingsException("affinity.stages", "[]", "must list at least one of " + STAGES);
    }
    for (String st : listed) {
      if (!STAGES.contains(st)) {
        throw new SettingsException("affinity.stages", st, "entries must be stages: " + STAGES);
      }
      if (listed.indexOf(st) != listed.lastIndexOf(st)) {
        throw new SettingsException("affinity.stages", st, "is listed twice");
      }
    }
    if (listed.contains("publish") && !listed.contains("segment")) {
      throw new SettingsException("affinity.stages", listed.toString(), "publish needs segment: its audience has a "
          + "row per segmented user");
    }
    return STAGES.stream().filter(listed::contains).toList();
  }

  private static EventTypes eventTypes(ConfigReader r) {
    List<String> names = r.strings("affinity.event-types.names");
    if (names.isEmpty()) {
      throw new SettingsException("affinity.event-types.names", "[]", "must list at least one event type");
    }
    for (String n : names) {
      if (!n.matches("[a-z][a-z0-9_]*")) {
        throw new SettingsException("affinity.event-types.names", n, "entries must be lower-case words ([a-z][a-z0-9_]*)");
      }
    }
    Map<String, String> aliases = r.stringMap("affinity.event-types.aliases");
    for (Map.Entry<String, String> a : aliases.entrySet()) {
      if (!names.contains(a.getValue())) {
        throw new SettingsException("affinity.event-types.aliases." + a.getKey(), a.getValue(), "must map to one of " + names);
      }
    }
    String purchase = r.nonEmpty("affinity.event-types.purchase");
    String view = r.nonEmpty("affinity.event-types.view");
    for (String[] kv : new String[][] {{"purchase", purchase}, {"view", view}}) {
      if (!names.contains(kv[1])) {
        throw new SettingsException("affinity.event-types." + kv[0], kv[1], "must be one of affinity.event-types.names " + names);
      }
    }
    String returned = r.nonEmpty("affinity.event-types.return");
    if (names.contains(returned)) {
      throw new SettingsException("affinity.event-types.return", returned,
          "must not be one of event-types.names: raw input cannot claim the cancellation type");
    }
    Map<String, Double> weights = new java.util.LinkedHashMap<>(r.numberMap("affinity.event-types.weights", 0.0));
    Config defaults = com.typesafe.config.ConfigFactory.parseResources(RunSettings.class.getClassLoader(), "reference.conf");
    for (String t : List.copyOf(weights.keySet())) {
      if (!names.contains(t) && !t.equals(returned)) {
        // A default weight for a type this dataset does not use (its own vocabulary replaced ours)
        // is dropped; a weight the user wrote for an unknown type is a typo.
        if (defaults.hasPath("affinity.event-types.weights." + t)) {
          weights.remove(t);
        } else {
          throw new SettingsException("affinity.event-types.weights." + t, weights.get(t), "names an event type not in " + names);
        }
      }
    }
    return new EventTypes(names, aliases, purchase, view, returned, Map.copyOf(weights));
  }

  private static LocalDate date(ConfigReader r, String key) {
    String v = r.nonEmpty(key);
    try {
      return LocalDate.parse(v);
    } catch (DateTimeParseException e) {
      throw new SettingsException(key, v, "must be a date as YYYY-MM-DD");
    }
  }

  private static LocalDate runDate(ConfigReader r, String arg) {
    String key = arg != null ? "--run-date" : "affinity.run-date";
    String v = arg != null ? arg.trim() : r.string("affinity.run-date").trim();
    if (v.isEmpty()) {
      return LocalDate.now(ZoneOffset.UTC);
    }
    try {
      return LocalDate.parse(v);
    } catch (DateTimeParseException e) {
      throw new SettingsException(key, v, "must be a date as YYYY-MM-DD");
    }
  }

  private static String sha256(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
