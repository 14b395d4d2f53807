package io.affinity.sample;

import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.DayOfWeek;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * A generated invoice log shaped like the public UCI Online Retail data set (a UK online retailer,
 * 2010-12-01..2011-12-09), with the truth about every customer planted. Layout as
 * {@code conf/examples/retail-invoices.conf} expects:
 * {@code InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country}, with
 * timestamps {@code yyyy-MM-dd HH:mm:ss}.
 *
 * <p>Aimed at the public statistics of the real log: 4,372 customer ids; about 25,900 invoices;
 * 541,909 lines ({@link Variant#FULL}; {@link Variant#SMALL} has the same customers, invoices and
 * shape with a tenth of the lines per invoice, for tests); about 25 % of lines without a customer id
 * (guest invoices); about 1.7 % cancellation lines (invoice numbers starting with C, negative
 * quantity); about a third of customers buying once; heavy-tailed orders per customer; a November
 * peak; no trading on Saturdays; a cohort of new customers in the last two months.
 *
 * <p>Planted archetypes ({@code truth/retail_customers.csv}):
 * <ul>
 *   <li>{@code new}: first order on or after 2011-10-11 (within 60 days of the end), 1..4 orders;
 *   <li>{@code loyal}: first order before 2011-04-01, last within the last 30 days, 5 to a few
 *       hundred orders (Pareto tail);
 *   <li>{@code regular}: 2..8 orders over the year, first before mid-August;
 *   <li>{@code lapsed}: 2..10 orders, none after 2011-06-18 (at least 170 days quiet);
 *   <li>{@code one-off}: a single order before 2011-09-27 (not new).
 * </ul>
 * Plain Java and seeded like {@link SampleGenerator}, whose file and random helpers it reuses.
 */
public final class RetailProfile {
  public static final String INVOICES_FILE = "online_retail.csv";
  public static final String TRUTH_FILE = "truth/retail_customers.csv";
  public static final LocalDate FIRST_DAY = LocalDate.of(2010, 12, 1);
  public static final LocalDate LAST_DAY = LocalDate.of(2011, 12, 9);
  /** Planted new customers are first seen at most this many days before the end of LAST_DAY. */
  public static final int NEW_WITHIN_DAYS = 60;

  private static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss", Locale.ROOT);
  private static final int DAYS = (int) (LAST_DAY.toEpochDay() - FIRST_DAY.toEpochDay()) + 1;
  private static final int ITEMS = 3_600;
  private static final String[] COUNTRIES = {"Germany", "France", "EIRE", "Spain", "Netherlands", "Belgium",
    "Switzerland", "Portugal", "Australia", "Norway"};
  private static final String[] WORDS = {"WHITE", "HANGING", "HEART", "T-LIGHT", "HOLDER", "RED", "RETROSPOT",
    "JUMBO", "BAG", "LUNCH", "BOX", "VINTAGE", "CAKE", "STAND", "REGENCY", "TEACUP", "SET", "OF", "6", "PAPER",
    "CHAIN", "KIT", "GLASS", "STAR", "LANTERN", "CHRISTMAS", "WOODEN", "FRAME", "PARTY", "BUNTING", "ALARM", "CLOCK"};

  /**
   * How many lines each invoice has on average, and how cancellations fall: in the real log about
   * one customer invoice in six is followed by a cancellation invoice (C...) of a few of its lines,
   * 1.7 % of all lines. With ten times fewer lines per invoice the same line share needs a smaller
   * per-line chance spread over every order.
   */
  public enum Variant {
    /** About 541,909 lines, as the real log. */
    FULL(17.8, 0.12, 0.19),
    /** The same customers and invoices with a tenth of the lines (about 54,000), for tests. */
    SMALL(1.78, 1.0, 0.023);

    final double linesPerInvoice;
    /** Share of customer orders that may have cancelled lines. */
    final double cancelOrders;
    /** Chance that a line of such an order is cancelled. */
    final double cancelLine;

    Variant(double linesPerInvoice, double cancelOrders, double cancelLine) {
      this.linesPerInvoice = linesPerInvoice;
      this.cancelOrders = cancelOrders;
      this.cancelLine = cancelLine;
    }
  }

  /** The planted kinds of customer. */
  public enum Archetype {
    NEW("new", 12), LOYAL("loyal", 15), REGULAR("regular", 26), LAPSED("lapsed", 20), ONE_OFF("one-off", 27);

    public final String label;
    final int percent;

    Archetype(String label, int percent) {
      this.label = label;
      this.percent = percent;
    }
  }

  /**
   * What was written.
   *
   * @param customers customer ids with at least one order
   * @param invoices distinct invoice numbers (orders, guest invoices and cancellations)
   * @param lines data lines
   * @param guestLines lines without a customer id
   * @param cancellationLines lines of invoices starting with C
   * @param oneOrderCustomers customers with exactly one (non-cancellation) invoice
   * @param novemberInvoices invoices dated in November 2011
   * @param octoberInvoices invoices dated in October 2011
   */
  public record Summary(int customers, int invoices, long lines, long guestLines, long cancellationLines,
      int oneOrderCustomers, int novemberInvoices, int octoberInvoices) {}

  private record Order(long seed, int customer, long second, boolean cancellation) {}

  private final Path out;
  private final Variant variant;
  private final long seed;
  private final int customers;

  /**
   * @param out folder to write into (created)
   * @param variant lines per invoice
   * @param customers customer ids (4,372 in the real log)
   * @param seed base seed
   */
  public RetailProfile(Path out, Variant variant, int customers, long seed) {
    if (customers < 10 || customers > 5_942) {
      throw new IllegalArgumentException("customers must be in 10..5942 (ids 12346..18287), got " + customers);
    }
    this.out = out;
    this.variant = variant;
    this.seed = seed;
    this.customers = customers;
  }

  /** The real log's 4,372 customers. */
  public static Summary generate(Path out, Variant variant, long seed) throws IOException {
    return new RetailProfile(out, variant, 4_372, seed).generate();
  }

  /** Usage: {@code RetailProfile <out-dir> [full|small] [seed]}. */
  public static void main(String[] args) throws IOException {
    if (args.length < 1) {
      System.err.println("usage: RetailProfile <out-dir> [full|small] [seed]");
      System.exit(2);
    }
    Variant v = args.length > 1 ? Variant.valueOf(args[1].toUpperCase(Locale.ROOT)) : Variant.FULL;
    System.out.println(generate(Path.of(args[0]), v, args.length > 2 ? Long.parseLong(args[2]) : 42L));
  }

  /** Writes the invoice log and the truth; deterministic for a given seed. */
  public Summary generate() throws IOException {
    Files.createDirectories(out.resolve(TRUTH_FILE).getParent());
    double[] dayWeights = dayWeights();
    SplittableRandom rng = new SplittableRandom(SampleGenerator.mix(seed, 1));
    int[] ids = customerIds(rng);
    List<Order> orders = new ArrayList<>();
    int[] orderCount = new int[customers];
    try (Writer truth = SampleGenerator.open(out.resolve(TRUTH_FILE))) {
      truth.write("customer_id,archetype,orders,first_order_date,last_order_date\n");
      for (int c = 0; c < customers; c++) {
        Archetype a = archetype(rng);
        long[] seconds = orderTimes(rng, a, dayWeights);
        for (long s : seconds) {
          orders.add(new Order(rng.nextLong(), c, s, false));
        }
        orderCount[c] = seconds.length;
        truth.write(ids[c] + "," + a.label + "," + seconds.length + "," + date(seconds[0]) + ","
            + date(seconds[seconds.length - 1]) + "\n");
      }
    }
    // Guest invoices (no customer id): a quarter of all lines, so a third as many lines as the customers'.
    int guestInvoices = (int) Math.round(orders.size() * 0.092);
    for (int g = 0; g < guestInvoices; g++) {
      orders.add(new Order(rng.nextLong(), -1, second(rng, pickDay(rng, dayWeights, 0, DAYS - 1)), false));
    }
    List<Order> cancellations = new ArrayList<>();
    for (Order o : orders) {
      if (o.customer() >= 0 && anyCancelled(o)) {
        long later = Math.min(o.second() + 3_600L * (1 + new SplittableRandom(o.seed() ^ 0x5DEECE66DL).nextInt(72)),
            LAST_DAY.atTime(20, 0).toEpochSecond(java.time.ZoneOffset.UTC));
        cancellations.add(new Order(o.seed(), o.customer(), Math.max(later, o.second() + 60), true));
      }
    }
    orders.addAll(cancellations);
    orders.sort(Comparator.comparingLong(Order::second).thenComparing(Order::cancellation).thenComparingLong(Order::seed));

    long lines = 0;
    long guestLines = 0;
    long cancellationLines = 0;
    int november = 0;
    int october = 0;
    String[] country = new String[customers];
    for (int c = 0; c < customers; c++) {
      country[c] = rng.nextDouble() < 0.9 ? "United Kingdom" : COUNTRIES[rng.nextInt(COUNTRIES.length)];
    }
    try (Writer w = SampleGenerator.open(out.resolve(INVOICES_FILE))) {
      w.write("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n");
      int number = 536_365;
      for (Order o : orders) {
        String invoice = (o.cancellation() ? "C" : "") + number++;
        LocalDateTime t = LocalDateTime.ofEpochSecond(o.second(), 0, java.time.ZoneOffset.UTC);
        if (t.getYear() == 2011 && t.getMonthValue() == 11) {
          november++;
        } else if (t.getYear() == 2011 && t.getMonthValue() == 10) {
          october++;
        }
        String when = t.format(TIMESTAMP);
        String customer = o.customer() < 0 ? "" : String.valueOf(ids[o.customer()]);
        String where = o.customer() < 0 ? "United Kingdom" : country[o.customer()];
        SplittableRandom r = new SplittableRandom(o.seed());
        boolean mayCancel = r.nextDouble() < variant.cancelOrders;
        int n = lineCount(r, o.customer() < 0);
        for (int i = 0; i < n; i++) {
          int item = item(r);
          int quantity = o.customer() < 0 ? 1 + r.nextInt(3) : packSize(r);
          boolean cancelled = o.customer() >= 0 && mayCancel & r.nextDouble() < variant.cancelLine;
          if (o.cancellation() && !cancelled) {
            continue;
          }
          w.write(invoice + "," + stockCode(item) + "," + SampleGenerator.csvField(description(item)) + ","
              + (o.cancellation() ? -quantity : quantity) + "," + when + "," + SampleGenerator.formatCents(priceCents(item))
              + "," + customer + "," + where + "\n");
          lines++;
          guestLines += o.customer() < 0 ? 1 : 0;
          cancellationLines += o.cancellation() ? 1 : 0;
        }
      }
    }
    int once = 0;
    for (int c : orderCount) {
      once += c == 1 ? 1 : 0;
    }
    return new Summary(customers, orders.size(), lines, guestLines, cancellationLines, once, november, october);
  }

  /** Whether any line of a customer's order is cancelled later (the same draws as when writing). */
  private boolean anyCancelled(Order o) {
    SplittableRandom r = new SplittableRandom(o.seed());
    boolean mayCancel = r.nextDouble() < variant.cancelOrders;
    int n = lineCount(r, false);
    boolean any = false;
    for (int i = 0; i < n; i++) {
      item(r);
      packSize(r);
      any |= mayCancel & r.nextDouble() < variant.cancelLine;
    }
    return any;
  }

  /** 1 + geometric lines; guest invoices are larger (in the real log they carry a quarter of the lines). */
  private int lineCount(SplittableRandom r, boolean guest) {
    double mean = variant.linesPerInvoice * (guest ? 3.6 : 1.0);
    double more = 1.0 - 1.0 / mean;
    int n = 1;
    while (n < 1_000 && r.nextDouble() < more) {
      n++;
    }
    return n;
  }

  /** Relative trade per day: weekly pattern without Saturdays, a build-up from September, a November peak. */
  static double[] dayWeights() {
    double[] month = {0, 0.75, 0.7, 1.0, 0.8, 1.05, 1.0, 1.0, 1.0, 1.4, 1.6, 2.1, 0.9}; // Jan..Dec of 2011
    double[] w = new double[DAYS];
    for (int d = 0; d < DAYS; d++) {
      LocalDate day = FIRST_DAY.plusDays(d);
      double m = day.getYear() == 2010 ? 1.2 : month[day.getMonthValue()];
      w[d] = day.getDayOfWeek() == DayOfWeek.SATURDAY ? 0.0 : m;
    }
    return w;
  }

  private static int pickDay(SplittableRandom rng, double[] weights, int from, int to) {
    double total = 0;
    for (int d = from; d <= to; d++) {
      total += weights[d];
    }
    double x = rng.nextDouble() * total;
    for (int d = from; d <= to; d++) {
      x -= weights[d];
      if (x < 0) {
        return d;
      }
    }
    return to;
  }

  /** A trading second of the day (08:00..19:59), as epoch seconds (UTC wall clock). */
  private static long second(SplittableRandom rng, int day) {
    return FIRST_DAY.plusDays(day).atTime(8, 0).toEpochSecond(java.time.ZoneOffset.UTC) + rng.nextInt(12 * 3_600);
  }

  private Archetype archetype(SplittableRandom rng) {
    int x = rng.nextInt(100);
    for (Archetype a : Archetype.values()) {
      x -= a.percent;
      if (x < 0) {
        return a;
      }
    }
    return Archetype.ONE_OFF;
  }

  /** Sorted order times of one customer of archetype {@code a}. */
  private static long[] orderTimes(SplittableRandom rng, Archetype a, double[] w) {
    int last = DAYS - 1;
    int newFrom = last - (NEW_WITHIN_DAYS - 1); // 2011-10-11: at most 59.x days before the end
    List<Long> s = new ArrayList<>();
    switch (a) {
      case NEW -> {
        int first = pickDay(rng, w, newFrom, last);
        s.add(second(rng, first));
        int more = rng.nextDouble() < 0.6 ? 0 : 1 + rng.nextInt(3);
        for (int i = 0; i < more; i++) {
          s.add(second(rng, pickDay(rng, w, first, last)));
        }
      }
      case LOYAL -> {
        // Pareto tail (alpha 1.3): most loyal customers order 5..20 times, a few hundreds of times.
        int n = (int) Math.min(400, Math.floor(5 * Math.pow(1 - rng.nextDouble(), -1 / 1.3)));
        s.add(second(rng, pickDay(rng, w, 0, 120)));
        s.add(second(rng, pickDay(rng, w, last - 29, last)));
        for (int i = 2; i < n; i++) {
          s.add(second(rng, pickDay(rng, w, 0, last)));
        }
      }
      case REGULAR -> {
        int n = 2 + rng.nextInt(7);
        int first = pickDay(rng, w, 0, 255);
        s.add(second(rng, first));
        for (int i = 1; i < n; i++) {
          s.add(second(rng, pickDay(rng, w, first, last)));
        }
      }
      case LAPSED -> {
        int n = 2 + (int) Math.min(8, Math.floor(-3 * Math.log(1 - rng.nextDouble())));
        for (int i = 0; i < n; i++) {
          s.add(second(rng, pickDay(rng, w, 0, 199)));
        }
      }
      case ONE_OFF -> s.add(second(rng, pickDay(rng, w, 0, 300)));
      default -> throw new IllegalStateException(a.name());
    }
    return s.stream().mapToLong(Long::longValue).sorted().toArray();
  }

  private int[] customerIds(SplittableRandom rng) {
    int[] all = new int[5_942];
    for (int i = 0; i < all.length; i++) {
      all[i] = 12_346 + i;
    }
    for (int i = all.length - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = all[i];
      all[i] = all[j];
      all[j] = t;
    }
    int[] ids = new int[customers];
    System.arraycopy(all, 0, ids, 0, customers);
    return ids;
  }

  /** Zipf-like popularity: item i with weight about 1 / (i + 10). */
  private static int item(SplittableRandom r) {
    double u = r.nextDouble();
    return (int) Math.min(ITEMS - 1, Math.floor(10 * (Math.pow((ITEMS + 10) / 10.0, u) - 1)));
  }

  /** Wholesale-like pack sizes. */
  private static int packSize(SplittableRandom r) {
    int[] packs = {1, 2, 3, 4, 6, 8, 10, 12, 12, 24, 24, 48};
    return packs[r.nextInt(packs.length)];
  }

  private static String stockCode(int item) {
    return (10_000 + item * 23 % 90_000) + (item % 7 == 0 ? "A" : item % 11 == 0 ? "B" : "");
  }

  private static String description(int item) {
    SplittableRandom r = new SplittableRandom(item * 7_919L);
    StringBuilder b = new StringBuilder();
    int words = 2 + r.nextInt(4);
    for (int i = 0; i < words; i++) {
      b.append(i == 0 ? "" : " ").append(WORDS[r.nextInt(WORDS.length)]);
    }
    return b.toString();
  }

  /** Log-normal-ish unit price, median about 2.10, in pence. */
  private static long priceCents(int item) {
    SplittableRandom r = new SplittableRandom(item * 104_729L + 1);
    double z = 0;
    for (int i = 0; i < 4; i++) {
      z += r.nextDouble() - 0.5;
    }
    return Math.max(10, Math.round(210 * Math.exp(1.6 * z)));
  }

  private static String date(long second) {
    return LocalDateTime.ofEpochSecond(second, 0, java.time.ZoneOffset.UTC).toLocalDate().toString();
  }
}
