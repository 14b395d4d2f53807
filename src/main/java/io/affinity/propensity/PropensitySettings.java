package io.affinity.propensity;

import io.affinity.config.ConfigReader;

/** Settings of stage {@code propensity}, read and validated with all others before Spark starts. */
public record PropensitySettings() {

  /** Reads and validates every key under {@code affinity.propensity}. */
  public static PropensitySettings from(ConfigReader r) {
    return new PropensitySettings();
  }
}
