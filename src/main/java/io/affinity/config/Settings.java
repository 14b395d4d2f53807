package io.affinity.config;

import java.time.LocalDate;
import java.util.List;
import java.util.Map;

/**
 * The configuration-level parts of a run's settings: typed records for Spark, the inputs, the event
 * types, ingest and features, which any layer may read. Only types live here; the run's settings
 * that gather these with every stage's own settings, read and cross-checked once before Spark
 * starts, are {@code io.affinity.RunSettings}, beside {@code Main}, so that this package imports
 * nothing from the layers above it.
 */
public final class Settings {
  private Settings() {}

  /** Spark session settings. */
  public record SparkSettings(
      String master, String appName, int shufflePartitions, String checkpointDir, boolean uiEnabled,
      Map<String, String> conf) {}

  /** The behaviour log: clicks, carts, purchases, or invoice lines. */
  public record EventsInput(
      CsvFormat csv, TimestampFormat timestamp, String fixedEventType, boolean negativeQuantityIsCancellation,
      String cancellationInvoicePrefix) implements java.io.Serializable {}

  /** Explicit ratings. */
  public record RatingsInput(CsvFormat csv, TimestampFormat timestamp, double min, double max)
      implements java.io.Serializable {}

  /** Optional user attributes. */
  public record UsersInput(CsvFormat csv, TimestampFormat timestamp, List<String> categorical, List<String> numeric)
      implements java.io.Serializable {}

  /** Optional item attributes. */
  public record ItemsInput(CsvFormat csv) implements java.io.Serializable {}

  /** Event type vocabulary and implicit-feedback weights. */
  public record EventTypes(
      List<String> names, Map<String, String> aliases, String purchase, String view, String returned,
      Map<String, Double> weights) implements java.io.Serializable {

    /** Weight of an event type; unlisted types weigh 0. */
    public double weight(String type) {
      return weights.getOrDefault(type, 0.0);
    }
  }

  /** Ingest policies. */
  public record IngestSettings(
      double maxRejectShare, int futureToleranceHours, LocalDate minEventDate, boolean trimIds, boolean stripFloatSuffix,
      String outlierAction, double outlierQuantile, List<String> outlierColumns, int dedupWindowDays)
      implements java.io.Serializable {}

  /** Feature engineering settings. */
  public record FeatureSettings(double halfLifeDays, boolean keepState, int stateKeepDays)
      implements java.io.Serializable {
    /** Without kept state: every run derives its features from the whole history. */
    public FeatureSettings(double halfLifeDays) {
      this(halfLifeDays, false, 3);
    }
  }
}
