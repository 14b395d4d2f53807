/**
 * Configuration: loading (overrides, file, reference.conf), validation of every key before Spark
 * starts, and the typed {@link io.affinity.config.Settings} records the stages receive.
 */
package io.affinity.config;
