package io.affinity.ingest;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits one record into fields: a delimiter of one or more characters, optional quoting where a
 * doubled quote is a literal quote and delimiters and newlines inside quotes are data. A quote in
 * the middle of an unquoted field is kept as text (as in {@code 5" screen}), which is what most
 * real exports mean by it.
 */
final class CsvTokenizer implements Serializable {
  /** The record continues on the next line (a quoted field is still open). */
  static final List<String> NEEDS_MORE = List.of();

  private final String delimiter;
  private final char quote;

  CsvTokenizer(String delimiter, char quote) {
    this.delimiter = delimiter;
    this.quote = quote;
  }

  /**
   * @return the fields, or {@link #NEEDS_MORE} when a quoted field is still open at the end
   * @throws Reject MALFORMED_LINE when text follows a closing quote
   */
  List<String> split(String record) throws Reject {
    List<String> fields = new ArrayList<>();
    int n = record.length();
    int i = 0;
    while (true) {
      int start = i;
      while (quote != 0 && i < n && record.charAt(i) == ' ') {
        i++; // spaces before an opening quote: ,  "a, b"
      }
      if (quote != 0 && i < n && record.charAt(i) == quote) {
        StringBuilder sb = new StringBuilder();
        i++;
        boolean closed = false;
        while (i < n) {
          char c = record.charAt(i);
          if (c == quote) {
            if (i + 1 < n && record.charAt(i + 1) == quote) {
              sb.append(quote);
              i += 2;
              continue;
            }
            i++;
            closed = true;
            break;
          }
          sb.append(c);
          i++;
        }
        if (!closed) {
          return NEEDS_MORE;
        }
        while (i < n && record.charAt(i) == ' ' && !record.startsWith(delimiter, i)) {
          i++; // spaces after a closing quote
        }
        fields.add(sb.toString());
        if (i == n) {
          return fields;
        }
        if (!record.startsWith(delimiter, i)) {
          throw new Reject(ReasonCode.MALFORMED_LINE, "unexpected text after closing quote in field "
              + fields.size() + " at character " + (i + 1));
        }
        i += delimiter.length();
      } else {
        i = start;
        int j = record.indexOf(delimiter, i);
        if (j < 0) {
          fields.add(record.substring(i));
          return fields;
        }
        fields.add(record.substring(i, j));
        i = j + delimiter.length();
      }
    }
  }
}
