package io.affinity.segment;

import io.affinity.config.ConfigReader;

/** Settings of stage {@code segment}, read and validated with all others before Spark starts. */
public record SegmentSettings() {

  /** Reads and validates every key under {@code affinity.segment}. */
  public static SegmentSettings from(ConfigReader r) {
    return new SegmentSettings();
  }
}
