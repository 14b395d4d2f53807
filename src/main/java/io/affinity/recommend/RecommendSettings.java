package io.affinity.recommend;

import io.affinity.config.ConfigReader;

/** Settings of stage {@code recommend}, read and validated with all others before Spark starts. */
public record RecommendSettings() {

  /** Reads and validates every key under {@code affinity.recommend}. */
  public static RecommendSettings from(ConfigReader r) {
    return new RecommendSettings();
  }
}
