#!/usr/bin/env bash
# The whole test suite, what CI runs (.ci/run) and the README's command 2: both builds, one after
# the other, and the cluster test on every supported Spark 4 (about 33 minutes on 2 cores).
#   1. mvn -B verify -Dcluster.spark.versions=4.0.1,4.1.0,4.2.0
#                                Spark 4 / Scala 2.13 jar (compiled against 4.0.1): unit tests, every
#                                end-to-end IT, and StandaloneClusterIT on real 4.0.1, 4.1.0 and 4.2.0
#                                clusters.
#   2. mvn -B -P spark-3.5 verify  Spark 3.5 / Scala 2.12 jar (target/spark3.5): unit tests and
#                                SamplePipelineIT (one JVM), StandaloneClusterIT on a real 3.5.9 cluster.
# Two Maven runs, not one: a profile changes the Spark and Scala of the whole build, and one Maven
# run builds a project once. Each is also runnable alone. Extra arguments go to both (e.g. -o).
# Stops at the first failing build; prints each build's seconds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

run() {
  local label="$1"; shift
  local start=$SECONDS
  echo "test-all.sh: $label: mvn $*"
  mvn "$@"
  echo "test-all.sh: $label passed in $((SECONDS - start)) s"
}

run "Spark 4 build" -B verify -Dcluster.spark.versions=4.0.1,4.1.0,4.2.0 "$@"
run "Spark 3.5 build" -B -P spark-3.5 verify "$@"
echo "test-all.sh: both builds passed"
