/**
 * The stage contract ({@link io.affinity.pipeline.Stage}), the runner that times stages and records
 * them in the manifest, the Spark session factory, and the quality-gate exceptions that map to exit
 * codes 3 and 4.
 */
package io.affinity.pipeline;
