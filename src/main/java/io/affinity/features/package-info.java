/** Stage {@code features}: user, item, interaction and rating features as of the run date. */
package io.affinity.features;
