/**
 * The stage contract ({@link io.affinity.pipeline.Stage}), the runner that times stages and records
 * them in the manifest, the Spark session factory, and the exceptions that map to exit codes.
 */
package io.affinity.pipeline;
