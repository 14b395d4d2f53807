package io.affinity.pipeline;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a stage tells the manifest: an ordered tree of names to numbers, strings, lists and nested
 * maps. Kept as plain maps so it serialises to JSON as-is and later stages can add sections freely.
 */
public final class StageReport {
  private final Map<String, Object> values = new LinkedHashMap<>();

  public StageReport put(String key, Object value) {
    values.put(key, value);
    return this;
  }

  /** A nested section, created on first use. */
  @SuppressWarnings("unchecked")
  public Map<String, Object> section(String key) {
    return (Map<String, Object>) values.computeIfAbsent(key, k -> new LinkedHashMap<String, Object>());
  }

  public Object get(String key) {
    return values.get(key);
  }

  public Map<String, Object> asMap() {
    return values;
  }
}
