package io.affinity.ingest;

import io.affinity.config.CsvFormat;
import io.affinity.config.Settings.IngestSettings;
import io.affinity.config.Settings.RatingsInput;
import java.time.Instant;
import java.util.List;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** Parses explicit ratings into {@code clean/ratings}: user_id, item_id, rating, event_time. */
final class RatingParser extends RowParser {
  static final StructType SCHEMA = new StructType()
      .add("user_id", DataTypes.StringType, false)
      .add("item_id", DataTypes.StringType, false)
      .add("rating", DataTypes.DoubleType, false)
      .add("event_time", DataTypes.TimestampType, true);

  private final RatingsInput input;
  private final IngestSettings ingest;
  private final Instant futureLimit;
  private final List<Column> columns;
  private transient TimestampParser timestamps;

  RatingParser(RatingsInput input, IngestSettings ingest, Instant futureLimit) {
    this.input = input;
    this.ingest = ingest;
    this.futureLimit = futureLimit;
    CsvFormat csv = input.csv();
    String p = csv.keyPrefix() + ".columns.";
    this.columns = List.of(
        new Column("user", csv.column("user"), true, p + "user"),
        new Column("item", csv.column("item"), true, p + "item"),
        new Column("rating", csv.column("rating"), true, p + "rating"),
        new Column("timestamp", csv.column("timestamp"), false, p + "timestamp"));
  }

  @Override
  StructType schema() {
    return SCHEMA;
  }

  @Override
  List<Column> columns() {
    return columns;
  }

  @Override
  Object[] parse(Fields f) throws Reject {
    if (timestamps == null) {
      timestamps = new TimestampParser(input.timestamp());
    }
    String user = id(f, 0, ingest.trimIds(), ingest.stripFloatSuffix());
    String item = id(f, 1, ingest.trimIds(), ingest.stripFloatSuffix());
    required(f, 2);
    double rating = number(f, 2);
    if (rating < input.min() || rating > input.max()) {
      throw new Reject(ReasonCode.OUT_OF_RANGE, "column '" + f.name(2) + "' = \"" + f.get(2).trim()
          + "\": outside the rating scale " + input.min() + ".." + input.max());
    }
    Instant time = null;
    if (columns.get(3).name() != null) {
      time = timestamps.parse(f.name(3), required(f, 3));
      checkNotTooOld(f.name(3), f.get(3), time, ingest);
      checkNotFuture(f.name(3), f.get(3), time, futureLimit);
    }
    return new Object[] {user, item, rating, timestamp(time)};
  }
}
