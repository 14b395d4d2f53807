/**
 * Output layout and atomic writes ({@link io.affinity.io.Datasets}, including the history of
 * {@code clean/events} as full copies and daily deltas), the run manifest, id maps, and
 * {@link io.affinity.io.MissingInputException} for an input that is not there (exit code 2).
 */
package io.affinity.io;
