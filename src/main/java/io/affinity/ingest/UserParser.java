package io.affinity.ingest;

import io.affinity.config.CsvFormat;
import io.affinity.config.Settings.IngestSettings;
import io.affinity.config.Settings.UsersInput;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
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
  private transient TimestampParser timestamps;

  UserParser(UsersInput input, IngestSettings ingest) {
    this.input = input;
    this.ingest = ingest;
    CsvFormat csv = input.csv();
    List<Column> cols = new ArrayList<>();
    cols.add(new Column("user", csv.column("user"), true, csv.keyPrefix() + ".columns.user"));
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

  /** Output name of an attribute column: lower snake case ("Annual Income" -> annual_income). */
  static String columnName(String c) {
    String n = c.trim().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "_").replaceAll("^_+|_+$", "");
    return n.isEmpty() || Character.isDigit(n.charAt(0)) ? "attr_" + n : n;
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
    out[0] = id(f, 0, ingest.trimIds(), ingest.stripFloatSuffix());
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
