package io.affinity.ingest;

import io.affinity.config.CsvFormat;
import io.affinity.config.Settings.EventTypes;
import io.affinity.config.Settings.EventsInput;
import io.affinity.config.Settings.IngestSettings;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Parses behaviour events (or invoice lines) into the {@code clean/events} contract: user_id,
 * item_id, event_type, event_time, quantity, price, session_id. Cancellations (a negative purchase
 * quantity, or an invoice number with the configured prefix) become the configured return type
 * with the absolute quantity, so monetary value can be netted instead of losing the row.
 *
 * <p>An optional {@code description} column (invoice logs repeat the product description on every
 * line) is parsed as a ninth field ({@link #PARSED}) that is not part of {@code clean/events}:
 * ingest counts it per item into {@code clean/item_descriptions} instead (see IngestStage).
 */
final class EventParser extends RowParser {
  static final StructType SCHEMA = new StructType()
      .add("user_id", DataTypes.StringType, false)
      .add("item_id", DataTypes.StringType, false)
      .add("event_type", DataTypes.StringType, false)
      .add("event_time", DataTypes.TimestampType, false)
      .add("quantity", DataTypes.IntegerType, true)
      .add("price", DataTypes.DoubleType, true)
      .add("session_id", DataTypes.StringType, true);

  /** The event line's product description (trimmed; null when blank or not mapped). */
  static final String DESCRIPTION = "description";
  /** What {@link #parse} returns: {@link #SCHEMA} and the description. */
  static final StructType PARSED = SCHEMA.add(DESCRIPTION, DataTypes.StringType, true);

  private static final int USER = 0, ITEM = 1, TYPE = 2, TIME = 3, QTY = 4, PRICE = 5, SESSION = 6, INVOICE = 7,
      DESCRIPTION_COLUMN = 8;

  private final EventsInput input;
  private final EventTypes types;
  private final IngestSettings ingest;
  private final Instant futureLimit;
  private final List<Column> columns;
  private transient TimestampParser timestamps;

  EventParser(EventsInput input, EventTypes types, IngestSettings ingest, Instant futureLimit) {
    this.input = input;
    this.types = types;
    this.ingest = ingest;
    this.futureLimit = futureLimit;
    CsvFormat csv = input.csv();
    List<Column> cols = new ArrayList<>();
    String[] fields = {"user", "item", "event-type", "timestamp", "quantity", "price", "session", "invoice", "description"};
    for (String f : fields) {
      boolean required = f.equals("user") || f.equals("item") || f.equals("timestamp");
      cols.add(new Column(f, csv.column(f), required, csv.keyPrefix() + ".columns." + f));
    }
    this.columns = List.copyOf(cols);
  }

  @Override
  StructType schema() {
    return PARSED;
  }

  /** Whether the input maps a description column ({@code columns.description}). */
  boolean describes() {
    return columns.get(DESCRIPTION_COLUMN).name() != null;
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
    String user = id(f, USER, ingest.trimIds(), ingest.stripFloatSuffix());
    String item = id(f, ITEM, ingest.trimIds(), ingest.stripFloatSuffix());
    String type;
    if (columns.get(TYPE).name() == null) {
      type = input.fixedEventType();
    } else {
      String raw = lower(required(f, TYPE));
      type = types.aliases().getOrDefault(raw, raw);
      if (!types.names().contains(type)) {
        throw new Reject(ReasonCode.UNKNOWN_EVENT_TYPE, "column '" + f.name(TYPE) + "' = \"" + f.get(TYPE).trim()
            + "\": not one of " + types.names() + (types.aliases().isEmpty() ? "" : " or aliases " + types.aliases().keySet()));
      }
    }
    Instant time = timestamps.parse(f.name(TIME), required(f, TIME));
    checkNotTooOld(f.name(TIME), f.get(TIME), time, ingest);
    checkNotFuture(f.name(TIME), f.get(TIME), time, futureLimit);
    Integer quantity = whole(f, QTY);
    Double price = number(f, PRICE);
    if (price != null && price < 0) {
      throw new Reject(ReasonCode.OUT_OF_RANGE, "column '" + f.name(PRICE) + "' = \"" + f.get(PRICE).trim() + "\": negative price");
    }
    boolean purchase = type.equals(types.purchase());
    String invoice = text(f, INVOICE);
    boolean cancelledInvoice = purchase && !input.cancellationInvoicePrefix().isEmpty() && invoice != null
        && invoice.startsWith(input.cancellationInvoicePrefix());
    if (quantity != null && quantity < 0 && purchase && input.negativeQuantityIsCancellation() || cancelledInvoice) {
      type = types.returned();
      quantity = quantity == null ? null : Math.abs(quantity);
    } else if (quantity != null && quantity <= 0) {
      throw new Reject(ReasonCode.OUT_OF_RANGE, "column '" + f.name(QTY) + "' = \"" + f.get(QTY).trim()
          + "\": quantity must be positive for " + type);
    }
    return new Object[] {user, item, type, timestamp(time), quantity, price, text(f, SESSION), text(f, DESCRIPTION_COLUMN)};
  }
}
