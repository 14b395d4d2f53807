package io.affinity.ingest;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.lag;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.regexp_extract;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import io.affinity.config.CsvFormat;
import io.affinity.config.Settings;
import io.affinity.io.Datasets;
import io.affinity.io.IdMaps;
import io.affinity.io.MissingInputException;
import io.affinity.pipeline.DataQualityException;
import io.affinity.pipeline.Stage;
import io.affinity.pipeline.StageContext;
import io.affinity.pipeline.StageReport;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stage {@code ingest}: reads every configured source, quarantines bad rows with a reason, caps or
 * quarantines outliers, removes duplicates, checks the data-quality gate, and writes
 * {@code clean/<source>}, {@code quarantine/} and the id maps. For each source, rows read =
 * clean + quarantined + duplicates removed + rows after the run date (out of the date's scope),
 * and the stage fails if that ever does not hold.
 *
 * <p>With a {@code {run_date}} placeholder in the events or ratings path, only the run date's files
 * are read and {@code clean/<source>/run_date=D} is that day's delta, without the events already in
 * the partitions within {@code dedup-window-days} (counted as re-delivered duplicates); readers take
 * the history through {@link Datasets#cleanHistory}.
 */
public final class IngestStage implements Stage {
  private static final Logger LOG = LoggerFactory.getLogger(IngestStage.class);
  private static final String CAPPED = "_capped";
  /** Marks a good row whose time is after the run date (plus the tolerance): out of this date's scope. */
  private static final String AFTER = "_after_run_date";
  /** Descriptions of the event lines per item (with {@code input.events.columns.description}). */
  static final String ITEM_DESCRIPTIONS = "item_descriptions";

  /**
   * What ingest reads of the run's settings: the inputs, the event types, its own policies, and
   * whether the users table carries the propensity label (table mode: every users row is a user).
   */
  public record Inputs(Settings.EventsInput events, Settings.RatingsInput ratings, Settings.UsersInput users,
      Settings.ItemsInput items, Settings.EventTypes eventTypes, Settings.IngestSettings ingest,
      boolean labelFromTable) {}

  private final Inputs settings;

  public IngestStage(Inputs settings) {
    this.settings = settings;
  }

  @Override
  public String name() {
    return "ingest";
  }

  /**
   * One source to ingest: its layout (path placeholders resolved for the run date), parser and
   * deduplication key. {@code history}: events and ratings, whose clean partitions form a history
   * (full copies or daily deltas); {@code delta} when the configured path names one day's files.
   */
  private record Source(String name, CsvFormat csv, RowParser parser, List<String> key, boolean history, boolean delta,
      String template) {
    Source(String name, CsvFormat configured, java.time.LocalDate runDate, RowParser parser, List<String> key, boolean history) {
      this(name, configured.forDate(runDate), parser, key, history, history && configured.dated(), configured.path());
    }
  }

  @Override
  public StageReport run(StageContext ctx) {
    // Rows at or after scopeLimit belong to later run dates (a backfill reading a file that also
    // holds later days): counted as after_run_date, neither clean nor quarantined. Only rows later
    // than the moment of ingest plus the tolerance cannot have happened and are FUTURE_TIMESTAMP.
    // A clock-skew row just past the run date (within the tolerance) is clean for this date.
    Instant scopeLimit = ctx.runDate().plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant()
        .plus(settings.ingest().futureToleranceHours(), ChronoUnit.HOURS);
    Instant now = Instant.now().plus(settings.ingest().futureToleranceHours(), ChronoUnit.HOURS);
    Instant futureLimit = now.isAfter(scopeLimit) ? now : scopeLimit;
    List<Source> sources = new ArrayList<>();
    java.time.LocalDate d = ctx.runDate();
    // Events and ratings with a {run_date} path are daily deltas; users and items are read whole
    // every night (a placeholder there only picks the day's snapshot).
    boolean hasEvents = settings.events().csv().present(); // absent only in table mode (users with a label)
    if (hasEvents) {
      sources.add(new Source("events", settings.events().csv(), d,
          new EventParser(settings.events(), settings.eventTypes(), settings.ingest(), futureLimit),
          List.of("user_id", "item_id", "event_type", "event_time"), true));
    }
    if (settings.ratings().csv().present()) {
      sources.add(new Source("ratings", settings.ratings().csv(), d,
          new RatingParser(settings.ratings(), settings.ingest(), futureLimit), List.of("user_id", "item_id", "event_time"), true));
    }
    if (settings.users().csv().present()) {
      sources.add(new Source("users", settings.users().csv(), d, new UserParser(settings.users(), settings.ingest()),
          List.of("user_id"), false));
    }
    if (settings.items().csv().present()) {
      sources.add(new Source("items", settings.items().csv(), d, new ItemParser(settings.items(), settings.ingest()),
          List.of("item_id"), false));
    }

    StageReport report = new StageReport();
    Map<String, Object> perSource = report.section("sources");
    Map<String, Dataset<Row>> parsed = new LinkedHashMap<>();
    Dataset<Row> quarantine = null;
    List<String> gateFailures = new ArrayList<>();
    List<Source> active = new ArrayList<>();
    for (Source s : sources) {
      // events are required; ratings, users and items are optional: missing or empty is a logged skip.
      boolean optional = !s.name().equals("events");
      Map<String, Object> counts = new LinkedHashMap<>();
      counts.put("path", s.csv().path());
      if (!s.template().equals(s.csv().path())) {
        counts.put("path_template", s.template());
      }
      counts.put("mode", s.delta() ? "delta" : "full");
      perSource.put(s.name(), counts);
      ctx.spark().sparkContext().setJobDescription("ingest: parse " + s.name());
      SourceReader.Read read;
      try {
        read = SourceReader.read(ctx.spark(), s.csv(), s.parser());
      } catch (MissingInputException e) {
        if (!optional) {
          throw e;
        }
        skip(ctx, s, counts, e.getMessage());
        continue;
      }
      Dataset<Row> rows = generatedIds(s, read.rows()).withColumn(AFTER, afterRunDate(s, scopeLimit))
          .persist(StorageLevel.MEMORY_AND_DISK());
      counts.put("files", read.files().size());
      if (s.name().equals("events")) {
        rows = outliers(rows, counts);
      }
      long total = countRows(rows, read, s, counts);
      if (total == 0) {
        rows.unpersist();
        @SuppressWarnings("unchecked")
        List<String> files = (List<String>) counts.get("files_without_data");
        String why = "input " + s.name() + " has no data rows: " + (files.size() == 1 ? "file " + files.get(0) + " is"
            : "files " + files + " are") + " empty or header-only (" + s.csv().keyPrefix() + ".path = " + s.csv().path() + ")";
        if (!optional) {
          throw new DataQualityException(why, report);
        }
        skip(ctx, s, counts, why);
        continue;
      }
      if (!optional && total == (Long) counts.get("after_run_date")) {
        rows.unpersist();
        // Nothing in scope: every later stage would model an empty population.
        throw new DataQualityException("input " + s.name() + " has no rows on or before run_date=" + ctx.runDate()
            + ": all " + total + " rows are later (counted as after_run_date in the manifest); choose a run date "
            + "within the data (--run-date or affinity.run-date)", report);
      }
      active.add(s);
      parsed.put(s.name(), rows);
      Dataset<Row> rejects = rows.filter(col(SourceReader.REASON).isNotNull()).select(
          lit(s.name()).as("source"), col(SourceReader.FILE), col(SourceReader.LINE), col(SourceReader.OFFSET),
          col(SourceReader.RAW), col(SourceReader.REASON), col(SourceReader.DETAIL));
      quarantine = quarantine == null ? rejects : quarantine.unionByName(rejects);
      // The share is of the rows in this date's scope: rows after the run date are not rejects.
      long readRows = (Long) counts.get("read") - (Long) counts.get("after_run_date");
      double share = readRows == 0 ? 0 : (Long) counts.get("quarantined") / (double) readRows;
      counts.put("quarantined_share", share);
      if (share > settings.ingest().maxRejectShare()) {
        gateFailures.add(String.format(Locale.ROOT, "%s quarantined %.2f%% of %d rows in scope (limit %.2f%%, affinity.ingest.max-reject-share); top reasons: %s",
            s.name(), share * 100, readRows, settings.ingest().maxRejectShare() * 100, topReasons(counts)));
      }
    }
    if (!hasEvents && active.stream().noneMatch(s -> s.name().equals("users"))) {
      throw new DataQualityException("input users has no data rows and there is no event log: nothing to model ("
          + settings.users().csv().keyPrefix() + ".path = " + settings.users().csv().path() + ")", report);
    }
    ctx.spark().sparkContext().setJobDescription("ingest: write quarantine");
    ctx.datasets().write(quarantine.orderBy("source", SourceReader.FILE, SourceReader.OFFSET), "quarantine");
    report.put("quarantine_path", ctx.datasets().path("quarantine").toString());
    if (!gateFailures.isEmpty()) {
      parsed.values().forEach(Dataset::unpersist);
      throw new DataQualityException("data-quality gate failed: " + String.join("; ", gateFailures)
          + ". Quarantined rows with reasons are in " + ctx.datasets().path("quarantine"), report);
    }

    for (Source s : active) {
      @SuppressWarnings("unchecked")
      Map<String, Object> counts = (Map<String, Object>) perSource.get(s.name());
      dedupAndWrite(ctx.datasets(), s, parsed.get(s.name()), counts);
      parsed.get(s.name()).unpersist();
    }

    ctx.spark().sparkContext().setJobDescription("ingest: id maps");
    Map<String, Object> idmaps = report.section("id_maps");
    if (!hasEvents) {
      // Table mode: the users table is the population; there are no items.
      idmaps.put("users", IdMaps.update(ctx.spark(), ctx.datasets(), "users",
          ctx.datasets().read("clean/users", name()).select(col("user_id").as("id"))));
      return report;
    }
    // Ids of the whole history (not only tonight's delta), so the map of D covers every id the
    // later stages of D read, also when dates were ingested out of order.
    Dataset<Row> events = ctx.datasets().readPartitions("clean/events", ctx.datasets().historyDates("events"));
    Dataset<Row> userIds = events.select(col("user_id").as("id"));
    Dataset<Row> itemIds = events.select(col("item_id").as("id"));
    java.util.Optional<Dataset<Row>> ratingHistory = ctx.datasets().cleanHistoryIfPresent("ratings");
    if (ratingHistory.isPresent()) {
      Dataset<Row> ratings = ratingHistory.get();
      userIds = userIds.union(ratings.select(col("user_id").as("id")));
      itemIds = itemIds.union(ratings.select(col("item_id").as("id")));
    }
    if (settings.labelFromTable() && active.stream().anyMatch(s -> s.name().equals("users"))) {
      // Table mode with events: every row of the users table is a user, also one without events.
      userIds = userIds.union(ctx.datasets().read("clean/users", name()).select(col("user_id").as("id")));
    }
    idmaps.put("users", IdMaps.update(ctx.spark(), ctx.datasets(), "users", userIds));
    idmaps.put("items", IdMaps.update(ctx.spark(), ctx.datasets(), "items", itemIds));
    return report;
  }

  /**
   * A users table without id column: every parsed row gets the id {@code <file name>:<line number>}
   * (the record's first physical line, the header being line 1), or {@code <file name>@<byte offset>}
   * for rows of a file's later Hadoop splits (files above 128 MB by default), where the line number
   * is not known. The same file gives the same ids on every run, and a row is found again in the
   * file by its line. Rows of two files with the same name in different directories would collide
   * (key duplicates): keep such a table in one directory.
   */
  private static Dataset<Row> generatedIds(Source s, Dataset<Row> rows) {
    if (!(s.parser() instanceof UserParser u) || !u.generatedIds()) {
      return rows;
    }
    Column file = regexp_extract(col(SourceReader.FILE), "[^/]+$", 0);
    Column position = coalesce(concat(lit(":"), col(SourceReader.LINE).cast("string")),
        concat(lit("@"), col(SourceReader.OFFSET).cast("string")));
    return rows.withColumn("user_id", when(col(SourceReader.REASON).isNull(), concat(file, position)));
  }

  /** Caps or quarantines purchase values above the configured quantile. */
  private Dataset<Row> outliers(Dataset<Row> rows, Map<String, Object> counts) {
    Dataset<Row> out = rows.withColumn(CAPPED, lit(false));
    String action = settings.ingest().outlierAction();
    if (action.equals("off")) {
      return out;
    }
    Column cleanPurchase = col(SourceReader.REASON).isNull().and(not(col(AFTER)))
        .and(col("event_type").equalTo(settings.eventTypes().purchase()));
    Map<String, Object> thresholds = new LinkedHashMap<>();
    for (String c : settings.ingest().outlierColumns()) {
      double[] q = rows.filter(cleanPurchase.and(col(c).isNotNull()))
          .stat().approxQuantile(c, new double[] {settings.ingest().outlierQuantile()}, 1e-4);
      if (q.length == 0) {
        continue; // no purchase has this column
      }
      double t = q[0];
      thresholds.put(c, t);
      Column outlier = cleanPurchase.and(col(c).gt(t));
      StructField field = rows.schema().apply(c);
      if (action.equals("cap")) {
        out = out.withColumn(CAPPED, col(CAPPED).or(outlier))
            .withColumn(c, when(outlier, lit(t).cast(field.dataType())).otherwise(col(c)));
      } else {
        out = out.withColumn(SourceReader.DETAIL, when(outlier, concat(lit("column '" + c + "' = "), col(c).cast("string"),
                lit(String.format(Locale.ROOT, ": above the %s quantile %s of purchases", settings.ingest().outlierQuantile(), t))))
                .otherwise(col(SourceReader.DETAIL)))
            .withColumn(SourceReader.REASON, when(outlier, lit(ReasonCode.OUTLIER.name())).otherwise(col(SourceReader.REASON)));
      }
    }
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("action", action);
    o.put("quantile", settings.ingest().outlierQuantile());
    o.put("thresholds", thresholds);
    counts.put("outliers", o);
    return out;
  }

  /**
   * True for a good row of a dated source (events, ratings) at or after {@code scopeLimit}; undated
   * ratings and sources without time (users, items) are always in scope.
   */
  private static Column afterRunDate(Source s, Instant scopeLimit) {
    if (!Arrays.asList(s.parser().schema().fieldNames()).contains("event_time")) {
      return lit(false);
    }
    return col(SourceReader.REASON).isNull().and(col("event_time").isNotNull())
        .and(col("event_time").geq(lit(java.sql.Timestamp.from(scopeLimit))));
  }

  /** An optional source that is missing or empty: logged, recorded, and no stale clean partition left. */
  private static void skip(StageContext ctx, Source s, Map<String, Object> counts, String why) {
    LOG.warn("skipping optional input {}: {}", s.name(), why);
    counts.put("skipped", why);
    ctx.datasets().delete("clean/" + s.name());
  }

  /** Rows read per reason and per file; returns the rows read. */
  private long countRows(Dataset<Row> rows, SourceReader.Read read, Source s, Map<String, Object> counts) {
    Column capped = rows.columns().length > 0 && Arrays.asList(rows.columns()).contains(CAPPED)
        ? sum(when(col(CAPPED), 1).otherwise(0)) : lit(0L);
    List<Row> byFile = rows.groupBy(col(SourceReader.FILE), col(SourceReader.REASON))
        .agg(count(lit(1)).as("n"), capped.as("capped"), sum(when(col(AFTER), 1L).otherwise(0L)).as("after")).collectAsList();
    long total = 0;
    long rejected = 0;
    long after = 0;
    long cappedRows = 0;
    Map<String, Long> reasons = new TreeMap<>();
    java.util.Set<String> filesWithRows = new java.util.HashSet<>();
    for (Row r : byFile) {
      long n = r.getLong(2);
      total += n;
      filesWithRows.add(r.getString(0));
      if (!r.isNullAt(3)) {
        cappedRows += ((Number) r.get(3)).longValue();
      }
      after += r.getLong(4);
      if (!r.isNullAt(1)) {
        rejected += n;
        reasons.merge(r.getString(1), n, Long::sum);
      }
    }
    List<String> noRows = new ArrayList<>();
    for (String f : read.files()) {
      if (!filesWithRows.contains(f)) {
        noRows.add(f);
      }
    }
    counts.put("read", total);
    counts.put("quarantined", rejected);
    counts.put("quarantined_by_reason", reasons);
    counts.put("after_run_date", after);
    if (s.name().equals("events")) {
      @SuppressWarnings("unchecked")
      Map<String, Object> o = (Map<String, Object>) counts.computeIfAbsent("outliers", k -> new LinkedHashMap<>());
      o.put("capped", cappedRows);
    }
    counts.put("files_without_data", noRows);
    if (!noRows.isEmpty()) {
      LOG.warn("input {}: {} file(s) are empty or header-only: {}", s.name(), noRows.size(), noRows);
    }
    return total;
  }

  private static String topReasons(Map<String, Object> counts) {
    @SuppressWarnings("unchecked")
    Map<String, Long> reasons = (Map<String, Long>) counts.get("quarantined_by_reason");
    List<Map.Entry<String, Long>> list = new ArrayList<>(reasons.entrySet());
    list.sort(Map.Entry.<String, Long>comparingByValue(Comparator.reverseOrder()));
    List<String> top = new ArrayList<>();
    for (int i = 0; i < Math.min(3, list.size()); i++) {
      top.add(list.get(i).getKey() + " " + list.get(i).getValue());
    }
    return String.join(", ", top);
  }

  /**
   * Tonight's rows without those whose key is already in {@code clean/<source>} of a date within
   * {@code dedup-window-days} (see {@link Datasets#redeliveryWindow}): a delta looks before and
   * after its date, a full load only at the deltas after it (it replaces what came before). Only
   * neighbour rows inside tonight's time range can match, so the scan is pruned to it.
   */
  private Dataset<Row> withoutRedelivered(Datasets datasets, Source s, Dataset<Row> kept, Map<String, Object> counts) {
    List<java.time.LocalDate> window = datasets.redeliveryWindow(s.name(), settings.ingest().dedupWindowDays(), s.delta());
    counts.put("redelivery_checked_against", window.stream().map(Object::toString).toList());
    if (window.isEmpty()) {
      return kept;
    }
    Row range = kept.agg(min("event_time"), org.apache.spark.sql.functions.max("event_time")).first();
    if (range.isNullAt(0) && kept.filter(col("event_time").isNull()).isEmpty()) {
      return kept; // nothing clean tonight
    }
    Column inRange = range.isNullAt(0) ? lit(false) : col("event_time").between(range.get(0), range.get(1));
    Dataset<Row> earlier = datasets.readPartitions("clean/" + s.name(), window)
        .filter(inRange.or(col("event_time").isNull()))
        .select(s.key().stream().map(k -> col(k).as("_n_" + k)).toArray(Column[]::new))
        .distinct();
    Column match = null;
    for (String k : s.key()) {
      Column eq = col(k).eqNullSafe(col("_n_" + k));
      match = match == null ? eq : match.and(eq);
    }
    return kept.join(earlier, match, "left_anti");
  }

  /**
   * {@code clean/item_descriptions}: per item and description, the clean event lines that carry it.
   * A separate dataset rather than a {@code description} column of {@code clean/events}: the
   * description is an attribute of the item, not of the event, so the events every stage scans stay
   * as they are (no text repeated on millions of lines, no history whose older partitions lack a
   * column), and a few rows per item are all that recommend needs to take the most frequent one
   * ({@code ContentSimilarity.texts}). Partitioned like {@code clean/events}: a delta when the
   * events are one, so the history sums the counts of the same partitions.
   *
   * @param clean the clean event rows written tonight, with their description
   */
  private static Dataset<Row> itemDescriptions(Dataset<Row> clean) {
    return clean.filter(col(EventParser.DESCRIPTION).isNotNull())
        .groupBy(col("item_id"), col(EventParser.DESCRIPTION))
        .agg(count(lit(1)).as("lines"))
        .orderBy("item_id", EventParser.DESCRIPTION);
  }

  /**
   * Keeps the first occurrence (by file, then byte offset) of every key. Rows equal in every
   * column count as exact duplicates, other repeats of the key as key duplicates.
   *
   * <p>One window, so one shuffle and one sort: partitioned by the key and ordered by the other
   * columns, then file and offset. Rows equal in every column are then neighbours (an exact
   * duplicate equals the row before it), and the kept row is the one with the smallest (file,
   * offset) of its key. Only the typed columns and the position travel through the sort.
   */
  private void dedupAndWrite(Datasets datasets, Source s, Dataset<Row> rows, Map<String, Object> counts) {
    String[] typed = s.parser().schema().fieldNames();
    List<Column> keyCols = new ArrayList<>();
    for (String k : s.key()) {
      keyCols.add(col(k));
    }
    List<Column> allCols = new ArrayList<>();
    List<Column> restCols = new ArrayList<>();
    List<Column> carried = new ArrayList<>();
    for (String f : typed) {
      allCols.add(col(f));
      carried.add(col(f));
      if (!s.key().contains(f)) {
        restCols.add(col(f));
      }
    }
    carried.add(col(SourceReader.FILE));
    carried.add(col(SourceReader.OFFSET));
    List<Column> order = new ArrayList<>(restCols);
    order.add(col(SourceReader.FILE));
    order.add(col(SourceReader.OFFSET));
    WindowSpec w = Window.partitionBy(keyCols.toArray(new Column[0])).orderBy(order.toArray(new Column[0]));
    Column position = struct(col(SourceReader.FILE), col(SourceReader.OFFSET));
    Column first = min(position).over(w.rowsBetween(Window.unboundedPreceding(), Window.unboundedFollowing()));
    Column keep = position.equalTo(col("_first"));
    // With no column besides the key, every repeat of a key is an exact duplicate.
    Column rest = restCols.isEmpty() ? null : struct(restCols.toArray(new Column[0]));
    Column exact = rest == null ? not(keep) : rest.eqNullSafe(lag(rest, 1).over(w));
    rows.sparkSession().sparkContext().setJobDescription("ingest: deduplicate " + s.name());
    Dataset<Row> flagged = rows.filter(col(SourceReader.REASON).isNull().and(not(col(AFTER))))
        .select(carried.toArray(new Column[0]))
        .withColumn("_first", first)
        .withColumn("_exact", exact)
        .persist(StorageLevel.MEMORY_AND_DISK());
    Row c = flagged.agg(
        count(lit(1)),
        sum(when(keep, 0).otherwise(1)),
        sum(when(col("_exact"), 1).otherwise(0))).first();
    long cleanBefore = c.getLong(0);
    long nightDups = c.isNullAt(1) ? 0 : c.getLong(1);
    long exactDups = c.isNullAt(2) ? 0 : c.getLong(2);
    Dataset<Row> kept = flagged.filter(keep).select(allCols.toArray(new Column[0]));
    // withoutRedelivered returns its input when there was nothing to check against (a full load
    // with no later deltas, the usual case): then nothing was removed and no read-back is needed.
    boolean redeliveryChecked = false;
    if (s.history()) {
      Dataset<Row> unique = withoutRedelivered(datasets, s, kept, counts);
      redeliveryChecked = unique != kept;
      kept = unique;
    }
    boolean describes = s.parser() instanceof EventParser e && e.describes();
    if (describes) {
      kept = kept.persist(StorageLevel.MEMORY_AND_DISK()); // written twice: the events and their descriptions
    }
    // Written in key order within each file, as before the single window.
    String[] written = s.parser() instanceof EventParser ? EventParser.SCHEMA.fieldNames() : typed;
    datasets.writeClean(kept.select(Arrays.stream(written).map(org.apache.spark.sql.functions::col).toArray(Column[]::new))
        .sortWithinPartitions(keyCols.toArray(new Column[0])), s.name(), s.delta());
    if (describes) {
      rows.sparkSession().sparkContext().setJobDescription("ingest: item descriptions");
      datasets.writeClean(itemDescriptions(kept), ITEM_DESCRIPTIONS, s.delta());
      kept.unpersist();
    } else if (s.parser() instanceof EventParser) {
      datasets.delete("clean/" + ITEM_DESCRIPTIONS); // a stale partition of an earlier run of this date
    }
    flagged.unpersist();
    // After a redelivery check, counted from what was written: the re-delivered rows are the difference.
    long clean = redeliveryChecked ? datasets.readPartitions("clean/" + s.name(), List.of(datasets.runDate())).count()
        : cleanBefore - nightDups;
    long redelivered = cleanBefore - nightDups - clean;
    long dups = nightDups + redelivered;
    counts.put("clean", clean);
    counts.put("duplicates", dups);
    counts.put("duplicates_exact", exactDups);
    counts.put("duplicates_key", nightDups - exactDups);
    counts.put("duplicates_redelivered", redelivered);
    long read = (Long) counts.get("read");
    long quarantined = (Long) counts.get("quarantined");
    long after = (Long) counts.get("after_run_date");
    if (read != clean + quarantined + dups + after) {
      throw new IllegalStateException("row accounting for " + s.name() + " does not add up: read " + read
          + " != clean " + clean + " + quarantined " + quarantined + " + duplicates " + dups + " + after_run_date " + after);
    }
    LOG.info("ingest {}: read {} = clean {} + quarantined {} + duplicates {} + after_run_date {}", s.name(), read, clean,
        quarantined, dups, after);
  }
}
