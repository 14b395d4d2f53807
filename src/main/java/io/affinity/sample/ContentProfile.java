package io.affinity.sample;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;

/**
 * A generator profile with planted content structure, applied to a data set that
 * {@link SampleGenerator} wrote: a theme that only titles reveal.
 *
 * <ul>
 *   <li>{@link #THEMED} existing items of one category are renamed "Aurora Borealis &lt;noun&gt;";
 *   <li>{@link #COLLECTORS} users buy all of them, 40 days before the run date;
 *   <li>{@link #NEW_ITEMS} new items of the same category and theme appear 2 days before the run
 *       date with one view each by another user: too little history for collaborative filtering,
 *       but their titles say what they are like.
 *   <li>So that the validation can see what content slots are worth, the same happened earlier:
 *       {@link #EARLY_BUYERS} other users bought the themed items 40 days before the run date, and
 *       {@link #EARLY_NEW_ITEMS} themed items first appear 10 days before it, bought by them. At a
 *       validation split before that, these are new items only their titles tie to the buyers'
 *       histories; at the run date they have buyers and factors like any other item.
 * </ul>
 *
 * What is planted goes to {@value #TRUTH_FILE}: {@code kind,id} rows (kind = themed, collector,
 * new). Kept out of {@code SampleGenerator} so the default samples stay as they are.
 */
public final class ContentProfile {
  /** Planted-structure truth file, relative to the output directory. */
  public static final String TRUTH_FILE = "truth/content_planted.csv";
  public static final int THEMED = 3;
  public static final int COLLECTORS = 3;
  public static final int NEW_ITEMS = 3;
  public static final int EARLY_BUYERS = 20;
  public static final int EARLY_NEW_ITEMS = 2;
  private static final String[] EARLY_NOUNS = {"Table Runner", "Tea Towel"};
  private static final String THEME = "Aurora Borealis";
  private static final String[] OLD_NOUNS = {"Lantern", "Candle Holder", "Throw"};
  private static final String[] NEW_NOUNS = {"Cushion", "Wall Poster", "Blanket"};

  /**
   * What was planted.
   *
   * @param themed ids of the renamed existing items
   * @param collectors ids of the users who bought all of them
   * @param newItems ids of the new themed items
   * @param viewer the user who viewed each new item once
   * @param earlyNew ids of the themed items that first appeared inside the validation window
   * @param earlyBuyers ids of the users who bought the themed items and then the early new ones
   */
  public record Planted(List<String> themed, List<String> collectors, List<String> newItems, String viewer,
      List<String> earlyNew, List<String> earlyBuyers) {}

  private ContentProfile() {}

  /**
   * Plants the structure into {@code dir} (items.csv, events.csv and {@link SampleGenerator#ARCHETYPES_FILE}
   * as the generator wrote them; at least {@link #COLLECTORS} + {@link #EARLY_BUYERS} + 1 users).
   */
  public static Planted plant(Path dir, LocalDate runDate) {
    try {
      List<String> items = Files.readAllLines(dir.resolve("items.csv"), StandardCharsets.UTF_8);
      List<String> users = Files.readAllLines(dir.resolve(SampleGenerator.ARCHETYPES_FILE), StandardCharsets.UTF_8)
          .subList(1, COLLECTORS + EARLY_BUYERS + 2).stream().map(l -> l.split(",")[0]).toList();
      // The category of the fourth item; its first items other than the CSV-quoting ones (sku-00002/3).
      String category = items.get(4).split(",")[1];
      List<String> themed = new ArrayList<>();
      String price = "9.99";
      for (int i = 1; i < items.size() && themed.size() < THEMED; i++) {
        String[] f = items.get(i).split(",");
        if (f[1].equals(category) && !f[0].equals("sku-00002") && !f[0].equals("sku-00003")) {
          themed.add(f[0]);
          price = f[2];
          items.set(i, f[0] + "," + f[1] + "," + f[2] + "," + THEME + " " + OLD_NOUNS[themed.size() - 1]);
        }
      }
      List<String> fresh = new ArrayList<>();
      StringBuilder events = new StringBuilder();
      String bought = runDate.minusDays(40) + " 12:00:00";
      String seen = runDate.minusDays(2) + " 12:00:00";
      List<String> collectors = users.subList(0, COLLECTORS);
      String viewer = users.get(COLLECTORS);
      for (int c = 0; c < collectors.size(); c++) {
        for (String item : themed) {
          events.append(collectors.get(c)).append(',').append(item).append(",purchase,").append(bought)
              .append(",1,").append(price).append(",s-aurora-").append(c).append('\n');
        }
      }
      for (int n = 0; n < NEW_ITEMS; n++) {
        String id = "sku-9" + String.format("%04d", n + 1);
        fresh.add(id);
        items.add(id + "," + category + "," + price + "," + THEME + " " + NEW_NOUNS[n]);
        events.append(viewer).append(',').append(id).append(",view,").append(seen).append(",,,s-aurora-view\n");
      }
      List<String> earlyBuyers = users.subList(COLLECTORS + 1, COLLECTORS + 1 + EARLY_BUYERS);
      List<String> earlyNew = new ArrayList<>();
      String earlyBought = runDate.minusDays(10) + " 12:00:00";
      for (int n = 0; n < EARLY_NEW_ITEMS; n++) {
        String id = "sku-8" + String.format("%04d", n + 1);
        earlyNew.add(id);
        items.add(id + "," + category + "," + price + "," + THEME + " " + EARLY_NOUNS[n]);
      }
      for (int b = 0; b < earlyBuyers.size(); b++) {
        for (String item : themed) {
          events.append(earlyBuyers.get(b)).append(',').append(item).append(",purchase,").append(bought)
              .append(",1,").append(price).append(",s-aurora-early-").append(b).append('\n');
        }
        for (String item : earlyNew) {
          events.append(earlyBuyers.get(b)).append(',').append(item).append(",purchase,").append(earlyBought)
              .append(",1,").append(price).append(",s-aurora-early-new-").append(b).append('\n');
        }
      }
      Files.write(dir.resolve("items.csv"), items, StandardCharsets.UTF_8);
      Files.writeString(dir.resolve("events.csv"), events.toString(), StandardCharsets.UTF_8,
          StandardOpenOption.APPEND);
      StringBuilder truth = new StringBuilder("kind,id\n");
      themed.forEach(i -> truth.append("themed,").append(i).append('\n'));
      collectors.forEach(u -> truth.append("collector,").append(u).append('\n'));
      fresh.forEach(i -> truth.append("new,").append(i).append('\n'));
      earlyNew.forEach(i -> truth.append("early_new,").append(i).append('\n'));
      earlyBuyers.forEach(u -> truth.append("early_buyer,").append(u).append('\n'));
      Files.writeString(dir.resolve(TRUTH_FILE), truth.toString(), StandardCharsets.UTF_8);
      return new Planted(List.copyOf(themed), List.copyOf(collectors), List.copyOf(fresh), viewer, List.copyOf(earlyNew),
          List.copyOf(earlyBuyers));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
