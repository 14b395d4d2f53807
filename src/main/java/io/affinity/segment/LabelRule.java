package io.affinity.segment;

import io.affinity.config.SettingsException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One naming rule for segments, written in config as {@code "label: claim, claim, ..."}, e.g.
 * {@code "at risk: buyers >= 0.5, frequency > population, recency < population, new <= 0.2"}. Each
 * claim is a measurable statement about the segment's members; the label is published only when
 * every claim holds when measured ({@link LabelAudit}). A rule must make at least one claim.
 *
 * <p>A claim compares one measure of the segment ({@link SegmentMeasures}) with a number or with
 * {@code population}, the same measure over the whole customer base of the run:
 *
 * <ul>
 *   <li>{@code recency}, {@code frequency}, {@code monetary}: median quintile score (1..5, 5 = most
 *       recent / most orders / most spend) of the segment's customers, scored against all customers
 *       of the run ({@link RfmScores}); undefined when no member bought.
 *   <li>{@code tenure}: median days since the members were first seen.
 *   <li>{@code new}: share of members first seen within {@code labels.new-days} (0..1).
 *   <li>{@code buyers}: share of members with at least one purchase (0..1).
 *   <li>{@code active}: share of members with any event in the last {@code labels.active-days} (0..1).
 * </ul>
 *
 * @param label the segment label this rule gives
 * @param claims all must hold
 */
public record LabelRule(String label, List<Claim> claims) implements Serializable {

  /** What a claim looks at. */
  public enum Measure {
    RECENCY(5),
    FREQUENCY(5),
    MONETARY(5),
    TENURE(100_000),
    NEW(1),
    BUYERS(1),
    ACTIVE(1);

    /** Largest bound a claim on this measure may state. */
    final double max;

    Measure(double max) {
      this.max = max;
    }

    String configName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * How far a sticky label's claims may miss their bounds before the label is given up, in each
   * measure's unit: median scores ({@code recency, frequency, monetary}), shares ({@code new,
   * buyers, active}) and days ({@code tenure}).
   *
   * @param score slack of a median quintile score (a median of integer scores moves in halves)
   * @param share slack of a share, 0..1
   * @param days slack of a median tenure, days
   */
  public record Tolerance(double score, double share, double days) implements Serializable {
    /** No slack: the claims as written. */
    public static final Tolerance NONE = new Tolerance(0, 0, 0);

    /** The slack of one measure. */
    public double of(Measure m) {
      return switch (m) {
        case RECENCY, FREQUENCY, MONETARY -> score;
        case NEW, BUYERS, ACTIVE -> share;
        case TENURE -> days;
      };
    }
  }

  /**
   * {@code measure op bound}.
   *
   * @param measure the segment measure
   * @param op one of {@code >= > <= <}
   * @param value the bound, or NaN when the bound is the population's value ({@code population})
   */
  public record Claim(Measure measure, String op, double value) implements Serializable {
    /** Whether the bound is the population's value of the measure. */
    public boolean againstPopulation() {
      return Double.isNaN(value);
    }

    /**
     * Whether the claim holds.
     *
     * @param measured the segment's value, null when undefined (fails)
     * @param population the population's value, null when undefined (fails a population claim)
     */
    public boolean holds(Double measured, Double population) {
      return holds(measured, population, 0.0);
    }

    /**
     * Whether the claim holds with its bound moved by {@code slack} in the claim's favour (a sticky
     * label is kept while its claims hold within a tolerance, so it does not flicker on noise).
     *
     * @param slack how far past the bound the measured value may be, in the measure's unit (>= 0)
     */
    public boolean holds(Double measured, Double population, double slack) {
      Double bound = againstPopulation() ? population : Double.valueOf(value);
      if (measured == null || bound == null || measured.isNaN() || bound.isNaN()) {
        return false;
      }
      double x = measured;
      return switch (op) {
        case ">=" -> x >= bound - slack;
        case ">" -> x > bound - slack;
        case "<=" -> x <= bound + slack;
        case "<" -> x < bound + slack;
        default -> throw new IllegalStateException("operator " + op);
      };
    }

    @Override
    public String toString() {
      return measure.configName() + " " + op + " " + (againstPopulation() ? "population" : bound());
    }

    private String bound() {
      return value == Math.rint(value) ? String.valueOf((long) value) : String.valueOf(value);
    }
  }

  private static final Pattern CLAIM = Pattern.compile(
      "\\s*(recency|frequency|monetary|tenure|new|buyers|active)\\s*(>=|<=|>|<)\\s*([0-9]*\\.?[0-9]+|population)\\s*");
  /** Labels end up in SQL literals, Parquet and dashboards: printable text without the rule syntax. */
  private static final Pattern LABEL = Pattern.compile("[^:,\\p{Cntrl}]{1,64}");

  public LabelRule {
    claims = List.copyOf(claims);
  }

  /**
   * Parses {@code "label: claim, ..."}.
   *
   * @param key the config key the text came from, for error messages (e.g. {@code ...rules[2]})
   * @throws SettingsException naming the key, the text and the expected syntax
   */
  public static LabelRule parse(String key, String text) {
    String syntax = "must be \"label: claim, ...\" with at least one claim <recency|frequency|monetary|tenure|new|buyers"
        + "|active> <>=|>|<=|<> <number|population>, e.g. \"at risk: frequency > population, recency < population\"";
    int colon = text.indexOf(':');
    String label = (colon < 0 ? text : text.substring(0, colon)).trim();
    if (!LABEL.matcher(label).matches()) {
      throw new SettingsException(key, text, syntax + "; the label must be 1..64 characters without ':' or ','");
    }
    List<Claim> claims = new ArrayList<>();
    String rest = colon < 0 ? "" : text.substring(colon + 1).trim();
    if (rest.isEmpty()) {
      throw new SettingsException(key, text, syntax + "; a label without a claim cannot be checked against the data");
    }
    for (String part : rest.split(",", -1)) {
      Matcher m = CLAIM.matcher(part);
      if (!m.matches()) {
        throw new SettingsException(key, text, syntax + "; cannot read claim '" + part.trim() + "'");
      }
      Measure measure = Measure.valueOf(m.group(1).toUpperCase(Locale.ROOT));
      double value = m.group(3).equals("population") ? Double.NaN : Double.parseDouble(m.group(3));
      if (value > measure.max) {
        throw new SettingsException(key, text, "claim '" + part.trim() + "' compares with " + value + ": "
            + measure.configName() + " lies in 0.." + (long) measure.max);
      }
      claims.add(new Claim(measure, m.group(2), value));
    }
    return new LabelRule(label, claims);
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder(label).append(':');
    for (int i = 0; i < claims.size(); i++) {
      sb.append(i == 0 ? " " : ", ").append(claims.get(i));
    }
    return sb.toString();
  }
}
