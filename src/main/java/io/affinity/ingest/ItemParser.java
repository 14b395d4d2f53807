package io.affinity.ingest;

import io.affinity.config.CsvFormat;
import io.affinity.config.Settings.IngestSettings;
import io.affinity.config.Settings.ItemsInput;
import java.util.List;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** Parses optional item attributes into {@code clean/items}: item_id, category, price, title. */
final class ItemParser extends RowParser {
  static final StructType SCHEMA = new StructType()
      .add("item_id", DataTypes.StringType, false)
      .add("category", DataTypes.StringType, true)
      .add("price", DataTypes.DoubleType, true)
      .add("title", DataTypes.StringType, true);

  private final IngestSettings ingest;
  private final List<Column> columns;

  ItemParser(ItemsInput input, IngestSettings ingest) {
    this.ingest = ingest;
    CsvFormat csv = input.csv();
    String p = csv.keyPrefix() + ".columns.";
    this.columns = List.of(
        new Column("item", csv.column("item"), true, p + "item"),
        new Column("category", csv.column("category"), false, p + "category"),
        new Column("price", csv.column("price"), false, p + "price"),
        new Column("title", csv.column("title"), false, p + "title"));
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
    String item = id(f, 0, ingest.trimIds(), ingest.stripFloatSuffix());
    Double price = number(f, 2);
    if (price != null && price < 0) {
      throw new Reject(ReasonCode.OUT_OF_RANGE, "column '" + f.name(2) + "' = \"" + f.get(2).trim() + "\": negative price");
    }
    return new Object[] {item, text(f, 1), price, text(f, 3)};
  }
}
