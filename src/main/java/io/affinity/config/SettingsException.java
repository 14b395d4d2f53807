package io.affinity.config;

/**
 * A configuration or usage error. The message always names the key, the offending value and what
 * is allowed, so an operator can fix the config without reading code. Maps to exit code 2.
 */
public final class SettingsException extends RuntimeException {
  private final String key;

  public SettingsException(String key, Object value, String allowed) {
    super("configuration key '" + key + "' = " + render(value) + ": " + allowed);
    this.key = key;
  }

  /** For errors that are not about a single value (e.g. an unknown stage name). */
  public SettingsException(String key, String message) {
    super(key == null ? message : "configuration key '" + key + "': " + message);
    this.key = key;
  }

  /** The full key path (e.g. {@code affinity.ingest.max-reject-share}), or null. */
  public String key() {
    return key;
  }

  private static String render(Object value) {
    if (value == null) {
      return "(missing)";
    }
    String s = String.valueOf(value);
    return s.isEmpty() ? "\"\" (empty)" : "\"" + s + "\"";
  }
}
