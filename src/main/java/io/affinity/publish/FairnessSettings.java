package io.affinity.publish;

import io.affinity.config.ConfigReader;
import io.affinity.config.SettingsException;
import io.affinity.ingest.ColumnNames;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Settings of the fairness report ({@code affinity.fairness}), written by stage publish beside the
 * audience. Meaning and ranges of every key are in reference.conf.
 *
 * @param attributes user attribute columns compared (snake case, as in features/users); empty = off
 * @param bands band edges per numeric attribute (ascending): a value v is in the band [e_i, e_i+1)
 * @param targetDeciles the campaign target: propensity deciles 1..targetDeciles
 * @param minGroupUsers fewest users (customers, or test buyers for the true-positive rate) a group
 *     and the reference group need before a ratio is claimed
 * @param low lower end of the ratio band that raises no flag
 * @param high upper end of it
 * @param useAsInput whether the attributes may be propensity model inputs (false: excluded)
 */
public record FairnessSettings(List<String> attributes, Map<String, List<Double>> bands, int targetDeciles,
    int minGroupUsers, double low, double high, boolean useAsInput) implements java.io.Serializable {
  private static final String F = "affinity.fairness.";

  /** Off: no attribute compared. */
  public static final FairnessSettings OFF = new FairnessSettings(List.of(), Map.of(), 3, 50, 0.8, 1.25, false);

  /** Whether any attribute is compared. */
  public boolean enabled() {
    return !attributes.isEmpty();
  }

  /**
   * Reads and validates {@code affinity.fairness}: attributes must be users-table columns; numeric
   * ones need band edges.
   */
  public static FairnessSettings from(ConfigReader r) {
    List<String> categorical = r.strings("affinity.input.users.categorical");
    List<String> numeric = r.strings("affinity.input.users.numeric");
    Map<String, List<Double>> rawBands = new LinkedHashMap<>();
    for (String key : r.keys(F + "bands")) {
      rawBands.put(key, r.numberList(F + "bands." + key, -1e12, 1e12));
    }
    List<String> attributes = new ArrayList<>();
    Map<String, List<Double>> bands = new LinkedHashMap<>();
    for (String a : r.strings(F + "attributes")) {
      boolean isNumeric = numeric.contains(a);
      if (!isNumeric && !categorical.contains(a)) {
        throw new SettingsException(F + "attributes", a, "must be one of affinity.input.users.categorical "
            + categorical + " or numeric " + numeric);
      }
      String name = ColumnNames.attribute(a);
      if (attributes.contains(name)) {
        throw new SettingsException(F + "attributes", a, "is listed twice");
      }
      attributes.add(name);
      if (isNumeric) {
        List<Double> edges = rawBands.get(a);
        if (edges == null || edges.isEmpty()) {
          throw new SettingsException(F + "bands." + a, "", "a numeric attribute needs band edges, e.g. "
              + F + "bands { " + a + " = [25, 35, 50, 65] }");
        }
        for (int i = 1; i < edges.size(); i++) {
          if (edges.get(i) <= edges.get(i - 1)) {
            throw new SettingsException(F + "bands." + a, edges.toString(), "edges must be strictly ascending");
          }
        }
        bands.put(name, List.copyOf(edges));
      }
    }
    // Bands of attributes not listed are ignored: `attributes = []` turns the report off without
    // deleting the edges kept for it.
    double low = r.number(F + "ratio-band.low", 0.01, 1, false);
    double high = r.number(F + "ratio-band.high", 1, 100, false);
    return new FairnessSettings(List.copyOf(attributes), bands, r.integer(F + "target-deciles", 1, 9),
        r.integer(F + "min-group-users", 1, 1_000_000), low, high, r.bool(F + "use-as-input"));
  }
}
