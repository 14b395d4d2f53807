package io.affinity.segment;

import io.affinity.config.SettingsException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One naming rule for segments, written in config as {@code "label: condition, condition, ..."},
 * e.g. {@code "champions: recency >= 0.5, frequency >= 0.8, monetary >= 0.8"}. A segment satisfies
 * the rule when every condition holds; a rule without conditions ({@code "needs attention"})
 * matches any segment.
 *
 * <p>A condition compares one measure of the segment with a number in [0, 1]:
 *
 * <ul>
 *   <li>{@code recency}, {@code frequency}, {@code monetary}: the segment's rank score among
 *       today's segments, 0 = worst, 1 = best (most recent buyers, most purchases, most spend per
 *       user); see {@link SegmentLabeler#score}.
 *   <li>{@code buyers}: the share of the segment's users with at least one purchase (absolute, not a
 *       rank).
 *   <li>{@code active}: the share of the segment's users with any event in the last
 *       {@code labels.active-days} days (absolute).
 * </ul>
 *
 * @param label the segment label this rule gives
 * @param conditions all must hold
 */
public record LabelRule(String label, List<Condition> conditions) implements Serializable {

  /** What a condition looks at. */
  public enum Measure {
    RECENCY,
    FREQUENCY,
    MONETARY,
    BUYERS,
    ACTIVE;

    String configName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * {@code measure op value}.
   *
   * @param measure the segment measure
   * @param op one of {@code >= > <= <}
   * @param value the bound, in [0, 1]
   */
  public record Condition(Measure measure, String op, double value) implements Serializable {
    boolean test(double x) {
      return switch (op) {
        case ">=" -> x >= value;
        case ">" -> x > value;
        case "<=" -> x <= value;
        case "<" -> x < value;
        default -> throw new IllegalStateException("operator " + op);
      };
    }

    @Override
    public String toString() {
      return measure.configName() + " " + op + " " + value;
    }
  }

  private static final Pattern CONDITION =
      Pattern.compile("\\s*(recency|frequency|monetary|buyers|active)\\s*(>=|<=|>|<)\\s*([0-9]*\\.?[0-9]+)\\s*");
  /** Labels end up in SQL literals, Parquet and dashboards: printable text without the rule syntax. */
  private static final Pattern LABEL = Pattern.compile("[^:,\\p{Cntrl}]{1,64}");

  public LabelRule {
    conditions = List.copyOf(conditions);
  }

  /**
   * Parses {@code "label: condition, ..."}.
   *
   * @param key the config key the text came from, for error messages (e.g. {@code ...rules[2]})
   * @throws SettingsException naming the key, the text and the expected syntax
   */
  public static LabelRule parse(String key, String text) {
    String syntax = "must be \"label: condition, ...\" where a condition is <recency|frequency|monetary|buyers|active>"
        + " <>=|>|<=|<> <number in 0..1>, e.g. \"champions: recency >= 0.5, frequency >= 0.8\"";
    int colon = text.indexOf(':');
    String label = (colon < 0 ? text : text.substring(0, colon)).trim();
    if (!LABEL.matcher(label).matches()) {
      throw new SettingsException(key, text, syntax + "; the label must be 1..64 characters without ':' or ','");
    }
    List<Condition> conditions = new ArrayList<>();
    String rest = colon < 0 ? "" : text.substring(colon + 1).trim();
    if (!rest.isEmpty()) {
      for (String part : rest.split(",", -1)) {
        Matcher m = CONDITION.matcher(part);
        if (!m.matches()) {
          throw new SettingsException(key, text, syntax + "; cannot read condition '" + part.trim() + "'");
        }
        double value = Double.parseDouble(m.group(3));
        if (value > 1.0) {
          throw new SettingsException(key, text, "condition '" + part.trim() + "' compares with " + value
              + ": scores and shares lie in 0..1");
        }
        conditions.add(new Condition(Measure.valueOf(m.group(1).toUpperCase(Locale.ROOT)), m.group(2), value));
      }
    }
    return new LabelRule(label, conditions);
  }

  /** Whether every condition holds for the segment. */
  public boolean matches(SegmentLabeler.Scores s) {
    for (Condition c : conditions) {
      double x = switch (c.measure()) {
        case RECENCY -> s.recency();
        case FREQUENCY -> s.frequency();
        case MONETARY -> s.monetary();
        case BUYERS -> s.buyers();
        case ACTIVE -> s.active();
      };
      if (!c.test(x)) {
        return false;
      }
    }
    return true;
  }

  @Override
  public String toString() {
    if (conditions.isEmpty()) {
      return label;
    }
    StringBuilder sb = new StringBuilder(label).append(':');
    for (int i = 0; i < conditions.size(); i++) {
      sb.append(i == 0 ? " " : ", ").append(conditions.get(i));
    }
    return sb.toString();
  }
}
