package io.affinity.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValue;
import java.io.File;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Builds the run's configuration: {@code -D} overrides, then {@code --config FILE}, then
 * {@code reference.conf}. Keys outside the reference are rejected (a misspelt key would otherwise
 * be ignored silently and the default used).
 */
public final class ConfigLoader {
  /** Sections whose keys are free-form (weights per event type, extra Spark properties, ...). */
  private static final List<String> OPEN_MAPS = List.of(
      "affinity.spark.conf", "affinity.event-types.aliases", "affinity.event-types.weights",
      "affinity.fairness.bands");

  private ConfigLoader() {}

  /**
   * @param configFile path of the --config file, or null
   * @param overrides -D key=value pairs, highest precedence
   */
  public static Config load(String configFile, Map<String, String> overrides) {
    Config reference = ConfigFactory.parseResources(ConfigLoader.class.getClassLoader(), "reference.conf",
        ConfigParseOptions.defaults().setAllowMissing(false));
    Config file = ConfigFactory.empty();
    if (configFile != null) {
      File f = new File(configFile);
      if (!f.isFile()) {
        throw new SettingsException("--config", configFile, "must be a readable config file (not found)");
      }
      try {
        file = ConfigFactory.parseFile(f, ConfigParseOptions.defaults().setAllowMissing(false));
      } catch (ConfigException e) {
        throw new SettingsException("--config", configFile, "could not be parsed: " + e.getMessage());
      }
    }
    Config cli = ConfigFactory.empty();
    for (Map.Entry<String, String> e : overrides.entrySet()) {
      if (!e.getKey().startsWith("affinity.")) {
        throw new SettingsException(e.getKey(), e.getValue(), "-D keys must start with 'affinity.'");
      }
      cli = override(e.getKey(), e.getValue()).withFallback(cli);
    }
    checkKnownKeys(file, reference, configFile == null ? "" : " in " + configFile);
    checkKnownKeys(cli, reference, " on the command line");
    Config merged = cli.withFallback(file).withFallback(reference);
    try {
      return merged.resolve();
    } catch (ConfigException e) {
      throw new SettingsException(null, "configuration could not be resolved: " + e.getMessage());
    }
  }

  /** A number, true/false: the only bare values read as HOCON (everything else bare is a string). */
  private static final java.util.regex.Pattern SCALAR =
      java.util.regex.Pattern.compile("-?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+)?|true|false");

  /**
   * One {@code -Dkey=value}. Only a value that is clearly HOCON is parsed as HOCON: a list
   * ({@code [a, b]}), an object ({@code {k = v}}), a quoted string, a number, true or false. Any
   * other value is taken as it is, because in HOCON {@code //} and {@code #} start a comment: parsed,
   * {@code /data//events/*.csv} would silently become {@code /data}. A list or object with a bare
   * {@code //} or {@code #} is ambiguous (comment or text?) and rejected with a message.
   */
  static Config override(String key, String value) {
    String v = value.trim();
    boolean structured = v.startsWith("[") || v.startsWith("{") || v.startsWith("\"");
    if (!structured && !SCALAR.matcher(v).matches()) {
      return ConfigFactory.parseMap(Map.of(key, value));
    }
    if (structured && hasBareCommentMarker(v)) {
      throw new SettingsException(key, value, "holds // or # outside quotes, which HOCON reads as the start of a comment;"
          + " quote the element, e.g. [\"/data//a.csv\"]");
    }
    try {
      return ConfigFactory.parseString(quoteKey(key) + " = " + v);
    } catch (ConfigException ex) {
      throw new SettingsException(key, value, "is not a valid HOCON list, object or quoted string (" + ex.getMessage()
          + "); leave brackets and quotes out for a plain string");
    }
  }

  /** Whether the text holds "//" or "#" outside double quotes. */
  private static boolean hasBareCommentMarker(String v) {
    boolean quoted = false;
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (c == '\\' && quoted) {
        i++;
      } else if (c == '"') {
        quoted = !quoted;
      } else if (!quoted && (c == '#' || c == '/' && i + 1 < v.length() && v.charAt(i + 1) == '/')) {
        return true;
      }
    }
    return false;
  }

  private static String quoteKey(String key) {
    StringBuilder sb = new StringBuilder();
    for (String part : key.split("\\.", -1)) {
      if (sb.length() > 0) {
        sb.append('.');
      }
      sb.append('"').append(part.replace("\"", "\\\"")).append('"');
    }
    return sb.toString();
  }

  private static void checkKnownKeys(Config user, Config reference, String where) {
    List<String> unknown = new ArrayList<>();
    for (Map.Entry<String, ConfigValue> e : user.entrySet()) {
      String key = e.getKey();
      if (OPEN_MAPS.stream().anyMatch(m -> key.startsWith(m + "."))) {
        continue;
      }
      if (!reference.hasPathOrNull(key)) {
        unknown.add(key);
      }
    }
    if (!unknown.isEmpty()) {
      String key = unknown.get(0);
      throw new SettingsException(key, "is not a known key" + where + " (see reference.conf for every key"
          + suggestion(key, reference) + ")");
    }
  }

  private static String suggestion(String key, Config reference) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (Map.Entry<String, ConfigValue> e : reference.entrySet()) {
      int d = distance(key, e.getKey());
      if (d < bestDistance) {
        bestDistance = d;
        best = e.getKey();
      }
    }
    return best != null && bestDistance <= 4 ? "; did you mean '" + best + "'?" : "";
  }

  private static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  /** The resolved config as text for the log, with anything that looks like a secret hidden. */
  public static String redacted(String rendered) {
    StringBuilder out = new StringBuilder();
    for (String line : rendered.split("\n")) {
      String lower = line.toLowerCase(java.util.Locale.ROOT);
      // The key part (before the first '=' or ':') names something secret: the value is hidden.
      if (lower.matches("[^=:]*(password|passwd|secret|token|credential|private|signature"
          + "|(access|account|api|encryption|secret|private)[._-]?key)[^=:]*[:=].*")) {
        int eq = line.indexOf('=');
        int colon = line.indexOf(':');
        int i = eq < 0 ? colon : colon < 0 ? eq : Math.min(eq, colon); // the first separator: values may hold ':'
        out.append(line, 0, i + 1).append(" \"***\"\n");
      } else {
        out.append(line).append('\n');
      }
    }
    return out.toString();
  }
}
