/** Affinity: the command line entry point. Stages live in the sub-packages, one per pipeline step. */
package io.affinity;
