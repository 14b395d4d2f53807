package io.affinity.propensity;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Test data with a known answer: users whose chance of buying in the horizon after the cutoff is
 * exactly {@code sigmoid(B0 + B_FREQUENCY ln(1 + frequency) + B_RECENCY ln(1 + recency_days))}, with
 * frequency and recency as the features stage computes them at the cutoff, plus views that have no
 * effect at all. The model sees the same transformed features, so it is correctly specified and
 * should recover the signs and, up to sampling error, the sizes of the planted coefficients.
 *
 * <p>Spend is planted too: each user has a typical basket {@code exp(N(ln 40, 0.8))}; every
 * purchase before the cutoff is that basket times {@code exp(N(0, 0.25))} and the purchase in the
 * horizon that basket times {@code exp(N(0, SPEND_SIGMA))}. So E[spend | buy] = basket x
 * exp(SPEND_SIGMA^2 / 2), which the spend model can only learn through monetary / frequency, and
 * the spend of the 30 days before the cutoff (the naive baseline) is an unrelated window.
 */
final class PlantedPurchases {
  static final double B0 = 0.0;
  static final double B_FREQUENCY = 2.0;
  static final double B_RECENCY = -1.2;
  static final double SPEND_SIGMA = 0.4;

  /** clean/events as ingest writes it. */
  static final StructType EVENTS = new StructType()
      .add("user_id", DataTypes.StringType)
      .add("item_id", DataTypes.StringType)
      .add("event_type", DataTypes.StringType)
      .add("event_time", DataTypes.TimestampType)
      .add("quantity", DataTypes.IntegerType)
      .add("price", DataTypes.DoubleType)
      .add("session_id", DataTypes.StringType);

  private static final long DAY = 86_400;

  /**
   * One planted user.
   *
   * @param id user id
   * @param frequency purchases before the cutoff (1..12)
   * @param recencyDays days from the last of them to the cutoff (0.5..180)
   * @param views views before the cutoff, unrelated to buying (0..20)
   * @param probability the planted chance of buying in the horizon
   * @param buys whether the user does buy in the horizon
   * @param basket the user's typical purchase value
   * @param spend the value of the purchase in the horizon (0 if none)
   */
  record User(String id, int frequency, double recencyDays, int views, double probability, boolean buys, double basket,
      double spend) {
    /** The planted expected spend in the horizon: P(buy) x E[spend | buy]. */
    double expectedValue() {
      return probability * basket * Math.exp(SPEND_SIGMA * SPEND_SIGMA / 2);
    }
  }

  private PlantedPurchases() {}

  static double probability(int frequency, double recencyDays) {
    double z = B0 + B_FREQUENCY * Math.log1p(frequency) + B_RECENCY * Math.log1p(recencyDays);
    return 1 / (1 + Math.exp(-z));
  }

  static List<User> users(int n, long seed) {
    Random rng = new Random(seed);
    // A second generator for spend, so the behaviour above is the same as before spend was planted.
    Random money = new Random(seed + 1);
    List<User> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int frequency = 1 + rng.nextInt(12);
      // Whole seconds, as events carry them: the features then equal these values exactly.
      double recency = (43_200 + rng.nextInt((int) (179.5 * DAY))) / (double) DAY;
      int views = rng.nextInt(21);
      double p = probability(frequency, recency);
      boolean buys = rng.nextDouble() < p;
      double basket = cents(Math.exp(Math.log(40) + 0.8 * money.nextGaussian()));
      double spend = buys ? cents(basket * Math.exp(SPEND_SIGMA * money.nextGaussian())) : 0.0;
      out.add(new User(String.format(Locale.ROOT, "p%05d", i), frequency, recency, views, p, buys, basket, spend));
    }
    return out;
  }

  /**
   * Events of the users: their history before {@code cutoff}, the planted purchase in
   * {@code [cutoff, end)} of those who buy, and a few views in that window for everyone.
   */
  static List<Row> events(List<User> users, Instant cutoff, Instant end, long seed) {
    Random rng = new Random(seed);
    Random money = new Random(seed + 1);
    long c = cutoff.getEpochSecond();
    long horizon = end.getEpochSecond() - c;
    List<Row> rows = new ArrayList<>();
    for (User u : users) {
      long last = c - Math.round(u.recencyDays() * DAY);
      rows.add(purchase(u.id(), last, rng, rows.size(), history(u, money)));
      for (int k = 1; k < u.frequency(); k++) {
        rows.add(purchase(u.id(), last - 1 - rng.nextInt((int) (180 * DAY)), rng, rows.size(), history(u, money)));
      }
      for (int k = 0; k < u.views(); k++) {
        rows.add(view(u.id(), c - 1 - rng.nextInt((int) (365 * DAY)), rng));
      }
      if (u.buys()) {
        rows.add(purchase(u.id(), c + rng.nextInt((int) horizon), rng, rows.size(), u.spend()));
      }
      for (int k = rng.nextInt(4); k > 0; k--) {
        rows.add(view(u.id(), c + rng.nextInt((int) horizon), rng));
      }
    }
    return rows;
  }

  private static Row purchase(String user, long epochSecond, Random rng, int n, double price) {
    return RowFactory.create(user, item(rng), "purchase", Timestamp.from(Instant.ofEpochSecond(epochSecond)), 1, price,
        "s-" + n);
  }

  /** A purchase before the cutoff: the user's basket with a little noise. */
  private static double history(User u, Random money) {
    return cents(u.basket() * Math.exp(0.25 * money.nextGaussian()));
  }

  private static double cents(double x) {
    return Math.max(0.01, Math.round(x * 100) / 100.0);
  }

  private static Row view(String user, long epochSecond, Random rng) {
    return RowFactory.create(user, item(rng), "view", Timestamp.from(Instant.ofEpochSecond(epochSecond)), null, null, null);
  }

  private static String item(Random rng) {
    return String.format(Locale.ROOT, "i%03d", rng.nextInt(40));
  }
}
