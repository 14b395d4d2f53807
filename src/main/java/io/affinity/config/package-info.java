/**
 * Configuration: loading (overrides, file, reference.conf), typed reads whose errors name the key
 * ({@link io.affinity.config.ConfigReader}), and the configuration-level records in
 * {@link io.affinity.config.Settings}. The bottom layer: it imports nothing from the other
 * {@code io.affinity} packages; {@code io.affinity.RunSettings} gathers every stage's settings.
 */
package io.affinity.config;
