/**
 * Output layout and atomic writes ({@link io.affinity.io.Datasets}, including the history of
 * {@code clean/events} as full copies and daily deltas), the run manifest, id maps.
 */
package io.affinity.io;
