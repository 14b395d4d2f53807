package io.affinity.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.nio.charset.Charset;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Typed, validated reads from a resolved {@link Config}. Every failure becomes a
 * {@link SettingsException} naming the full key, the value and the allowed range, which is what
 * turns a typo into exit code 2 with a useful message instead of a stack trace later in Spark.
 */
public final class ConfigReader {
  private final Config config;

  public ConfigReader(Config config) {
    this.config = config;
  }

  private ConfigValue raw(String key) {
    if (!config.hasPathOrNull(key) || config.getIsNull(key)) {
      throw new SettingsException(key, null, "a value is required");
    }
    return config.getValue(key);
  }

  public String string(String key) {
    ConfigValue v = raw(key);
    if (v.valueType() == ConfigValueType.OBJECT || v.valueType() == ConfigValueType.LIST) {
      throw new SettingsException(key, v.render(), "must be a single value, not " + v.valueType());
    }
    return String.valueOf(v.unwrapped());
  }

  public String nonEmpty(String key) {
    String s = string(key).trim();
    if (s.isEmpty()) {
      throw new SettingsException(key, s, "must not be empty");
    }
    return s;
  }

  public boolean bool(String key) {
    try {
      return config.getBoolean(key);
    } catch (ConfigException.WrongType e) {
      throw new SettingsException(key, raw(key).unwrapped(), "must be true or false");
    }
  }

  public int integer(String key, int min, int max) {
    int v;
    try {
      v = config.getInt(key);
    } catch (ConfigException.WrongType e) {
      throw new SettingsException(key, raw(key).unwrapped(), "must be a whole number in " + min + ".." + max);
    }
    if (v < min || v > max) {
      throw new SettingsException(key, v, "must be a whole number in " + min + ".." + max);
    }
    return v;
  }

  /** A number in [min, max] (or (min, max) with exclusive bounds when {@code open} is true). */
  public double number(String key, double min, double max, boolean open) {
    double v;
    try {
      v = config.getDouble(key);
    } catch (ConfigException.WrongType e) {
      throw new SettingsException(key, raw(key).unwrapped(), "must be a number in " + range(min, max, open));
    }
    boolean ok = open ? v > min && v < max : v >= min && v <= max;
    if (!ok || Double.isNaN(v)) {
      throw new SettingsException(key, v, "must be a number in " + range(min, max, open));
    }
    return v;
  }

  private static String range(double min, double max, boolean open) {
    return (open ? "(" : "[") + min + ", " + max + (open ? ")" : "]");
  }

  public String oneOf(String key, String... allowed) {
    String v = string(key).trim();
    if (!Arrays.asList(allowed).contains(v)) {
      throw new SettingsException(key, v, "must be one of " + String.join(", ", allowed));
    }
    return v;
  }

  public List<String> strings(String key) {
    try {
      List<String> out = new ArrayList<>();
      for (String s : config.getStringList(key)) {
        out.add(s.trim());
      }
      return List.copyOf(out);
    } catch (ConfigException.WrongType e) {
      throw new SettingsException(key, raw(key).render(), "must be a list of strings, e.g. [a, b]");
    }
  }

  /** A non-empty list of distinct numbers in [min, max], in the given order (e.g. a search grid). */
  public List<Double> numberList(String key, double min, double max) {
    List<Double> out = new ArrayList<>();
    for (String s : nonEmptyList(key)) {
      double v;
      try {
        v = Double.parseDouble(s);
      } catch (NumberFormatException e) {
        throw new SettingsException(key, s, "entries must be numbers in [" + min + ", " + max + "]");
      }
      if (!(v >= min && v <= max)) {
        throw new SettingsException(key, s, "entries must be numbers in [" + min + ", " + max + "]");
      }
      if (out.contains(v)) {
        throw new SettingsException(key, s, "is listed twice");
      }
      out.add(v);
    }
    return List.copyOf(out);
  }

  /** A non-empty list of distinct whole numbers in [min, max], in the given order. */
  public List<Integer> integerList(String key, int min, int max) {
    List<Integer> out = new ArrayList<>();
    for (String s : nonEmptyList(key)) {
      int v;
      try {
        v = Integer.parseInt(s);
      } catch (NumberFormatException e) {
        throw new SettingsException(key, s, "entries must be whole numbers in " + min + ".." + max);
      }
      if (v < min || v > max) {
        throw new SettingsException(key, s, "entries must be whole numbers in " + min + ".." + max);
      }
      if (out.contains(v)) {
        throw new SettingsException(key, s, "is listed twice");
      }
      out.add(v);
    }
    return List.copyOf(out);
  }

  private List<String> nonEmptyList(String key) {
    List<String> v = strings(key);
    if (v.isEmpty()) {
      throw new SettingsException(key, "[]", "must list at least one value");
    }
    return v;
  }

  /** The keys of an open map (its first level), in the order written. */
  public List<String> keys(String key) {
    return List.copyOf(config.getConfig(key).root().keySet());
  }

  /** An open map of string to number, e.g. event weights. */
  public Map<String, Double> numberMap(String key, double min) {
    Map<String, Double> out = new LinkedHashMap<>();
    Config sub = config.getConfig(key);
    for (Map.Entry<String, ConfigValue> e : sub.root().entrySet()) {
      String k = key + "." + e.getKey();
      double v = number(k, min, Double.MAX_VALUE, false);
      out.put(e.getKey(), v);
    }
    return out;
  }

  /** An open map of string to string, e.g. event type aliases or extra Spark properties. */
  public Map<String, String> stringMap(String key) {
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, ConfigValue> e : config.getConfig(key).entrySet()) {
      // entrySet() keys are path expressions: a quoted key such as "spark.executor.memory" comes
      // back with its quotes. Joining the path's elements gives the same name for the quoted
      // and the nested spelling; the quoted one would otherwise reach Spark as an unknown property.
      out.put(String.join(".", ConfigUtil.splitPath(e.getKey())), String.valueOf(e.getValue().unwrapped()));
    }
    return out;
  }

  public String charset(String key) {
    String v = nonEmpty(key);
    Charset cs;
    try {
      cs = Charset.forName(v);
    } catch (RuntimeException e) {
      throw new SettingsException(key, v, "must be a character set name known to Java, e.g. UTF-8, ISO-8859-1, windows-1252");
    }
    // Lines are split on the byte '\n', which only works for ASCII-compatible encodings.
    if (cs.name().startsWith("UTF-16") || cs.name().startsWith("UTF-32")) {
      throw new SettingsException(key, v, "must be an ASCII-compatible character set (UTF-8, ISO-8859-1, windows-1252, ...); convert UTF-16/32 files first");
    }
    return cs.name();
  }

  public String zone(String key) {
    String v = nonEmpty(key);
    try {
      return ZoneId.of(v).getId();
    } catch (RuntimeException e) {
      throw new SettingsException(key, v, "must be a time zone id such as UTC, Europe/London or +01:00");
    }
  }

  public boolean has(String key) {
    return config.hasPath(key);
  }
}
