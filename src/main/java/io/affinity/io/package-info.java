/** Output layout and atomic writes ({@link io.affinity.io.Datasets}), the run manifest, id maps. */
package io.affinity.io;
