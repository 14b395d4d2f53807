package io.affinity.sample;

import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Deterministic, seeded generator of realistic e-commerce data for the Affinity pipeline.
 *
 * <p>It writes, into one output directory:
 *
 * <ul>
 *   <li>{@code events.csv}: view / add_to_cart / purchase events, grouped by user and ordered by time;
 *   <li>{@code ratings.dat}: MovieLens-style explicit ratings ({@code user::item::rating::epoch});
 *   <li>{@code users.csv} and {@code items.csv}: the dimensions;
 *   <li>{@code truth/user_archetypes.csv}: the planted archetype and preferred categories of every user;
 *   <li>{@code truth/planted_rows.csv}: every deliberately bad, duplicate or outlier row, with its line
 *       number and the reason code the pipeline is expected to give it.
 * </ul>
 *
 * <p>Output is a pure function of {@link Options}: each user draws from its own random stream derived
 * from the seed and the user's index, all numbers are formatted without locale, and only {@link
 * StrictMath} is used for transcendental functions (JIT intrinsics of {@link Math} may differ in the
 * last bit between runs). Events are streamed to disk user by user, so memory is bounded by the
 * catalogue and one user's state, not by the number of events.
 */
public final class SampleGenerator {

  static final String USAGE =
      String.join(
          "\n",
          "usage: SampleGenerator --out DIR [options]",
          "  --out DIR            output directory (created if missing; files are overwritten)",
          "  --users N            number of users (default 1000)",
          "  --items N            number of items, >= --categories (default 300)",
          "  --categories N       number of categories, 1..24 (default 10)",
          "  --days N             window length in days, 31..3650 (default 90)",
          "  --end-date DATE      last day of the window, yyyy-MM-dd, UTC (default 2026-11-20)",
          "  --ratings N          number of good ratings rows (default 10000)",
          "  --seed N             random seed (default 42)",
          "  --bad-rows BOOL      plant bad / duplicate / outlier rows, true|false (default true)",
          "  --help               print this message",
          "");

  private static final Set<String> FLAGS =
      Set.of(
          "--out", "--users", "--items", "--categories", "--days", "--end-date", "--ratings",
          "--seed", "--bad-rows");

  /** Events file name; also the key of {@link Summary#badRowsPerFile()}. */
  public static final String EVENTS_FILE = "events.csv";
  /** Ratings file name; also the key of {@link Summary#badRowsPerFile()}. */
  public static final String RATINGS_FILE = "ratings.dat";
  /** Users file name. */
  public static final String USERS_FILE = "users.csv";
  /** Items file name. */
  public static final String ITEMS_FILE = "items.csv";
  /** Archetype truth file, relative to the output directory. */
  public static final String ARCHETYPES_FILE = "truth/user_archetypes.csv";
  /** Planted-rows truth file, relative to the output directory. */
  public static final String PLANTED_FILE = "truth/planted_rows.csv";

  private static final long SECONDS_PER_DAY = 86_400L;
  // Sessions live in two-hour slots; see Run#simulateSession for why they can never leave their slot.
  private static final int SLOTS_PER_DAY = 12;
  private static final int SLOT_SECONDS = 7_200;
  private static final int MAX_START_OFFSET = 1_500;
  private static final int MAX_VIEWS_PER_SESSION = 20;
  // Relative traffic per slot (00-02h ... 22-24h): quiet nights, an evening peak.
  private static final int[] SLOT_WEIGHTS = {2, 1, 1, 3, 5, 6, 7, 6, 7, 10, 11, 6};

  private static final double PREFERRED_SHARE = 0.85;
  private static final double ZIPF_EXPONENT = 1.1;
  private static final int NEW_CUSTOMER_DAYS = 21;
  private static final int LAPSED_QUIET_DAYS = 30;
  private static final int UNICODE_USERS = 5;
  private static final String[] UNICODE_PREFIXES = {
    "ü-kunde-", "用户-", "клиент-", "χρήστης-", "usuário-"
  };

  // Planted rows are spliced in at the first user boundary after every N good rows.
  private static final int EVENT_PLANT_SPACING = 2_000;
  private static final int RATING_PLANT_SPACING = 3_000;
  private static final int TEMPLATE_RING = 8;
  // Far ahead of any wall clock: ingest calls a row FUTURE_TIMESTAMP only when it is later than the
  // time of ingest (plus the tolerance); a nearer date would turn into after_run_date once the
  // calendar passes it, and the samples' planted reasons would change with the day the tests run.
  private static final int FUTURE_YEARS = 100;

  // Random streams other than the per-user ones (which use the user index, >= 0).
  private static final long STREAM_ITEMS = -1;
  private static final long STREAM_ARCHETYPES = -2;

  private static final DateTimeFormatter TIMESTAMP =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss", Locale.ROOT);
  private static final DateTimeFormatter DATE =
      DateTimeFormatter.ofPattern("yyyy-MM-dd", Locale.ROOT);

  private static final String[] CATEGORIES = {
    "electronics", "books", "garden", "home", "toys", "sports", "beauty", "fashion",
    "grocery", "automotive", "music", "pets", "office", "health", "jewelry", "baby",
    "tools", "games", "outdoor", "kitchen", "crafts", "shoes", "travel", "movies"
  };
  // Log-scale mean price per category (exp(3.0) ~ 20): electronics and jewelry are dear, grocery cheap.
  private static final double[] CATEGORY_PRICE_MU = {
    4.6, 2.8, 3.5, 3.6, 3.2, 3.7, 2.9, 3.6, 2.0, 3.9, 2.9, 3.0,
    2.8, 2.9, 4.3, 3.2, 3.8, 3.8, 4.0, 3.5, 2.7, 4.0, 4.2, 2.6
  };
  private static final String[][] NOUNS = {
    {"Headphones", "Charger", "Speaker", "Monitor", "Keyboard"},
    {"Novel", "Cookbook", "Atlas", "Biography", "Anthology"},
    {"Hose", "Planter", "Rake", "Lantern", "Seed Kit"},
    {"Lamp", "Cushion", "Rug", "Vase", "Clock"},
    {"Puzzle", "Robot", "Kite", "Doll", "Train Set"},
    {"Yoga Mat", "Dumbbell", "Racket", "Ball", "Jump Rope"},
    {"Serum", "Lipstick", "Brush", "Face Mask", "Perfume"},
    {"Scarf", "Jacket", "Belt", "Hat", "Dress"},
    {"Coffee", "Tea", "Olive Oil", "Pasta", "Chocolate"},
    {"Wiper", "Floor Mat", "Jump Starter", "Car Wax", "Phone Mount"},
    {"Vinyl", "Guitar Strings", "Ukulele", "Drumsticks", "Tuner"},
    {"Dog Bed", "Cat Tree", "Leash", "Bowl", "Chew Toy"},
    {"Notebook", "Pen Set", "Desk Organizer", "Stapler", "Chair"},
    {"Vitamins", "Thermometer", "First Aid Kit", "Scale", "Massager"},
    {"Ring", "Necklace", "Bracelet", "Earrings", "Watch"},
    {"Stroller", "Onesie", "Bottle", "Blanket", "Teether"},
    {"Drill", "Hammer", "Wrench Set", "Tape Measure", "Saw"},
    {"Board Game", "Controller", "Card Game", "Chess Set", "Dice Set"},
    {"Tent", "Sleeping Bag", "Backpack", "Camp Stove", "Hammock"},
    {"Skillet", "Knife", "Kettle", "Blender", "Cutting Board"},
    {"Yarn", "Paint Set", "Glue Gun", "Canvas", "Beads"},
    {"Sneakers", "Boots", "Sandals", "Loafers", "Slippers"},
    {"Suitcase", "Neck Pillow", "Adapter", "Packing Cubes", "Passport Case"},
    {"Blu-ray", "Box Set", "Documentary", "Poster", "Soundtrack"}
  };
  private static final String[] ADJECTIVES = {
    "Classic", "Compact", "Deluxe", "Eco", "Vintage", "Smart", "Brass", "Bamboo",
    "Ceramic", "Linen", "Modern", "Rustic", "Premium", "Mini", "Pro", "Nordic", "Crème"
  };
  private static final String[] REGIONS = {"north", "south", "east", "west", "central", "overseas"};
  private static final int[] REGION_WEIGHTS = {22, 20, 18, 18, 15, 7};
  // Cumulative rating distributions (1..5 stars): preferred categories skew high, others low.
  private static final double[] PREFERRED_RATING_CDF = {0.01, 0.05, 0.15, 0.50, 1.0};
  private static final double[] OTHER_RATING_CDF = {0.15, 0.50, 0.85, 0.95, 1.0};

  private SampleGenerator() {}

  /**
   * What to generate. The compact constructor validates every field and names the offending CLI
   * flag in its {@link IllegalArgumentException}, so the CLI and programmatic callers share one set
   * of rules.
   *
   * @param out output directory
   * @param users number of users
   * @param items number of items (at least {@code categories})
   * @param categories number of categories, 1..24
   * @param days window length in days; at least 31 so that lapsed users have an active first half
   *     and a quiet last 30 days
   * @param endDate last (inclusive) day of the window, UTC
   * @param ratings number of good ratings rows to write (fewer only if users cannot rate that many
   *     distinct items)
   * @param seed random seed
   * @param badRows whether to plant bad, duplicate and outlier rows
   */
  public record Options(
      Path out,
      int users,
      int items,
      int categories,
      int days,
      LocalDate endDate,
      int ratings,
      long seed,
      boolean badRows) {

    /** Default number of users. */
    public static final int DEFAULT_USERS = 1_000;
    /** Default number of items. */
    public static final int DEFAULT_ITEMS = 300;
    /** Default number of categories. */
    public static final int DEFAULT_CATEGORIES = 10;
    /** Default window length in days. */
    public static final int DEFAULT_DAYS = 90;
    /** Default last day of the window. */
    public static final LocalDate DEFAULT_END_DATE = LocalDate.of(2026, 11, 20);
    /** Default number of ratings. */
    public static final int DEFAULT_RATINGS = 10_000;
    /** Default seed. */
    public static final long DEFAULT_SEED = 42L;

    /** Validates the options; messages name the CLI flag. */
    public Options {
      if (out == null) {
        throw new IllegalArgumentException("--out is required");
      }
      requireRange("--users", users, 1, 10_000_000);
      requireRange("--categories", categories, 1, CATEGORIES.length);
      requireRange("--items", items, 1, 10_000_000);
      if (items < categories) {
        throw new IllegalArgumentException(
            "--items must be >= --categories (" + categories + "), got " + items);
      }
      requireRange("--days", days, 31, 3_650);
      if (endDate == null) {
        throw new IllegalArgumentException("--end-date is required");
      }
      requireRange("--ratings", ratings, 0, 1_000_000_000);
    }

    /**
     * The documented defaults, writing into {@code out}.
     *
     * @param out output directory
     * @return default options
     */
    public static Options defaults(Path out) {
      return new Options(
          out,
          DEFAULT_USERS,
          DEFAULT_ITEMS,
          DEFAULT_CATEGORIES,
          DEFAULT_DAYS,
          DEFAULT_END_DATE,
          DEFAULT_RATINGS,
          DEFAULT_SEED,
          true);
    }

    private static void requireRange(String flag, int value, int min, int max) {
      if (value < min || value > max) {
        throw new IllegalArgumentException(
            flag + " must be in " + min + ".." + max + ", got " + value);
      }
    }
  }

  /**
   * What was written.
   *
   * @param users data rows in users.csv
   * @param items data rows in items.csv
   * @param events events.csv data rows that are not bound for quarantine (good events plus the planted
   *     duplicates and outliers), so {@code events + badRowsPerFile["events.csv"]} is the row count
   * @param ratings good rows in ratings.dat
   * @param badRowsPerFile per file, the planted rows the pipeline must quarantine
   */
  public record Summary(
      int users, int items, long events, long ratings, Map<String, Integer> badRowsPerFile) {}

  /**
   * Generates the data set described by {@code o}.
   *
   * @param o options
   * @return counts of what was written
   * @throws IOException if a file cannot be written
   */
  public static Summary generate(Options o) throws IOException {
    return new Run(o).execute();
  }

  /**
   * CLI entry point; see {@link #USAGE}. Exits 2 on invalid arguments, 1 on I/O failure.
   *
   * @param args command-line arguments
   */
  public static void main(String[] args) {
    if (Arrays.asList(args).contains("--help")) {
      System.out.print(USAGE);
      return;
    }
    Options o;
    try {
      o = parseArgs(args);
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage() + " (see --help)");
      System.exit(2);
      return;
    }
    try {
      Summary s = generate(o);
      System.out.println(
          String.format(
              Locale.ROOT,
              "wrote %d users, %d items, %d events, %d ratings, quarantine-bound rows %s to %s",
              s.users(),
              s.items(),
              s.events(),
              s.ratings(),
              s.badRowsPerFile(),
              o.out()));
    } catch (IOException e) {
      System.err.println("error: cannot write " + o.out() + ": " + e.getMessage());
      System.exit(1);
    }
  }

  /**
   * Parses {@code --flag value} / {@code --flag=value} arguments.
   *
   * @param args command-line arguments (without {@code --help})
   * @return the options
   * @throws IllegalArgumentException naming the flag, if an argument is unknown, missing or invalid
   */
  static Options parseArgs(String[] args) {
    Map<String, String> values = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      int eq = arg.indexOf('=');
      String flag = eq > 0 ? arg.substring(0, eq) : arg;
      if (!FLAGS.contains(flag)) {
        throw new IllegalArgumentException("unknown option " + flag);
      }
      if (eq < 0 && i + 1 >= args.length) {
        throw new IllegalArgumentException(flag + " needs a value");
      }
      values.put(flag, eq > 0 ? arg.substring(eq + 1) : args[++i]);
    }
    String out = values.get("--out");
    return new Options(
        out == null ? null : Path.of(out),
        intFlag(values, "--users", Options.DEFAULT_USERS),
        intFlag(values, "--items", Options.DEFAULT_ITEMS),
        intFlag(values, "--categories", Options.DEFAULT_CATEGORIES),
        intFlag(values, "--days", Options.DEFAULT_DAYS),
        dateFlag(values, "--end-date", Options.DEFAULT_END_DATE),
        intFlag(values, "--ratings", Options.DEFAULT_RATINGS),
        longFlag(values, "--seed", Options.DEFAULT_SEED),
        boolFlag(values, "--bad-rows", true));
  }

  private static int intFlag(Map<String, String> values, String flag, int fallback) {
    String v = values.get(flag);
    if (v == null) {
      return fallback;
    }
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " must be an integer, got '" + v + "'");
    }
  }

  private static long longFlag(Map<String, String> values, String flag, long fallback) {
    String v = values.get(flag);
    if (v == null) {
      return fallback;
    }
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " must be an integer, got '" + v + "'");
    }
  }

  private static LocalDate dateFlag(Map<String, String> values, String flag, LocalDate fallback) {
    String v = values.get(flag);
    if (v == null) {
      return fallback;
    }
    try {
      return LocalDate.parse(v, DateTimeFormatter.ISO_LOCAL_DATE);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(flag + " must be a date yyyy-MM-dd, got '" + v + "'");
    }
  }

  private static boolean boolFlag(Map<String, String> values, String flag, boolean fallback) {
    String v = values.get(flag);
    if (v == null) {
      return fallback;
    }
    if (v.equals("true") || v.equals("false")) {
      return v.equals("true");
    }
    throw new IllegalArgumentException(flag + " must be true or false, got '" + v + "'");
  }

  // ---------------------------------------------------------------------------------------------
  // Behaviour model

  /** Planted user archetypes with their share of users and behaviour parameters. */
  private enum Archetype {
    // label, % of users, sessions per 30 active days, mean views per session, P(cart | view),
    // P(buy | cart), P(one more unit), max units, P(trade up to a pricier item), ratings weight
    CHAMPION("champion", 10, 7.0, 5.0, 0.30, 0.70, 0.45, 6, 0.5, 30),
    LOYAL("loyal", 20, 4.0, 4.0, 0.20, 0.50, 0.20, 4, 0.0, 20),
    OCCASIONAL("occasional", 25, 1.2, 3.0, 0.12, 0.35, 0.10, 3, 0.0, 6),
    BROWSER("browser", 20, 3.2, 5.0, 0.10, 0.0, 0.10, 3, 0.0, 8),
    LAPSED("lapsed", 15, 5.0, 4.0, 0.20, 0.45, 0.20, 4, 0.0, 12),
    NEW("new", 10, 6.0, 4.0, 0.15, 0.30, 0.15, 3, 0.0, 5);

    final String label;
    final int percent;
    final double sessionsPer30Days;
    final double moreViews;
    final double cartRate;
    final double buyRate;
    final double extraUnit;
    final int maxUnits;
    final double tradeUp;
    final int ratingWeight;

    Archetype(
        String label,
        int percent,
        double sessionsPer30Days,
        double meanViews,
        double cartRate,
        double buyRate,
        double extraUnit,
        int maxUnits,
        double tradeUp,
        int ratingWeight) {
      this.label = label;
      this.percent = percent;
      this.sessionsPer30Days = sessionsPer30Days;
      // 1 + geometric(moreViews) has mean meanViews (before the per-session cap).
      this.moreViews = 1.0 - 1.0 / meanViews;
      this.cartRate = cartRate;
      this.buyRate = buyRate;
      this.extraUnit = extraUnit;
      this.maxUnits = maxUnits;
      this.tradeUp = tradeUp;
      this.ratingWeight = ratingWeight;
    }

    int units(SplittableRandom rng) {
      int q = 1;
      while (q < maxUnits && rng.nextDouble() < extraUnit) {
        q++;
      }
      return q;
    }
  }

  private enum EventType {
    VIEW("view"),
    ADD_TO_CART("add_to_cart"),
    PURCHASE("purchase");

    final String label;

    EventType(String label) {
      this.label = label;
    }
  }

  /** Item catalogue: ids, categories, prices, titles and per-category Zipf popularity. */
  private static final class Catalog {
    final int categories;
    final String[] itemIds;
    final int[] category;
    final long[] priceCents;
    final String[] priceText;
    final String[] titles;
    // Per category: its items, most popular first, and the cumulative Zipf weights over them.
    final int[][] members;
    final double[][] popularity;

    Catalog(Options o) {
      SplittableRandom rng = new SplittableRandom(mix(o.seed(), STREAM_ITEMS));
      int n = o.items();
      categories = o.categories();
      itemIds = new String[n];
      category = new int[n];
      priceCents = new long[n];
      priceText = new String[n];
      titles = new String[n];

      // Categories differ in size, but the first `categories` items cover each one so none is empty.
      double[] sizeWeights = new double[categories];
      double totalWeight = 0;
      for (int c = 0; c < categories; c++) {
        sizeWeights[c] = 0.6 + 0.8 * rng.nextDouble();
        totalWeight += sizeWeights[c];
      }
      int[] sizes = new int[categories];
      for (int i = 0; i < n; i++) {
        int c = i < categories ? i : pickWeighted(rng, sizeWeights, totalWeight);
        category[i] = c;
        sizes[c]++;
        itemIds[i] = "sku-" + pad(i + 1, 5);
        priceCents[i] = price(rng, CATEGORY_PRICE_MU[c]);
        priceText[i] = formatCents(priceCents[i]);
        titles[i] = title(rng, c, i);
      }

      members = new int[categories][];
      popularity = new double[categories][];
      int[] fill = new int[categories];
      for (int c = 0; c < categories; c++) {
        members[c] = new int[sizes[c]];
      }
      for (int i = 0; i < n; i++) {
        members[category[i]][fill[category[i]]++] = i;
      }
      for (int c = 0; c < categories; c++) {
        // Shuffle so that popularity rank is unrelated to the item id.
        shuffle(rng, members[c]);
        double[] cum = new double[members[c].length];
        double sum = 0;
        for (int r = 0; r < cum.length; r++) {
          sum += 1.0 / StrictMath.pow(r + 1, ZIPF_EXPONENT);
          cum[r] = sum;
        }
        popularity[c] = cum;
      }
    }

    int pickInCategory(SplittableRandom rng, int c) {
      double[] cum = popularity[c];
      double x = rng.nextDouble() * cum[cum.length - 1];
      int lo = 0;
      int hi = cum.length - 1;
      while (lo < hi) {
        int mid = (lo + hi) >>> 1;
        if (cum[mid] > x) {
          hi = mid;
        } else {
          lo = mid + 1;
        }
      }
      return members[c][lo];
    }

    private static long price(SplittableRandom rng, double mu) {
      long cents = Math.round(StrictMath.exp(mu + 0.6 * gaussian(rng)) * 100);
      cents = Math.max(200, Math.min(50_000, cents));
      // Most shelf prices end in .99.
      if (rng.nextDouble() < 0.6) {
        cents = Math.max(3, cents / 100) * 100 - 1;
      }
      return cents;
    }

    private static String title(SplittableRandom rng, int c, int item) {
      String noun = NOUNS[c][rng.nextInt(NOUNS[c].length)];
      String adjective = ADJECTIVES[rng.nextInt(ADJECTIVES.length)];
      double form = rng.nextDouble();
      // sku-00002 and sku-00003 always get the comma and the embedded-quote forms, so every
      // catalogue exercises CSV quoting; other items get them at random.
      if (item == 1 || (item != 2 && form < 0.15)) {
        return noun + ", " + adjective.toLowerCase(Locale.ROOT);
      }
      if (item == 2 || form < 0.20) {
        return noun + " " + (10 + rng.nextInt(40)) + "\", " + adjective.toLowerCase(Locale.ROOT);
      }
      return adjective + " " + noun;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Output sinks

  /** The fields of a recently written good event, kept as a template for planted rows. */
  private static final class Template {
    int userNo;
    String userId;
    int item;
    long epoch;
    int units;
    int session;
    long line;
    boolean used;
  }

  /** A planted row as recorded in {@code truth/planted_rows.csv}. */
  private record Planted(String file, long line, String code, String description, String raw) {}

  /** Planted events.csv rows, in the order they are spliced in. */
  private enum EventPlant {
    TOO_FEW_COLUMNS("MALFORMED_LINE", false, "4 of 7 columns"),
    DUPLICATE_EXACT_1("DUPLICATE_EXACT", true, "exact copy of line %d"),
    EMPTY_USER("MISSING_FIELD", false, "user_id is empty"),
    QUANTITY_WORD("BAD_NUMBER", true, "quantity 'two' is not a number"),
    TOO_MANY_COLUMNS("MALFORMED_LINE", false, "8 of 7 columns"),
    MONTH_13("BAD_TIMESTAMP", false, "month 13, day 45"),
    OUTLIER_1("OUTLIER_CAPPED", true, "quantity 900 on a valid purchase (line %d, one second later)"),
    EMPTY_ITEM("MISSING_FIELD", false, "item_id is empty"),
    WISHLIST("UNKNOWN_EVENT_TYPE", false, "event_type 'wishlist'"),
    DUPLICATE_KEY_1("DUPLICATE_KEY", false, "same user/item/type/time as line %d, next session_id"),
    PRICE_WORD("BAD_NUMBER", true, "price '12,5x' (quoted so the comma stays in the field)"),
    YESTERDAY("BAD_TIMESTAMP", false, "event_time 'yesterday'"),
    NEGATIVE_PRICE("OUT_OF_RANGE", true, "purchase with unit price -3.00"),
    DUPLICATE_EXACT_2("DUPLICATE_EXACT", true, "exact copy of line %d"),
    EMPTY_TIME("MISSING_FIELD", false, "event_time is empty"),
    FUTURE("FUTURE_TIMESTAMP", false, "dated " + FUTURE_YEARS + " years after --end-date"),
    ZERO_QUANTITY("OUT_OF_RANGE", true, "purchase of quantity 0"),
    OUTLIER_2("OUTLIER_CAPPED", true, "quantity 900 on a valid purchase (line %d, one second later)"),
    FEBRUARY_30("BAD_TIMESTAMP", false, "February 30 does not exist"),
    DUPLICATE_KEY_2("DUPLICATE_KEY", false, "same user/item/type/time as line %d, next session_id"),
    DUPLICATE_EXACT_3("DUPLICATE_EXACT", true, "exact copy of line %d"),
    // Always the last line, so a reader that lets a quote span lines cannot swallow good rows.
    UNTERMINATED_QUOTE("MALFORMED_LINE", false, "quote opened in item_id is never closed");

    final String code;
    final boolean needsPurchase;
    final String description;

    EventPlant(String code, boolean needsPurchase, String description) {
      this.code = code;
      this.needsPurchase = needsPurchase;
      this.description = description;
    }

    boolean quarantined() {
      return !code.startsWith("DUPLICATE_") && !code.equals("OUTLIER_CAPPED");
    }
  }

  /** Planted ratings.dat rows, in the order they are spliced in. */
  private enum RatingPlant {
    RATING_WORD("BAD_NUMBER", "rating 'five' is not a number"),
    RATING_SEVEN("OUT_OF_RANGE", "rating 7 is outside 1..5"),
    THREE_FIELDS("MALFORMED_LINE", "3 of 4 fields");

    final String code;
    final String description;

    RatingPlant(String code, String description) {
      this.code = code;
      this.description = description;
    }
  }

  /** Writes events.csv, remembers recent rows as templates, and splices in the planted rows. */
  private static final class EventSink implements Closeable {
    private final Writer out;
    private final Catalog catalog;
    private final Window window;
    private final List<EventPlant> pending = new ArrayList<>();
    private final List<Planted> planted;
    private final StringBuilder sb = new StringBuilder(128);
    private final Template[] views = newRing();
    private final Template[] purchases = newRing();
    private int viewCursor;
    private int purchaseCursor;
    private long line = 1;
    private long generated;
    private long keptPlanted;
    private int quarantined;
    private int plantedSoFar;

    EventSink(Path file, Catalog catalog, Window window, boolean badRows, List<Planted> planted)
        throws IOException {
      this.out = open(file);
      this.catalog = catalog;
      this.window = window;
      this.planted = planted;
      if (badRows) {
        pending.addAll(Arrays.asList(EventPlant.values()));
      }
      out.write("user_id,item_id,event_type,event_time,quantity,price,session_id\n");
    }

    void write(int userNo, String userId, int item, EventType type, long epoch, int units, int session)
        throws IOException {
      sb.setLength(0);
      appendRow(sb, userNo, userId, item, type, epoch, units, session);
      out.append(sb);
      line++;
      generated++;
      if (type == EventType.VIEW) {
        remember(views[viewCursor], userNo, userId, item, epoch, units, session);
        viewCursor = (viewCursor + 1) % TEMPLATE_RING;
      } else if (type == EventType.PURCHASE) {
        remember(purchases[purchaseCursor], userNo, userId, item, epoch, units, session);
        purchaseCursor = (purchaseCursor + 1) % TEMPLATE_RING;
      }
    }

    /** Called between users, the only places where planted rows are spliced in. */
    void userDone() throws IOException {
      // The last pending row is the unterminated quote, which is kept for the very end.
      while (pending.size() > 1
          && generated >= (long) (plantedSoFar + 1) * EVENT_PLANT_SPACING
          && plant(pending.get(0))) {
        pending.remove(0);
      }
    }

    /** Plants whatever is still pending (small runs), dropping rows that have no template left. */
    void finish() throws IOException {
      for (EventPlant p : pending) {
        plant(p);
      }
      pending.clear();
    }

    long events() {
      return generated + keptPlanted;
    }

    int quarantined() {
      return quarantined;
    }

    private boolean plant(EventPlant p) throws IOException {
      Template t = freshest(p.needsPurchase ? purchases : views);
      if (t == null) {
        return false;
      }
      // Each template is used once, so planted rows never collide with each other.
      t.used = true;
      String u = t.userId;
      String item = catalog.itemIds[t.item];
      String session = sessionId(t.userNo, t.session);
      String units = Integer.toString(t.units);
      String price = catalog.priceText[t.item];
      // Intra-session gaps are >= 3 s, so one second after a good event is a time at which that user
      // has no other event: the planted row's key is unique unless it is meant to be a duplicate.
      String later = window.timestamp(t.epoch + 1);
      String raw =
          switch (p) {
            case TOO_FEW_COLUMNS -> String.join(",", u, item, "view", later);
            case TOO_MANY_COLUMNS -> String.join(",", u, item, "view", later, "", "", session, "extra");
            case UNTERMINATED_QUOTE -> String.join(",", u, "\"" + item, "view", later, "", "", session);
            case EMPTY_USER -> String.join(",", "", item, "view", later, "", "", session);
            case EMPTY_ITEM -> String.join(",", u, "", "view", later, "", "", session);
            case EMPTY_TIME -> String.join(",", u, item, "view", "", "", "", session);
            case QUANTITY_WORD -> String.join(",", u, item, "purchase", later, "two", price, session);
            case PRICE_WORD -> String.join(",", u, item, "purchase", later, units, "\"12,5x\"", session);
            case MONTH_13 -> String.join(",", u, item, "view", "2026-13-45 10:00:00", "", "", session);
            case YESTERDAY -> String.join(",", u, item, "view", "yesterday", "", "", session);
            case FEBRUARY_30 -> String.join(",", u, item, "view", "2026-02-30 10:00:00", "", "", session);
            case WISHLIST -> String.join(",", u, item, "wishlist", later, "", "", session);
            case NEGATIVE_PRICE -> String.join(",", u, item, "purchase", later, units, "-3.00", session);
            case ZERO_QUANTITY -> String.join(",", u, item, "purchase", later, "0", price, session);
            case FUTURE -> String.join(
                ",", u, item, "view", window.futureTimestamp(t.epoch), "", "", session);
            case DUPLICATE_EXACT_1, DUPLICATE_EXACT_2, DUPLICATE_EXACT_3 -> String.join(
                ",", u, item, "purchase", window.timestamp(t.epoch), units, price, session);
            case DUPLICATE_KEY_1, DUPLICATE_KEY_2 -> String.join(
                ",", u, item, "view", window.timestamp(t.epoch), "", "",
                sessionId(t.userNo, t.session + 1));
            case OUTLIER_1, OUTLIER_2 -> String.join(
                ",", u, item, "purchase", later, "900", price, session);
          };
      out.write(raw);
      out.write('\n');
      line++;
      plantedSoFar++;
      if (p.quarantined()) {
        quarantined++;
      } else {
        keptPlanted++;
      }
      planted.add(
          new Planted(
              EVENTS_FILE, line, p.code, String.format(Locale.ROOT, p.description, t.line), raw));
      return true;
    }

    private void appendRow(
        StringBuilder b, int userNo, String userId, int item, EventType type, long epoch, int units,
        int session) {
      b.append(userId).append(',').append(catalog.itemIds[item]).append(',');
      b.append(type.label).append(',');
      window.appendTimestamp(b, epoch);
      b.append(',');
      if (type != EventType.VIEW) {
        b.append(units).append(',').append(catalog.priceText[item]);
      } else {
        b.append(',');
      }
      b.append(',').append('s');
      appendPadded(b, userNo, 6);
      b.append('-');
      appendPadded(b, session, 4);
      b.append('\n');
    }

    private void remember(
        Template t, int userNo, String userId, int item, long epoch, int units, int session) {
      t.userNo = userNo;
      t.userId = userId;
      t.item = item;
      t.epoch = epoch;
      t.units = units;
      t.session = session;
      t.line = line;
      t.used = false;
    }

    private static Template[] newRing() {
      Template[] ring = new Template[TEMPLATE_RING];
      for (int i = 0; i < ring.length; i++) {
        ring[i] = new Template();
        ring[i].used = true; // empty slots are never handed out
      }
      return ring;
    }

    private Template freshest(Template[] ring) {
      int cursor = ring == views ? viewCursor : purchaseCursor;
      for (int k = 1; k <= TEMPLATE_RING; k++) {
        Template t = ring[(cursor - k + TEMPLATE_RING) % TEMPLATE_RING];
        if (!t.used) {
          return t;
        }
      }
      return null;
    }

    @Override
    public void close() throws IOException {
      out.close();
    }
  }

  /** Writes ratings.dat and splices in the planted ratings rows. */
  private static final class RatingSink implements Closeable {
    private final Writer out;
    private final Catalog catalog;
    private final List<RatingPlant> pending = new ArrayList<>();
    private final List<Planted> planted;
    private final StringBuilder sb = new StringBuilder(64);
    private long line;
    private long generated;
    private int plantedSoFar;
    // The user who finished last, whose unrated items the planted rows use.
    private String lastUser;
    private Set<Integer> lastRated;
    private long lastEpoch;

    RatingSink(Path file, Catalog catalog, boolean badRows, List<Planted> planted) throws IOException {
      this.out = open(file);
      this.catalog = catalog;
      this.planted = planted;
      if (badRows) {
        pending.addAll(Arrays.asList(RatingPlant.values()));
      }
    }

    void write(String userId, int item, int rating, long epoch) throws IOException {
      sb.setLength(0);
      sb.append(userId).append("::").append(catalog.itemIds[item]).append("::").append(rating)
          .append("::").append(epoch).append('\n');
      out.append(sb);
      line++;
      generated++;
    }

    void userDone(String userId, Set<Integer> rated, long epoch) throws IOException {
      lastUser = userId;
      lastRated = rated;
      lastEpoch = epoch;
      while (!pending.isEmpty()
          && generated >= (long) (plantedSoFar + 1) * RATING_PLANT_SPACING
          && plant(pending.get(0))) {
        pending.remove(0);
      }
    }

    void finish() throws IOException {
      for (RatingPlant p : pending) {
        plant(p);
      }
      pending.clear();
    }

    long ratings() {
      return generated;
    }

    int quarantined() {
      return plantedSoFar;
    }

    private boolean plant(RatingPlant p) throws IOException {
      // An item the user has not rated, so the planted row is not also a duplicate (user, item) pair.
      int item = -1;
      for (int i = 0; lastUser != null && i < catalog.itemIds.length; i++) {
        if (!lastRated.contains(i)) {
          item = i;
          break;
        }
      }
      if (item < 0) {
        return false;
      }
      String prefix = lastUser + "::" + catalog.itemIds[item] + "::";
      String raw =
          switch (p) {
            case RATING_WORD -> prefix + "five::" + lastEpoch;
            case RATING_SEVEN -> prefix + "7::" + lastEpoch;
            case THREE_FIELDS -> prefix + "4";
          };
      out.write(raw);
      out.write('\n');
      line++;
      plantedSoFar++;
      planted.add(new Planted(RATINGS_FILE, line, p.code, p.description, raw));
      return true;
    }

    @Override
    public void close() throws IOException {
      out.close();
    }
  }

  /** The event window in UTC, with cheap timestamp formatting for the hot path. */
  private static final class Window {
    final int days;
    final LocalDate firstDate;
    final LocalDate endDate;
    final long startEpoch;
    private final String[] dateText;

    Window(Options o) {
      days = o.days();
      endDate = o.endDate();
      firstDate = endDate.minusDays(days - 1L);
      startEpoch = firstDate.atStartOfDay().toEpochSecond(ZoneOffset.UTC);
      dateText = new String[days];
      for (int d = 0; d < days; d++) {
        dateText[d] = firstDate.plusDays(d).format(DATE);
      }
    }

    /** Appends {@code yyyy-MM-dd HH:mm:ss}; {@code epoch} must lie in the window. */
    void appendTimestamp(StringBuilder b, long epoch) {
      long offset = epoch - startEpoch;
      int secondOfDay = (int) (offset % SECONDS_PER_DAY);
      b.append(dateText[(int) (offset / SECONDS_PER_DAY)]).append(' ');
      appendPadded(b, secondOfDay / 3600, 2);
      b.append(':');
      appendPadded(b, secondOfDay / 60 % 60, 2);
      b.append(':');
      appendPadded(b, secondOfDay % 60, 2);
    }

    String timestamp(long epoch) {
      StringBuilder b = new StringBuilder(19);
      appendTimestamp(b, epoch);
      return b.toString();
    }

    /** The same time of day as {@code epoch}, {@link #FUTURE_YEARS} years after the end date. */
    String futureTimestamp(long epoch) {
      LocalDateTime t = LocalDateTime.ofEpochSecond(epoch, 0, ZoneOffset.UTC);
      return endDate.plusYears(FUTURE_YEARS).atTime(t.toLocalTime()).format(TIMESTAMP);
    }

    long epochOfDay(int day) {
      return startEpoch + day * SECONDS_PER_DAY;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The run

  /** One generation run: shared read-only state plus the per-user simulation. */
  private static final class Run {
    private final Options o;
    private final Catalog catalog;
    private final Window window;
    private final Archetype[] archetypes;
    private final String[] unicodeIds;
    private final long totalRatingWeight;
    private final int[] slotCumulative;
    private final int[] regionCumulative;
    private long ratingWeightSoFar;

    Run(Options o) {
      this.o = o;
      this.catalog = new Catalog(o);
      this.window = new Window(o);
      this.archetypes = assignArchetypes(o.users(), o.seed());
      long weight = 0;
      for (Archetype a : archetypes) {
        weight += a.ratingWeight;
      }
      this.totalRatingWeight = weight;
      this.unicodeIds = new String[o.users()];
      // Spread over the file rather than bunched at the start, so they land in different partitions.
      for (int j = 0; j < UNICODE_USERS; j++) {
        int u = (int) ((long) o.users() * (2 * j + 1) / (2 * UNICODE_USERS));
        unicodeIds[u] = UNICODE_PREFIXES[j] + (u + 1);
      }
      this.slotCumulative = cumulative(SLOT_WEIGHTS);
      this.regionCumulative = cumulative(REGION_WEIGHTS);
    }

    Summary execute() throws IOException {
      Path dir = o.out();
      Files.createDirectories(dir.resolve("truth"));
      writeItems(dir.resolve(ITEMS_FILE));
      List<Planted> planted = new ArrayList<>();
      long events;
      long ratings;
      int badEvents;
      int badRatings;
      try (Writer users = open(dir.resolve(USERS_FILE));
          Writer truth = open(dir.resolve(ARCHETYPES_FILE));
          EventSink eventSink =
              new EventSink(dir.resolve(EVENTS_FILE), catalog, window, o.badRows(), planted);
          RatingSink ratingSink =
              new RatingSink(dir.resolve(RATINGS_FILE), catalog, o.badRows(), planted)) {
        users.write("user_id,age,gender,region,signup_date\n");
        truth.write("user_id,archetype,preferred_categories\n");
        for (int u = 0; u < o.users(); u++) {
          simulateUser(u, users, truth, eventSink, ratingSink);
        }
        eventSink.finish();
        ratingSink.finish();
        events = eventSink.events();
        ratings = ratingSink.ratings();
        badEvents = eventSink.quarantined();
        badRatings = ratingSink.quarantined();
      }
      writePlanted(dir.resolve(PLANTED_FILE), planted);
      Map<String, Integer> bad = new LinkedHashMap<>();
      bad.put(EVENTS_FILE, badEvents);
      bad.put(RATINGS_FILE, badRatings);
      bad.put(USERS_FILE, 0);
      bad.put(ITEMS_FILE, 0);
      return new Summary(
          o.users(), o.items(), events, ratings, Collections.unmodifiableMap(bad));
    }

    private void simulateUser(int u, Writer users, Writer truth, EventSink events, RatingSink ratings)
        throws IOException {
      SplittableRandom rng = new SplittableRandom(mix(o.seed(), u));
      Archetype a = archetypes[u];
      int userNo = u + 1;
      String userId = unicodeIds[u] != null ? unicodeIds[u] : "u" + pad(userNo, 5);
      int[] preferred = preferredCategories(rng);

      // Active days [firstDay, endDay) within the window.
      int firstDay = 0;
      int endDay = window.days;
      LocalDate signup;
      if (a == Archetype.NEW) {
        firstDay = window.days - 1 - rng.nextInt(NEW_CUSTOMER_DAYS);
        signup = window.firstDate.plusDays(firstDay);
      } else {
        signup = window.firstDate.minusDays(1L + rng.nextInt(720));
        if (a == Archetype.LAPSED) {
          endDay = Math.min(window.days / 2, window.days - LAPSED_QUIET_DAYS);
        }
      }
      writeUser(users, rng, userId, signup);
      StringBuilder categories = new StringBuilder();
      for (int c : preferred) {
        categories.append(categories.length() == 0 ? "" : "|").append(CATEGORIES[c]);
      }
      truth.write(userId + "," + a.label + "," + categories + "\n");

      int activeDays = endDay - firstDay;
      // At least one session, so every user appears in events.csv; at most a quarter of the day's
      // slots, so that picking distinct slots by rejection stays cheap.
      int drawn = poisson(rng, a.sessionsPer30Days * activeDays / 30.0);
      int sessions = Math.max(1, Math.min(activeDays * 3, drawn));
      int[] slots = pickSlots(rng, firstDay, activeDays, sessions);
      // item -> time of the user's last view of it, in first-seen order (rating candidates).
      Map<Integer, Long> seen = new LinkedHashMap<>();
      for (int s = 0; s < slots.length; s++) {
        long start =
            window.epochOfDay(slots[s] / SLOTS_PER_DAY)
                + (long) (slots[s] % SLOTS_PER_DAY) * SLOT_SECONDS
                + rng.nextInt(MAX_START_OFFSET);
        simulateSession(rng, a, preferred, userNo, userId, s + 1, start, events, seen);
      }
      events.userDone();

      long activeStart = window.epochOfDay(firstDay);
      long activeEnd = window.epochOfDay(endDay) - 1;
      Set<Integer> rated =
          writeRatings(rng, a, preferred, userId, seen, activeStart, activeEnd, ratings);
      ratings.userDone(userId, rated, activeEnd);
    }

    /**
     * One visit: a run of views, some of which go into the cart, then a checkout of part of the cart.
     * Every purchase is thus preceded by a view and an add_to_cart of the same item in the same session.
     * Worst case the session lasts 20 views x 150 s + 20 carts x 60 s + 20 purchases x 20 s = 4,600 s,
     * which with a start offset under 1,500 s stays inside its 7,200 s slot: sessions never overlap
     * and never cross midnight or the end of the window.
     */
    private void simulateSession(
        SplittableRandom rng,
        Archetype a,
        int[] preferred,
        int userNo,
        String userId,
        int session,
        long start,
        EventSink events,
        Map<Integer, Long> seen)
        throws IOException {
      int views = 1;
      while (views < MAX_VIEWS_PER_SESSION && rng.nextDouble() < a.moreViews) {
        views++;
      }
      int[] cart = new int[views];
      int[] units = new int[views];
      int cartSize = 0;
      long t = start;
      for (int v = 0; v < views; v++) {
        int item = pickItem(rng, a, preferred);
        events.write(userNo, userId, item, EventType.VIEW, t, 0, session);
        seen.put(item, t);
        t += 5 + rng.nextInt(146);
        if (rng.nextDouble() < a.cartRate && !contains(cart, cartSize, item)) {
          int q = a.units(rng);
          events.write(userNo, userId, item, EventType.ADD_TO_CART, t, q, session);
          cart[cartSize] = item;
          units[cartSize++] = q;
          t += 3 + rng.nextInt(58);
        }
      }
      for (int c = 0; c < cartSize; c++) {
        if (rng.nextDouble() < a.buyRate) {
          events.write(userNo, userId, cart[c], EventType.PURCHASE, t, units[c], session);
          t += 3 + rng.nextInt(18);
        }
      }
    }

    /**
     * Ratings: this user's share of {@code --ratings}, mostly on items the user viewed (and so also
     * on everything bought), the rest on items picked by preference; no item twice.
     */
    private Set<Integer> writeRatings(
        SplittableRandom rng,
        Archetype a,
        int[] preferred,
        String userId,
        Map<Integer, Long> seen,
        long activeStart,
        long activeEnd,
        RatingSink ratings)
        throws IOException {
      // Cumulative rounding hands out exactly --ratings over all users, in proportion to the weights.
      long before = ratingWeightSoFar;
      ratingWeightSoFar += a.ratingWeight;
      long quota =
          ratingWeightSoFar * o.ratings() / totalRatingWeight
              - before * o.ratings() / totalRatingWeight;
      int wanted = (int) Math.min(quota, catalog.itemIds.length);
      Set<Integer> rated = new HashSet<>();
      int[] candidates = seen.keySet().stream().mapToInt(Integer::intValue).toArray();
      int fromSeen = (int) Math.min(candidates.length, Math.round(wanted * PREFERRED_SHARE));
      for (int k = 0; k < fromSeen; k++) {
        int j = k + rng.nextInt(candidates.length - k);
        int item = candidates[j];
        candidates[j] = candidates[k];
        candidates[k] = item;
        long when = Math.min(activeEnd, seen.get(item) + 600 + rng.nextInt(5 * 86_400));
        ratings.write(userId, item, rating(rng, preferred, item), when);
        rated.add(item);
      }
      while (rated.size() < wanted) {
        int item = pickItem(rng, a, preferred);
        // Heavy users can exhaust their likely items; fall back to a scan so the loop always ends.
        for (int tries = 0; rated.contains(item) && tries < 20; tries++) {
          item = pickItem(rng, a, preferred);
        }
        while (rated.contains(item)) {
          item = (item + 1) % catalog.itemIds.length;
        }
        long when = activeStart + (long) (rng.nextDouble() * (activeEnd - activeStart));
        ratings.write(userId, item, rating(rng, preferred, item), when);
        rated.add(item);
      }
      return rated;
    }

    private int rating(SplittableRandom rng, int[] preferred, int item) {
      double[] cdf = contains(preferred, preferred.length, catalog.category[item])
          ? PREFERRED_RATING_CDF
          : OTHER_RATING_CDF;
      double x = rng.nextDouble();
      int stars = 1;
      while (x >= cdf[stars - 1]) {
        stars++;
      }
      return stars;
    }

    private int pickItem(SplittableRandom rng, Archetype a, int[] preferred) {
      int c = rng.nextDouble() < PREFERRED_SHARE
          ? preferred[rng.nextInt(preferred.length)]
          : rng.nextInt(catalog.categories);
      int item = catalog.pickInCategory(rng, c);
      if (rng.nextDouble() < a.tradeUp) {
        int other = catalog.pickInCategory(rng, c);
        if (catalog.priceCents[other] > catalog.priceCents[item]) {
          item = other;
        }
      }
      return item;
    }

    private int[] preferredCategories(SplittableRandom rng) {
      int first = rng.nextInt(catalog.categories);
      if (catalog.categories == 1 || rng.nextDouble() < 0.5) {
        return new int[] {first};
      }
      int second = (first + 1 + rng.nextInt(catalog.categories - 1)) % catalog.categories;
      return new int[] {first, second};
    }

    /** Distinct (day, two-hour slot) pairs, sorted, encoded as day * SLOTS_PER_DAY + slot. */
    private int[] pickSlots(SplittableRandom rng, int firstDay, int activeDays, int count) {
      Set<Integer> chosen = new HashSet<>();
      int[] slots = new int[count];
      int n = 0;
      while (n < count) {
        int day = firstDay + rng.nextInt(activeDays);
        int slot = pickCumulative(rng, slotCumulative);
        if (chosen.add(day * SLOTS_PER_DAY + slot)) {
          slots[n++] = day * SLOTS_PER_DAY + slot;
        }
      }
      Arrays.sort(slots);
      return slots;
    }

    private void writeUser(Writer users, SplittableRandom rng, String userId, LocalDate signup)
        throws IOException {
      String age = "";
      if (rng.nextDouble() >= 0.015) {
        age = Long.toString(Math.max(18, Math.min(80, Math.round(38 + 12 * gaussian(rng)))));
      }
      double g = rng.nextDouble();
      String gender = g < 0.48 ? "f" : g < 0.94 ? "m" : g < 0.98 ? "x" : "";
      String region = REGIONS[pickCumulative(rng, regionCumulative)];
      users.write(
          userId + "," + age + "," + gender + "," + region + "," + signup.format(DATE) + "\n");
    }

    private void writeItems(Path file) throws IOException {
      try (Writer w = open(file)) {
        w.write("item_id,category,price,title\n");
        for (int i = 0; i < catalog.itemIds.length; i++) {
          w.write(
              catalog.itemIds[i] + "," + CATEGORIES[catalog.category[i]] + "," + catalog.priceText[i]
                  + "," + csvField(catalog.titles[i]) + "\n");
        }
      }
    }

    private static void writePlanted(Path file, List<Planted> planted) throws IOException {
      try (Writer w = open(file)) {
        w.write("file,line,expected_code,description,raw\n");
        List<Planted> byFile = new ArrayList<>(planted);
        byFile.sort(Comparator.comparing(Planted::file).thenComparingLong(Planted::line));
        for (Planted p : byFile) {
          w.write(
              p.file() + "," + p.line() + "," + p.code() + "," + csvField(p.description()) + ","
                  + csvField(p.raw()) + "\n");
        }
      }
    }

    /** Exact archetype counts by largest remainder, then a seeded shuffle over the users. */
    private static Archetype[] assignArchetypes(int users, long seed) {
      Archetype[] kinds = Archetype.values();
      int[] counts = new int[kinds.length];
      long[] remainders = new long[kinds.length];
      int assigned = 0;
      for (int k = 0; k < kinds.length; k++) {
        counts[k] = (int) ((long) users * kinds[k].percent / 100);
        remainders[k] = (long) users * kinds[k].percent % 100;
        assigned += counts[k];
      }
      for (; assigned < users; assigned++) {
        int best = 0;
        for (int k = 1; k < kinds.length; k++) {
          if (remainders[k] > remainders[best]) {
            best = k;
          }
        }
        counts[best]++;
        remainders[best] = -1;
      }
      Archetype[] result = new Archetype[users];
      int i = 0;
      for (int k = 0; k < kinds.length; k++) {
        for (int c = 0; c < counts[k]; c++) {
          result[i++] = kinds[k];
        }
      }
      SplittableRandom rng = new SplittableRandom(mix(seed, STREAM_ARCHETYPES));
      for (int j = result.length - 1; j > 0; j--) {
        int r = rng.nextInt(j + 1);
        Archetype tmp = result[j];
        result[j] = result[r];
        result[r] = tmp;
      }
      return result;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  static Writer open(Path file) throws IOException {
    return new BufferedWriter(
        new OutputStreamWriter(Files.newOutputStream(file), StandardCharsets.UTF_8), 1 << 16);
  }

  /** A well-mixed seed for stream {@code stream} of {@code seed} (SplitMix64 finaliser). */
  static long mix(long seed, long stream) {
    long z = seed * 0x9E3779B97F4A7C15L + stream * 0xBF58476D1CE4E5B9L + 0x94D049BB133111EBL;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** Standard normal by Box-Muller on StrictMath, reproducible on every JVM. */
  private static double gaussian(SplittableRandom rng) {
    double u1 = 1.0 - rng.nextDouble();
    double u2 = rng.nextDouble();
    return StrictMath.sqrt(-2.0 * StrictMath.log(u1)) * StrictMath.cos(2.0 * StrictMath.PI * u2);
  }

  private static int poisson(SplittableRandom rng, double mean) {
    if (mean >= 30) {
      return (int) Math.max(0, Math.round(mean + StrictMath.sqrt(mean) * gaussian(rng)));
    }
    double limit = StrictMath.exp(-mean);
    double p = 1.0;
    int k = -1;
    do {
      k++;
      p *= rng.nextDouble();
    } while (p > limit);
    return k;
  }

  private static int[] cumulative(int[] weights) {
    int[] cum = new int[weights.length];
    int sum = 0;
    for (int i = 0; i < weights.length; i++) {
      sum += weights[i];
      cum[i] = sum;
    }
    return cum;
  }

  private static int pickCumulative(SplittableRandom rng, int[] cumulative) {
    int x = rng.nextInt(cumulative[cumulative.length - 1]);
    int i = 0;
    while (x >= cumulative[i]) {
      i++;
    }
    return i;
  }

  private static int pickWeighted(SplittableRandom rng, double[] weights, double total) {
    double x = rng.nextDouble() * total;
    for (int i = 0; i < weights.length - 1; i++) {
      x -= weights[i];
      if (x < 0) {
        return i;
      }
    }
    return weights.length - 1;
  }

  private static void shuffle(SplittableRandom rng, int[] a) {
    for (int j = a.length - 1; j > 0; j--) {
      int r = rng.nextInt(j + 1);
      int tmp = a[j];
      a[j] = a[r];
      a[r] = tmp;
    }
  }

  private static boolean contains(int[] a, int length, int value) {
    for (int i = 0; i < length; i++) {
      if (a[i] == value) {
        return true;
      }
    }
    return false;
  }

  private static String pad(int value, int width) {
    StringBuilder b = new StringBuilder(width);
    appendPadded(b, value, width);
    return b.toString();
  }

  private static String sessionId(int userNo, int session) {
    return "s" + pad(userNo, 6) + "-" + pad(session, 4);
  }

  /** Appends a non-negative number zero-padded to at least {@code width} digits. */
  private static void appendPadded(StringBuilder b, int value, int width) {
    String digits = Integer.toString(value);
    for (int i = digits.length(); i < width; i++) {
      b.append('0');
    }
    b.append(digits);
  }

  static String formatCents(long cents) {
    StringBuilder b = new StringBuilder().append(cents / 100).append('.');
    appendPadded(b, (int) (cents % 100), 2);
    return b.toString();
  }

  /** RFC 4180 quoting, only when needed. */
  static String csvField(String s) {
    if (s.indexOf(',') < 0 && s.indexOf('"') < 0) {
      return s;
    }
    return "\"" + s.replace("\"", "\"\"") + "\"";
  }
}
