package io.affinity.config;

import java.io.Serializable;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.format.ResolverStyle;
import java.util.Locale;

/**
 * How one input writes its timestamps: {@code epoch-seconds}, {@code epoch-millis}, {@code iso},
 * or a {@link DateTimeFormatter} pattern read in {@code zone}.
 *
 * @param format the format keyword or pattern
 * @param zone time zone id for local (zone-less) timestamps
 */
public record TimestampFormat(String format, String zone) implements Serializable {
  public static final String EPOCH_SECONDS = "epoch-seconds";
  public static final String EPOCH_MILLIS = "epoch-millis";
  public static final String ISO = "iso";

  public boolean isPattern() {
    return !format.equals(EPOCH_SECONDS) && !format.equals(EPOCH_MILLIS) && !format.equals(ISO);
  }

  public ZoneId zoneId() {
    return ZoneId.of(zone);
  }

  /**
   * The strict formatter for a pattern format. Strict resolution rejects 2026-02-30 instead of
   * silently rolling it to March; 'y' (year of era, which strict mode cannot resolve without an
   * era) is read as 'u' (proleptic year), which is what every data file means by it.
   */
  public DateTimeFormatter formatter() {
    return DateTimeFormatter.ofPattern(yearOfEraToYear(format), Locale.ROOT)
        .withResolverStyle(ResolverStyle.STRICT);
  }

  static String yearOfEraToYear(String pattern) {
    StringBuilder sb = new StringBuilder(pattern.length());
    boolean quoted = false;
    for (char c : pattern.toCharArray()) {
      if (c == '\'') {
        quoted = !quoted;
      }
      sb.append(!quoted && c == 'y' ? 'u' : c);
    }
    return sb.toString();
  }

  public static TimestampFormat read(ConfigReader r, String key) {
    String format = r.nonEmpty(key + ".format");
    String zone = r.zone(key + ".zone");
    TimestampFormat f = new TimestampFormat(format, zone);
    if (f.isPattern()) {
      try {
        f.formatter();
      } catch (IllegalArgumentException e) {
        throw new SettingsException(key + ".format", format,
            "must be epoch-seconds, epoch-millis, iso or a valid java.time pattern (" + e.getMessage() + ")");
      }
    }
    return f;
  }
}
