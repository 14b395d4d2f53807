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

  /** {@code {run_date}} (YYYY-MM-DD) or {@code {run_date:<java.time pattern>}} in a path. */
  private static final java.util.regex.Pattern RUN_DATE = java.util.regex.Pattern.compile("\\{run_date(?::([^}]*))?}");

  /**
   * Whether the path names one day's files through a {@code {run_date}} placeholder: then ingest
   * reads only that day and writes the day's delta of {@code clean/<source>}.
   */
  public boolean dated() {
    return RUN_DATE.matcher(path).find();
  }

  /** This format with every {@code {run_date...}} placeholder of the path replaced by the date. */
  public CsvFormat forDate(java.time.LocalDate date) {
    java.util.regex.Matcher m = RUN_DATE.matcher(path);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String pattern = m.group(1);
      String text = pattern == null ? date.toString() : java.time.format.DateTimeFormatter.ofPattern(pattern).format(date);
      m.appendReplacement(out, java.util.regex.Matcher.quoteReplacement(text));
    }
    m.appendTail(out);
    return new CsvFormat(source, out.toString(), delimiter, header, names, quote, encoding, maxLinesPerRecord, columns, keyPrefix);
  }

  /** Checks the placeholders of a path: a known form, a date pattern that formats a date. */
  private static void checkPlaceholders(String key, String path) {
    java.util.regex.Matcher m = RUN_DATE.matcher(path);
    while (m.find()) {
      String pattern = m.group(1);
      if (pattern == null) {
        continue;
      }
      try {
        java.time.format.DateTimeFormatter.ofPattern(pattern).format(java.time.LocalDate.of(2026, 1, 2));
      } catch (RuntimeException e) {
        throw new SettingsException(key, path, "has {run_date:" + pattern + "}, whose pattern is not a java.time date pattern"
            + " such as yyyyMMdd or yyyy/MM/dd (" + e.getMessage() + ")");
      }
      if (pattern.isEmpty()) {
        throw new SettingsException(key, path, "has an empty {run_date:} pattern; write {run_date} or e.g. {run_date:yyyyMMdd}");
      }
    }
    String rest = RUN_DATE.matcher(path).replaceAll("");
    if (rest.contains("{run_date") || rest.contains("{run-date") || rest.contains("{date}")) {
      throw new SettingsException(key, path, "has a malformed placeholder; the forms are {run_date} and {run_date:<pattern>}");
    }
  }

  /** The physical column for a logical field, or null when it is not mapped. */
  public String column(String field) {
    String c = columns.get(field);
    return c == null || c.isEmpty() ? null : c;
  }

  public char quoteChar() {
    return quote.isEmpty() ? 0 : quote.charAt(0);
  }

  public static CsvFormat read(ConfigReader r, String source, List<String> fields, List<String> required, boolean requiredPath) {
    String key = "affinity.input." + source;
    String path = r.string(key + ".path").trim();
    if (requiredPath && path.isEmpty()) {
      throw new SettingsException(key + ".path", path, "must name the " + source + " file, directory or glob");
    }
    checkPlaceholders(key + ".path", path);
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
