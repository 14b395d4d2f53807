package io.affinity.ingest;

import io.affinity.config.CsvFormat;
import io.affinity.config.Settings.IngestSettings;
import io.affinity.config.Settings.UsersInput;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Parses optional user attributes into {@code clean/users}: user_id, signup_date, then each
 * configured categorical column as text and each numeric column as a double, named in snake case.
 */
final class UserParser extends RowParser {
  private final UsersInput input;
  private final IngestSettings ingest;
  private final List<Column> columns;
  private final StructType schema;
  private final boolean generatedIds;
  private transient TimestampParser timestamps;

  /** Placeholder id of a row of a table without id column, replaced by IngestStage from the row's position. */
  static final String GENERATED_ID = "";

  UserParser(UsersInput input, IngestSettings ingest) {
    this.input = input;
    this.ingest = ingest;
    CsvFormat csv = input.csv();
    List<Column> cols = new ArrayList<>();
    // Without an id column the id is generated from the row's position (IngestStage, GENERATED_ID).
    generatedIds = csv.column("user") == null;
    cols.add(new Column("user", csv.column("user"), !generatedIds, csv.keyPrefix() + ".columns.user"));
    cols.add(new Column("signup-date", csv.column("signup-date"), false, csv.keyPrefix() + ".columns.signup-date"));
    StructType s = new StructType()
        .add("user_id", DataTypes.StringType, false)
        .add("signup_date", DataTypes.DateType, true);
    for (String c : input.categorical()) {
      cols.add(new Column(c, c, true, csv.keyPrefix() + ".categorical"));
      s = s.add(columnName(c), DataTypes.StringType, true);
    }
    for (String c : input.numeric()) {
      cols.add(new Column(c, c, true, csv.keyPrefix() + ".numeric"));
      s = s.add(columnName(c), DataTypes.DoubleType, true);
    }
    this.columns = List.copyOf(cols);
    this.schema = s;
  }

  /** Output name of an attribute column: {@link ColumnNames#attribute}. */
  static String columnName(String c) {
    return ColumnNames.attribute(c);
  }

  /** Whether the table has no id column, so that ids come from file and line. */
  boolean generatedIds() {
    return generatedIds;
  }

  @Override
  StructType schema() {
    return schema;
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
    Object[] out = new Object[columns.size()];
    out[0] = generatedIds ? GENERATED_ID : id(f, 0, ingest.trimIds(), ingest.stripFloatSuffix());
    String signup = text(f, 1);
    out[1] = signup == null ? null
        : java.sql.Date.valueOf(LocalDate.ofInstant(timestamps.parse(f.name(1), signup), ZoneOffset.UTC));
    int k = 2;
    for (int i = 0; i < input.categorical().size(); i++, k++) {
      out[k] = text(f, k);
    }
    for (int i = 0; i < input.numeric().size(); i++, k++) {
      out[k] = number(f, k);
    }
    return out;
  }
}
