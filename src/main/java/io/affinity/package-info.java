/**
 * Affinity: the command line entry point ({@link io.affinity.Main}) and the run's settings
 * ({@link io.affinity.RunSettings}), the top layer that wires the stages. Stages live in the
 * sub-packages, one per pipeline step.
 */
package io.affinity;
