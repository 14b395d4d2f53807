package io.affinity.ingest;

import java.util.Locale;

/** How input column names become dataset column names; shared with the settings that refer to them. */
public final class ColumnNames {
  private ColumnNames() {}

  /**
   * Output name of a user attribute column: lower snake case ("Annual Income" -> annual_income,
   * "emp.var.rate" -> emp_var_rate); a name that would start with a digit gets the prefix attr_.
   */
  public static String attribute(String c) {
    String n = c.trim().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "_").replaceAll("^_+|_+$", "");
    return n.isEmpty() || Character.isDigit(n.charAt(0)) ? "attr_" + n : n;
  }
}
