package io.affinity.config;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where one input lives and how its text is laid out. Shared by every source.
 *
 * @param source short source name (events, ratings, users, items)
 * @param path file, directory or glob; empty when an optional source is absent
 * @param delimiter field separator, one or more characters
 * @param header whether each file starts with a header line
 * @param names column names in file order when there is no header
 * @param quote quote character, or empty for none
 * @param encoding ASCII-compatible charset name
 * @param maxLinesPerRecord physical lines a quoted record may span
 * @param columns logical field (user, item, ...) to physical column name; empty value = absent
 * @param keyPrefix config key of this source, for error messages
 */
public record CsvFormat(
    String source,
    String path,
    String delimiter,
    boolean header,
    List<String> names,
    String quote,
    String encoding,
    int maxLinesPerRecord,
    Map<String, String> columns,
    String keyPrefix)
    implements Serializable {

  public boolean present() {
    return !path.isEmpty();
  }

  /** The physical column for a logical field, or null when it is not mapped. */
  public String column(String field) {
    String c = columns.get(field);
    return c == null || c.isEmpty() ? null : c;
  }

  public char quoteChar() {
    return quote.isEmpty() ? 0 : quote.charAt(0);
  }

  static CsvFormat read(ConfigReader r, String source, List<String> fields, List<String> required, boolean requiredPath) {
    String key = "affinity.input." + source;
    String path = r.string(key + ".path").trim();
    if (requiredPath && path.isEmpty()) {
      throw new SettingsException(key + ".path", path, "must name the " + source + " file, directory or glob");
    }
    String delimiter = r.string(key + ".delimiter");
    if (delimiter.isEmpty()) {
      throw new SettingsException(key + ".delimiter", delimiter, "must be one or more characters, e.g. \",\", \"::\", \"\\t\"");
    }
    boolean header = r.bool(key + ".header");
    List<String> names = r.strings(key + ".names");
    String quote = r.string(key + ".quote");
    if (quote.length() > 1) {
      throw new SettingsException(key + ".quote", quote, "must be one character or empty for no quoting");
    }
    if (!quote.isEmpty() && delimiter.contains(quote)) {
      throw new SettingsException(key + ".quote", quote, "must differ from the delimiter");
    }
    String encoding = r.charset(key + ".encoding");
    int maxLines = r.integer(key + ".max-lines-per-record", 1, 1000);
    Map<String, String> columns = new LinkedHashMap<>();
    for (String f : fields) {
      String v = r.string(key + ".columns." + f).trim();
      if (required.contains(f) && v.isEmpty() && path.length() > 0) {
        throw new SettingsException(key + ".columns." + f, v, "must name the column holding the " + f);
      }
      columns.put(f, v);
    }
    if (!path.isEmpty() && !header) {
      if (names.isEmpty()) {
        throw new SettingsException(key + ".names", "[]", "must list the file's columns in order when header = false");
      }
      for (Map.Entry<String, String> e : columns.entrySet()) {
        if (!e.getValue().isEmpty() && !names.contains(e.getValue())) {
          throw new SettingsException(key + ".columns." + e.getKey(), e.getValue(), "must be one of names " + names);
        }
      }
    }
    return new CsvFormat(source, path, delimiter, header, names, quote, encoding, maxLines, Map.copyOf(columns), key);
  }
}
